"""Time and memory of R-GCN variants: sparse products, RGCNConv, FastRGCNConv, with/without bases.

Each variant runs in its own Python process (so the peak resident memory,
``resource.getrusage(...).ru_maxrss``, belongs to that variant alone): it loads the
graph, builds the ``rgcn`` encoder plus a linear head, runs warm-up epochs, then
times full-graph epochs of forward + cross-entropy backward + Adam step.

Usage::

    python benchmarks/rgcn_variants.py                       # Freebase, 2 threads
    python benchmarks/rgcn_variants.py --dataset synthetic   # no files needed
    python benchmarks/rgcn_variants.py --bases none 2 4 --epochs 5 --threads 2

Peak memory is reported as the process's peak RSS and as the increase over the RSS
after loading the graph ("peak - graph"). Variants whose per-edge weight tensor
(``FastRGCNConv``: edges x hidden x hidden floats) would exceed ``--max-gb`` are
skipped and reported as such.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # benchmarks/_args.py
from _args import (  # noqa: E402
    Parser,
    child_error,
    non_negative_int,
    positive_float,
    positive_int,
    validated,
)


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    """Current resident set size in MiB (from /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _rss_mb()


def load_graph(name: str, seed: int):
    """The benchmark graph: ``freebase`` via the loader, or the synthetic stand-in."""
    from hetero_imb.data.datasets.synthetic import make_synthetic

    if name == "synthetic":
        return make_synthetic(
            num_items=3000, num_users=30000, num_tags=3000, item_features=None, seed=seed
        )
    from hetero_imb.data.datasets import load

    return load(name)


def run_variant(args: argparse.Namespace, implementation: str, num_bases: int | None) -> dict:
    """One variant, in this process: returns timings (s/epoch) and memory (MiB)."""
    import torch

    from hetero_imb.data.graph import labels, num_classes
    from hetero_imb.models.base import NodeClassifier
    from hetero_imb.models.rgcn import RGCNEncoder

    torch.set_num_threads(args.threads)
    data = load_graph(args.dataset, args.seed)
    graph_rss = _current_rss_mb()
    torch.manual_seed(args.seed)
    encoder = RGCNEncoder(
        data,
        hidden=args.hidden,
        num_layers=args.num_layers,
        dropout=0.5,
        num_bases=num_bases,
        implementation=implementation,
        seed=args.seed,
    )
    model = NodeClassifier(encoder, num_classes(data), dropout=0.5)
    data = encoder.preprocess(data)
    y = labels(data)
    train = torch.nonzero(y >= 0).flatten()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    times, cpu_times = [], []
    for epoch in range(args.warmup + args.epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        optimiser.zero_grad()
        z = model.embed(data)
        loss = torch.nn.functional.cross_entropy(model.classify(z[train]), y[train])
        loss.backward()
        optimiser.step()
        if epoch >= args.warmup:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    times.sort()
    cpu_times.sort()
    return {
        "implementation": implementation,
        "num_bases": num_bases,
        "median_s": times[len(times) // 2],
        "min_s": times[0],
        "median_cpu_s": cpu_times[len(cpu_times) // 2],
        "peak_rss_mb": _rss_mb(),
        "peak_over_graph_mb": _rss_mb() - graph_rss,
        "params": sum(p.numel() for p in model.parameters()),
        "num_edges": sum(int(data[e].num_edges) for e in data.edge_types),
        "num_relations": len(data.edge_types),
    }


def _estimate_fast_gb(args: argparse.Namespace) -> float:
    """Size of FastRGCNConv's per-edge weight tensor for one layer, in GiB."""
    data = load_graph(args.dataset, args.seed)
    num_edges = sum(int(data[e].num_edges) for e in data.edge_types)
    return num_edges * args.hidden * args.hidden * 4 / 2**30


def bases_value(text: str) -> str:
    """argparse type of ``--bases``: ``none`` or an integer >= 1 (returned as given)."""
    if text.lower() != "none" and not (text.strip().isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"expected 'none' or an integer >= 1, got {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when every variant ran (or was skipped), 1 when any failed, 2 for
    bad arguments."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="freebase", help="freebase (default) or synthetic")
    parser.add_argument("--hidden", type=positive_int, default=64)
    parser.add_argument("--num-layers", type=positive_int, default=2)
    parser.add_argument("--epochs", type=positive_int, default=5, help="timed epochs per variant")
    parser.add_argument("--warmup", type=non_negative_int, default=1, help="untimed epochs first")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument(
        "--bases", nargs="+", type=bases_value, default=["none", "2", "4"],
        help="num_bases values ('none': full)",
    )
    parser.add_argument(
        "--implementations",
        nargs="+",
        default=["spmm", "rgcn", "fast"],
        choices=["spmm", "rgcn", "fast"],
    )
    parser.add_argument(
        "--max-gb", type=positive_float, default=8.0,
        help="skip FastRGCNConv variants above this estimate",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from hetero_imb.data.datasets import DATASETS

    validated(parser, "--dataset", DATASETS.get, args.dataset, parameter="--dataset")

    if args.worker:  # child process: run one variant, print its JSON
        spec = json.loads(args.worker)
        print(json.dumps(run_variant(args, spec["implementation"], spec["num_bases"])))
        return 0

    fast_gb = _estimate_fast_gb(args) if "fast" in args.implementations else 0.0
    rows = []
    for implementation in args.implementations:
        for bases in args.bases:
            num_bases = None if bases.lower() == "none" else int(bases)
            label = f"{implementation:<5} bases={bases}"
            if implementation == "fast" and fast_gb > args.max_gb:
                rows.append((label, None, f"skipped: per-edge weights ~{fast_gb:.1f} GiB/layer"))
                continue
            spec = json.dumps({"implementation": implementation, "num_bases": num_bases})
            cmd = [sys.executable, __file__, "--worker", spec, *_forward_args(args)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = child_error(proc.stderr)
                rows.append((label, None, f"failed (rc {proc.returncode}): {tail}"))
                continue
            rows.append((label, json.loads(proc.stdout.strip().splitlines()[-1]), ""))

    first = next((r for _, r, _ in rows if r), None)
    if first:
        print(
            f"dataset={args.dataset} edges={first['num_edges']} relations={first['num_relations']} "
            f"hidden={args.hidden} layers={args.num_layers} threads={args.threads} "
            f"epochs={args.epochs} (+{args.warmup} warm-up)"
        )
    print(
        f"{'variant':<18} {'median s/epoch':>14} {'min s/epoch':>12} {'CPU s/epoch':>12} "
        f"{'peak RSS MiB':>13} {'peak-graph MiB':>15} {'params':>9}"
    )
    for label, r, note in rows:
        if r is None:
            print(f"{label:<18} {note}")
        else:
            print(
                f"{label:<18} {r['median_s']:>14.3f} {r['min_s']:>12.3f} {r['median_cpu_s']:>12.3f} "
                f"{r['peak_rss_mb']:>13.0f} "
                f"{r['peak_over_graph_mb']:>15.0f} {r['params']:>9}"
            )
    failed = [label for label, r, note in rows if r is None and note.startswith("failed")]
    if failed:
        print(f"{parser.prog}: error: {len(failed)} of {len(rows)} variants failed (first: "
              f"{' '.join(failed[0].split())}); see the table", file=sys.stderr)
        return 1
    return 0


def _forward_args(args: argparse.Namespace) -> list[str]:
    return [
        "--dataset",
        args.dataset,
        "--hidden",
        str(args.hidden),
        "--num-layers",
        str(args.num_layers),
        "--epochs",
        str(args.epochs),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--seed",
        str(args.seed),
    ]


if __name__ == "__main__":
    sys.exit(main())
