"""Validation nodes kept out of model selection, for decision rules that need them unseen.

The ``min-recall:CLASS:R`` decision (:mod:`hetero_imb.training.decision`) sets the
class's offset at a split-conformal quantile of validation scores; its promise (an
expected recall of at least ``R`` on new nodes) holds only when those validation nodes
are exchangeable with the test nodes. Early stopping keeps the epoch with the best
validation macro-F1, and a smoother chooses its settings on validation too: the nodes
that chose the model score it optimistically (on the Facebook case study the rarest
class's validation recall exceeded its test recall in every seed, by 4 to 23 points).
So for such a rule the run holds out a stratified, seeded half of the validation
nodes: the other half stops training and tunes the smoother; the held-out half only
places the offset. The reported validation metrics remain those of all validation
nodes.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import labelled_mask, labels, split_mask, target_type
from .decision import parse_decision

__all__ = ["hold_out_for_decision", "stratified_half"]


def stratified_half(y: Tensor, mask: Tensor, seed: int) -> Tensor:
    """A seeded half of the nodes in ``mask``, class by class (``floor(n_c / 2)`` of each
    class ``c``; multi-label rows: a half of all of them).

    Example:
        >>> y = torch.tensor([0, 0, 0, 0, 1, 1, 2])
        >>> stratified_half(y, torch.ones(7, dtype=torch.bool), seed=0).sum().item()
        3
    """
    gen = torch.Generator().manual_seed(int(seed))
    out = torch.zeros_like(mask, dtype=torch.bool)
    groups = [mask] if y.dim() > 1 else [mask & (y == c) for c in torch.unique(y[mask]).tolist()]
    for group in groups:
        idx = torch.nonzero(group).flatten()
        chosen = idx[torch.randperm(len(idx), generator=gen)[: len(idx) // 2]]
        out[chosen] = True
    return out


def hold_out_for_decision(spec: str, data: HeteroData, seed: int) -> tuple[HeteroData, Tensor | None]:
    """The graph to fit on and the validation nodes kept for the decision alone.

    Args:
        spec: The run's ``tune_decision``.
        data: The split graph.
        seed: Seed of the held-out draw (the run's).

    Returns:
        ``(data, None)`` for rules that tune on all validation nodes; for
        ``min-recall``, a shallow copy whose target ``val_mask`` lacks a stratified half
        of the labelled validation nodes, and that half's mask.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> from hetero_imb.data.splits import stratified_split
        >>> data = stratified_split(make_synthetic(seed=0), seed=0)
        >>> fit_data, held = hold_out_for_decision("min-recall:class_3:0.8", data, seed=0)
        >>> t = target_type(data)
        >>> bool((fit_data[t].val_mask & held).any()), bool(((fit_data[t].val_mask | held) == data[t].val_mask).all())
        (False, True)
    """
    if parse_decision(spec).objective != "min-recall":
        return data, None
    y = labels(data)
    held = stratified_half(y, split_mask(data, "val") & labelled_mask(y), seed)
    out = copy.copy(data)  # new stores sharing the tensors; the original keeps its masks
    out[target_type(data)].val_mask = split_mask(data, "val") & ~held
    return out, held
