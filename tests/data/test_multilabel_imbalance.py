"""Induced imbalance per label on multi-label graphs (make_imbalance, both modes)."""

from __future__ import annotations

import pytest
import torch

from hetero_imb.data.graph import class_counts, labelled_mask
from hetero_imb.data.imbalance import make_imbalance, step_profile
from hetero_imb.data.multilabel_imbalance import keep_multilabel
from hetero_imb.data.splits import stratified_split


def test_mask_mode_caps_minority_label_positives_in_training(multilabel):
    data = stratified_split(multilabel, seed=0)
    train = data["item"].train_mask
    before = class_counts(data, train)
    out = make_imbalance(data, ratio=10, profile="step", mode="mask", seed=0)
    info = out.imbalance
    assert info["counts_before"] == before
    requested = step_profile(before, 10)
    assert info["counts_requested"] == requested
    after = class_counts(out, out["item"].train_mask)
    assert info["counts_after"] == after
    for c in (2, 3):  # the two rarest labels, capped at ceil(n_max / 10)
        assert requested[c] < before[c] and after[c] == requested[c]
    assert after[0] <= before[0] and after[1] <= before[1]  # co-occurring positives may go
    new_train = out["item"].train_mask
    assert not (new_train & ~train).any()  # only removed from training
    removed = train & ~new_train
    y = data["item"].y
    assert bool(((y[removed][:, 2] == 1) | (y[removed][:, 3] == 1)).all())  # each carried one
    assert torch.equal(out["item"].val_mask, data["item"].val_mask)
    assert torch.equal(out["item"].test_mask, data["item"].test_mask)


def test_drop_mode_removes_nodes_and_counts_follow(multilabel):
    out = make_imbalance(multilabel, counts={"d": 3, "c": 10}, mode="drop", seed=1)
    after = class_counts(out)
    assert after[2] == 10 and after[3] == 3 and out.imbalance["counts_after"] == after
    removed = multilabel["item"].num_nodes - out["item"].num_nodes
    assert removed > 0
    assert int((~labelled_mask(out["item"].y)).sum()) == 20  # unlabelled nodes all stay
    assert out["item"].x.size(0) == out["item"].num_nodes


def test_rule_rarest_cap_first_and_protected_nodes():
    # node 0 carries both capped labels; label 1 (cap 1) is visited first
    y = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0],
                      [1.0, 0.0, 0.0]])  # fmt: skip
    pool = torch.ones(5, dtype=torch.bool)
    for seed in range(5):
        kept = keep_multilabel(pool, y, [2, 1, 5], seed)
        counts = (y[kept] == 1).sum(dim=0).tolist()
        assert counts[1] == 1 and counts[0] <= 2
        assert kept.tolist() == sorted(kept.tolist())
    same = [keep_multilabel(pool, y, [2, 1, 5], 7).tolist() for _ in range(2)]
    assert same[0] == same[1]


def test_requesting_more_than_available_is_an_error(multilabel):
    have = class_counts(multilabel)
    with pytest.raises(ValueError, match=rf"class 'd' \(3\): requested {have[3] + 1} positive labelled"):
        make_imbalance(multilabel, counts={"d": have[3] + 1}, mode="drop")
