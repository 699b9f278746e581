"""Stratified train/val/test masks on the target node type.

Every function returns new graphs and leaves its input untouched. Only labelled
target nodes (``y >= 0``) enter a split; unlabelled nodes are in no mask. Each
function records how the masks were made in the graph attribute ``split`` (a
JSON-serialisable dict), e.g. ``{"kind": "stratified", "train": 0.6, ...}``.

Split sizes are computed per class by largest-remainder apportionment: the quota of
split ``s`` for class ``c`` is ``fraction_s * n_c``; each split gets the floor of its
quota, and the nodes left over go to the splits with the largest fractional parts
(ties: train, then val, then test). Every count is therefore within one node of its
quota. Every split with a positive fraction must get at least one node of every
class; that rule wins over the quota for tiny classes (a class of 3 nodes split
60/20/20 gets 1/1/1), and a class with fewer labelled nodes than there are
non-empty splits is an error.

Multi-label targets (multi-hot ``y`` ``[N, C]``) are split by iterative
stratification instead (:mod:`hetero_imb.data.multilabel_splits`).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .graph import SPLITS, class_names, labelled_mask, labels, target_type
from .multilabel_splits import multilabel_kfold, multilabel_masks

__all__ = ["official_split", "stratified_kfold", "stratified_split"]

_TOL = 1e-6


# --------------------------------------------------------------------- helpers
def _copy_graph(data: HeteroData) -> HeteroData:
    """A shallow copy: new stores, shared tensors, private copies of graph records.

    Library code never writes into a tensor in place, so sharing tensors is safe and
    cheap; graph-level lists/dicts (``class_names``, ``metapaths``, ``split``, ...) are
    deep-copied so that editing them on the copy cannot change the input.
    """
    out = copy.copy(data)
    for key, value in data.stores[0].items():
        if isinstance(value, (list, dict)):
            out[key] = copy.deepcopy(value)
    return out


def _check_graph(data: HeteroData) -> tuple[str, Tensor, list[str]]:
    """Validate the graph conventions this module needs; return (target, y, names)."""
    if not isinstance(data, HeteroData):
        raise TypeError(f"parameter 'data' must be a HeteroData, got {type(data).__name__}")
    target = target_type(data)
    y = data[target].get("y")
    if y is None:
        raise ValueError(f"node type {target!r} has no labels 'y'")
    names = class_names(data)
    if y.dim() == 2 and y.size(1) != len(names):
        raise ValueError(
            f"multi-hot labels of node type {target!r} have {y.size(1)} columns, but the "
            f"graph has {len(names)} class names {names}"
        )
    if y.dim() == 1 and y.numel() and int(y.max()) >= len(names):
        raise ValueError(
            f"labels of node type {target!r} go up to {int(y.max())}, but the graph has "
            f"only {len(names)} class names {names}"
        )
    return target, labels(data), names


def _check_fraction(name: str, value: object, *, allow_zero: bool) -> float:
    """A fraction in [0, 1) (``allow_zero``) or in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"parameter {name!r} must be a number, got {value!r}")
    value = float(value)
    ok = (0 <= value < 1) if allow_zero else (0 < value <= 1)
    if not ok:
        interval = "[0, 1)" if allow_zero else "(0, 1]"
        raise ValueError(f"parameter {name!r} must be in {interval}, got {value}")
    return value


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"parameter 'seed' must be an int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"parameter 'seed' must be >= 0, got {seed}")
    return int(seed)


def _plural(n: int) -> str:
    return "node" if n == 1 else "nodes"


