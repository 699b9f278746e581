"""MLP baseline on the target nodes' own features; edges are ignored.

The features are those of :func:`hetero_imb.data.features.node_features`: the target's
``x`` when it has one, else (e.g. Freebase movies) documented structural features —
``log1p`` per-relation degrees and meta-path neighbour counts. ``preprocess``
computes them on the full graph, standardises every column to zero mean and unit
variance (mean and std fitted on all target nodes — transductive, labels unused;
constant columns are only centred) and stores the result as
``data[target].x_mlp``, leaving ``x`` untouched. Sparse ``x`` (Facebook's 4,714-wide
bag of words) is kept sparse and unscaled, since centring would densify it; the first
layer multiplies it with :func:`torch.sparse.mm`.

``encoder.feature_description`` says which features were used (set at build time,
e.g. ``"node features x[8]"`` or ``"structural: degree[has_actor], ..."``).

With a feature-row sampler (``smote``, ``smote-tomek``, ``adasyn``; see
:mod:`hetero_imb.balancing.samplers.feature_rows`) the MLP's unscaled input rows of
the training nodes are re-sampled once, and the MLP is trained in the shared loop (the
run's loss, sampler ``none``) on a graph of those rows alone: every target node plus
the synthetic rows, which join the training set only. The MLP's feature scaling is
then fitted on all of these rows; the returned probabilities cover the real nodes.
Per-epoch callbacks and progress bars of the run do not reach that inner fit.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..data.features import node_features
from ..data.graph import target_type
from ..data.validate import GraphWarning
from .base import COMMON_PARAMS, MODELS, Encoder, FitContext, FitOutput, ModelSpec, fit_in_loop
from .inputs import check_settings, is_sparse, precomputed_rows, with_tuple_metapaths

#: Node attribute of the target store holding the MLP's features after ``preprocess``.
FEATURE_KEY = "x_mlp"


def standardise(x: Tensor, eps: float = 1e-12) -> Tensor:
    """Columns scaled to zero mean and unit (population) variance; constant columns centred.

    Example:
        >>> standardise(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
        tensor([[-1.,  0.],
                [ 1.,  0.]])
    """
    mean, std = feature_stats(x, eps)
    return (x - mean) / std


def feature_stats(x: Tensor, eps: float = 1e-12) -> tuple[Tensor, Tensor]:
    """Column means and (population) stds of ``x``, constant columns' std set to 1."""
    mean = x.mean(dim=0, keepdim=True)
    std = x.std(dim=0, unbiased=False, keepdim=True)
    return mean, torch.where(std > eps, std, torch.ones_like(std))


def mlp_features(data: HeteroData, standardised: bool = True) -> tuple[Tensor, str]:
    """The MLP's input for every target node and its description.

    Args:
        data: The graph.
        standardised: Scale dense features with this graph's own column statistics
            (``False``: unscaled; the encoder then applies the statistics it was built with).

    Returns:
        ``(x, description)``: (standardised) dense features, or the sparse ``x`` as is.
    """
    target = target_type(data)
    x = data[target].get("x")
    if x is not None and is_sparse(x):
        return x.float(), f"node features x[{x.size(-1)}] (sparse, unscaled)"
    # tuples, not the lists HeteroData.to()/clone() leave (features.py needs tuples)
    features, description = node_features(with_tuple_metapaths(data), target)
    features = features.float()
    return (standardise(features) if standardised else features), description + " (standardised)"


class MLPEncoder(Encoder):
    """``num_layers`` Linear-ReLU-Dropout layers on the target's features.

    Args:
        data: The graph (its target features, or structure, fix the input width).
        hidden: Width of every layer.
        num_layers: Number of layers.
        dropout: Dropout after each layer.
        seed: Unused beyond ``build_model``'s seeding (accepted for a uniform builder).
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        seed: int | None = None,
    ):
        super().__init__()
        check_settings(
            "model 'mlp'", COMMON_PARAMS, hidden=hidden, num_layers=num_layers, dropout=dropout
        )
        self.target = target_type(data)
        features, self.feature_description = mlp_features(data, standardised=False)
        in_channels = int(features.size(-1))
        # the scaling fitted on the training graph is part of the weights, so a saved
        # model scales the features of a graph with new nodes the same way
        mean, std = (None, None) if is_sparse(features) else feature_stats(features.float())
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std)
        self.first = nn.Linear(in_channels, hidden)
        self.dropout = nn.Dropout(dropout)
        rest: list[nn.Module] = []
        for _ in range(num_layers - 1):
            rest += [nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout)]
        self.rest = nn.Sequential(*rest)
        self.in_channels = in_channels
        self.out_channels = hidden

    def preprocess(self, data: HeteroData) -> HeteroData:
        """A shallow copy of ``data`` with the features as ``data[target].x_mlp``."""
        features, description = mlp_features(data, standardised=False)
        if self.feature_mean is not None:
            features = (features.float() - self.feature_mean) / self.feature_std
        if features.size(-1) != self.in_channels:
            raise ValueError(
                f"graph gives {features.size(-1)} MLP features ({description}) but the model "
                f"was built for {self.in_channels}"
            )
        data = copy.copy(data)
        data[self.target][FEATURE_KEY] = features
        return data

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        x = precomputed_rows(data, self.target, FEATURE_KEY, "feature rows")
        if is_sparse(x):
            h = torch.sparse.mm(x, self.first.weight.t()) + self.first.bias
        else:
            h = self.first(x)
        return self.rest(self.dropout(torch.relu(h)))


def build_mlp(
    data: HeteroData, *, hidden: int, num_layers: int, dropout: float, seed: int
) -> MLPEncoder:
    """Builder registered as ``"mlp"``."""
    return MLPEncoder(data, hidden=hidden, num_layers=num_layers, dropout=dropout, seed=seed)


def fit_mlp(data: HeteroData, context: FitContext) -> FitOutput:
    """Fit hook of ``"mlp"``: the shared loop, on re-sampled feature rows with a
    feature-row sampler (see the module docstring)."""
    from ..balancing.samplers import SAMPLERS
    from ..balancing.samplers.feature_rows import resampled_graph

    config = context.config
    if SAMPLERS.get(config.sampler).rows != "features":
        return fit_in_loop(data, context)
    if config.augmenter != "none":
        raise ValueError(f"model 'mlp' with sampler {config.sampler!r} trains on feature rows "
                         f"without edges; augmenter must be 'none', got {config.augmenter!r}")
    from ..training.runner import fit_model  # the one fit path, on the re-sampled rows

    x, description = mlp_features(data, standardised=False)
    sampler = SAMPLERS.get(config.sampler)(**config.sampler_params)
    graph = resampled_graph(data, x, sampler, seed=config.seed)
    with warnings.catch_warnings():  # the rows' graph has no edges by construction
        warnings.filterwarnings("ignore", message=".*receives no messages", category=GraphWarning)
        out = fit_model(config.replace(sampler="none", sampler_params={}), graph)
    n = data[target_type(data)].num_nodes
    return dataclasses.replace(out, proba=out.proba[:n], features=description)


_SUMMARY = "MLP on target-node features only (structural features when featureless)"
MODELS.register("mlp", ModelSpec(builder=build_mlp, params=COMMON_PARAMS, summary=_SUMMARY,
                                 fit=fit_mlp, resamples_features=True,
                                 static_graph="it reads node features only"))
