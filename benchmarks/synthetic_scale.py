"""Peak memory, epoch time and seed nodes per second on the scaled synthetic heterograph.

Each case is one ``python -m hetero_imb.train`` run in a child process under
``/usr/bin/time -v`` (peak RSS: "Maximum resident set size"); without that binary,
the child's ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` is used instead. The
run folder's ``history.jsonl`` gives the seconds of each epoch (training pass plus
the evaluation the loop does each epoch) and ``results.json`` the preprocessing time
(e.g. HAN's meta-path graphs) and test macro-F1. Seed nodes per second = training
nodes / seconds of an epoch (the fastest). On a shared machine wall times grow with
the load; ``cpu_s`` (user + system seconds of the whole run, from ``/usr/bin/time``)
is the figure that load changes least.

The default graph has 1M items, 100k users and 10k tags (9,999,302 edges with the
reverse relations). Runs above ~4 GB should not overlap other big jobs: wrap the whole
script, e.g. ``flock /work/wt/bigmem.lock nice -n 10 python benchmarks/synthetic_scale.py``.

Usage:
    python benchmarks/synthetic_scale.py --cases han hgt sehgnn --epochs 2
    python benchmarks/synthetic_scale.py --cases rgcn-full --items 300000 --users 30000 --tags 3000
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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import Parser, child_error, neighbors, positive_int, validated  # noqa: E402

#: Extra arguments of each case (mini-batch unless the name says full).
CASES = {
    "han": ["--model", "han", "--model-param", "max_metapath_neighbors=5"],
    "han-k20": ["--model", "han", "--model-param", "max_metapath_neighbors=20"],
    "hgt": ["--model", "hgt"],
    "sehgnn": ["--model", "sehgnn"],
    "rgcn": ["--model", "rgcn"],
    "rgcn-full": ["--model", "rgcn"],
    "gat": ["--model", "gat"],
}


def case_config(name: str, args: argparse.Namespace):
    """The RunConfig the case's ``hetero_imb.train`` run builds (to check it first)."""
    from hetero_imb.models import MODELS
    from hetero_imb.training.config import RunConfig

    extra = CASES[name]
    model = extra[extra.index("--model") + 1]
    pairs = [extra[i + 1] for i, flag in enumerate(extra) if flag == "--model-param"]
    minibatch = {} if name.endswith("-full") else {
        "batch_size": args.batch_size,
        "num_neighbors": [int(k) for k in args.num_neighbors.split(",")]}
    return RunConfig(
        dataset="synthetic", dataset_options={"num_items": args.items, "num_users": args.users,
                                              "num_tags": args.tags},
        model=model, model_params=MODELS.parse(model, pairs, flag="--model-param"),
        split=args.split, epochs=args.epochs, patience=0, device="cpu", **minibatch)


def check_args(parser: Parser, args: argparse.Namespace) -> None:
    """Every case's run checked as ``hetero_imb.train`` would check it, and ``--out``;
    exit 2 with one line on the first problem. Nothing is created."""
    from hetero_imb._io import check_output_dir
    from hetero_imb.data.datasets import DATASETS
    from hetero_imb.training.config import RunConfig
    from hetero_imb.training.runner import validate_names

    validated(parser, "--split", validate_names, RunConfig(dataset="synthetic", split=args.split),
              check_dataset=False)
    validated(parser, "--items/--users/--tags", DATASETS.validate, "synthetic",
              {"num_items": args.items, "num_users": args.users, "num_tags": args.tags})
    for name in args.cases:
        validated(parser, "--cases", lambda n: validate_names(case_config(n, args)), name)
    if args.out is not None:
        validated(parser, "--out", check_output_dir, args.out, parameter="--out", resume=True)


def run_case(name: str, args: argparse.Namespace, out: Path) -> dict:
    """One training run; returns its figures."""
    cmd = [sys.executable, "-m", "hetero_imb.train", "--dataset", "synthetic",
           "--dataset-option", f"num_items={args.items}", "--dataset-option", f"num_users={args.users}",
           "--dataset-option", f"num_tags={args.tags}", "--split", args.split,
           "--epochs", str(args.epochs), "--patience", "0", "--threads", str(args.threads),
           "--device", "cpu", "--no-progress", "--out", str(out), "--overwrite",
           "--root", str(out.parent / "root"), "--create-root", *CASES[name]]
    if not name.endswith("-full"):
        cmd += ["--batch-size", str(args.batch_size), "--num-neighbors", args.num_neighbors]
    timer = shutil.which("time") and Path("/usr/bin/time").exists()
    start = time.perf_counter()
    if timer:
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        peak_kb = int(match.group(1)) if match else -1
        cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr)
    else:
        wrapper = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
                   "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
                   "file=sys.stderr); sys.exit(rc)")
        proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
        match = re.search(r"PEAK_KB (\d+)", proc.stderr)
        peak_kb = int(match.group(1)) if match else -1
        cpu = []
    wall = time.perf_counter() - start
    row = {"case": name, "rc": proc.returncode, "peak_rss_gib": round(peak_kb / 2**20, 2),
           "wall_s": round(wall, 1), "cpu_s": round(sum(map(float, cpu)), 1) if cpu else None,
           "load_after": round(os.getloadavg()[0], 1), "command": " ".join(cmd)}
    if proc.returncode != 0:
        row["error"] = child_error(proc.stderr)
        return row
    results = json.loads((out / "results.json").read_text())
    epochs = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    train_nodes = sum(results.get("class_counts", {}).get("train", []) or [0])
    row.update(
        epoch_s=[round(e["seconds"], 1) for e in epochs],
        preprocess_s=round(results.get("timing", {}).get("preprocess_seconds", float("nan")), 1),
        train_nodes=train_nodes,
        seeds_per_s=round(train_nodes / min(e["seconds"] for e in epochs), 1),
        test_macro_f1=results.get("metrics", {}).get("test", {}).get("macro_f1"),
    )
    return row


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when every case ran, 1 when any failed (its row holds the child's
    error; one line on stderr says how many), 2 for bad arguments (nothing run or created)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["han", "hgt", "sehgnn"], choices=sorted(CASES))
    parser.add_argument("--items", type=positive_int, default=1_000_000)
    parser.add_argument("--users", type=positive_int, default=100_000)
    parser.add_argument("--tags", type=positive_int, default=10_000)
    parser.add_argument("--split", default="stratified:0.05,0.05,0.9",
                        help="train/val/test fractions (a small train share keeps epochs short)")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--batch-size", type=positive_int, default=4096)
    parser.add_argument("--num-neighbors", type=neighbors, default="10,10")
    parser.add_argument("--threads", type=positive_int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="keep run folders here")
    args = parser.parse_args(argv)
    check_args(parser, args)
    base = args.out or Path(tempfile.mkdtemp(prefix="synthetic_scale_"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  load {os.getloadavg()[0]:.1f}  "
          f"items={args.items} users={args.users} tags={args.tags}", flush=True)
    failed = []
    for name in args.cases:
        row = run_case(name, args, base / name)
        print(json.dumps(row), flush=True)
        if row["rc"] != 0:
            failed.append(f"{name}: {row['error']}")
    if failed:
        print(f"{parser.prog}: error: {len(failed)} of {len(args.cases)} cases failed (first: "
              f"{failed[0]}); see the rows' error fields", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
