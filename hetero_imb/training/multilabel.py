"""Multi-label runs: what the shared loop and the runner do differently for multi-hot labels.

A graph is multi-label when ``data[target].y`` is a float ``[N, C]`` multi-hot matrix
(see :mod:`hetero_imb.data.graph`). The loop, the runner and the reports call into
this module at a few points and stay otherwise the same:

* the task check (:func:`check_task`): multi-label losses (``bce``, ``weighted-bce``,
  ``focal-bce``, ``margin-bce``, ``asl``, ``db``) and samplers (``ml-ros``) on
  multi-label data only, the others on single-label data only (``none`` fits both);
  ``ce``, the default loss, means ``bce`` on multi-label data (:func:`resolve_task`);
* the loss is built from per-label positive training counts and the number of labelled
  training nodes (:func:`build_loss_and_sampler`), after re-sampling when the sampler
  says what it changes (``expected_label_counts``);
* outputs are sigmoids, the per-epoch validation score is macro-F1 at 0.5
  (:func:`~hetero_imb.report.multilabel_metrics.multilabel_macro_f1`), balanced
  mini-batches draw seeds by inverse label frequency (:func:`seed_weights`);
* evaluation (:func:`evaluate_multilabel`): multi-label metrics per split, per-label
  thresholds tuned on validation (:mod:`hetero_imb.training.thresholds`), and a
  collapse warning when no label is predicted for any evaluated node.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import SPLITS, is_multilabel, labelled_mask, split_mask, target_type
from .checks import ConfigError
from .config import RunConfig

__all__ = [
    "build_loss_and_sampler",
    "check_task",
    "evaluate_multilabel",
    "label_counts",
    "label_counts_by_split",
    "multilabel_collapse_warnings",
    "rarest_quarter",
    "resolve_task",
    "seed_weights",
]


def label_counts(y: Tensor, mask: Tensor | None = None) -> list[int]:
    """Per-label positives among the labelled rows of multi-hot ``y`` (within ``mask``).

    Example:
        >>> label_counts(torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]))
        [2, 1]
    """
    keep = labelled_mask(y) if mask is None else labelled_mask(y) & mask
    return (y[keep] > 0.5).sum(dim=0).long().tolist()


def label_counts_by_split(data: HeteroData) -> dict[str, list[int]]:
    """``{'train': [...], 'val': [...], 'test': [...]}`` per-label positives."""
    y = data[target_type(data)].y
    return {s: label_counts(y, split_mask(data, s)) for s in SPLITS}


def _is_multilabel_component(cls: Any) -> bool | None:
    """True: multi-label only; False: single-label only; None: both (``none``)."""
    kind = getattr(cls, "multilabel", False)
    return None if kind is None else bool(kind)


def resolve_task(config: RunConfig, data: HeteroData) -> RunConfig:
    """``config`` with the default loss ``ce`` read as ``bce`` on multi-label data.

    ``ce`` is the cross-entropy of one softmax; its multi-label counterpart is the
    cross-entropy of one sigmoid per label, ``bce``. Every other loss is kept as given
    (and checked by :func:`check_task`).
    """
    if is_multilabel(data) and config.loss == "ce" and not config.loss_params:
        return config.replace(loss="bce")
    return config


def check_task(config: RunConfig, data: HeteroData) -> None:
    """Raise :class:`ConfigError` when a component does not fit the graph's task.

    Raises:
        ConfigError: a single-label loss or sampler on multi-label data, a multi-label
            one on single-label data, or an augmenter or smoother on multi-label data.
    """
    from ..balancing.losses import LOSSES
    from ..balancing.samplers import SAMPLERS
    from ..models import MODELS

    multi = is_multilabel(data)
    task = "multi-label (float multi-hot y [N, C])" if multi else "single-label (class ids y [N])"
    for what, registry, name in (("loss", LOSSES, config.loss), ("sampler", SAMPLERS, config.sampler)):
        kind = _is_multilabel_component(registry.get(name, parameter=what))
        if kind is None or kind == multi:
            continue
        fitting = [n for n in registry.names()
                   if _is_multilabel_component(registry.get(n)) in (multi, None)]
        raise ConfigError(f"{what} {name!r} is {'multi' if kind else 'single'}-label but the "
                          f"graph's labels are {task}; use one of {', '.join(fitting)}")
    if multi and config.augmenter != "none":
        raise ConfigError(f"augmenter {config.augmenter!r} works on single-label graphs only; "
                          "the graph's labels are multi-label: use augmenter 'none'")
    if multi and config.smoother != "none":
        raise ConfigError(f"smoother {config.smoother!r} works on single-label graphs only; "
                          "the graph's labels are multi-label: use smoother 'none'")
    if multi and not _takes_multilabel(MODELS.get(config.model, parameter="model")):
        takers = [n for n in MODELS.names() if _takes_multilabel(MODELS.get(n))]
        raise ConfigError(f"model {config.model!r} works on single-label graphs only; the "
                          f"graph's labels are {task}: use one of {', '.join(takers)}")
    if multi:
        try:
            MODELS.get(config.model, parameter="model").check_components(
                config.model, loss=config.loss, sampler=config.sampler, augmenter=config.augmenter)
        except ValueError as err:
            raise ConfigError(f"{err} (multi-label graph)") from None


def _takes_multilabel(spec: Any) -> bool:
    """Whether a model spec accepts some multi-label loss (``losses`` unset: all)."""
    from ..balancing.losses import LOSSES

    return spec.losses is None or any(
        n in LOSSES and _is_multilabel_component(LOSSES.get(n)) in (True, None)
        for n in spec.losses)


def build_loss_and_sampler(config: RunConfig, data: HeteroData) -> tuple[Any, Any]:
    """The run's multi-label loss and sampler (``None`` for ``none``) for ``data``."""
    from ..balancing.losses.multilabel import build_multilabel_loss
    from ..balancing.samplers import SAMPLERS

    y = data[target_type(data)].y
    train = split_mask(data, "train") & labelled_mask(y)
    counts, n = label_counts(y, train), int(train.sum())
    sampler = None
    if config.sampler != "none":
        sampler = SAMPLERS.get(config.sampler, parameter="sampler")(**config.sampler_params)
        counts, n = sampler.expected_label_counts(y[train] > 0.5, seed=config.seed)
    if config.balanced_batches and config.batch_size:
        counts, n = _balanced_counts(y[train] > 0.5)
    loss = build_multilabel_loss(config.loss, class_counts=counts, num_samples=n,
                                 class_names=list(data.class_names), **config.loss_params)
    return loss, sampler


