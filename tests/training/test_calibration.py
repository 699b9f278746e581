"""Validation nodes held out of model selection for the min-recall decision."""

import numpy as np
import pytest
import torch

import hetero_imb as hi
from hetero_imb.data.datasets.synthetic import make_synthetic
from hetero_imb.data.graph import labels, target_type
from hetero_imb.data.splits import stratified_split
from hetero_imb.training.calibration import hold_out_for_decision, stratified_half
from hetero_imb.training.decision import tune_offsets


def test_stratified_half_takes_floor_half_of_each_class_and_is_seeded():
    y = torch.tensor([0] * 9 + [1] * 4 + [2] * 1 + [1] * 3)
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[0] = False  # 8 of class 0 in the mask
    half = stratified_half(y, mask, seed=3)
    assert [int((half & (y == c)).sum()) for c in range(3)] == [4, 3, 0]
    assert not half[0] and torch.equal(half, stratified_half(y, mask, seed=3))
    assert not torch.equal(half, stratified_half(y, mask, seed=4))


def test_hold_out_splits_validation_only_for_min_recall():
    data = stratified_split(make_synthetic(seed=0, num_items=400), seed=0)
    t = target_type(data)
    val = data[t].val_mask.clone()
    same, none = hold_out_for_decision("macro-f1", data, seed=0)
    assert same is data and none is None
    fit_data, held = hold_out_for_decision("min-recall:class_3:0.8", data, seed=0)
    assert torch.equal(data[t].val_mask, val)  # the caller's graph keeps its masks
    assert not (fit_data[t].val_mask & held).any()
    assert torch.equal(fit_data[t].val_mask | held, val)
    assert torch.equal(fit_data[t].train_mask, data[t].train_mask)
    y = labels(data)
    for c in range(4):
        assert int((held & (y == c)).sum()) == int((val & (y == c)).sum()) // 2


def test_run_places_the_min_recall_offset_on_the_held_out_half():
    data = make_synthetic(seed=1, num_items=400)
    config = hi.RunConfig(dataset="custom", model="mlp", epochs=5, seed=2,
                          tune_decision="min-recall:class_3:0.8", model_params={"hidden": 8})
    result = hi.run(config, data=data, progress=False)
    y = result.y
    held = stratified_half(y, result.masks["val"], seed=2)
    log_p = np.log(np.clip(result.proba.numpy().astype(np.float64), 1e-12, None))
    expected = tune_offsets(log_p[held.numpy()], y.numpy()[held.numpy()], "min-recall:class_3:0.8",
                            result.class_names)
    assert result.decision["offsets"] == pytest.approx(expected["offsets"])
    # the reported validation metrics are still those of every validation node
    assert result.metrics["val"]["confusion_matrix"] is not None
    assert sum(map(sum, result.metrics["val"]["confusion_matrix"])) == int(result.masks["val"].sum())
