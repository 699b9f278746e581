"""Balancing losses, registered in ``LOSSES``.

Every loss is a :class:`BalancedLoss`: built from the per-class *training* counts (for
priors and class weights) and validated options declared in its ``params``
(:class:`~hetero_imb.params.ParamSpec`), and called as
``loss(logits, target, embeddings=None, sample_weight=None)`` → a scalar.

Conventions shared by all entries:

* ``logits`` are raw scores ``[N, C]``; ``target`` holds class indices ``[N]`` (mask
  unlabelled ``-1`` nodes out before calling);
* the result is the mean over the nodes; with ``sample_weight`` ``[N]`` it is the
  weighted mean ``sum(w * l) / sum(w)`` (0 when all weights are 0);
* an empty batch gives 0 (connected to the graph, so ``backward`` works).

Build one by name with :func:`build_loss`; convert command-line ``name=value`` options
with :func:`~hetero_imb.params.parse_params` (re-exported here).

Example:
    >>> loss = build_loss("focal", class_counts=[90, 10], gamma=2.0)
    >>> value = loss(torch.randn(4, 2), torch.tensor([0, 1, 0, 0]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..params import ParamError, ParamSpec, describe_params, parse_params, validate_params
from ..registry import Registry
from .weights import WEIGHT_SCHEMES, check_counts, class_index, log_prior, resolve_class_weights

__all__ = [
    "LOSSES",
    "BalancedLoss",
    "BalancedSoftmaxLoss",
    "ClassRectificationLoss",
    "CrossEntropyLoss",
    "FocalLoss",
    "HardExampleMiningLoss",
    "MixedFocalLoss",
    "ParamError",
    "ParamSpec",
    "WeightedCrossEntropyLoss",
    "build_loss",
    "describe_loss",
    "focal_terms",
    "ohem_select",
    "parse_params",
    "triplet_term",
]

LOSSES: Registry[type[BalancedLoss]] = Registry("loss")


def weighted_mean(values: Tensor, weights: Tensor | None) -> Tensor:
    """``mean(values)``, or ``sum(w * v) / sum(w)`` (0 when every weight is 0)."""
    if weights is None:
        return values.mean() if values.numel() else values.sum()
    denominator = weights.sum().clamp_min(torch.finfo(values.dtype).tiny)
    return (weights * values).sum() / denominator


class BalancedLoss(nn.Module):
    """Base class of the registered losses.

    Subclasses declare ``params`` and implement :meth:`_forward`; the constructor
    validates the options (unknown name → :class:`~hetero_imb.params.ParamError` naming
    the loss, the option and the accepted ones) and :meth:`forward` validates the inputs.

    Args:
        class_counts: Per-class training counts ``[C]`` (priors, class weights).
        class_names: Class names (needed to give per-class options by name).
        **params: Options declared in the subclass's ``params``.

    Attributes:
        name: The registered name.
        params: ``{option: ParamSpec}`` (class attribute).
        requires_embeddings: Whether ``forward`` needs ``embeddings`` (class attribute).
        hparams: The resolved options, defaults included.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, ParamSpec]] = {}
    requires_embeddings: ClassVar[bool] = False

    def __init__(
        self,
        *,
        class_counts: Sequence[int],
        class_names: Sequence[str] | None = None,
        **params: Any,
    ):
        super().__init__()
        self.class_counts = check_counts(class_counts, "class_counts")
        self.num_classes = len(self.class_counts)
        if class_names is not None:
            class_names = [str(n) for n in class_names]
            if len(class_names) != self.num_classes:
                raise ValueError(
                    f"{self._owner()}: {len(class_names)} class_names but "
                    f"{self.num_classes} class_counts"
                )
            if len(set(class_names)) != len(class_names):
                raise ValueError(f"{self._owner()}: class_names has duplicates: {class_names}")
        self.class_names = class_names
        self.hparams = validate_params(params, self.params, owner=self._owner())

    @classmethod
    def _owner(cls) -> str:
        return f"loss {cls.name or cls.__name__!r}"

    def _class_weights(self, spec: Any, option: str) -> Tensor:
        """Resolve a ``weights``-kind option against the class names and counts."""
        return resolve_class_weights(
            spec,
            self.class_names,
            self.class_counts,
            beta=self.hparams.get("beta", 0.999),
            what=f"{self._owner()}: {option}",
        )

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())

    def forward(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        embeddings: Tensor | None = None,
        sample_weight: Tensor | None = None,
    ) -> Tensor:
        """The loss of a batch of nodes.

        Args:
            logits: Raw class scores ``[N, C]``.
            target: Class indices ``[N]`` in ``[0, C)``.
            embeddings: Node embeddings ``[N, D]`` (only losses with
                ``requires_embeddings`` use them).
            sample_weight: Non-negative per-node weights ``[N]``.

        Returns:
            A scalar tensor.
        """
        target, sample_weight = self._check_inputs(logits, target, embeddings, sample_weight)
        if logits.size(0) == 0:
            return logits.sum() * 0.0
        return self._forward(logits, target, embeddings, sample_weight)

    def _forward(
        self,
        logits: Tensor,
        target: Tensor,
        embeddings: Tensor | None,
        sample_weight: Tensor | None,
    ) -> Tensor:
        raise NotImplementedError

    def _check_inputs(
        self,
        logits: Tensor,
        target: Tensor,
        embeddings: Tensor | None,
        sample_weight: Tensor | None,
    ) -> tuple[Tensor, Tensor | None]:
        owner = self._owner()
        if not isinstance(logits, Tensor) or logits.dim() != 2 or not logits.is_floating_point():
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"{owner}: logits must be a float tensor [N, C], got {shape}")
        n, c = logits.shape
        if c != self.num_classes:
            raise ValueError(
                f"{owner}: logits have {c} columns but the loss was built for "
                f"{self.num_classes} classes"
            )
        if not isinstance(target, Tensor) or target.dim() != 1 or target.size(0) != n:
            shape = tuple(target.shape) if isinstance(target, Tensor) else type(target).__name__
            raise ValueError(f"{owner}: target must be a tensor [N={n}], got {shape}")
        if target.is_floating_point() or target.dtype == torch.bool:
            raise ValueError(f"{owner}: target must hold integer class indices, got {target.dtype}")
        target = target.long()
        if n:
            low, high = int(target.min()), int(target.max())
            if low < 0 or high >= c:
                bad = low if low < 0 else high
                hint = " (mask unlabelled nodes out first)" if bad == -1 else ""
                raise ValueError(f"{owner}: target label {bad} is out of range [0, {c - 1}]{hint}")
        if sample_weight is not None:
            if not isinstance(sample_weight, Tensor) or sample_weight.shape != (n,):
                shape = (
                    tuple(sample_weight.shape)
                    if isinstance(sample_weight, Tensor)
                    else type(sample_weight).__name__
                )
                raise ValueError(f"{owner}: sample_weight must be a tensor [N={n}], got {shape}")
            sample_weight = sample_weight.to(logits.dtype)
            if n and not bool(((sample_weight >= 0) & sample_weight.isfinite()).all()):
                raise ValueError(f"{owner}: sample_weight must be finite and >= 0")
        if self.requires_embeddings:
            if embeddings is None:
                raise ValueError(
                    f"{owner} needs the node embeddings: call loss(logits, target, "
                    "embeddings=h) with h [N, D]"
                )
            if (
                not isinstance(embeddings, Tensor)
                or embeddings.dim() != 2
                or embeddings.size(0) != n
            ):
                raise ValueError(
                    f"{owner}: embeddings must be a tensor [N={n}, D], got "
                    f"{tuple(embeddings.shape) if isinstance(embeddings, Tensor) else embeddings!r}"
                )
        return target, sample_weight


