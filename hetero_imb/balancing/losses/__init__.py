"""Balancing losses, registered in ``LOSSES``.

Every loss is a :class:`BalancedLoss`: built from the per-class *training* counts (for
priors and class weights) and validated options declared in its ``params``
(:class:`~hetero_imb.params.ParamSpec`), and called as
``loss(logits, target, embeddings=None, sample_weight=None)`` → a scalar.

Conventions shared by all entries:

* ``logits`` are raw scores ``[N, C]``; ``target`` holds class indices ``[N]`` (mask
  unlabelled ``-1`` nodes out before calling);
* the result is the mean over the nodes; with ``sample_weight`` ``[N]`` it is the
  weighted mean ``sum(w * l) / sum(w)`` (0 when all weights are 0);
* an empty batch gives 0 (connected to the graph, so ``backward`` works).

The package holds one module per family: :mod:`.base` (``LOSSES``,
:class:`BalancedLoss`, :func:`register_loss`, :func:`build_loss`),
:mod:`.cross_entropy` (``ce``, ``weighted``), :mod:`.focal` (``focal``, ``ce+focal``),
:mod:`.logit_adjusted` (``balanced-softmax``) and :mod:`.mining` (``ohem``, ``crl``);
:mod:`.multilabel` holds the multi-label losses (multi-hot ``[N, C]`` targets: ``bce``,
``weighted-bce``, ``focal-bce``, ``margin-bce``, ``asl``, ``db``).
A new loss is one module here (or anywhere) with one :func:`register_loss`
decorator; every module of this package is imported with it.

Build one by name with :func:`build_loss`; convert command-line ``name=value`` options
with :func:`~hetero_imb.params.parse_params` (re-exported here).

Example:
    >>> import torch
    >>> loss = build_loss("focal", class_counts=[90, 10], gamma=2.0)
    >>> value = loss(torch.randn(4, 2), torch.tensor([0, 1, 0, 0]))
    >>> value.shape
    torch.Size([])
"""

from __future__ import annotations

import importlib
import pkgutil

from ...params import ParamError, ParamSpec, parse_params
from .base import LOSSES, BalancedLoss, build_loss, describe_loss, register_loss, weighted_mean

# The built-in families register in this (alphabetical) order: ``--help``, README table.
from .cross_entropy import CrossEntropyLoss, WeightedCrossEntropyLoss
from .focal import FocalLoss, MixedFocalLoss, focal_terms
from .logit_adjusted import BalancedSoftmaxLoss
from .mining import (
    ClassRectificationLoss,
    HardExampleMiningLoss,
    ohem_select,
    triplet_term,
)

# Any other module of this package registers its losses on import.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
del _module

__all__ = [
    "LOSSES",
    "BalancedLoss",
    "BalancedSoftmaxLoss",
    "ClassRectificationLoss",
    "CrossEntropyLoss",
    "FocalLoss",
    "HardExampleMiningLoss",
    "MixedFocalLoss",
    "ParamError",
    "ParamSpec",
    "WeightedCrossEntropyLoss",
    "build_loss",
    "describe_loss",
    "focal_terms",
    "ohem_select",
    "parse_params",
    "register_loss",
    "triplet_term",
    "weighted_mean",
]
