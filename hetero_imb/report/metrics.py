"""Imbalance-aware classification metrics, computed with scikit-learn.

:func:`compute_metrics` returns plain JSON-serialisable Python (NaN → ``None``) so
results can be written as they are. Every per-class computation passes
``labels=range(C)``, so a class missing from ``y_true`` keeps its index (support 0)
instead of shifting the others, and ``zero_division=0``.

Averages and absent classes (a class with no node in ``y_true``):

* ``macro_f1`` averages over *all* ``C`` classes (an absent class scores F1 = 0 with
  ``zero_division=0``, so the same number of terms is averaged on every split);
  ``weighted_f1`` weighs classes by support (absent classes weigh 0); ``micro_f1``
  pools all nodes.
* ``balanced_accuracy`` (scikit-learn's: mean recall), ``g_mean``, ``auroc_macro`` and
  ``auprc_macro`` average over the classes *present* in ``y_true``.
* ``g_mean`` is the geometric mean of the per-class recalls of the present classes;
  it is 0 as soon as one present class has recall 0.
* ``auroc_macro`` is the one-vs-rest ROC AUC averaged over the present classes that
  also have negatives (``None`` when there is none, e.g. a single-class ``y_true``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)
from torch import Tensor

__all__ = ["compute_metrics", "format_report", "pr_curves"]

HEADLINE = (
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "balanced accuracy"),
    ("macro_f1", "macro F1"),
    ("micro_f1", "micro F1"),
    ("weighted_f1", "weighted F1"),
    ("g_mean", "G-mean"),
    ("auroc_macro", "AUROC (macro, OvR)"),
    ("auprc_macro", "AUPRC (macro)"),
)
#: Headline metrics of multi-label runs only (see :mod:`hetero_imb.report.multilabel_metrics`).
MULTILABEL_HEADLINE = (
    ("samples_f1", "samples F1"),
    ("hamming_loss", "Hamming loss"),
    ("rare_quarter_macro_f1", "rare-1/4 macro F1"),
)


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _validate(
    y_true: Any, proba: Any, class_names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = [str(n) for n in class_names]
    if not names:
        raise ValueError("class_names must not be empty")
    if len(set(names)) != len(names):
        raise ValueError(f"class_names has duplicates: {names}")
    y = _to_numpy(y_true)
    p = _to_numpy(proba)
    if y.ndim != 1:
        raise ValueError(f"y_true must be 1-D [N], got shape {y.shape}")
    if y.size == 0:
        raise ValueError("y_true is empty; metrics need at least one node")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_true must hold integer class indices, got dtype {y.dtype}")
    if p.ndim != 2:
        raise ValueError(f"proba must be 2-D [N, C], got shape {p.shape}")
    if p.shape[0] != y.shape[0]:
        raise ValueError(f"proba has {p.shape[0]} rows but y_true has {y.shape[0]} labels")
    c = len(names)
    if p.shape[1] != c:
        raise ValueError(f"proba has {p.shape[1]} columns but {c} class_names were given")
    if not np.issubdtype(p.dtype, np.floating):
        raise ValueError(f"proba must hold float probabilities, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if not np.isfinite(p).all():
        raise ValueError("proba contains NaN or infinite values")
    out = (y < 0) | (y >= c)
    if out.any():
        bad = int(y[out][0])
        hint = " (unlabelled nodes, -1, must be masked out)" if bad == -1 else ""
        raise ValueError(
            f"label {bad} in y_true is out of range [0, {c - 1}] for {c} classes{hint}"
        )
    sums = p.sum(axis=1)
    if (p < -1e-6).any() or not np.allclose(sums, 1.0, atol=1e-3):
        worst = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(
            "proba rows must be class probabilities (>= 0, summing to 1); row "
            f"{worst} sums to {sums[worst]:.4g} (apply softmax to logits first)"
        )
    return y.astype(np.int64), p, names


def _clean(value: Any) -> Any:
    """Plain Python: numpy scalars/arrays → float/int/list; NaN and inf → None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def compute_metrics(y_true: Any, proba: Any, class_names: Sequence[str]) -> dict[str, Any]:
    """Imbalance-aware metrics of class-probability predictions.

    Predictions are ``argmax(proba)``; the ranking metrics use ``proba`` itself. See the
    module docstring for how each average treats classes absent from ``y_true``.

    Args:
        y_true: True class indices ``[N]`` (int array or tensor) in ``[0, C)``.
        proba: Class probabilities ``[N, C]`` (rows sum to 1).
        class_names: The ``C`` class names (column ``c`` of ``proba`` is class ``c``).

    Returns:
        A JSON-serialisable dict with ``accuracy``, ``balanced_accuracy``, ``macro_f1``,
        ``micro_f1``, ``weighted_f1``, ``g_mean``, ``auroc_macro``, ``auprc_macro``
        (floats, or ``None`` when undefined), ``per_class`` (``{name: {precision,
        recall, f1, support}}``), ``confusion_matrix`` (``C x C`` list of lists, rows =
        true class, columns = predicted class) and ``num_nodes``.

    Raises:
        ValueError: bad shapes, a column count different from ``len(class_names)``,
            labels outside ``[0, C)`` or rows that are not probabilities.

    Example:
        >>> m = compute_metrics([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], ["a", "b"])
        >>> m["accuracy"], m["per_class"]["b"]["recall"]
        (0.6666666666666666, 0.5)
    """
    y, p, names = _validate(y_true, proba, class_names)
    c = len(names)
    labels = list(range(c))
    pred = p.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y, pred, labels=labels, zero_division=0
    )
    present = support > 0

    def f1_avg(average: str) -> float:
        return f1_score(y, pred, labels=labels, average=average, zero_division=0)

    with warnings.catch_warnings():
        # "y_pred contains classes not in y_true": balanced accuracy then averages the
        # recalls of the classes present in y_true, which is what we report.
        warnings.simplefilter("ignore", UserWarning)
        balanced = balanced_accuracy_score(y, pred)

    present_recall = recall[present]
    g_mean = 0.0 if (present_recall == 0).any() else float(np.exp(np.log(present_recall).mean()))

    aurocs, auprcs = [], []
    for k in np.flatnonzero(present):
        positive = y == k
        auprcs.append(average_precision_score(positive, p[:, k]))
        if not positive.all():
            aurocs.append(roc_auc_score(positive, p[:, k]))

    per_class = {
        name: {
            "precision": precision[k],
            "recall": recall[k],
            "f1": f1[k],
            "support": support[k],
        }
        for k, name in enumerate(names)
    }
    result = {
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced,
        "macro_f1": f1_avg("macro"),
        "micro_f1": f1_avg("micro"),
        "weighted_f1": f1_avg("weighted"),
        "g_mean": g_mean,
        "auroc_macro": float(np.mean(aurocs)) if aurocs else None,
        "auprc_macro": float(np.mean(auprcs)) if auprcs else None,
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y, pred, labels=labels),
        "num_nodes": len(y),
    }
    return _clean(result)


