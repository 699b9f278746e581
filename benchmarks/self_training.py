"""Class-rebalancing self-training over one run configuration: does it lift balanced accuracy?

A probe of one more lever on issue 13's Freebase target, measured and kept so that the
figures in docs/balancing.md ("Fifth pass") can be reproduced. Not a library component:
on the Freebase step-10 mask it added about one point, most of it owed to the pool's
make-up in mask mode (see the docs).

The scheme is CReST's (Wei et al., CVPR 2021), applied to a graph:

1. train the configured run (model, loss, smoother, decision offsets as configured);
2. pool = the target nodes with no training label that are not validation nodes;
3. for each class ``c``, take the fraction ``(n_min / n_c) ** alpha`` of the pool nodes
   the run predicts as ``c``, most confident first (``n_c``: training labels of ``c``,
   ``n_min``: the rarest class's), and give them label ``c`` in a training copy of the
   graph; the rarest class takes all its predicted pool nodes, frequent ones fewer;
4. train again from scratch on that copy; repeat ``--rounds`` times.

Every round is scored on the test nodes with their true labels, which never enter
training; the pseudo-labels' precision is printed for reading only. ``--pool
outside-split`` restricts the pool to nodes outside the training split: in mask mode the
masked training nodes are all of the reduced classes, so the default pool holds more of
the rare class than a graph's unlabelled nodes usually would, and this shows how much
of the gain that is.

Usage:
    python benchmarks/self_training.py --seeds 0,1,2,3,4
    python benchmarks/self_training.py --seeds 0 --rounds 2 --pool outside-split
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score

import hetero_imb as hi
from hetero_imb.balancing.losses import LOSSES
from hetero_imb.data.datasets import DATASETS
from hetero_imb.data.graph import class_counts, labels
from hetero_imb.data.imbalance import parse_imbalance
from hetero_imb.models import MODELS
from hetero_imb.models.smoothers import SMOOTHERS
from hetero_imb.report.predictions import with_node_ids
from hetero_imb.training.decision import parse_decision
from hetero_imb.training.grid import Component
from hetero_imb.training.runner import prepare_data, validate_names

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import (  # noqa: E402
    Parser,
    component,
    int_list,
    non_negative_float,
    non_negative_int,
    positive_int,
    validated,
)


def select(scores: np.ndarray, pool: np.ndarray, counts: list[int], alpha: float) -> dict[int, np.ndarray]:
    """``{class: pool node indices}`` given that class: per class ``c`` the
    ``round((n_min / n_c) ** alpha * m_c)`` most confident of the ``m_c`` pool nodes
    whose highest score is ``c``.

    Example:
        >>> s = np.log([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
        >>> {c: i.tolist() for c, i in select(s, np.ones(4, bool), [10, 5], 1.0).items()}
        {0: [0, 3], 1: [2]}
    """
    pred = scores.argmax(axis=1)
    prob = np.exp(scores - scores.max(axis=1, keepdims=True))
    conf = (prob / prob.sum(axis=1, keepdims=True)).max(axis=1)
    n_min = min(n for n in counts if n > 0)
    chosen = {}
    for c, n_c in enumerate(counts):
        index = np.flatnonzero(pool & (pred == c))
        take = round((n_min / n_c) ** alpha * index.size) if n_c else index.size
        chosen[c] = index[np.argsort(-conf[index], kind="stable")[:take]]
    return chosen


def run_config(args: argparse.Namespace, loss: Component, seed: int) -> hi.RunConfig:
    """The configured run on the graph's own (given) split."""
    return hi.RunConfig(
        model=args.model, loss=loss.name, loss_params=loss.params, smoother=args.smoother,
        tune_decision=args.tune_decision, split="given", standardize=False, seed=seed,
        epochs=args.epochs, patience=args.patience, model_params={"hidden": args.hidden})


def check_run(config: hi.RunConfig) -> None:
    """Refuse names and options a run would refuse together (``ValueError`` naming the flags)."""
    try:
        validate_names(config, check_dataset=False)
    except ValueError as err:
        raise ValueError(f"--model {config.model!r} with --loss {config.loss!r}, --smoother "
                         f"{config.smoother!r}, --hidden {config.model_params['hidden']}: "
                         f"{err}") from None


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="freebase")
    parser.add_argument("--imbalance", default="step:10")
    parser.add_argument("--model", default="han")
    parser.add_argument("--loss", default="tam[base=balanced-softmax]", help="NAME[key=value,...]")
    parser.add_argument("--smoother", default="cs")
    parser.add_argument("--tune-decision", default="balanced-accuracy")
    parser.add_argument("--epochs", type=positive_int, default=400)
    parser.add_argument("--patience", type=non_negative_int, default=80)
    parser.add_argument("--hidden", type=positive_int, default=32)
    parser.add_argument("--seeds", type=int_list(0), default=[0, 1, 2, 3, 4],
                        help="comma-separated seeds (default 0,1,2,3,4)")
    parser.add_argument("--rounds", type=positive_int, default=1,
                        help="self-training rounds after the first run (>= 1)")
    parser.add_argument("--alpha", type=non_negative_float, default=1.0)
    parser.add_argument("--teacher", choices=("decision", "argmax"), default="decision",
                        help="pseudo-labels from the offset-adjusted scores or the raw ones")
    parser.add_argument("--pool", choices=("unlabelled", "outside-split"), default="unlabelled")
    args = parser.parse_args(argv)
    validated(parser, "--dataset", DATASETS.get, args.dataset, parameter="--dataset")
    validated(parser, "--imbalance", parse_imbalance, args.imbalance)
    validated(parser, "--model", MODELS.get, args.model, parameter="--model")
    loss = validated(parser, "--loss", component, LOSSES, args.loss, "--loss")
    validated(parser, "--smoother", SMOOTHERS.get, args.smoother, parameter="--smoother")
    validated(parser, "--tune-decision", parse_decision, args.tune_decision)
    validated(parser, "--model", check_run, run_config(args, loss, args.seeds[0]))
    logging.disable(logging.WARNING)
    base = with_node_ids(hi.load(args.dataset))
    scores: dict[int, list[list[float]]] = {}  # round -> per seed: test, val x argmax, decision
    for seed in args.seeds:
        data = prepare_data(base, imbalance=args.imbalance, imbalance_mode="mask",
                            split="stratified:0.6,0.2,0.2", seed=seed)
        target = data.target_node_type
        y, train, val, test = (labels(data), data[target].train_mask,
                               data[target].val_mask, data[target].test_mask)
        config = run_config(args, loss, seed)
        pool = (~train & ~val).numpy()
        if args.pool == "outside-split":
            pool &= test.numpy()  # every node of Freebase is in one of the three splits
        current = data
        for r in range(args.rounds + 1):
            start = time.perf_counter()
            result = hi.run(config, data=current, progress=False)
            raw = np.log(np.clip(result.proba.numpy(), 1e-12, None))
            offsets = np.asarray(result.decision["offsets"]) if result.decision else 0.0
            row = []
            for mask in (test, val):
                truth, m = y[mask].numpy(), mask.numpy()
                row += [balanced_accuracy_score(truth, raw[m].argmax(1)),
                        balanced_accuracy_score(truth, (raw[m] + offsets).argmax(1))]
            scores.setdefault(r, []).append(row)
            print(f"seed {seed} round {r}: test balanced accuracy argmax {row[0]:.4f}, "
                  f"decision {row[1]:.4f}; validation {row[2]:.4f}, {row[3]:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            if r == args.rounds:
                break
            teacher = raw + offsets if args.teacher == "decision" else raw
            chosen = select(teacher, pool, class_counts(data, train), args.alpha)
            new_y, new_train = y.clone(), train.clone()
            for c, index in chosen.items():
                precision = float((y[index].numpy() == c).mean()) if index.size else float("nan")
                print(f"  pseudo-labels class {c}: {index.size} (precision {precision:.3f})")
                new_y[index], new_train[index] = c, True
            current = data.clone()
            current[target].y, current[target].train_mask = new_y, new_train
            current[target].test_mask = test & ~new_train  # splits stay disjoint
    for r, rows in sorted(scores.items()):
        a = np.array(rows) * 100
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(4)
        m = a.mean(axis=0)
        print(f"round {r} ({len(rows)} seeds): test argmax {m[0]:.1f} ± {sd[0]:.1f}, "
              f"decision {m[1]:.1f} ± {sd[1]:.1f}; validation argmax {m[2]:.1f} ± {sd[2]:.1f}, "
              f"decision {m[3]:.1f} ± {sd[3]:.1f}")


if __name__ == "__main__":
    main()
