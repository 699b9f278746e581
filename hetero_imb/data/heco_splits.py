"""HeCo's published splits: ``train_K`` (K labelled target nodes per class), ``val_K`` and
``test_K`` (1,000 target nodes each), for K = 20, 40, 60.

They ship with four datasets (``acm``, ``dblp``, ``aminer``, ``freebase``); each loader
lists its split files in ``published_splits`` (``{K: (train, val, test)}`` as
:class:`~hetero_imb.data.datasets.base.RawFile` records with sha256). The files are
located like raw files (data root, then mirror, then upstream) only when a split is
requested, so a damaged split file never stops the graph itself from loading.

Published results on these splits (HeCo and later papers) select on ``val_K`` and
report ``test_K``; use ``split="heco:20"`` in a :class:`~hetero_imb.training.config.RunConfig`
or ``--split heco:20`` on the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import HeteroData

from .datasets import DATASETS
from .datasets.base import DatasetFileError, RawFile, read_int_npy
from .graph import labels, target_type
from .splits import _with_masks

__all__ = ["heco_split", "heco_split_files", "heco_split_sizes"]


def heco_split_sizes(dataset: str) -> tuple[int, ...]:
    """The published split sizes (labelled nodes per class) of a registered dataset.

    Returns:
        E.g. ``(20, 40, 60)``; ``()`` when the dataset has no published split.

    Example:
        >>> heco_split_sizes("acm"), heco_split_sizes("facebook")
        ((20, 40, 60), ())
    """
    loader = DATASETS.get(dataset, parameter="dataset")
    return tuple(sorted(getattr(loader, "published_splits", None) or {}))


def _with_split() -> list[str]:
    return [n for n in DATASETS.names() if getattr(DATASETS.get(n), "published_splits", None)]


def check_heco_split(dataset: str, size: int) -> None:
    """Raise ``ValueError`` (one line) unless ``dataset`` publishes a split of ``size``."""
    sizes = heco_split_sizes(dataset)
    if not sizes:
        raise ValueError(
            f"split 'heco:{size}' needs a dataset with HeCo's published splits "
            f"({', '.join(_with_split())}), got dataset {dataset!r}"
        )
    if size not in sizes:
        raise ValueError(
            f"split 'heco:K' takes K in {', '.join(map(str, sizes))} for dataset "
            f"{dataset!r}, got {size}"
        )


def heco_split_files(
    dataset: str,
    size: int,
    root: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
) -> dict[str, Path]:
    """Locate and verify ``train_K``/``val_K``/``test_K`` of ``dataset``.

    Returns:
        ``{"train": path, "val": path, "test": path}``.

    Raises:
        ValueError: the dataset has no published split of that size.
        DatasetFileError: a file is missing or fails its checksum (the message names it).
    """
    check_heco_split(dataset, size)
    loader_cls = DATASETS.get(dataset, parameter="dataset")
    specs: tuple[RawFile, ...] = loader_cls.published_splits[size]
    loader = loader_cls()
    loader.raw_files = specs  # locate only these files (instance attribute)
    found = loader.locate(root=root, mirror=mirror, download=download)
    return {part: found[spec.name] for part, spec in zip(("train", "val", "test"), specs, strict=True)}


def _read_ids(path: Path, num_nodes: int) -> torch.Tensor:
    ids = read_int_npy(path, f"node ids (split file {path})")
    if len(ids) and (ids.min() < 0 or ids.max() >= num_nodes):
        raise DatasetFileError(
            f"split file {path}: node ids must be in 0..{num_nodes - 1}, found "
            f"{ids.min()}..{ids.max()}"
        )
    return torch.from_numpy(ids.astype(np.int64))


def heco_split(
    data: HeteroData,
    size: int,
    *,
    dataset: str | None = None,
    root: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
) -> HeteroData:
    """Masks from HeCo's published split ``size`` (20, 40 or 60 per class).

    Args:
        data: The graph as loaded (its target nodes are the ids in the split files).
        size: Labelled training nodes per class: 20, 40 or 60.
        dataset: Registered dataset name (default: ``data.name``).
        root, mirror, download: Where to look for the split files (as :func:`load`).

    Returns:
        A copy of ``data`` with ``train_mask``/``val_mask``/``test_mask`` and
        ``split = {"kind": "heco", "size": size}``.

    Raises:
        ValueError: the dataset has no published split of that size.
        DatasetFileError: a split file is missing, corrupt, or names nodes the graph
            lacks.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> from hetero_imb.data.graph import class_counts_by_split
        >>> counts = class_counts_by_split(heco_split(load("acm"), 20))
        >>> counts["train"], sum(counts["val"]), sum(counts["test"])
        ([20, 20, 20], 1000, 1000)
    """
    dataset = dataset or getattr(data, "name", None)
    if not dataset:
        raise ValueError(
            "split 'heco:K' needs the dataset's name (parameter 'dataset' or data.name), got none"
        )
    files = heco_split_files(dataset, size, root=root, mirror=mirror, download=download)
    target = target_type(data)
    n = int(data[target].num_nodes)
    y = labels(data)
    masks = []
    for part in ("train", "val", "test"):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[_read_ids(files[part], n)] = True
        masks.append(mask & (y >= 0))
    overlap = int((masks[0] & masks[2]).sum() + (masks[1] & masks[2]).sum())
    if overlap:
        raise DatasetFileError(f"published split {dataset} heco:{size}: test shares {overlap} nodes")
    shared = int((masks[0] & masks[1]).sum())  # validation would score training nodes
    if shared:
        raise DatasetFileError(f"published split {dataset} heco:{size}: train and val share "
                               f"{shared} nodes; expected disjoint files")
    return _with_masks(data, target, masks, {"kind": "heco", "size": int(size)})
