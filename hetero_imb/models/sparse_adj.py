"""Normalised adjacency matrices as torch sparse CSR tensors, for message passing as spmm.

On CPU, PyG's default message passing gathers one message per edge and scatters it
back (and the backward pass does the same in reverse). Multiplying a sparse CSR
adjacency with the dense node matrix does the same sum in one call with far less
memory traffic. Measured on Freebase (HeCo; 43,854 nodes, 151,034 edges), two GCN
layers of width 64, forward + backward, 2 CPU threads: 0.18-0.22 s with ``edge_index``
against 0.04-0.05 s with a CSR adjacency (``benchmarks/rgcn_variants.py`` has the
R-GCN figures). Results agree to float rounding (tested).

Both builders take ``edge_index`` in PyG's convention (row 0: source, row 1:
destination) and return ``A`` with ``A[dst, src] = weight``, so ``A @ x`` sums the
weighted source rows into each destination. Duplicate edges add up, as a scatter-sum
over the edge list would.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm


def _csr(dst: Tensor, src: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    """A ``shape`` CSR tensor with ``values`` at ``(dst, src)``, duplicates summed."""
    coo = torch.sparse_coo_tensor(
        torch.stack([dst, src]), values, shape, check_invariants=False
    )
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return coo.coalesce().to_sparse_csr()


def gcn_adjacency(edge_index: Tensor, num_nodes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """GCN's symmetrically normalised adjacency with self-loops, ``D^-1/2 (A + I) D^-1/2``.

    Args:
        edge_index: ``[2, E]`` edges of a graph with ``num_nodes`` nodes.
        num_nodes: Number of nodes.
        dtype: Value type.

    Returns:
        A ``[num_nodes, num_nodes]`` sparse CSR tensor on ``edge_index``'s device.
    """
    edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True, dtype=dtype)
    return _csr(edge_index[1], edge_index[0], weight, (num_nodes, num_nodes))


def mean_adjacency(
    edge_index: Tensor, num_src: int, num_dst: int, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Row-normalised bipartite adjacency: ``A @ x_src`` is each destination's mean neighbour.

    Destinations without edges get a zero row.

    Args:
        edge_index: ``[2, E]`` edges from ``num_src`` source to ``num_dst`` destination nodes.
        num_src: Number of source nodes (columns).
        num_dst: Number of destination nodes (rows).
        dtype: Value type.

    Returns:
        A ``[num_dst, num_src]`` sparse CSR tensor on ``edge_index``'s device.
    """
    src, dst = edge_index[0], edge_index[1]
    degree = torch.bincount(dst, minlength=num_dst).to(dtype)
    weight = degree[dst].reciprocal()
    return _csr(dst, src, weight, (num_dst, num_src))