def pr_curves(y_true: Any, proba: Any, class_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One-vs-rest precision-recall curve of every class (for plots).

    Args:
        y_true: True class indices ``[N]`` (or multi-hot labels ``[N, C]``: per-label curves).
        proba: Class probabilities ``[N, C]``.
        class_names: The ``C`` class names.

    Returns:
        ``{class_name: {"precision": [...], "recall": [...], "average_precision": float,
        "support": int}}`` as scikit-learn's ``precision_recall_curve`` gives them
        (recall decreasing). A class absent from ``y_true`` has no curve: empty lists
        and ``average_precision`` ``None``.
    """
    if np.ndim(_to_numpy(y_true)) == 2:  # multi-hot labels: one curve per label
        from .multilabel_metrics import multilabel_pr_curves

        return multilabel_pr_curves(y_true, proba, class_names)
    y, p, names = _validate(y_true, proba, class_names)
    curves: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        positive = y == k
        support = int(positive.sum())
        if support == 0:
            curves[name] = {"precision": [], "recall": [], "average_precision": None, "support": 0}
            continue
        precision, recall, _ = precision_recall_curve(positive, p[:, k])
        curves[name] = _clean(
            {
                "precision": precision,
                "recall": recall,
                "average_precision": average_precision_score(positive, p[:, k]),
                "support": support,
            }
        )
    return curves


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_report(metrics: dict[str, Any], class_names: Sequence[str]) -> str:
    """A plain-text report: headline metrics, then a per-class table.

    Args:
        metrics: The output of :func:`compute_metrics`.
        class_names: The classes to list, in order.

    Returns:
        A multi-line string (no trailing newline).
    """
    per_class = metrics.get("per_class")
    if not isinstance(per_class, dict):
        raise ValueError("metrics has no 'per_class' entry; pass the output of compute_metrics")
    names = [str(n) for n in class_names]
    missing = [n for n in names if n not in per_class]
    if missing:
        raise ValueError(f"metrics has no per-class entry for {missing}; it has {list(per_class)}")
    width = max(len(label) for _, label in HEADLINE)
    lines = [f"{'nodes':<{width}}  {metrics.get('num_nodes', 'n/a')}"]
    for key, label in HEADLINE + MULTILABEL_HEADLINE:
        if key in metrics or (key, label) in HEADLINE:
            lines.append(f"{label:<{width}}  {_fmt(metrics.get(key))}")
    cw = max(len("class"), *(len(n) for n in names))
    lines.append("")
    lines.append(f"{'class':<{cw}}  {'precision':>9}  {'recall':>9}  {'f1':>9}  {'support':>7}")
    for name in names:
        row = per_class[name]
        lines.append(
            f"{name:<{cw}}  {_fmt(row['precision']):>9}  {_fmt(row['recall']):>9}  "
            f"{_fmt(row['f1']):>9}  {row['support']:>7}"
        )
    return "\n".join(lines)


def macro_f1(y_true: Tensor, pred: Tensor, n_classes: int) -> Tensor:
    """Macro-F1 over the classes ``0..n_classes-1`` with torch ops, on ``pred``'s device.

    The per-epoch validation score: no copy to the CPU, no sklearn. It equals
    ``sklearn.metrics.f1_score(y_true, pred, labels=range(n_classes), average="macro",
    zero_division=0)`` (a class absent from both ``y_true`` and ``pred`` scores 0, as
    there); sklearn stays for the final report.

    Args:
        y_true: True classes ``[N]`` (int64).
        pred: Predicted classes ``[N]`` (int64, same device).
        n_classes: Number of classes averaged over.

    Returns:
        A 0-d float64 tensor on the inputs' device.

    Example:
        >>> round(float(macro_f1(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 4)), 4)
        0.2917
    """
    tp = torch.bincount(y_true[pred == y_true], minlength=n_classes)[:n_classes]
    support = torch.bincount(y_true, minlength=n_classes)[:n_classes]
    predicted = torch.bincount(pred, minlength=n_classes)[:n_classes]
    denom = (support + predicted).double()
    f1 = torch.where(denom > 0, 2.0 * tp.double() / denom.clamp_min(1.0), denom.new_zeros(()))
    return _numpy_order_sum(f1) / n_classes


def _numpy_order_sum(values: Tensor) -> Tensor:
    """Sum in numpy's order (8 interleaved partial sums below 128 values), so that on
    the CPU the score equals sklearn's to the last bit and early stopping decides alike."""
    n = values.numel()
    if n < 8 or n > 128:
        return values.cumsum(0)[-1] if n < 8 else values.sum()
    whole = n - n % 8
    r = values[:whole].view(-1, 8).cumsum(0)[-1]  # lane j: values[j::8], in order
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    return torch.cat([total.view(1), values[whole:]]).cumsum(0)[-1]
