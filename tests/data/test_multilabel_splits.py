"""Iterative stratification for multi-label targets (stratified_split, k-fold, official)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hetero_imb.data.graph import SPLITS, class_counts, labelled_mask
from hetero_imb.data.multilabel_splits import iterative_folds
from hetero_imb.data.splits import official_split, stratified_kfold, stratified_split


def _masks(data):
    return [data["item"][f"{s}_mask"] for s in SPLITS]


def test_split_keeps_per_label_proportions_disjoint_and_seeded(multilabel):
    data = stratified_split(multilabel, 0.6, 0.2, 0.2, seed=3)
    assert data.split == {"kind": "stratified", "train": 0.6, "val": 0.2, "test": 0.2, "seed": 3,
                          "method": "iterative"}  # fmt: skip
    train, val, test = _masks(data)
    assert not (train & val).any() and not (train & test).any() and not (val & test).any()
    assert torch.equal(train | val | test, labelled_mask(multilabel["item"].y))  # all 280, no more
    total = torch.tensor(class_counts(multilabel), dtype=torch.float)
    for mask, share in zip((train, val, test), (0.6, 0.2, 0.2), strict=True):
        got = torch.tensor(class_counts(data, mask), dtype=torch.float)
        assert torch.all((got / total - share).abs() <= 0.05), (got, total)  # per label
        assert abs(int(mask.sum()) / 280 - share) <= 0.02  # and in size
    again = stratified_split(multilabel, 0.6, 0.2, 0.2, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(_masks(data), _masks(again), strict=True))
    other = stratified_split(multilabel, 0.6, 0.2, 0.2, seed=4)
    assert not torch.equal(_masks(other)[0], train)
    assert "train_mask" not in multilabel["item"]  # input untouched


def test_iterative_split_beats_random_on_rare_labels():
    """The package's algorithm, not a plain shuffle: the rare label's share is exact."""
    rng = np.random.default_rng(0)
    y = (rng.random((1000, 3)) < [0.5, 0.2, 0.03]).astype(int)
    folds = iterative_folds(y, [0.6, 0.2, 0.2], seed=0)
    rare = [int(y[folds == s, 2].sum()) for s in range(3)]
    n = int(y[:, 2].sum())
    assert [abs(r - f * n) < 1 for r, f in zip(rare, (0.6, 0.2, 0.2), strict=True)] == [True] * 3


def test_fractions_below_one_leave_nodes_out(multilabel):
    data = stratified_split(multilabel, 0.4, 0.0, 0.2, seed=0)
    train, val, test = _masks(data)
    assert not val.any() and abs(int(train.sum()) - 112) <= 3 and abs(int(test.sum()) - 56) <= 3


def test_a_label_too_rare_for_every_split_is_refused(multilabel):
    y = multilabel["item"].y.clone()
    y[20:, 3] = 0.0
    y[[40, 41], 3] = 1.0  # label d: 2 positives for 3 splits
    multilabel["item"].y = y
    with pytest.raises(ValueError, match=r"^label 'd' \(3\) has 2 positive labelled nodes, split "
                                         r"\d/\d/\d by iterative stratification"):  # fmt: skip
        stratified_split(multilabel, seed=0)


def test_kfold_multilabel_every_labelled_node_tested_once(multilabel):
    folds = stratified_kfold(multilabel, k=4, val=0.25, seed=1)
    tested = torch.zeros(300, dtype=torch.long)
    for i, data in enumerate(folds):
        train, val, test = _masks(data)
        assert data.split["fold"] == i
        assert not (train & val).any() and not ((train | val) & test).any()
        tested += test.long()
        counts = class_counts(data, test)
        assert all(c >= 1 for c in counts)
    assert torch.equal(tested.bool(), labelled_mask(multilabel["item"].y))
    assert int(tested.max()) == 1


def test_official_split_carves_val_from_official_train(multilabel):
    store = multilabel["item"]
    store.official_train_mask = torch.arange(300) < 200
    store.official_test_mask = torch.arange(300) >= 200
    data = official_split(multilabel, val=0.25, seed=0)
    train, val, test = _masks(data)
    assert torch.equal(test, store.official_test_mask)
    assert torch.equal(train | val, store.official_train_mask & labelled_mask(store.y))
    assert abs(int(val.sum()) - 45) <= 2  # a quarter of the 180 labelled official training nodes
