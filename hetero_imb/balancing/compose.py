"""How a loss and a sampler compose: the class counts the loss actually sees.

A re-weighting loss (``weighted``, ``focal`` with ``alpha``, ``balanced-softmax``...)
derives its weights or prior from per-class counts. After a re-balancing sampler the
loss no longer sees the training counts but the re-sampled ones; weighting by the
training counts would balance twice (on a 5-class graph the largest classes fell to
0 recall). :func:`counts_seen_by_loss` gives the counts after re-sampling, and the
run builds the loss from them, so a class-weighted loss after ``oversample-random``
(ratio 1) weighs all classes equally — the sampler has already balanced them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["counts_seen_by_loss"]


def _oversampled(counts: list[int], ratio: float, cap: int | None) -> list[int]:
    target = math.floor(ratio * max(counts))
    out = []
    for n in counts:
        extra = target - n if 0 < n < target else 0
        if cap is not None:
            extra = min(extra, cap)
        out.append(n + max(extra, 0))
    return out


def _undersampled(counts: list[int], ratio: float, reweight: bool) -> list[int]:
    if reweight:  # kept rows carry weight n_c / kept_c: the loss sees the true counts
        return counts
    present = [n for n in counts if n > 0]
    keep = max(1, math.floor(ratio * min(present)))
    return [min(n, keep) for n in counts]


def _balanced(counts: list[int]) -> list[int]:
    present = [n for n in counts if n > 0]
    per_class = max(1, round(sum(present) / len(present)))
    return [per_class if n > 0 else 0 for n in counts]


def counts_seen_by_loss(
    sampler: Any | None, train_counts: Sequence[int], *, balanced_batches: bool = False
) -> list[int]:
    """Per-class counts of the rows the loss sees at a training step (in expectation).

    Class-balanced mini-batches (``balanced_batches``) first make the classes equal;
    then the sampler re-samples: ``oversample-random`` and ``oversample-neighbors``
    fill every present class up to ``floor(target_ratio * max)`` (capped by
    ``max_synthetic_per_class``), ``undersample`` cuts every class to
    ``max(1, floor(target_ratio * min))`` — unless ``reweight`` (its default), whose
    row weights restore the training counts. A sampler of another kind may define
    ``expected_counts(counts) -> list[int]``; without it the counts pass unchanged
    and a warning is logged.

    Args:
        sampler: An :class:`~hetero_imb.balancing.samplers.EmbeddingSampler` (its
            ``name`` and options are read), or ``None``.
        train_counts: Per-class labelled training counts.
        balanced_batches: Whether seed nodes are drawn class-balanced.

    Returns:
        The per-class counts to build the loss from.

    Example:
        >>> from hetero_imb.balancing.samplers import SAMPLERS
        >>> counts_seen_by_loss(SAMPLERS.get("oversample-random")(), [100, 10, 40])
        [100, 100, 100]
        >>> counts_seen_by_loss(None, [100, 10, 40])
        [100, 10, 40]
    """
    counts = [int(n) for n in train_counts]
    if not any(counts):
        return counts
    if balanced_batches:
        counts = _balanced(counts)
    name = getattr(sampler, "name", "none") if sampler is not None else "none"
    if name == "none":
        return counts
    expected = getattr(sampler, "expected_counts", None)
    if callable(expected):
        return [int(n) for n in expected(counts)]
    params = sampler.get_params()
    if name in ("oversample-random", "oversample-neighbors"):
        cap = params.get("max_synthetic_per_class")
        return _oversampled(counts, params["target_ratio"], cap)
    if name == "undersample":
        return _undersampled(counts, params["target_ratio"], params["reweight"])
    log.warning(
        "sampler %r declares no expected_counts(); the loss is built from the training "
        "counts %s, which may balance twice", name, counts,
    )
    return counts
