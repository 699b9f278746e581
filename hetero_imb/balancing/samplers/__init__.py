"""Re-sampling methods that act on target-node embeddings, registered in ``SAMPLERS``.

Every sampler is an :class:`EmbeddingSampler`. The training loop calls ``fit`` once
on the full graph (after the encoder's ``preprocess``), then at every step::

    z_tr, y_tr = z[train_idx], y[train_idx]
    z2, y2, w = sampler.resample(z_tr, y_tr, index=train_idx, generator=gen)
    loss = loss_fn(model.classify(z2), y2, embeddings=z2, sample_weight=w)

``resample`` returns the rows to train on, their labels and optional per-row weights.
Returned rows are differentiable functions of the input rows (copies, subsets or
interpolations), so gradients reach the encoder through every row, synthetic or not.

Entries:

* ``"none"``: the rows as they are.
* ``"oversample-random"``: repeat rows of small classes (drawn with replacement) until
  each reaches ``target_ratio`` × the largest class count.
* ``"undersample"``: keep a random subset of each large class, down to
  ``target_ratio`` × the smallest class count; with ``reweight`` the kept rows are
  weighted so that the loss keeps the true class prior.
* ``"oversample-neighbors"``: GraphSMOTE-style synthesis in embedding space
  (Zhao, Zhang & Wang, "GraphSMOTE: Imbalanced Node Classification on Graphs with
  Graph Neural Networks", WSDM 2021): a synthetic row is a random point on the
  segment between a minority node and a same-class (meta-path) neighbour.

* ``"ml-ros"`` (multi-label only): label-set-aware random oversampling (Charte et al.,
  Neurocomputing 2015), see :mod:`.multilabel`.

Per-class targets are computed on the rows given to ``resample`` (all training nodes
in full-batch training, the batch's seed nodes in mini-batch training), with
``target = floor(target_ratio * count)`` of the reference class.

Options are declared as :class:`~hetero_imb.params.ParamSpec` in each class's
``params`` and validated when ``fit`` starts.

* ``"smote"``, ``"smote-tomek"``, ``"adasyn"``: imbalanced-learn's re-samplers on the
  node-feature rows of the training nodes, once before fitting, for the feature
  baselines only (models whose spec sets ``resamples_features``: ``mlp``, ``xgboost``);
  graph models refuse them, since synthetic rows have no edges (:mod:`.feature_rows`).

The package holds :mod:`.base` (``SAMPLERS``, :class:`EmbeddingSampler`,
:func:`register_sampler`), :mod:`.resampling` (``none``, ``oversample-random``,
``undersample``) and :mod:`.smote` (``oversample-neighbors``) and :mod:`.feature_rows`. A new sampler is one
module here (or anywhere) with one :func:`register_sampler` decorator; every module
of this package is imported with it.

Example:
    >>> import torch
    >>> from torch_geometric.data import HeteroData
    >>> data = HeteroData()
    >>> data["paper"].num_nodes = 6
    >>> data.target_node_type, data.class_names = "paper", ["common", "rare"]
    >>> y = torch.tensor([0, 0, 0, 0, 1, 1])
    >>> sampler = SAMPLERS.get("oversample-random")(target_ratio=1.0)
    >>> sampler = sampler.fit(data, torch.arange(6), y, seed=0)
    >>> z = torch.randn(6, 3, requires_grad=True)
    >>> z2, y2, w = sampler.resample(z, y, generator=torch.Generator().manual_seed(0))
    >>> y2.tolist(), w
    ([0, 0, 0, 0, 1, 1, 1, 1], None)
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import SAMPLERS, EmbeddingSampler, SyntheticRows, register_sampler

# The built-in samplers register in this (alphabetical) order: ``--help``, README table.
from .resampling import IdentitySampler, RandomOverSampler, RandomUnderSampler
from .smote import NeighborOverSampler

# Any other module of this package registers its samplers on import.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
del _module

# after the embedding samplers (registration order: ``--help``, README table)
from .feature_rows import (  # noqa: E402
    ADASYNSampler,
    FeatureRowSampler,
    FeatureSamplerError,
    SMOTESampler,
    SMOTETomekSampler,
    feature_row_samplers,
)

__all__ = [
    "SAMPLERS",
    "ADASYNSampler",
    "EmbeddingSampler",
    "FeatureRowSampler",
    "FeatureSamplerError",
    "SMOTESampler",
    "SMOTETomekSampler",
    "feature_row_samplers",
    "IdentitySampler",
    "NeighborOverSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SyntheticRows",
    "register_sampler",
]
