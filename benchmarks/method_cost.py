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

import argparse
import logging
import statistics
import time
import warnings

import torch

from hetero_imb.data.datasets import load
from hetero_imb.training.config import RunConfig
from hetero_imb.training.grid import parse_component, split_components
from hetero_imb.training.runner import fit_model, prepare_data

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


def cpu_seconds(config: RunConfig, data) -> float:
    """CPU seconds of one fit (patience off, so exactly ``config.epochs`` epochs)."""
    start = time.process_time()
    fit_model(config, data, progress=False)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="facebook")
    parser.add_argument("--models", default="gcn,rgcn")
    parser.add_argument("--methods", default=METHODS)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    case = dict(CASES[args.case])
    base = dict(model_params=case.pop("model_params", {}), seed=args.seed, epochs=args.epochs,
                patience=0, device="cpu", **case)
    data = prepare_data(load(case["dataset"]), imbalance=case["imbalance"],
                        imbalance_mode=case["imbalance_mode"], split=case["split"], seed=args.seed)
    methods = split_components(args.methods)
    print(f"{args.case}: {args.epochs} epochs x {args.repeats} repeats, CPU time, 1 thread\n")
    print("| model | method | CPU s / epoch | ÷ ce (median of repeats) | range |")
    print("|---|---|---|---|---|")
    for model in args.models.split(","):
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
