"""Metrics, curves and the predictions table of multi-label runs (multi-hot labels).

A multi-label prediction is one probability per label (independent sigmoids); a label
is predicted when its probability reaches its threshold (0.5 unless tuned on
validation, see :mod:`hetero_imb.training.thresholds`). Computed with scikit-learn:

* per label: precision, recall, F1, AUPRC (average precision), AUROC, balanced
  accuracy ``(TPR + TNR) / 2``, G-mean ``sqrt(TPR * TNR)``, support (positives) and
  prevalence (positives / nodes);
* ``macro_f1`` (mean over all labels, a label with no positive and no prediction
  scoring 0 as in :mod:`hetero_imb.report.metrics`), ``micro_f1`` (pooled),
  ``samples_f1`` (mean F1 of each node's predicted label set), ``weighted_f1``;
* ``hamming_loss`` (share of wrong node-label entries), ``accuracy`` (subset
  accuracy: the whole label set right); ``balanced_accuracy``, ``g_mean``,
  ``auroc_macro`` and ``auprc_macro`` are the means of the per-label values over the
  labels with a positive (AUROC: and a negative).

The result carries ``task: "multilabel"`` and ``thresholds``, and the same headline
keys as single-label metrics, so summaries and reports read both alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    multilabel_confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)
from torch import Tensor

from .metrics import _clean

__all__ = [
    "SEPARATOR",
    "compute_multilabel_metrics",
    "multilabel_macro_f1",
    "multilabel_pr_curves",
    "multilabel_predictions_frame",
    "predict_labels",
]

#: Joins label names in the ``label`` and ``predicted`` columns of predictions tables.
SEPARATOR = "|"


def _numpy(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def _validate(y_true: Any, proba: Any, class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    y, p = _numpy(y_true), _numpy(proba).astype(np.float64)
    c = len(class_names)
    if y.ndim != 2 or y.shape[1] != c:
        raise ValueError(f"y_true must be multi-hot [N, C={c}], got shape {y.shape}")
    if p.shape != y.shape:
        raise ValueError(f"proba must have the shape of y_true {y.shape}, got {p.shape}")
    if y.shape[0] == 0:
        raise ValueError("y_true is empty; metrics need at least one node")
    if not np.isin(y, (0, 1)).all():
        hint = " (unlabelled rows, all -1, must be masked out)" if (y == -1).any() else ""
        raise ValueError(f"y_true entries must be 0 or 1{hint}")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("proba must hold probabilities in [0, 1] (apply sigmoid to logits first)")
    return y.astype(np.int64), p


def predict_labels(proba: Any, thresholds: Sequence[float] | None = None) -> np.ndarray:
    """Multi-hot predictions ``proba >= threshold`` (0.5 for every label by default).

    Example:
        >>> predict_labels([[0.7, 0.2], [0.4, 0.5]], [0.5, 0.3]).tolist()
        [[1, 0], [0, 1]]
    """
    p = _numpy(proba)
    t = 0.5 if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    return (p >= t).astype(np.int64)


def _per_label(y: np.ndarray, p: np.ndarray, pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, average=None, zero_division=0)
    confusion = multilabel_confusion_matrix(y, pred)  # [C, 2, 2]: [[tn, fp], [fn, tp]]
    out = {}
    for k, name in enumerate(names):
        (tn, fp), (fn, tp) = confusion[k]
        tpr = tp / (tp + fn) if tp + fn else float("nan")
        tnr = tn / (tn + fp) if tn + fp else float("nan")
        has_both = 0 < support[k] < len(y)
        out[name] = {
            "precision": precision[k], "recall": recall[k], "f1": f1[k],
            "auprc": average_precision_score(y[:, k], p[:, k]) if support[k] else None,
            "auroc": roc_auc_score(y[:, k], p[:, k]) if has_both else None,
            "balanced_accuracy": (tpr + tnr) / 2, "g_mean": math.sqrt(tpr * tnr),
            "support": support[k], "prevalence": support[k] / len(y),
            "predicted": int(pred[:, k].sum()),
        }
    return out


def _mean_of(per_label: dict[str, Any], key: str) -> float | None:
    values = [v[key] for v in per_label.values()
              if v[key] is not None and math.isfinite(v[key]) and v["support"] > 0]
    return float(np.mean(values)) if values else None


def compute_multilabel_metrics(
    y_true: Any, proba: Any, class_names: Sequence[str], thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Imbalance-aware metrics of multi-label predictions (see the module docstring).

    Args:
        y_true: Multi-hot labels ``[N, C]`` of 0/1.
        proba: Per-label probabilities ``[N, C]``.
        class_names: The ``C`` label names.
        thresholds: Per-label decision thresholds (default 0.5 each).

    Returns:
        A JSON-serialisable dict: ``task``, ``thresholds``, ``accuracy`` (subset),
        ``balanced_accuracy``, ``macro_f1``, ``micro_f1``, ``samples_f1``,
        ``weighted_f1``, ``hamming_loss``, ``g_mean``, ``auroc_macro``, ``auprc_macro``,
        ``per_class`` (``{label: {precision, recall, f1, auprc, auroc,
        balanced_accuracy, g_mean, support, prevalence, predicted}}``), ``num_nodes``.

    Example:
        >>> m = compute_multilabel_metrics([[1, 0], [1, 1], [0, 0]],
        ...                                [[0.9, 0.2], [0.6, 0.4], [0.3, 0.1]], ["a", "b"])
        >>> m["micro_f1"], m["hamming_loss"], m["per_class"]["b"]["recall"]
        (0.8, 0.16666666666666666, 0.0)
    """
    names = [str(n) for n in class_names]
    y, p = _validate(y_true, proba, names)
    pred = predict_labels(p, thresholds)
    per_label = _per_label(y, p, pred, names)

    def f1(average: str) -> float:
        return f1_score(y, pred, average=average, zero_division=0)

    result = {
        "task": "multilabel",
        "thresholds": [0.5] * len(names) if thresholds is None else list(thresholds),
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": _mean_of(per_label, "balanced_accuracy"),
        "macro_f1": f1("macro"), "micro_f1": f1("micro"), "samples_f1": f1("samples"),
        "weighted_f1": f1("weighted"),
        "hamming_loss": hamming_loss(y, pred),
        "g_mean": _mean_of(per_label, "g_mean"),
        "auroc_macro": _mean_of(per_label, "auroc"),
        "auprc_macro": _mean_of(per_label, "auprc"),
        "per_class": per_label,
        "num_nodes": len(y),
    }
    return _clean(result)


