"""Balancing methods that plug into the training loop: losses, class weights, samplers.

* :mod:`~hetero_imb.balancing.losses`: the ``LOSSES`` registry (``ce``, ``weighted``,
  ``focal``, ``ce+focal``, ``balanced-softmax``, ``ohem``, ``crl``) and :func:`build_loss`;
* :mod:`~hetero_imb.balancing.weights`: class-weight schemes and log priors;
* :mod:`~hetero_imb.balancing.samplers`: the ``SAMPLERS`` registry (``none``,
  ``oversample-random``, ``undersample``, ``oversample-neighbors``);
* graph-native losses, each in its own module and registered in ``LOSSES``:
  :mod:`~.ldam` (``ldam``, optional DRW), :mod:`~.tam` (``tam``), :mod:`~.renode`
  (``renode``); :mod:`~.graph_loss` is their base (graph hooks of the training loop)
  and :mod:`~.topology` the target-node neighbourhood they read on heterographs.
"""

from __future__ import annotations

from .graph_loss import GraphAwareLoss
from .ldam import LDAMLoss
from .losses import (
    LOSSES,
    BalancedLoss,
    BalancedSoftmaxLoss,
    ClassRectificationLoss,
    CrossEntropyLoss,
    FocalLoss,
    HardExampleMiningLoss,
    MixedFocalLoss,
    WeightedCrossEntropyLoss,
    build_loss,
    describe_loss,
    focal_terms,
    ohem_select,
    triplet_term,
)
from .renode import ReNodeLoss
from .samplers import (
    SAMPLERS,
    EmbeddingSampler,
    IdentitySampler,
    NeighborOverSampler,
    RandomOverSampler,
    RandomUnderSampler,
    SyntheticRows,
)
from .tam import TAMLoss
from .weights import (
    WEIGHT_SCHEMES,
    class_weights,
    init_bias_to_log_prior,
    log_prior,
    resolve_class_weights,
)

__all__ = [
    "LOSSES",
    "WEIGHT_SCHEMES",
    "BalancedLoss",
    "BalancedSoftmaxLoss",
    "ClassRectificationLoss",
    "CrossEntropyLoss",
    "FocalLoss",
    "GraphAwareLoss",
    "LDAMLoss",
    "ReNodeLoss",
    "TAMLoss",
    "HardExampleMiningLoss",
    "MixedFocalLoss",
    "WeightedCrossEntropyLoss",
    "build_loss",
    "class_weights",
    "describe_loss",
    "focal_terms",
    "init_bias_to_log_prior",
    "log_prior",
    "ohem_select",
    "resolve_class_weights",
    "triplet_term",
    "SAMPLERS",
    "EmbeddingSampler",
    "IdentitySampler",
    "NeighborOverSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SyntheticRows",
]
