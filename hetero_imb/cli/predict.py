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

from .._io import OutputPathError, atomic_write, check_output_file
from ..data.datasets import DATASETS
from ..registry import UnknownComponentError
from ..report.checkpoint import TrainedModel, load_run
from .common import check_roots, parse_key_values
from .errors import EXIT_DATA, EXIT_USAGE, Parser, one_line, report
from .plugins import add_plugin_argument, preload_plugins


def build_parser() -> Parser:
    """The argument parser of ``python -m hetero_imb.predict``."""
    parser = Parser(
        prog="python -m hetero_imb.predict",
        description="Score target nodes with the model of a finished run folder. Without "
        "--dataset or --graph, the run's own graph (its dataset, imbalance and split) is "
        "rebuilt and scored. Exit status: 0 done, 2 bad input (one line on stderr), 1 a "
        "write that failed.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by hetero_imb.train")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", metavar="NAME",
                        help=f"score every target node of this registered dataset, as loaded "
                        f"(one of: {', '.join(DATASETS)})")
    source.add_argument("--graph", metavar="FILE",
                        help="score a HeteroData saved with torch.save (e.g. built with "
                        "hetero_imb.from_pandas), in the run's schema")
    parser.add_argument("--dataset-option", action="append", metavar="NAME=VALUE",
                        help="loader option with --dataset, repeatable (default: the run's)")
    parser.add_argument("--root", metavar="DIR",
                        help="an existing data root for --dataset or the run's own graph "
                        "(default: the run's)")
    parser.add_argument("--out", metavar="FILE", default="-",
                        help="CSV file to write, replaced if it exists (default '-': "
                        "standard output)")
    add_plugin_argument(parser)
    return parser


def _check_args(parser: Parser, args: argparse.Namespace) -> None:
    """Usage errors found before the model is loaded (exit 2, nothing written)."""
    if args.dataset_option and not args.dataset:
        parser.fail("--dataset-option applies to --dataset; give --dataset NAME with it")
    if args.root is not None and args.graph:
        parser.fail("--root applies to --dataset or the run's own graph, not to --graph")
    if not args.graph:
        check_roots([args.root], create_flag=None)
    if args.out != "-":
        check_output_file(args.out, parameter="--out")


def _load_graph(name: str) -> HeteroData:
    import torch

    path = Path(name)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"--graph {name!r} {what}; expected a file saved with torch.save")
    try:
        graph = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # not a torch file: a pickle, zip or EOF error
        raise ValueError(f"--graph {name!r} is not a file saved with torch.save "
                         f"({type(err).__name__}: {one_line(err)})") from None
    if not isinstance(graph, HeteroData):
        raise ValueError(f"--graph {name!r} holds a {type(graph).__name__}; expected a "
                         "torch_geometric HeteroData")
    return graph


def _input_graph(args: argparse.Namespace, model: TrainedModel) -> HeteroData:
    from ..data.datasets import load
    from ..report.predictions import with_node_ids

    if args.graph:
        return _load_graph(args.graph)
    if args.dataset:
        options = dict(model.config.dataset_options) if args.dataset == model.config.dataset else {}
        options.update(parse_key_values(args.dataset_option, "--dataset-option"))
        return with_node_ids(load(args.dataset, root=args.root or model.config.root, **options))
    return model.graph(root=args.root)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 2 for bad input (not a run folder, a graph the model cannot score),
    1 when the predictions could not be written."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preload_plugins(argv)  # before the parser, whose --help lists their datasets
    except ValueError as err:
        build_parser().fail(err)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_args(parser, args)
        model = load_run(args.run_dir)
        frame = model.predictions(_input_graph(args, model))
    except (FileNotFoundError, UnknownComponentError, OutputPathError, ValueError,
            TypeError) as err:
        report(parser.prog, err)
        return EXIT_USAGE
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
        return 0
    try:
        atomic_write(args.out, lambda tmp: frame.to_csv(tmp, index=False))
    except OSError as err:  # checked writable above: a full disk, a vanished folder
        report(parser.prog, f"--out: could not write {args.out} ({one_line(err)}); nothing "
               "was written")
        return EXIT_DATA
    print(f"{len(frame)} predictions ({model.config.model} from {args.run_dir}) -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
