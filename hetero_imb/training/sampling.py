"""Mini-batch training on heterographs: a pure-torch neighbour sampler and loader.

PyG's ``NeighborLoader`` needs ``pyg-lib`` or ``torch-sparse``; this module needs
neither. For every batch of seed (target) nodes it samples, hop by hop, up to ``k``
incoming neighbours of each frontier node per edge type (message-passing direction
``src → dst``), uniformly without replacement, and returns the induced
:class:`~torch_geometric.data.HeteroData` subgraph of the sampled edges.

Every sampled subgraph has

* per node type: ``n_id`` (global ids of its nodes) and every node-level attribute
  (``x``, ``y``, masks...) sliced to them, ``num_nodes`` set (types with no sampled
  node have 0 nodes), and ``num_sampled_nodes`` (PyG's name): how many of its nodes
  were first reached at hop 0 (the seeds), 1, 2... — nodes are ordered by that hop,
  so the nodes within ``h`` hops are a prefix (encoders use it to compute layer ``l``
  of ``L`` only for the nodes within ``L - l`` hops, as PyG's ``trim_to_layer``);
* per edge type: the sampled edges in LOCAL indices and ``e_id`` (their positions in
  the full graph's ``edge_index``), edge-level attributes sliced (every edge type is
  present, possibly empty);
* on the target type: ``batch_size`` and the seed nodes FIRST, in order: rows
  ``0..batch_size-1`` are the seeds (a seed drawn twice appears twice; each copy gets
  the same incoming edges, so every copy computes the same embedding);
* the graph-level attributes (``target_node_type``, ``class_names``, ``metapaths``...).

Sampling is vectorised: CSR by destination is built once per edge type, nodes with
at most ``k`` neighbours take all of them, the others draw ``k`` distinct offsets with
Floyd's algorithm run over all such nodes at once (``k`` vectorised steps, cost
independent of the degree). Python loops run over hops and edge types only.

Example:
    >>> import torch
    >>> from torch_geometric.data import HeteroData
    >>> data = HeteroData()
    >>> data["paper"].x = torch.randn(6, 4)
    >>> data["author"].num_nodes = 3
    >>> writes = torch.tensor([[0, 1, 2, 0, 1, 2], [0, 1, 2, 3, 4, 5]])  # author -> paper
    >>> data["author", "writes", "paper"].edge_index = writes
    >>> data.target_node_type = "paper"
    >>> loader = HeteroNeighborLoader(data, torch.arange(6), [2, 2], batch_size=4, seed=0)
    >>> [batch["paper"].batch_size for batch in loader]  # seeds are rows 0..batch_size-1
    [4, 2]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import EdgeType, select_rows, target_type
from .multilabel import seed_weights


def _check_num_neighbors(num_neighbors: Sequence[int]) -> list[int]:
    if isinstance(num_neighbors, (str, bytes)) or not isinstance(num_neighbors, Sequence):
        raise ValueError(
            f"num_neighbors must be a list of integers (one per hop, -1 = all), got {num_neighbors!r}"
        )
    out = []
    for hop, k in enumerate(num_neighbors):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < -1:
            raise ValueError(f"num_neighbors[{hop}] must be an integer >= 0 or -1 (all), got {k!r}")
        out.append(int(k))
    return out


class HeteroNeighborSampler:
    """Samples the ``len(num_neighbors)``-hop neighbourhood of seed target nodes.

    Args:
        data: The full graph (CPU tensors); it must follow the conventions of
            :mod:`hetero_imb.data.graph` (``target_node_type``, ``num_nodes`` per type).
        num_neighbors: Neighbours sampled per hop and edge type (``-1``: all; ``0``:
            none). Hop ``h`` expands the nodes first reached at hop ``h - 1`` (the
            seeds at hop 0) with ``num_neighbors[h]`` incoming neighbours each.

    Example:
        >>> data = HeteroData()
        >>> data["paper"].num_nodes = 5
        >>> cites = torch.tensor([[0, 1, 2, 3], [4, 4, 4, 2]])  # 4 is cited 3 times, 2 once
        >>> data["paper", "cites", "paper"].edge_index = cites
        >>> data.target_node_type = "paper"
        >>> sampler = HeteroNeighborSampler(data, [2])
        >>> batch = sampler.sample(torch.tensor([4, 2]), torch.Generator().manual_seed(0))
        >>> batch["paper"].n_id[:2].tolist(), batch["paper"].batch_size
        ([4, 2], 2)
        >>> batch["paper", "cites", "paper"].num_edges  # 2 of the 3 into node 4, 1 into 2
        3
    """

    def __init__(self, data: HeteroData, num_neighbors: Sequence[int]):
        if not isinstance(data, HeteroData):
            raise TypeError(f"data must be a HeteroData, got {type(data).__name__}")
        self.data = data
        self.target = target_type(data)
        self.num_neighbors = _check_num_neighbors(num_neighbors)
        self.num_nodes: dict[str, int] = {}
        for node_type in data.node_types:
            n = data[node_type].num_nodes
            if n is None:
                raise ValueError(f"node type {node_type!r} has no num_nodes")
            self.num_nodes[node_type] = int(n)
        self._csr: dict[EdgeType, tuple[Tensor, Tensor, Tensor]] = {}
        for edge_type in data.edge_types:
            src_type, _, dst_type = edge_type
            ei = data[edge_type].edge_index.cpu().long()
            n_src, n_dst = self.num_nodes[src_type], self.num_nodes[dst_type]
            if ei.numel() and (
                int(ei[0].min()) < 0 or int(ei[0].max()) >= n_src
                or int(ei[1].min()) < 0 or int(ei[1].max()) >= n_dst
            ):
                raise ValueError(
                    f"edge type {edge_type} has node ids outside [0, {n_src}) x [0, {n_dst})"
                )
            perm = torch.argsort(ei[1], stable=True)
            rowptr = torch.zeros(n_dst + 1, dtype=torch.long)
            rowptr[1:] = torch.cumsum(torch.bincount(ei[1], minlength=n_dst), 0)
            self._csr[edge_type] = (rowptr, ei[0, perm].contiguous(), perm)
        # global id -> local row of the batch being built (-1: not sampled); reset after use
        self._local = {t: torch.full((n,), -1, dtype=torch.long) for t, n in self.num_nodes.items()}

    def _sample_edges(
        self, edge_type: EdgeType, dst: Tensor, k: int, gen: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Up to ``k`` incoming edges of each node in ``dst``: (src ids, dst ids, edge ids)."""
        rowptr, col, perm = self._csr[edge_type]
        start = rowptr.index_select(0, dst)  # index_select: ~6x faster than [] on CPU
        degree = rowptr.index_select(0, dst + 1) - start
        take_all = degree <= k if k >= 0 else torch.ones_like(degree, dtype=torch.bool)
        # nodes whose neighbours all fit
        deg_all = degree[take_all]
        total = int(deg_all.sum())
        seg = torch.repeat_interleave(deg_all)
        offset = torch.arange(total) - torch.repeat_interleave(torch.cumsum(deg_all, 0) - deg_all, deg_all)
        pos_all = start[take_all].index_select(0, seg) + offset
        dst_all = dst[take_all].index_select(0, seg)
        # nodes with more than k neighbours: k distinct offsets by Floyd's algorithm
        many = ~take_all
        n_many = int(many.sum())
        if n_many:
            deg_many = degree[many]
            chosen = torch.empty(n_many, k, dtype=torch.long)
            for i in range(k):
                upper = deg_many - k + i  # draw from [0, upper]
                draw = (torch.rand(n_many, generator=gen, dtype=torch.float64) * (upper + 1)).long()
                draw = torch.minimum(draw, upper)
                taken = (chosen[:, :i] == draw.unsqueeze(1)).any(dim=1)
                chosen[:, i] = torch.where(taken, upper, draw)
            pos_many = (start[many].unsqueeze(1) + chosen).flatten()
            dst_many = dst[many].repeat_interleave(k)
            pos = torch.cat([pos_all, pos_many])
            dst_ids = torch.cat([dst_all, dst_many])
        else:
            pos, dst_ids = pos_all, dst_all
        return col.index_select(0, pos), dst_ids, perm.index_select(0, pos)

    def sample(self, seeds: Tensor, generator: torch.Generator) -> HeteroData:
        """The sampled subgraph around ``seeds`` (global target ids, duplicates allowed).

        Args:
            seeds: Global ids of the target seed nodes ``[B]``.
            generator: CPU generator for every random draw.

        Returns:
            The subgraph (see the module docstring); ``out[target].batch_size == B``.
        """
        seeds = torch.as_tensor(seeds).reshape(-1).long().cpu()
        n_target = self.num_nodes[self.target]
        if seeds.numel() == 0:
            raise ValueError("seeds must hold at least one node")
        if int(seeds.min()) < 0 or int(seeds.max()) >= n_target:
            raise ValueError(
                f"seed ids must lie in [0, {n_target - 1}] (node type {self.target!r}), "
                f"got [{int(seeds.min())}, {int(seeds.max())}]"
            )
        local = self._local
        nodes: dict[str, list[Tensor]] = {t: [] for t in self.num_nodes}
        count = {t: 0 for t in self.num_nodes}
        per_hop = {t: [0] * (len(self.num_neighbors) + 1) for t in self.num_nodes}
        edges: dict[EdgeType, list[tuple[Tensor, Tensor, Tensor]]] = {et: [] for et in self._csr}
        batch_size = seeds.numel()
        try:
            # seeds: rows 0..B-1; a repeated seed maps to its first row (canonical)
            unique, inverse = torch.unique(seeds, return_inverse=True)
            first = torch.full((unique.numel(),), batch_size, dtype=torch.long).scatter_reduce(
                0, inverse, torch.arange(batch_size), "amin"
            )
            nodes[self.target].append(seeds)
            local[self.target].index_copy_(0, unique, first)
            count[self.target] = per_hop[self.target][0] = batch_size
            frontier = {self.target: unique}
            for hop, k in enumerate(self.num_neighbors, start=1):
                reached: dict[str, list[Tensor]] = {}
                for edge_type in self._csr:
                    src_type, _, dst_type = edge_type
                    dst = frontier.get(dst_type)
                    if dst is None or dst.numel() == 0 or k == 0:
                        continue
                    src_ids, dst_ids, e_ids = self._sample_edges(edge_type, dst, k, generator)
                    edges[edge_type].append((src_ids, dst_ids, e_ids))
                    new = torch.unique(src_ids[local[src_type].index_select(0, src_ids) < 0])
                    if new.numel():
                        local[src_type].index_copy_(
                            0, new, torch.arange(count[src_type], count[src_type] + new.numel()))
                        count[src_type] += new.numel()
                        per_hop[src_type][hop] += new.numel()
                        nodes[src_type].append(new)
                        reached.setdefault(src_type, []).append(new)
                frontier = {t: torch.cat(parts) for t, parts in reached.items()}
                if not frontier:
                    break
            n_id = {
                t: torch.cat(parts) if parts else torch.empty(0, dtype=torch.long)
                for t, parts in nodes.items()
            }
            local_edges = {}
            for edge_type, parts in edges.items():
                src_type, _, dst_type = edge_type
                if parts:
                    src_ids, dst_ids, e_ids = (torch.cat(p) for p in zip(*parts, strict=True))
                else:
                    src_ids = dst_ids = e_ids = torch.empty(0, dtype=torch.long)
                local_edges[edge_type] = (local[src_type].index_select(0, src_ids),
                                          local[dst_type].index_select(0, dst_ids), e_ids)
        finally:
            for t, parts in nodes.items():
                for part in parts:
                    local[t].index_fill_(0, part, -1)
        local_edges = self._copy_edges_to_repeated_seeds(local_edges, inverse, first)
        return self._build(n_id, local_edges, batch_size, per_hop)

    def _copy_edges_to_repeated_seeds(
        self,
        local_edges: dict[EdgeType, tuple[Tensor, Tensor, Tensor]],
        inverse: Tensor,
        first: Tensor,
    ) -> dict[EdgeType, tuple[Tensor, Tensor, Tensor]]:
        """Give every repeated seed row the incoming edges of its first row."""
        canonical = first[inverse]  # [B]
        extra = torch.nonzero(canonical != torch.arange(canonical.numel())).flatten()
        if extra.numel() == 0:
            return local_edges
        order = torch.argsort(canonical[extra], stable=True)
        extra_rows, extra_canonical = extra[order], canonical[extra][order]
        out = dict(local_edges)
        for edge_type, (src, dst, e_id) in local_edges.items():
            if edge_type[2] != self.target or dst.numel() == 0:
                continue
            lo = torch.searchsorted(extra_canonical, dst, right=False)
            hi = torch.searchsorted(extra_canonical, dst, right=True)
            copies = hi - lo
            total = int(copies.sum())
            if total == 0:
                continue
            offset = torch.arange(total) - torch.repeat_interleave(torch.cumsum(copies, 0) - copies, copies)
            new_dst = extra_rows[torch.repeat_interleave(lo, copies) + offset]
            out[edge_type] = (
                torch.cat([src, src.repeat_interleave(copies)]),
                torch.cat([dst, new_dst]),
                torch.cat([e_id, e_id.repeat_interleave(copies)]),
            )
        return out

    def _build(
        self,
        n_id: dict[str, Tensor],
        local_edges: dict[EdgeType, tuple[Tensor, Tensor, Tensor]],
        batch_size: int,
        per_hop: dict[str, list[int]],
    ) -> HeteroData:
        data = self.data
        out = copy.copy(data)  # graph-level attributes and store objects, shallow
        for node_type in data.node_types:
            store, new = data[node_type], out[node_type]
            index = n_id[node_type]
            for key in list(store.keys()):
                if key != "num_nodes" and store.is_node_attr(key):
                    new[key] = select_rows(store[key], index)
            new.num_nodes = int(index.numel())
            new.n_id = index
            new.num_sampled_nodes = per_hop[node_type]
        for edge_type in data.edge_types:
            store, new = data[edge_type], out[edge_type]
            src, dst, e_id = local_edges[edge_type]
            for key in list(store.keys()):
                if key != "edge_index" and store.is_edge_attr(key):
                    new[key] = select_rows(store[key], e_id)
            new.edge_index = torch.stack([src, dst]).to(store.edge_index.device)
            new.e_id = e_id
        out[self.target].batch_size = batch_size
        return out


