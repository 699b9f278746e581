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
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["counts_seen_by_loss"]


def _balanced(counts: list[int]) -> list[int]:
    present = [n for n in counts if n > 0]
    per_class = max(1, round(sum(present) / len(present)))
    return [per_class if n > 0 else 0 for n in counts]


def counts_seen_by_loss(
    sampler: Any | None, train_counts: Sequence[int], *, balanced_batches: bool = False
) -> list[int]:
    """Per-class counts of the rows the loss sees at a training step (in expectation).

    Class-balanced mini-batches (``balanced_batches``) first make the classes equal;
    then the sampler re-samples, as its own ``expected_counts(counts)`` says (e.g.
    ``oversample-random`` fills every present class up to ``floor(target_ratio *
    max)``; ``undersample`` with ``reweight`` keeps the training counts, since its row
    weights restore them). A sampler without ``expected_counts`` passes the counts
    unchanged, and a warning is logged.

    Augmenters are not counted: the minor nodes ``graphens`` / ``graphsha`` synthesise
    each step leave the loss built from the real training counts, so ``weighted`` or
    ``balanced-softmax`` over them pushes past balance towards the rare classes (the
    composition of TAM's reference experiments, GraphENS with balanced softmax over the
    imbalanced counts); ``balanced-softmax``'s ``tau`` sets how far
    (docs/balancing.md, "Fourth pass").

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
    expected = getattr(sampler, "expected_counts", None)
    if sampler is None or not callable(expected):
        if sampler is not None:
            log.warning(
                "%s declares no expected_counts(); the loss is built from the training "
                "counts %s, which may balance twice", getattr(sampler, "owner", sampler), counts,
            )
        return counts
    return [int(n) for n in expected(counts)]
