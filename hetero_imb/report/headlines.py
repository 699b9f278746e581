"""Published headline figures, generated from the committed grid summaries.

The README's "Measured results" table and the case-study page's comparison with the
published Facebook figures are written between ``<!-- headlines:NAME:start -->`` and
``<!-- headlines:NAME:end -->`` markers from ``docs/case_studies/*/summary.csv``
(one row per run, written by ``python -m hetero_imb.compare``), with the same means
and rounding as the grid tables. A test regenerates them and fails when the text
disagrees, so a number is changed by re-running a grid, never by hand::

    python -m hetero_imb.report.headlines --write          # README.md and docs/case_studies.md
    python -m hetero_imb.report.headlines --check          # exit 1 when out of date

Test-node counts come from the study's own ``grid.yaml`` (the split is recomputed,
which needs the dataset); pass ``--no-counts`` to keep the counts already written.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .summary import aggregate

__all__ = ["BLOCKS", "render", "study_table", "update_text"]

ROOT = Path(__file__).resolve().parents[2]
LABELS = {"macro_f1": "macro-F1", "balanced_accuracy": "balanced accuracy"}
MODEL_NAMES = {"han": "HAN", "gcn": "GCN", "gat": "GAT", "rgcn": "R-GCN", "mlp": "MLP",
               "xgboost": "XGBoost", "metapath2vec": "metapath2vec"}
STUDIES = ROOT / "docs" / "case_studies"


def study_table(study: str, root: Path = ROOT) -> pd.DataFrame:
    """Per-configuration means and stds of a committed study (``aggregate`` of its rows)."""
    frame = pd.read_csv(root / "docs" / "case_studies" / study / "summary.csv",
                        keep_default_na=False, na_values=[""])
    return aggregate(frame).set_index(["model", "loss", "sampler"])


def _pct(table: pd.DataFrame, key: tuple[str, str, str], metric: str, std: bool = False) -> str:
    row = table.loc[key]
    text = f"{100 * row[f'{metric}_mean']:.1f}"
    return text + (f" ± {100 * row[f'{metric}_std']:.1f}" if std else "")


def _headline_row(table: pd.DataFrame, setting: str, model: str | None, target: str,
                  second: str, target_gain: float, no_cost: bool) -> str:
    """``ce`` against the other losses of ``model`` (``None``: the model of the row ranked
    first on validation macro-F1), the best of them chosen by ``target``."""
    if model is None:
        model = table.index[0][0]  # aggregate() ranks rows by validation macro-F1
        setting = setting.format(model=MODEL_NAMES.get(model, model))
    rows = [k for k in table.index if k[0] == model]
    ce = (model, "ce", "none")
    others = [k for k in rows if k != ce]
    best = max(others, key=lambda k: table.loc[k][f"{target}_mean"])
    name = best[1] if best[2] == "none" else f"{best[1]} + {best[2]}"
    gain = round(100 * (table.loc[best][f"{target}_mean"] - table.loc[ce][f"{target}_mean"]), 1)
    cost = round(100 * (table.loc[ce][f"{second}_mean"] - table.loc[best][f"{second}_mean"]), 1)
    met = gain >= target_gain and (cost <= 0 or not no_cost)
    verdict = (f"{gain:+.1f} points" + (f", {LABELS.get(second, second)} {-cost:+.1f}" if no_cost else "")
               + f" (target {target_gain:+g}{' at no cost' if no_cost else ''}: "
               + ("met" if met else "not met") + ")")
    return (f"| {setting} | {_pct(table, ce, target)} % / {_pct(table, ce, second)} % | "
            f"{name} {_pct(table, best, target)} % / {_pct(table, best, second)} % | {verdict} |")


def readme_block(root: Path = ROOT) -> str:
    """The README's headline table."""
    fb, fs = study_table("facebook", root), study_table("freebase-step10", root)
    return "\n".join([
        "| setting | `ce` | best balancing loss of the grid (by the target metric) | gain |",
        "|---|---|---|---|",
        _headline_row(fb, "Facebook case study, GCN: politician recall / macro-F1", "gcn",
                      "recall[politician]", "macro_f1", 10, True),
        _headline_row(fs, "Freebase step-10 case study, {model} (first on validation): "
                      "balanced accuracy / macro-F1", None, "balanced_accuracy", "macro_f1", 5, False),
    ])


