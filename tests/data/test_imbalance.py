"""Induced imbalance: drop and mask modes, profiles, records, errors and the CLI parser."""

from __future__ import annotations

import json

import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.data.graph import class_counts, class_counts_by_split
from hetero_imb.data.imbalance import (
    MODES,
    PROFILES,
    longtail_profile,
    make_imbalance,
    parse_imbalance,
    step_profile,
)
from hetero_imb.data.splits import stratified_split
from hetero_imb.registry import UnknownComponentError


def make_graph(counts, unlabelled=0, names=None, seed=0) -> HeteroData:
    """``paper`` nodes (``counts[c]`` of class c, shuffled, then ``unlabelled`` with
    y=-1) that carry their original id in ``x`` and ``orig``; paper i is written by
    author i % 4 and cites paper (i + 1) % n."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    y = y[torch.randperm(len(y), generator=gen)]
    y = torch.cat([y, torch.full((unlabelled,), -1)]).long()
    n = len(y)
    ids = torch.arange(n)
    data = HeteroData()
    data["paper"].y = y
    data["paper"].x = torch.stack([ids.float(), -ids.float()], dim=1)
    data["paper"].orig = ids.clone()
    data["paper"].official_train_mask = ids % 3 == 0
    data["paper"].official_test_mask = ids % 3 == 1
    data["author"].x = torch.randn(4, 3, generator=gen)
    written = torch.stack([ids, ids % 4])
    data["paper", "written_by", "author"].edge_index = written
    data["author", "rev_written_by", "paper"].edge_index = written.flip(0)
    data["paper", "cites", "paper"].edge_index = torch.stack([ids, (ids + 1) % n])
    data.target_node_type = "paper"
    data.class_names = names or [f"c{c}" for c in range(len(counts))]
    data.metapaths = [[("paper", "written_by", "author"), ("author", "rev_written_by", "paper")]]
    return data


def snapshot(data: HeteroData) -> dict:
    """Clones of every tensor in the graph, to check later that nothing changed."""
    out = {}
    for store in data.node_stores + data.edge_stores:
        for key, value in store.items():
            if isinstance(value, torch.Tensor):
                out[(store._key, key)] = value.clone()
    return out


def assert_unchanged(data: HeteroData, snap: dict) -> None:
    now = snapshot(data)
    assert now.keys() == snap.keys()
    for key, value in snap.items():
        assert torch.equal(now[key], value), key


# ------------------------------------------------------------------ drop mode
def test_drop_counts_by_hand_and_consistent_slicing():
    data = make_graph([10, 6, 4], unlabelled=2)
    snap = snapshot(data)
    out = make_imbalance(data, counts=[5, 3, 1], mode="drop", seed=0)
    assert_unchanged(data, snap)

    store = out["paper"]
    assert class_counts(out) == [5, 3, 1]
    assert store.num_nodes == 5 + 3 + 1 + 2  # the 2 unlabelled papers stay
    orig = store.orig
    assert torch.all(orig[1:] > orig[:-1])  # node order kept
    assert set(orig.tolist()) >= {20, 21}  # unlabelled ones
    # every node-level attribute is sliced with the same index
    assert torch.equal(store.y, data["paper"].y[orig])
    assert torch.equal(store.x[:, 0], orig.float())
    assert torch.equal(store.official_train_mask, orig % 3 == 0)
    assert torch.equal(store.official_test_mask, orig % 3 == 1)
    # other node types untouched
    assert torch.equal(out["author"].x, data["author"].x)
    # edges: exactly the original edges between kept nodes, relabelled
    kept = set(orig.tolist())
    written = out["paper", "written_by", "author"].edge_index
    assert {(orig[s].item(), a) for s, a in written.t().tolist()} == {(i, i % 4) for i in kept}
    rev = out["author", "rev_written_by", "paper"].edge_index
    assert torch.equal(rev, written.flip(0))
    cites = out["paper", "cites", "paper"].edge_index
    expected = {(i, (i + 1) % 22) for i in kept if (i + 1) % 22 in kept}
    assert {(orig[s].item(), orig[d].item()) for s, d in cites.t().tolist()} == expected
    assert int(cites.max()) < store.num_nodes

    assert out.imbalance == {
        "mode": "drop",
        "profile": None,
        "ratio": None,
        "counts_requested": [5, 3, 1],
        "counts_before": [10, 6, 4],
        "counts_after": [5, 3, 1],
        "seed": 0,
    }
    json.dumps(out.imbalance)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_drop_slices_existing_masks_and_list_and_sparse_attributes():
    data = stratified_split(make_graph([12, 8]), seed=0)
    data["paper"].names = [f"p{i}" for i in range(20)]
    data["paper"].bag = data["paper"].x.to_sparse_csr()
    data["paper"].coo = data["paper"].x.to_sparse()
    out = make_imbalance(data, counts={"c1": 4}, seed=0)
    orig = out["paper"].orig
    assert class_counts(out) == [12, 4]
    for split in ("train", "val", "test"):
        assert torch.equal(out["paper"][f"{split}_mask"], data["paper"][f"{split}_mask"][orig])
    assert out["paper"].names == [f"p{i}" for i in orig.tolist()]
    assert out["paper"].bag.layout == torch.sparse_csr
    assert torch.equal(out["paper"].bag.to_dense(), data["paper"].x[orig])
    assert torch.equal(out["paper"].coo.to_dense(), data["paper"].x[orig])
    assert out.split == data.split  # the split record travels with the masks


def test_drop_toy_step_ratio(toy_graph):
    # toy classes 182/74/26/18; step 10: minority half = classes 3 (18) and 2 (26),
    # cap ceil(182 / 10) = 19 -> 19 and min(18, 19) = 18
    snap = snapshot(toy_graph)
    out = make_imbalance(toy_graph, ratio=10, profile="step")
    assert_unchanged(toy_graph, snap)
    assert class_counts(out) == [182, 74, 19, 18]
    assert out["item"].num_nodes == 293
    assert out["user"].num_nodes == 120 and out["tag"].num_nodes == 30
    assert (
        out["item", "bought_by", "user"].num_edges
        < toy_graph["item", "bought_by", "user"].num_edges
    )
    assert out.imbalance["counts_requested"] == [182, 74, 19, 18]
    assert out.imbalance["profile"] == "step" and out.imbalance["ratio"] == 10.0


def test_drop_toy_longtail_ratio(toy_graph_featureless):
    # ranks 0..3 = classes 0..3; caps ceil(182 * 100 ** (-r / 3)): 182, 40 (39.2),
    # 9 (8.45), 2 (1.82)
    out = make_imbalance(toy_graph_featureless, ratio=100, profile="longtail")
    assert class_counts(out) == [182, 40, 9, 2]
    assert "x" not in out["item"]


def test_same_seed_same_nodes_other_seed_other_nodes():
    data = make_graph([30, 20])
    a = make_imbalance(data, counts=[10, 5], seed=3)
    b = make_imbalance(data, counts=[10, 5], seed=3)
    c = make_imbalance(data, counts=[10, 5], seed=4)
    assert torch.equal(a["paper"].orig, b["paper"].orig)
    assert not torch.equal(a["paper"].orig, c["paper"].orig)
    assert class_counts(c) == [10, 5]


# ------------------------------------------------------------------ mask mode
def test_mask_counts_keep_graph_and_val_test():
    data = stratified_split(make_graph([20, 10]), 0.5, 0.25, 0.25, seed=0)
    # train 10/5, val 5/3 (2.5 -> tie -> val first), test 5/2
    assert class_counts_by_split(data) == {"train": [10, 5], "val": [5, 3], "test": [5, 2]}
    snap = snapshot(data)
    out = make_imbalance(data, counts=[10, 2], mode="mask", seed=0)
    assert_unchanged(data, snap)
    assert out["paper"].num_nodes == 30
    assert torch.equal(
        out["paper", "cites", "paper"].edge_index, data["paper", "cites", "paper"].edge_index
    )
    assert class_counts_by_split(out) == {"train": [10, 2], "val": [5, 3], "test": [5, 2]}
    old, new = data["paper"].train_mask, out["paper"].train_mask
    assert not (new & ~old).any()  # only removals
    dropped = old & ~new
    assert int(dropped.sum()) == 3
    assert (data["paper"].y[dropped] == 1).all()
    in_split = out["paper"].train_mask | out["paper"].val_mask | out["paper"].test_mask
    assert not (dropped & in_split).any()  # the dropped nodes are in no split
    assert out.imbalance["counts_before"] == [10, 5]
    assert out.imbalance["counts_after"] == [10, 2]
    assert out.imbalance["mode"] == "mask"


def test_mask_step_ratio_on_train_counts(toy_split):
    # fixture train counts int(0.6 n): 109/44/15/10. step 10: n_max = 109, cap 11;
    # minority half = classes 3 (10) and 2 (15) -> min(10, 11) = 10 and 11
    assert class_counts_by_split(toy_split)["train"] == [109, 44, 15, 10]
    out = make_imbalance(toy_split, ratio=10, mode="mask")
    assert class_counts_by_split(out)["train"] == [109, 44, 11, 10]
    assert torch.equal(out["item"].val_mask, toy_split["item"].val_mask)
    assert torch.equal(out["item"].test_mask, toy_split["item"].test_mask)
    assert out.imbalance["counts_before"] == [109, 44, 15, 10]


def test_mask_seeds():
    data = stratified_split(make_graph([40, 30]), seed=0)
    a = make_imbalance(data, counts=[24, 3], mode="mask", seed=0)
    b = make_imbalance(data, counts=[24, 3], mode="mask", seed=0)
    c = make_imbalance(data, counts=[24, 3], mode="mask", seed=1)
    assert torch.equal(a["paper"].train_mask, b["paper"].train_mask)
    assert not torch.equal(a["paper"].train_mask, c["paper"].train_mask)


def test_mask_needs_train_mask(toy_graph):
    with pytest.raises(ValueError, match=r"train_mask.*hetero_imb\.stratified_split"):
        make_imbalance(toy_graph, ratio=10, mode="mask")


# ------------------------------------------------------------------- profiles
def test_step_profile_rules():
    assert step_profile([100, 50, 30, 20], 10) == [100, 50, 10, 10]
    # 5 classes: floor(5/2) = 2 minority classes, the two of size 10
    assert step_profile([40, 10, 30, 10, 20], 8) == [40, 5, 30, 5, 20]
    # a tie at the boundary goes to the lower class index: class 1 (20), not class 3
    assert step_profile([30, 20, 10, 20], 6) == [30, 5, 5, 20]
    # never more than a class has
    assert step_profile([100, 5], 2) == [100, 5]
    assert step_profile([7], 3) == [7]


def test_longtail_profile_rules():
    # caps 100 * 8 ** (-r/3) = 100, 50, 25, 12.5 -> 100, 50, 25, 13 (float noise ignored)
    assert longtail_profile([100, 50, 30, 20], 8) == [100, 50, 25, 13]
    # ranks by size descending, ties by index: class 1 r0, class 2 r1 (25), class 0 r2 (12.5)
    assert longtail_profile([20, 50, 50], 4) == [13, 50, 25]
    assert longtail_profile([9], 4) == [9]


def test_registries_listed():
    assert PROFILES.names() == ["step", "longtail"]
    assert MODES == ("drop", "mask")


# --------------------------------------------------------------------- counts
def test_counts_as_dict_by_name_and_index():
    data = make_graph([10, 6, 4], names=["tvshow", "company", "politician"])
    out = make_imbalance(data, counts={"politician": 1, 1: 2})
    assert class_counts(out) == [10, 2, 1]  # class 0 not named: keeps all
    assert out.imbalance["counts_requested"] == [10, 2, 1]
    with pytest.raises(ValueError, match=r"unknown class 'senator'; expected a class name"):
        make_imbalance(data, counts={"senator": 1})
    with pytest.raises(ValueError, match=r"gives class 'company' \(1\) twice"):
        make_imbalance(data, counts={"company": 1, 1: 2})


def test_counts_accept_tensor_and_zero():
    data = make_graph([10, 6])
    out = make_imbalance(data, counts=torch.tensor([10, 0]))
    assert class_counts(out) == [10, 0]
    assert out["paper"].num_nodes == 10


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"counts": [5, 7, 1]},
            ValueError,
            r"class 'company' \(1\): requested 7 labelled nodes but only 6 are available",
        ),
        (
            {"counts": [5, 3]},
            ValueError,
            r"parameter 'counts' must have one entry per class \(3\), got 2",
        ),
        (
            {"counts": [5, -1, 1]},
            ValueError,
            r"parameter 'counts' must be >= 0, got -1 for class 'company' \(1\)",
        ),
        ({"counts": [5, 1.5, 1]}, TypeError, r"parameter 'counts' must hold ints, got 1.5"),
        ({"counts": "5,3,1"}, TypeError, r"parameter 'counts' must be a sequence"),
        ({"ratio": 1.0}, ValueError, r"parameter 'ratio' must be a finite number > 1, got 1.0"),
        ({"ratio": 0.5}, ValueError, r"parameter 'ratio' must be a finite number > 1, got 0.5"),
        (
            {"ratio": 10, "mode": "hide"},
            ValueError,
            r"parameter 'mode' must be one of 'drop', 'mask', got 'hide'",
        ),
        (
            {"ratio": 10, "profile": "linear"},
            UnknownComponentError,
            r"'linear' for 'profile'; expected one of: step, longtail",
        ),
        (
            {"ratio": 10, "counts": [1, 1, 1]},
            ValueError,
            r"exactly one of parameters 'counts' and 'ratio', got both",
        ),
        ({}, ValueError, r"exactly one of parameters 'counts' and 'ratio', got neither"),
    ],
)
def test_errors(kwargs, error, message):
    data = make_graph([10, 6, 4], names=["tvshow", "company", "politician"])
    with pytest.raises(error, match=message):
        make_imbalance(data, **kwargs)


def test_mask_error_counts_training_nodes():
    data = stratified_split(make_graph([20, 10]), 0.5, 0.25, 0.25, seed=0)
    with pytest.raises(
        ValueError, match=r"class 'c1' \(1\): requested 6 training nodes \(train_mask\) but only 5"
    ):
        make_imbalance(data, counts=[10, 6], mode="mask")


# --------------------------------------------------------------------- parser
@pytest.mark.parametrize(
    "spec, expected",
    [
        ("none", None),
        ("None", None),
        ("counts:3327,1410,460,256", {"counts": [3327, 1410, 460, 256]}),
        ("counts: 5, 0", {"counts": [5, 0]}),
        ("step:10", {"ratio": 10.0, "profile": "step"}),
        ("longtail:100", {"ratio": 100.0, "profile": "longtail"}),
        ("longtail:2.5", {"ratio": 2.5, "profile": "longtail"}),
    ],
)
def test_parse_imbalance(spec, expected):
    assert parse_imbalance(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "step",
        "step:",
        "step:abc",
        "step:1",
        "step:0.5",
        "longtail:inf",
        "counts:1,-2",
        "counts:1,,2",
        "counts:1.5",
        "zipf:10",
        "10",
    ],
)
def test_parse_imbalance_malformed(spec):
    with pytest.raises(
        ValueError,
        match=r"parameter '--imbalance' must be one of 'none', 'counts:N0,N1,...'.*'step:RATIO', 'longtail:RATIO'.*got "
        + repr(spec).replace("(", r"\("),
    ):
        parse_imbalance(spec)


def test_parsed_spec_feeds_make_imbalance(toy_graph):
    out = make_imbalance(toy_graph, **parse_imbalance("counts:100,50,20,10"), mode="drop")
    assert class_counts(out) == [100, 50, 20, 10]


def test_a_ratio_that_changes_nothing_says_so():
    import warnings

    from hetero_imb.data.datasets.synthetic import make_synthetic
    from hetero_imb.data.validate import GraphWarning

    data = make_synthetic(seed=0)  # counts 182, 74, 26, 18: already steeper than step:5
    with pytest.warns(GraphWarning, match=r"imbalance step:5 changed no class count \(\[182, 74, 26, 18\] labelled"):
        out = make_imbalance(data, ratio=5, profile="step")
    assert out.imbalance["counts_after"] == out.imbalance["counts_before"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", GraphWarning)
        make_imbalance(data, ratio=10, profile="step")  # reduces class 2: no warning