def register_loss(name: str, *, overwrite: bool = False):
    """Class decorator: register a :class:`BalancedLoss` subclass in ``LOSSES`` as ``name``.

    Example:
        >>> @register_loss("my-loss")            # doctest: +SKIP
        ... class MyLoss(BalancedLoss): ...
    """

    def decorator(cls: type[BalancedLoss]) -> type[BalancedLoss]:
        cls.name = name
        return LOSSES.register(name, overwrite=overwrite)(cls)

    return decorator


_GAMMA = ParamSpec(
    "float", 2.0, "focusing parameter; 0 gives (alpha-weighted) cross-entropy", low=0.0
)
_ALPHA = ParamSpec(
    "weights",
    None,
    "per-class alpha_t: none, a scheme, per-class floats or class:weight pairs",
    choices=WEIGHT_SCHEMES,
)
_BETA = ParamSpec(
    "float", 0.999, "beta of the 'effective' scheme", low=0.0, high=1.0, high_open=True
)


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
        "beta": _BETA,
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

    params: ClassVar[dict[str, ParamSpec]] = {"gamma": _GAMMA, "alpha": _ALPHA, "beta": _BETA}

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
        "beta": _BETA,
    }

    def _forward(self, logits, target, embeddings, sample_weight):
        mix = self.hparams["mix"]
        ce = F.cross_entropy(logits, target, reduction="none")
        focal = focal_terms(logits, target, self.hparams["gamma"], self.alpha)
        return weighted_mean((1 - mix) * ce + mix * focal, sample_weight)


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