def seed_weights(y: Tensor) -> Tensor:
    """Seed-drawing weights of balanced mini-batches: ``mean_{c in y_i} 1 / n_c`` per row.

    Every label (and the empty label set, counted as one more label) gets about the
    same expected number of draws; a row carrying rare labels is drawn more often.

    Example:
        >>> [round(w, 4) for w in seed_weights(torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])).tolist()]
        [0.3333, 0.3333, 0.6667]
    """
    hot = (y > 0.5).float()
    empty = (hot.sum(dim=1, keepdim=True) == 0).float()
    hot = torch.cat([hot, empty], dim=1)
    inv = 1.0 / hot.sum(dim=0).clamp_min(1.0)
    return (hot * inv).sum(dim=1) / hot.sum(dim=1)


def _balanced_counts(hot: Tensor) -> tuple[list[int], int]:
    """Per-label positives expected in an epoch of balanced seeds (same size)."""
    w = seed_weights(hot.float())
    share = (w.unsqueeze(1) * hot.float()).sum(dim=0) / w.sum()
    n = hot.size(0)
    return [max(0, round(float(s) * n)) for s in share], n


#: Share of evaluated nodes predicted with no label (or every label) from which a
#: multi-label run is called near-collapsed.
NEAR_COLLAPSE = 0.5


def multilabel_collapse_warnings(proba: Tensor, y: Tensor, mask: Tensor,
                                 class_names: list[str]) -> list[str]:
    """A warning when the model predicts no label (at 0.5) for every evaluated node, or
    every label; and when it does so for more than :data:`NEAR_COLLAPSE` of them (of ten
    evaluated nodes or more).

    Example:
        >>> multilabel_collapse_warnings(torch.full((3, 2), 0.1), torch.ones(3, 2),
        ...                              torch.ones(3, dtype=torch.bool), ["a", "b"])
        ['collapsed run: the model predicts no label (all probabilities < 0.5) for all 3 evaluated nodes']
    """
    pred = proba[mask] >= 0.5
    out = []
    if pred.size(0) > 1 and not bool(pred.any()):
        out.append("collapsed run: the model predicts no label (all probabilities < 0.5) for all "
                   f"{pred.size(0)} evaluated nodes")
    elif pred.size(0) > 1 and bool(pred.all()):
        out.append(f"collapsed run: the model predicts every label for all {pred.size(0)} "
                   "evaluated nodes")
    elif pred.size(0) >= 10:  # most nodes: a score that looks healthy can still mean little
        n = pred.size(0)
        for share, what in ((float((~pred.any(dim=1)).float().mean()), "no label"),
                            (float(pred.all(dim=1).float().mean()), "every label")):
            if share > NEAR_COLLAPSE:
                out.append(f"near-collapsed run: the model predicts {what} (at 0.5) for "
                           f"{100 * share:.1f} % of the {n} evaluated nodes; try weighted-bce "
                           "and --tune-decision macro-f1")
    return out


def rarest_quarter(train_counts: list[int], names: list[str]) -> list[str]:
    """The ``ceil(C / 4)`` labels with the fewest training positives (ties: label order).

    Their mean F1 is reported as ``rare_quarter_macro_f1``.

    Example:
        >>> rarest_quarter([50, 3, 20, 7, 9], ["a", "b", "c", "d", "e"])
        ['b', 'd']
    """
    order = sorted(range(len(names)), key=lambda k: (train_counts[k], k))
    return [names[k] for k in order[: -(-len(names) // 4)]]


def evaluate_multilabel(config: RunConfig, proba: Tensor, y: Tensor, masks: dict[str, Tensor],
                        names: list[str], tune_mask: Tensor | None = None,
                        ) -> tuple[dict, dict | None, list[str]]:
    """Metrics per split, tuned thresholds (``config.tune_decision``, chosen on
    ``tune_mask`` when given, else the validation nodes) and collapse warnings."""
    from ..report.multilabel_metrics import compute_multilabel_metrics
    from .thresholds import tune_run_multilabel

    metrics = {s: compute_multilabel_metrics(y[masks[s]].numpy(), proba[masks[s]].numpy(), names)
               for s in SPLITS}
    decision = tune_run_multilabel(config.tune_decision, proba.numpy(), y.numpy(),
                                   {s: m.numpy() for s, m in masks.items()}, names,
                                   None if tune_mask is None else tune_mask.numpy())
    rare = rarest_quarter(label_counts(y, masks["train"]), names)
    for split_metrics in [*metrics.values(), *((decision or {}).get("metrics") or {}).values()]:
        f1 = [split_metrics["per_class"][n]["f1"] for n in rare]
        split_metrics["rare_quarter_macro_f1"] = sum(f1) / len(f1)
    warnings = multilabel_collapse_warnings(proba, y, masks["val"] | masks["test"], names)
    return metrics, decision, warnings