def _split_sizes(n: int, fractions: Sequence[float], assign_all: bool) -> list[int] | None:
    """Apportion ``n`` nodes to splits by largest remainder, at least one per positive split.

    Args:
        n: Number of nodes of one class.
        fractions: One fraction per split (non-negative, summing to at most 1).
        assign_all: Give every node a split (fractions sum to 1), else ``round(sum * n)``.

    Returns:
        The size of every split, or ``None`` when ``n`` is smaller than the number of
        splits with a positive fraction.
    """
    positive = [i for i, f in enumerate(fractions) if f > 0]
    if n < len(positive):
        return None
    quotas = [f * n for f in fractions]
    counts = [math.floor(q + 1e-9) for q in quotas]
    total = n if assign_all else min(n, math.floor(sum(fractions) * n + 0.5))
    total = max(total, len(positive))
    bumped = set()
    for i in positive:  # the minimum-one rule first
        if counts[i] == 0:
            counts[i] = 1
            bumped.add(i)
    left = total - sum(counts)
    # leftover nodes: largest fractional part first, ties in split order
    order = sorted(
        (i for i in positive if i not in bumped), key=lambda i: (-(quotas[i] - counts[i]), i)
    )
    while left > 0 and order:
        for i in order[:left]:
            counts[i] += 1
        left = total - sum(counts)
    while left < 0:  # the minimum-one rule took more than was left: shrink the fullest
        i = max((j for j in positive if counts[j] > 1), key=lambda j: (counts[j] - quotas[j], -j))
        counts[i] -= 1
        left += 1
    return counts


def _class_too_small(names: list[str], c: int, n: int, needed: int, what: str) -> ValueError:
    return ValueError(
        f"class {names[c]!r} ({c}) has {n} labelled {_plural(n)}; {what} needs at least {needed}"
    )


def _assign(
    index: Tensor,
    sizes: Sequence[int],
    masks: Sequence[Tensor],
    gen: torch.Generator,
) -> None:
    """Shuffle ``index`` with ``gen`` and give consecutive blocks of ``sizes`` to ``masks``."""
    index = index[torch.randperm(index.numel(), generator=gen)]
    start = 0
    for size, mask in zip(sizes, masks, strict=True):
        mask[index[start : start + size]] = True
        start += size


def _with_masks(data: HeteroData, target: str, masks: Sequence[Tensor], record: dict) -> HeteroData:
    out = _copy_graph(data)
    store = out[target]
    for split, mask in zip(SPLITS, masks, strict=True):
        store[f"{split}_mask"] = mask
    out.split = record
    return out


# ------------------------------------------------------------------ public API
def stratified_split(
    data: HeteroData,
    train: float = 0.6,
    val: float = 0.2,
    test: float = 0.2,
    *,
    seed: int = 0,
) -> HeteroData:
    """Stratified train/val/test masks over the labelled target nodes.

    Each class is shuffled with its own seeded permutation (one ``torch.Generator``
    seeded with ``seed``, classes in index order) and cut into blocks whose sizes
    keep the class proportions to within one node (see the module docstring). A
    multi-label graph is split by iterative stratification instead (per-label
    proportions kept approximately; ``split["method"] = "iterative"``).

    Args:
        data: The graph (``target_node_type``, ``class_names``, ``y`` with -1 = unlabelled).
        train: Fraction of each class in the training set, in (0, 1].
        val: Fraction in the validation set, in [0, 1) (0: an empty ``val_mask``).
        test: Fraction in the test set, in (0, 1].
        seed: Seed of the permutations; the same seed gives identical masks.

    Returns:
        A copy of ``data`` (input untouched; unchanged tensors are shared) with boolean
        ``train_mask``/``val_mask``/``test_mask`` on the target type and
        ``split = {"kind": "stratified", "train", "val", "test", "seed"}``. When the
        fractions sum to less than 1 the remaining nodes are in no mask.

    Raises:
        ValueError: a fraction is out of range, they sum to more than 1, or a class has
            fewer labelled nodes than there are non-empty splits.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> from hetero_imb.data.graph import class_counts_by_split
        >>> data = stratified_split(make_synthetic(seed=0), 0.6, 0.2, 0.2, seed=0)
        >>> class_counts_by_split(data)["test"]
        [36, 15, 5, 3]
    """
    fractions = [
        _check_fraction("train", train, allow_zero=False),
        _check_fraction("val", val, allow_zero=True),
        _check_fraction("test", test, allow_zero=False),
    ]
    seed = _check_seed(seed)
    total = sum(fractions)
    if total > 1 + _TOL:
        raise ValueError(
            f"parameters 'train' + 'val' + 'test' must sum to at most 1, got "
            f"{fractions[0]} + {fractions[1]} + {fractions[2]} = {total:g}"
        )
    target, y, names = _check_graph(data)
    assign_all = total >= 1 - _TOL
    used = [s for s, f in zip(SPLITS, fractions, strict=True) if f > 0]
    what = f"a stratified split into {'/'.join(used)}"
    record = {"kind": "stratified", "train": fractions[0], "val": fractions[1],
              "test": fractions[2], "seed": seed}  # fmt: skip
    if y.dim() == 2:
        masks = multilabel_masks(y, fractions, seed, names)
        return _with_masks(data, target, masks, {**record, "method": "iterative"})

    plan = []
    for c in range(len(names)):
        index = torch.nonzero(y == c).flatten()
        sizes = _split_sizes(index.numel(), fractions, assign_all)
        if sizes is None:
            raise _class_too_small(names, c, index.numel(), len(used), what)
        plan.append((index, sizes))

    gen = torch.Generator().manual_seed(seed)
    masks = [torch.zeros(y.numel(), dtype=torch.bool) for _ in SPLITS]
    for index, sizes in plan:
        _assign(index, sizes, masks, gen)
    return _with_masks(data, target, masks, record)


