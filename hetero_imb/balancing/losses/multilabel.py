"""Multi-label losses: ``bce``, ``weighted-bce``, ``focal-bce``, ``margin-bce``, ``asl``, ``db``.

A multi-label target row is multi-hot: ``target`` is a float ``[N, C]`` matrix of 0/1
(the convention of :mod:`hetero_imb.data.graph`), and ``logits`` ``[N, C]`` are one
independent sigmoid score per label. Every loss here is the mean of its per-element
terms ``l_ic`` over the ``C`` labels and then over the nodes (a weighted mean with
``sample_weight`` ``[N]``), so that ``bce`` equals ``torch.nn.BCEWithLogitsLoss()``.

The losses are built from per-label *training* counts: ``class_counts[c]`` is the
number of labelled training nodes that carry label ``c`` (its positives), and
``num_samples`` the number of labelled training nodes (so ``num_samples - n_c`` are
the negatives of label ``c``). They are marked ``multilabel = True``; a run rejects a
multi-label loss on single-label data and a single-label loss on multi-label data
with one line (see :func:`hetero_imb.training.multilabel.check_task`).

Example:
    >>> import torch
    >>> from hetero_imb.balancing.losses import build_loss
    >>> loss = build_loss("bce", class_counts=[3, 1], num_samples=4)
    >>> round(float(loss(torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [0.0, 1.0]]))), 4)
    0.6931
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...params import ParamSpec
from .base import LOSSES, BalancedLoss, register_loss, weighted_mean

__all__ = [
    "AsymmetricLoss",
    "BCELoss",
    "DistributionBalancedLoss",
    "FocalBCELoss",
    "MarginBCELoss",
    "MultiLabelLoss",
    "WeightedBCELoss",
]


class MultiLabelLoss(BalancedLoss):
    """Base of the multi-label losses: multi-hot ``[N, C]`` targets, one sigmoid per label.

    Args:
        class_counts: Per-label positive training counts ``[C]`` (``n_c``).
        class_names: Label names.
        num_samples: Labelled training nodes ``N`` (>= every ``n_c``; default: the sum
            of ``class_counts``, an upper bound when nodes carry several labels).
        **params: Options declared in the subclass's ``params``.
    """

    multilabel: ClassVar[bool] = True

    def __init__(self, *, class_counts: Sequence[int], class_names: Sequence[str] | None = None,
                 num_samples: int | None = None, **params: Any):
        super().__init__(class_counts=class_counts, class_names=class_names, **params)
        total = sum(self.class_counts) if num_samples is None else num_samples
        if isinstance(total, bool) or not isinstance(total, int) or total < max(self.class_counts):
            raise ValueError(
                f"{self._owner()}: num_samples must be an integer >= the largest label count "
                f"{max(self.class_counts)}, got {num_samples!r}"
            )
        self.num_samples = int(total)
        self.register_buffer("positives", torch.tensor(self.class_counts, dtype=torch.float64),
                             persistent=False)

    def _forward(self, logits, target, embeddings, sample_weight):
        return weighted_mean(self.terms(logits, target).mean(dim=1), sample_weight)

    def terms(self, logits: Tensor, target: Tensor) -> Tensor:
        """Per-element losses ``[N, C]`` (subclasses implement)."""
        raise NotImplementedError

    def _check_inputs(self, logits, target, embeddings, sample_weight):
        owner = self._owner()
        n, c = self._logit_shape(logits, "labels")
        if not isinstance(target, Tensor) or target.shape != (n, c):
            shape = tuple(target.shape) if isinstance(target, Tensor) else type(target).__name__
            raise ValueError(f"{owner}: target must be a multi-hot tensor [N={n}, C={c}] of 0/1 "
                             f"(a multi-label loss), got {shape}")
        target = target.to(logits.dtype)
        if n and not bool(((target == 0) | (target == 1)).all()):
            hint = " (mask unlabelled rows out first)" if bool((target == -1).any()) else ""
            raise ValueError(f"{owner}: target entries must be 0 or 1{hint}")
        if sample_weight is not None:
            if not isinstance(sample_weight, Tensor) or sample_weight.shape != (n,):
                shape = (tuple(sample_weight.shape) if isinstance(sample_weight, Tensor)
                         else type(sample_weight).__name__)
                raise ValueError(f"{owner}: sample_weight must be a tensor [N={n}], got {shape}")
            sample_weight = sample_weight.to(logits.dtype)
            if n and not bool(((sample_weight >= 0) & sample_weight.isfinite()).all()):
                raise ValueError(f"{owner}: sample_weight must be finite and >= 0")
        return target, sample_weight

    def _negatives(self) -> Tensor:
        return self.num_samples - self.positives


@register_loss("bce")
class BCELoss(MultiLabelLoss):
    """Binary cross-entropy of one sigmoid per label (no balancing; the multi-label reference).

    ``l_ic = -[y log s(x) + (1 - y) log(1 - s(x))]``; the default loss of a multi-label
    run (``ce`` on multi-label data means ``bce``).
    """

    params: ClassVar[dict[str, ParamSpec]] = {}

    def terms(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


@register_loss("weighted-bce")
class WeightedBCELoss(MultiLabelLoss):
    """BCE with positives of label c weighted by pos_weight_c = ((N - n_c) / n_c)^power.

    ``l_ic = -[w_c y log s(x) + (1 - y) log(1 - s(x))]`` (torch's ``pos_weight``), with
    ``w_c`` from the training counts: negatives over positives, raised to ``power``
    (1: balanced, 0.5: square root), at most ``max_weight``; a label with no training
    positive counts one.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "power": ParamSpec("float", 1.0, "pos_weight = (negatives / positives) ^ power", low=0.0),
        "max_weight": ParamSpec("float", None, "cap on pos_weight (none: no cap)", low=1.0),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        ratio = self._negatives().clamp_min(0) / self.positives.clamp_min(1)
        weight = ratio.clamp_min(1e-12).pow(self.hparams["power"])
        if self.hparams["max_weight"] is not None:
            weight = weight.clamp_max(self.hparams["max_weight"])
        self.register_buffer("pos_weight", weight, persistent=False)

    def terms(self, logits, target):
        return F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=self.pos_weight.to(logits.dtype), reduction="none")


