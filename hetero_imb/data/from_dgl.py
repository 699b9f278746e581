"""Build a graph from a DGL (hetero)graph. DGL is an optional extra, imported lazily.

Edges are converted by :func:`torch_geometric.utils.from_dgl`; labels, features and
split masks are read from the node data; the shared rules of
:mod:`hetero_imb.data.assemble` then apply. ``data.node_ids[t]`` is
``list(range(num_nodes))`` (DGL node ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .assemble import assemble, check_bool, check_class_names, finite_float32, parse_labels
from .graph import SPLITS, EdgeType

__all__ = ["from_dgl"]


def _import_dgl() -> Any:
    """Import DGL, or raise an ImportError that says what to do."""
    try:
        import dgl
    except Exception as exc:  # DGL wheels built for another torch fail with OSError etc.
        raise ImportError(
            f"from_dgl needs DGL, which could not be imported ({type(exc).__name__}: {exc}). "
            "DGL is an optional extra (pip install hetero_imb[dgl]); its PyPI wheels target "
            f"torch <= 2.3 and do not import with torch {torch.__version__}. Install a DGL "
            "build matching your torch, or convert your graph with "
            "hetero_imb.from_pandas."
        ) from exc
    return dgl


def _dgl_edges(graph: Any) -> dict[EdgeType, tuple[np.ndarray, np.ndarray]]:
    """Edge type → (source ids, target ids), converted by PyG's ``from_dgl``."""
    from torch_geometric.data import Data
    from torch_geometric.utils import from_dgl as pyg_from_dgl

    converted = pyg_from_dgl(graph)
    if isinstance(converted, Data):  # homogeneous graphs come back as Data
        edge_index = {tuple(graph.canonical_etypes[0]): converted.edge_index}
    else:
        edge_index = {tuple(e): converted[e].edge_index for e in converted.edge_types}
    return {e: (ei[0].cpu().numpy(), ei[1].cpu().numpy()) for e, ei in edge_index.items()}


def _dgl_features(graph: Any, node_type: str, key: str) -> Tensor | None:
    """Float32 features ``[n, F]`` of one node type, or ``None`` when it has none."""
    ndata = graph.nodes[node_type].data
    if key not in ndata:
        return None
    x = ndata[key].detach().cpu()
    if x.dim() == 1:
        x = x.unsqueeze(1)
    if x.dim() != 2:
        raise ValueError(
            f"node type {node_type!r}: features {key!r} must be [num_nodes, F], got shape "
            f"{list(x.shape)}"
        )
    cols = [f"{key}[{j}]" for j in range(x.size(1))]
    return finite_float32(x.double().numpy(), node_type, cols, None)


def _dgl_labels(
    ndata: Any, target: str, label: str, names: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Class indices of the target nodes (``-1`` = unlabelled) and the class names."""
    if label not in ndata:
        raise ValueError(
            f"node type {target!r} has no node data {label!r}; it has: {sorted(ndata.keys())} "
            "(pass label=<key>)"
        )
    y_raw = ndata[label].detach().cpu()
    if y_raw.dim() == 2 and y_raw.size(1) == 1:
        y_raw = y_raw.squeeze(1)
    if y_raw.dim() != 1:
        raise ValueError(
            f"labels {label!r} of node type {target!r} must be one class index per node, got "
            f"shape {list(y_raw.shape)} (multi-label data is not supported)"
        )
    where = f"labels {label!r} of node type {target!r}"
    return parse_labels(pd.Series(y_raw.numpy()), names, where, None)


def from_dgl(
    graph: Any,
    *,
    target: str,
    label: str = "label",
    features: str = "feat",
    class_names: Sequence[str] | None = None,
    metapaths: Sequence[Sequence[EdgeType]] | None = None,
    add_reverse: bool = True,
) -> HeteroData:
    """Build a graph from a DGL (hetero)graph.

    Labels come from ``graph.nodes[target].data[label]`` (integer class indices,
    ``-1`` = unlabelled), features from ``graph.nodes[t].data[features]`` on every type
    that has them, and ``train_mask``/``val_mask``/``test_mask`` of the target type are
    kept when present. Edge data and other node data are dropped.

    Args:
        graph: A ``dgl.DGLGraph`` (homogeneous or heterogeneous).
        target: The node type to classify.
        label: Node-data key of the labels on the target type.
        features: Node-data key of the features (types without it get no ``x``).
        class_names: See :func:`~hetero_imb.data.from_pandas.from_pandas` (default
            ``"0".."K-1"``).
        metapaths: See :func:`~hetero_imb.data.from_pandas.from_pandas`.
        add_reverse: See :func:`~hetero_imb.data.from_pandas.from_pandas`; relations
            whose transpose the DGL graph already holds (e.g. ``writes`` /
            ``written-by``) get no extra reverse.

    Returns:
        A validated graph; ``data.node_ids[t]`` is ``list(range(num_nodes))``.

    Raises:
        ImportError: DGL is not installed or does not import with this torch.
    """
    dgl = _import_dgl()
    if not isinstance(graph, dgl.DGLGraph):
        raise TypeError(f"parameter 'graph' must be a dgl.DGLGraph, got {type(graph).__name__}")
    check_bool("add_reverse", add_reverse)
    ntypes = list(graph.ntypes)
    if target not in ntypes:
        raise ValueError(
            f"parameter 'target' must be one of the node types {ntypes}, got {target!r}"
        )
    names = check_class_names(class_names)
    edges = _dgl_edges(graph)
    num_nodes = {t: int(graph.num_nodes(t)) for t in ntypes}
    xs = {t: _dgl_features(graph, t, features) for t in ntypes}
    ndata = graph.nodes[target].data
    y, names = _dgl_labels(ndata, target, label, names)
    masks = {
        f"{s}_mask": ndata[f"{s}_mask"].detach().cpu().bool()
        for s in SPLITS
        if f"{s}_mask" in ndata
    }
    return assemble(
        num_nodes, xs, y, names, edges, target=target, metapaths=metapaths,
        add_reverse=add_reverse, node_ids={t: list(range(n)) for t, n in num_nodes.items()},
        masks=masks,
    )  # fmt: skip
