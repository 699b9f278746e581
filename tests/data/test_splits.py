"""Stratified splits: sizes per class, disjointness, determinism, k-fold, official split."""

from __future__ import annotations

import json

import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.data.graph import class_counts_by_split
from hetero_imb.data.splits import official_split, stratified_kfold, stratified_split


def make_graph(counts, unlabelled=0, names=None, seed=0) -> HeteroData:
    """``paper`` target nodes with ``counts[c]`` nodes of class c (shuffled), then
    ``unlabelled`` nodes with y=-1; a few ``author`` nodes and both edge directions."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    y = y[torch.randperm(len(y), generator=gen)]
    y = torch.cat([y, torch.full((unlabelled,), -1)]).long()
    n = len(y)
    data = HeteroData()
    data["paper"].y = y
    data["paper"].x = torch.arange(n, dtype=torch.float).unsqueeze(1)
    data["author"].num_nodes = 5
    ei = torch.stack([torch.arange(n), torch.arange(n) % 5])
    data["paper", "written_by", "author"].edge_index = ei
    data["author", "rev_written_by", "paper"].edge_index = ei.flip(0)
    data.target_node_type = "paper"
    data.class_names = names or [f"c{c}" for c in range(len(counts))]
    data.metapaths = [[("paper", "written_by", "author"), ("author", "rev_written_by", "paper")]]
    return data


def masks_of(data):
    store = data[data.target_node_type]
    return store.train_mask, store.val_mask, store.test_mask


def assert_partition(data, labelled_only=True):
    train, val, test = masks_of(data)
    assert train.dtype == val.dtype == test.dtype == torch.bool
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()
    y = data[data.target_node_type].y
    assert not ((train | val | test) & (y < 0)).any()  # unlabelled nodes are in no split


def assert_within_one(data, fractions):
    y = data[data.target_node_type].y
    n = torch.bincount(y[y >= 0], minlength=len(data.class_names)).tolist()
    for split, frac in zip(("train", "val", "test"), fractions, strict=True):
        counts = class_counts_by_split(data)[split]
        for c in range(len(n)):
            assert abs(counts[c] - frac * n[c]) <= 1, (split, c, counts[c], frac * n[c])


# ------------------------------------------------------------ stratified_split
def test_toy_counts_by_hand(toy_graph):
    # classes 182/74/26/18; quotas 0.6n/0.2n/0.2n, floors, leftovers to the largest
    # fractional parts (ties: train, val, test):
    # 182: 109.2/36.4/36.4 -> 109/36/36 + 1 -> val       => 109/37/36
    #  74:  44.4/14.8/14.8 ->  44/14/14 + 2 -> val, test  =>  44/15/15
    #  26:  15.6/ 5.2/ 5.2 ->  15/ 5/ 5 + 1 -> train      =>  16/ 5/ 5
    #  18:  10.8/ 3.6/ 3.6 ->  10/ 3/ 3 + 2 -> train, val =>  11/ 4/ 3
    out = stratified_split(toy_graph, 0.6, 0.2, 0.2, seed=0)
    assert class_counts_by_split(out) == {
        "train": [109, 44, 16, 11],
        "val": [37, 15, 5, 4],
        "test": [36, 15, 5, 3],
    }
    assert_partition(out)
    train, val, test = masks_of(out)
    assert bool((train | val | test).all())  # fractions sum to 1: every node placed
    assert out.split == {"kind": "stratified", "train": 0.6, "val": 0.2, "test": 0.2, "seed": 0}
    json.dumps(out.split)


def test_input_untouched(toy_graph, toy_split):
    out = stratified_split(toy_graph, seed=1)
    assert "train_mask" not in toy_graph["item"]
    assert not hasattr(toy_graph, "split") or toy_graph.split is None
    before = [m.clone() for m in masks_of(toy_split)]
    y_before = toy_split["item"].y.clone()
    out = stratified_split(toy_split, 0.5, 0.25, 0.25, seed=3)
    for old, new in zip(before, masks_of(toy_split), strict=True):
        assert torch.equal(old, new)
    assert torch.equal(toy_split["item"].y, y_before)
    assert not torch.equal(masks_of(out)[0], before[0])
    out.class_names.append("extra")  # graph records are private copies
    assert len(toy_split.class_names) == 4


def test_same_seed_same_masks_other_seed_other_masks(toy_graph):
    a = stratified_split(toy_graph, seed=7)
    b = stratified_split(toy_graph, seed=7)
    c = stratified_split(toy_graph, seed=8)
    for ma, mb in zip(masks_of(a), masks_of(b), strict=True):
        assert torch.equal(ma, mb)
    assert not torch.equal(masks_of(a)[2], masks_of(c)[2])
    # the sizes depend on the fractions only, not on the seed
    assert class_counts_by_split(a) == class_counts_by_split(c)


@pytest.mark.parametrize(
    "fractions", [(0.6, 0.2, 0.2), (0.7, 0.1, 0.2), (0.5, 0.25, 0.25), (0.1, 0.1, 0.8)]
)
def test_within_one_node_for_many_class_sizes(fractions):
    # every class size from 10 to 59: every quota is >= 1, so each count must lie
    # within one node of fraction * n_c, and all nodes are placed
    counts = list(range(10, 60))
    out = stratified_split(make_graph(counts), *fractions, seed=0)
    assert_partition(out)
    assert_within_one(out, fractions)
    by = class_counts_by_split(out)
    assert [a + b + c for a, b, c in zip(by["train"], by["val"], by["test"], strict=True)] == counts


def test_tiny_class_gets_one_node_per_split():
    # 3 nodes at 60/20/20: quotas 1.8/0.6/0.6 -> the minimum-one rule gives 1/1/1
    out = stratified_split(make_graph([20, 3]), seed=0)
    by = class_counts_by_split(out)
    assert [by[s][1] for s in ("train", "val", "test")] == [1, 1, 1]
    assert [by[s][0] for s in ("train", "val", "test")] == [12, 4, 4]


def test_unlabelled_nodes_in_no_mask():
    data = make_graph([10, 10], unlabelled=7)
    out = stratified_split(data, seed=0)
    train, val, test = masks_of(out)
    assert train.numel() == 27
    assert not (train | val | test)[20:].any()  # the 7 unlabelled nodes
    assert int((train | val | test).sum()) == 20


def test_fractions_below_one_leave_nodes_out():
    # class of 10: quotas 5/0/3 (total round(8)=8) -> 5/0/3, 2 nodes left out
    # class of 6 : quotas 3/0/1.8 (total round(4.8)=5) -> 3/0/1 + 1 -> test => 3/0/2
    out = stratified_split(make_graph([10, 6]), train=0.5, val=0.0, test=0.3, seed=0)
    assert class_counts_by_split(out) == {"train": [5, 3], "val": [0, 0], "test": [3, 2]}
    assert not masks_of(out)[1].any()
    assert_partition(out)
    assert int(sum(m.sum() for m in masks_of(out))) == 13


def test_small_class_error_names_class_and_count():
    data = make_graph([10, 2], names=["company", "politician"])
    with pytest.raises(
        ValueError,
        match=r"class 'politician' \(1\) has 2 labelled nodes; a stratified split into "
        r"train/val/test needs at least 3",
    ):
        stratified_split(data)
    # without a validation set, 2 nodes are enough (one train, one test)
    out = stratified_split(data, 0.8, 0.0, 0.2)
    assert class_counts_by_split(out)["test"] == [2, 1]
    with pytest.raises(
        ValueError,
        match=r"class 'politician' \(1\) has 1 labelled node; .*train/test needs at least 2",
    ):
        stratified_split(make_graph([10, 1], names=["company", "politician"]), 0.8, 0.0, 0.2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"train": 0.0}, r"parameter 'train' must be in \(0, 1\], got 0.0"),
        ({"test": 0}, r"parameter 'test' must be in \(0, 1\], got 0.0"),
        ({"val": -0.1}, r"parameter 'val' must be in \[0, 1\), got -0.1"),
        ({"train": 0.7, "val": 0.2, "test": 0.2}, r"sum to at most 1, got 0.7 \+ 0.2 \+ 0.2 = 1.1"),
        ({"seed": -1}, r"parameter 'seed' must be >= 0, got -1"),
    ],
)
def test_invalid_parameters(toy_graph, kwargs, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(toy_graph, **kwargs)


def test_wrong_types(toy_graph):
    with pytest.raises(TypeError, match="parameter 'train' must be a number"):
        stratified_split(toy_graph, train="0.6")
    with pytest.raises(TypeError, match="parameter 'seed' must be an int"):
        stratified_split(toy_graph, seed=1.5)
    with pytest.raises(TypeError, match="parameter 'data' must be a HeteroData"):
        stratified_split({"y": 1})


# ------------------------------------------------------------ stratified_kfold
def test_kfold_covers_every_labelled_node_once_as_test():
    data = make_graph([23, 11, 7], unlabelled=4)
    folds = stratified_kfold(data, k=5, val=0.2, seed=0)
    assert isinstance(folds, list) and len(folds) == 5
    test_count = torch.zeros(45, dtype=torch.long)
    for i, fold in enumerate(folds):
        assert_partition(fold)
        train, val, test = masks_of(fold)
        test_count += test.long()
        # all labelled nodes are placed in every fold
        assert torch.equal(train | val | test, data["paper"].y >= 0)
        by = class_counts_by_split(fold)
        # StratifiedKFold: each class's test share is floor or ceil of n_c / k
        assert by["test"][0] in (4, 5) and by["test"][1] in (2, 3) and by["test"][2] in (1, 2)
        # val: 20% of the rest of each class, within one node, at least one
        rest = [n - t for n, t in zip([23, 11, 7], by["test"], strict=True)]
        for c in range(3):
            assert abs(by["val"][c] - 0.2 * rest[c]) <= 1 and by["val"][c] >= 1
        assert fold.split == {"kind": "kfold", "fold": i, "k": 5, "val": 0.2, "seed": 0}
    assert torch.equal(test_count[:41], torch.ones(41, dtype=torch.long))
    assert not test_count[41:].any()


def test_kfold_by_hand_sizes():
    # 10 nodes per class, k=5: 2 test nodes per class per fold; the remaining 8 split
    # 0.75/0.25 -> 6 train / 2 val
    folds = stratified_kfold(make_graph([10, 10]), k=5, val=0.25, seed=0)
    for fold in folds:
        assert class_counts_by_split(fold) == {"train": [6, 6], "val": [2, 2], "test": [2, 2]}


def test_kfold_deterministic_and_seed_dependent():
    data = make_graph([20, 15])
    a = stratified_kfold(data, k=3, seed=1)
    b = stratified_kfold(data, k=3, seed=1)
    c = stratified_kfold(data, k=3, seed=2)
    for fa, fb in zip(a, b, strict=True):
        for ma, mb in zip(masks_of(fa), masks_of(fb), strict=True):
            assert torch.equal(ma, mb)
    assert any(
        not torch.equal(masks_of(fa)[2], masks_of(fc)[2]) for fa, fc in zip(a, c, strict=True)
    )


def test_kfold_val_zero_and_input_untouched(toy_graph):
    folds = stratified_kfold(toy_graph, k=4, val=0.0)
    for fold in folds:
        train, val, test = masks_of(fold)
        assert not val.any()
        assert bool((train ^ test).all())
    assert "train_mask" not in toy_graph["item"]


def test_kfold_errors():
    data = make_graph([10, 4], names=["tvshow", "politician"])
    with pytest.raises(
        ValueError,
        match=r"class 'politician' \(1\) has 4 labelled nodes; a stratified 5-fold split needs at least 5",
    ):
        stratified_kfold(data, k=5)
    with pytest.raises(ValueError, match=r"parameter 'k' must be >= 2, got 1"):
        stratified_kfold(data, k=1)
    with pytest.raises(ValueError, match=r"parameter 'val' must be in \[0, 1\), got 1.0"):
        stratified_kfold(data, k=2, val=1.0)
    # k=2 with 2 nodes: one remains outside the test fold, too few for train + val
    with pytest.raises(
        ValueError,
        match=r"class 'politician' \(1\) has 2 labelled nodes, of which 1 lie outside test fold 0",
    ):
        stratified_kfold(make_graph([10, 2], names=["tvshow", "politician"]), k=2, val=0.2)


# -------------------------------------------------------------- official_split
def with_official(data, train_idx, test_idx):
    n = data["paper"].y.numel()
    train = torch.zeros(n, dtype=torch.bool)
    test = torch.zeros(n, dtype=torch.bool)
    train[train_idx] = True
    test[test_idx] = True
    data["paper"].official_train_mask = train
    data["paper"].official_test_mask = test
    return data


def test_official_split():
    data = make_graph([30, 20], unlabelled=5)
    # official train: nodes 0..29, official test: nodes 30..54 (the 5 unlabelled too)
    data = with_official(data, torch.arange(30), torch.arange(30, 55))
    out = official_split(data, val=0.2, seed=0)
    train, val, test = masks_of(out)
    assert_partition(out)
    expected_test = (torch.arange(55) >= 30) & (data["paper"].y >= 0)
    assert torch.equal(test, expected_test)
    assert torch.equal(train | val, torch.arange(55) < 30)
    y = data["paper"].y
    n_tr = torch.bincount(y[:30], minlength=2).tolist()
    by = class_counts_by_split(out)
    for c in range(2):
        assert abs(by["val"][c] - 0.2 * n_tr[c]) <= 1 and by["val"][c] >= 1
        assert by["train"][c] + by["val"][c] == n_tr[c]
    assert out.split == {"kind": "official", "val": 0.2, "seed": 0}
    assert "train_mask" not in data["paper"]
    again = official_split(data, val=0.2, seed=0)
    assert torch.equal(masks_of(again)[1], val)


def test_official_split_by_hand_val_sizes():
    # ids sorted by class: 10 of class 0, 5 of class 1, 8 of class 2. Official train:
    # the first 17 (10 / 5 / 2), official test: the other 6 of class 2. val=0.2:
    # 10 -> 8/2, 5 -> 4/1, 2 -> quotas 1.6/0.4, at least one val node -> 1/1
    data = make_graph([10, 5, 8])
    order = torch.argsort(data["paper"].y, stable=True)
    out = official_split(with_official(data, order[:17], order[17:]), val=0.2)
    assert class_counts_by_split(out) == {"train": [8, 4, 1], "val": [2, 1, 1], "test": [0, 0, 6]}
    # no official training node of class 2: an error names it
    with pytest.raises(
        ValueError,
        match=r"class 'c2' \(2\) has 0 labelled official training nodes; .* needs at least 2",
    ):
        official_split(with_official(data, order[:15], order[15:]), val=0.2)
    # without a validation set one node per class is enough
    out = official_split(with_official(data, order[:16], order[16:]), val=0.0)
    assert class_counts_by_split(out) == {"train": [10, 5, 1], "val": [0, 0, 0], "test": [0, 0, 7]}


def test_official_split_errors(toy_graph):
    with pytest.raises(
        ValueError, match=r"no official split.*official_train_mask, official_test_mask"
    ):
        official_split(toy_graph)
    data = with_official(make_graph([10, 10]), torch.arange(12), torch.arange(10, 20))
    with pytest.raises(ValueError, match="share 2 nodes"):
        official_split(data)
