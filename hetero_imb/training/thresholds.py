"""Per-label decision thresholds of multi-label runs, tuned on the validation nodes.

The multi-label counterpart of :mod:`hetero_imb.training.decision` (same
``tune_decision`` option): a label is predicted when its probability reaches its
threshold ``t_c`` (0.5 untuned). A rare label's probabilities sit low, so 0.5 seldom
predicts it; lowering its threshold trades precision for recall without retraining.

* ``"macro-f1"``: each label's threshold maximises that label's validation F1 (the
  labels are decided independently, so this maximises validation macro-F1); ties go
  to the threshold nearest 0.5;
* ``"recall:LABEL:FLOOR"``: the lowest threshold of ``LABEL`` at which its validation
  precision stays at or above ``FLOOR`` (its highest recall at that precision); the
  other labels keep 0.5;
* ``"min-recall:LABEL:R"``: the split-conformal threshold of ``LABEL`` — with ``n``
  validation positives, their ``j = ceil(R (n + 1))``-th largest probability, so that
  a new positive of the label is predicted with probability at least ``R`` (see
  :mod:`hetero_imb.training.decision`); the other labels keep 0.5.

Candidates are the midpoints between consecutive distinct validation probabilities.
The thresholds are saved with the checkpoint and applied by ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .decision import conformal_rank, parse_decision

__all__ = ["tune_thresholds", "tune_run_multilabel"]


def _candidates(p: np.ndarray) -> np.ndarray:
    values = np.unique(np.concatenate([p, [0.0, 1.0]]))
    mids = (values[:-1] + values[1:]) / 2
    return np.unique(np.concatenate([mids, [0.5]]))


def _counts(p: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """True positives and predicted positives at each threshold in ``t``; positives."""
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    predicted = np.searchsorted(-p_sorted, -t, side="right")  # count of p >= t
    tp = np.concatenate([[0], np.cumsum(y_sorted)])[predicted]
    return tp, predicted, int(y.sum())


def _best_f1(p: np.ndarray, y: np.ndarray) -> float:
    t = _candidates(p)
    tp, predicted, positives = _counts(p, y, t)
    denom = predicted + positives
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    return float(t[best[np.argmin(np.abs(t[best] - 0.5))]])


def _best_balanced_accuracy(p: np.ndarray, y: np.ndarray) -> float:
    """Threshold of the highest ``(TPR + TNR) / 2`` (Youden's J), nearest 0.5 on ties."""
    t = _candidates(p)
    tp, predicted, positives = _counts(p, y, t)
    negatives = len(y) - positives
    tpr = tp / positives if positives else np.zeros(len(t))
    tnr = (negatives - (predicted - tp)) / negatives if negatives else np.zeros(len(t))
    score = (tpr + tnr) / 2
    best = np.flatnonzero(score >= score.max() - 1e-12)
    return float(t[best[np.argmin(np.abs(t[best] - 0.5))]])


def _recall_at_precision(p: np.ndarray, y: np.ndarray, floor: float) -> tuple[float, bool]:
    t = _candidates(p)
    tp, predicted, _ = _counts(p, y, t)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 1.0)
    ok = np.flatnonzero((precision >= floor) & (predicted > 0))
    if ok.size == 0:
        return 0.5, False
    return float(t[ok].min()), True


def _min_recall_threshold(p: np.ndarray, y: np.ndarray, recall: float) -> tuple[float, bool]:
    positives = np.sort(p[y == 1])[::-1]
    rank, reached = conformal_rank(len(positives), recall)
    return float(positives[rank]), reached


def tune_thresholds(proba: Any, y: Any, spec: str, class_names: list[str]) -> dict[str, Any]:
    """Choose per-label thresholds on validation probabilities.

    Args:
        proba: Validation probabilities ``[N, C]``.
        y: Validation multi-hot labels ``[N, C]``.
        spec: ``"none"``, ``"macro-f1"`` (each label's best F1), ``"balanced-accuracy"``
            (each label's best ``(TPR + TNR) / 2``), ``"recall:LABEL:FLOOR"`` or
            ``"min-recall:LABEL:R"``.
        class_names: Label names.

    Returns:
        ``{"spec": str, "thresholds": [C floats], "reached": bool}``.

    Example:
        >>> p = np.array([[0.9, 0.3], [0.2, 0.35], [0.8, 0.1]])
        >>> y = np.array([[1, 1], [0, 1], [1, 0]])
        >>> [round(t, 3) for t in tune_thresholds(p, y, "macro-f1", ["a", "b"])["thresholds"]]
        [0.5, 0.2]
    """
    parsed = parse_decision(spec)
    p, y = np.asarray(proba, dtype=np.float64), np.asarray(y).astype(np.int64)
    c = p.shape[1]
    thresholds, reached = [0.5] * c, True
    if parsed.objective == "none":
        return {"spec": "none", "thresholds": thresholds, "reached": True}
    if len(y) == 0:
        raise ValueError("tune_decision needs labelled validation nodes; the validation set is empty")
    if parsed.objective in ("macro-f1", "balanced-accuracy"):
        best = _best_f1 if parsed.objective == "macro-f1" else _best_balanced_accuracy
        thresholds = [best(p[:, k], y[:, k]) for k in range(c)]
        return {"spec": parsed.objective, "thresholds": thresholds, "reached": True}
    if parsed.target_class not in class_names:
        raise ValueError(f"tune_decision names label {parsed.target_class!r}; labels are: "
                         f"{', '.join(class_names)}")
    k = class_names.index(parsed.target_class)
    if parsed.objective == "min-recall":
        if not np.any(y[:, k] == 1):
            raise ValueError(f"tune_decision {parsed.text} needs validation positives of label "
                             f"{parsed.target_class!r}; the validation set has none")
        thresholds[k], reached = _min_recall_threshold(p[:, k], y[:, k], float(parsed.min_recall))
    else:
        thresholds[k], reached = _recall_at_precision(p[:, k], y[:, k], float(parsed.precision_floor))
    return {"spec": parsed.text, "thresholds": thresholds, "reached": reached}


def tune_run_multilabel(spec: str, proba: Any, y: Any, masks: dict[str, Any],
                        class_names: list[str], tune_mask: Any = None) -> dict[str, Any] | None:
    """Tune thresholds on the validation nodes of a run (or on ``tune_mask``, see
    :mod:`hetero_imb.training.calibration`) and score every split with them.

    Returns:
        ``None`` for ``"none"``, else the :func:`tune_thresholds` record plus ``metrics``
        (per split, :func:`~hetero_imb.report.multilabel_metrics.compute_multilabel_metrics`
        at the tuned thresholds).
    """
    from ..report.multilabel_metrics import compute_multilabel_metrics

    if parse_decision(spec).objective == "none":
        return None
    p, y = np.asarray(proba, dtype=np.float64), np.asarray(y)
    val = np.asarray(masks["val"] if tune_mask is None else tune_mask, dtype=bool)
    record = tune_thresholds(p[val], y[val], spec, class_names)
    metrics = {split: compute_multilabel_metrics(y[np.asarray(m, dtype=bool)],
                                                 p[np.asarray(m, dtype=bool)], class_names,
                                                 record["thresholds"])
               for split, m in masks.items()}
    return {**record, "metrics": metrics}
