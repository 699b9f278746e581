"""CPU time of each balancing method against plain ``ce`` on the same model and data.

The issue-13 budget is "no new method costs more than 3x the time per run of ce on the
same model". Wall-clock times of a grid on a shared machine mostly measure the load, so
this measures **CPU time** (``time.process_time``, torch on one thread) of whole fits of
a fixed number of epochs (patience off), one-off costs included (model build, the
loss's / augmenter's ``fit``, preprocessing), on one prepared graph. Methods run in
turn within each repeat, in forward then reverse order on alternate repeats, so that a
slow phase of the machine hits every method alike; the table gives the median CPU
seconds per epoch and the median of the per-repeat ratios to ``ce``.

Methods are ``loss[k=v,...]`` (the label of a grid's run folders) or ``+augmenter`` (on
``ce``), e.g. ``ldam[drw_epoch=5]``, ``tam[base=balanced-softmax]``, ``+graphens``.

Usage:
    python benchmarks/method_cost.py --case facebook --models gcn,rgcn --epochs 30
    python benchmarks/method_cost.py --case freebase --models rgcn --methods ce,weighted,renode
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from hetero_imb.balancing.augmenters import AUGMENTERS
from hetero_imb.balancing.losses import LOSSES
from hetero_imb.data.datasets import load
from hetero_imb.models import MODELS
from hetero_imb.training.config import RunConfig
from hetero_imb.training.grid import parse_component, split_components
from hetero_imb.training.runner import fit_model, prepare_data

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import Parser, component, non_negative_int, positive_int, validated  # noqa: E402

CASES = {  # the two case studies of docs/balancing.md
    "facebook": dict(dataset="facebook", imbalance="counts:3327,1410,460,256",
                     imbalance_mode="drop", split="stratified:0.6,0.2,0.2"),
    "freebase": dict(dataset="freebase", imbalance="step:10", imbalance_mode="mask",
                     split="stratified:0.6,0.2,0.2", model_params={"hidden": 32}),
}
METHODS = ("ce,weighted,balanced-softmax,ldam[drw_epoch=5],tam,renode,"
           "+bat,+graphens,+graphsha")


def parse_method(text: str) -> dict:
    """``"ldam[drw_epoch=5]"`` (a run folder's label) -> loss settings; ``"+graphens"`` ->
    ce with that augmenter."""
    if text.startswith("+"):
        return {"loss": "ce", "augmenter": text[1:]}
    loss = parse_component(text, "loss")
    return {"loss": loss.name, "loss_params": loss.params}


def check_method(text: str) -> None:
    """Refuse a ``--methods`` entry naming an unknown loss or augmenter, or bad parameters
    (``ValueError``, naming ``--methods``)."""
    if text.startswith("+"):
        AUGMENTERS.get(text[1:], parameter="--methods")
    else:
        component(LOSSES, text, "--methods")


def cpu_seconds(config: RunConfig, data) -> float:
    """CPU seconds of one fit (patience off, so exactly ``config.epochs`` epochs)."""
    start = time.process_time()
    fit_model(config, data, progress=False)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="facebook")
    parser.add_argument("--models", default="gcn,rgcn", help="comma-separated model names")
    parser.add_argument("--methods", default=METHODS,
                        help="comma-separated LOSS[k=v,...] or +AUGMENTER (on ce); must include ce")
    parser.add_argument("--epochs", type=positive_int, default=30)
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--seed", type=non_negative_int, default=0)
    args = parser.parse_args(argv)
    case = dict(CASES[args.case])
    base = dict(model_params=case.pop("model_params", {}), seed=args.seed, epochs=args.epochs,
                patience=0, device="cpu", **case)
    models = args.models.split(",")
    for model in models:  # with the case's model parameters (freebase: hidden 32)
        validated(parser, "--models", MODELS.validate, model, base["model_params"],
                  parameter="--models")
    methods = split_components(args.methods)
    for m in methods:
        validated(parser, "--methods", check_method, m)
    if "ce" not in methods:  # the reference of every ratio
        parser.error(f"--methods must include ce (the reference of the ratios), "
                     f"got {args.methods!r}")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    data = prepare_data(load(case["dataset"]), imbalance=case["imbalance"],
                        imbalance_mode=case["imbalance_mode"], split=case["split"], seed=args.seed)
    print(f"{args.case}: {args.epochs} epochs x {args.repeats} repeats, CPU time, 1 thread\n")
    print("| model | method | CPU s / epoch | ÷ ce (median of repeats) | range |")
    print("|---|---|---|---|---|")
    for model in models:
        times: dict[str, list[float]] = {m: [] for m in methods}
        cpu_seconds(RunConfig(model=model, **{**base, "epochs": 2}), data)  # warm-up
        for i in range(args.repeats):
            for m in (methods if i % 2 == 0 else methods[::-1]):
                config = RunConfig(model=model, **base, **parse_method(m))
                times[m].append(cpu_seconds(config, data) / args.epochs)
        for m in methods:
            ratios = sorted(t / c for t, c in zip(times[m], times["ce"], strict=True))
            print(f"| {model} | {m} | {statistics.median(times[m]):.4f} | "
                  f"{statistics.median(ratios):.2f} | {ratios[0]:.2f}–{ratios[-1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