def _focal_bce(logits: Tensor, target: Tensor, gamma: float) -> Tensor:
    """``-[y (1 - p)^g log p + (1 - y) p^g log(1 - p)]`` from log-sigmoids (stable)."""
    log_p, log_q = F.logsigmoid(logits), F.logsigmoid(-logits)
    p, q = log_p.exp(), log_q.exp()
    return -(target * q.pow(gamma) * log_p + (1 - target) * p.pow(gamma) * log_q)


@register_loss("focal-bce")
class FocalBCELoss(MultiLabelLoss):
    """Focal loss per label: -[a y (1-p)^g log p + (1-a)(1-y) p^g log(1-p)] (Lin et al., 2017).

    "Focal Loss for Dense Object Detection" (ICCV 2017) on each sigmoid; ``alpha``
    weighs positives by ``alpha`` and negatives by ``1 - alpha`` (none: both 1), so
    ``gamma=0, alpha=none`` is exactly ``bce``.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "gamma": ParamSpec("float", 2.0, "focusing parameter; 0 gives bce", low=0.0),
        "alpha": ParamSpec("float", None, "weight of the positives (negatives: 1 - alpha); "
                           "none: 1 and 1", low=0.0, high=1.0),
    }

    def terms(self, logits, target):
        out = _focal_bce(logits, target, self.hparams["gamma"])
        alpha = self.hparams["alpha"]
        if alpha is not None:
            out = out * (alpha * target + (1 - alpha) * (1 - target))
        return out


@register_loss("margin-bce")
class MarginBCELoss(MultiLabelLoss):
    """BCE with a margin on each positive logit, m_c = max_margin * (n_min / n_c)^(1/4).

    LDAM's margins (Cao et al., "Learning Imbalanced Datasets with Label-Distribution-
    Aware Margin Loss", NeurIPS 2019: ``m_c`` proportional to ``n_c^(-1/4)``, the
    rarest label getting ``max_margin``) applied per label: a positive must score
    ``m_c`` above the decision boundary, ``l_ic = bce(x - y m_c, y)``.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "max_margin": ParamSpec("float", 1.0, "margin of the rarest label (logit units)", low=0.0),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        inv = self.positives.clamp_min(1).pow(-0.25)
        self.register_buffer("margins", self.hparams["max_margin"] * inv / inv.max(),
                             persistent=False)

    def terms(self, logits, target):
        shifted = logits - target * self.margins.to(logits.dtype)
        return F.binary_cross_entropy_with_logits(shifted, target, reduction="none")