def stratified_kfold(
    data: HeteroData, k: int = 5, *, val: float = 0.2, seed: int = 0
) -> list[HeteroData]:
    """``k`` stratified folds: fold ``i`` is the test set of graph ``i``.

    The labelled target nodes are cut into ``k`` folds with scikit-learn's
    ``StratifiedKFold(k, shuffle=True, random_state=seed)``. In graph ``i`` fold ``i``
    is the test set; from the other folds, a stratified fraction ``val`` of every
    class (by the apportionment rule of the module docstring, at least one node per
    class when ``val > 0``) becomes the validation set and the rest the training set.
    Across the ``k`` graphs every labelled node is a test node exactly once.

    Args:
        data: The graph.
        k: Number of folds, at least 2.
        val: Fraction of the non-test labelled nodes of each class used for
            validation, in [0, 1).
        seed: Seed of the fold assignment and of the validation carving.

    Returns:
        A list (not an iterator) of ``k`` copies of ``data`` with masks and
        ``split = {"kind": "kfold", "fold": i, "k": k, "val": val, "seed": seed}``.
        The copies share the input's unchanged tensors, so the list is cheap.

    Raises:
        ValueError: ``k`` < 2, ``val`` out of range, a class has fewer than ``k``
            labelled nodes, or too few outside one test fold to carve a validation set.
    """
    from sklearn.model_selection import StratifiedKFold

    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"parameter 'k' must be an int, got {k!r}")
    if k < 2:
        raise ValueError(f"parameter 'k' must be >= 2, got {k}")
    k = int(k)
    val = _check_fraction("val", val, allow_zero=True)
    seed = _check_seed(seed)
    target, y, names = _check_graph(data)
    if y.dim() == 2:
        return [
            _with_masks(data, target, masks,
                        {"kind": "kfold", "fold": i, "k": k, "val": val, "seed": seed})
            for i, masks in enumerate(multilabel_kfold(y, k, val, seed, names))
        ]  # fmt: skip

    counts = torch.bincount(y[y >= 0], minlength=len(names)).tolist()
    for c, n in enumerate(counts):
        if n < k:
            raise _class_too_small(names, c, n, k, f"a stratified {k}-fold split")

    labelled = torch.nonzero(y >= 0).flatten()
    y_lab = y[labelled].numpy()
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    fractions = [1.0 - val, val]
    gen = torch.Generator().manual_seed(seed)
    out = []
    for fold, (rest_pos, test_pos) in enumerate(folds.split(np.zeros(len(y_lab)), y_lab)):
        train_mask = torch.zeros(y.numel(), dtype=torch.bool)
        val_mask = torch.zeros_like(train_mask)
        test_mask = torch.zeros_like(train_mask)
        test_mask[labelled[torch.from_numpy(test_pos)]] = True
        rest = labelled[torch.from_numpy(rest_pos)]
        for c in range(len(names)):
            index = rest[y[rest] == c]
            sizes = _split_sizes(index.numel(), fractions, assign_all=True)
            if sizes is None:
                raise ValueError(
                    f"class {names[c]!r} ({c}) has {counts[c]} labelled "
                    f"{_plural(counts[c])}, of which {index.numel()} lie outside test fold "
                    f"{fold}; carving a validation set (val={val}) needs at least 2"
                )
            _assign(index, sizes, [train_mask, val_mask], gen)
        record = {"kind": "kfold", "fold": fold, "k": k, "val": val, "seed": seed}
        out.append(_with_masks(data, target, [train_mask, val_mask, test_mask], record))
    return out


