"""Argmax and tuned-decision rows of a comparison grid, from its run folders.

``compare``'s summary reports the argmax decisions; a grid run with ``tune_decision``
also saved, per run, the tuned decisions' metrics (``results.json`` -> ``decision``).
This prints both per configuration (mean ± std over seeds, test split, in %), with the
rarest class's recall and average precision, and optionally the decisions of other
``tune_decision`` specs recomputed from each run's ``predictions.pt`` with the
package's own :func:`hetero_imb.training.decision.tune_run` (offsets chosen on the
validation nodes, as a run would have chosen them). A recomputed spec that is also the
run's own is shown once when both agree, else as ``SPEC (all val)`` beside the run's
(e.g. ``min-recall`` runs place their offset on a held-out half of validation).
``--split val`` prints the validation nodes' figures instead, to choose among
configurations without looking at test.

Usage:
    python benchmarks/decision_table.py runs/fb-sparse --rare politician
    python benchmarks/decision_table.py runs/fb-ce --rare politician \\
        --specs balanced-accuracy,min-recall:politician:0.8
    python benchmarks/decision_table.py runs/fb-ce --rare politician --runs-csv rows.csv
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from hetero_imb.training.decision import tune_run


def _row(metrics: dict, rare: str, ap: float) -> list[float]:
    return [metrics["macro_f1"], metrics["balanced_accuracy"],
            metrics["per_class"][rare]["recall"], ap]


def collect(root: Path, rare: str, specs: list[str],
            split: str = "test") -> dict[tuple[str, str], list[list[float]]]:
    """``{(configuration, decision): [[macro-F1, balanced acc, rare recall, rare AP, epochs,
    fit s] per run]}`` of the runs under ``root/runs``, on the ``split`` nodes."""
    rows: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    for path in sorted((root / "runs").glob("*/results.json")):
        res = json.loads(path.read_text())
        names, cfg = res["class_names"], re.sub(r"__seed\d+$", "", path.parent.name)
        saved = torch.load(path.parent / "predictions.pt")
        mask = saved["masks"][split].numpy()
        ap = average_precision_score(saved["y"].numpy()[mask] == names.index(rare),
                                     saved["proba"].numpy()[mask, names.index(rare)])
        cost = [res["timing"]["epochs"], res["timing"]["fit_seconds"]]
        rows[(cfg, "none")].append(_row(res["metrics"][split], rare, ap) + cost)
        own = res.get("decision") or {}
        if own:
            rows[(cfg, own["spec"])].append(_row(own["metrics"][split], rare, ap) + cost)
        for spec in specs:
            out = tune_run(spec, saved["proba"], saved["y"], saved["masks"], names)
            label = out["spec"]
            if own and label == own["spec"]:
                if out["metrics"][split] == own["metrics"][split]:
                    continue  # the run's own decision, already counted
                label = f"{label} (all val)"
            rows[(cfg, label)].append(_row(out["metrics"][split], rare, ap) + cost)
    return rows


def run_rows(root: Path, rare: str) -> list[dict]:
    """One row per run of the grid under ``root/runs``: argmax and (when the run tuned
    one) tuned-decision figures on test and validation, for ``--runs-csv``."""
    out = []
    for path in sorted((root / "runs").glob("*/results.json")):
        res = json.loads(path.read_text())
        row = {"run": path.parent.name, "seed": res["seed"], "epochs": res["timing"]["epochs"],
               "fit_seconds": round(res["timing"]["fit_seconds"], 1)}
        decisions = [("argmax", res["metrics"])]
        if res.get("decision"):
            decisions.append((res["decision"]["spec"], res["decision"]["metrics"]))
        for label, metrics in decisions:
            prefix = "" if label == "argmax" else "tuned_"
            row[f"{prefix}decision"] = label
            for split in ("test", "val"):
                m = metrics[split]
                row[f"{prefix}{split}_macro_f1"] = round(m["macro_f1"], 4)
                row[f"{prefix}{split}_balanced_accuracy"] = round(m["balanced_accuracy"], 4)
                row[f"{prefix}{split}_recall_{rare}"] = round(m["per_class"][rare]["recall"], 4)
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="a compare --out folder")
    parser.add_argument("--rare", required=True, help="class whose recall and AP are shown")
    parser.add_argument("--specs", default="", help="comma-separated extra tune_decision specs")
    parser.add_argument("--split", choices=("test", "val"), default="test",
                        help="nodes the figures are computed on (default test)")
    parser.add_argument("--runs-csv", type=Path, default=None,
                        help="also write one row per run (argmax and tuned figures) to this CSV")
    args = parser.parse_args()
    if args.runs_csv:
        import pandas as pd

        args.runs_csv.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(run_rows(args.grid, args.rare)).to_csv(args.runs_csv, index=False)
    rows = collect(args.grid, args.rare, [s for s in args.specs.split(",") if s], args.split)
    print(f"{args.split} split")
    print(f"| configuration | decision | runs | macro-F1 | balanced accuracy | "
          f"recall[{args.rare}] | AP[{args.rare}] | mean epochs | fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (cfg, spec), values in rows.items():
        a = np.array(values)
        cells = [f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in
                 zip(a[:, :4].mean(0), a[:, :4].std(0, ddof=1) if len(a) > 1 else np.zeros(4), strict=True)]
        print(f"| {cfg} | {spec} | {len(a)} | {' | '.join(cells)} | {a[:, 4].mean():.0f} | "
              f"{a[:, 5].mean():.1f} |")


if __name__ == "__main__":
    main()
