"""The target-node neighbourhood that graph-aware balancing methods read, and PPR on it.

Topology-aware methods (``tam``, ``renode``) reason about which *labelled* nodes a node
is connected to. Labels live on the target type only, so on a heterograph the
neighbourhood is defined between target nodes: two target nodes are neighbours when
they are joined by an instance of one of the graph's meta-paths (``data.metapaths``,
e.g. movie-actor-movie) or by a direct target-to-target relation (e.g. Facebook's
page-page edges). All meta-paths are merged into one symmetric, unweighted graph
without self-loops (the union of the meta-path graphs, the "homogeneous projection on
the target type").

Why this choice: the intermediate nodes (actors, users, tags) carry no labels, so a
neighbour label distribution or a label-propagation influence over them would be
empty; the meta-paths are the dataset's own declaration of which target-to-target
relations are meaningful (the same graphs HAN and the ``oversample-neighbors``
sampler use). A graph with no meta-path and no target-to-target relation has no such
neighbourhood and is refused with an error.

Example:
    >>> from hetero_imb.data.datasets.synthetic import make_synthetic
    >>> adj = target_adjacency(make_synthetic(seed=0))
    >>> adj.shape, bool((adj != adj.T).nnz == 0)
    ((300, 300), True)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import metapath_edge_index, target_type

__all__ = ["mean_aggregate", "ppr_propagate", "target_adjacency"]


def target_adjacency(data: HeteroData) -> sp.csr_matrix:
    """The symmetric 0/1 adjacency ``[N, N]`` between target nodes (no self-loops).

    The union of every meta-path graph (:func:`~hetero_imb.data.graph.metapath_edge_index`)
    and every relation from the target type to itself, made symmetric.

    Args:
        data: The graph (``target_node_type``, ``metapaths``).

    Returns:
        A ``scipy.sparse.csr_matrix`` of float32 ones.

    Raises:
        ValueError: the graph has neither meta-paths nor a target-to-target relation.
    """
    target = target_type(data)
    n = data[target].num_nodes
    parts = [metapath_edge_index(data, list(path)) for path in getattr(data, "metapaths", None) or []]
    parts += [
        data[et].edge_index.cpu()
        for et in data.edge_types
        if et[0] == target and et[2] == target
    ]
    if not parts:
        raise ValueError(
            f"graph has no meta-path and no {target!r}-to-{target!r} relation; topology-aware "
            "balancing needs target-to-target neighbours (set data.metapaths)"
        )
    ei = torch.cat(parts, dim=1).numpy()
    adj = sp.csr_matrix((np.ones(ei.shape[1], dtype=np.float32), (ei[0], ei[1])), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float32).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    return adj


def mean_aggregate(adj: sp.csr_matrix, values: Tensor) -> Tensor:
    """Mean of ``values`` over each node's neighbours and itself (a self-loop added).

    Args:
        adj: ``[N, N]`` adjacency without self-loops.
        values: ``[N, K]`` per-node rows.

    Returns:
        ``[N, K]``: ``(values[i] + sum_{j ~ i} values[j]) / (1 + deg(i))``.

    Example:
        >>> adj = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.float32))
        >>> mean_aggregate(adj, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    x = values.detach().cpu().double().numpy()
    loop = adj + sp.identity(adj.shape[0], dtype=np.float32, format="csr")
    deg = np.asarray(loop.sum(axis=1)).ravel()
    out = (loop @ x) / deg[:, None]
    return torch.from_numpy(out).to(values.dtype)


def ppr_propagate(
    adj: sp.csr_matrix, rhs: np.ndarray, *, alpha: float = 0.15, tol: float = 1e-8,
    max_iter: int = 1000,
) -> np.ndarray:
    """``Pi @ rhs`` with the personalised-PageRank matrix ``Pi = alpha (I - (1-alpha) Â)^-1``.

    ``Â = D^-1/2 (A + I) D^-1/2`` is the symmetrically normalised adjacency with
    self-loops (as in ReNode). ``Pi`` is never formed: the product is the fixed point of
    ``X <- alpha rhs + (1 - alpha) Â X`` (power iteration, error shrinking by
    ``1 - alpha`` per step), so the cost is a few sparse products with ``rhs``'s columns.

    Args:
        adj: ``[N, N]`` adjacency without self-loops.
        rhs: ``[N, K]`` right-hand sides.
        alpha: Restart probability, in (0, 1].
        tol: Stop when the largest change is below ``tol``.
        max_iter: Iteration cap.

    Returns:
        ``[N, K]`` float64 array.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    loop = adj + sp.identity(adj.shape[0], dtype=np.float64, format="csr")
    d = 1.0 / np.sqrt(np.asarray(loop.sum(axis=1)).ravel())
    norm = sp.diags(d) @ loop @ sp.diags(d)
    rhs = np.asarray(rhs, dtype=np.float64)
    x = alpha * rhs
    for _ in range(max_iter):
        nxt = alpha * rhs + (1 - alpha) * (norm @ x)
        delta = float(np.abs(nxt - x).max()) if x.size else 0.0
        x = nxt
        if delta < tol:
            break
    return x