def official_split(data: HeteroData, *, val: float = 0.2, seed: int = 0) -> HeteroData:
    """Masks from a dataset's official split (HGB datasets ship one).

    The test set is the labelled part of ``official_test_mask``; a stratified fraction
    ``val`` of each class of the labelled ``official_train_mask`` nodes becomes the
    validation set (seeded, at least one node per class when ``val > 0``), the rest
    of the official training nodes the training set.

    Args:
        data: A graph whose target type carries boolean ``official_train_mask`` and
            ``official_test_mask``.
        val: Fraction of each class of the official training nodes used for
            validation, in [0, 1).
        seed: Seed of the validation carving.

    Returns:
        A copy of ``data`` with masks and ``split = {"kind": "official", "val", "seed"}``.

    Raises:
        ValueError: the graph has no official split, the official masks overlap or hold
            no labelled test node, or a class has too few official training nodes.
    """
    val = _check_fraction("val", val, allow_zero=True)
    seed = _check_seed(seed)
    target, y, names = _check_graph(data)
    store = data[target]
    official = {s: store.get(f"official_{s}_mask") for s in ("train", "test")}
    missing = [f"official_{s}_mask" for s, m in official.items() if m is None]
    if missing:
        raise ValueError(
            f"graph has no official split: node type {target!r} lacks {', '.join(missing)} "
            "(only some datasets, e.g. HGB ones, ship one); use stratified_split(...) or "
            "stratified_kfold(...) instead"
        )
    off_train, off_test = (official[s].bool() for s in ("train", "test"))
    overlap = int((off_train & off_test).sum())
    if overlap:
        raise ValueError(f"official train and test masks share {overlap} {_plural(overlap)}")
    test_mask = off_test & labelled_mask(y)
    if not bool(test_mask.any()):
        raise ValueError(
            f"official test mask holds {int(off_test.sum())} nodes but none is labelled"
        )
    pool = off_train & labelled_mask(y)
    fractions = [1.0 - val, val]
    record = {"kind": "official", "val": val, "seed": seed}
    if y.dim() == 2:
        train_mask, val_mask = multilabel_masks(y, fractions, seed, names, pool=pool)
        return _with_masks(data, target, [train_mask, val_mask, test_mask], record)
    needed = 2 if val > 0 else 1
    what = f"carving a validation set (val={val}) from the official training set"
    gen = torch.Generator().manual_seed(seed)
    train_mask = torch.zeros(y.numel(), dtype=torch.bool)
    val_mask = torch.zeros_like(train_mask)
    for c in range(len(names)):
        index = torch.nonzero(pool & (y == c)).flatten()
        sizes = _split_sizes(index.numel(), fractions, assign_all=True)
        if sizes is None:
            n = index.numel()
            raise ValueError(
                f"class {names[c]!r} ({c}) has {n} labelled official training "
                f"{_plural(n)}; {what} needs at least {needed}"
            )
        _assign(index, sizes, [train_mask, val_mask], gen)
    return _with_masks(data, target, [train_mask, val_mask, test_mask], record)
