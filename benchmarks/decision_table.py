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
configurations without looking at test. ``--against LOSS`` adds a paired table: per
configuration, the per-seed difference of its argmax figures from the same model's run
with ``LOSS`` (no sampler, no augmenter) on the same seed, with its standard error and
the number of seeds where the configuration is ahead; pairing removes the spread that
the seeds' splits share, which dominates where the rare class has few test nodes.

Usage:
    python benchmarks/decision_table.py runs/fb-sparse --rare politician
    python benchmarks/decision_table.py runs/fb-ce --rare politician \\
        --specs balanced-accuracy,min-recall:politician:0.8
    python benchmarks/decision_table.py runs/fb-ce --rare politician --runs-csv rows.csv
    python benchmarks/decision_table.py runs/fbase-drop --rare class_1 --against weighted
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from hetero_imb._io import check_output_file
from hetero_imb.training.decision import parse_decision, tune_run

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import Parser, validated, warn  # noqa: E402

#: A run folder's repeat: ``seedN`` (a grid over seeds) or ``foldN`` (``--cv``).
_REPEAT = re.compile(r"__(seed|fold)(\d+)$")


def grid_runs(root: Path) -> list[tuple[Path, str, tuple[str, int], dict]]:
    """``(folder, configuration, repeat, results.json)`` of each run under ``root/runs``
    in name order; ``repeat`` is the folder's tail, ``("seed", 3)`` or ``("fold", 3)``."""
    out = []
    for path in sorted((root / "runs").glob("*/results.json")):
        tail = _REPEAT.search(path.parent.name)
        cfg = path.parent.name[:tail.start()] if tail else path.parent.name
        repeat = (tail.group(1), int(tail.group(2))) if tail else ("", 0)
        out.append((path.parent, cfg, repeat, json.loads(path.read_text())))
    return out


def failed_runs(root: Path) -> list[str]:
    """Names of the run folders under ``root/runs`` that hold an ``error.json`` (the run
    failed) and no ``results.json``: left out of every table."""
    return sorted(path.parent.name for path in (root / "runs").glob("*/error.json")
                  if not (path.parent / "results.json").is_file())


def _row(metrics: dict, rare: str, ap: float) -> list[float]:
    return [metrics["macro_f1"], metrics["balanced_accuracy"],
            metrics["per_class"][rare]["recall"], ap]