class HeteroNeighborLoader:
    """Iterates over mini-batches of seed target nodes as sampled subgraphs.

    Args:
        data: The full graph (CPU).
        input_nodes: Global ids of the target seed nodes ``[n]`` (or a boolean mask
            over the target type).
        num_neighbors: Neighbours per hop and edge type (``-1``: all), see
            :class:`HeteroNeighborSampler`.
        batch_size: Seed nodes per batch (the last batch may be smaller).
        shuffle: Visit the seeds in a fresh random order every epoch (else in the
            given order). Ignored when ``balanced``.
        seed: Seeds the loader's generator; the same seed gives the same sequence of
            epochs (each ``iter(loader)`` continues the stream, so epochs differ).
        balanced: Class-balanced seed sampling: every epoch draws ``n`` seeds with
            replacement, node ``i`` with probability proportional to
            ``1 / count(class of i)`` among the input nodes (drawn as a uniform class,
            then a uniform node of it), like PyG's ``ImbalancedSampler``. Needs labels
            ``>= 0`` on every input node (multi-hot labels: see ``multilabel.seed_weights``).

    ``len(loader)`` is the number of batches per epoch, ``ceil(n / batch_size)``.

    Example:
        >>> data = HeteroData()
        >>> data["paper"].num_nodes = 8
        >>> data["paper"].y = torch.tensor([0, 0, 0, 0, 0, 0, 0, 1])  # one rare node
        >>> data["paper", "cites", "paper"].edge_index = torch.tensor([[0, 7], [7, 0]])
        >>> data.target_node_type = "paper"
        >>> loader = HeteroNeighborLoader(data, torch.arange(8), [1], batch_size=4,
        ...                               seed=0, balanced=True)
        >>> len(loader), loader.epoch_seeds().tolist()  # the rare node, about half the time
        (2, [4, 7, 7, 2, 7, 7, 7, 7])
    """

    def __init__(
        self,
        data: HeteroData,
        input_nodes: Tensor,
        num_neighbors: Sequence[int],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        balanced: bool = False,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.sampler = HeteroNeighborSampler(data, num_neighbors)
        target = self.sampler.target
        n_target = self.sampler.num_nodes[target]
        nodes = torch.as_tensor(input_nodes).cpu()
        if nodes.dtype == torch.bool:
            if nodes.shape != (n_target,):
                raise ValueError(
                    f"a boolean input_nodes mask must have shape ({n_target},) (node type "
                    f"{target!r}), got {tuple(nodes.shape)}"
                )
            nodes = torch.nonzero(nodes).flatten()
        nodes = nodes.reshape(-1).long()
        if nodes.numel() == 0:
            raise ValueError("input_nodes selects no node")
        if int(nodes.min()) < 0 or int(nodes.max()) >= n_target:
            raise ValueError(
                f"input_nodes must hold ids in [0, {n_target - 1}] of node type {target!r}, "
                f"got [{int(nodes.min())}, {int(nodes.max())}]"
            )
        self.input_nodes = nodes
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.balanced = bool(balanced)
        self.seed = seed
        self.generator = torch.Generator().manual_seed(int(seed))
        if self.balanced:
            y = data[target].get("y")
            if y is None:
                raise ValueError(f"balanced=True needs labels 'y' on node type {target!r}")
            y = y.cpu()[nodes]
            if y.dim() == 2:  # multi-label: seeds by inverse label frequency
                self._seed_weights = seed_weights(y)
            elif bool((y < 0).any()):
                raise ValueError(
                    f"balanced=True needs labelled input nodes, but {int((y < 0).sum())} of "
                    f"{nodes.numel()} have label -1"
                )
            if y.dim() == 1:
                order = torch.argsort(y, stable=True)
                self._by_class = nodes[order]  # input nodes grouped by class
                _, counts = torch.unique(y, return_counts=True)
                self._class_counts = counts
                self._class_start = torch.cumsum(counts, 0) - counts

    def __len__(self) -> int:
        return math.ceil(self.input_nodes.numel() / self.batch_size)

    def epoch_seeds(self) -> Tensor:
        """Draw the seed order of one epoch (advances the loader's generator)."""
        n = self.input_nodes.numel()
        if self.balanced and getattr(self, "_seed_weights", None) is not None:
            draw = torch.multinomial(self._seed_weights, n, replacement=True, generator=self.generator)
            return self.input_nodes[draw]
        if self.balanced:
            cls = torch.randint(self._class_counts.numel(), (n,), generator=self.generator)
            within = (
                torch.rand(n, generator=self.generator, dtype=torch.float64) * self._class_counts[cls]
            ).long()
            within = torch.minimum(within, self._class_counts[cls] - 1)
            return self._by_class[self._class_start[cls] + within]
        if self.shuffle:
            return self.input_nodes[torch.randperm(n, generator=self.generator)]
        return self.input_nodes

    def __iter__(self) -> Iterator[HeteroData]:
        seeds = self.epoch_seeds()
        for start in range(0, seeds.numel(), self.batch_size):
            yield self.sampler.sample(seeds[start : start + self.batch_size], self.generator)


__all__ = ["HeteroNeighborLoader", "HeteroNeighborSampler"]
