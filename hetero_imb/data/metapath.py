"""Capped meta-path neighbours, sampled while the path is composed.

The exact meta-path graph (every pair of nodes joined by an instance of the path) can
be far larger than the graph itself: on the 10M-edge synthetic graph item-tag-item
joins each item to ~400 others, 400M pairs before any cap could be applied. Here the
cap is applied hop by hop instead, over chunks of source nodes:

1. every frontier node keeps at most ``k`` of its neighbours along the next relation
   (all of them when it has ``k`` or fewer; else ``k`` distinct ones drawn uniformly,
   Floyd's algorithm vectorised over the frontier);
2. the reached (source, node) pairs are deduplicated, and each source keeps at most
   ``k`` of its distinct reached nodes, drawn uniformly;
3. after the last hop, pairs ``(i, i)`` are dropped (``drop_self_loops``) before the
   last cap.

So a chunk of ``S`` sources never holds more than ``S * k * k`` pairs, whatever the
path length, and when ``k`` is at least every degree and every distinct-neighbour
count along the way nothing is sampled: the result is the exact meta-path graph.
Every draw comes from one ``torch.Generator``; the same seed gives the same pairs.

Example:
    >>> import torch
    >>> a_to_b = torch.tensor([[0, 1, 2, 2], [0, 0, 0, 1]])  # 3 A nodes, 2 B nodes
    >>> pairs = capped_metapath([a_to_b, a_to_b.flip(0)], [3, 2, 3], max_neighbors=10,
    ...                         generator=torch.Generator().manual_seed(0), drop_self_loops=True)
    >>> pairs.tolist()
    [[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import torch
from torch import Tensor

log = logging.getLogger(__name__)

#: Pairs a chunk of sources may hold at most (sets the chunk size: 4M pairs of int64
#: indices and their random keys are ~100 MB).
CHUNK_PAIRS = 1 << 22


def cap_neighbors(edge_index: Tensor, max_neighbors: int, generator: torch.Generator) -> Tensor:
    """Keep at most ``max_neighbors`` edges per source node, chosen uniformly at random.

    Args:
        edge_index: ``[2, E]`` edges.
        max_neighbors: Edges kept per source node.
        generator: Source of randomness (same state, same choice).

    Returns:
        The kept edges, sorted by source node.

    Example:
        >>> ei = torch.tensor([[0, 0, 0, 1], [1, 2, 3, 0]])
        >>> cap_neighbors(ei, 2, torch.Generator().manual_seed(0))[0].tolist()
        [0, 0, 1]
    """
    if edge_index.size(1) == 0:
        return edge_index
    # Random keys, then a stable sort by source: within each source the order is random.
    keys = torch.rand(edge_index.size(1), generator=generator)
    order = torch.argsort(keys)
    order = order[torch.sort(edge_index[0, order], stable=True).indices]
    src = edge_index[0, order]
    starts = torch.searchsorted(src, src, right=False)
    rank = torch.arange(src.numel()) - starts
    return edge_index[:, order[rank < max_neighbors]]


def count_metapath_walks(edge_indices: Sequence[Tensor], num_nodes: Sequence[int]) -> int:
    """Instances (walks) of a meta-path: what an exact product handles before it
    deduplicates; ``O(E)`` (one scatter per relation, right to left).

    Example:
        >>> a_to_b = torch.tensor([[0, 1, 2, 2], [0, 0, 0, 1]])
        >>> count_metapath_walks([a_to_b, a_to_b.flip(0)], [3, 2, 3])  # 3 * 3 + 1 * 1
        10
    """
    walks = torch.ones(int(num_nodes[-1]), dtype=torch.float64)
    for edge_index, n_src in zip(reversed(edge_indices), reversed(num_nodes[:-1]), strict=True):
        walks = torch.zeros(int(n_src), dtype=torch.float64).index_add_(
            0, edge_index[0].cpu(), walks[edge_index[1].cpu()]
        )
    return int(walks.sum())


def _csr(edge_index: Tensor, num_src: int) -> tuple[Tensor, Tensor]:
    """``(rowptr, col)`` of ``edge_index`` by source node."""
    src = edge_index[0]
    order = torch.argsort(src, stable=True)
    counts = torch.bincount(src, minlength=num_src)
    rowptr = torch.zeros(num_src + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=rowptr[1:])
    return rowptr, edge_index[1, order]


def _distinct_offsets(deg: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """``[R, k]`` distinct offsets in ``[0, deg)`` per row (``deg >= k``), uniformly:
    Floyd's algorithm, one vectorised step per drawn offset."""
    out = torch.empty(deg.numel(), k, dtype=torch.long)
    if deg.numel() == 0:
        return out
    for i in range(k):
        top = deg - k + i
        t = (torch.rand(deg.numel(), generator=generator, dtype=torch.float64) * (top + 1)).long()
        t = torch.minimum(t, top)
        clash = (out[:, :i] == t.unsqueeze(1)).any(1)
        out[:, i] = torch.where(clash, top, t)
    return out


