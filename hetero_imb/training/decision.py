"""Decision tuning for imbalance: per-class offsets added to the log-probabilities.

A model trained on imbalanced labels often ranks the rare class well yet rarely
predicts it: its scores are shifted towards the large classes. Adding a per-class
offset ``b_c`` to the log-probabilities and predicting ``argmax_c(log p_c + b_c)``
moves the decision boundaries without retraining. The offsets are chosen on the
validation nodes only, by one of four objectives:

* ``"macro-f1"``: coordinate ascent on validation macro-F1 (one class's offset at a
  time, over the offsets where some node's prediction changes; class 0 stays at 0,
  since only differences between offsets matter);
* ``"balanced-accuracy"``: the same search on validation balanced accuracy (the mean
  of the per-class recalls);
* ``"recall:CLASS:FLOOR"``: the offset of ``CLASS`` alone, as large as possible while
  its validation precision stays at or above ``FLOOR`` — the highest recall of that
  class at that precision;
* ``"min-recall:CLASS:R"``: the offset of ``CLASS`` alone, the smallest (possibly
  negative) at which the *expected* recall of that class on new nodes is at least
  ``R`` — a split-conformal quantile: with ``n`` validation nodes of the class and
  ``m_i`` the offset that turns node ``i`` to the class, the offset covers the
  ``j = ceil(R (n + 1))`` smallest ``m_i``. For validation and test nodes drawn
  alike (a stratified random split), a test node of the class is then predicted as
  such with probability at least ``j / (n + 1) >= R``. It asks for a recall, not a
  precision, so the offset is not tuned on the class's noisy validation precision;
  the price is paid in false alarms. A run holds out half of its validation nodes for
  this rule (early stopping and smoothers use the other half), so that they are
  exchangeable with the test nodes (:mod:`hetero_imb.training.calibration`).

``"none"`` keeps the plain argmax. The offsets are saved with the checkpoint and
applied by :func:`hetero_imb.load_run`'s ``predict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DecisionSpec", "apply_offsets", "parse_decision", "tune_offsets"]

_FORMS = ("'none', 'macro-f1', 'balanced-accuracy', 'recall:CLASS:PRECISION_FLOOR' "
          "(e.g. recall:politician:0.6) or 'min-recall:CLASS:RECALL' (e.g. min-recall:politician:0.8)")


@dataclass(frozen=True)
class DecisionSpec:
    """A parsed ``tune_decision`` option.

    Attributes:
        objective: ``"none"``, ``"macro-f1"``, ``"balanced-accuracy"``, ``"recall"`` or
            ``"min-recall"``.
        target_class: Class name whose recall is raised (``"recall"``, ``"min-recall"``).
        precision_floor: Minimum validation precision of that class (``"recall"`` only).
        min_recall: Expected recall of that class on new nodes (``"min-recall"`` only).
    """

    objective: str
    target_class: str | None = None
    precision_floor: float | None = None
    min_recall: float | None = None

    @property
    def text(self) -> str:
        """The canonical spec string (``"recall:fraud:0.5"``, ``"macro-f1"``)."""
        if self.objective == "recall":
            return f"recall:{self.target_class}:{self.precision_floor:g}"
        if self.objective == "min-recall":
            return f"min-recall:{self.target_class}:{self.min_recall:g}"
        return self.objective


def parse_decision(spec: str | None) -> DecisionSpec:
    """Parse ``"none"``, ``"macro-f1"``, ``"balanced-accuracy"``,
    ``"recall:CLASS:PRECISION_FLOOR"`` or ``"min-recall:CLASS:RECALL"``.

    Example:
        >>> parse_decision("recall:fraud:0.5")
        DecisionSpec(objective='recall', target_class='fraud', precision_floor=0.5, min_recall=None)
        >>> parse_decision("min-recall:fraud:0.8").min_recall
        0.8
    """
    if spec is None or spec == "none":
        return DecisionSpec("none")
    if spec in ("macro-f1", "balanced-accuracy"):
        return DecisionSpec(spec)
    for prefix in ("recall:", "min-recall:"):
        if isinstance(spec, str) and spec.startswith(prefix):
            name, _, number = spec[len(prefix):].rpartition(":")
            try:
                value = float(number)
            except ValueError:
                value = math.nan
            if name and prefix == "recall:" and 0.0 <= value <= 1.0:
                return DecisionSpec("recall", name, value)
            if name and prefix == "min-recall:" and 0.0 < value < 1.0:
                return DecisionSpec("min-recall", name, min_recall=value)
            if name and math.isfinite(value):  # a number, out of its range
                what, allowed = (("PRECISION_FLOOR", "[0, 1]") if prefix == "recall:"
                                 else ("RECALL", "(0, 1), both ends excluded"))
                raise ValueError(f"tune_decision {spec!r}: {what} must be in {allowed}, got "
                                 f"{number}")
    raise ValueError(f"tune_decision must be {_FORMS}, got {spec!r}")


def log_proba(proba: Any) -> np.ndarray:
    """``log(max(proba, 1e-12))`` in float64: the scores offsets are tuned on and applied
    to (an offset sits 1e-9 past a node's switch point, which float32 would lose).

    Example:
        >>> log_proba(np.array([[1.0, 0.0]], dtype=np.float32)).round(2).tolist()
        [[0.0, -27.63]]
    """
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, None))


def apply_offsets(log_proba: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """Predicted classes ``argmax(log_proba + offsets)`` (plain argmax without offsets).

    Example:
        >>> apply_offsets(np.log([[0.6, 0.4], [0.9, 0.1]]), np.array([0.0, 0.5])).tolist()
        [1, 0]
    """
    scores = log_proba if offsets is None else log_proba + offsets
    return np.asarray(scores).argmax(axis=1)


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    f1 = []
    for c in range(k):
        tp = np.sum((pred == c) & (y == c))
        denom = np.sum(pred == c) + np.sum(y == c)
        f1.append(2.0 * tp / denom if denom else 0.0)
    return float(np.mean(f1))


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    recalls = [np.mean(pred[y == c] == c) for c in range(k) if np.any(y == c)]
    return float(np.mean(recalls)) if recalls else 0.0


_OBJECTIVES = {"macro-f1": _macro_f1, "balanced-accuracy": _balanced_accuracy}


def _switch_points(scores: np.ndarray, c: int) -> np.ndarray:
    """Offsets of class ``c`` at which some node's prediction turns to ``c``, each
    nudged just past the switch (sorted, unique)."""
    others = np.delete(scores, c, axis=1).max(axis=1)
    points = np.unique(others - scores[:, c])
    return points + 1e-9 * np.maximum(1.0, np.abs(points))


def _coordinate_ascent(scores: np.ndarray, y: np.ndarray, rounds: int, objective: str) -> np.ndarray:
    metric = _OBJECTIVES[objective]
    k = scores.shape[1]
    offsets = np.zeros(k)
    best = metric(y, apply_offsets(scores, offsets), k)
    for _ in range(rounds):
        improved = False
        for c in range(1, k):
            base = scores + offsets
            base[:, c] = scores[:, c]
            for b in np.concatenate([[0.0], _switch_points(base, c)]):
                trial = offsets.copy()
                trial[c] = b
                value = metric(y, apply_offsets(scores, trial), k)
                # strictly better, or as good with a smaller move
                if value > best + 1e-12 or (abs(value - best) <= 1e-12 and abs(b) < abs(offsets[c])):
                    improved |= value > best + 1e-12
                    best, offsets = value, trial
        if not improved:
            break
    return offsets


def _tune_recall(scores: np.ndarray, y: np.ndarray, c: int, floor: float) -> tuple[np.ndarray, bool]:
    offsets = np.zeros(scores.shape[1])
    best_recall, reached = -1.0, False
    for b in np.concatenate([[0.0], _switch_points(scores, c)]):
        trial = offsets.copy()
        trial[c] = b
        pred = apply_offsets(scores, trial)
        predicted = np.sum(pred == c)
        tp = np.sum((pred == c) & (y == c))
        precision = tp / predicted if predicted else 1.0
        recall = tp / max(np.sum(y == c), 1)
        if precision >= floor and recall > best_recall:
            best_recall, reached, chosen = recall, True, trial
    return (chosen, True) if reached else (offsets, False)


def conformal_rank(n: int, recall: float) -> tuple[int, bool]:
    """The split-conformal rank of ``min-recall``: ``j = ceil(recall (n + 1))`` of ``n``
    calibration nodes, as a 0-based index capped at ``n - 1``, and whether ``j <= n``.

    Example:
        >>> conformal_rank(24, 0.8), conformal_rank(3, 0.8)
        ((19, True), (2, False))
    """
    j = math.ceil(recall * (n + 1) - 1e-9)
    return min(j, n) - 1, j <= n


def _tune_min_recall(scores: np.ndarray, y: np.ndarray, c: int, recall: float) -> tuple[np.ndarray, bool]:
    """Offset of class ``c`` covering the ``ceil(recall (n + 1))`` smallest switch offsets of
    its ``n`` validation nodes (all of them, and ``reached`` false, when that exceeds n)."""
    margins = np.sort(np.delete(scores, c, axis=1).max(axis=1)[y == c] - scores[y == c, c])
    rank, reached = conformal_rank(len(margins), recall)
    m = margins[rank]
    offsets = np.zeros(scores.shape[1])
    offsets[c] = m + 1e-9 * max(1.0, abs(m))  # just past the switch, as _switch_points
    return offsets, reached


def tune_offsets(
    log_proba: np.ndarray, y: np.ndarray, spec: str | DecisionSpec, class_names: list[str],
    *, rounds: int = 3,
) -> dict[str, Any]:
    """Choose per-class offsets on validation scores.

    Args:
        log_proba: Validation log-probabilities (or logits) ``[N, C]``.
        y: Validation labels ``[N]`` (class ids).
        spec: A :class:`DecisionSpec` or its string form (see :func:`parse_decision`).
        class_names: Class names, index = class id.
        rounds: Coordinate-ascent sweeps over the classes (``"macro-f1"``,
            ``"balanced-accuracy"``).

    Returns:
        ``{"spec": str, "offsets": [C floats], "reached": bool}``; ``reached`` is false
        when no offset gives the requested precision floor (the offsets are then 0), or,
        for ``"min-recall"``, when the class has too few validation nodes for the
        requested recall (``ceil(R (n + 1)) > n``; the offset then covers all of them).

    Raises:
        ValueError: the validation set is empty, the named class is unknown, or
            (``"min-recall"``) it has no validation node.

    Example:
        >>> scores = np.log([[0.7, 0.3], [0.6, 0.4], [0.8, 0.2], [0.55, 0.45]])
        >>> out = tune_offsets(scores, np.array([0, 1, 0, 1]), "macro-f1", ["a", "b"])
        >>> apply_offsets(scores, np.array(out["offsets"])).tolist()
        [0, 1, 0, 1]
    """
    parsed = parse_decision(spec) if isinstance(spec, str) or spec is None else spec
    scores = np.asarray(log_proba, dtype=np.float64)
    y = np.asarray(y)
    text = parsed.text
    if parsed.objective == "none":
        return {"spec": text, "offsets": [0.0] * scores.shape[1], "reached": True}
    if len(y) == 0:
        raise ValueError("tune_decision needs labelled validation nodes; the validation set is empty")
    if parsed.objective in _OBJECTIVES:
        offsets = _coordinate_ascent(scores, y, rounds, parsed.objective)
        return {"spec": text, "offsets": offsets.tolist(), "reached": True}
    if parsed.target_class not in class_names:
        raise ValueError(
            f"tune_decision names class {parsed.target_class!r}; classes are: {', '.join(class_names)}"
        )
    c = class_names.index(parsed.target_class)
    if parsed.objective == "min-recall":
        if not np.any(y == c):
            raise ValueError(f"tune_decision {text} needs validation nodes of class "
                             f"{parsed.target_class!r}; the validation set has none")
        offsets, reached = _tune_min_recall(scores, y, c, float(parsed.min_recall))
    else:
        offsets, reached = _tune_recall(scores, y, c, float(parsed.precision_floor))
    return {"spec": text, "offsets": offsets.tolist(), "reached": reached}


def tune_run(
    spec: str, proba: Any, y: Any, masks: dict[str, Any], class_names: list[str],
    tune_mask: Any = None,
) -> dict[str, Any] | None:
    """Tune offsets on the validation nodes of a run and score every split with them.

    Args:
        spec: The ``tune_decision`` option (``"none"`` returns ``None``).
        proba: Class probabilities of every target node ``[N, C]`` (tensor or array).
        y: Labels of every target node.
        masks: ``{"train"|"val"|"test": bool mask of labelled nodes}``.
        class_names: Class names.
        tune_mask: The nodes the offsets are chosen on (default ``masks["val"]``; see
            :mod:`hetero_imb.training.calibration`).

    Returns:
        ``None``, or the :func:`tune_offsets` record plus ``metrics``: per split, the
        metrics of the tuned decisions (the ranking metrics AUROC/AUPRC are those of the
        untuned probabilities, which offsets do not change meaningfully).
    """
    from ..report.metrics import compute_metrics

    if parse_decision(spec).objective == "none":
        return None
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    log_p = log_proba(p)
    val = np.asarray(masks["val"] if tune_mask is None else tune_mask, dtype=bool)
    record = tune_offsets(log_p[val], y[val], spec, class_names)
    adjusted = log_p + np.asarray(record["offsets"])
    adjusted = np.exp(adjusted - adjusted.max(axis=1, keepdims=True))
    adjusted /= adjusted.sum(axis=1, keepdims=True)
    metrics = {}
    for split, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        tuned = compute_metrics(y[mask], adjusted[mask], class_names)
        untuned = compute_metrics(y[mask], p[mask], class_names)
        tuned["auroc_macro"], tuned["auprc_macro"] = untuned["auroc_macro"], untuned["auprc_macro"]
        metrics[split] = tuned
    return {**record, "metrics": metrics}
