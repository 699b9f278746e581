"""The shape of every model: an encoder (graph → target embeddings) and a head.

Keeping the two apart lets balancing methods that act on embeddings (neighbour-aware
oversampling, hard-example mining) work with every model, and lets ONE training loop
drive them all without knowing any model's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..params import ParamSpec
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
    subgraph (or only the first ``batch_size`` rows, the seeds, when it computes each
    layer only for the nodes within reach, as R-GCN does from ``num_sampled_nodes``),
    and the loop keeps the first ``batch_size`` rows.
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

    def default_batch_size(self, data: HeteroData) -> int | None:
        """The batch size to train with when the user gave none (``None``: full batch).

        Encoders whose full-batch step would not fit in memory on ``data`` return a
        batch size here (GAT, see :meth:`~hetero_imb.models.homogeneous.GATEncoder.default_batch_size`);
        the default trains full batch.
        """
        return None

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


#: Settings every model trained in the loop accepts, with the loop's generic defaults.
COMMON_PARAMS: dict[str, ParamSpec] = {
    "hidden": ParamSpec("int", 64, "width of the hidden layers", low=1),
    "num_layers": ParamSpec("int", 2, "number of layers", low=1),
    "dropout": ParamSpec("float", 0.5, "dropout rate", low=0.0, high=1.0, high_open=True),
    "lr": ParamSpec("float", 0.01, "learning rate (Adam)", low=0.0, low_open=True),
    "weight_decay": ParamSpec("float", 5e-4, "weight decay (Adam)", low=0.0),
}
#: The defaults of :data:`COMMON_PARAMS`.
COMMON_DEFAULTS: dict[str, Any] = {name: p.default for name, p in COMMON_PARAMS.items()}

#: Settings that belong to the optimiser, not to the encoder builder.
OPTIMISER_KEYS = ("lr", "weight_decay")


def with_defaults(params: Mapping[str, ParamSpec], **defaults: Any) -> dict[str, ParamSpec]:
    """``params`` with the defaults of some options changed.

    Example:
        >>> with_defaults(COMMON_PARAMS, num_layers=1)["num_layers"].default
        1
    """
    unknown = sorted(set(defaults) - set(params))
    if unknown:
        raise ValueError(f"with_defaults: no option(s) {unknown}; declared: {list(params)}")
    return {
        name: replace(p, default=defaults[name]) if name in defaults else p
        for name, p in params.items()
    }


def unused_params(params: Mapping[str, ParamSpec], model: str) -> dict[str, ParamSpec]:
    """``params`` declared as accepted but not used by ``model`` (so that settings shared
    by a comparison grid, e.g. ``hidden``, apply to every model of the grid)."""
    why = f"unused by {model} (accepted so that settings shared by a grid apply)"
    return {name: replace(p, help=why) for name, p in params.items()}


@dataclass(frozen=True)
class FitOutput:
    """What a model's fit hook returns to the runner.

    Attributes:
        proba: Class probabilities of every target node ``[N, C]``.
        history: One dict per epoch (empty for estimators fitted outside the loop).
        best_epoch: Epoch whose weights were kept (0 when there are no epochs).
        fit_seconds: Wall time of the fit, without preprocessing.
        epochs: Epochs (or boosting rounds) run.
        preprocess_seconds: Wall time of the encoder's ``preprocess``.
        features: Which node features the model saw, when it says so.
        model: The trained model (a :class:`NodeClassifier`) or fitted estimator, kept
            for the run's checkpoint.
        preprocessed: The graph after the encoder's ``preprocess`` (neural models).
    """

    proba: Tensor
    history: list[dict[str, Any]]
    best_epoch: int
    fit_seconds: float
    epochs: int
    preprocess_seconds: float = 0.0
    features: str | None = None
    model: Any = None
    preprocessed: HeteroData | None = None

    def timing(self) -> dict[str, float]:
        """``fit_seconds``, ``epochs``, ``seconds_per_epoch``, ``preprocess_seconds``."""
        return {
            "fit_seconds": self.fit_seconds,
            "epochs": self.epochs,
            "seconds_per_epoch": self.fit_seconds / max(self.epochs, 1),
            "preprocess_seconds": self.preprocess_seconds,
        }


@dataclass(frozen=True)
class FitContext:
    """What the runner hands a model's fit hook.

    Attributes:
        name: The registered model name.
        spec: Its :class:`ModelSpec`.
        settings: The model's validated settings (after ``prepare_params``).
        config: The run configuration (a :class:`~hetero_imb.training.config.RunConfig`:
            loss, sampler and their options, seed, loop settings).
        train: ``train(model, *, lr, weight_decay) -> FitOutput``: trains a
            :class:`NodeClassifier` in the shared loop with the run's loss and sampler.
    """

    name: str
    spec: ModelSpec
    settings: dict[str, Any]
    config: Any
    train: Callable[..., FitOutput]


def fit_in_loop(data: HeteroData, context: FitContext) -> FitOutput:
    """The default fit hook: build the encoder + head and train it in the shared loop."""
    model = build_model(context.name, data, seed=context.config.seed, **context.settings)
    settings = context.settings
    return context.train(model, lr=settings["lr"], weight_decay=settings["weight_decay"])


def _as_given(settings: dict[str, Any], config: Any) -> dict[str, Any]:
    return settings


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its options, how to build it and how it is fitted.

    Args:
        builder: ``builder(data, *, seed, **settings)``: for models trained in the loop,
            an :class:`Encoder` (it gets every setting but ``lr`` and ``weight_decay``).
        params: The declared settings, ``{name: ParamSpec}`` (default
            :data:`COMMON_PARAMS`; see :func:`with_defaults`). ``lr`` and
            ``weight_decay`` are read by the training loop.
        summary: One line for ``--help`` and the README.
        fit: Hook ``fit(data, context: FitContext) -> FitOutput`` (default
            :func:`fit_in_loop`: the shared training loop).
        losses: The losses the model accepts (``None``: every registered one). A
            mapping's values are for the fit hook (feature estimators: how the loss
            becomes sample weights, see :mod:`hetero_imb.models.estimator`).
        samplers: The samplers the model accepts (``None``: every registered one).
        augmenters: The augmenters the model accepts (``None``: every registered one).
        prepare_params: Hook ``prepare_params(settings, config) -> settings`` run
            before fitting (e.g. a cache folder under the run's data root).
        kind: A label for listings (``"neural"`` or ``"features"``); no code
            branches on it.
        resamples_features: Whether the fit hook re-samples node-feature rows itself, so
            that samplers of that kind (``smote``, ... : ``rows == "features"``) are
            accepted; other models refuse them whatever ``samplers`` says.
        static_graph: Why the model's graph input is fixed before training (``""``: its
            forward reads the training graph's edges at every step). Such a model
            refuses augmenters that redraw relations before each step
            (``Augmenter.redraws_relations``, e.g. ``bat``): their edges would never
            reach it.
    """

    builder: Callable[..., Any]
    params: Mapping[str, ParamSpec] = field(default_factory=lambda: dict(COMMON_PARAMS))
    summary: str = ""
    fit: Callable[[HeteroData, FitContext], FitOutput] = fit_in_loop
    losses: Mapping[str, Any] | None = None
    samplers: tuple[str, ...] | None = None
    augmenters: tuple[str, ...] | None = None
    prepare_params: Callable[[dict[str, Any], Any], dict[str, Any]] = _as_given
    kind: str = "neural"
    resamples_features: bool = False
    static_graph: str = ""

    def check_components(self, name: str, *, loss: str, sampler: str,
                         augmenter: str = "none") -> None:
        """Raise ``ValueError`` when the run's loss, sampler or augmenter is not one ``name``
        accepts."""
        for what, accepted, given in (("loss", self.losses, loss), ("sampler", self.samplers, sampler),
                                      ("augmenter", self.augmenters, augmenter)):
            if accepted is not None and given not in accepted:
                choices = " or ".join(repr(a) for a in accepted)
                raise ValueError(f"model {name!r} supports {what} {choices}, got {given!r}")
        from ..balancing.samplers import SAMPLERS

        refusal = getattr(SAMPLERS.get(sampler), "loop_refusal", "") if sampler in SAMPLERS else ""
        if refusal and not self.resamples_features:
            takers = [n for n in MODELS.names() if MODELS.get(n).resamples_features]
            raise ValueError(f"model {name!r} cannot take sampler {sampler!r}: {refusal}; "
                             f"models that can: {', '.join(takers)}")
        from ..balancing.augmenters import AUGMENTERS

        redraws = augmenter in AUGMENTERS and AUGMENTERS.get(augmenter).redraws_relations
        if redraws and self.static_graph:
            specs = {n: MODELS.get(n) for n in MODELS.names()}
            takers = [n for n, s in specs.items() if not s.static_graph
                      and (s.augmenters is None or augmenter in s.augmenters)]
            raise ValueError(
                f"model {name!r} cannot take augmenter {augmenter!r}: it redraws edges before "
                f"every step, and {self.static_graph}, so they would never reach it; models "
                f"that can: {', '.join(takers)}")


