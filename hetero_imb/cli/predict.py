"""``python -m hetero_imb.predict``: score a graph with a saved run's model.

Writes one row per target node: the user's node id, the split and true label where
the graph has them, the predicted class name (tuned decision offsets applied when
the run has them) and one probability column per class.

Example:
    python -m hetero_imb.predict runs/facebook-gcn-ce-seed0 --out predictions.csv
    python -m hetero_imb.predict runs/facebook-gcn-ce-seed0 --dataset facebook --out all.csv
    python -m hetero_imb.predict runs/my-run --graph new_graph.pt --out new.csv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from torch_geometric.data import HeteroData

from .._io import atomic_write
from ..registry import UnknownComponentError
from ..report.checkpoint import TrainedModel, load_run
from .common import parse_key_values
from .plugins import add_plugin_argument, preload_plugins


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m hetero_imb.predict``."""
    parser = argparse.ArgumentParser(
        prog="python -m hetero_imb.predict",
        description="Score target nodes with the model of a finished run folder. Without "
        "--dataset or --graph, the run's own graph (its dataset, imbalance and split) is "
        "rebuilt and scored.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by hetero_imb.train")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME",
                        help="score every target node of this registered dataset, as loaded")
    source.add_argument("--graph", metavar="FILE",
                        help="score a HeteroData saved with torch.save (e.g. built with "
                        "hetero_imb.from_pandas), in the run's schema")
    parser.add_argument("--dataset-option", action="append", metavar="NAME=VALUE",
                        help="loader option with --dataset, repeatable (default: the run's)")
    parser.add_argument("--root", metavar="DIR", help="data root with --dataset (default: the run's)")
    parser.add_argument("--out", metavar="FILE", default="-",
                        help="CSV file to write (default '-': standard output)")
    add_plugin_argument(parser)
    return parser


def _input_graph(args: argparse.Namespace, model: TrainedModel) -> HeteroData | None:
    from ..data.datasets import load
    from ..report.predictions import with_node_ids

    if args.graph:
        import torch

        path = Path(args.graph)
        if not path.is_file():
            raise ValueError(f"--graph {args.graph!r} does not exist")
        return torch.load(path, map_location="cpu", weights_only=False)
    if args.dataset:
        options = dict(model.config.dataset_options) if args.dataset == model.config.dataset else {}
        options.update(parse_key_values(args.dataset_option, "--dataset-option"))
        return with_node_ids(load(args.dataset, root=args.root or model.config.root, **options))
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 2 for bad input (not a run folder, a graph the model cannot score)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preload_plugins(argv)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        model = load_run(args.run_dir)
        frame = model.predictions(_input_graph(args, model))
    except (FileNotFoundError, UnknownComponentError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
    else:
        atomic_write(args.out, lambda tmp: frame.to_csv(tmp, index=False))
        print(f"{len(frame)} predictions ({model.config.model} from {args.run_dir}) -> {args.out}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
