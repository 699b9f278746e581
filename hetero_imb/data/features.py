"""Node features: structural stand-ins for featureless types, and sparse → dense.

:func:`svd_features` reduces a sparse bag-of-features matrix to a dense, standardised
one (seeded); :func:`sparse_tensor` converts it to a torch sparse tensor as it is.

For methods that need a feature matrix (MLP, XGBoost baselines): where the target
type has real features they are used as they are. Where it has none (e.g. Freebase movies), documented structural features stand in — never silent
zeros: for every relation leaving the target type, ``log1p`` of the node's degree,
and for every meta-path, ``log1p`` of the number of distinct meta-path neighbours.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .graph import metapath_edge_index, target_type


def structural_features(data: HeteroData, node_type: str | None = None) -> tuple[Tensor, list[str]]:
    """Per-relation degrees and per-meta-path neighbour counts of ``node_type``'s nodes.

    Args:
        data: The graph.
        node_type: Node type (default: the target type).

    Returns:
        ``(x, names)``: a float matrix ``[num_nodes, F]`` (``log1p`` counts) and the
        name of each column.
    """
    node_type = node_type or target_type(data)
    n = data[node_type].num_nodes
    columns: list[Tensor] = []
    names: list[str] = []
    for edge_type in data.edge_types:
        if edge_type[0] != node_type:
            continue
        src = data[edge_type].edge_index[0]
        columns.append(torch.bincount(src, minlength=n).float())
        names.append(f"degree[{edge_type[1]}]")
    for path in getattr(data, "metapaths", None) or []:
        if path[0][0] != node_type or path[-1][2] != node_type:
            continue
        edge_index = metapath_edge_index(data, path)
        columns.append(torch.bincount(edge_index[0], minlength=n).float())
        names.append("metapath_neighbours[" + "-".join([path[0][0]] + [e[2] for e in path]) + "]")
    if not columns:
        raise ValueError(
            f"node type {node_type!r} has no features and no relations to derive structural "
            "features from"
        )
    return torch.log1p(torch.stack(columns, dim=1)), names


def node_features(data: HeteroData, node_type: str | None = None) -> tuple[Tensor, str]:
    """Features a feature-only model sees for ``node_type`` (default: the target type).

    Returns:
        ``(x, description)``; ``description`` says which features were used, e.g.
        ``"node features x[128]"`` or ``"structural: degree[...], ..."``.
    """
    node_type = node_type or target_type(data)
    x = data[node_type].get("x")
    if x is not None:
        x = x.to_dense() if x.layout != torch.strided else x  # COO or CSR
        return x.float(), f"node features x[{x.size(-1)}]"
    x, names = structural_features(data, node_type)
    return x, "structural: " + ", ".join(names)


def svd_features(matrix: sp.spmatrix, dim: int = 128, seed: int = 0) -> torch.Tensor:
    """Dense features: a seeded truncated SVD of ``matrix``, standardised per column.

    Args:
        matrix: Sparse ``[num_nodes, num_features]`` matrix.
        dim: Number of components; must be smaller than both sides of ``matrix``.
        seed: Seed of ARPACK's start vector; the same seed gives the same features
            (BLAS runs on one thread here, so also on machines with other core counts).

    Returns:
        ``float32`` tensor ``[num_nodes, dim]`` with zero-mean, unit-variance columns.
    """
    from sklearn.decomposition import TruncatedSVD
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    if not 1 <= dim < min(matrix.shape):
        raise ValueError(
            f"parameter 'svd_dim' must be in [1, {min(matrix.shape) - 1}] for a "
            f"{matrix.shape[0]}x{matrix.shape[1]} feature matrix, got {dim}"
        )
    svd = TruncatedSVD(n_components=dim, algorithm="arpack", random_state=seed)
    # One BLAS thread: the products are small (the sparse ones are single-threaded
    # anyway), threads only hurt on busy machines, and the summation order, hence the
    # result, then no longer depends on the machine's core count.
    with threadpool_limits(limits=1, user_api="blas"):
        reduced = svd.fit_transform(matrix.astype(np.float64))
    std = reduced.std(axis=0)
    std[std == 0] = 1.0
    reduced = (reduced - reduced.mean(axis=0)) / std
    return torch.from_numpy(reduced.astype(np.float32))


def sparse_tensor(matrix: sp.spmatrix) -> torch.Tensor:
    """A scipy sparse matrix as a coalesced ``float32`` torch sparse COO tensor."""
    coo = matrix.tocoo()
    indices = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32))
    return torch.sparse_coo_tensor(
        indices, values, size=coo.shape, check_invariants=True
    ).coalesce()
