"""``python -m hetero_imb.train``: one run of a model, loss and sampler on a dataset.

Example:
    python -m hetero_imb.train --dataset freebase --model rgcn --loss focal
    python -m hetero_imb.train --config configs/facebook_case_study.yaml --model gcn
    torchrun --nproc-per-node 2 -m hetero_imb.train --dataset facebook --batch-size 512
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._io import check_output_dir
from ..balancing.augmenters import AUGMENTERS
from ..balancing.losses import LOSSES
from ..balancing.samplers import SAMPLERS
from ..data.imbalance import MODE_HELP, MODES
from ..models.smoothers import SMOOTHERS
from ..registry import import_plugins
from ..report.metrics import format_report
from ..report.results import RunResult, save_run
from ..training import config as config_mod
from ..training import distributed
from ..training.callbacks import ProgressLines, TensorBoardLogger
from ..training.parallel import check_jobs, set_threads
from ..training.runner import run, validate_names
from .common import add_component_arguments, check_roots, component_params, parse_key_values
from .errors import DATA_ERRORS, EXIT_INTERRUPTED, USAGE_ERRORS, Parser, exit_code, report
from .plugins import add_plugin_argument, preload_plugins


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its ``--help`` lists every registered choice)."""
    parser = Parser(
        prog="python -m hetero_imb.train",
        description="Train one model on an (imbalanced) heterogeneous graph and report "
        "imbalance-aware metrics. Defaults live in code; --config YAML overrides them; "
        "flags override both.",
    )
    add_component_arguments(parser)
    parser.add_argument("--config", metavar="FILE", help="YAML file with RunConfig keys")
    parser.add_argument("--loss-param", action="append", metavar="NAME=VALUE",
                        help="loss parameter, repeatable (e.g. gamma=2)")
    parser.add_argument("--sampler-param", action="append", metavar="NAME=VALUE",
                        help="sampler parameter, repeatable (e.g. target_ratio=0.5)")
    parser.add_argument("--augmenter-param", action="append", metavar="NAME=VALUE",
                        help="augmenter parameter, repeatable (e.g. mode=bat0)")
    parser.add_argument("--smoother-param", action="append", metavar="NAME=VALUE",
                        help="smoother parameter, repeatable (e.g. smoothing_alpha=0.8)")
    parser.add_argument("--model-param", action="append", metavar="NAME=VALUE",
                        help="model setting, repeatable (e.g. heads=4)")
    parser.add_argument("--dataset-option", action="append", metavar="NAME=VALUE",
                        help="loader option, repeatable (e.g. features=svd)")
    parser.add_argument("--imbalance", metavar="SPEC",
                        help="none | counts:3327,1410,460,256 | step:10 | longtail:100")
    parser.add_argument("--imbalance-mode", choices=list(MODES), help=MODE_HELP)
    parser.add_argument("--split", metavar="SPEC",
                        help="stratified | stratified:0.6,0.2,0.2 | kfold:5:0 | official | heco:20|40|60 | given")
    parser.add_argument("--no-standardize", dest="standardize", action="store_false", default=None,
                        help="keep dense numeric node features unscaled (default: standardised per node type)")
    parser.add_argument("--seed", type=int, help="seed of everything random (default 0)")
    parser.add_argument("--epochs", type=int, help="maximum epochs (default 200)")
    parser.add_argument("--patience", type=int, help="early-stopping patience in evaluations, 0 = off (default 50)")
    parser.add_argument("--eval-every", type=int, metavar="N",
                        help="evaluate on the validation nodes every N epochs (default 1)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    parser.add_argument("--weight-decay", type=float, help="weight decay (default: the model's)")
    parser.add_argument("--hidden", type=int, help="hidden size (default: the model's)")
    parser.add_argument("--layers", type=int, help="number of layers (default: the model's)")
    parser.add_argument("--dropout", type=float, help="dropout (default: the model's)")
    parser.add_argument("--device", help="auto | cpu | cuda[:N] (default auto)")
    parser.add_argument("--batch-size", type=int, help="mini-batch seed nodes (default: full batch)")
    parser.add_argument("--num-neighbors", metavar="K1,K2", help="neighbours per hop in mini-batch mode")
    parser.add_argument("--eval-num-neighbors", metavar="K1,K2",
                        help="neighbours per hop for batched evaluation and prediction in mini-batch "
                             "mode (default: --num-neighbors; --eval-num-neighbors=-1,-1: every "
                             "neighbour, equal to a full-graph forward)")
    parser.add_argument("--balanced-batches", action="store_true", default=None,
                        help="class-balanced seed sampling in mini-batch mode")
    parser.add_argument("--threads", type=int, metavar="T",
                        help="torch CPU threads (default: torch's own, one per core; 1 is often "
                        "faster on a busy machine)")
    parser.add_argument("--root", metavar="DIR", help="data root (default: $HETERO_IMB_DATA or data/)")
    parser.add_argument("--create-root", action="store_true",
                        help="create the --root folder when it does not exist (else an error)")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: a new folder under runs/)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out folder (else an error, exit 2)")
    parser.add_argument("--tune-decision", metavar="SPEC",
                        help="after training, pick per-class logit offsets on the validation set: "
                        "none | macro-f1 | balanced-accuracy | recall:CLASS:PRECISION_FLOOR | "
                        "min-recall:CLASS:RECALL (default none)")
    parser.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="LOGDIR",
                        help="write TensorBoard event files (default LOGDIR: "
                        "<run folder's parent>/tensorboard/<run name>; needs the tensorboard extra)")
    add_plugin_argument(parser)
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show progress bars")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show progress bars")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the headline line")
    return parser


