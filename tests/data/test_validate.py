
import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.data.validate import GraphValidationError, validate_graph

BOUGHT = ("item", "bought_by", "user")
REV_BOUGHT = ("user", "rev_bought_by", "item")


def test_valid_graph_is_returned_unchanged(toy_split):
    assert validate_graph(toy_split) is toy_split


def test_error_is_a_value_error():
    assert issubclass(GraphValidationError, ValueError)


def test_rejects_non_heterodata():
    with pytest.raises(TypeError, match="HeteroData, got dict"):
        validate_graph({})


# ------------------------------------------------------------------ target, classes
def test_missing_target_node_type(toy_graph):
    del toy_graph.target_node_type
    with pytest.raises(
        GraphValidationError, match=r"no 'target_node_type'.*\['item', 'user', 'tag'\]"
    ):
        validate_graph(toy_graph)


def test_target_node_type_not_in_graph(toy_graph):
    toy_graph.target_node_type = "movie"
    with pytest.raises(
        GraphValidationError, match="'movie' is not a node type.*'item', 'user', 'tag'"
    ):
        validate_graph(toy_graph)


def test_class_names_empty(toy_graph):
    toy_graph.class_names = []
    with pytest.raises(
        GraphValidationError, match=r"class_names must be a non-empty list, got \[\]"
    ):
        validate_graph(toy_graph)


def test_class_names_missing_or_not_strings(toy_graph):
    toy_graph.class_names = ["a", 1, "c", "d"]
    with pytest.raises(GraphValidationError, match=r"class_names\[1\] must be a string, got int 1"):
        validate_graph(toy_graph)
    del toy_graph.class_names
    with pytest.raises(GraphValidationError, match="no 'class_names'"):
        validate_graph(toy_graph)


def test_class_names_repeated(toy_graph):
    toy_graph.class_names = ["a", "b", "a", "c"]
    with pytest.raises(GraphValidationError, match=r"unique; repeated: \['a'\]"):
        validate_graph(toy_graph)


# ------------------------------------------------------------------------- labels
def test_label_out_of_range_names_value_node_and_range(toy_graph):
    toy_graph["item"].y[3] = 9
    toy_graph["item"].y[10] = 4
    msg = r"label 9 at item node 3 is out of range \[0, 3\] \(-1 = unlabelled\); 2 of 300"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_graph)


def test_label_below_minus_one(toy_graph):
    toy_graph["item"].y[7] = -2
    with pytest.raises(
        GraphValidationError, match=r"label -2 at item node 7 is out of range \[0, 3\]"
    ):
        validate_graph(toy_graph)


def test_minus_one_labels_are_allowed(toy_graph):
    toy_graph["item"].y[:100] = -1
    validate_graph(toy_graph)


def test_label_dtype_shape_and_length(toy_graph):
    y = toy_graph["item"].y
    toy_graph["item"].y = y.float()
    with pytest.raises(
        GraphValidationError, match="'item' must have dtype torch.long, got torch.float32"
    ):
        validate_graph(toy_graph)
    toy_graph["item"].y = y[:299]
    with pytest.raises(GraphValidationError, match="have length 299, but 'item' has 300 nodes"):
        validate_graph(toy_graph)
    toy_graph["item"].y = y.view(300, 1)
    with pytest.raises(GraphValidationError, match=r"must be 1-D class indices \(long\) or 2-D "
                       r"multi-hot rows \(float\), got shape \[300, 1\] and dtype torch.int64"):
        validate_graph(toy_graph)


def test_labels_required_by_default(toy_graph):
    del toy_graph["item"].y
    with pytest.raises(GraphValidationError, match="target node type 'item' has no labels 'y'"):
        validate_graph(toy_graph)
    assert validate_graph(toy_graph, require_labels=False) is toy_graph


def test_all_unlabelled(toy_graph):
    toy_graph["item"].y[:] = -1
    with pytest.raises(GraphValidationError, match="no labelled node: all 300 labels are -1"):
        validate_graph(toy_graph)
    validate_graph(toy_graph, require_labels=False)


def test_require_labels_must_be_bool(toy_graph):
    with pytest.raises(TypeError, match="require_labels must be a bool, got 'no'"):
        validate_graph(toy_graph, require_labels="no")


# ----------------------------------------------------------------------- features
def test_nan_feature_names_type_and_first_row(toy_graph):
    toy_graph["user"].x[40, 2] = float("nan")
    toy_graph["user"].x[12, 1] = float("inf")
    msg = "node type 'user' contain inf at row 12, column 1; 2 of 120 rows"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_graph)


def test_feature_rows_must_match_num_nodes(toy_graph):
    toy_graph["item"].x = toy_graph["item"].x[:250]
    toy_graph["item"].num_nodes = 300
    with pytest.raises(
        GraphValidationError, match="'item' have 250 rows, but 'item' has 300 nodes"
    ):
        validate_graph(toy_graph)


def test_features_must_be_2d(toy_graph):
    toy_graph["user"].x = torch.zeros(120)
    with pytest.raises(
        GraphValidationError, match=r"'user' must be 2-D \[num_nodes, F\], got shape \[120\]"
    ):
        validate_graph(toy_graph)


def test_sparse_features_checked(toy_graph):
    dense = torch.zeros(120, 4)
    dense[5, 0] = 1.0
    dense[30, 3] = 2.0
    toy_graph["user"].x = dense.to_sparse()
    validate_graph(toy_graph)
    dense[30, 3] = float("nan")
    dense[77, 1] = float("inf")
    toy_graph["user"].x = dense.to_sparse()
    with pytest.raises(
        GraphValidationError, match="contain nan at row 30, column 3; 2 of 120 rows"
    ):
        validate_graph(toy_graph)
    toy_graph["user"].x = dense.to_sparse_csr()
    with pytest.raises(
        GraphValidationError, match="contain nan at row 30, column 3; 2 of 120 rows"
    ):
        validate_graph(toy_graph)