def multilabel_pr_curves(y_true: Any, proba: Any, class_names: Sequence[str]) -> dict[str, Any]:
    """Per-label precision-recall curves, in the form of :func:`hetero_imb.report.metrics.pr_curves`."""
    names = [str(n) for n in class_names]
    y, p = _validate(y_true, proba, names)
    curves: dict[str, Any] = {}
    for k, name in enumerate(names):
        support = int(y[:, k].sum())
        if support == 0:
            curves[name] = {"precision": [], "recall": [], "average_precision": None, "support": 0}
            continue
        precision, recall, _ = precision_recall_curve(y[:, k], p[:, k])
        curves[name] = _clean({"precision": precision, "recall": recall, "support": support,
                               "average_precision": average_precision_score(y[:, k], p[:, k])})
    return curves


def multilabel_macro_f1(y_true: Tensor, proba: Tensor, threshold: float = 0.5) -> Tensor:
    """Macro-F1 over the labels of ``proba >= threshold``, with torch ops on ``proba``'s device.

    The per-epoch validation score of multi-label runs; equals sklearn's
    ``f1_score(y_true, pred, average="macro", zero_division=0)``.

    Example:
        >>> y = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(multilabel_macro_f1(y, torch.tensor([[0.9, 0.6], [0.2, 0.7]]))), 4)
        0.6667
    """
    pred = proba >= threshold
    truth = y_true > 0.5
    tp = (pred & truth).sum(dim=0).double()
    denom = (pred.sum(dim=0) + truth.sum(dim=0)).double()
    f1 = torch.where(denom > 0, 2.0 * tp / denom.clamp_min(1.0), denom.new_zeros(()))
    return f1.mean()


def _label_sets(rows: np.ndarray, names: list[str]) -> list[str]:
    return [SEPARATOR.join(n for n, v in zip(names, row, strict=True) if v == 1) for row in rows]


def multilabel_predictions_frame(
    ids: Sequence[Any], proba: Tensor | np.ndarray, thresholds: Sequence[float] | None,
    class_names: Sequence[str], *, split: Sequence[str] | None = None,
    y: Tensor | np.ndarray | None = None,
) -> pd.DataFrame:
    """The predictions table of a multi-label model.

    Columns: ``node_id``, ``split``, ``label`` (the true label set, names joined by
    ``|``; empty when unknown), ``predicted`` (the predicted label set at the
    thresholds) and ``proba_<label>`` for every label.

    Example:
        >>> frame = multilabel_predictions_frame(["m1"], np.array([[0.9, 0.6, 0.1]]), None,
        ...                                      ["drama", "comedy", "action"])
        >>> frame.loc[0, "predicted"], frame.columns.tolist()[-1]
        ('drama|comedy', 'proba_action')
    """
    names = [str(n) for n in class_names]
    p = _numpy(proba).astype(np.float64)
    n = len(ids)
    labels = [""] * n
    if y is not None:
        y_arr = _numpy(y)
        known = (y_arr >= 0).all(axis=1)
        labels = [s if ok else "" for s, ok in zip(_label_sets(y_arr, names), known, strict=True)]
    frame = pd.DataFrame({
        "node_id": list(ids),
        "split": list(split) if split is not None else [""] * n,
        "label": labels,
        "predicted": _label_sets(predict_labels(p, thresholds), names),
    })
    for c, name in enumerate(names):
        frame[f"proba_{name}"] = p[:, c]
    return frame