def ohem_select(losses: Tensor, keep: float, min_kept: int = 1) -> Tensor:
    """Indices of the hardest nodes: the ``k`` largest losses, largest first.

    ``k = min(N, max(min_kept, ceil(keep * N)))``; ties are broken by node order
    (stable sort), so the choice is deterministic.

    Args:
        losses: Per-node losses ``[N]``.
        keep: Fraction of the nodes to keep, in (0, 1].
        min_kept: Keep at least this many nodes (>= 1).

    Returns:
        A long tensor ``[k]`` of node indices.
    """
    if not 0 < keep <= 1:
        raise ValueError(f"parameter 'keep' must be in (0, 1], got {keep!r}")
    if min_kept < 1:
        raise ValueError(f"parameter 'min_kept' must be >= 1, got {min_kept!r}")
    n = losses.numel()
    # round() first so that e.g. 0.3 * 10 = 3.0000000000000004 keeps 3, not 4.
    k = min(n, max(min_kept, math.ceil(round(keep * n, 9))))
    order = torch.sort(losses.detach(), descending=True, stable=True).indices
    return order[:k]


@register_loss("ohem")
class HardExampleMiningLoss(BalancedLoss):
    """Online hard example mining: cross-entropy of the hardest nodes of each step.

    Shrivastava et al., "Training Region-based Object Detectors with Online Hard Example
    Mining" (CVPR 2016), applied per node. Each call keeps the ``ceil(keep * N)`` nodes
    (at least ``min_kept``) with the largest cross-entropy (:func:`ohem_select`) and
    averages their loss; the selection ignores ``sample_weight``, which then weighs the
    kept nodes.

    Params:
        keep (0.5): fraction of the nodes kept, in (0, 1] (1: "ce").
        min_kept (1): keep at least this many nodes.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "keep": ParamSpec(
            "float", 0.5, "fraction of the hardest nodes kept", low=0.0, high=1.0, low_open=True
        ),
        "min_kept": ParamSpec("int", 1, "keep at least this many nodes", low=1),
    }

    def _forward(self, logits, target, embeddings, sample_weight):
        losses = F.cross_entropy(logits, target, reduction="none")
        idx = ohem_select(losses, self.hparams["keep"], self.hparams["min_kept"])
        weights = None if sample_weight is None else sample_weight[idx]
        return weighted_mean(losses[idx], weights)


def _minority_from_batch(target: Tensor, num_classes: int) -> Tensor:
    """Boolean ``[C]``: classes present in the batch with fewer nodes than the mean
    count of the present classes."""
    counts = torch.bincount(target, minlength=num_classes).to(torch.float64)
    present = counts > 0
    mean = counts[present].mean()
    return present & (counts < mean)


def triplet_term(
    embeddings: Tensor,
    target: Tensor,
    minority: Tensor,
    *,
    k: int = 3,
    margin: float = 0.5,
) -> Tensor:
    """Hard-mined triplet term of the class rectification loss (Dong et al., 2017).

    Every node of a ``minority`` class is an anchor; its ``k`` hard positives are the
    same-class nodes farthest from it and its ``k`` hard negatives the other-class nodes
    closest to it (Euclidean distance). The term is the mean over all (anchor, hard
    positive, hard negative) triplets of ``max(0, margin + d(a, p) - d(a, n))``, or 0
    when no triplet exists (no anchor with both a positive and a negative).

    Args:
        embeddings: ``[N, D]`` node embeddings.
        target: ``[N]`` class indices.
        minority: Boolean ``[C]``: which classes provide anchors.
        k: Hard positives and hard negatives per anchor.
        margin: Margin of the triplet hinge.

    Returns:
        A scalar tensor.
    """
    n = embeddings.size(0)
    anchors = torch.nonzero(minority[target]).flatten()
    if anchors.numel() == 0 or n < 2:
        return embeddings.sum() * 0.0
    # only anchor rows: [A, N] (a full [N, N, D] difference tensor would not fit)
    sq = (
        embeddings[anchors].pow(2).sum(-1, keepdim=True)
        - 2.0 * embeddings[anchors] @ embeddings.t()
        + embeddings.pow(2).sum(-1).unsqueeze(0)
    )
    dist = sq.clamp_min(1e-12).sqrt()  # [A, N]
    same = target[anchors].unsqueeze(1) == target.unsqueeze(0)
    same[torch.arange(anchors.numel()), anchors] = False  # an anchor is not its own positive
    other = target[anchors].unsqueeze(1) != target.unsqueeze(0)
    kk = min(k, n)
    pos, _ = dist.masked_fill(~same, float("-inf")).topk(kk, dim=1, largest=True)
    neg, _ = dist.masked_fill(~other, float("inf")).topk(kk, dim=1, largest=False)
    pos_ok, neg_ok = pos.isfinite(), neg.isfinite()
    valid = pos_ok.unsqueeze(2) & neg_ok.unsqueeze(1)  # [A, k, k]
    if not bool(valid.any()):
        return embeddings.sum() * 0.0
    pos = torch.where(pos_ok, pos, torch.zeros_like(pos))
    neg = torch.where(neg_ok, neg, torch.zeros_like(neg))
    hinge = F.relu(margin + pos.unsqueeze(2) - neg.unsqueeze(1))
    return torch.where(valid, hinge, torch.zeros_like(hinge)).sum() / valid.sum()


@register_loss("crl")
class ClassRectificationLoss(BalancedLoss):
    """Class rectification loss: ``(1 - alpha) * ce + alpha * hard-mined triplet term``.

    Dong, Gong and Zhu, "Class Rectification Hard Mining for Imbalanced Deep Learning"
    (ICCV 2017; TPAMI 2018). Anchors are the nodes of the batch's minority classes
    (classes whose batch count is below the mean count of the classes in the batch,
    or the classes listed in ``minority``); hard positives/negatives and the hinge are
    those of :func:`triplet_term`, on the ``embeddings`` passed to ``forward`` (required).
    The paper sets ``alpha = eta * Omega_imb`` from the data's imbalance; here ``alpha``
    is used as given (pass ``eta * Omega_imb`` to reproduce the paper). ``sample_weight``
    weighs the cross-entropy part only.

    Params:
        alpha (0.5): weight of the triplet term, in [0, 1] (0: "ce").
        k (3): hard positives and hard negatives per anchor.
        margin (0.5): triplet margin, >= 0.
        minority (None): classes (names or indices) providing anchors; None: the
            batch's minority classes.
        normalize (True): L2-normalise the embeddings first (distances on the unit
            sphere, so the margin does not depend on the embedding scale).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "alpha": ParamSpec("float", 0.5, "weight of the triplet term (0: ce)", low=0.0, high=1.0),
        "k": ParamSpec("int", 3, "hard positives and negatives per anchor", low=1),
        "margin": ParamSpec("float", 0.5, "triplet margin", low=0.0),
        "minority": ParamSpec(
            "strs", None, "anchor classes (names or indices); none: batch minority"
        ),
        "normalize": ParamSpec("bool", True, "L2-normalise the embeddings before distances"),
    }
    requires_embeddings: ClassVar[bool] = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        fixed = None
        if self.hparams["minority"] is not None:
            what = f"{self._owner()}: minority"
            fixed = torch.zeros(self.num_classes, dtype=torch.bool)
            for key in self.hparams["minority"]:
                fixed[class_index(key, self.class_names, self.num_classes, what)] = True
        self.register_buffer("minority", fixed, persistent=False)

    def _forward(self, logits, target, embeddings, sample_weight):
        alpha = self.hparams["alpha"]
        ce = weighted_mean(F.cross_entropy(logits, target, reduction="none"), sample_weight)
        if alpha == 0:
            return ce
        h = F.normalize(embeddings, dim=1) if self.hparams["normalize"] else embeddings
        minority = self.minority
        if minority is None:
            minority = _minority_from_batch(target, self.num_classes)
        minority = minority.to(target.device)
        term = triplet_term(h, target, minority, k=self.hparams["k"], margin=self.hparams["margin"])
        return (1 - alpha) * ce + alpha * term.to(ce.dtype)


def build_loss(
    name: str,
    *,
    class_counts: Sequence[int],
    class_names: Sequence[str] | None = None,
    **params: Any,
) -> BalancedLoss:
    """Build the loss registered as ``name``.

    Args:
        name: A name in ``LOSSES`` (``LOSSES.names()``).
        class_counts: Per-class training counts.
        class_names: Class names (for per-class options given by name).
        **params: The loss's options (see its ``params``); strings are converted.

    Returns:
        The loss module.

    Raises:
        UnknownComponentError: ``name`` is not registered.
        ParamError: an unknown option or an invalid value.
    """
    cls = LOSSES.get(name, parameter="--loss")
    return cls(class_counts=class_counts, class_names=class_names, **params)


def describe_loss(name: str) -> str:
    """``name: summary`` followed by one line per option (for ``--help`` listings)."""
    cls = LOSSES.get(name, parameter="--loss")
    return f"{name}: {LOSSES.summary(name)}\n{describe_params(cls.params)}"
