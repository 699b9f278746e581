"""How much of a model's mask-mode score comes from the masked nodes being unlabelled?

In mask mode (``--imbalance-mode mask``) the reduced classes lose training labels but
their nodes stay in the graph, unlabelled: under Freebase's step-10 mask 15 % of the
rare class's movies carry a label against 60 % of the others'. So an unlabelled
neighbour is more often of the rare class than the graph's mix says, and a model that
reads the training labels as inputs (``lp``, ``label-lr``, the ``cs`` smoother) can learn
"many unlabelled neighbours -> rare class": a labelling bias that a rare class does not
bring by itself (docs/balancing.md, sixth pass). Removing the masked nodes does not
undo it (the rare class's remaining movies are still labelled at 27 %).

Drop mode has no such bias: the rare class is made rare in the graph (its nodes removed
before the split) and every class is labelled at the same rate. But its graph and its
test nodes differ from mask mode's, so the mask-minus-drop gap of one configuration
mixes the bias with those differences. A configuration that reads no training label
(a GNN without a smoother; ``--control``) has the differences only, so the gap of a
label-reading configuration minus the control's gap ("beyond control") estimates what
the bias is worth to it. Each configuration is also scored after the ``cs`` smoother
(Correct & Smooth, fitted on that run's probabilities), so C&S's share is the "+ cs"
row's figure minus its own row's. Test balanced accuracy at argmax. Drop mode draws its
split after removing nodes, so a seed's two modes do not share their test nodes; what
is paired, seed by seed, is a configuration and the control on the same graph.

Usage (each configuration ``MODEL[params]/LOSS``):
    python benchmarks/mask_share.py --seeds 0,1,2,3,4,5,6,7,8,9
    python benchmarks/mask_share.py --configs 'lp/ce,rgcn/weighted' --seeds 0
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from torch import Tensor
from torch_geometric.data import HeteroData

import hetero_imb as hi
from hetero_imb.balancing.losses import LOSSES
from hetero_imb.data.datasets import DATASETS
from hetero_imb.data.graph import labels
from hetero_imb.data.imbalance import parse_imbalance
from hetero_imb.models import MODELS
from hetero_imb.models.smoothers import fit_smoother, smoothed
from hetero_imb.report.predictions import with_node_ids
from hetero_imb.training.grid import parse_component, split_components
from hetero_imb.training.runner import prepare_data, validate_names

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import Parser, component, int_list, validated  # noqa: E402

#: The configurations measured by default: label propagation, the four label-lr
#: variants, and R-GCN (reads no training label: the control).
DEFAULT_CONFIGS = (
    "rgcn/weighted", "lp/ce", "label-lr/weighted", "label-lr[neighbours=labelled]/weighted",
    "label-lr[rounds=2]/weighted", "label-lr[neighbours=labelled,rounds=2]/weighted",
)


def config_of(spec: str, seed: int) -> hi.RunConfig:
    """``MODEL[params]/LOSS`` -> a run on the graph's own split (at most 200 epochs,
    patience 80, for the models trained in the loop)."""
    model_text, _, loss_text = spec.partition("/")
    model, loss = parse_component(model_text, "model"), parse_component(loss_text or "ce", "loss")
    return hi.RunConfig(model=model.name, model_params=model.params, loss=loss.name,
                        loss_params=loss.params, split="given", standardize=False, seed=seed,
                        epochs=200, patience=80)


def check_config_spec(spec: str) -> None:
    """Refuse a ``MODEL[params]/LOSS`` entry whose names, parameters or pairing a run would
    refuse (``ValueError``, naming ``--configs``)."""
    model_text, sep, loss_text = spec.partition("/")
    if not model_text or (sep and not loss_text):
        raise ValueError(f"--configs expects comma-separated MODEL[params]/LOSS entries "
                         f"(e.g. lp/ce,rgcn/weighted), got {spec!r}")
    component(MODELS, model_text, "--configs")
    component(LOSSES, loss_text or "ce", "--configs")
    try:
        validate_names(config_of(spec, 0), check_dataset=False)
    except ValueError as err:
        raise ValueError(f"--configs entry {spec!r}: {err}") from None


def balanced_accuracy(proba: Tensor, data: HeteroData) -> float:
    """Test balanced accuracy of the argmax."""
    test = data[data.target_node_type].test_mask
    return balanced_accuracy_score(labels(data)[test].numpy(), proba[test].argmax(1).numpy())


def scores(config: hi.RunConfig, data: HeteroData) -> tuple[float, float]:
    """Test balanced accuracy of the run, and after C&S fitted on its probabilities."""
    proba = hi.run(config, data=data, progress=False).proba
    smoother = fit_smoother("cs", {}, proba, data, seed=config.seed)
    return balanced_accuracy(proba, data), balanced_accuracy(smoothed(proba, data, smoother), data)


def cell(values: np.ndarray, signed: bool = False) -> str:
    """``mean ± std`` over seeds (population std: the standard error is it ÷ sqrt(n - 1))."""
    return f"{values.mean():{'+' if signed else ''}.1f} ± {values.std():.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="freebase")
    parser.add_argument("--imbalance", default="step:10")
    parser.add_argument("--split", default="stratified:0.6,0.2,0.2")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                        help="comma-separated MODEL[params]/LOSS")
    parser.add_argument("--control", default="rgcn/weighted",
                        help="the configuration that reads no training label")
    parser.add_argument("--seeds", type=int_list(0), default=[0, 1, 2, 3, 4],
                        help="comma-separated seeds (default 0,1,2,3,4)")
    args = parser.parse_args(argv)
    validated(parser, "--dataset", DATASETS.get, args.dataset, parameter="--dataset")
    validated(parser, "--imbalance", parse_imbalance, args.imbalance)
    for mode in ("mask", "drop"):
        validated(parser, "--split", validate_names, hi.RunConfig(
            dataset=args.dataset, imbalance=args.imbalance, imbalance_mode=mode, split=args.split))
    specs = split_components(args.configs)
    if not specs:
        parser.error(f"--configs expects comma-separated MODEL[params]/LOSS entries, "
                     f"got {args.configs!r}")
    for spec in specs:
        validated(parser, "--configs", check_config_spec, spec)
    if args.control not in specs:
        parser.error(f"--control must be one of --configs ({', '.join(specs)}), got {args.control!r}")
    logging.disable(logging.WARNING)
    torch.set_num_threads(1)
    base = with_node_ids(hi.load(args.dataset))
    found: dict[str, list[tuple[float, float]]] = {}  # row -> per seed (mask, drop)
    for seed in args.seeds:
        graphs = {mode: prepare_data(base, imbalance=args.imbalance, imbalance_mode=mode,
                                     split=args.split, seed=seed, dataset=args.dataset)
                  for mode in ("mask", "drop")}
        for spec in specs:
            start = time.perf_counter()
            mask, drop = (scores(config_of(spec, seed), graphs[m]) for m in ("mask", "drop"))
            found.setdefault(spec, []).append((mask[0], drop[0]))
            found.setdefault(f"{spec} + cs", []).append((mask[1], drop[1]))
            print(f"seed {seed} {spec}: mask {mask[0]:.4f} (+ cs {mask[1]:.4f}), drop {drop[0]:.4f} "
                  f"(+ cs {drop[1]:.4f}) ({time.perf_counter() - start:.0f} s)", flush=True)
    control = 100 * np.asarray(found[args.control])
    control_gap = control[:, 0] - control[:, 1]
    print("\n| configuration | mask | drop | mask − drop | beyond control |\n|---|---|---|---|---|")
    for row, runs in found.items():
        a = 100 * np.asarray(runs)
        gap = a[:, 0] - a[:, 1]
        print(f"| `{row}` | {cell(a[:, 0])} | {cell(a[:, 1])} | {cell(gap, True)} | "
              f"{cell(gap - control_gap, True)} |")
    print(f"\ncontrol: `{args.control}`; {len(control)} seeds; test balanced accuracy, %, argmax")


if __name__ == "__main__":
    main()
