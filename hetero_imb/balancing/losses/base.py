"""The base of the balancing losses: ``LOSSES``, :class:`BalancedLoss`, registration, factory.

A loss is a :class:`BalancedLoss` subclass that declares its options in ``params``,
implements ``_forward`` and is registered with :func:`register_loss`; the built-in
ones live beside this module, one module per family (see :mod:`hetero_imb.balancing.losses`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...params import ParamSpec, describe_params, validate_params
from ...registry import Registry
from ..weights import check_counts, resolve_class_weights

__all__ = [
    "BETA",
    "LOSSES",
    "BalancedLoss",
    "build_loss",
    "describe_loss",
    "register_loss",
    "weighted_mean",
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
    def unused_schedule(cls, hparams: dict[str, Any], kept_epoch: int) -> str:
        """Why a part of the loss that starts at some epoch never shaped the kept
        weights, or ``""`` (the default: nothing scheduled).

        Args:
            hparams: The loss's resolved options.
            kept_epoch: The epoch whose weights the run kept (early stopping).
        """
        return ""

    @classmethod
    def _owner(cls) -> str:
        """``"loss '<name>'"``: the registered name, else the class name, for messages."""
        return f"loss {cls.name or LOSSES.name_of(cls) or cls.__name__!r}"

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

    def _logit_shape(self, logits: Tensor, unit: str) -> tuple[int, int]:
        """``(N, C)`` of a float ``[N, C]`` logit tensor with ``num_classes`` columns
        (``unit``: "classes" or "labels", for the message); else one-line ValueError."""
        owner = self._owner()
        if not isinstance(logits, Tensor) or logits.dim() != 2 or not logits.is_floating_point():
            shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ValueError(f"{owner}: logits must be a float tensor [N, C], got {shape}")
        n, c = logits.shape
        if c != self.num_classes:
            raise ValueError(f"{owner}: logits have {c} columns but the loss was built for "
                             f"{self.num_classes} {unit}")
        return n, c

    def _check_inputs(
        self,
        logits: Tensor,
        target: Tensor,
        embeddings: Tensor | None,
        sample_weight: Tensor | None,
    ) -> tuple[Tensor, Tensor | None]:
        owner = self._owner()
        n, c = self._logit_shape(logits, "classes")
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


def register_loss(
    name: str, *, overwrite: bool = False
) -> Callable[[type[BalancedLoss]], type[BalancedLoss]]:
    """Class decorator: register a :class:`BalancedLoss` subclass in ``LOSSES`` as ``name``.

    The class's ``name`` is set to ``name`` (used in its error messages), and the loss
    appears in ``--loss``, ``--help``, the comparison runner and the README table.

    Args:
        name: The public name (as typed after ``--loss``).
        overwrite: Replace an existing entry of that name (otherwise ``ValueError``).

    Returns:
        The decorator; it returns the class unchanged.

    Example:
        >>> @register_loss("my-ce")
        ... class MyCrossEntropy(BalancedLoss):
        ...     def _forward(self, logits, target, embeddings, sample_weight):
        ...         losses = torch.nn.functional.cross_entropy(logits, target, reduction="none")
        ...         return weighted_mean(losses, sample_weight)
        >>> loss = build_loss("my-ce", class_counts=[3, 1])
        >>> round(float(loss(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)  # log(2)
        0.6931
        >>> _ = LOSSES.unregister("my-ce")
    """

    def decorator(cls: type[BalancedLoss]) -> type[BalancedLoss]:
        if not (isinstance(cls, type) and issubclass(cls, BalancedLoss)):
            raise TypeError(f"register_loss({name!r}) decorates a BalancedLoss subclass, got {cls!r}")
        LOSSES.register(name, overwrite=overwrite)(cls)
        cls.name = name
        return cls

    return decorator


#: ``beta`` of the "effective" class-weight scheme, shared by the losses that take one.
BETA = ParamSpec(
    "float", 0.999, "beta of the 'effective' scheme", low=0.0, high=1.0, high_open=True
)


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
