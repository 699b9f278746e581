"""Test metrics of a multi-label grid at the per-label thresholds tuned on validation.

``hetero_imb.compare`` tabulates the test metrics at the 0.5 threshold (summary.md);
with ``tune_decision: macro-f1`` each run's results.json also holds the metrics at the
thresholds tuned on validation (``decision.metrics``). This script collects those, one
row per run, into ``tuned.csv`` next to the committed summary and prints the mean ± std
table (rows in the order of summary.md: validation macro-F1 at 0.5, best first).

    python docs/case_studies/tuned_table.py runs/imdb-case-study docs/case_studies/imdb
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["macro_f1", "micro_f1", "samples_f1", "hamming_loss", "rare_quarter_macro_f1"]
KEYS = ["model", "loss", "sampler"]


def collect(grid: Path) -> pd.DataFrame:
    """One row per finished run: its configuration and tuned test metrics."""
    summary = pd.read_csv(grid / "summary.csv", keep_default_na=False, na_values=[""])
    rows = []
    for _, run in summary[summary["status"] == "ok"].iterrows():
        res = json.loads((grid / "runs" / run["run"] / "results.json").read_text(encoding="utf-8"))
        tuned = res["decision"]["metrics"]
        rows.append({**{k: run[k] for k in [*KEYS, "seed"]}, "run": run["run"],
                     "val_macro_f1": tuned["val"]["macro_f1"],
                     **{c: tuned["test"][c] for c in COLUMNS}})
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame, order: pd.DataFrame) -> str:
    """mean ± std (%) per configuration, in the row order of ``order``."""
    grouped = frame.groupby(KEYS, sort=False)
    mean, std = grouped[COLUMNS].mean(), grouped[COLUMNS].std(ddof=1).fillna(0.0)
    lines = ["| model | loss | sampler | runs | " + " | ".join(c.replace("_", " ") for c in COLUMNS)
             + " |", "|" + "---|" * (4 + len(COLUMNS))]
    for key in order[KEYS].drop_duplicates().itertuples(index=False):
        if tuple(key) not in mean.index:
            continue
        cells = [*key, str(grouped.size()[tuple(key)])]
        cells += [f"{100 * mean.loc[tuple(key), c]:.1f} ± {100 * std.loc[tuple(key), c]:.1f}"
                  for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    grid, committed = Path(sys.argv[1]), Path(sys.argv[2])
    committed.mkdir(parents=True, exist_ok=True)
    frame = collect(grid)
    frame.to_csv(committed / "tuned.csv", index=False)
    order = pd.read_csv(grid / "summary.csv").groupby(KEYS, sort=False)["val_macro_f1"] \
        .mean().sort_values(ascending=False, kind="stable").reset_index()
    text = table(frame, order)
    (committed / "tuned.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
