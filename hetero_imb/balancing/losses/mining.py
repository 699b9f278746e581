"""Hard-example mining: ``ohem`` (hardest nodes of each step) and ``crl`` (class
rectification: cross-entropy plus a hard-mined triplet term on minority anchors)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...params import ParamSpec
from ..weights import class_index
from .base import BalancedLoss, register_loss, weighted_mean

__all__ = ["ClassRectificationLoss", "HardExampleMiningLoss", "ohem_select", "triplet_term"]


def _kept(n: int, keep: float, min_kept: int) -> int:
    # round() first so that e.g. 0.3 * 10 = 3.0000000000000004 keeps 3, not 4.
    return min(n, max(min_kept, math.ceil(round(keep * n, 9))))


def ohem_select(
    losses: Tensor, keep: float, min_kept: int = 1, groups: Tensor | None = None
) -> Tensor:
    """Indices of the hardest nodes: the ``k`` largest losses, largest first.

    ``k = min(N, max(min_kept, ceil(keep * N)))``; ties are broken by node order
    (stable sort), so the choice is deterministic. With ``groups`` (e.g. the class of
    each node) the rule applies within every group and the result lists the groups in
    increasing order, each hardest first.

    Args:
        losses: Per-node losses ``[N]``.
        keep: Fraction of the nodes to keep, in (0, 1].
        min_kept: Keep at least this many nodes (>= 1), per group with ``groups``.
        groups: Optional integer group of every node ``[N]``.

    Returns:
        A long tensor ``[k]`` of node indices.

    Example:
        >>> losses = torch.tensor([0.9, 0.8, 0.7, 0.1, 0.2])
        >>> ohem_select(losses, 0.4).tolist()
        [0, 1]
        >>> ohem_select(losses, 0.4, groups=torch.tensor([0, 0, 0, 1, 1])).tolist()
        [0, 1, 4]
    """
    if not 0 < keep <= 1:
        raise ValueError(f"parameter 'keep' must be in (0, 1], got {keep!r}")
    if min_kept < 1:
        raise ValueError(f"parameter 'min_kept' must be >= 1, got {min_kept!r}")
    if groups is None:
        order = torch.sort(losses.detach(), descending=True, stable=True).indices
        return order[: _kept(losses.numel(), keep, min_kept)]
    chosen = []
    for group in torch.unique(groups):  # sorted
        members = torch.nonzero(groups == group).flatten()
        order = torch.sort(losses.detach()[members], descending=True, stable=True).indices
        chosen.append(members[order[: _kept(members.numel(), keep, min_kept)]])
    return torch.cat(chosen) if chosen else groups.new_zeros(0, dtype=torch.long)


@register_loss("ohem")
class HardExampleMiningLoss(BalancedLoss):
    """Online hard example mining: cross-entropy of the hardest nodes of each step.

    Shrivastava et al., "Training Region-based Object Detectors with Online Hard Example
    Mining" (CVPR 2016), applied per node. Each call keeps the ``ceil(keep * N)`` nodes
    (at least ``min_kept``) with the largest cross-entropy (:func:`ohem_select`) and
    averages their loss; the selection ignores ``sample_weight``, which then weighs the
    kept nodes.

    By default the selection is made **within each class** of the batch (the hardest
    ``keep`` fraction of every class, at least ``min_kept`` of each), so every class
    keeps a share of the gradient proportional to its count in every step. Global
    selection (``per_class=False``, the original rule) on a cold model, whose losses
    are all close to ln C, keeps whole classes at a time: the step then pushes the
    logits towards the kept classes, the next step keeps the others, and the
    predictions swing from class to class while a minority class can go unselected
    (docs/benchmarks_hin.md, "OHEM stalls").

    Params:
        keep (0.5): fraction of the nodes kept, in (0, 1] (1: "ce").
        min_kept (1): keep at least this many nodes (per class with ``per_class``).
        per_class (True): select the hardest nodes within each class.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "keep": ParamSpec(
            "float", 0.5, "fraction of the hardest nodes kept", low=0.0, high=1.0, low_open=True
        ),
        "min_kept": ParamSpec("int", 1, "keep at least this many nodes", low=1),
        "per_class": ParamSpec("bool", True, "select the hardest nodes within each class"),
    }

    def _forward(self, logits, target, embeddings, sample_weight):
        losses = F.cross_entropy(logits, target, reduction="none")
        groups = target if self.hparams["per_class"] else None
        idx = ohem_select(losses, self.hparams["keep"], self.hparams["min_kept"], groups)
        weights = None if sample_weight is None else sample_weight[idx]
        return weighted_mean(losses[idx], weights)


def _minority_from_batch(target: Tensor, num_classes: int) -> Tensor:
    """Boolean ``[C]``: classes present in the batch with fewer nodes than the mean
    count of the present classes."""
    counts = torch.bincount(target, minlength=num_classes).to(torch.float64)
    present = counts > 0
    mean = counts[present].mean()
    return present & (counts < mean)


