"""Base class of losses that read the graph (``tam``, ``renode``).

The training loop (:mod:`hetero_imb.training.engine`) drives three optional hooks that
any loss may define; no loss is named there:

* ``fit(data, train_idx, y_train)``: once, before training, with the graph (after the
  encoder's ``preprocess``) and the global indices and labels of the training nodes;
* ``on_epoch(epoch, proba)``: after every epoch, with the current class probabilities
  of every target node ``[N, C]`` (evaluation mode);
* ``takes_index = True``: ``forward`` is then also given ``index=`` the global target
  node id of every row (``-1`` for rows a sampler synthesised), full-batch and
  mini-batch alike.

:class:`GraphAwareLoss` implements the three and wraps a *base* loss (any of
:data:`BASE_LOSSES`, built with its defaults from the same class counts): a subclass
turns ``(logits, target, index)`` into adjusted logits and/or per-node weights and
the base loss does the rest, so ``tam`` and ``renode`` compose with ``ce``,
``weighted``, ``balanced-softmax``, ``focal`` and ``ldam``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor
from torch_geometric.data import HeteroData

from ..params import ParamSpec
from .losses import LOSSES, BalancedLoss

__all__ = ["BASE_LOSSES", "GraphAwareLoss", "base_param"]

BASE_LOSSES = ("ce", "weighted", "balanced-softmax", "focal", "ldam")


def base_param(default: str = "ce") -> ParamSpec:
    """The ``base`` option of a graph-aware loss."""
    return ParamSpec("str", default, "the loss applied after the adjustment", choices=BASE_LOSSES)


class GraphAwareLoss(BalancedLoss):
    """A loss that is fitted on the graph before training and told each row's node.

    Subclasses implement :meth:`_fit` (precompute from the graph), optionally
    :meth:`_on_epoch`, and :meth:`_adjust` (logits and sample weights of a batch).
    """

    takes_index: ClassVar[bool] = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.base = LOSSES.get(self.hparams["base"], parameter="base")(
            class_counts=self.class_counts, class_names=self.class_names
        )
        self.epochs_done = 0
        self.fitted = False

    def fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor) -> GraphAwareLoss:
        """Precompute what the loss needs from the graph (called once by the loop).

        Args:
            data: The graph (target type, meta-paths, labels).
            train_idx: Global ids of the training target nodes ``[L]``.
            y_train: Their labels ``[L]``.

        Returns:
            ``self``.
        """
        if train_idx.shape != y_train.shape:
            raise ValueError(
                f"{self._owner()}: train_idx {tuple(train_idx.shape)} and y_train "
                f"{tuple(y_train.shape)} must have the same shape"
            )
        self._fit(data, train_idx.cpu().long(), y_train.cpu().long())
        self.fitted = True
        return self

    def on_epoch(self, epoch: int, proba: Tensor | None = None) -> None:
        """Training-loop hook: ``epoch`` (1-based) has finished; ``proba`` ``[N, C]``."""
        self.epochs_done = int(epoch)
        hook = getattr(self.base, "on_epoch", None)
        if callable(hook):
            hook(epoch, proba)
        if proba is not None:
            self._on_epoch(proba.detach())

    def forward(
        self, logits: Tensor, target: Tensor, *, embeddings: Tensor | None = None,
        sample_weight: Tensor | None = None, index: Tensor | None = None,
    ) -> Tensor:
        """The loss of a batch; ``index`` ``[N]`` holds each row's global node id (or -1)."""
        target, sample_weight = self._check_inputs(logits, target, embeddings, sample_weight)
        if not self.fitted:
            raise RuntimeError(
                f"{self._owner()} reads the graph: call loss.fit(data, train_idx, y_train) "
                "before training (hetero_imb's training loop does)"
            )
        if not isinstance(index, Tensor) or index.shape != target.shape:
            got = tuple(index.shape) if isinstance(index, Tensor) else index
            raise ValueError(
                f"{self._owner()}: index must be a tensor [N={target.size(0)}] of node ids "
                f"(-1 for synthetic rows), got {got}"
            )
        if logits.size(0) == 0:
            return logits.sum() * 0.0
        logits, sample_weight = self._adjust(logits, target, index.long(), sample_weight)
        return self.base(logits, target, embeddings=embeddings, sample_weight=sample_weight)

    def _fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor) -> None:
        raise NotImplementedError

    def _on_epoch(self, proba: Tensor) -> None:
        """Update from the current predictions (default: nothing)."""

    def _adjust(
        self, logits: Tensor, target: Tensor, index: Tensor, sample_weight: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        raise NotImplementedError
