"""``python -m hetero_imb.compare``: a grid of runs, resumable, summarised as tables
and pictures.

Every run writes its own folder under ``OUT/runs/`` (as ``hetero_imb.train`` does);
a folder holding ``results.json`` is finished and is never run again, so a grid that
was interrupted (Ctrl-C, a killed process) and started again with the same arguments
runs only what is missing. A run that fails is recorded (``OUT/runs/<key>/error.json``)
and the grid goes on. The summary files are written atomically from the run folders.
``--jobs N`` runs N runs at once in worker processes (see
:mod:`hetero_imb.training.parallel`); the summary is the same for any N.

Example:
    python -m hetero_imb.compare --config configs/facebook_case_study.yaml --out runs/fb
    python -m hetero_imb.compare --dataset freebase --models mlp,rgcn --losses ce,focal \\
        --seeds 0,1,2 --imbalance step:10 --imbalance-mode mask --out runs/fb-grid --jobs 2
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .._io import (
    OutputPathError,
    atomic_write_json,
    atomic_write_text,
    check_output_dir,
)
from ..data.imbalance import MODE_HELP, MODES
from ..report.results import save_run
from ..report.summary import summarise
from ..training import config as config_mod
from ..training.checks import ConfigError
from ..training.engine import progress_enabled
from ..training.grid import Grid, RunSpec, split_components
from ..training.parallel import check_jobs, imap_unordered, set_threads
from ..training.runner import run, validate_names
from .common import check_roots

log = logging.getLogger(__name__)


def run_grid(
    grid: Grid,
    out_dir: str | Path,
    *,
    progress: bool | None = None,
    echo: Any = None,
    plots: bool = True,
    jobs: int = 1,
    threads: int | None = None,
) -> Path:
    """Run every missing cell of ``grid`` under ``out_dir`` and write the summaries.

    Args:
        grid: The grid.
        out_dir: Output folder (``runs/`` per run, ``summary.csv``, ``summary.md``, PNGs).
        progress: One progress bar over the grid (``None``: only on a terminal).
        echo: Called with one line per finished run (default: ``tqdm.write``).
        plots: Also draw the summary pictures.
        jobs: Runs at once, each in its own worker process (1: one by one, in this
            process). Every run is seeded by its own config, so the summary does not
            depend on ``jobs``.
        threads: Torch threads per run (``None``: torch's default with ``jobs=1``,
            ``max(1, cores // jobs)`` per worker otherwise).

    Returns:
        The output folder.
    """
    check_jobs(jobs)
    out = Path(out_dir)
    specs = list(grid.runs())
    for spec in specs:  # every name checked before the first run starts
        validate_names(spec.config)
    runs_dir = out / "runs"
    todo = []
    for spec in specs:  # a finished run of another configuration: refused before any write
        folder = runs_dir / spec.key
        if (folder / "results.json").is_file():
            _check_same_config(folder, spec)
        else:
            todo.append((spec, folder))
    runs_dir.mkdir(parents=True, exist_ok=True)
    for stale in runs_dir.glob(".*.tmp"):  # staging folders of a killed process
        shutil.rmtree(stale, ignore_errors=True)
    atomic_write_text(out / "grid.yaml", grid.to_yaml())
    write = echo or tqdm.write
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="grid", unit="run",
               disable=not progress_enabled(progress))
    try:
        if jobs == 1:
            _run_here(todo, threads, write, bar)
        else:
            # closing(): Ctrl-C may land here, between two results, as well as inside the
            # generator; either way the generator is closed at once and stops the workers
            # (otherwise it would stay suspended until exit, and the executor's exit hook
            # would wait for the runs in flight)
            with closing(imap_unordered(_run_job, todo, jobs=jobs, threads=threads)) as results:
                for (spec, folder), line, err in results:
                    write(line if err is None else _record_failure(spec, folder, err))
                    bar.update()
    finally:
        bar.close()
    summarise(out, specs, plots=plots)
    return out


def _run_here(todo: list[tuple[RunSpec, Path]], threads: int | None, write: Any, bar: Any) -> None:
    """The runs one by one in this process, with ``threads`` torch threads meanwhile."""
    import torch

    before = torch.get_num_threads()
    set_threads(threads)
    try:
        for spec, folder in todo:
            bar.set_postfix_str(spec.key[:60])
            write(_run_one(spec, folder))
            bar.update()
    finally:
        torch.set_num_threads(before)


def _check_same_config(folder: Path, spec: RunSpec) -> None:
    """Refuse to reuse a finished run whose saved config differs from the grid's (a
    :class:`ConfigError`: the command line exits 2, nothing written)."""
    import yaml

    saved = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")) or {}
    wanted = spec.config.to_dict()
    defaults = config_mod.RunConfig().to_dict()  # keys added since the run was saved
    differ = sorted(k for k in wanted if saved.get(k, defaults[k]) != wanted[k])
    if differ:
        raise ConfigError(
            f"{folder} holds a finished run with a different configuration "
            f"({', '.join(differ)}); use another --out folder or delete that run"
        )


def _run_one(spec: RunSpec, folder: Path) -> str:
    start = time.perf_counter()
    try:
        result = run(spec.config, progress=False)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # recorded, the grid goes on
        return _record_failure(spec, folder, err)
    save_run(result, folder)
    (folder / "error.json").unlink(missing_ok=True)
    test = result.metrics["test"]
    return (
        f"done {spec.key}: test macro-F1 {test['macro_f1']:.4f}, balanced acc "
        f"{test['balanced_accuracy']:.4f} ({time.perf_counter() - start:.1f}s)"
    )


def _run_job(job: tuple[RunSpec, Path]) -> str:
    """One run in a worker process (see :func:`hetero_imb.training.parallel.imap_unordered`)."""
    return _run_one(*job)


def _record_failure(spec: RunSpec, folder: Path, err: BaseException) -> str:
    """Write ``error.json`` for a failed run; return the line to print."""
    log.warning("run %s failed: %s", spec.key, err)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        folder / "error.json",
        {
            "key": spec.key,
            "error": f"{type(err).__name__}: {err}",
            "traceback": "".join(traceback.format_exception(err)),
            "config": spec.config.to_dict(),
        },
    )
    return f"FAILED {spec.key}: {type(err).__name__}: {err}"


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of ``python -m hetero_imb.compare``."""
    from .common import GRID_PARAMETERS, add_component_arguments
    from .errors import Parser
    from .plugins import add_plugin_argument

    parser = Parser(
        prog="python -m hetero_imb.compare",
        description="Run a grid of models x losses x samplers x seeds and summarise it.",
    )
    parser.add_argument("--config", metavar="FILE", help="grid YAML (run-config keys + a 'grid' section)")
    add_component_arguments(parser, GRID_PARAMETERS)
    parser.add_argument("--models", help="comma-separated model names; NAME[key=value,...] "
                        "sets a cell's parameters, e.g. rgcn[hidden=32]")
    parser.add_argument("--losses", help="comma-separated loss names, NAME[key=value,...] "
                        "as in the run folders, e.g. ce,balanced-softmax[tau=0.75]")
    parser.add_argument("--samplers", help="comma-separated sampler names (NAME[key=value,...] "
                        "sets parameters)")
    parser.add_argument("--augmenters", help="comma-separated augmenter names (a grid axis; "
                        "cells other than none are labelled SAMPLER+AUGMENTER)")
    parser.add_argument("--augmenter-param", action="append", metavar="NAME=VALUE",
                        help="parameter of --augmenter (applies to every run of the grid), "
                        "repeatable")
    parser.add_argument("--smoother-param", action="append", metavar="NAME=VALUE",
                        help="parameter of --smoother (applies to every run of the grid), "
                        "repeatable")
    parser.add_argument("--seeds", help="comma-separated seeds, e.g. 0,1,2,3,4")
    parser.add_argument("--cv", type=int, help="stratified K-fold folds instead of seeds")
    parser.add_argument("--imbalance", help="none | counts:a,b,... | step:R | longtail:R")
    parser.add_argument("--imbalance-mode", choices=list(MODES), help=MODE_HELP)
    parser.add_argument("--split", help="stratified | stratified:TR,VA,TE | official | heco:20|40|60")
    parser.add_argument("--epochs", type=int, help="maximum epochs per run")
    parser.add_argument("--patience", type=int, help="early-stopping patience")
    parser.add_argument("--device", help="auto | cpu | cuda")
    parser.add_argument("--root", help="data root (must exist unless --create-root)")
    parser.add_argument("--create-root", action="store_true",
                        help="create the --root folder when it does not exist")
    parser.add_argument("--out", required=True, help="output folder (reuse it to resume)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG pictures")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="runs at once, in N worker processes (default 1); the summary "
                        "does not depend on N")
    parser.add_argument("--threads", type=int, metavar="T",
                        help="torch threads per run (default: torch's own with --jobs 1, "
                        "else max(1, cores // N))")
    add_plugin_argument(parser)
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None)
    bar.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def _names(text: str | None, flag: str) -> list[str] | None:
    if text is None:
        return None
    names = split_components(text)
    if not names:
        raise ValueError(f"{flag} expects comma-separated names, got {text!r}")
    return names


