"""Per-class weights and log priors computed from the training class counts.

Schemes (:data:`WEIGHT_SCHEMES`) of :func:`class_weights`, with ``n_c`` the count of
class ``c``, ``n = sum_c n_c`` and ``K`` the number of classes with ``n_c > 0``:

* ``"balanced"``: ``n / (K * n_c)``, scikit-learn's ``compute_class_weight("balanced")``.
* ``"sqrt"``: ``1 / sqrt(n_c)``, scaled so that the count-weighted mean weight is 1
  (``sum_c n_c w_c = n``, the same normalisation "balanced" has), i.e.
  ``w_c = n / (sqrt(n_c) * sum_j sqrt(n_j))``.
* ``"effective"``: ``(1 - beta) / (1 - beta ** n_c)``, the inverse effective number of
  samples of Cui et al., "Class-Balanced Loss Based on Effective Number of Samples"
  (CVPR 2019), scaled to sum to ``K`` as in the paper.
* ``"none"``: all ones.

A class with count 0 has no training node to weigh; it gets weight 0 in the
count-based schemes (and ``K`` counts only the classes that are present), so the
weights of the present classes are exactly what they would be without it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

WEIGHT_SCHEMES = ("balanced", "sqrt", "effective", "none")


def check_counts(counts: Any, name: str = "counts") -> list[int]:
    """Validate per-class counts: a non-empty 1-D sequence of integers >= 0, not all 0.

    Args:
        counts: A sequence, numpy array or tensor of per-class counts.
        name: The argument's name, for error messages.

    Returns:
        The counts as a list of Python ints.
    """
    if isinstance(counts, Tensor) or hasattr(counts, "tolist"):
        if getattr(counts, "ndim", 1) != 1:
            raise ValueError(
                f"{name} must be 1-D (one count per class), got shape {tuple(counts.shape)}"
            )
        counts = counts.tolist()
    if isinstance(counts, (str, bytes)) or not isinstance(counts, Sequence) or len(counts) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of per-class counts, got {counts!r}")
    out = []
    for c, value in enumerate(counts):
        is_int = isinstance(value, numbers.Integral) or (
            isinstance(value, float) and value.is_integer()
        )
        if isinstance(value, bool) or not is_int or value < 0:
            raise ValueError(f"{name}[{c}] must be an integer >= 0, got {value!r}")
        out.append(int(value))
    if sum(out) == 0:
        raise ValueError(f"{name} are all 0; at least one class needs a node")
    return out


def class_weights(
    counts: Sequence[int], scheme: str = "balanced", *, beta: float = 0.999
) -> Tensor:
    """Per-class weights from class counts (see the module docstring for the formulas).

    Args:
        counts: Per-class training counts ``[C]``.
        scheme: One of :data:`WEIGHT_SCHEMES`.
        beta: Hyper-parameter of ``"effective"``, in ``[0, 1)`` (0: all weights equal;
            towards 1: inverse frequency).

    Returns:
        A float32 tensor ``[C]``; classes with count 0 get weight 0 (except ``"none"``).

    Example:
        >>> class_weights([6, 2], "balanced")
        tensor([0.6667, 2.0000])
    """
    if scheme not in WEIGHT_SCHEMES:
        raise ValueError(
            f"weighting scheme must be one of {', '.join(WEIGHT_SCHEMES)}, got {scheme!r}"
        )
    n_c = torch.tensor(check_counts(counts), dtype=torch.float64)
    if scheme == "none":
        return torch.ones(len(n_c), dtype=torch.float32)
    present = n_c > 0
    k = int(present.sum())
    w = torch.zeros_like(n_c)
    if scheme == "balanced":
        w[present] = n_c.sum() / (k * n_c[present])
    elif scheme == "sqrt":
        root = n_c[present].sqrt()
        w[present] = n_c.sum() / (root * root.sum())
    else:
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
            raise ValueError(f"parameter 'beta' must be in [0, 1), got {beta!r}")
        # (1 - beta) / (1 - beta^n), with 1 - beta^n = -expm1(n log beta) for accuracy.
        if beta == 0:
            raw = torch.ones(k, dtype=torch.float64)
        else:
            raw = (1 - beta) / -torch.expm1(n_c[present] * math.log(beta))
        w[present] = raw * k / raw.sum()
    return w.to(torch.float32)


def class_index(key: Any, names: Sequence[str] | None, num_classes: int, what: str) -> int:
    """The index of class ``key``: a class name, an index, or a string holding an index.

    Args:
        key: A class name (looked up in ``names`` first), an int, or e.g. ``"2"``.
        names: The class names (``None``: indices only).
        num_classes: Number of classes.
        what: The option being resolved, for error messages.

    Returns:
        An index in ``[0, num_classes)``.
    """
    names = None if names is None else list(names)
    if isinstance(key, str):
        if names is not None and key in names:
            return names.index(key)
        try:
            idx = int(key)
        except ValueError:
            known = f"class names are {', '.join(names)}" if names else "class names are unknown"
            raise ValueError(f"{what}: unknown class {key!r}; {known}") from None
    elif isinstance(key, numbers.Integral) and not isinstance(key, bool):
        idx = int(key)
    else:
        raise ValueError(f"{what}: a class must be a name or an index, got {key!r}")
    if not 0 <= idx < num_classes:
        raise ValueError(f"{what}: class index {idx} is out of range [0, {num_classes - 1}]")
    return idx


def resolve_class_weights(
    spec: Any,
    class_names: Sequence[str] | None,
    counts: Sequence[int],
    *,
    beta: float = 0.999,
    what: str = "class weights",
) -> Tensor:
    """Turn a user's weight specification into a per-class weight tensor.

    Args:
        spec: A scheme name from :data:`WEIGHT_SCHEMES` (``None`` means ``"none"``);
            a sequence/tensor of ``C`` per-class weights; or a mapping from class name or
            class index to weight (classes not listed get 1.0; a string key that is not
            a class name but reads as an integer is an index).
        class_names: Names of the ``C`` classes (``None``: weights by index only).
        counts: Per-class training counts ``[C]`` (for the schemes).
        beta: ``beta`` of the ``"effective"`` scheme.
        what: What is being resolved, for error messages (e.g. ``"loss 'focal': alpha"``).

    Returns:
        A float32 tensor ``[C]`` of non-negative weights.

    Example:
        >>> resolve_class_weights({"b": 4}, ["a", "b"], [10, 2])
        tensor([1., 4.])
    """
    counts = check_counts(counts)
    num_classes = len(counts)
    names = None if class_names is None else [str(n) for n in class_names]
    if names is not None and len(names) != num_classes:
        raise ValueError(
            f"{what}: {len(names)} class names but {num_classes} class counts were given"
        )
    if spec is None:
        spec = "none"
    if isinstance(spec, str):
        if spec not in WEIGHT_SCHEMES:
            raise ValueError(
                f"{what} must be one of {', '.join(WEIGHT_SCHEMES)}, per-class floats or a "
                f"class -> weight mapping, got {spec!r}"
            )
        return class_weights(counts, spec, beta=beta)
    if isinstance(spec, Mapping):
        weights = [1.0] * num_classes
        seen: dict[int, Any] = {}
        for key, value in spec.items():
            idx = class_index(key, names, num_classes, what)
            if idx in seen:
                raise ValueError(
                    f"{what}: class {idx} is given twice (as {seen[idx]!r} and {key!r})"
                )
            seen[idx] = key
            weights[idx] = value
    else:
        if isinstance(spec, Tensor) or hasattr(spec, "tolist"):
            spec = spec.tolist()
        if not isinstance(spec, Sequence):
            raise ValueError(
                f"{what} must be a scheme name, a sequence of per-class floats or a mapping, "
                f"got {type(spec).__name__}"
            )
        if len(spec) != num_classes:
            listed = f" ({', '.join(names)})" if names else ""
            raise ValueError(
                f"{what} must have one weight per class: expected {num_classes}{listed}, "
                f"got {len(spec)}"
            )
        weights = list(spec)
    for c, value in enumerate(weights):
        label = names[c] if names else str(c)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{what}: weight of class {label!r} must be a float, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"{what}: weight of class {label!r} must be finite and >= 0, got {value!r}"
            )
    if not any(w > 0 for w in weights):
        raise ValueError(f"{what}: all weights are 0")
    return torch.tensor([float(w) for w in weights], dtype=torch.float32)


def log_prior(counts: Sequence[int]) -> Tensor:
    """Log of the class frequencies, ``log(n_c / n)``.

    A class with count 0 is counted as 1 node (and ``n`` grows by one) so that every
    entry is finite; softmax-based uses (logit adjustment, bias initialisation) depend
    only on differences between classes, so this is a floor on that class's prior.

    Args:
        counts: Per-class training counts ``[C]``.

    Returns:
        A float32 tensor ``[C]`` of log priors (``logsumexp`` is 0 when no count is 0).

    Example:
        >>> log_prior([3, 1]).exp()
        tensor([0.7500, 0.2500])
    """
    n_c = torch.tensor(check_counts(counts), dtype=torch.float64).clamp_min(1.0)
    return (n_c / n_c.sum()).log().to(torch.float32)


def init_bias_to_log_prior(linear: torch.nn.Linear, counts: Sequence[int]) -> None:
    """Set a classifier head's bias to the log priors (in place, no gradient recorded).

    With zero weights, the untrained head then predicts the training class frequencies,
    a common initialisation for imbalanced classification.

    Args:
        linear: The output layer (``out_features == len(counts)``; it must have a bias).
        counts: Per-class training counts.
    """
    if not isinstance(linear, torch.nn.Linear):
        raise TypeError(f"linear must be a torch.nn.Linear, got {type(linear).__name__}")
    if linear.bias is None:
        raise ValueError("linear has no bias (created with bias=False); nothing to initialise")
    prior = log_prior(counts)
    if linear.out_features != len(prior):
        raise ValueError(
            f"linear has out_features={linear.out_features} but {len(prior)} class counts were given"
        )
    with torch.no_grad():
        linear.bias.copy_(prior.to(device=linear.bias.device, dtype=linear.bias.dtype))
