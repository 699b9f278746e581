"""R-GCN mini-batch against full batch on the 10M-edge synthetic heterograph.

Each configuration runs ``python -m hetero_imb.train`` in its own process under
``/usr/bin/time -v`` (peak RSS of that process alone; without GNU time, a
``resource.getrusage`` wrapper gives the same figure), writes its run folder to a
temporary directory and reads the per-epoch history from it: epoch seconds (training
plus evaluation), training seconds, evaluation seconds, and the seed nodes trained
per second (training nodes / training seconds). ``--generate`` also times the graph
generator alone, in this process.

Usage::

    python benchmarks/minibatch_scale.py --mode full --mode minibatch    # 10M edges
    python benchmarks/minibatch_scale.py --items 100000 --mode minibatch  # 1M edges

The graph has ``items`` item (target) nodes, ``items / 10`` users and ``items / 100``
tags; each item links to 3 users and 2 tags, plus reverse edges: 10 edges per item
(1M items: 10M edges). Runs above ~4 GB must not overlap with other big processes:
wrap the call in ``flock /work/wt/bigmem.lock nice -n 10 ...`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The train CLI flags of each mode (besides dataset, model, epochs, threads).
MODES = {
    "full": [],
    "minibatch": ["--batch-size", "4096", "--num-neighbors", "10,10"],
}

WRAPPER = (
    "import resource, runpy, sys; sys.argv = ['hetero_imb.train'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('hetero_imb.train', run_name='__main__')\n"
    "finally:\n    print('Maximum resident set size (kbytes): %d' % "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _command(args: argparse.Namespace, mode: str, out: Path) -> list[str]:
    items = args.items
    flags = [
        "--dataset", "synthetic", "--dataset-option", f"num_items={items}",
        "--dataset-option", f"num_users={items // 10}",
        "--dataset-option", f"num_tags={items // 100}",
        "--model", "rgcn", "--epochs", str(args.epochs), "--patience", "0",
        "--threads", str(args.threads), "--out", str(out), "--overwrite", "--no-progress",
        *MODES[mode], *args.extra,
    ]
    if shutil.which("time") and Path("/usr/bin/time").exists():
        return ["/usr/bin/time", "-v", sys.executable, "-m", "hetero_imb.train", *flags]
    return [sys.executable, "-c", WRAPPER, *flags]


def run_mode(args: argparse.Namespace, mode: str) -> dict:
    """Run one configuration; return its figures."""
    with tempfile.TemporaryDirectory(prefix="mb-scale-") as tmp:
        out = Path(tmp) / "run"
        cmd = _command(args, mode, out)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
        results = json.loads((out / "results.json").read_text())
    train_nodes = sum(results["class_counts"]["train"].values()) if isinstance(
        results["class_counts"]["train"], dict) else sum(results["class_counts"]["train"])
    rows = {
        "mode": mode, "items": args.items, "edges": 10 * args.items, "epochs": len(history),
        "wall_seconds": round(wall, 1), "peak_rss_gb": round(int(rss.group(1)) / 2**20, 2) if rss else None,
        "epoch_seconds": [round(h["seconds"], 1) for h in history],
        "train_seconds": [round(h["train_seconds"], 1) for h in history if "train_seconds" in h],
        "eval_seconds": [round(h["eval_seconds"], 1) for h in history if "eval_seconds" in h],
        "fit_seconds": round(results["timing"]["fit_seconds"], 1),
        "test_macro_f1": round(results["metrics"]["test"]["macro_f1"], 4),
        "train_nodes": train_nodes, "command": " ".join(cmd[cmd.index("-m"):] if "-m" in cmd else cmd),
    }
    if rows["train_seconds"]:
        rows["seed_nodes_per_second"] = round(train_nodes / min(rows["train_seconds"]))
    return rows


def time_generator(items: int) -> float:
    """Seconds to build the graph with :func:`make_synthetic` in this process."""
    sys.path.insert(0, str(ROOT))
    from hetero_imb.data.datasets.synthetic import make_synthetic

    start = time.perf_counter()
    make_synthetic(num_items=items, num_users=items // 10, num_tags=items // 100)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="item nodes (10 edges each)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="repeatable")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--generate", action="store_true", help="also time the generator alone")
    parser.add_argument("extra", nargs="*", help="more train flags, after --")
    args = parser.parse_args()
    if args.generate:
        print(json.dumps({"generate_seconds": round(time_generator(args.items), 1),
                          "items": args.items}), flush=True)
    for mode in args.mode or list(MODES):
        print(json.dumps(run_mode(args, mode)), flush=True)


if __name__ == "__main__":
    main()
