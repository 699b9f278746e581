"""``ldam``: label-distribution-aware margin loss, with optional deferred re-weighting.

Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware Margin Loss"
(NeurIPS 2019). Class ``j`` gets the margin ``Delta_j = C / n_j^(1/4)`` (``n_j`` its
training count), ``C`` chosen so that the largest margin is ``max_margin``; the loss is
the cross-entropy of ``s * (z - Delta_y e_y)``: the target logit is lowered by its
class's margin, so rare classes must be separated by a wider gap.

DRW (deferred re-weighting, same paper): from epoch ``drw_epoch`` on, the per-node
losses are weighted by the class weights of the effective number of samples,
``(1 - beta) / (1 - beta^n_c)`` normalised to sum to the number of classes (Cui et al.,
CVPR 2019; ``drw_beta = 0.9999`` in the paper). The loss learns the epoch from the
training loop's ``on_epoch`` hook, so DRW works full-batch and mini-batch alike.

``s`` scales the logits: the paper uses ``s = 30`` on cosine (normalised) logits; this
toolkit's heads are plain linear layers whose logits are not normalised, so the default
is ``s = 1``.

Example:
    >>> import torch
    >>> loss = LDAMLoss(class_counts=[16, 1], max_margin=0.5)
    >>> loss.margins
    tensor([0.2500, 0.5000])
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ..params import ParamSpec
from .losses import BalancedLoss, register_loss, weighted_mean
from .weights import class_weights

__all__ = ["LDAMLoss", "ldam_margins"]


def ldam_margins(class_counts: list[int], max_margin: float) -> Tensor:
    """Per-class margins ``C / n_c^(1/4)``, scaled so that the largest is ``max_margin``.

    Classes with no training node get margin 0 (they are never a target).

    Example:
        >>> ldam_margins([81, 16, 1], 1.0)
        tensor([0.3333, 0.5000, 1.0000])
    """
    counts = torch.tensor(class_counts, dtype=torch.float64)
    raw = torch.where(counts > 0, counts.clamp_min(1).pow(-0.25), torch.zeros_like(counts))
    return (raw * (max_margin / raw.max())).float()


@register_loss("ldam")
class LDAMLoss(BalancedLoss):
    """LDAM margins C/n_c^(1/4) (NeurIPS 2019), optional deferred re-weighting (drw_epoch); full/mini-batch.

    Params:
        max_margin (0.5): the margin of the rarest class (others scale by n^(-1/4)).
        s (1.0): logit scale (the paper's 30 assumes normalised logits).
        drw_epoch (None): epoch (1-based) from which deferred re-weighting applies;
            None: never.
        drw_beta (0.9999): beta of the effective-number class weights used by DRW.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "max_margin": ParamSpec("float", 0.5, "margin of the rarest class", low=0.0),
        "s": ParamSpec("float", 1.0, "logit scale", low=0.0, low_open=True),
        "drw_epoch": ParamSpec(
            "int", None, "epoch from which DRW class weights apply (none: no DRW)", low=1
        ),
        "drw_beta": ParamSpec(
            "float", 0.9999, "beta of DRW's effective-number weights", low=0.0, high=1.0,
            high_open=True,
        ),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.register_buffer(
            "margins", ldam_margins(self.class_counts, self.hparams["max_margin"]),
            persistent=False,
        )
        self.register_buffer(
            "drw_weight",
            class_weights(self.class_counts, "effective", beta=self.hparams["drw_beta"]),
            persistent=False,
        )
        self.epochs_done = 0

    #: ``on_epoch`` only counts epochs (the loop need not predict every node for it).
    uses_epoch_proba = False

    def on_epoch(self, epoch: int, proba: Tensor | None = None) -> None:
        """Training-loop hook: ``epoch`` (1-based) has just finished."""
        self.epochs_done = int(epoch)

    @classmethod
    def unused_schedule(cls, hparams: dict[str, Any], kept_epoch: int) -> str:
        """DRW that starts after the kept epoch never re-weighted the kept model.

        Example:
            >>> LDAMLoss.unused_schedule({"drw_epoch": 30}, 12)[:44]
            "loss 'ldam': the kept weights are from epoch"
            >>> LDAMLoss.unused_schedule({"drw_epoch": 30}, 40)
            ''
        """
        start = hparams.get("drw_epoch")
        if start is None or kept_epoch >= start:
            return ""
        return (f"{cls._owner()}: the kept weights are from epoch {kept_epoch}, before "
                f"drw_epoch {start}, so its deferred re-weighting never applied to them; "
                "lower drw_epoch or raise epochs/patience")

    @property
    def drw_active(self) -> bool:
        """Whether the epoch being trained is at or past ``drw_epoch``."""
        start = self.hparams["drw_epoch"]
        return start is not None and self.epochs_done + 1 >= start

    def _forward(self, logits, target, embeddings, sample_weight):
        margin = self.margins.to(logits.dtype)[target]
        shifted = logits - F.one_hot(target, self.num_classes).to(logits.dtype) * margin[:, None]
        losses = F.cross_entropy(self.hparams["s"] * shifted, target, reduction="none")
        weight = sample_weight
        if self.drw_active:
            w = self.drw_weight.to(logits.dtype)[target]
            weight = w if weight is None else w * weight
        return weighted_mean(losses, weight)
