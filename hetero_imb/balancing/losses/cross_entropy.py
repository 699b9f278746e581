"""Cross-entropy losses: plain (``ce``) and class-weighted (``weighted``)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch.nn.functional as F

from ...params import ParamSpec
from ..weights import WEIGHT_SCHEMES
from .base import BETA, BalancedLoss, register_loss, weighted_mean

__all__ = ["CrossEntropyLoss", "WeightedCrossEntropyLoss"]


@register_loss("ce")
class CrossEntropyLoss(BalancedLoss):
    """Plain cross-entropy (no balancing; the reference every method is compared with)."""

    params: ClassVar[dict[str, ParamSpec]] = {}

    def _forward(self, logits, target, embeddings, sample_weight):
        return weighted_mean(F.cross_entropy(logits, target, reduction="none"), sample_weight)


@register_loss("weighted")
class WeightedCrossEntropyLoss(BalancedLoss):
    """Class-weighted cross-entropy: ``sum_i w_{y_i} l_i / sum_i w_{y_i}``.

    The normalisation is that of ``F.cross_entropy(weight=w)`` with ``reduction="mean"``
    (divided by the summed weights of the targets, not by ``N``), so the loss scale does
    not depend on the weights' scale. With ``sample_weight`` ``s``:
    ``sum_i s_i w_{y_i} l_i / sum_i s_i w_{y_i}``.

    Params:
        weights ("balanced"): "balanced" | "sqrt" | "effective" | "none" (see
            :mod:`hetero_imb.balancing.weights`), per-class floats, or a
            ``{class name or index: weight}`` mapping (unlisted classes: 1.0).
        beta (0.999): beta of the "effective" scheme (Cui et al., CVPR 2019).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "weights": ParamSpec(
            "weights",
            "balanced",
            "a scheme, per-class floats or class:weight pairs",
            choices=WEIGHT_SCHEMES,
        ),
        "beta": BETA,
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.register_buffer(
            "class_weight",
            self._class_weights(self.hparams["weights"], "weights"),
            persistent=False,
        )

    def _forward(self, logits, target, embeddings, sample_weight):
        losses = F.cross_entropy(logits, target, reduction="none")
        w = self.class_weight.to(logits.dtype)[target]
        if sample_weight is not None:
            w = w * sample_weight
        return weighted_mean(losses, w)
