"""Multi-label splits by iterative stratification (Sechidis, Tsoumakas and Vlahavas, 2011).

:func:`~hetero_imb.data.splits.stratified_split`, ``stratified_kfold`` and
``official_split`` come here when the target labels are multi-hot rows ``[N, C]``.
The assignment is the ``iterative-stratification`` package's
(:func:`iterstrat.ml_stratifiers.IterativeStratification`, and
:class:`~iterstrat.ml_stratifiers.MultilabelStratifiedKFold` for folds): labels are
visited from the rarest up, and each node carrying the label goes to the split that
still wants the most positives of it (ties: the split wanting the most nodes, then
at random); nodes without any positive label are spread last to fill the sizes.
Before that the labelled nodes are shuffled with ``numpy.random.RandomState(seed)``,
which also breaks the ties, so the same seed gives the same masks.

Per-label proportions are kept approximately (not to within one node, as for single
labels); every label must keep at least one positive in each non-empty split, else
the split is refused with the per-split counts in the message.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from .graph import labelled_mask

__all__ = ["iterative_folds", "multilabel_kfold", "multilabel_masks"]


def iterative_folds(y: np.ndarray, fractions: Sequence[float], seed: int) -> np.ndarray:
    """The split (index into ``fractions``) of every row of a 0/1 label matrix.

    Args:
        y: ``[n, C]`` 0/1 labels of the nodes to split (all labelled).
        fractions: Wanted share of each split (non-negative, summing to 1).
        seed: Seed of the shuffle and of the tie-breaking.

    Returns:
        ``int64`` ``[n]``: the split of each row.

    Example:
        >>> y = np.array([[1, 0]] * 6 + [[0, 1]] * 4 + [[1, 1]] * 2)
        >>> folds = iterative_folds(y, [0.5, 0.5], seed=0)
        >>> [y[folds == s].sum(axis=0).tolist() for s in (0, 1)]  # positives per label
        [[4, 3], [4, 3]]
    """
    from iterstrat.ml_stratifiers import IterativeStratification

    rng = np.random.RandomState(seed)
    order = rng.permutation(len(y))
    folds = IterativeStratification(
        labels=np.asarray(y, dtype=bool)[order], r=np.asarray(fractions, float), random_state=rng
    )
    out = np.empty(len(y), dtype=np.int64)
    out[order] = folds
    return out


def _check_positives(y: Tensor, parts: Sequence[Tensor], names: Sequence[str], what: str) -> None:
    """Every label has a positive in every part, else an error listing the counts."""
    counts = torch.stack([(y[p] == 1).sum(dim=0) for p in parts])  # [parts, C]
    empty = (counts == 0).any(dim=0)
    if bool(empty.any()):
        c = int(torch.nonzero(empty)[0, 0])
        got = "/".join(str(int(n)) for n in counts[:, c])
        raise ValueError(
            f"label {names[c]!r} ({c}) has {int(counts[:, c].sum())} positive labelled nodes, "
            f"split {got} by {what}; each split needs at least one (drop the label or use "
            "larger fractions)"
        )


def multilabel_masks(
    y: Tensor, fractions: Sequence[float], seed: int, names: Sequence[str], pool: Tensor | None = None
) -> list[Tensor]:
    """Boolean masks, one per fraction, over the labelled nodes (of ``pool``), by
    iterative stratification; fractions summing to less than 1 leave the rest out.

    Args:
        y: Multi-hot ``[N, C]`` (unlabelled rows ``-1``).
        fractions: Share of the pool in each mask; zero fractions give empty masks.
        seed: Seed (see the module docstring).
        names: Label names, for messages.
        pool: Nodes to split (default: every labelled node).

    Returns:
        One boolean ``[N]`` mask per fraction, pairwise disjoint.

    Raises:
        ValueError: a label would have no positive in some non-empty mask.
    """
    pool = labelled_mask(y) if pool is None else pool & labelled_mask(y)
    index = torch.nonzero(pool).flatten()
    used = [i for i, f in enumerate(fractions) if f > 0]
    shares = [fractions[i] for i in used]
    rest = 1.0 - sum(shares)
    if rest > 1e-9:
        shares.append(rest)
    masks = [torch.zeros(y.size(0), dtype=torch.bool) for _ in fractions]
    if len(shares) > 1:
        folds = torch.from_numpy(iterative_folds(y[index].numpy(), shares, seed))
    else:
        folds = torch.zeros(index.numel(), dtype=torch.long)
    for k, i in enumerate(used):
        masks[i][index[folds == k]] = True
    what = "iterative stratification (" + "/".join(f"{f:g}" for f in shares) + ")"
    _check_positives(y, [masks[i] for i in used], names, what)
    return masks


def multilabel_kfold(
    y: Tensor, k: int, val: float, seed: int, names: Sequence[str]
) -> list[list[Tensor]]:
    """``k`` folds of the labelled nodes, each as ``[train, val, test]`` masks.

    Fold ``i``'s test set comes from ``MultilabelStratifiedKFold(k, shuffle=True,
    random_state=seed)``; the other folds are cut into validation (share ``val``) and
    training by iterative stratification with seed ``seed + i``.

    Raises:
        ValueError: a label has fewer than ``k`` positives, or no positive in a split.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    labelled = torch.nonzero(labelled_mask(y)).flatten()
    y_lab = y[labelled].numpy().astype(bool)
    counts = y_lab.sum(axis=0)
    for c, n in enumerate(counts):
        if n < k:
            raise ValueError(
                f"label {names[c]!r} ({c}) has {int(n)} positive labelled nodes; a "
                f"multi-label {k}-fold split needs at least {k}"
            )
    folds = MultilabelStratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    out = []
    for fold, (rest_pos, test_pos) in enumerate(folds.split(np.zeros(len(y_lab)), y_lab)):
        test = torch.zeros(y.size(0), dtype=torch.bool)
        test[labelled[torch.from_numpy(test_pos)]] = True
        rest = torch.zeros_like(test)
        rest[labelled[torch.from_numpy(rest_pos)]] = True
        train, val_mask = multilabel_masks(y, [1.0 - val, val], seed + fold, names, pool=rest)
        _check_positives(y, [test], names, f"test fold {fold} of {k}")
        out.append([train, val_mask, test])
    return out
