"""Balancing methods that plug into the training loop: losses, class weights, samplers.

* :mod:`~hetero_imb.balancing.losses`: the ``LOSSES`` registry (``ce``, ``weighted``,
  ``focal``, ``ce+focal``, ``balanced-softmax``, ``ohem``, ``crl``), :func:`build_loss`
  and :func:`register_loss`;
* :mod:`~hetero_imb.balancing.weights`: class-weight schemes and log priors;
* :mod:`~hetero_imb.balancing.samplers`: the ``SAMPLERS`` registry (``none``,
  ``oversample-random``, ``undersample``, ``oversample-neighbors``) and
  :func:`register_sampler`;
* graph-native losses, each in its own module and registered in ``LOSSES``:
  :mod:`~.ldam` (``ldam``, optional DRW), :mod:`~.tam` (``tam``), :mod:`~.renode`
  (``renode``); :mod:`~.graph_loss` is their base (graph hooks of the training loop)
  and :mod:`~.topology` the target-node neighbourhood they read on heterographs;
* multi-label (multi-hot ``y [N, C]``): the losses ``bce``, ``weighted-bce``,
  ``focal-bce``, ``margin-bce``, ``asl``, ``db`` (:mod:`~.losses.multilabel`) and the
  sampler ``ml-ros`` (:mod:`~.samplers.multilabel`), marked ``multilabel = True``;
* :mod:`~hetero_imb.balancing.augmenters`: the ``AUGMENTERS`` registry (``none``,
  ``bat``, ``graphens``, ``graphsha``) of methods that change the training graph (the
  last two append labelled synthetic target nodes), and :func:`register_augmenter`.

A new loss or sampler is one class with one registration decorator
(:func:`register_loss`, :func:`register_sampler`); the CLI, the comparison runner and
the README table then know it by name.
"""

from __future__ import annotations

from .augmenters import AUGMENTERS, Augmenter, BATAugmenter, build_augmenter, register_augmenter
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
    register_loss,
    triplet_term,
    weighted_mean,
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
    register_sampler,
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
    "AUGMENTERS",
    "Augmenter",
    "BATAugmenter",
    "build_augmenter",
    "register_augmenter",
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
    "register_loss",
    "resolve_class_weights",
    "triplet_term",
    "weighted_mean",
    "SAMPLERS",
    "EmbeddingSampler",
    "IdentitySampler",
    "NeighborOverSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SyntheticRows",
    "register_sampler",
]
