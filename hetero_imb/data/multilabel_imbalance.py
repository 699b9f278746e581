"""Induced imbalance on multi-label graphs: fewer positives for the minority labels.

:func:`~hetero_imb.data.imbalance.make_imbalance` comes here when the target labels
are multi-hot rows. Sizes are counted per label: ``n_c`` is the number of pool nodes
(labelled nodes for ``drop``, labelled training nodes for ``mask``) carrying label
``c``, and the profiles (``step``, ``longtail``) or explicit ``counts`` turn them into
a cap ``k_c`` per label exactly as for classes. A node cannot lose one label and keep
the others, so nodes are removed whole:

1. the labels whose cap is below their count are visited from the smallest cap up
   (ties: lower label index first);
2. for label ``c``, its positives still in the pool that an earlier (rarer) label
   chose to keep count towards ``k_c``; of its other positives still in the pool, a
   seeded random ``k_c`` minus that number are kept (protected from later removal)
   and the rest are removed;
3. ``drop`` deletes the removed nodes with their edges; ``mask`` takes them out of
   ``train_mask`` (they stay in the graph, in no split).

So a capped label ends with ``min(positives left when visited, max(k_c, already
kept))`` positives, usually exactly ``k_c``; labels that co-occur with removed
nodes (typically the frequent ones) lose those positives too. ``counts_after`` in
``data.imbalance`` records the positives actually left per label.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["keep_multilabel"]


def keep_multilabel(pool: Tensor, y: Tensor, requested: Sequence[int], seed: int) -> Tensor:
    """Indices of the pool nodes kept when label ``c`` is capped at ``requested[c]``
    positives (the rule of the module docstring).

    Args:
        pool: Boolean ``[N]``: the nodes that may be removed (all labelled).
        y: Multi-hot ``[N, C]``.
        requested: Cap per label (at most its number of positives in the pool).
        seed: Seed of the random choice of kept positives.

    Returns:
        Sorted ``long`` indices of the pool nodes that stay.

    Example:
        >>> y = torch.tensor([[1.0, 0.0]] * 6 + [[1.0, 1.0]] * 2 + [[0.0, 1.0]] * 2)
        >>> kept = keep_multilabel(torch.ones(10, dtype=torch.bool), y, [8, 1], seed=0)
        >>> (y[kept] == 1).sum(dim=0).tolist()  # label 1 capped at 1; label 0 loses 0 or 1
        [7, 1]
    """
    gen = torch.Generator().manual_seed(seed)
    positives = (y == 1) & pool[:, None]
    have = positives.sum(dim=0).tolist()
    kept = torch.zeros(y.size(0), dtype=torch.bool)
    removed = torch.zeros_like(kept)
    capped = [c for c, (want, n) in enumerate(zip(requested, have, strict=True)) if want < n]
    for c in sorted(capped, key=lambda c: (requested[c], c)):
        carriers = positives[:, c] & ~removed
        room = max(int(requested[c]) - int((carriers & kept).sum()), 0)
        free = torch.nonzero(carriers & ~kept).flatten()
        free = free[torch.randperm(free.numel(), generator=gen)]
        kept[free[:room]] = True
        removed[free[room:]] = True
    return torch.nonzero(pool & ~removed).flatten()