def collect(root: Path, rare: str, specs: list[str],
            split: str = "test") -> dict[tuple[str, str], list[list[float]]]:
    """``{(configuration, decision): [[macro-F1, balanced acc, rare recall, rare AP, epochs,
    fit s] per run]}`` of the runs under ``root/runs``, on the ``split`` nodes."""
    rows: dict[tuple[str, str], list[list[float]]] = defaultdict(list)
    for folder, cfg, _, res in grid_runs(root):
        names = res["class_names"]
        saved = torch.load(folder / "predictions.pt")
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
    for folder, _, _, res in grid_runs(root):
        row = {"run": folder.name, "seed": res["seed"], "epochs": res["timing"]["epochs"],
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


def paired(root: Path, rare: str, against: str,
           split: str = "test") -> dict[str, np.ndarray]:
    """``{configuration: [[balanced acc, rare recall] difference per seed]}``: each run's
    argmax figures minus those of the run of the same model and seed (or fold, in a
    ``--cv`` grid) with the loss ``against`` (configuration ``MODEL__AGAINST__none``), in
    seed order; seeds without that run are left out, and the baseline configurations
    themselves are not listed."""
    found: dict[str, dict[tuple[str, int], np.ndarray]] = defaultdict(dict)
    for _, cfg, repeat, res in grid_runs(root):
        m = res["metrics"][split]
        found[cfg][repeat] = np.array([m["balanced_accuracy"], m["per_class"][rare]["recall"]])
    out = {}
    for cfg, runs in found.items():
        base = found.get(f"{cfg.split('__')[0]}__{against}__none", {})
        seeds = sorted(set(runs) & set(base))
        if cfg.split("__")[1:] != [against, "none"] and seeds:
            out[cfg] = np.array([runs[s] - base[s] for s in seeds])
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 with the table (a stderr line says how many runs failed and are
    left out), 1 when every run of the grid failed, 2 for bad arguments (nothing written)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="a compare --out folder")
    parser.add_argument("--rare", required=True, help="class whose recall and AP are shown")
    parser.add_argument("--specs", default="", help="comma-separated extra tune_decision specs")
    parser.add_argument("--split", choices=("test", "val"), default="test",
                        help="nodes the figures are computed on (default test)")
    parser.add_argument("--runs-csv", type=Path, default=None,
                        help="also write one row per run (argmax and tuned figures) to this CSV")
    parser.add_argument("--against", default="",
                        help="also print, per configuration, the mean and standard error of its "
                             "per-seed difference from the same model with this loss "
                             "(argmax), e.g. weighted")
    args = parser.parse_args(argv)
    specs = [s for s in args.specs.split(",") if s]
    decisions = [validated(parser, "--specs", parse_decision, spec) for spec in specs]
    if args.runs_csv:
        validated(parser, "--runs-csv", check_output_file, args.runs_csv, parameter="--runs-csv")
    runs = grid_runs(args.grid)
    failed = failed_runs(args.grid)
    if not runs and failed:
        print(f"{parser.prog}: error: every run of the grid failed ({len(failed)} under "
              f"{args.grid / 'runs'} with error.json and no results.json, first: {failed[0]}); "
              f"nothing to tabulate", file=sys.stderr)
        return 1
    if not runs:
        parser.error(f"grid must be a compare --out folder with runs/*/results.json, "
                     f"got {str(args.grid)!r} (no run found)")
    names = runs[0][3]["class_names"]
    if args.rare not in names:
        parser.error(f"--rare must be one of the grid's classes ({', '.join(names)}), "
                     f"got {args.rare!r}")
    for spec, decision in zip(specs, decisions, strict=True):
        if decision.target_class is not None and decision.target_class not in names:
            parser.error(f"--specs {spec!r} names class {decision.target_class!r}; expected "
                         f"one of the grid's classes ({', '.join(names)})")
    pairs = paired(args.grid, args.rare, args.against, args.split) if args.against else {}
    if args.against and not pairs:
        losses = sorted({cfg.split("__")[1] for _, cfg, _, _ in runs if "__" in cfg})
        parser.error(f"--against must be a loss whose runs (MODEL__LOSS__none) share their "
                     f"model and seeds with other runs of the grid, got {args.against!r}: none "
                     f"do (grid losses: {', '.join(losses) or 'none'})")
    if args.runs_csv:
        import pandas as pd

        args.runs_csv.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(run_rows(args.grid, args.rare)).to_csv(args.runs_csv, index=False)
    rows = collect(args.grid, args.rare, specs, args.split)
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
    if args.against:
        print(f"\npaired against MODEL + {args.against} on the same seed, argmax, points "
              f"(mean ± standard error)")
        print(f"| configuration | seeds | balanced accuracy | recall[{args.rare}] | seeds ahead (balanced accuracy) |")
        print("|---|---|---|---|---|")
        for cfg, diff in sorted(pairs.items()):
            se = diff.std(0, ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.zeros(2)
            cells = [f"{100 * m:+.1f} ± {100 * e:.1f}" for m, e in zip(diff.mean(0), se, strict=True)]
            print(f"| {cfg} | {len(diff)} | {' | '.join(cells)} | "
                  f"{int((diff[:, 0] > 0).sum())}/{len(diff)} |")
    if failed:
        warn(parser.prog, f"{len(failed)} of {len(failed) + len(runs)} runs failed and are left "
                          f"out of the table (first: {failed[0]}); see "
                          f"{args.grid / 'runs'}/<run>/error.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
