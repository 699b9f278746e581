"""from_pandas: tables to a graph, and the errors that name the offending values."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from hetero_imb.data import assemble
from hetero_imb.data.from_pandas import from_pandas
from hetero_imb.data.validate import GraphValidationError, GraphWarning


# ---------------------------------------------------------------------- from_pandas
def test_node_counts_and_ids(fraud):
    data = fraud.build()
    assert {t: data[t].num_nodes for t in data.node_types} == {
        "user": 5,
        "device": 3,
        "merchant": 2,
        "transaction": 8,
    }
    assert data.node_ids["user"] == ["u0", "u1", "u2", "u3", "u4"]
    assert data.node_ids["transaction"][6] == "t6"
    assert data.target_node_type == "transaction"


def test_default_features_are_numeric_columns_except_id_and_label(fraud):
    data = fraud.build()
    assert data["user"].x.dtype == torch.float32
    assert data["user"].x.tolist() == [[23, 10], [35, 400], [51, 1200], [19, 3], [44, 800]]
    assert data["merchant"].x.tolist() == [[pytest.approx(0.1)], [pytest.approx(0.9)]]
    assert data["transaction"].x[:, 1].tolist() == [9, 3, 14, 20, 2, 11, 16, 23]
    assert data["transaction"].x.shape == (8, 2)  # amount, hour; not the label
    assert "x" not in data["device"]  # only an id and a string column


def test_explicit_features_choose_and_order_columns(fraud):
    data = fraud.build(features={"user": ["account_days"], "transaction": [], "merchant": ["risk"]})
    assert data["user"].x.tolist() == [[10], [400], [1200], [3], [800]]
    assert "x" not in data["transaction"]


def test_string_labels_map_to_sorted_class_names(fraud):
    data = fraud.build()
    assert data.class_names == ["fraud", "legit"]
    assert data["transaction"].y.tolist() == [1, 0, 1, 1, 0, 1, -1, 1]
    assert data["transaction"].y.dtype == torch.long


def test_class_names_given_fix_the_order(fraud):
    data = fraud.build(class_names=["legit", "fraud"])
    assert data["transaction"].y.tolist() == [0, 1, 0, 0, 1, 0, -1, 0]


def test_edges_mapped_deduplicated_and_sorted(fraud):
    data = fraud.build()
    # t1->u3 appears twice in the table and once in the graph
    assert fraud.pairs(data, fraud.MADE_BY) == [(0, 0), (1, 3), (2, 1), (3, 2), (4, 3), (5, 4), (6, 0), (7, 1)]
    assert fraud.pairs(data, fraud.AT) == [(0, 0), (1, 1), (4, 1)]


def test_reverse_relations_and_symmetric_same_type_relation(fraud):
    data = fraud.build()
    assert data.edge_types == [
        fraud.MADE_BY,
        ("user", "rev_made_by", "transaction"),
        fraud.ON,
        ("device", "rev_on", "transaction"),
        fraud.AT,
        ("merchant", "rev_at", "transaction"),
        fraud.OWNS,
        ("device", "rev_owns", "user"),
        fraud.KNOWS,
    ]
    rev = data["user", "rev_made_by", "transaction"].edge_index
    assert torch.equal(rev, data[fraud.MADE_BY].edge_index.flip(0))
    # u3-u4 and u1-u2, both ways, sorted
    assert fraud.pairs(data, fraud.KNOWS) == [(1, 2), (2, 1), (3, 4), (4, 3)]


def test_without_reverse(fraud, caplog):
    with caplog.at_level(logging.WARNING, logger=assemble.__name__):
        data = fraud.build(add_reverse=False)
    assert data.edge_types == [fraud.MADE_BY, fraud.ON, fraud.AT, fraud.OWNS, fraud.KNOWS]
    assert fraud.pairs(data, fraud.KNOWS) == [(1, 2), (3, 4)]
    assert data.metapaths == []  # no way back to the target type
    assert "no default meta-path through target type 'transaction'" in caplog.text


def test_default_metapaths_go_through_each_neighbour_type(fraud):
    data = fraud.build()
    assert data.metapaths == [
        [fraud.MADE_BY, ("user", "rev_made_by", "transaction")],
        [fraud.ON, ("device", "rev_on", "transaction")],
        [fraud.AT, ("merchant", "rev_at", "transaction")],
    ]


def test_explicit_metapaths_are_validated(fraud):
    path = [fraud.MADE_BY, fraud.KNOWS, ("user", "rev_made_by", "transaction")]
    assert fraud.build(metapaths=[path]).metapaths == [path]
    with pytest.raises(GraphValidationError, match="meta-path 0 is not a chain"):
        fraud.build(metapaths=[[fraud.MADE_BY, fraud.ON]])


def test_existing_transpose_is_recognised_as_the_reverse(fraud):
    nodes, edges = fraud.tables()
    made = edges[fraud.MADE_BY]
    edges[("user", "made", "transaction")] = made.rename(columns={"src": "dst", "dst": "src"})
    data = from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)
    assert ("user", "rev_made_by", "transaction") not in data.edge_types
    assert [fraud.MADE_BY, ("user", "made", "transaction")] in data.metapaths
    assert sum(p[0] == fraud.MADE_BY for p in data.metapaths) == 1


def test_reverse_name_clash_is_an_error(fraud):
    nodes, edges = fraud.tables()
    edges[("user", "rev_made_by", "transaction")] = pd.DataFrame({"src": ["u0"], "dst": ["t3"]})
    with pytest.raises(
        ValueError, match=r"cannot add the reverse of \('transaction', 'made_by', 'user'\)"
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_integer_labels_and_row_position_ids(fraud):
    nodes = {
        "item": pd.DataFrame({"f": [0.5, 1.5, 2.5, 3.5], "label": [0, 2, -1, 2]}),
        "tag": pd.DataFrame(index=range(3)),
    }
    edges = {("item", "has", "tag"): pd.DataFrame({"src": [0, 1, 3], "dst": [2, 2, 0]})}
    with pytest.warns(GraphWarning, match=r"class ids 0, 2 leave classes 1 without a node"):
        data = from_pandas(nodes, edges, target="item")  # ids kept as given, with a warning
    assert data.class_names == ["0", "1", "2"]
    assert data["item"].y.tolist() == [0, 2, -1, 2]
    assert data["item"].x.tolist() == [[0.5], [1.5], [2.5], [3.5]]
    assert data["tag"].num_nodes == 3 and "x" not in data["tag"]
    assert fraud.pairs(data, ("item", "has", "tag")) == [(0, 2), (1, 2), (3, 0)]
    assert data.node_ids["tag"] == [0, 1, 2]


def test_nan_and_bool_and_categorical_labels():
    base = pd.DataFrame({"f": [1.0, 2.0, 3.0, 4.0]})
    tag = pd.DataFrame(index=range(1))
    e = {("item", "has", "tag"): pd.DataFrame({"src": [0], "dst": [0]})}
    cases = [
        ([1.0, np.nan, 0.0, 1.0], None, [1, -1, 0, 1], ["0", "1"]),
        ([True, False, False, True], None, [1, 0, 0, 1], ["0", "1"]),
        (pd.Categorical(["b", "a", None, "b"]), None, [1, 0, -1, 1], ["a", "b"]),
        (["spam", "-1", "ham", -1], None, [1, -1, 0, -1], ["ham", "spam"]),
        ([1, 0, 0, 1], ["no", "yes"], [1, 0, 0, 1], ["no", "yes"]),
    ]
    for values, names, y, expected_names in cases:
        items = base.assign(label=values)
        data = from_pandas({"item": items, "tag": tag}, e, target="item", class_names=names)
        assert data["item"].y.tolist() == y
        assert data.class_names == expected_names


def test_prediction_graph_without_labels(fraud):
    nodes, edges = fraud.tables()
    nodes["transaction"] = nodes["transaction"].drop(columns="label")
    data = from_pandas(
        nodes,
        edges,
        target="transaction",
        node_id=fraud.ID_COLS,
        label=None,
        class_names=["fraud", "legit"],
    )
    assert data["transaction"].y.tolist() == [-1] * 8
    with pytest.raises(ValueError, match="pass class_names"):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS, label=None)


def test_tuple_ids(fraud):
    nodes = {
        "a": pd.DataFrame({"id": pd.Series([(0, "x"), (1, "y")], dtype=object), "label": [0, 1]}),
        "b": pd.DataFrame({"id": pd.Series([("k", 1)], dtype=object)}),
    }
    edges = {
        ("a", "r", "b"): pd.DataFrame(
            {"src": pd.Series([(1, "y")], dtype=object), "dst": pd.Series([("k", 1)], dtype=object)}
        )
    }
    data = from_pandas(nodes, edges, target="a", node_id="id")
    assert fraud.pairs(data, ("a", "r", "b")) == [(1, 0)]
    assert data.node_ids["a"] == [(0, "x"), (1, "y")]


def test_node_ids_map_predictions_back(fraud):
    data = fraud.build()
    pred = data["transaction"].y.clamp(min=0)
    by_id = dict(zip(data.node_ids["transaction"], pred.tolist(), strict=True))
    assert data.class_names[by_id["t4"]] == "fraud"


# -------------------------------------------------------------- from_pandas errors
def test_edge_ids_not_found_lists_up_to_five_with_count(fraud):
    nodes, edges = fraud.tables()
    edges[fraud.MADE_BY] = pd.DataFrame(
        {"src": ["t0"] * 7, "dst": ["u0", "u9", "u10", "u11", "u12", "u13", "u9"]}
    )
    msg = (
        r"edge type \('transaction', 'made_by', 'user'\): column 'dst' has 6 values \(5 distinct\) "
        r"that are not ids of node type 'user': 'u9', 'u10', 'u11', 'u12', 'u13'"
    )
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)
    edges[fraud.MADE_BY] = pd.DataFrame({"src": ["t0", "a", "b", "c", "d", "e", "f"], "dst": ["u0"] * 7})
    with pytest.raises(
        ValueError,
        match=r"column 'src' has 6 values \(6 distinct\).*'a', 'b', 'c', 'd', 'e', \.\.\.",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_edge_ids_out_of_range_with_row_positions():
    nodes = {"item": pd.DataFrame({"label": [0, 1]}), "tag": pd.DataFrame(index=range(3))}
    edges = {("item", "has", "tag"): pd.DataFrame({"src": [0, 1], "dst": [2, 3]})}
    msg = r"column 'dst' has 1 values \(1 distinct\) that are not ids of node type 'tag': 3 \(.*row positions 0..2\)"
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="item")


def test_edge_id_dtype_mismatch_is_explained(fraud):
    nodes, edges = fraud.tables()
    nodes["merchant"] = nodes["merchant"].assign(merchant_id=[100, 101])
    edges[fraud.AT] = pd.DataFrame({"src": ["t0"], "dst": ["100"]})
    with pytest.raises(
        ValueError, match="ids of 'merchant' have dtype int64, column 'dst' has dtype (object|str)"
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_unknown_node_type_in_edge_key(fraud):
    nodes, edges = fraud.tables()
    edges[("user", "owns", "car")] = pd.DataFrame({"src": ["u0"], "dst": ["c0"]})
    msg = r"edge type \('user', 'owns', 'car'\) refers to unknown node type 'car'; node types are: \['user', 'device', 'merchant', 'transaction'\]"
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_bad_edge_key_and_missing_edge_column(fraud):
    nodes, edges = fraud.tables()
    with pytest.raises(TypeError, match="tuples of strings, got 'user-owns-device'"):
        from_pandas(nodes, {"user-owns-device": edges[fraud.OWNS]}, target="transaction", node_id=fraud.ID_COLS)
    with pytest.raises(
        ValueError, match=r"edge table \('user', 'owns', 'device'\) has no column 'dst'"
    ):
        from_pandas(
            nodes,
            {fraud.OWNS: edges[fraud.OWNS].rename(columns={"dst": "device"})},
            target="transaction",
            node_id=fraud.ID_COLS,
        )


def test_integer_label_out_of_class_names(fraud):
    nodes, edges = fraud.tables()
    nodes["transaction"]["label"] = [0, 1, 0, 0, 7, 0, -1, 0]
    msg = r"label 7 at row 4 \(id 't4'\) is out of range \[0, 1\] for class_names \['legit', 'fraud'\]"
    with pytest.raises(ValueError, match=msg):
        from_pandas(
            nodes, edges, target="transaction", node_id=fraud.ID_COLS, class_names=["legit", "fraud"]
        )


def test_string_label_not_in_class_names(fraud):
    nodes, edges = fraud.tables()
    nodes["transaction"].loc[3, "label"] = "frod"
    msg = r"1 label values are not in class_names \['legit', 'fraud'\]: 'frod' \(1 nodes\)"
    with pytest.raises(ValueError, match=msg):
        from_pandas(
            nodes, edges, target="transaction", node_id=fraud.ID_COLS, class_names=["legit", "fraud"]
        )


def test_non_integer_negative_and_mixed_labels(fraud):
    nodes, edges = fraud.tables()
    for values, msg in [
        (
            [0, 1, 0, 0, 1.5, 0, 0, 0],
            r"label 1.5 at row 4 \(id 't4'\) is not an integer class index",
        ),
        ([0, 1, 0, -2, 1, 0, 0, 0], r"label -2 at row 3 \(id 't3'\) is negative"),
        (
            ["legit", "fraud", 3, "legit", "fraud", "legit", None, "legit"],
            r"mixes class names .*: 3 \(int\) at row 2",
        ),
    ]:
        nodes["transaction"]["label"] = pd.Series(values, dtype=object)
        with pytest.raises(ValueError, match=msg):
            from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_target_without_label_column(fraud):
    nodes, edges = fraud.tables()
    nodes["transaction"] = nodes["transaction"].drop(columns="label")
    with pytest.raises(
        ValueError,
        match=r"target table 'transaction' has no label column 'label'; columns are: \['tx_id', 'amount', 'hour'\]",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_target_with_all_labels_missing(fraud):
    nodes, edges = fraud.tables()
    nodes["transaction"]["label"] = [None, -1, None, None, -1, None, None, None]
    with pytest.raises(
        ValueError,
        match="label column 'label' of node type 'transaction': no labelled node; all 8 values are missing or -1",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_nan_and_inf_features_name_type_column_and_row(fraud):
    nodes, edges = fraud.tables()
    nodes["user"].loc[2, "account_days"] = np.nan
    with pytest.raises(
        ValueError,
        match=r"node type 'user': feature column 'account_days' has nan at row 2 \(id 'u2'\); 1 feature values",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)
    nodes, edges = fraud.tables()
    nodes["transaction"].loc[5, "amount"] = np.inf
    with pytest.raises(
        ValueError,
        match=r"node type 'transaction': feature column 'amount' has inf at row 5 \(id 't5'\)",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)
    nodes, edges = fraud.tables()
    nodes["merchant"].loc[1, "risk"] = 1e300
    with pytest.raises(ValueError, match="'risk' value 1e.300 at row 1 .* does not fit in float32"):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_non_numeric_feature_column(fraud):
    with pytest.raises(
        TypeError, match="node type 'user': feature column 'country' is not numeric"
    ):
        fraud.build(features={"user": ["age", "country"]})
    with pytest.raises(ValueError, match="names column 'label', which is the id or label column"):
        fraud.build(features={"transaction": ["amount", "label"]})
    with pytest.raises(
        ValueError,
        match=r"names column 'height', which node table 'user' does not have; columns are: \['user_id'",
    ):
        fraud.build(features={"user": ["height"]})


def test_duplicate_node_ids(fraud):
    nodes, edges = fraud.tables()
    nodes["device"]["device_id"] = ["d0", "d1", "d0"]
    with pytest.raises(
        ValueError,
        match=r"node table 'device': id 'd0' appears 2 times in column 'device_id' \(rows \[0, 2\]\)",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS)


def test_missing_id_column_and_bad_target(fraud):
    nodes, edges = fraud.tables()
    with pytest.raises(
        ValueError, match=r"node table 'user' has no id column 'id'; columns are: \['user_id'"
    ):
        from_pandas(nodes, edges, target="transaction", node_id="id")
    with pytest.raises(
        ValueError,
        match=r"'target' must be one of the node types \['user', 'device', 'merchant', 'transaction'\], got 'tx'",
    ):
        from_pandas(nodes, edges, target="tx", node_id=fraud.ID_COLS)
    with pytest.raises(TypeError, match="'add_reverse' must be a bool, got 'yes'"):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS, add_reverse="yes")
    with pytest.raises(TypeError, match="'class_names' must be a list of strings, got str"):
        from_pandas(nodes, edges, target="transaction", node_id=fraud.ID_COLS, class_names="ab")


def test_logs_dropped_duplicates(fraud, caplog):
    with caplog.at_level(logging.INFO, logger=assemble.__name__):
        fraud.build()
    assert "dropped 1 duplicate edges" in caplog.text
