"""The base of graph augmenters: ``AUGMENTERS``, :class:`Augmenter`, registration.

An augmenter changes the *graph* the model is trained on (adds nodes or edges),
where a sampler changes the training *rows* and a loss their weighting. The training
loop (:mod:`hetero_imb.training.engine`) drives it without knowing its name:

* ``prepare(data)``: before the model is built, and again before a saved model scores
  a graph; may add node or edge *types* (the model's input layers and relations are
  sized from the schema). It must not read labels, so that scoring gives the same
  schema as training;
* ``fit(data, train_idx, y_train, seed=...)``: once, on the prepared graph after the
  encoder's ``preprocess``;
* ``on_epoch(epoch, proba)``: after every epoch, with the current class
  probabilities of every target node ``[N, C]`` (computed on the graph *without*
  augmentation, as the model is evaluated);
* ``augment(graph)``: before each full-batch training step; returns the graph to
  train on (a shallow copy; the evaluation graph is never changed);
* ``synthetic_rows()``: right after ``augment``, ``None`` or ``(ids, labels)`` of the
  *labelled* target nodes it appended (ids ``N..N+S-1`` in the augmented graph), which
  the loop trains on beside the training nodes (``graphens``, ``graphsha``;
  ``adds_nodes = True``). Such augmenters balance the classes themselves and are
  refused with a re-sampler.

Augmenters act on the graph after ``preprocess``: the encoders' ``preprocess``
(meta-path graphs, metapath2vec walks, MLP feature rows) reads only the dataset's own
relations, so added relations need no re-preprocessing; an encoder sees them in its
forward pass when it embeds every relation of the schema (``gcn``, ``gat``, ``rgcn``).

A new augmenter is one :class:`Augmenter` subclass declaring ``params`` and
implementing :meth:`Augmenter._augment` (and ``_prepare``, ``_fit``, ``_on_epoch``
when it needs them), registered with :func:`register_augmenter`.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...params import ParamSpec, validate_params
from ...registry import Registry

__all__ = ["AUGMENTERS", "Augmenter", "NoAugmenter", "build_augmenter", "register_augmenter"]

AUGMENTERS: Registry[type[Augmenter]] = Registry("augmenter")


def register_augmenter(name: str, *, summary: str = "", overwrite: bool = False) -> Any:
    """Class decorator: register an :class:`Augmenter` subclass as ``name`` in ``AUGMENTERS``.

    Example:
        >>> @register_augmenter("noop-demo", summary="does nothing")
        ... class Noop(Augmenter):
        ...     def _augment(self, graph):
        ...         return graph
        >>> AUGMENTERS.validate("noop-demo", {})
        {}
        >>> _ = AUGMENTERS.unregister("noop-demo")
    """

    def decorator(cls: type[Augmenter]) -> type[Augmenter]:
        if not (isinstance(cls, type) and issubclass(cls, Augmenter)):
            raise TypeError(f"augmenter {name!r} must be an Augmenter subclass, got {cls!r}")
        AUGMENTERS.register(name, cls, summary=summary, overwrite=overwrite)
        cls.name = name
        return cls

    return decorator


def build_augmenter(name: str, **params: Any) -> Augmenter:
    """The augmenter registered as ``name`` with ``params`` (validated now).

    Raises:
        UnknownComponentError: ``name`` is not registered.
        ParamError: an unknown option or a bad value.

    Example:
        >>> build_augmenter("none")
        NoAugmenter()
    """
    AUGMENTERS.validate(name, params, parameter="augmenter")
    return AUGMENTERS.get(name, parameter="augmenter")(**params)


class Augmenter:
    """Base class: change the training graph (see the module docstring for the hooks).

    Args:
        **params: Options declared in ``params``; validated here.

    Attributes:
        params_: The validated options, defaults filled in.
        supports_minibatch: Whether it works with mini-batch training; when not,
            ``minibatch_reason`` says why (shown in errors, ``--help`` and docs).
        adds_nodes: Whether :meth:`augment` appends labelled target nodes
            (:meth:`synthetic_rows`).
        redraws_relations: Whether :meth:`augment` redraws, before every step, edges of
            relations the model must read then (``bat``); models whose graph input is
            fixed before training (:attr:`~hetero_imb.models.ModelSpec.static_graph`)
            refuse such an augmenter, which would change nothing for them.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, ParamSpec]] = {}
    supports_minibatch: ClassVar[bool] = True
    minibatch_reason: ClassVar[str] = ""
    adds_nodes: ClassVar[bool] = False
    redraws_relations: ClassVar[bool] = False

    def __init__(self, **params: Any):
        self._given = dict(params)
        self.params_ = validate_params(params, self.params, owner=self.owner)
        self.fitted = False
        self.epochs_done = 0

    @property
    def owner(self) -> str:
        """``"augmenter '<name>'"`` for messages."""
        cls = type(self)
        return f"augmenter {cls.name or AUGMENTERS.name_of(cls) or cls.__name__!r}"

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({given})"

    def prepare(self, data: HeteroData) -> HeteroData:
        """``data`` with the node/edge types the augmentation needs (label-free)."""
        if not isinstance(data, HeteroData):
            raise TypeError(f"{self.owner}: data must be a HeteroData, got {type(data).__name__}")
        return self._prepare(data)

    def fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor, *, seed: int = 0) -> Augmenter:
        """Precompute from the (prepared, preprocessed) graph; called once by the loop.

        Args:
            data: The graph.
            train_idx: Global ids of the training target nodes ``[L]``.
            y_train: Their labels ``[L]``.
            seed: Seeds every random draw of :meth:`augment`.

        Returns:
            ``self``.
        """
        if train_idx.shape != y_train.shape:
            raise ValueError(
                f"{self.owner}: train_idx {tuple(train_idx.shape)} and y_train "
                f"{tuple(y_train.shape)} must have the same shape"
            )
        self.generator = torch.Generator().manual_seed(int(seed))
        self._fit(data, train_idx.cpu().long(), y_train.cpu().long())
        self.fitted = True
        return self

    def on_epoch(self, epoch: int, proba: Tensor) -> None:
        """Training-loop hook: ``epoch`` (1-based) finished; ``proba`` ``[N, C]``."""
        self.epochs_done = int(epoch)
        self._on_epoch(proba.detach())

    def augment(self, graph: HeteroData) -> HeteroData:
        """The graph to train the next step on (``graph`` itself is left unchanged)."""
        if not self.fitted:
            raise RuntimeError(
                f"{self.owner}: call fit(data, train_idx, y_train) before augment "
                "(hetero_imb's training loop does)"
            )
        return self._augment(graph)

    def synthetic_rows(self) -> tuple[Tensor, Tensor] | None:
        """``(ids, labels)`` of the labelled target nodes the last :meth:`augment`
        appended, or ``None`` (the default: it appends none)."""
        return None

    # hooks -------------------------------------------------------------------------
    def _prepare(self, data: HeteroData) -> HeteroData:
        return data

    def _fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor) -> None:
        """Default: nothing to precompute."""

    def _on_epoch(self, proba: Tensor) -> None:
        """Default: predictions are not used."""

    def _augment(self, graph: HeteroData) -> HeteroData:
        raise NotImplementedError


@register_augmenter("none", summary="train on the graph as it is")
class NoAugmenter(Augmenter):
    """No augmentation: the training graph is the graph."""

    #: Its ``on_epoch`` ignores the probabilities (the loop need not predict every node).
    uses_epoch_proba = False

    def _augment(self, graph: HeteroData) -> HeteroData:
        return graph


def shallow_copy(graph: HeteroData) -> HeteroData:
    """A shallow copy whose stores can be given new attributes without touching ``graph``."""
    return copy.copy(graph)