def split_test_counts(study: str, root: Path = ROOT) -> list[list[int]]:
    """Test nodes per class for every seed of a study's grid (recomputes the split)."""
    import yaml

    from ..data.datasets import load
    from ..data.graph import class_counts_by_split
    from ..training.runner import prepare_data

    values = yaml.safe_load((root / "docs" / "case_studies" / study / "grid.yaml").read_text())
    data = load(values["dataset"], root=values.get("root"), **(values.get("dataset_options") or {}))
    return [class_counts_by_split(prepare_data(
        data, imbalance=values["imbalance"], imbalance_mode=values["imbalance_mode"],
        split=values["split"], seed=seed))["test"] for seed in values["grid"]["seeds"]]


def published_block(counts: Sequence[int], root: Path = ROOT) -> str:
    """Ours beside the published Facebook case study (test per-class counts ``counts``)."""
    fb = study_table("facebook", root)
    gcn = ("gcn", "ce", "none")
    per_class = " / ".join(str(c) for c in counts)
    lines = [
        f"Ours, `ce`, 5 seeds of {sum(counts):,} test nodes each ({per_class} per class):",
        "",
        "| | published (1 split, 242 test nodes) | ours (`ce`, mean ± std, 5 seeds) |",
        "|---|---|---|",
        f"| MLP accuracy | 76.5 | {_pct(fb, ('mlp', 'ce', 'none'), 'accuracy', True)} |",
        f"| XGBoost accuracy | 83.9 | {_pct(fb, ('xgboost', 'ce', 'none'), 'accuracy', True)} |",
        f"| GCN accuracy | 90.9 | {_pct(fb, gcn, 'accuracy', True)} |",
    ]
    for name, published in (("tvshow", "96.6"), ("company", "88.1"), ("government", "71.4"),
                            ("politician", "75.0")):
        lines.append(f"| GCN {name} | {published} | {_pct(fb, gcn, f'recall[{name}]', True)} |")
    return "\n".join(lines)


#: Generated blocks: name → (file relative to the root, what renders it).
BLOCKS = {"readme": "README.md", "published": "docs/case_studies.md"}
_COUNTS = re.compile(r"of ([\d,]+) test nodes each \(([\d /]+) per class\)")


def render(name: str, text: str, root: Path = ROOT, counts: bool = True) -> str:
    """The content of block ``name``; without ``counts`` the per-class test counts
    already in ``text`` are kept (no dataset needed)."""
    if name == "readme":
        return readme_block(root)
    if counts:
        per_class = split_test_counts("facebook", root)
        if any(c != per_class[0] for c in per_class):
            raise ValueError(f"test counts differ between seeds: {per_class}")
        return published_block(per_class[0], root)
    found = _COUNTS.search(text)
    if found is None:
        raise ValueError("no 'of N test nodes each (a / b / ... per class)' in the published block")
    return published_block([int(c) for c in found.group(2).split(" / ")], root)


def update_text(text: str, name: str, block: str) -> str:
    """``text`` with the block ``name`` replaced by ``block``.

    Example:
        >>> update_text("a\\n<!-- headlines:x:start -->\\nold\\n<!-- headlines:x:end -->\\n", "x", "new")
        'a\\n<!-- headlines:x:start -->\\nnew\\n<!-- headlines:x:end -->\\n'
    """
    pattern = re.compile(
        rf"(<!-- headlines:{name}:start[^>]*-->\n)(.*?)(\n<!-- headlines:{name}:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"no <!-- headlines:{name}:start --> ... end markers found")
    return pattern.sub(lambda m: m.group(1) + block + m.group(3), text, count=1)


def main(argv: Sequence[str] | None = None) -> int:
    """``--write`` updates the files, ``--check`` exits 1 when any block is stale."""
    parser = argparse.ArgumentParser(prog="python -m hetero_imb.report.headlines",
                                     description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated blocks")
    mode.add_argument("--check", action="store_true", help="exit 1 if a block is out of date")
    parser.add_argument("--no-counts", action="store_true",
                        help="keep the written test-node counts (no dataset needed)")
    args = parser.parse_args(argv)
    stale = []
    for name, rel in BLOCKS.items():
        path = ROOT / rel
        text = path.read_text(encoding="utf-8")
        new = update_text(text, name, render(name, text, counts=not args.no_counts))
        if new != text:
            stale.append(rel)
            if args.write:
                path.write_text(new, encoding="utf-8")
    verb = "updated" if args.write else "out of date"
    sys.stdout.write(f"{verb}: {', '.join(stale)}\n" if stale else "headlines up to date\n")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