# -------------------------------------------------------------------------- edges
def test_source_id_out_of_range(toy_graph):
    toy_graph[BOUGHT].edge_index[0, 5] = 400
    msg = r"edge \('item', 'bought_by', 'user'\) column 5: source id 400 is out of range for 'item' with 300 nodes"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_graph)


def test_target_id_negative(toy_graph):
    toy_graph[REV_BOUGHT].edge_index[1, 8] = -3
    toy_graph[REV_BOUGHT].edge_index[1, 9] = -3
    msg = r"column 8: target id -3 is out of range for 'item' with 300 nodes \(valid ids: 0..299\); 2 of"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_graph)


def test_edge_type_with_unknown_node_type(toy_graph):
    toy_graph["user", "owns", "car"].edge_index = torch.zeros(2, 1, dtype=torch.long)
    msg = r"edge type \('user', 'owns', 'car'\) refers to unknown node type 'car'; node types are: \['item', 'user', 'tag'\]"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_graph)


def test_edge_index_dtype_and_shape(toy_graph):
    ei = toy_graph[BOUGHT].edge_index
    toy_graph[BOUGHT].edge_index = ei.int()
    with pytest.raises(GraphValidationError, match="must have dtype torch.long, got torch.int32"):
        validate_graph(toy_graph)
    toy_graph[BOUGHT].edge_index = ei.t().contiguous()
    with pytest.raises(GraphValidationError, match=r"must have shape \[2, E\], got \[\d+, 2\]"):
        validate_graph(toy_graph)


def test_empty_edge_type_is_valid(toy_graph):
    toy_graph["user", "follows", "user"].edge_index = torch.zeros(2, 0, dtype=torch.long)
    validate_graph(toy_graph)


def test_node_type_without_count():
    data = HeteroData()
    data["a"].y = torch.tensor([0, 1])
    data.target_node_type = "a"
    data.class_names = ["x", "y"]
    with pytest.raises(GraphValidationError, match="node type 'a' has no 'num_nodes'"):
        validate_graph(data)


# ---------------------------------------------------------------------- meta-paths
def test_metapath_must_be_a_chain(toy_graph):
    toy_graph.metapaths = [[BOUGHT, ("item", "tagged", "tag")]]
    with pytest.raises(
        GraphValidationError,
        match="meta-path 0 is not a chain: step 0 .* ends at 'user' but step 1",
    ):
        validate_graph(toy_graph)


def test_metapath_must_start_and_end_at_target(toy_graph):
    toy_graph.metapaths.append([REV_BOUGHT, BOUGHT])
    with pytest.raises(
        GraphValidationError,
        match="meta-path 2 must start and end at the target type 'item'; it goes from 'user' to 'user'",
    ):
        validate_graph(toy_graph)


def test_metapath_with_unknown_edge_type(toy_graph):
    toy_graph.metapaths = [[("item", "likes", "user"), REV_BOUGHT]]
    with pytest.raises(
        GraphValidationError,
        match=r"meta-path 0 step 0: \('item', 'likes', 'user'\) is not an edge type",
    ):
        validate_graph(toy_graph)


def test_metapath_empty(toy_graph):
    toy_graph.metapaths = [[]]
    with pytest.raises(GraphValidationError, match="meta-path 0 must be a non-empty list"):
        validate_graph(toy_graph)


# -------------------------------------------------------------------------- masks
def test_overlapping_masks(toy_split):
    store = toy_split["item"]
    first_test = int(torch.nonzero(store.test_mask)[0, 0])
    store.train_mask[first_test] = True
    msg = f"train_mask and test_mask of node type 'item' overlap at 1 nodes \\(first: item node {first_test}\\)"
    with pytest.raises(GraphValidationError, match=msg):
        validate_graph(toy_split)


def test_mask_dtype_and_length(toy_split):
    store = toy_split["item"]
    mask = store.val_mask
    store.val_mask = mask.long()
    with pytest.raises(
        GraphValidationError,
        match="val_mask of node type 'item' must be a bool tensor, got torch.int64",
    ):
        validate_graph(toy_split)
    store.val_mask = mask[:10]
    with pytest.raises(
        GraphValidationError, match=r"must have shape \[300\] \(one entry per node\), got \[10\]"
    ):
        validate_graph(toy_split)


# -------------------------------------------------------------------------- scale
def test_million_edges_pass_and_one_bad_id_is_found():
    """Vectorised checks on a large graph (speed is measured by benchmarks, not here)."""
    gen = torch.Generator().manual_seed(0)
    data = HeteroData()
    data["a"].num_nodes = 50_000
    data["b"].num_nodes = 20_000
    data["a"].x = torch.randn(50_000, 16, generator=gen)
    data["a"].y = torch.randint(0, 3, (50_000,), generator=gen)
    ei = torch.stack(
        [
            torch.randint(0, 50_000, (1_000_000,), generator=gen),
            torch.randint(0, 20_000, (1_000_000,), generator=gen),
        ]
    )
    data["a", "r", "b"].edge_index = ei
    data["b", "rev_r", "a"].edge_index = ei.flip(0)
    data.target_node_type = "a"
    data.class_names = ["x", "y", "z"]
    data.metapaths = [[("a", "r", "b"), ("b", "rev_r", "a")]]
    assert validate_graph(data) is data
    data["a", "r", "b"].edge_index[1, 999_999] = 20_000
    with pytest.raises(GraphValidationError, match="999999.*20000.*out of range"):
        validate_graph(data)
