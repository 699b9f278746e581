"""Label tensors of the target type: their checks, and multi-hot labels from sets of names.

Two kinds of ``y`` exist (see :mod:`hetero_imb.data.graph`): class indices (long
``[N]``, ``-1`` = unlabelled) and multi-hot rows (float ``[N, C]`` of 0/1, an
unlabelled row all ``-1``). :func:`label_problem` checks either kind for
:func:`~hetero_imb.data.validate.validate_graph`; :func:`parse_multilabels` turns a
column of label sets (lists, or delimiter-separated strings) into multi-hot rows for
:func:`~hetero_imb.data.from_pandas.from_pandas`; :func:`multi_hot` does the same for
plain Python lists.

A node with a label set that is empty (``[]``, ``""``) is *labelled* and carries no
positive label (an all-zero row); a missing set (``None``/NaN) is unlabelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .graph import labelled_mask

__all__ = ["is_label_set", "label_problem", "multi_hot", "parse_multilabels"]

_SET_TYPES = (list, tuple, set, frozenset, np.ndarray)


def is_label_set(value: object) -> bool:
    """Whether one entry of a label column is a label set (list, tuple, set or 1-D array)."""
    return isinstance(value, _SET_TYPES)


def multi_hot(label_sets: Sequence[Iterable[str] | None], class_names: Sequence[str]) -> np.ndarray:
    """Multi-hot rows from label sets: ``None`` → an unlabelled row of ``-1``.

    Args:
        label_sets: One iterable of class names per node, or ``None`` (unlabelled).
        class_names: The label names, index ``c`` naming column ``c``.

    Returns:
        ``float32`` ``[len(label_sets), len(class_names)]``.

    Raises:
        ValueError: a name that is not in ``class_names`` (the first such row named).

    Example:
        >>> multi_hot([["b"], None, ["a", "b"], []], ["a", "b"]).tolist()
        [[0.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]
    """
    index = {name: c for c, name in enumerate(class_names)}
    y = np.zeros((len(label_sets), len(index)), dtype=np.float32)
    for i, names in enumerate(label_sets):
        if names is None:
            y[i] = -1
            continue
        for name in names:
            if name not in index:
                raise ValueError(
                    f"label {name!r} of row {i} is not one of the class names {list(class_names)}"
                )
            y[i, index[name]] = 1
    return y


def _as_set(value: object, sep: str | None, where: str, row: str) -> list | None:
    """One entry of a label column as a list of labels (``None`` = unlabelled)."""
    if is_label_set(value):
        return list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str) and sep is not None:
        return [part.strip() for part in value.split(sep) if part.strip()]
    how = f"a string of labels separated by {sep!r}" if sep else "a list of labels"
    raise ValueError(
        f"{where}: entry {value!r} at {row} is not {how} (a multi-label column holds label "
        "sets; None/NaN = unlabelled)"
    )


def parse_multilabels(
    values: pd.Series,
    class_names: Sequence[str] | None,
    where: str,
    ids: np.ndarray | None,
    sep: str | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Turn a column of label sets into multi-hot rows and the label names.

    Args:
        values: One entry per node: a list/tuple/set/array of labels, a string of
            labels separated by ``sep`` (when given), or ``None``/NaN (unlabelled).
            An empty set (``[]``, ``""``) is a labelled node with no positive label.
        class_names: The label names (their order fixes the columns). Default: the
            sorted distinct labels, as strings.
        where: Start of every error message (e.g. ``"label column 'genres' ..."``).
        ids: Node ids for messages, or ``None`` (row positions).
        sep: Separator of string entries; ``None`` rejects strings.

    Returns:
        ``(y, names)``: float32 ``[N, C]`` multi-hot (``-1`` rows unlabelled) and the names.

    Raises:
        ValueError: an entry that is not a label set, a label not in ``class_names``,
            or no labelled node at all.

    Example:
        >>> y, names = parse_multilabels(pd.Series(["a|b", None, "b", ""]), None, "genres",
        ...                              None, sep="|")
        >>> names, y.tolist()
        (['a', 'b'], [[1.0, 1.0], [-1.0, -1.0], [0.0, 1.0], [0.0, 0.0]])
    """
    raw = values.to_numpy(dtype=object)

    def row(i: int) -> str:
        return f"row {i}" if ids is None else f"row {i} (id {ids[i]!r})"

    sets = [_as_set(v, sep, where, row(i)) for i, v in enumerate(raw)]
    sets = [None if s is None else [str(x) for x in s] for s in sets]
    if class_names is None:
        class_names = sorted({x for s in sets if s is not None for x in s})
    known = set(class_names)
    for i, s in enumerate(sets):
        unknown = [x for x in s or [] if x not in known]
        if unknown:
            raise ValueError(
                f"{where}: label {unknown[0]!r} at {row(i)} is not in class_names "
                f"{list(class_names)}"
            )
    if all(s is None for s in sets):
        raise ValueError(
            f"{where}: no labelled node; all {len(sets)} entries are missing (a target type "
            "needs at least one labelled node)"
        )
    if not class_names:
        raise ValueError(f"{where}: the label sets name no label at all; pass class_names=[...]")
    return multi_hot(sets, class_names), list(class_names)


def _single_label_problem(y: Tensor, target: str, num_nodes: int, num_classes: int) -> str | None:
    if y.dtype != torch.long:
        return f"labels y of node type {target!r} must have dtype torch.long, got {y.dtype}"
    if y.numel():
        bad = (y < -1) | (y >= num_classes)
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0, 0])
            return (
                f"label {int(y[i])} at {target} node {i} is out of range [0, {num_classes - 1}] "
                f"(-1 = unlabelled); {int(bad.sum())} of {num_nodes} labels are out of range"
            )
    return None


