"""R-GCN mini-batch against full batch on the 10M-edge synthetic heterograph.

The graph (``make_synthetic`` with ``items`` item nodes, ``items / 10`` users and
``items / 100`` tags; each item links to 3 users and 2 tags, plus reverse edges: 10
edges per item, so 1M items give 10M edges) is generated once, timed (wall and CPU
seconds), and saved to ``--graph``. Each mode then runs in its own process under
``/usr/bin/time -v`` (peak RSS of that run alone; without GNU time the worker reports
``resource.getrusage``): it loads the saved graph and calls
:func:`hetero_imb.training.runner.run` exactly as ``python -m hetero_imb.train
--dataset synthetic --dataset-option num_items=... --model rgcn [--batch-size 4096
--num-neighbors 10,10]`` would after generating it (stratified 60/20/20 split,
standardised features, then training, evaluation every epoch and the final
prediction of every item). Reported per epoch: wall seconds (training + evaluation),
training and evaluation seconds, process CPU seconds from epoch 2 on (robust on a
loaded machine: with one thread, CPU seconds are what the epoch costs), and the seed nodes trained
per second.

Usage::

    python benchmarks/minibatch_scale.py                                   # 10M edges
    python benchmarks/minibatch_scale.py --items 100000 --mode minibatch   # 1M edges
    python benchmarks/minibatch_scale.py --mode minibatch --batch-size 16384

Runs above ~4 GB must not overlap with other big processes: on a shared machine wrap
the call in ``flock /work/wt/bigmem.lock nice -n 10 ...``.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/_args.py
from _args import (  # noqa: E402
    Parser,
    child_error,
    int_at_least,
    neighbors,
    positive_int,
    validated,
)

#: The modes (mini-batch: ``--batch-size`` seeds, ``--num-neighbors`` fan-out).
MODES = ("full", "minibatch")


def mode_settings(args: argparse.Namespace, mode: str) -> dict:
    """RunConfig settings of ``mode``."""
    if mode == "full":
        return {}
    return {"batch_size": args.batch_size,
            "num_neighbors": [int(k) for k in args.num_neighbors.split(",")]}


def generate(items: int, path: Path) -> dict:
    """Build the graph with :func:`make_synthetic`, save it to ``path``; return timings."""
    import torch

    from hetero_imb.data.datasets.synthetic import make_synthetic

    wall, cpu = time.perf_counter(), time.process_time()
    data = make_synthetic(num_items=items, num_users=items // 10, num_tags=items // 100)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, path)
    edges = sum(int(data[et].num_edges) for et in data.edge_types)
    return {"generate_wall_seconds": round(wall, 1), "generate_cpu_seconds": round(cpu, 1),
            "items": items, "edges": edges}


def run_config(args: argparse.Namespace, mode: str):
    """The RunConfig of ``mode``'s run (as ``hetero_imb.train`` would build it)."""
    from hetero_imb.training.config import RunConfig

    return RunConfig(dataset="synthetic", model="rgcn", epochs=args.epochs, patience=0,
                     device="cpu", split=args.split, **mode_settings(args, mode))


def check_graph(path: Path) -> None:
    """Refuse a ``--graph`` that is neither a saved graph (a ``torch.save`` archive, reused)
    nor a new file that can be written (``ValueError`` naming ``--graph``)."""
    from hetero_imb._io import check_output_file

    if path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(f"--graph expects a graph saved by this script (a torch.save archive) "
                         f"or a new file path, got {str(path)!r} (not a torch.save archive)")
    if not path.exists():
        check_output_file(path, parameter="--graph")
    elif not path.is_file():
        raise ValueError(f"--graph expects a file path, got {str(path)!r} (not a file)")


def worker(args: argparse.Namespace) -> None:
    """One run of ``args.worker`` on the saved graph; prints its figures as JSON."""
    import torch

    from hetero_imb.training.runner import run

    torch.set_num_threads(args.threads)
    data = torch.load(args.graph, weights_only=False)
    config = run_config(args, args.worker)
    cpu_marks: list[float] = []  # CPU clock after each epoch (epoch 1's start is unknown)
    start = time.perf_counter()
    result = run(config, data=data, progress=False,
                 callbacks=[lambda record: cpu_marks.append(time.process_time())])
    train_nodes = int(sum(result.class_counts["train"]))
    history = result.history
    train = [h["train_seconds"] for h in history]
    print(json.dumps({
        "mode": args.worker, **mode_settings(args, args.worker), "epochs": len(history),
        "epoch_seconds": [round(h["seconds"], 1) for h in history],
        "train_seconds": [round(t, 1) for t in train],
        "eval_seconds": [round(h["eval_seconds"], 1) for h in history],
        "epoch_cpu_seconds_from_2": [
            round(b - a, 1) for a, b in zip(cpu_marks, cpu_marks[1:], strict=False)],
        "run_seconds": round(time.perf_counter() - start, 1),
        "seed_nodes_per_second": round(train_nodes / min(train)),
        "train_nodes": train_nodes,
        "test_macro_f1": round(result.metrics["test"]["macro_f1"], 4),
        "peak_rss_gb_getrusage": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }))


def run_mode(args: argparse.Namespace, mode: str) -> dict:
    """Run ``mode`` in a fresh process (under GNU time when present); its figures.

    Raises:
        RuntimeError: the run failed; the message is the child's own error line.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode,
           "--graph", str(args.graph), "--epochs", str(args.epochs),
           "--threads", str(args.threads), "--split", args.split,
           "--batch-size", str(args.batch_size), "--num-neighbors", args.num_neighbors]
    if Path("/usr/bin/time").exists():
        cmd = ["/usr/bin/time", "-v", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} run failed (rc {proc.returncode}): {child_error(proc.stderr)}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    out["peak_rss_gb"] = round(int(rss.group(1)) / 2**20, 2) if rss else out["peak_rss_gb_getrusage"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when every mode ran, 1 when any failed (one line each), 2 for bad
    arguments (nothing generated or run)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int_at_least(100), default=1_000_000,
                        help="item nodes (10 edges each; >= 100, for items / 100 tags)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="repeatable")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--threads", type=positive_int, default=1)
    parser.add_argument("--batch-size", type=positive_int, default=4096,
                        help="mini-batch seed nodes")
    parser.add_argument("--num-neighbors", type=neighbors, default="10,10",
                        help="mini-batch fan-out per hop")
    parser.add_argument("--split", default="stratified:0.6,0.2,0.2",
                        help="the run's split (a semi-supervised one, e.g. stratified:0.05,0.05,0.9, "
                        "trains on fewer seed nodes; full batch costs the same either way)")
    parser.add_argument("--graph", type=Path, default=None,
                        help="saved graph (reused when it exists; default: a file in /tmp)")
    parser.add_argument("--worker", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from hetero_imb.cli.errors import report
    from hetero_imb.training.runner import validate_names

    for mode in args.mode or list(MODES):
        validated(parser, "--split", validate_names, run_config(args, mode), check_dataset=False)
    if args.worker:
        try:
            worker(args)
        except Exception as err:  # one line for the parent, which reports it
            report(parser.prog, f"{type(err).__name__}: {err}")
            return 1
        return 0
    if args.graph is None:
        args.graph = Path("/tmp") / f"hetero_imb_synthetic_{args.items}.pt"
    validated(parser, "--graph", check_graph, args.graph)
    if not args.graph.exists():
        print(json.dumps(generate(args.items, args.graph)), flush=True)
    failed = 0
    for mode in args.mode or list(MODES):
        try:
            print(json.dumps(run_mode(args, mode)), flush=True)
        except RuntimeError as err:
            report(parser.prog, err)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