def triplet_term(
    embeddings: Tensor,
    target: Tensor,
    minority: Tensor,
    *,
    k: int = 3,
    margin: float = 0.5,
) -> Tensor:
    """Hard-mined triplet term of the class rectification loss (Dong et al., 2017).

    Every node of a ``minority`` class is an anchor; its ``k`` hard positives are the
    same-class nodes farthest from it and its ``k`` hard negatives the other-class nodes
    closest to it (Euclidean distance). The term is the mean over all (anchor, hard
    positive, hard negative) triplets of ``max(0, margin + d(a, p) - d(a, n))``, or 0
    when no triplet exists (no anchor with both a positive and a negative).

    Args:
        embeddings: ``[N, D]`` node embeddings.
        target: ``[N]`` class indices.
        minority: Boolean ``[C]``: which classes provide anchors.
        k: Hard positives and hard negatives per anchor.
        margin: Margin of the triplet hinge.

    Returns:
        A scalar tensor.
    """
    n = embeddings.size(0)
    anchors = torch.nonzero(minority[target]).flatten()
    if anchors.numel() == 0 or n < 2:
        return embeddings.sum() * 0.0
    # only anchor rows: [A, N] (a full [N, N, D] difference tensor would not fit)
    sq = (
        embeddings[anchors].pow(2).sum(-1, keepdim=True)
        - 2.0 * embeddings[anchors] @ embeddings.t()
        + embeddings.pow(2).sum(-1).unsqueeze(0)
    )
    dist = sq.clamp_min(1e-12).sqrt()  # [A, N]
    same = target[anchors].unsqueeze(1) == target.unsqueeze(0)
    same[torch.arange(anchors.numel()), anchors] = False  # an anchor is not its own positive
    other = target[anchors].unsqueeze(1) != target.unsqueeze(0)
    kk = min(k, n)
    pos, _ = dist.masked_fill(~same, float("-inf")).topk(kk, dim=1, largest=True)
    neg, _ = dist.masked_fill(~other, float("inf")).topk(kk, dim=1, largest=False)
    pos_ok, neg_ok = pos.isfinite(), neg.isfinite()
    valid = pos_ok.unsqueeze(2) & neg_ok.unsqueeze(1)  # [A, k, k]
    if not bool(valid.any()):
        return embeddings.sum() * 0.0
    pos = torch.where(pos_ok, pos, torch.zeros_like(pos))
    neg = torch.where(neg_ok, neg, torch.zeros_like(neg))
    hinge = F.relu(margin + pos.unsqueeze(2) - neg.unsqueeze(1))
    return torch.where(valid, hinge, torch.zeros_like(hinge)).sum() / valid.sum()


@register_loss("crl")
class ClassRectificationLoss(BalancedLoss):
    """Class rectification loss: ``(1 - alpha) * ce + alpha * hard-mined triplet term``.

    Dong, Gong and Zhu, "Class Rectification Hard Mining for Imbalanced Deep Learning"
    (ICCV 2017; TPAMI 2018). Anchors are the nodes of the batch's minority classes
    (classes whose batch count is below the mean count of the classes in the batch,
    or the classes listed in ``minority``); hard positives/negatives and the hinge are
    those of :func:`triplet_term`, on the ``embeddings`` passed to ``forward`` (required).
    The paper sets ``alpha = eta * Omega_imb`` from the data's imbalance; here ``alpha``
    is used as given (pass ``eta * Omega_imb`` to reproduce the paper). ``sample_weight``
    weighs the cross-entropy part only.

    Params:
        alpha (0.5): weight of the triplet term, in [0, 1] (0: "ce").
        k (3): hard positives and hard negatives per anchor.
        margin (0.5): triplet margin, >= 0.
        minority (None): classes (names or indices) providing anchors; None: the
            batch's minority classes.
        normalize (True): L2-normalise the embeddings first (distances on the unit
            sphere, so the margin does not depend on the embedding scale).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "alpha": ParamSpec("float", 0.5, "weight of the triplet term (0: ce)", low=0.0, high=1.0),
        "k": ParamSpec("int", 3, "hard positives and negatives per anchor", low=1),
        "margin": ParamSpec("float", 0.5, "triplet margin", low=0.0),
        "minority": ParamSpec(
            "strs", None, "anchor classes (names or indices); none: batch minority"
        ),
        "normalize": ParamSpec("bool", True, "L2-normalise the embeddings before distances"),
    }
    requires_embeddings: ClassVar[bool] = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        fixed = None
        if self.hparams["minority"] is not None:
            what = f"{self._owner()}: minority"
            fixed = torch.zeros(self.num_classes, dtype=torch.bool)
            for key in self.hparams["minority"]:
                fixed[class_index(key, self.class_names, self.num_classes, what)] = True
        self.register_buffer("minority", fixed, persistent=False)

    def _forward(self, logits, target, embeddings, sample_weight):
        alpha = self.hparams["alpha"]
        ce = weighted_mean(F.cross_entropy(logits, target, reduction="none"), sample_weight)
        if alpha == 0:
            return ce
        h = F.normalize(embeddings, dim=1) if self.hparams["normalize"] else embeddings
        minority = self.minority
        if minority is None:
            minority = _minority_from_batch(target, self.num_classes)
        minority = minority.to(target.device)
        term = triplet_term(h, target, minority, k=self.hparams["k"], margin=self.hparams["margin"])
        return (1 - alpha) * ce + alpha * term.to(ce.dtype)