MODELS: Registry[ModelSpec] = Registry("model")


def build_model(name: str, data: HeteroData, *, seed: int = 0, **overrides: Any) -> NodeClassifier:
    """Build the registered model ``name`` (one trained in the loop) for ``data``.

    Args:
        name: A name registered in ``MODELS`` whose builder returns an :class:`Encoder`.
        data: The graph (its schema sizes the input layers and the head).
        seed: Seeds parameter initialisation (``torch.manual_seed``) and any
            pre-training the encoder does.
        **overrides: Settings overriding the model's defaults (validated against its
            ``params``).

    Returns:
        A :class:`NodeClassifier`.

    Raises:
        ParamError: an unknown setting or an invalid value.
        TypeError: the model is not trained in the loop (e.g. ``"xgboost"``).
    """
    from ..data.graph import feature_dims, num_classes
    from ..data.validate import check_is_graph

    check_is_graph(data)
    spec = MODELS.get(name, parameter="model")
    settings = MODELS.validate(name, overrides)
    torch.manual_seed(seed)
    builder_args = {k: v for k, v in settings.items() if k not in OPTIMISER_KEYS}
    encoder = spec.builder(data, seed=seed, **builder_args)
    if not isinstance(encoder, Encoder):
        raise TypeError(
            f"model {name!r} builds a {type(encoder).__name__}, not an Encoder; it is "
            "fitted by its own spec's fit hook (see hetero_imb.training.runner.run)"
        )
    model = NodeClassifier(encoder, num_classes(data), dropout=settings["dropout"])
    # what fit checks the training graph against (a model built on another graph)
    model.built_for = {"features": feature_dims(data), "num_classes": num_classes(data)}
    return model