def check_grid_folder(path: str | Path) -> None:
    """Refuse an existing non-empty ``--out`` that is not a comparison grid's folder
    (e.g. a ``train`` run folder), where the grid would mix its files with others'."""
    out = Path(path)
    if out.is_dir() and any(out.iterdir()) and not (
            (out / "grid.yaml").is_file() or (out / "runs").is_dir()):
        kind = "a run folder of hetero_imb.train" if (out / "results.json").is_file() else \
            "a folder that is not a comparison grid's (no grid.yaml, no runs/)"
        raise OutputPathError(f"--out: {out} is {kind}; expected a new folder or a grid "
                              "folder to resume")


def grid_from_args(args: argparse.Namespace) -> Grid:
    """Resolve the grid: defaults ← ``--config`` ← flags."""
    from .common import parse_key_values

    values = config_mod.read_yaml(args.config) if args.config else {}
    seeds = None
    if args.seeds is not None:
        try:
            seeds = [int(s) for s in args.seeds.split(",")]
        except ValueError:
            raise ValueError(f"--seeds expects integers like 0,1,2, got {args.seeds!r}") from None
    return Grid.from_dict(
        values,
        models=_names(args.models, "--models") or ([args.model] if args.model else None),
        losses=_names(args.losses, "--losses") or ([args.loss] if args.loss else None),
        samplers=_names(args.samplers, "--samplers") or ([args.sampler] if args.sampler else None),
        augmenters=_names(args.augmenters, "--augmenters"),
        seeds=seeds,
        cv=args.cv,
        dataset=args.dataset,
        augmenter=args.augmenter,
        augmenter_params=parse_key_values(args.augmenter_param, "--augmenter-param") or None,
        smoother=args.smoother,
        smoother_params=parse_key_values(args.smoother_param, "--smoother-param") or None,
        imbalance=args.imbalance,
        imbalance_mode=args.imbalance_mode,
        split=args.split,
        epochs=args.epochs,
        patience=args.patience,
        device=args.device,
        root=args.root,
        plugins=list(dict.fromkeys([*(values.get("plugins") or []), *(args.plugin or [])])) or None,
    )


