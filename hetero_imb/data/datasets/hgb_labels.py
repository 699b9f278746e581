"""HGB's label files (``label.dat``, ``label.dat.test``), single- or multi-label.

Each line is ``id<TAB>name<TAB>type<TAB>class``. In the single-label datasets
(Freebase, ACM, DBLP) ``class`` is one class id; in HGB's IMDB it lists every class
of the node, comma-separated (``12<TAB>movie<TAB>0<TAB>1,3``). A dataset is read as
multi-label when any line of either file lists more than one class; then ``y`` is a
float multi-hot ``[N, C]`` (the convention of :mod:`hetero_imb.data.graph`): 1 for
each listed class, 0 for the others, ``-1`` rows for target nodes in neither file.
Every error is a :class:`~hetero_imb.data.datasets.base.DatasetFileError` naming the
file and line.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .base import DatasetFileError
from .hgb_format import HGBInfo, Nodes, _tab_rows, line_of_entry

__all__ = ["add_labels", "read_label_rows", "read_labels"]

log = logging.getLogger(__name__)

LABEL_FILES = (("label.dat", "train"), ("label.dat.test", "test"))


def read_label_rows(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Read a label file whose class field may list several comma-separated classes.

    Returns:
        ``(ids, types, classes)``: ``int64`` global ids and node types, and for each
        line an ``int64`` array of its classes (one entry in single-label files).

    Raises:
        DatasetFileError: a malformed line or class list (file and line named).

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "label.dat")
        >>> _ = open(path, "w").write("12\\tm\\t0\\t1,3\\n13\\tn\\t0\\t2\\n")
        >>> ids, types, classes = read_label_rows(path)
        >>> ids.tolist(), [c.tolist() for c in classes]
        ([12, 13], [[1, 3], [2]])
    """
    path = Path(path)
    ids: list[int] = []
    types: list[int] = []
    classes: list[np.ndarray] = []
    for lineno, parts in _tab_rows(path, (4,)):
        try:
            ids.append(int(parts[0]))
            types.append(int(parts[2]))
            classes.append(np.asarray([int(c) for c in parts[3].split(",")], dtype=np.int64))
        except ValueError:
            raise DatasetFileError(
                f"{path.name} line {lineno}: id and type must be integers and the class "
                f"field one integer or comma-separated integers, got {parts[0]!r}, "
                f"{parts[2]!r}, {parts[3]!r}"
            ) from None
    return np.asarray(ids, dtype=np.int64), np.asarray(types, dtype=np.int64), classes


def read_labels(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a single-label file (``id<TAB>name<TAB>type<TAB>class``).

    Returns:
        ``(ids, types, classes)``, three ``int64`` arrays (global node ids).

    Raises:
        DatasetFileError: a malformed line, or a line listing several classes (use
        :func:`read_label_rows` for multi-label files).
    """
    path = Path(path)
    ids, types, classes = read_label_rows(path)
    several = [i for i, c in enumerate(classes) if len(c) != 1]
    if several:
        i = several[0]
        raise DatasetFileError(
            f"{path.name} line {line_of_entry(path, i)}: multi-label entry "
            f"{','.join(map(str, classes[i]))!r}; read_labels expects one class (use "
            "read_label_rows)"
        )
    return ids, types, np.asarray([int(c[0]) for c in classes], dtype=np.int64)


def _label_problem(info: HGBInfo, nodes: Nodes, ids, types, classes, pos) -> tuple[int, str]:
    """The first invalid entry of a label file and what is wrong with it (``-1``: none)."""
    target = info.node_types[info.target_type]
    num = len(info.class_names)
    for i in range(len(ids)):
        if pos[i] < 0:
            return i, f"node {ids[i]} is not in node.dat"
        if types[i] != info.target_type:
            return i, (
                f"node type {types[i]}, but labels belong to type {info.target_type} ({target})"
            )
        bad = classes[i][(classes[i] < 0) | (classes[i] >= num)]
        if len(bad):
            return i, f"class {bad[0]} is out of range 0..{num - 1}"
        if nodes.types[pos[i]] != info.target_type:
            kind = info.node_types[int(nodes.types[pos[i]])]
            return i, f"node {ids[i]} is a {kind} in node.dat, not a {target}"
    return -1, ""


def _read_split(path: Path, info: HGBInfo, nodes: Nodes) -> tuple[Tensor, list[np.ndarray]]:
    """Local ids and class lists of the target nodes one label file lists, checked."""
    ids, types, classes = read_label_rows(path)
    pos = nodes.lookup(ids)
    i, problem = _label_problem(info, nodes, ids, types, classes, pos)
    if problem:
        raise DatasetFileError(f"{path.name} line {line_of_entry(path, i)}: {problem}")
    order = np.argsort(ids, kind="stable")
    repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(repeated):
        i, first = int(order[repeated[0] + 1]), int(order[repeated[0]])
        raise DatasetFileError(
            f"{path.name} line {line_of_entry(path, i)}: node {ids[i]} is labelled "
            f"again (first on line {line_of_entry(path, first)})"
        )
    return torch.from_numpy(nodes.local[pos]), classes


def add_labels(data: HeteroData, raw: dict[str, Path], info: HGBInfo, nodes: Nodes) -> int:
    """``y`` and the official masks on the target type; returns the classes used
    (classes past the largest one any label uses are dropped)."""
    target = info.node_types[info.target_type]
    num_target = nodes.counts[info.target_type]
    splits = {split: _read_split(raw[name], info, nodes) for name, split in LABEL_FILES}
    multi = any(len(c) != 1 for _, lists in splits.values() for c in lists)
    used = 1 + max((int(c.max()) for _, lists in splits.values() for c in lists), default=-1)
    if multi:
        y = torch.full((num_target, max(used, 1)), -1.0)
    else:
        y = torch.full((num_target,), -1, dtype=torch.long)
    masks = {}
    for split, (local, lists) in splits.items():
        masks[split] = torch.zeros(num_target, dtype=torch.bool)
        masks[split][local] = True
        if multi:
            y[local] = 0.0
            for node, cls in zip(local.tolist(), lists, strict=True):
                y[node, torch.from_numpy(cls)] = 1.0
        elif len(lists):
            y[local] = torch.from_numpy(np.concatenate(lists))
    overlap = masks["train"] & masks["test"]
    if overlap.any():
        raise DatasetFileError(
            f"{int(overlap.sum())} {target} node(s) are labelled in both label.dat and "
            "label.dat.test"
        )
    if used < len(info.class_names):
        log.info(
            "info.dat lists %d classes but labels use %d; dropping %s",
            len(info.class_names), used, info.class_names[used:],
        )  # fmt: skip
    data[target].y = y
    data[target].official_train_mask = masks["train"]
    data[target].official_test_mask = masks["test"]
    return used
