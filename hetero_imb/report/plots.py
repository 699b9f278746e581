"""Pictures of a comparison. Every function returns a matplotlib Figure (never shows it).

The figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot figures:
nothing here touches pyplot's global state or the backend, so importing hetero_imb
changes neither. Save one with ``fig.savefig(path)``; in a notebook, a figure that
ends a cell is shown by Jupyter's inline display (or call ``display(fig)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .metrics import pr_curves


def plot_pr_curves(
    curves_by_model: Mapping[str, tuple[np.ndarray, np.ndarray]],
    class_names: Sequence[str],
    title: str = "Per-class precision-recall (test split)",
) -> Figure:
    """One panel per model with a precision-recall curve per class.

    Args:
        curves_by_model: ``{panel title: (y_true [N], proba [N, C])}``.
        class_names: Class names (legend entries carry the average precision).
        title: Figure title.
    """
    n = len(curves_by_model)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(5.2 * cols, 4.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (name, (y, proba)) in zip(axes.flat, curves_by_model.items(), strict=False):
        curves = pr_curves(y, proba, class_names)
        for cls in class_names:
            curve = curves.get(cls)
            if not curve or curve.get("average_precision") is None:
                continue
            ap = curve["average_precision"]
            ax.step(curve["recall"], curve["precision"], where="post", label=f"{cls} (AP {ap:.2f})")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.9)  # least overlap with the curves
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_recall_bars(
    recalls: Mapping[str, Sequence[float]],
    class_names: Sequence[str],
    errors: Mapping[str, Sequence[float]] | None = None,
    title: str = "Per-class recall (test, mean over seeds)",
) -> Figure:
    """One panel per class; a horizontal bar per configuration.

    Args:
        recalls: ``{configuration label: per-class recall}``.
        class_names: Class names (panel titles).
        errors: Optional standard deviations with the same shape (error bars).
        title: Figure title.
    """
    labels = list(recalls)
    c = len(class_names)
    height = max(2.5, 0.28 * len(labels) + 1.2)
    fig = Figure(figsize=(3.2 * c + 3.0, height))
    axes = fig.subplots(1, c, sharey=True, squeeze=False)
    pos = np.arange(len(labels))
    for k, (ax, cls) in enumerate(zip(axes.flat, class_names, strict=False)):
        values = [recalls[lbl][k] for lbl in labels]
        err = [errors[lbl][k] for lbl in labels] if errors else None
        ax.barh(pos, values, xerr=err, color=matplotlib.colormaps["tab10"](k % 10), alpha=0.85, capsize=2)
        ax.set_title(cls, fontsize=10)
        ax.set_xlim(0, 1)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("recall")
    axes[0, 0].set_yticks(pos)
    axes[0, 0].set_yticklabels(labels, fontsize=8)
    axes[0, 0].invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str = "Confusion matrix"
) -> Figure:
    """Row-normalised confusion matrix with counts in each cell."""
    m = np.asarray(matrix, dtype=float)
    norm = m / np.clip(m.sum(axis=1, keepdims=True), 1, None)
    size = 1.0 + 0.9 * len(class_names)
    fig = Figure(figsize=(size + 1.5, size))
    ax = fig.subplots()
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{int(m[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center",
                    fontsize=8, color="white" if norm[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=30, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    fig.tight_layout()
    return fig


def plot_class_distribution(
    counts: Mapping[str, Sequence[int]], class_names: Sequence[str],
    title: str = "Class distribution per split",
) -> Figure:
    """Grouped bars: labelled nodes per class in each split, counts on the bars."""
    splits = list(counts)
    x = np.arange(len(class_names))
    width = 0.8 / max(len(splits), 1)
    fig = Figure(figsize=(1.6 * len(class_names) + 2.5, 4))
    ax = fig.subplots()
    for i, split in enumerate(splits):
        bars = ax.bar(x + (i - (len(splits) - 1) / 2) * width, counts[split], width, label=split)
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(x, class_names, rotation=20, ha="right")
    ax.set_ylabel("labelled nodes")
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.margins(y=0.12)
    fig.tight_layout()
    return fig


def plot_prevalence_f1(
    prevalence: Sequence[float], f1_by_config: Mapping[str, Sequence[float]],
    label_names: Sequence[str], title: str = "Label prevalence vs test F1 (mean over seeds)",
) -> Figure:
    """Multi-label runs: one point per label and configuration, prevalence on a log axis.

    Args:
        prevalence: Share of labelled training nodes carrying each label.
        f1_by_config: ``{configuration label: per-label test F1}``.
        label_names: Label names (annotated once, at the best F1 of each label).
        title: Figure title.
    """
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    x = np.asarray(prevalence, dtype=float).clip(1e-4, None)
    for k, (config, f1) in enumerate(f1_by_config.items()):
        y = np.asarray(f1, dtype=float)
        ax.plot(x, y, "o", alpha=0.8, label=config, color=matplotlib.colormaps["tab10"](k % 10))
    best = np.nanmax(np.asarray(list(f1_by_config.values()), dtype=float), axis=0)
    for name, xi, yi in zip(label_names, x, best, strict=True):
        ax.annotate(name, (xi, 0.0 if np.isnan(yi) else yi), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("label prevalence (training positives / labelled training nodes)")
    ax.set_ylabel("test F1")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