@register_loss("asl")
class AsymmetricLoss(MultiLabelLoss):
    """Asymmetric loss (Ridnik et al., ICCV 2021): focal on positives, shifted focal on negatives.

    "Asymmetric Loss For Multi-Label Classification": ``l+ = -(1-p)^gamma_pos log p`` and
    ``l- = -p_m^gamma_neg log(1 - p_m)`` with the shifted probability
    ``p_m = max(p - clip, 0)``, which discards easy negatives; the defaults are the
    paper's (gamma_neg 4, gamma_pos 1, clip 0.05). Averaged, not summed, over labels.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "gamma_neg": ParamSpec("float", 4.0, "focusing parameter of the negatives", low=0.0),
        "gamma_pos": ParamSpec("float", 1.0, "focusing parameter of the positives", low=0.0),
        "clip": ParamSpec("float", 0.05, "probability margin m of the negatives (0: none)",
                          low=0.0, high=1.0, high_open=True),
    }

    def terms(self, logits, target):
        hp = self.hparams
        p = torch.sigmoid(logits)
        pos = -(1 - p).pow(hp["gamma_pos"]) * F.logsigmoid(logits)
        p_m = (p - hp["clip"]).clamp_min(0) if hp["clip"] > 0 else p
        log_neg = F.logsigmoid(-logits) if hp["clip"] == 0 else torch.log((1 - p_m).clamp_min(1e-8))
        neg = -p_m.pow(hp["gamma_neg"]) * log_neg
        return target * pos + (1 - target) * neg


@register_loss("db")
class DistributionBalancedLoss(MultiLabelLoss):
    """Distribution-balanced loss (Wu et al., ECCV 2020): re-balanced weights + negative-tolerant regularisation.

    "Distribution-Balanced Loss for Multi-Label Classification in Long-Tailed Datasets",
    as in the authors' code (``ResampleLoss``): every element of row ``i`` weighs
    ``alpha + sigmoid(beta * (r_ic - mu))`` with ``r_ic = (1 / n_c) / sum_{k in y_i} 1 / n_k``
    (the re-balanced weight); logits get the class bias ``-init_bias * log(N / n_c - 1) /
    neg_scale``, negative logits are scaled by ``neg_scale`` and their weights divided by
    it (the negative-tolerant regularisation). Defaults are the paper's COCO settings.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "alpha": ParamSpec("float", 0.1, "smoothing: lowest weight", low=0.0),
        "beta": ParamSpec("float", 10.0, "smoothing: slope of the weight map", low=0.0),
        "mu": ParamSpec("float", 0.2, "smoothing: centre of the weight map"),
        "neg_scale": ParamSpec("float", 2.0, "lambda: scale of the negative logits", low=0.0,
                               low_open=True),
        "init_bias": ParamSpec("float", 0.05, "kappa: weight of the class-prior bias", low=0.0),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        n_c = self.positives.clamp_min(1)
        odds = (self.num_samples / n_c - 1).clamp_min(1e-6)
        bias = -torch.log(odds) * self.hparams["init_bias"] / self.hparams["neg_scale"]
        self.register_buffer("bias", bias, persistent=False)
        self.register_buffer("freq_inv", 1.0 / n_c, persistent=False)

    def terms(self, logits, target):
        hp = self.hparams
        freq_inv = self.freq_inv.to(logits.dtype)
        repeat = (target * freq_inv).sum(dim=1, keepdim=True)
        ratio = freq_inv.unsqueeze(0) / repeat.clamp_min(torch.finfo(logits.dtype).tiny)
        weight = torch.sigmoid(hp["beta"] * (ratio - hp["mu"])) + hp["alpha"]
        z = logits + self.bias.to(logits.dtype)
        lam = hp["neg_scale"]
        z = z * target + lam * z * (1 - target)
        weight = weight * target + weight / lam * (1 - target)
        return weight * F.binary_cross_entropy_with_logits(z, target, reduction="none")


def multilabel_losses() -> list[str]:
    """The registered multi-label losses, in registration order."""
    return [n for n in LOSSES.names() if getattr(LOSSES.get(n), "multilabel", False)]


def is_multilabel_loss(name: str) -> bool:
    """Whether the loss registered as ``name`` takes multi-hot targets.

    Example:
        >>> is_multilabel_loss("asl"), is_multilabel_loss("focal")
        (True, False)
    """
    return bool(getattr(LOSSES.get(name, parameter="--loss"), "multilabel", False))


def build_multilabel_loss(name: str, *, class_counts: Sequence[int], num_samples: int,
                          class_names: Sequence[str] | None = None, **params: Any) -> BalancedLoss:
    """:func:`~hetero_imb.balancing.losses.build_loss` for a multi-label loss, with ``N``.

    Example:
        >>> loss = build_multilabel_loss("weighted-bce", class_counts=[1, 3], num_samples=4)
        >>> [round(w, 4) for w in loss.pos_weight.tolist()]
        [3.0, 0.3333]
    """
    cls = LOSSES.get(name, parameter="--loss")
    if not getattr(cls, "multilabel", False):
        raise ValueError(f"loss {name!r} is single-label; a multi-label loss is one of "
                         f"{', '.join(multilabel_losses())}")
    return cls(class_counts=class_counts, class_names=class_names, num_samples=num_samples,
               **params)

