"""The shape of every model: an encoder (graph → target embeddings) and a head.

Keeping the two apart lets balancing methods that act on embeddings (neighbour-aware
oversampling, hard-example mining) work with every model, and lets ONE training loop
drive them all without knowing any model's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..registry import Registry


class Encoder(nn.Module):
    """Maps a graph to embeddings of its target nodes.

    Subclasses set ``out_channels`` and implement :meth:`forward`. Work that needs
    doing once per graph (meta-path adjacencies, pre-trained embeddings, homogeneous
    projections) goes in :meth:`preprocess`, which the training loop calls once on the
    full graph before training.

    Mini-batches: when the loop trains on sampled subgraphs, every node store carries
    ``n_id`` (global node ids, used to index embedding tables) and the target store
    carries ``batch_size``; ``forward`` returns embeddings for all target nodes of the
    subgraph, and the loop keeps the first ``batch_size`` rows.
    """

    out_channels: int

    def preprocess(self, data: HeteroData) -> HeteroData:
        """Return ``data`` augmented with whatever ``forward`` needs (default: as is)."""
        return data

    def forward(self, data: HeteroData) -> Tensor:  # pragma: no cover - abstract
        """Embeddings ``[num_target_nodes, out_channels]`` of the target nodes."""
        raise NotImplementedError

    #: Whether the encoder can run on sampled subgraphs (mini-batch training).
    supports_minibatch: bool = True

    #: Whether a trained encoder can embed nodes added to the graph after training
    #: (see :func:`hetero_imb.load_run`); when not, ``not_inductive_reason`` says why.
    inductive: bool = True
    not_inductive_reason: str = ""


class NodeClassifier(nn.Module):
    """An :class:`Encoder` followed by a linear classification head.

    Args:
        encoder: Produces target-node embeddings.
        num_classes: Number of output classes.
        dropout: Dropout applied to the embeddings before the head.

    Example:
        >>> model = build_model("rgcn", data)            # doctest: +SKIP
        >>> logits = model(model.encoder.preprocess(data))  # doctest: +SKIP
    """

    def __init__(self, encoder: Encoder, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.out_channels, num_classes)

    def embed(self, data: HeteroData) -> Tensor:
        """Target-node embeddings."""
        return self.encoder(data)

    def classify(self, z: Tensor) -> Tensor:
        """Logits from embeddings (dropout, then the linear head)."""
        return self.head(self.dropout(z))

    def forward(self, data: HeteroData) -> Tensor:
        """Logits ``[num_target_nodes, num_classes]``."""
        return self.classify(self.embed(data))


#: Hyper-parameters every model accepts, with the loop's generic defaults.
COMMON_DEFAULTS: dict[str, Any] = {
    "hidden": 64,
    "num_layers": 2,
    "dropout": 0.5,
    "lr": 0.01,
    "weight_decay": 5e-4,
}


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: how to build its encoder and its default settings.

    Args:
        builder: ``builder(data, *, hidden, num_layers, dropout, seed, **extra) -> Encoder``.
        defaults: Overrides of :data:`COMMON_DEFAULTS` plus model-specific settings
            (for instance ``heads`` for GAT). ``lr`` and ``weight_decay`` are read by
            the training loop, the rest are passed to ``builder``.
        summary: One line for ``--help`` and the README.
        kind: ``"neural"`` (trained by the loop) or ``"features"`` (a feature-only
            estimator such as XGBoost, fitted by its own ``fit``).
    """

    builder: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    kind: str = "neural"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Defaults merged with ``overrides`` (``None`` values are ignored)."""
        merged = {**COMMON_DEFAULTS, **self.defaults}
        unknown = sorted(k for k in overrides if k not in merged)
        if unknown:
            name = self.summary or "this model"
            raise ValueError(
                f"unknown model setting(s) {unknown} for {name}; accepted: {sorted(merged)}"
            )
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return merged


MODELS: Registry[ModelSpec] = Registry("model")

#: Settings that belong to the optimiser, not to the encoder builder.
OPTIMISER_KEYS = ("lr", "weight_decay")


def build_model(name: str, data: HeteroData, *, seed: int = 0, **overrides: Any) -> NodeClassifier:
    """Build the registered neural model ``name`` for ``data``.

    Args:
        name: A name registered in ``MODELS`` with ``kind == "neural"``.
        data: The graph (its schema sizes the input layers and the head).
        seed: Seeds parameter initialisation (``torch.manual_seed``) and any
            pre-training the encoder does.
        **overrides: Settings overriding the model's defaults.

    Returns:
        A :class:`NodeClassifier`.
    """
    from ..data.graph import num_classes

    spec = MODELS.get(name, parameter="model")
    if spec.kind != "neural":
        raise ValueError(f"model {name!r} is a {spec.kind} baseline, not a neural model")
    settings = spec.settings(**overrides)
    torch.manual_seed(seed)
    builder_args = {k: v for k, v in settings.items() if k not in OPTIMISER_KEYS}
    encoder = spec.builder(data, seed=seed, **builder_args)
    return NodeClassifier(encoder, num_classes(data), dropout=settings["dropout"])
