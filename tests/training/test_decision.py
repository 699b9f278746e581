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


@pytest.mark.parametrize("spec", ["recall:b", "f1", "recall::0.5", "min-recall:b",
                                  "min-recall::0.5", "min-recall:b:abc"])
def test_bad_specs_name_the_accepted_forms(spec):
    with pytest.raises(ValueError, match="tune_decision must be .*recall:CLASS:PRECISION_FLOOR"
                                         ".* or 'min-recall:CLASS:RECALL'"):
        parse_decision(spec)


@pytest.mark.parametrize(("spec", "message"), [
    ("recall:b:1.5", r"PRECISION_FLOOR must be in \[0, 1\], got 1.5"),
    ("min-recall:b:1", r"RECALL must be in \(0, 1\), both ends excluded, got 1"),
    ("min-recall:b:0", r"RECALL must be in \(0, 1\), both ends excluded, got 0"),
])
def test_out_of_range_numbers_name_the_range(spec, message):
    with pytest.raises(ValueError, match=f"tune_decision '{spec}': {message}"):
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


# min-recall on SCORES / Y: class b's validation nodes are 3 (d = -1) and 4 (d = 1), so the
# offsets that turn them to b are m = -d = 1 and -1 (sorted: -1, 1), n = 2.
#   R = 0.3: j = ceil(0.3 * 3) = 1 -> just past -1 (node 4 only; a negative offset)
#   R = 0.5: j = ceil(0.5 * 3) = 2 -> just past 1 (both)
#   R = 0.8: j = ceil(2.4) = 3 > n -> both, and not reached
@pytest.mark.parametrize(("recall", "offset", "reached", "pred"), [
    (0.3, -1.0, True, [0, 0, 0, 0, 1]),
    (0.5, 1.0, True, [0, 0, 1, 1, 1]),
    (0.8, 1.0, False, [0, 0, 1, 1, 1]),
])
def test_min_recall_is_the_hand_computed_conformal_quantile(recall, offset, reached, pred):
    out = tune_offsets(SCORES, Y, f"min-recall:b:{recall}", ["a", "b"])
    assert out["spec"] == f"min-recall:b:{recall}"
    assert out["reached"] is reached
    assert out["offsets"][0] == 0.0 and out["offsets"][1] == pytest.approx(offset, abs=1e-6)
    assert out["offsets"][1] > offset  # just past the switch: the node turns
    assert apply_offsets(SCORES, np.array(out["offsets"])).tolist() == pred


def test_min_recall_three_classes_moves_only_its_class():
    # class 2's validation nodes need offsets max(s0, s1) - s2 = 0.5, 2.0, 3.0, -1.0 (n = 4);
    # R = 0.6: j = ceil(0.6 * 5) = 3 -> the third smallest, 2.0
    scores = np.array([[0.0, 0.5, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0],
                       [1.0, 0.0, -5.0]])
    y = np.array([2, 2, 2, 2, 0])
    out = tune_offsets(scores, y, "min-recall:c:0.6", ["a", "b", "c"])
    assert out["offsets"][:2] == [0.0, 0.0] and out["offsets"][2] == pytest.approx(2.0, abs=1e-6)
    assert apply_offsets(scores, np.array(out["offsets"])).tolist() == [2, 2, 1, 2, 0]


def test_min_recall_expected_recall_on_new_nodes():
    # the guarantee: for exchangeable validation and test nodes the mean test recall is >= R
    rng = np.random.default_rng(0)
    recalls = []
    for _ in range(400):
        d = rng.normal(size=40)  # class-1 margins d = s1 - s0, validation then test
        scores = np.stack([np.zeros(40), d], axis=1)
        out = tune_offsets(scores[:20], np.ones(20, dtype=int), "min-recall:b:0.8", ["a", "b"])
        recalls.append(np.mean(apply_offsets(scores[20:], np.array(out["offsets"])) == 1))
    assert np.mean(recalls) >= 0.8


def test_min_recall_needs_validation_nodes_of_the_class():
    with pytest.raises(ValueError, match="needs validation nodes of class 'b'"):
        tune_offsets(SCORES, np.zeros(5, dtype=int), "min-recall:b:0.8", ["a", "b"])


@pytest.mark.parametrize("spec", ["macro-f1", "balanced-accuracy"])
def test_saved_decisions_are_the_tuned_ones_on_float32_probabilities(spec):
    # a run keeps float32 probabilities; offsets sit 1e-9 past a validation node's switch
    # point, and predictions.csv / predict (report.checkpoint._decide) used to apply them
    # in float32, where that node stayed on its old class: 1 of 120 validation labels,
    # and a validation balanced accuracy 5-12 points below results.json's
    import torch

    from hetero_imb.report.checkpoint import _decide

    rng = np.random.default_rng(0)
    differ = 0
    for trial in range(20):
        n, k = 200, 4
        y = rng.integers(0, k, n)
        logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] * rng.random((n, 1))
        proba = torch.softmax(torch.as_tensor(logits, dtype=torch.float32), dim=1)
        val = np.zeros(n, dtype=bool)
        val[: n // 2] = True
        record = tune_run(spec, proba, y, {"val": val, "test": ~val}, list("abcd"))
        saved = _decide(proba, record["offsets"]).numpy()
        for split, mask in (("val", val), ("test", ~val)):
            tuned = record["metrics"][split]
            recall = [np.mean(saved[mask & (y == c)] == c) for c in range(k)]
            assert np.mean(recall) == pytest.approx(tuned["balanced_accuracy"], abs=1e-12), trial
        float32 = (proba.log() + torch.tensor(record["offsets"], dtype=torch.float32)).argmax(1)
        differ += int((float32.numpy() != saved).any())
    assert differ > 0  # the float32 rule would have failed this test