def _expand(node: Tensor, rowptr: Tensor, col: Tensor, k: int,
            generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``(entry, neighbour)``: at most ``k`` distinct neighbours of every ``node`` entry."""
    start = rowptr[node]
    deg = rowptr[node + 1] - start
    small = torch.nonzero(deg <= k).flatten()
    d = deg[small]
    entry_small = small.repeat_interleave(d)
    first = torch.cumsum(d, 0) - d
    off_small = torch.arange(entry_small.numel()) - first.repeat_interleave(d)
    big = torch.nonzero(deg > k).flatten()
    off_big = _distinct_offsets(deg[big], k, generator).flatten()
    entry = torch.cat([entry_small, big.repeat_interleave(k)])
    offset = torch.cat([off_small, off_big])
    return entry, col[start[entry] + offset]


def _pairs_per_source(csrs: Sequence[tuple[Tensor, Tensor]], num_nodes: Sequence[int],
                      k: int) -> int:
    """The most pairs one source can reach at any hop (at most ``k * k``)."""
    frontier, most = 1, 1
    for (rowptr, _), n_next in zip(csrs, num_nodes[1:], strict=True):
        max_deg = int((rowptr[1:] - rowptr[:-1]).max()) if rowptr.numel() > 1 else 0
        expanded = frontier * min(k, max_deg)
        most = max(most, expanded)
        frontier = max(1, min(k, expanded, int(n_next)))
    return most


def _compose_chunk(sources: Tensor, csrs: Sequence[tuple[Tensor, Tensor]],
                   num_nodes: Sequence[int], k: int, drop_self_loops: bool,
                   generator: torch.Generator) -> tuple[Tensor, int]:
    """Capped meta-path pairs of ``sources`` (a contiguous id range) and the most pairs
    held at once."""
    base = int(sources[0])
    src, node, peak = sources, sources, sources.numel()
    for hop, (rowptr, col) in enumerate(csrs):
        entry, node = _expand(node, rowptr, col, k, generator)
        src = src[entry]
        peak = max(peak, src.numel())
        n_next = int(num_nodes[hop + 1])
        key = torch.unique((src - base) * n_next + node)  # distinct pairs, sorted by source
        src, node = key // n_next + base, key % n_next
        if hop == len(csrs) - 1 and drop_self_loops:
            keep = src != node
            src, node = src[keep], node[keep]
        capped = cap_neighbors(torch.stack([src, node]), k, generator)
        src, node = capped[0], capped[1]
    order = torch.argsort((src - base) * int(num_nodes[-1]) + node)
    return torch.stack([src[order], node[order]]), peak


def capped_metapath_with_peak(
    edge_indices: Sequence[Tensor],
    num_nodes: Sequence[int],
    max_neighbors: int,
    *,
    generator: torch.Generator,
    drop_self_loops: bool = False,
    chunk_size: int | None = None,
) -> tuple[Tensor, int]:
    """:func:`capped_metapath`, also returning the most pairs any chunk held at once
    (at most ``chunk_size * max_neighbors ** 2``; for tests and logs)."""
    if len(edge_indices) == 0 or len(num_nodes) != len(edge_indices) + 1:
        raise ValueError(
            "num_nodes must give one count per node type along the path "
            f"({len(edge_indices) + 1}), got {len(num_nodes)}"
        )
    if isinstance(max_neighbors, bool) or not isinstance(max_neighbors, int) or max_neighbors < 1:
        raise ValueError(f"max_neighbors must be an integer >= 1, got {max_neighbors!r}")
    k = max_neighbors
    csrs = [_csr(ei.cpu(), int(n)) for ei, n in zip(edge_indices, num_nodes[:-1], strict=False)]
    if chunk_size is None:
        chunk_size = max(1, CHUNK_PAIRS // _pairs_per_source(csrs, num_nodes, k))
    n_src = int(num_nodes[0])
    parts, peak = [], 0
    for start in range(0, n_src, chunk_size):  # a loop over chunks of nodes, not nodes
        sources = torch.arange(start, min(start + chunk_size, n_src))
        pairs, chunk_peak = _compose_chunk(sources, csrs, num_nodes, k, drop_self_loops, generator)
        parts.append(pairs)
        peak = max(peak, chunk_peak)
    edge_index = torch.cat(parts, 1) if parts else torch.empty(2, 0, dtype=torch.long)
    log.debug("capped meta-path: %d pairs (at most %d held at once)", edge_index.size(1), peak)
    return edge_index, peak


def capped_metapath(
    edge_indices: Sequence[Tensor],
    num_nodes: Sequence[int],
    max_neighbors: int,
    *,
    generator: torch.Generator,
    drop_self_loops: bool = False,
    chunk_size: int | None = None,
) -> Tensor:
    """At most ``max_neighbors`` meta-path neighbours per source node, sampled hop by hop.

    Args:
        edge_indices: The ``[2, E]`` edges of each relation along the path, in order.
        num_nodes: Node counts of the types along the path (one more than relations).
        max_neighbors: ``k``: neighbours kept per node at every hop and at the end.
        generator: Source of every random draw.
        drop_self_loops: Drop pairs ``(i, i)`` before the last cap (for paths that
            start and end at one type).
        chunk_size: Source nodes composed at once (default: :data:`CHUNK_PAIRS` over
            the most pairs one source can reach, at most ``k**2``).

    Returns:
        ``[2, E']`` distinct pairs sorted by source node, at most ``k`` per source; the
        exact meta-path graph when ``k`` exceeds every count along the way.
    """
    return capped_metapath_with_peak(
        edge_indices, num_nodes, max_neighbors, generator=generator,
        drop_self_loops=drop_self_loops, chunk_size=chunk_size,
    )[0]
