import json
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
)

from hetero_imb.report.metrics import compute_metrics, format_report, pr_curves

NAMES = ["a", "b", "c"]
# Predictions (argmax): 0, 0, 1, 1, 0, 2 against truth 0, 0, 0, 1, 1, 2.
Y = np.array([0, 0, 0, 1, 1, 2])
P = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.6, 0.3, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.8, 0.1],
        [0.5, 0.2, 0.3],
        [0.1, 0.2, 0.7],
    ]
)
PRED = P.argmax(1)


def test_headline_metrics_match_sklearn_and_hand_values():
    m = compute_metrics(Y, P, NAMES)
    assert m["num_nodes"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["accuracy"] == pytest.approx(accuracy_score(Y, PRED))
    # recalls 2/3, 1/2, 1
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(Y, PRED))
    for average in ("macro", "micro", "weighted"):
        assert m[f"{average}_f1"] == pytest.approx(f1_score(Y, PRED, average=average))
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert m["g_mean"] == pytest.approx((2 / 3 * 1 / 2 * 1) ** (1 / 3))
    assert m["auroc_macro"] == pytest.approx(
        roc_auc_score(Y, P, multi_class="ovr", average="macro")
    )
    ap = [average_precision_score(Y == k, P[:, k]) for k in range(3)]
    assert m["auprc_macro"] == pytest.approx(np.mean(ap))


def test_per_class_and_confusion_matrix():
    m = compute_metrics(Y, P, NAMES)
    assert m["per_class"]["a"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3}
    )
    assert m["per_class"]["b"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert m["per_class"]["c"] == pytest.approx(
        {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    )
    assert m["confusion_matrix"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert isinstance(m["per_class"]["a"]["support"], int)


def test_accepts_tensors():
    m = compute_metrics(torch.tensor(Y), torch.tensor(P, dtype=torch.float32), NAMES)
    assert m["accuracy"] == pytest.approx(4 / 6)


def test_g_mean_is_zero_when_a_present_class_has_zero_recall():
    proba = P.copy()
    proba[5] = [0.1, 0.7, 0.2]  # the only node of class c is now wrong
    m = compute_metrics(Y, proba, NAMES)
    assert m["per_class"]["c"]["recall"] == 0.0
    assert m["g_mean"] == 0.0


def test_absent_class_keeps_indices_and_is_left_out_of_present_averages():
    names = NAMES + ["d"]
    proba = np.hstack([P, np.zeros((6, 1))])
    m = compute_metrics(Y, proba, names)
    assert m["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["per_class"]["c"]["support"] == 1
    assert len(m["confusion_matrix"]) == 4 and all(len(r) == 4 for r in m["confusion_matrix"])
    assert m["confusion_matrix"][3] == [0, 0, 0, 0]
    # present-class averages are unchanged by the absent class ...
    assert m["g_mean"] == pytest.approx((1 / 3) ** (1 / 3))
    assert m["balanced_accuracy"] == pytest.approx(13 / 18)
    three = compute_metrics(Y, P, NAMES)
    assert m["auroc_macro"] == pytest.approx(three["auroc_macro"])
    assert m["auprc_macro"] == pytest.approx(three["auprc_macro"])
    # ... while macro F1 averages over all 4 classes (absent class F1 = 0)
    assert m["macro_f1"] == pytest.approx(13 / 18 * 3 / 4)
    assert m["macro_f1"] == pytest.approx(
        f1_score(Y, proba.argmax(1), labels=range(4), average="macro", zero_division=0)
    )


def test_single_class_truth_gives_none_auroc_and_valid_json():
    y = np.array([1, 1, 1])
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    m = compute_metrics(y, proba, ["x", "y"])
    assert m["auroc_macro"] is None
    assert m["g_mean"] == pytest.approx(2 / 3)
    assert m["auprc_macro"] == pytest.approx(1.0)
    text = json.dumps(m, allow_nan=False)
    assert json.loads(text) == m


def test_output_is_plain_json():
    m = compute_metrics(Y, P, NAMES)
    text = json.dumps(m, allow_nan=False)
    assert "NaN" not in text
    for key in ("accuracy", "macro_f1", "g_mean", "auroc_macro"):
        assert type(m[key]) is float
    assert type(m["num_nodes"]) is int


@pytest.mark.parametrize(
    ("y", "proba", "names", "match"),
    [
        (Y.reshape(2, 3), P, NAMES, r"y_true must be 1-D"),
        (Y, P[:, 0], NAMES, r"proba must be 2-D"),
        (Y[:5], P, NAMES, r"proba has 6 rows but y_true has 5"),
        (Y, P, ["a", "b"], r"proba has 3 columns but 2 class_names"),
        (np.array([0, 0, 0, 1, 5, 2]), P, NAMES, r"label 5 .*out of range \[0, 2\]"),
        (np.array([0, 0, 0, 1, -1, 2]), P, NAMES, r"label -1 .*unlabelled"),
        (Y.astype(float), P, NAMES, r"integer class indices"),
        (Y, P * 3, NAMES, r"sums to 3 .*softmax"),
        (Y, P, ["a", "a", "c"], r"duplicates"),
        (Y[:0], P[:0], NAMES, r"empty"),
    ],
)
def test_validation_errors(y, proba, names, match):
    with pytest.raises(ValueError, match=match):
        compute_metrics(y, proba, names)


def test_pr_curves_match_sklearn_and_skip_absent_classes():
    names = NAMES + ["d"]
    proba = np.hstack([P, np.zeros((6, 1))])
    curves = pr_curves(Y, proba, names)
    assert list(curves) == names
    precision, recall, _ = precision_recall_curve(Y == 1, P[:, 1])
    assert curves["b"]["precision"] == pytest.approx(precision.tolist())
    assert curves["b"]["recall"] == pytest.approx(recall.tolist())
    assert curves["b"]["average_precision"] == pytest.approx(
        average_precision_score(Y == 1, P[:, 1])
    )
    assert curves["b"]["support"] == 2
    assert curves["d"] == {"precision": [], "recall": [], "average_precision": None, "support": 0}
    json.dumps(curves, allow_nan=False)


def test_format_report_lists_headline_and_classes():
    m = compute_metrics(Y, P, NAMES)
    m["auroc_macro"] = None
    text = format_report(m, NAMES)
    lines = text.splitlines()
    assert lines[0].split() == ["nodes", "6"]
    assert any(line.startswith("accuracy") and line.endswith("0.6667") for line in lines)
    assert any(line.startswith("AUROC") and line.endswith("n/a") for line in lines)
    row_b = next(line for line in lines if line.startswith("b "))
    assert row_b.split() == ["b", "0.5000", "0.5000", "0.5000", "2"]
    with pytest.raises(ValueError, match="no per-class entry for \\['z'\\]"):
        format_report(m, ["a", "z"])


def test_g_mean_matches_log_space_definition_on_random_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=200)
    logits = rng.normal(size=(200, 4)) + 2.0 * np.eye(4)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    m = compute_metrics(y, proba, list("wxyz"))
    recalls = [m["per_class"][n]["recall"] for n in "wxyz"]
    assert m["g_mean"] == pytest.approx(math.prod(recalls) ** 0.25)
