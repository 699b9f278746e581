"""Focal losses: ``focal`` (Lin et al., ICCV 2017) and its mix with cross-entropy (``ce+focal``)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...params import ParamSpec
from ..weights import WEIGHT_SCHEMES
from .base import BETA, BalancedLoss, register_loss, weighted_mean

__all__ = ["FocalLoss", "MixedFocalLoss", "focal_terms"]

_GAMMA = ParamSpec(
    "float", 2.0, "focusing parameter; 0 gives (alpha-weighted) cross-entropy", low=0.0
)
_ALPHA = ParamSpec(
    "weights",
    None,
    "per-class alpha_t: none, a scheme, per-class floats or class:weight pairs",
    choices=WEIGHT_SCHEMES,
)


def focal_terms(
    logits: Tensor, target: Tensor, gamma: float, alpha: Tensor | None = None
) -> Tensor:
    """Per-node focal loss ``-alpha_t (1 - p_t)^gamma log p_t`` (Lin et al., ICCV 2017).

    Computed from ``log_softmax`` (``1 - p_t = -expm1(log p_t)``), so it is stable for
    large logits; with ``gamma == 0`` and no ``alpha`` it is exactly the per-node
    cross-entropy.

    Args:
        logits: ``[N, C]`` raw scores.
        target: ``[N]`` class indices.
        gamma: Focusing parameter (>= 0).
        alpha: Optional per-class weights ``[C]``.

    Returns:
        ``[N]`` per-node losses.
    """
    log_pt = F.log_softmax(logits, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
    losses = -log_pt
    if gamma != 0:
        # Clamp keeps the gradient of (1 - p_t)^gamma finite for gamma < 1 when p_t == 1.
        one_minus_pt = (-torch.expm1(log_pt)).clamp_min(1e-12)
        losses = one_minus_pt.pow(gamma) * losses
    if alpha is not None:
        losses = alpha.to(logits.dtype)[target] * losses
    return losses


@register_loss("focal")
class FocalLoss(BalancedLoss):
    """Multi-class focal loss ``-alpha_t (1 - p_t)^gamma log p_t`` (Lin et al., ICCV 2017).

    "Focal Loss for Dense Object Detection". Averaged over the nodes (alpha_t is not
    renormalised, as in the paper), so ``gamma=0, alpha=None`` is exactly "ce".

    Params:
        gamma (2.0): focusing parameter, >= 0.
        alpha (None): per-class weight alpha_t: None (all 1), "balanced" | "sqrt" |
            "effective" | "none", per-class floats or a class → weight mapping.
        beta (0.999): beta of alpha="effective".
    """

    params: ClassVar[dict[str, ParamSpec]] = {"gamma": _GAMMA, "alpha": _ALPHA, "beta": BETA}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        alpha = self.hparams["alpha"]
        self.register_buffer(
            "alpha",
            None if alpha is None else self._class_weights(alpha, "alpha"),
            persistent=False,
        )

    def _forward(self, logits, target, embeddings, sample_weight):
        terms = focal_terms(logits, target, self.hparams["gamma"], self.alpha)
        return weighted_mean(terms, sample_weight)


@register_loss("ce+focal")
class MixedFocalLoss(FocalLoss):
    """A mix of cross-entropy and focal loss: ``(1 - mix) * ce + mix * focal``.

    The focal part is :class:`FocalLoss` (Lin et al., ICCV 2017); ``alpha`` weighs only
    the focal part.

    Params:
        mix (0.5): weight of the focal part, in [0, 1] (0: "ce", 1: "focal").
        gamma (2.0), alpha (None), beta (0.999): as for "focal".
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "mix": ParamSpec(
            "float", 0.5, "weight of the focal part (0: ce, 1: focal)", low=0.0, high=1.0
        ),
        "gamma": _GAMMA,
        "alpha": _ALPHA,
        "beta": BETA,
    }

    def _forward(self, logits, target, embeddings, sample_weight):
        mix = self.hparams["mix"]
        ce = F.cross_entropy(logits, target, reduction="none")
        focal = focal_terms(logits, target, self.hparams["gamma"], self.alpha)
        return weighted_mean((1 - mix) * ce + mix * focal, sample_weight)
