"""GraphSMOTE-style synthesis in embedding space: ``oversample-neighbors``.

Zhao, Zhang & Wang, "GraphSMOTE: Imbalanced Node Classification on Graphs with Graph
Neural Networks" (WSDM 2021): a synthetic row is a random point on the segment between
a minority node and a same-class (meta-path) neighbour.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...data.graph import metapath_edge_index, target_type
from ...params import ParamSpec
from .base import TARGET_RATIO, EmbeddingSampler, SyntheticRows, draw_per_class, register_sampler

__all__ = ["NeighborOverSampler"]

log = logging.getLogger(__name__)

# Largest number of distance entries computed at once by the nearest-neighbour search.
_CHUNK_ENTRIES = 1 << 22


@register_sampler("oversample-neighbors")
class NeighborOverSampler(EmbeddingSampler):
    """GraphSMOTE-style synthesis: interpolate minority nodes towards same-class neighbours.

    Minority classes are all present classes with fewer than
    ``target = floor(target_ratio * max_c n_c)`` rows; each gets ``target - n_c``
    synthetic rows (at most ``max_synthetic_per_class``). A synthetic row picks an
    anchor row ``a`` of the class uniformly (with replacement), a partner ``p`` of the
    SAME class and ``lambda ~ U(0, 1)``, and is ``z_a + lambda * (z_p - z_a)``, a
    differentiable function of both rows (Zhao, Zhang & Wang, WSDM 2021).

    Partners:

    * ``neighbor_source="metapath"`` (default): a uniformly chosen meta-path neighbour
      of the anchor (``data.metapaths``; a one-relation meta-path gives direct
      neighbours) that is a training node of the same class, precomputed in ``fit``
      from the graph's structure only, so featureless node types are fine. In
      mini-batch training only neighbours present among the rows count.
    * ``"embedding"``, or when an anchor has no such neighbour among the rows: the
      nearest row of the same class in embedding space (Euclidean, on the current
      ``z``, so it follows training); a class with a single distinct node yields
      copies of it.

    The output is the input rows followed by the synthetic rows, weights ``None``;
    :attr:`last_synthetic` tells which rows were anchors and partners.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "target_ratio": TARGET_RATIO,
        "neighbor_source": ParamSpec(
            "str", "metapath", "where partners come from: graph meta-path neighbours, "
            "else the nearest same-class embedding", choices=("metapath", "embedding"),
        ),
        "max_synthetic_per_class": ParamSpec(
            "int", None, "cap on synthetic rows per class and step (none: no cap)", low=0,
        ),
    }

    def expected_counts(self, counts: list[int]) -> list[int]:
        """Per-class counts a loss sees after this sampler (see balancing/compose.py)."""
        return self._filled_counts(list(counts), self.get_params()["max_synthetic_per_class"])

    def _fit(self, data: HeteroData, train_index: Tensor, y_train: Tensor) -> None:
        self._nbr_ptr: Tensor | None = None
        self._nbr_col: Tensor | None = None
        if self.params_["neighbor_source"] != "metapath":
            return
        target = target_type(data)
        paths = list(getattr(data, "metapaths", None) or [])
        if not paths:
            raise ValueError(
                f"{self.owner} with neighbor_source='metapath' needs meta-paths on the graph, "
                "but data.metapaths is empty; pass neighbor_source=embedding"
            )
        num_nodes = data[target].num_nodes
        if int(train_index.max()) >= num_nodes or int(train_index.min()) < 0:
            raise ValueError(
                f"{self.owner}: train_index must hold ids in [0, {num_nodes - 1}] of node type "
                f"{target!r}, got [{int(train_index.min())}, {int(train_index.max())}]"
            )
        label = torch.full((num_nodes,), -1, dtype=torch.long)
        label[train_index] = y_train
        pairs = []
        for path in paths:
            path = [tuple(edge_type) for edge_type in path]
            if path[0][0] != target or path[-1][2] != target:
                raise ValueError(
                    f"{self.owner}: meta-path {path} must start and end at the target type {target!r}"
                )
            ei = metapath_edge_index(data, path)
            src, dst = ei[0], ei[1]
            keep = (label[src] >= 0) & (label[src] == label[dst]) & (src != dst)
            pairs.append(ei[:, keep])
        ei = torch.unique(torch.cat(pairs, dim=1), dim=1)  # sorted by (anchor, partner)
        self._nbr_ptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        self._nbr_ptr[1:] = torch.cumsum(torch.bincount(ei[0], minlength=num_nodes), 0)
        self._nbr_col = ei[1].contiguous()
        log.debug("%s: %d same-class training neighbour pairs", self.owner, ei.size(1))

    def graph_neighbors(self, node: int) -> Tensor:
        """Same-class training meta-path neighbours (global ids) of target node ``node``."""
        if getattr(self, "_nbr_ptr", None) is None:
            raise RuntimeError(f"{self.owner} has no graph neighbours (not fitted with neighbor_source=metapath)")
        return self._nbr_col[self._nbr_ptr[node] : self._nbr_ptr[node + 1]]

    def _resample(self, z, y, y_cpu, index, gen):
        need = self._oversample_targets(self._counts(y_cpu), self.params_["max_synthetic_per_class"])
        if not need:
            return z, y, None
        anchors = draw_per_class(y_cpu, need, gen)
        partners = torch.full_like(anchors, -1)
        if self._nbr_ptr is not None:
            partners = self._graph_partners(anchors, y_cpu, index, gen)
        from_graph = partners >= 0
        if not bool(from_graph.all()):
            missing = ~from_graph
            partners[missing] = self._nearest_partners(z.detach(), y_cpu, index, anchors[missing])
        lambdas = torch.rand(anchors.numel(), generator=gen)
        self.last_synthetic = SyntheticRows(anchors, partners, lambdas, from_graph)
        a, p = anchors.to(z.device), partners.to(z.device)
        lam = lambdas.to(device=z.device, dtype=z.dtype).unsqueeze(1)
        z_a = z[a]
        synthetic = z_a + lam * (z[p] - z_a)
        return torch.cat([z, synthetic]), torch.cat([y, y[a]]), None

    def _graph_partners(
        self, anchors: Tensor, y_cpu: Tensor, index: Tensor, gen: torch.Generator
    ) -> Tensor:
        """A uniformly drawn same-class graph neighbour among the rows per anchor, else -1."""
        k = anchors.numel()
        partners = torch.full((k,), -1, dtype=torch.long)
        ptr, col = self._nbr_ptr, self._nbr_col
        anchor_ids = index[anchors]
        in_range = anchor_ids < ptr.numel() - 1
        start = torch.where(in_range, ptr[anchor_ids.clamp(max=ptr.numel() - 2)], 0)
        degree = torch.where(in_range, ptr[(anchor_ids + 1).clamp(max=ptr.numel() - 1)] - start, 0)
        total = int(degree.sum())
        if total == 0:
            return partners
        seg = torch.repeat_interleave(torch.arange(k), degree)
        offset = torch.arange(total) - torch.repeat_interleave(torch.cumsum(degree, 0) - degree, degree)
        candidate = col[start[seg] + offset]  # global ids
        # look the candidates up among the rows (first row holding that id)
        order = torch.argsort(index, stable=True)
        sorted_ids = index[order]
        pos = torch.searchsorted(sorted_ids, candidate).clamp(max=max(index.numel() - 1, 0))
        row = order[pos]
        present = (sorted_ids[pos] == candidate) & (y_cpu[row] == y_cpu[anchors[seg]])
        keys = torch.rand(total, generator=gen)
        keys[~present] = -1.0
        best = torch.full((k,), -2.0).scatter_reduce(0, seg, keys, "amax")
        chosen = present & (keys == best[seg])
        first = torch.full((k,), total, dtype=torch.long).scatter_reduce(
            0, seg[chosen], torch.arange(total)[chosen], "amin"
        )
        found = first < total
        partners[found] = row[first[found]]
        return partners

    @staticmethod
    def _nearest_partners(z: Tensor, y_cpu: Tensor, index: Tensor, anchors: Tensor) -> Tensor:
        """Nearest row (Euclidean) of the anchor's class holding another node; else the anchor."""
        partners = anchors.clone()
        unique, inverse = torch.unique(anchors, return_inverse=True)
        best = unique.clone()
        for c in torch.unique(y_cpu[unique]).tolist():
            sel = torch.nonzero(y_cpu[unique] == c).flatten()
            cand = torch.nonzero(y_cpu == c).flatten()
            cand_dev = cand.to(z.device)
            cand_ids = index[cand].to(z.device)
            step = max(1, _CHUNK_ENTRIES // max(cand.numel(), 1))
            for lo in range(0, sel.numel(), step):
                rows = unique[sel[lo : lo + step]]
                dist = torch.cdist(z[rows.to(z.device)], z[cand_dev])
                same_node = index[rows].to(z.device).unsqueeze(1) == cand_ids.unsqueeze(0)
                dist = dist.masked_fill(same_node, float("inf"))
                value, arg = dist.min(dim=1)
                nearest = cand[arg.cpu()]
                best[sel[lo : lo + step]] = torch.where(torch.isinf(value.cpu()), rows, nearest)
        partners[:] = best[inverse]
        return partners