def _int_list(text: str | None, flag: str) -> list[int] | None:
    """``"10,10"`` -> ``[10, 10]``; ``None``/empty -> ``None``; else ``ValueError`` naming ``flag``."""
    if not text:
        return None
    try:
        return [int(k) for k in text.split(",")]
    except ValueError:
        raise ValueError(f"{flag} expects integers like 10,10, got {text!r}") from None


def config_from_args(args: argparse.Namespace) -> config_mod.RunConfig:
    """Resolve defaults ← ``--config`` file ← flags; raise ``ValueError`` on bad input."""
    file_values = config_mod.read_yaml(args.config) if args.config else {}
    file_values.pop("grid", None)  # a comparison grid section; see hetero_imb.compare
    plugins = list(file_values.pop("plugins", None) or []) + list(args.plugin or [])
    import_plugins(plugins)
    model_params: dict[str, Any] = parse_key_values(args.model_param, "--model-param")
    for flag, key in (("lr", "lr"), ("weight_decay", "weight_decay"), ("hidden", "hidden"),
                      ("layers", "num_layers"), ("dropout", "dropout")):
        if getattr(args, flag) is not None:
            model_params[key] = getattr(args, flag)
    num_neighbors = _int_list(args.num_neighbors, "--num-neighbors")
    eval_num_neighbors = _int_list(args.eval_num_neighbors, "--eval-num-neighbors")
    config = config_mod.resolve(
        file_values,
        dataset=args.dataset, model=args.model, loss=args.loss, sampler=args.sampler,
        augmenter=args.augmenter, smoother=args.smoother,
        dataset_options=parse_key_values(args.dataset_option, "--dataset-option") or None,
        model_params=model_params or None,
        imbalance=args.imbalance, imbalance_mode=args.imbalance_mode, split=args.split,
        standardize=args.standardize, seed=args.seed, epochs=args.epochs, patience=args.patience, device=args.device,
        eval_every=args.eval_every,
        batch_size=args.batch_size, num_neighbors=num_neighbors, eval_num_neighbors=eval_num_neighbors,
        balanced_batches=args.balanced_batches, root=args.root,
        tune_decision=args.tune_decision, plugins=list(dict.fromkeys(plugins)) or None,
    )
    validate_names(config)
    loss_params = component_params(LOSSES, config.loss, args.loss_param, "--loss-param")
    sampler_params = component_params(SAMPLERS, config.sampler, args.sampler_param, "--sampler-param")
    augmenter_params = component_params(AUGMENTERS, config.augmenter, args.augmenter_param,
                                        "--augmenter-param")
    smoother_params = component_params(SMOOTHERS, config.smoother, args.smoother_param,
                                       "--smoother-param")
    return config.replace(
        smoother_params={**config.smoother_params, **smoother_params},
        loss_params={**config.loss_params, **loss_params},
        sampler_params={**config.sampler_params, **sampler_params},
        augmenter_params={**config.augmenter_params, **augmenter_params},
    )