def failed_runs(grid: Grid, out_dir: str | Path) -> list[str]:
    """Keys of the grid's runs that hold an ``error.json`` and no ``results.json``."""
    runs_dir = Path(out_dir) / "runs"
    return [
        spec.key for spec in grid.runs()
        if (runs_dir / spec.key / "error.json").is_file()
        and not (runs_dir / spec.key / "results.json").is_file()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every run finished, 1 when any failed (the count is
    printed), 2 for usage and configuration errors, 130 when interrupted."""
    from ..registry import import_plugins
    from .errors import DATA_ERRORS, EXIT_DATA, EXIT_INTERRUPTED, USAGE_ERRORS, exit_code, report
    from .plugins import preload_plugins

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preload_plugins(argv)  # before the parser: --help lists the plugins' components
    except ValueError as err:
        print(f"python -m hetero_imb.compare: error: {err}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        grid = grid_from_args(args)
        import_plugins(grid.base.plugins)  # a grid file's own 'plugins' list
        for spec in grid.runs():
            validate_names(spec.config)
        check_jobs(args.jobs, "--jobs")
        if args.threads is not None:
            check_jobs(args.threads, "--threads")
        check_output_dir(args.out, resume=True)
        check_grid_folder(args.out)
        check_roots([s.config.root for s in grid.runs()], create=args.create_root)
    except (*USAGE_ERRORS, ValueError, TypeError, AttributeError) as err:
        parser.fail(err)
    start = time.perf_counter()
    try:
        out = run_grid(grid, args.out, progress=args.progress, plots=not args.no_plots,
                       jobs=args.jobs, threads=args.threads)
    except KeyboardInterrupt:
        report(parser.prog, "interrupted: run the same command again to resume")
        return EXIT_INTERRUPTED
    except DATA_ERRORS as err:  # e.g. a stale run folder with another configuration
        report(parser.prog, err)
        return exit_code(err)
    failed = failed_runs(grid, out)
    total = len(list(grid.runs()))
    print(f"grid finished in {time.perf_counter() - start:.0f}s: {out / 'summary.md'}")
    print((out / "summary.md").read_text(encoding="utf-8"))
    if failed:
        report(
            parser.prog,
            f"{len(failed)} of {total} runs failed (first: {failed[0]}); see "
            f"{out / 'runs'}/<run>/error.json",
        )
        return EXIT_DATA
    return 0


if __name__ == "__main__":
    sys.exit(main())
