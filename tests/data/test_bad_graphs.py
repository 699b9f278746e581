"""Bad-input corpus of the library: hand-built, slightly wrong graphs given to
``hi.run`` and ``hi.fit``. Every case raises its own typed error (or warns) with one
line naming the parameter, before any model is built, and writes nothing."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import HeteroData

import hetero_imb as hi
from hetero_imb.balancing.compose import counts_seen_by_loss
from hetero_imb.balancing.samplers import SAMPLERS
from hetero_imb.data.validate import GraphValidationError, GraphWarning
from hetero_imb.params import ParamError
from hetero_imb.registry import UnknownComponentError
from hetero_imb.training.checks import ConfigError

EDGE = ("item", "bought_by", "user")


def _config(**kw) -> hi.RunConfig:
    base = dict(dataset="custom", model="rgcn", split="given", epochs=2, patience=0,
                model_params={"hidden": 8}, device="cpu")
    return hi.RunConfig(**{**base, **kw})


@pytest.fixture
def graph(toy_split) -> HeteroData:
    return toy_split


def _run(data, tmp_path, **kw):
    """``hi.run`` that must fail before writing anything into ``tmp_path``."""
    before = sorted(tmp_path.rglob("*"))
    try:
        return hi.run(_config(root=str(tmp_path), **kw), data=data)
    finally:
        assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("model", ["rgcn", "gcn", "han"])
def test_edge_past_last_node_is_one_line_naming_type_id_and_count(graph, tmp_path, model):
    n_users = graph["user"].num_nodes
    graph[EDGE].edge_index[1, 5] = n_users  # off by one: used to crash R-GCN (exit 134)
    with pytest.raises(GraphValidationError) as err:
        _run(graph, tmp_path, model=model)
    message = str(err.value)
    assert "\n" not in message
    assert str(EDGE) in message and f"id {n_users}" in message and f"{n_users} nodes" in message


def test_negative_edge_id(graph, tmp_path):
    graph[EDGE].edge_index[0, 0] = -1
    with pytest.raises(GraphValidationError, match=r"source id -1 is out of range for 'item'"):
        _run(graph, tmp_path)


def test_fit_checks_the_graph_too(graph):
    graph[EDGE].edge_index[1, 0] = 10_000
    model = hi.build_model("rgcn", graph, hidden=8)
    loss = hi.build_loss("ce", class_counts=[1, 1, 1, 1])
    with pytest.raises(GraphValidationError, match="10000"):
        hi.fit(model, graph, loss=loss, epochs=1, device="cpu")


def test_test_mask_equal_to_train_mask_is_refused(graph, tmp_path):
    store = graph["item"]
    store.test_mask = store.train_mask.clone()
    with pytest.raises(GraphValidationError, match="train_mask and test_mask .* overlap"):
        _run(graph, tmp_path)


def test_empty_validation_mask_is_refused(graph, tmp_path):
    graph["item"].val_mask[:] = False
    with pytest.raises(GraphValidationError, match="val_mask .* holds no labelled node"):
        _run(graph, tmp_path)


def test_given_split_without_masks(toy_graph, tmp_path):
    with pytest.raises(ValueError, match="split 'given' needs train_mask"):
        _run(toy_graph, tmp_path)


def test_negative_label(graph, tmp_path):
    graph["item"].y[7] = -3
    with pytest.raises(GraphValidationError, match=r"label -3 at item node 7 is out of range"):
        _run(graph, tmp_path)


def test_label_past_last_class(graph, tmp_path):
    graph["item"].y[2] = 4
    with pytest.raises(GraphValidationError, match=r"label 4 at item node 2 .*\[0, 3\]"):
        _run(graph, tmp_path)


def test_float_labels(graph, tmp_path):
    graph["item"].y = graph["item"].y.float()
    with pytest.raises(GraphValidationError, match="labels y .* dtype torch.long, got torch.float32"):
        _run(graph, tmp_path)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_features_are_a_data_error_not_a_learning_rate(graph, tmp_path, value):
    graph["item"].x[4, 1] = value
    with pytest.raises(GraphValidationError, match=r"features x of node type 'item' .* row 4, column 1") as err:
        _run(graph, tmp_path)
    assert "learning rate" not in str(err.value)


def test_feature_rows_mismatch(graph, tmp_path):
    graph["item"].x = graph["item"].x[:-1]
    with pytest.raises(GraphValidationError, match="features x of node type 'item' have 299 rows"):
        _run(graph, tmp_path)


def test_node_ids_of_the_wrong_length(graph, tmp_path):
    graph.node_ids = {"item": list(range(graph["item"].num_nodes + 1))}
    with pytest.raises(GraphValidationError, match=r"node_ids\['item'\] has 301 ids"):
        _run(graph, tmp_path)


def test_empty_graph(tmp_path):
    with pytest.raises(GraphValidationError, match="graph has no node types"):
        _run(HeteroData(), tmp_path)


def test_not_a_graph(tmp_path):
    with pytest.raises(TypeError, match="HeteroData, got dict"):
        _run({"item": 1}, tmp_path)


def test_unknown_target_type(graph, tmp_path):
    graph.target_node_type = "movie"
    with pytest.raises(GraphValidationError, match="'movie' is not a node type"):
        _run(graph, tmp_path)


def test_unknown_names_in_the_api(graph, tmp_path):
    with pytest.raises(UnknownComponentError, match="unknown model 'nope'.*rgcn"):
        _run(graph, tmp_path, model="nope")
    with pytest.raises(UnknownComponentError, match="unknown loss 'nope'"):
        _run(graph, tmp_path, loss="nope")


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"epochs": 0}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"model_params": {"dropout": 1.5}}, "dropout"),
        ({"imbalance": "counts:1,2", "split": "stratified"}, "2 counts"),
        ({"loss": "weighted", "loss_params": {"weights": [1.0, 2.0]}}, "weights"),
    ],
)
def test_config_errors_in_the_api(graph, tmp_path, changes, needle):
    with pytest.raises((ConfigError, ParamError), match=needle):
        _run(graph, tmp_path, **changes)


def test_class_too_small_to_split(toy_graph, tmp_path):
    y = toy_graph["item"].y
    y[(y == 3).nonzero().flatten()[1:]] = -1  # class 3 keeps a single labelled node
    with pytest.raises(ValueError, match="class 'class_3' .* 1 labelled node"):
        _run(toy_graph, tmp_path, split="stratified")


def test_target_type_without_edges_warns_and_trains_on_features(graph, tmp_path):
    for edge_type in list(graph.edge_types):
        del graph[edge_type]
    graph.metapaths = []
    with pytest.warns(GraphWarning, match="'item' receives no messages.*no edges at all"):
        result = hi.run(_config(model="mlp"), data=graph)
    assert result.metrics["test"]["macro_f1"] >= 0


def test_one_way_relations_warn(graph, tmp_path):
    for edge_type in list(graph.edge_types):
        if edge_type[2] == "item":
            del graph[edge_type]
    graph.metapaths = []
    with pytest.warns(GraphWarning, match="only leave it.*ToUndirected"):
        hi.run(_config(model="rgcn"), data=graph)


def test_a_valid_graph_gives_no_warning(graph):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphWarning)
        hi.validate_graph(graph, for_training=True)


# ------------------------------------------------------------------ drop keeps the node ids
def _users_graph(n: int = 400) -> tuple[HeteroData, pd.DataFrame]:
    rng = np.random.default_rng(0)
    users = pd.DataFrame({
        "user_id": [f"u{i}" for i in range(n)],
        "age": rng.normal(size=n),
        "label": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
    })
    devices = pd.DataFrame({"device_id": [f"d{j}" for j in range(30)]})
    uses = pd.DataFrame({"src": users.user_id, "dst": [f"d{j}" for j in rng.integers(0, 30, n)]})
    return hi.from_pandas({"user": users, "device": devices}, {("user", "uses", "device"): uses},
                          target="user", node_id={"user": "user_id", "device": "device_id"}), users


def test_drop_imbalance_keeps_the_surviving_node_ids():
    data, users = _users_graph()
    dropped = hi.make_imbalance(data, counts=[100, 40, 5], mode="drop", seed=0)
    ids = dropped.node_ids["user"]
    assert len(ids) == dropped["user"].num_nodes == 145
    truth = dict(zip(users.user_id, users.label, strict=True))
    names = dropped.class_names
    assert all(truth[i] == names[int(c)] for i, c in zip(ids, dropped["user"].y, strict=True))
    assert len(data.node_ids["user"]) == 400  # the input graph is not changed
    hi.validate_graph(dropped)


# ------------------------------------------------------------------ balancing composition
def test_loss_after_oversampling_sees_balanced_counts():
    sampler = SAMPLERS.get("oversample-random")(target_ratio=1.0)
    assert counts_seen_by_loss(sampler, [500, 50, 20]) == [500, 500, 500]
    half = SAMPLERS.get("oversample-random")(target_ratio=0.5)
    assert counts_seen_by_loss(half, [500, 50, 20]) == [500, 250, 250]
    under = SAMPLERS.get("undersample")(reweight=False)
    assert counts_seen_by_loss(under, [500, 50, 20]) == [20, 20, 20]
    assert counts_seen_by_loss(SAMPLERS.get("undersample")(), [500, 50, 20]) == [500, 50, 20]
    assert counts_seen_by_loss(None, [500, 50, 20], balanced_batches=True) == [190, 190, 190]


def test_run_builds_the_weighted_loss_from_the_resampled_counts(graph, loss_counts):
    hi.run(_config(loss="weighted", sampler="oversample-random"), data=graph)
    assert len(set(loss_counts[-1])) == 1  # every class equal: the sampler already balanced
    train = graph["item"].train_mask
    assert loss_counts[-1][0] == int(torch.bincount(graph["item"].y[train]).max())