def default_out_dir(config: config_mod.RunConfig) -> Path:
    """A fresh folder under ``runs/`` named after the run."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    parts = [config.dataset, config.model, config.loss]
    if config.sampler != "none":
        parts.append(config.sampler)
    if config.augmenter != "none":
        parts.append(config.augmenter)
    if config.smoother != "none":
        parts.append(config.smoother)
    base = Path("runs") / ("-".join(parts) + f"-seed{config.seed}-{stamp}")
    out, i = base, 1
    while out.exists():
        out, i = base.with_name(f"{base.name}-{i}"), i + 1
    return out


def summary_text(result: RunResult, out_dir: Path) -> str:
    """The human summary printed after a run."""
    cfg = result.config
    test = result.metrics["test"]
    lines = [
        f"dataset {cfg.dataset} | model {cfg.model} | loss {cfg.loss} | sampler {cfg.sampler} "
        + (f"| augmenter {cfg.augmenter} " if cfg.augmenter != "none" else "")
        + (f"| smoother {cfg.smoother} " if cfg.smoother != "none" else "")
        + f"| seed {cfg.seed}",
    ]
    if result.imbalance:
        lines.append(f"imbalance: {result.imbalance}")
    if result.features:
        lines.append(f"features seen by the model: {result.features}")
    lines.append(
        "class counts (train/val/test): " + "; ".join(
            f"{name} {result.class_counts['train'][i]}/{result.class_counts['val'][i]}/"
            f"{result.class_counts['test'][i]}" for i, name in enumerate(result.class_names)
        )
    )
    timing = result.timing
    lines.append(
        f"fit {timing['fit_seconds']:.1f}s, {timing['epochs']} epochs "
        f"({timing['seconds_per_epoch'] * 1000:.0f} ms/epoch), best epoch {result.best_epoch}; "
        f"val macro-F1 {result.metrics['val']['macro_f1']:.4f}"
    )
    lines.append("")
    lines.append("TEST")
    lines.append(format_report(test, result.class_names))
    if result.decision:
        tuned = result.decision["metrics"]["test"]
        kind = "thresholds" if "thresholds" in result.decision else "offsets"  # multi-label
        form = "{:.3f}" if kind == "thresholds" else "{:+.3f}"  # probabilities, not offsets
        offsets = ", ".join(f"{n} {form.format(b)}" for n, b in zip(result.class_names,
                                                                   result.decision[kind], strict=True))
        lines += ["", f"TEST with tuned decisions ({result.decision['spec']}, on validation; "
                  f"{kind} {offsets}"
                  + ("" if result.decision["reached"] else
                     f"; precision floor NOT reached, {kind} unchanged")
                  + ")", format_report(tuned, result.class_names)]
    lines.append("")
    lines.append(f"run folder: {out_dir}")
    return "\n".join(lines)


def _prepare(parser: Parser, args: argparse.Namespace) -> tuple[config_mod.RunConfig, Path]:
    """Config and run folder, every check done before any work; usage errors exit 2."""
    try:
        if args.out is not None and not str(args.out).strip():
            raise ValueError(f"--out: expected a folder path, got {args.out!r}")
        config = config_from_args(args)
        given = [flag for flag, value in (("--num-neighbors", args.num_neighbors),
                                          ("--eval-num-neighbors", args.eval_num_neighbors),
                                          ("--balanced-batches", args.balanced_batches))
                 if value is not None]
        if given and config.batch_size is None:
            raise ValueError(f"{given[0]} applies to mini-batch training; give --batch-size B "
                             "with it (full-batch training sees every node)")
        if args.threads is not None:
            set_threads(check_jobs(args.threads, "--threads"))
        out_dir = check_output_dir(args.out or default_out_dir(config), overwrite=args.overwrite)
        check_roots([config.root], create=args.create_root)
    except (*USAGE_ERRORS, ValueError, TypeError) as err:
        parser.fail(err)
    return config, out_dir


def run_callbacks(args: argparse.Namespace, config: config_mod.RunConfig, out_dir: Path) -> list:
    """Per-epoch callbacks the flags ask for: progress lines when stderr is not a
    terminal (and progress is not switched off), TensorBoard event files."""
    callbacks: list[Any] = []
    if args.progress is None and not args.quiet and not sys.stderr.isatty():
        callbacks.append(ProgressLines(f"{config.model}"))
        # and the loop's progress inside long epochs (mini-batches, batched evaluation)
        logging.getLogger("hetero_imb.training").setLevel(logging.INFO)
    if args.tensorboard is not None:
        log_dir = Path(args.tensorboard) if args.tensorboard else (
            out_dir.parent / "tensorboard" / out_dir.name)
        callbacks.append(TensorBoardLogger(log_dir))
    return callbacks


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (see :mod:`hetero_imb.cli.errors`:
    2 for usage and configuration errors, 1 for data errors, 130 when interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preload_plugins(argv)  # before the parser: --help lists the plugins' components
    except ValueError as err:
        report("python -m hetero_imb.train", err)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config, out_dir = _prepare(parser, args)
    try:
        context = distributed.init_from_env(config.device)  # under torchrun: join the group
    except (RuntimeError, ValueError) as err:
        report(parser.prog, f"torch.distributed: {err}")
        return 1
    main_rank = context is None or context.is_main  # only rank 0 reports and writes
    try:
        callbacks = run_callbacks(args, config, out_dir) if main_rank else []
    except ImportError as err:
        parser.fail(err)
    try:
        result = run(config, progress=args.progress, callbacks=callbacks)
        if main_rank:
            # --out was checked before the run (check_output_dir: new, empty or --overwrite)
            save_run(result, out_dir, overwrite=True)
    except KeyboardInterrupt:
        report(parser.prog, "interrupted; nothing was saved")
        return EXIT_INTERRUPTED
    except DATA_ERRORS as err:  # SaveError (an OSError) says where the results are
        report(parser.prog, err)
        return exit_code(err)
    finally:
        for callback in callbacks:
            getattr(callback, "close", lambda: None)()
        distributed.shutdown(context)
    if not main_rank:
        return 0
    if args.quiet:
        test = result.metrics["test"]
        line = (f"{config.dataset} {config.model} {config.loss}: test macro-F1 "
                f"{test['macro_f1']:.4f} balanced acc {test['balanced_accuracy']:.4f}")
        if result.decision:  # what predictions.csv and predict give
            tuned = result.decision["metrics"]["test"]
            line += (f"; tuned ({result.decision['spec']}) macro-F1 {tuned['macro_f1']:.4f} "
                     f"balanced acc {tuned['balanced_accuracy']:.4f}")
        print(f"{line} -> {out_dir}")
    else:
        print(summary_text(result, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
