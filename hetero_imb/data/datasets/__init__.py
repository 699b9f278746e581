"""Dataset loaders, registered in ``DATASETS``, and :func:`load`."""

from __future__ import annotations

import os
from typing import Any

from torch_geometric.data import HeteroData

from ...registry import Registry
from .base import DatasetFileError, DatasetLoader, RawFile, load_processed

DATASETS: Registry[type[DatasetLoader]] = Registry("dataset")


def load(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
    force_reload: bool = False,
    **options: Any,
) -> HeteroData:
    """Load a registered dataset as a ``HeteroData``.

    Args:
        name: A name registered in ``DATASETS`` (e.g. ``"freebase"``, ``"facebook"``).
        root: Data root (default: ``HETERO_IMB_DATA``, else the checkout's ``data/``).
        mirror: An extra local mirror folder of raw files (default mirrors: see
            :mod:`hetero_imb.paths`).
        download: Fetch missing raw files from upstream when the network allows.
        force_reload: Re-process even when a cached graph exists.
        **options: Loader-specific options (e.g. ``features="svd"`` for Facebook), as
            declared in the loader's ``params`` (``DATASETS.params(name)``).

    Returns:
        The graph, with ``target_node_type``, ``class_names`` and ``metapaths``.

    Raises:
        UnknownComponentError: ``name`` is not registered.
        ParamError: an unknown option (the message lists the accepted ones) or an
            invalid value; nothing is read or downloaded.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("freebase")
        >>> data["movie"].y.shape
        torch.Size([3492])
    """
    loader_cls = DATASETS.get(name, parameter="dataset")
    loader = loader_cls(**DATASETS.validate(name, options, parameter="dataset"))
    return load_processed(
        loader, root=root, mirror=mirror, download=download, force_reload=force_reload
    )


# Loaders register themselves on import.
from . import facebook, freebase, heco, hgb, imdb, synthetic  # noqa: E402,F401

__all__ = ["DATASETS", "DatasetFileError", "DatasetLoader", "RawFile", "load"]