def _multi_label_problem(y: Tensor, target: str, num_nodes: int, num_classes: int) -> str | None:
    if not y.is_floating_point():
        return (
            f"labels y of node type {target!r} must be 1-D class indices (long) or 2-D "
            f"multi-hot rows (float), got shape {list(y.shape)} and dtype {y.dtype}"
        )
    if y.size(1) != num_classes:
        return (
            f"multi-hot labels y of node type {target!r} have {y.size(1)} columns, but the "
            f"graph has {num_classes} class names"
        )
    unlabelled = (y == -1).all(dim=1)
    bad = ~unlabelled[:, None] & (y != 0) & (y != 1)
    if bool(bad.any()):
        i, c = (int(v) for v in torch.nonzero(bad)[0])
        return (
            f"multi-hot label {float(y[i, c])} at {target} node {i}, column {c} must be 0 or 1 "
            f"(an unlabelled row is all -1); {int(bad.any(dim=1).sum())} of {num_nodes} rows "
            "are invalid"
        )
    return None


def label_problem(
    y: object, target: str, num_nodes: int, num_classes: int, require_labels: bool
) -> str | None:
    """What is wrong with the labels ``y`` of the target type, in one line (``None``: nothing).

    Accepts class indices (long ``[N]`` in ``[-1, C-1]``) or multi-hot rows (float
    ``[N, C]`` of 0/1, unlabelled rows all ``-1``).

    Example:
        >>> label_problem(torch.tensor([[1.0, 0.5]]), "movie", 1, 2, True)
        'multi-hot label 0.5 at movie node 0, column 1 must be 0 or 1 (an unlabelled row is all -1); 1 of 1 rows are invalid'
    """
    if not isinstance(y, Tensor):
        return f"labels y of node type {target!r} must be a tensor, got {type(y).__name__}"
    if y.dim() not in (1, 2):
        return (
            f"labels y of node type {target!r} must be 1-D class indices or 2-D multi-hot "
            f"rows, got shape {list(y.shape)}"
        )
    if y.size(0) != num_nodes:
        return (
            f"labels y of node type {target!r} have length {y.size(0)}, but {target!r} has "
            f"{num_nodes} nodes"
        )
    check = _single_label_problem if y.dim() == 1 else _multi_label_problem
    problem = check(y, target, num_nodes, num_classes)
    if problem is None and require_labels:
        if not bool(labelled_mask(y).any()):
            problem = (
                f"target node type {target!r} has no labelled node: all {num_nodes} labels are -1"
            )
    return problem
