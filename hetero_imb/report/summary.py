"""Tables and pictures from the run folders of a comparison grid.

``summary.csv``: one row per run (finished or failed), test metrics, per-class recall,
fit seconds and the features a feature-only baseline saw. ``summary.md``: mean ± std
over seeds (or folds) per configuration, the best mean of each column in bold.
Configurations are ranked on VALIDATION macro-F1, never on test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._io import atomic_write, atomic_write_text
from .metrics import HEADLINE as METRIC_HEADLINE
from .metrics import MULTILABEL_HEADLINE

HEADLINE = [key for key, _ in METRIC_HEADLINE + MULTILABEL_HEADLINE]
MD_COLUMNS = ["accuracy", "balanced_accuracy", "macro_f1", "g_mean", "auprc_macro"]
#: Extra columns of summary.md when the runs are multi-label.
MD_MULTILABEL = ["micro_f1", "samples_f1", "hamming_loss", "rare_quarter_macro_f1"]
#: Columns whose best value is the smallest.
LOWER_IS_BETTER = {"hamming_loss"}
#: Per-label columns of summary.csv for multi-label runs (recall is there for every run).
PER_LABEL = ["f1", "auprc"]
CONFIG_KEYS = ["model", "loss", "sampler"]


def rows_from_runs(out_dir: Path, specs: Sequence[Any]) -> pd.DataFrame:
    """One row per grid cell with its status and metrics."""
    rows = []
    for spec in specs:
        folder = out_dir / "runs" / spec.key
        cfg = spec.config
        row: dict[str, Any] = {
            "run": spec.key,
            "dataset": cfg.dataset,
            "model": spec.model or cfg.model,
            "loss": spec.loss or cfg.loss,
            "sampler": spec.sampler or cfg.sampler,
            "seed": cfg.seed,
            "fold": spec.fold,
        }
        results = folder / "results.json"
        error = folder / "error.json"
        if results.is_file():
            res = json.loads(results.read_text(encoding="utf-8"))
            test = res["metrics"]["test"]
            row["status"] = "ok"
            row["error"] = ""
            for key in HEADLINE:
                if key in test or key in dict(METRIC_HEADLINE):
                    row[key] = test.get(key)
            row["val_macro_f1"] = res["metrics"]["val"]["macro_f1"]
            for name in res["class_names"]:
                row[f"recall[{name}]"] = test["per_class"][name]["recall"]
                if test.get("task") == "multilabel":
                    for key in PER_LABEL:
                        row[f"{key}[{name}]"] = test["per_class"][name][key]
            row["fit_seconds"] = res["timing"]["fit_seconds"]
            row["features"] = res.get("features") or "graph"
        elif error.is_file():
            row["status"] = "failed"
            row["error"] = json.loads(error.read_text(encoding="utf-8"))["error"]
        else:
            row["status"] = "missing"
            row["error"] = ""
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per configuration (finished runs only)."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    value_cols = [c for c in ok.columns if c in HEADLINE or c.startswith(("recall[", "f1[", "auprc["))
                  or c in ("val_macro_f1", "fit_seconds")]
    grouped = ok.groupby(CONFIG_KEYS, sort=False)[value_cols]
    mean = grouped.mean().add_suffix("_mean")
    std = grouped.std(ddof=1).fillna(0.0).add_suffix("_std")
    out = pd.concat([mean, std], axis=1)
    out["runs"] = grouped.size()
    # rank configurations on validation, never on test
    return out.reset_index().sort_values("val_macro_f1_mean", ascending=False, kind="stable")


def markdown_table(agg: pd.DataFrame, frame: pd.DataFrame) -> str:
    """mean ± std per configuration; bold marks the best mean of each column."""
    if agg.empty:
        return "_no finished runs_\n"
    recall_cols = [c[: -len("_mean")] for c in agg.columns if c.startswith("recall[") and c.endswith("_mean")]
    multilabel = "samples_f1_mean" in agg.columns
    cols = MD_COLUMNS + (MD_MULTILABEL if multilabel else []) + recall_cols
    header = ["model", "loss", "sampler", "runs"] + [c.replace("_", " ") for c in cols] + ["fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    best = {c: agg[f"{c}_mean"].min() if c in LOWER_IS_BETTER else agg[f"{c}_mean"].max()
            for c in cols}
    for _, row in agg.iterrows():
        cells = [row["model"], row["loss"], row["sampler"], str(int(row["runs"]))]
        for c in cols:
            mean, std = row[f"{c}_mean"], row[f"{c}_std"]
            if pd.isna(mean):
                cells.append("–")
                continue
            # one run has no spread to show (its std is stored as 0 in summary.csv)
            text = f"{100 * mean:.1f}" if int(row["runs"]) < 2 else f"{100 * mean:.1f} ± {100 * std:.1f}"
            cells.append(f"**{text}**" if np.isclose(mean, best[c]) else text)
        cells.append(f"{row['fit_seconds_mean']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    notes = ["", "Metrics in % on the test split, mean ± sample std (n − 1) over seeds/folds "
             "(a single run: its value alone); rows ranked by mean VALIDATION macro-F1 (best "
             "first); the best test mean per column in **bold**."]
    feats = frame[(frame["status"] == "ok") & (frame["features"] != "graph")]
    for model, desc in feats.groupby("model")["features"].first().items():
        # feature baselines say which features; label propagation what it propagated
        lead = "saw node features only" if str(desc).startswith(("node features", "structural")) \
            else "saw"
        notes.append(f"- `{model}` {lead}: {desc}.")
    failed = frame[frame["status"] == "failed"]
    for _, row in failed.iterrows():
        notes.append(f"- FAILED `{row['run']}`: {row['error']}")
    return "\n".join(lines + notes) + "\n"


def summarise(out_dir: str | Path, specs: Sequence[Any], *, plots: bool = True) -> pd.DataFrame:
    """Write ``summary.csv``, ``summary.md`` and (optionally) the PNGs; return the rows."""
    out = Path(out_dir)
    frame = rows_from_runs(out, specs)
    atomic_write(out / "summary.csv", lambda tmp: frame.to_csv(tmp, index=False))
    agg = aggregate(frame)
    title = f"# Comparison on `{specs[0].config.dataset}`\n\n" if specs else ""
    atomic_write_text(out / "summary.md", title + markdown_table(agg, frame))
    if plots and not agg.empty:
        write_plots(out, frame, agg)
    return frame


def _best_config(agg: pd.DataFrame) -> pd.Series:
    return agg.loc[agg["val_macro_f1_mean"].idxmax()]


def _predictions(out: Path, frame: pd.DataFrame, cfg: pd.Series) -> tuple[dict, dict]:
    """Predictions and results of the first finished run of a configuration
    (``results["run"]`` names that run's folder)."""
    match = frame[(frame["status"] == "ok") & (frame[CONFIG_KEYS] == cfg[CONFIG_KEYS].values).all(axis=1)]
    run = match.iloc[0]["run"]
    folder = out / "runs" / run
    preds = torch.load(folder / "predictions.pt", weights_only=False)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    results["run"] = run
    return preds, results


def _prevalence_f1(agg: pd.DataFrame, results: dict, names: list[str]) -> Any:
    """Label prevalence (training positives / labelled training nodes) vs mean test F1."""
    from .plots import plot_prevalence_f1

    n_train = max(int(results["metrics"]["train"]["num_nodes"]), 1)
    prevalence = [c / n_train for c in results["class_counts"]["train"]]
    points = {f"{r['model']} · {r['loss']} · {r['sampler']}": [r[f"f1[{n}]_mean"] for n in names]
              for _, r in agg.iterrows()}
    return plot_prevalence_f1(prevalence, points, names)


def write_plots(out: Path, frame: pd.DataFrame, agg: pd.DataFrame) -> list[Path]:
    """The pictures of a comparison, saved as PNG next to the summary: PR curves, recall
    bars, the confusion matrix (multi-label: label prevalence vs F1) and the class
    distribution."""
    from .plots import plot_class_distribution, plot_confusion, plot_pr_curves, plot_recall_bars

    written = []

    def save(fig: Any, name: str) -> None:
        path = out / name
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
        written.append(path)

    best_overall = _best_config(agg)
    _, results = _predictions(out, frame, best_overall)
    names = results["class_names"]

    curves = {}
    for model, group in agg.groupby("model", sort=False):
        cfg = _best_config(group)
        preds, _ = _predictions(out, frame, cfg)
        test = preds["masks"]["test"]
        curves[f"{model} · {cfg['loss']} · {cfg['sampler']}"] = (
            preds["y"][test].numpy(), preds["proba"][test].numpy()
        )
    save(plot_pr_curves(curves, names), "pr_curves.png")

    recall_cols = [f"recall[{n}]" for n in names]
    recalls, errors = {}, {}
    for _, row in agg.iterrows():
        label = f"{row['model']} · {row['loss']} · {row['sampler']}"
        recalls[label] = [row[f"{c}_mean"] for c in recall_cols]
        errors[label] = [row[f"{c}_std"] for c in recall_cols]
    save(plot_recall_bars(recalls, names, errors), "recall_bars.png")

    label = f"{best_overall['model']} · {best_overall['loss']} · {best_overall['sampler']}"
    if results["metrics"]["test"].get("task") == "multilabel":  # no confusion matrix
        save(_prevalence_f1(agg, results, names), "prevalence_f1.png")
        save(plot_class_distribution(results["class_counts"], names,
                                     title=f"Positives per label and split, {results['run']}"),
             "class_distribution.png")
        return written
    save(
        plot_confusion(results["metrics"]["test"]["confusion_matrix"], names,
                       title=f"Confusion matrix (test) of {results['run']}\n"
                             f"(best configuration on validation: {label})"),
        "confusion_matrix.png",
    )
    save(plot_class_distribution(results["class_counts"], names,
                                 title="Labelled nodes per class and split (after induced "
                                       f"imbalance), {results['run']}"),
         "class_distribution.png")
    return written
