"""Decision tuning: offsets chosen on validation scores, checked against hand-computed
optima."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from hetero_imb.training.decision import apply_offsets, parse_decision, tune_offsets, tune_run

# two classes; node i is predicted class 1 iff d_i + b > 0 with d = s1 - s0.
#   b <= 0.5   -> [0,0,0,0,1]: macro-F1 (6/7 + 2/3) / 2 = 0.762
#   0.5 < b <= 1 -> [0,0,1,0,1]: 0.583
#   1 < b <= 2 -> [0,0,1,1,1]: (0.8 + 0.8) / 2 = 0.8   <- the optimum
#   b > 2      -> [0,1,1,1,1]: 0.583
D = np.array([-3.0, -2.0, -0.5, -1.0, 1.0])
SCORES = np.stack([np.zeros_like(D), D], axis=1)
Y = np.array([0, 0, 0, 1, 1])


def test_macro_f1_offsets_match_the_hand_computed_optimum():
    out = tune_offsets(SCORES, Y, "macro-f1", ["a", "b"])
    b = out["offsets"][1] - out["offsets"][0]
    assert 1.0 < b <= 2.0
    pred = apply_offsets(SCORES, np.array(out["offsets"]))
    assert pred.tolist() == [0, 0, 1, 1, 1]
    assert f1_score(Y, pred, average="macro") == pytest.approx(0.8)


# 95 negatives (70 at d = -3, 25 at d = -1) and 5 positives (3 at d = -0.5, 2 at d = -2):
#   0.5 < b <= 1: recalls (1, 3/5): balanced accuracy 0.8, macro-F1 0.870 <- macro-F1's optimum
#   2 < b <= 3:   recalls (70/95, 1): balanced accuracy 0.868 <- balanced accuracy's optimum
D2 = np.array([-3.0] * 70 + [-1.0] * 25 + [-0.5] * 3 + [-2.0] * 2)
SCORES2 = np.stack([np.zeros_like(D2), D2], axis=1)
Y2 = np.array([0] * 95 + [1] * 5)


@pytest.mark.parametrize(("objective", "low", "high", "recalls"), [
    ("macro-f1", 0.5, 1.0, (1.0, 0.6)),
    ("balanced-accuracy", 2.0, 3.0, (70 / 95, 1.0)),
])
def test_balanced_accuracy_and_macro_f1_pick_their_hand_computed_optima(objective, low, high, recalls):
    out = tune_offsets(SCORES2, Y2, objective, ["a", "b"])
    assert out["spec"] == objective
    assert low < out["offsets"][1] - out["offsets"][0] <= high
    pred = apply_offsets(SCORES2, np.array(out["offsets"]))
    assert [np.mean(pred[Y2 == c] == c) for c in (0, 1)] == pytest.approx(list(recalls))


def test_recall_at_precision_floor():
    # floor 0.6: b in (1, 2] gives precision 2/3 and recall 1 (the best reachable)
    out = tune_offsets(SCORES, Y, "recall:b:0.6", ["a", "b"])
    assert out["reached"] and 1.0 < out["offsets"][1] <= 2.0
    # floor 0.9: only b <= 0.5 keeps precision 1; recall stays 1/2 with offset 0
    out = tune_offsets(SCORES, Y, "recall:b:0.9", ["a", "b"])
    assert out["reached"] and out["offsets"] == [0.0, 0.0]


def test_unreachable_floor_keeps_zero_offsets():
    scores = np.stack([np.zeros(4), np.array([-1.0, -2.0, 0.5, -0.2])], axis=1)
    y = np.array([1, 1, 0, 0])  # class 1's best-ranked nodes are all class 0
    out = tune_offsets(scores, y, "recall:b:0.99", ["a", "b"])
    assert not out["reached"] and out["offsets"] == [0.0, 0.0]


@pytest.mark.parametrize("spec", ["recall:b", "recall:b:1.5", "f1", "recall::0.5"])
def test_bad_specs_name_the_accepted_forms(spec):
    with pytest.raises(ValueError, match="tune_decision must be"):
        parse_decision(spec)


def test_unknown_class_is_named():
    with pytest.raises(ValueError, match="names class 'zzz'"):
        tune_offsets(SCORES, Y, "recall:zzz:0.5", ["a", "b"])


def test_tune_run_reports_tuned_metrics_beside_untuned():
    proba = np.exp(SCORES) / np.exp(SCORES).sum(1, keepdims=True)
    masks = {s: np.ones(5, dtype=bool) for s in ("train", "val", "test")}
    out = tune_run("macro-f1", proba, Y, masks, ["a", "b"])
    assert out["metrics"]["test"]["macro_f1"] == pytest.approx(0.8)
    assert tune_run("none", proba, Y, masks, ["a", "b"]) is None
