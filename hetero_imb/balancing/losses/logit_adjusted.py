"""Logit adjustment: ``balanced-softmax`` (Menon et al., ICLR 2021; Ren et al., NeurIPS 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch.nn.functional as F

from ...params import ParamSpec
from ..weights import log_prior
from .base import BalancedLoss, register_loss, weighted_mean

__all__ = ["BalancedSoftmaxLoss"]


@register_loss("balanced-softmax")
class BalancedSoftmaxLoss(BalancedLoss):
    """Logit-adjusted cross-entropy: cross-entropy of ``logits + tau * log(prior)``.

    Menon et al., "Long-tail learning via logit adjustment" (ICLR 2021); with tau=1 it
    is the Balanced Softmax of Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual
    Recognition" (NeurIPS 2020). The adjustment is applied inside the loss only, during
    training: predictions at test time are the model's raw logits, which then estimate
    the class-balanced posterior. The prior is the training class frequency
    (:func:`~hetero_imb.balancing.weights.log_prior`).

    Params:
        tau (1.0): scale of the log-prior adjustment (0: plain cross-entropy).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "tau": ParamSpec("float", 1.0, "scale of the log-prior added to the logits"),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.register_buffer("log_prior", log_prior(self.class_counts), persistent=False)

    def _forward(self, logits, target, embeddings, sample_weight):
        adjusted = logits + self.hparams["tau"] * self.log_prior.to(logits.dtype)
        return weighted_mean(F.cross_entropy(adjusted, target, reduction="none"), sample_weight)
