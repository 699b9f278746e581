"""Node synthesis for augmenters that add *labelled* target nodes (``graphens``, ``graphsha``).

A synthetic node ``k`` is made from a minor *source* node ``s_k`` (a training node of a
class below the target count; the synthetic node gets its label) and a *partner*
node ``d_k`` (a training node the augmenter chose):

* **rows**: every per-node tensor of the target store (``x``, and the rows an encoder's
  ``preprocess`` stored there, e.g. MLP feature rows or metapath2vec embeddings) gets
  one row per synthetic node: float rows ``lam * row[s] + (1 - lam) * row[d]``
  (per feature: ``lam`` set to 1 on the features a saliency mask keeps, see
  :func:`mix_rows`), integer rows (``y``) the source's row, boolean rows (masks)
  ``False``. ``n_id`` (``0..N-1`` then ``s_k``) lets every learned input that is not
  a row — the embedding table of a featureless target type, SeHGNN's precomputed
  meta-path aggregates — read the *source's* row: on a featureless target type
  nothing is mixed but the neighbourhood.
* **edges**: on each relation whose destination type is the target type (the
  messages a target node receives, meta-path relations of HAN included), the
  synthetic node gets ``deg_k`` incoming edges, ``deg_k`` the in-degree of a node
  drawn from a degree pool, capped at the source's in-degree, drawn without
  replacement from a weighted mix of the source's and the partner's in-neighbours
  (:func:`sample_neighbours`). It sends no message (no outgoing edge), as in both
  papers' code, so no original node's embedding changes.

The training loop appends the synthetic rows, labelled, to the training rows of the
step (:meth:`Augmenter.synthetic_rows`); evaluation uses the plain graph.
A loss composed with synthesis is still built from the real training counts
(:func:`hetero_imb.balancing.compose.counts_seen_by_loss`), so a re-balancing loss adds
its push on top of the synthetic balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...data.graph import num_classes, target_type
from .base import Augmenter, shallow_copy

__all__ = [
    "IncomingNeighbours", "SynthesisAugmenter", "Synthesis", "append_nodes", "mix_rows",
    "sample_neighbours",
]


class IncomingNeighbours:
    """CSR of the in-neighbours of every target node in one relation.

    Args:
        edge_index: ``[2, E]`` edges (row 0 source, row 1 destination = target node).
        num_dst: Number of target nodes.

    Example:
        >>> nb = IncomingNeighbours(torch.tensor([[5, 6, 7], [1, 0, 1]]), 3)
        >>> nb.degree.tolist(), nb.of(1).tolist()
        ([1, 2, 0], [5, 7])
    """

    def __init__(self, edge_index: Tensor, num_dst: int):
        src, dst = edge_index[0].cpu().long(), edge_index[1].cpu().long()
        order = torch.argsort(dst, stable=True)
        self.col = src[order]
        self.degree = torch.bincount(dst, minlength=num_dst)
        self.ptr = torch.zeros(num_dst + 1, dtype=torch.long)
        self.ptr[1:] = torch.cumsum(self.degree, 0)

    def of(self, node: int) -> Tensor:
        """The in-neighbours of ``node`` (with multiplicity)."""
        return self.col[self.ptr[node] : self.ptr[node + 1]]

    def gather(self, nodes: Tensor, weights: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Flat ``(group, neighbour, weight)``: each in-neighbour of ``nodes[k]`` with
        ``weights[k] / deg(nodes[k])`` (``nodes[k]``'s neighbour distribution times its weight)."""
        deg = self.degree[nodes]
        group = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
        first = torch.repeat_interleave(self.ptr[nodes] - (torch.cumsum(deg, 0) - deg), deg)
        neighbour = self.col[first + torch.arange(int(deg.sum()))]
        weight = torch.repeat_interleave(weights / deg.clamp_min(1), deg)
        return group, neighbour, weight


def sample_neighbours(group: Tensor, neighbour: Tensor, weight: Tensor, count: Tensor,
                      uniform: Tensor | torch.Generator) -> tuple[Tensor, Tensor]:
    """Weighted sampling without replacement, per group (Efraimidis–Spirakis).

    Duplicate ``(group, neighbour)`` entries are merged (weights added); each group ``k``
    keeps the ``count[k]`` candidates with the smallest keys ``-log(u) / w``, ``u`` the
    entry of ``uniform`` at the merged candidate's position (the candidates sorted by
    group, then neighbour id) — the same law as ``torch.multinomial`` without
    replacement on the group's weights.

    Args:
        group, neighbour, weight: Flat candidates (``[M]`` each).
        count: ``[K]`` how many to keep per group (at most its distinct candidates).
        uniform: ``[M']`` uniforms in ``(0, 1)``, ``M'`` the number of merged candidates,
            or a generator to draw them from.

    Returns:
        ``(group, neighbour)`` of the kept candidates, sorted by group.

    Example:
        >>> g, n = sample_neighbours(torch.tensor([0, 0, 0]), torch.tensor([4, 9, 4]),
        ...     torch.tensor([0.25, 0.5, 0.25]), torch.tensor([1]), torch.tensor([0.5, 0.9]))
        >>> g.tolist(), n.tolist()   # keys: 4 -> ln2/0.5 = 1.39, 9 -> -ln0.9/0.5 = 0.21
        ([0], [9])
    """
    width = int(neighbour.max()) + 1 if neighbour.numel() else 1
    keys, inverse = torch.unique(group * width + neighbour, return_inverse=True)
    merged = torch.zeros(keys.numel(), dtype=weight.dtype).index_add_(0, inverse, weight)
    group_m, neighbour_m = keys // width, keys % width
    if isinstance(uniform, torch.Generator):
        uniform = torch.rand(keys.numel(), generator=uniform, dtype=torch.float64).float()
    score = -torch.log(uniform.clamp_min(1e-12)) / merged.clamp_min(1e-12)
    order = torch.argsort(score, stable=True)
    order = order[torch.argsort(group_m[order], stable=True)]
    group_s = group_m[order]
    starts = torch.cumsum(torch.bincount(group_s, minlength=count.numel()), 0)
    rank = torch.arange(order.numel()) - (starts - torch.bincount(group_s, minlength=count.numel()))[group_s]
    keep = order[rank < count[group_s]]
    return group_m[keep], neighbour_m[keep]


def mix_rows(rows: Tensor, src: Tensor, dst: Tensor, lam: Tensor,
             keep: Tensor | None = None) -> Tensor:
    """``lam * rows[src] + (1 - lam) * rows[dst]``, with ``lam = 1`` where ``keep`` is true.

    Args:
        rows: ``[N, F]`` dense rows, or a torch sparse matrix (then ``keep`` is not
            applied — ``lam`` mixes every feature, which saves densifying ``[S, F]``
            rows; the result is sparse).
        src, dst: ``[S]`` row ids.
        lam: ``[S]`` mixing weights of the source rows.
        keep: ``[S, F]`` boolean saliency mask (source feature kept as is), or ``None``.

    Example:
        >>> x = torch.tensor([[0.0, 10.0], [4.0, 20.0]])
        >>> mix_rows(x, torch.tensor([0]), torch.tensor([1]), torch.tensor([0.25]),
        ...          keep=torch.tensor([[False, True]]))
        tensor([[ 3., 10.]])
    """
    if rows.layout in (torch.sparse_coo, torch.sparse_csr):
        s = src.numel()
        index = torch.stack([torch.arange(s).repeat(2), torch.cat([src, dst])])
        values = torch.cat([lam, 1 - lam]).to(torch.float32)
        mixer = torch.sparse_coo_tensor(  # indices built here, in range by construction
            index, values, (s, rows.size(0)), check_invariants=False
        ).coalesce()
        return torch.sparse.mm(mixer, rows.to_sparse_coo().float())
    weight = lam.to(rows.dtype)[:, None].expand(-1, rows.size(1)).clone()
    if keep is not None:
        weight[keep] = 1.0
    return weight * rows[src] + (1 - weight) * rows[dst]


@dataclass
class Synthesis:
    """One draw of synthetic nodes, enough to build them (see :func:`append_nodes`).

    Attributes:
        src: ``[S]`` source (minor) node of each synthetic node; its label is theirs.
        dst: ``[S]`` partner node.
        lam: ``[S]`` weight of the source's rows.
        keep: ``{attribute: [S, F] mask}`` features kept from the source (saliency).
        edges: ``{relation: [2, E]}`` incoming edges, destinations numbered ``0..S-1``.
    """

    src: Tensor
    dst: Tensor
    lam: Tensor
    keep: dict[str, Tensor]
    edges: dict[tuple[str, str, str], Tensor]


def append_nodes(graph: HeteroData, target: str, syn: Synthesis) -> HeteroData:
    """A shallow copy of ``graph`` with the synthetic target nodes of ``syn`` appended
    (ids ``N..N+S-1``; see the module docstring for what each row holds).

    Example:
        >>> g = HeteroData()
        >>> g["a"].x = torch.tensor([[0.0], [2.0]]); g["a"].y = torch.tensor([0, 1])
        >>> g["a", "r", "a"].edge_index = torch.tensor([[0], [1]])
        >>> syn = Synthesis(torch.tensor([1]), torch.tensor([0]), torch.tensor([0.5]), {},
        ...                 {("a", "r", "a"): torch.tensor([[0], [0]])})
        >>> out = append_nodes(g, "a", syn)
        >>> out["a"].x.flatten().tolist(), out["a"].y.tolist(), out["a", "r", "a"].edge_index.tolist()
        ([0.0, 2.0, 1.0], [0, 1, 1], [[0, 0], [1, 2]])
    """
    out = shallow_copy(graph)
    store = graph[target]
    n, s = int(store.num_nodes), int(syn.src.numel())
    new = out[target]
    for key, value in list(store.items()):
        if not isinstance(value, Tensor) or value.dim() == 0 or value.size(0) != n:
            continue
        device = value.device
        src, dst = syn.src.to(device), syn.dst.to(device)
        if value.dtype == torch.bool:
            extra = torch.zeros((s, *value.shape[1:]), dtype=torch.bool, device=device)
        elif not value.is_floating_point():
            extra = value[src]
        else:
            rows = value if value.dim() > 1 or value.is_sparse else value[:, None]
            keep = syn.keep.get(key)
            extra = mix_rows(rows, src, dst, syn.lam.to(device),
                             None if keep is None else keep.to(device))
            if value.dim() == 1:
                extra = extra[:, 0]
        if value.layout in (torch.sparse_coo, torch.sparse_csr):
            merged = torch.cat([value.to_sparse_coo(), extra.to_sparse_coo()]).coalesce()
            new[key] = merged.to_sparse_csr() if value.layout == torch.sparse_csr else merged
        else:
            new[key] = torch.cat([value, extra.to(value.dtype)])
    new.num_nodes = n + s
    new.n_id = torch.cat([torch.arange(n), syn.src.cpu()]).to(syn.src.device)
    for relation, edges in syn.edges.items():
        edge_index = graph[relation].edge_index
        shifted = edges.to(edge_index.device) + torch.tensor([[0], [n]], device=edge_index.device)
        out[relation].edge_index = torch.cat([edge_index, shifted], dim=1)
    return out


class SynthesisAugmenter(Augmenter):
    """Base of the augmenters that append labelled synthetic target nodes.

    Subclasses implement :meth:`draw` (the synthetic nodes of one step, from the
    current class probabilities ``self.proba``); this class keeps the in-neighbours of
    every relation into the target type, the saliency of the target's rows (the
    gradient of the last step's loss with respect to them, when ``uses_saliency``)
    and builds the augmented graph. Before the first predictions and for ``warmup``
    epochs after them it trains on the plain graph.
    """

    supports_minibatch = False
    minibatch_reason = (
        "its synthetic nodes are drawn from full-graph predictions and appended to the "
        "whole graph before every step, while mini-batch neighbour sampling is set up "
        "once on the plain graph"
    )
    adds_nodes = True
    uses_saliency = False

    def _fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor) -> None:
        self.target = target_type(data)
        self.n_classes = num_classes(data)
        self.n_nodes = int(data[self.target].num_nodes)
        self.train_idx, self.y_train = train_idx, y_train
        self.counts = torch.bincount(y_train, minlength=self.n_classes)
        self.members = [train_idx[y_train == c] for c in range(self.n_classes)]
        self.neighbours = {
            rel: IncomingNeighbours(data[rel].edge_index, self.n_nodes)
            for rel in data.edge_types if rel[2] == self.target
        }
        self.proba: Tensor | None = None
        self.saliency: dict[str, Tensor] = {}
        self._tracked: dict[str, Tensor] = {}
        self._rows: tuple[Tensor, Tensor] | None = None
        self.last_nodes = 0
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=self.generator)))

    def _on_epoch(self, proba: Tensor) -> None:
        self.proba = proba.cpu().float()

    def draw(self, proba: Tensor) -> Synthesis:  # pragma: no cover - abstract
        """The synthetic nodes of one step."""
        raise NotImplementedError

    def synthetic_rows(self) -> tuple[Tensor, Tensor] | None:
        return self._rows

    def incoming_edges(self, src: Tensor, dst: Tensor, ratio_src: Tensor, ratio_dst: Tensor,
                       degree_pool: Tensor) -> dict[tuple[str, str, str], Tensor]:
        """Per relation into the target type: ``[2, E]`` (neighbour, synthetic id) edges;
        each synthetic node ``k`` draws ``min(deg(pool node), deg(src_k))`` neighbours
        without replacement from ``ratio_src * dist(src) + ratio_dst * dist(dst)``."""
        edges = {}
        for rel, nb in self.neighbours.items():
            pick = torch.randint(degree_pool.numel(), (src.numel(),), generator=self.generator)
            count = torch.minimum(nb.degree[degree_pool[pick]], nb.degree[src])
            parts = [nb.gather(src, ratio_src)]
            if bool((ratio_dst > 0).any()):
                parts.append(nb.gather(dst, ratio_dst))
            group, neighbour, weight = (torch.cat(t) for t in zip(*parts, strict=True))
            group, neighbour = sample_neighbours(group, neighbour, weight, count, self.generator)
            edges[rel] = torch.stack([neighbour, group])
        return edges

    def _augment(self, graph: HeteroData) -> HeteroData:
        self._collect_saliency()
        self._rows = None
        if self.proba is None or self.epochs_done <= self.params_["warmup"]:
            return self._track(shallow_copy(graph)) if self.uses_saliency else graph
        syn = self.draw(self.proba)
        self.last_synthesis = syn
        self.last_nodes = int(syn.src.numel())
        if self.last_nodes == 0:
            return graph
        out = append_nodes(graph, self.target, syn)
        ids = torch.arange(self.n_nodes, self.n_nodes + self.last_nodes)
        labels = torch.zeros(self.n_nodes, dtype=torch.long)
        labels[self.train_idx] = self.y_train
        self._rows = (ids, labels[syn.src])
        return self._track(out) if self.uses_saliency else out

    def _track(self, graph: HeteroData) -> HeteroData:
        """Make the target's dense float rows leaves that collect the step's gradient."""
        store = graph[self.target]
        for key, value in list(store.items()):
            if (isinstance(value, Tensor) and value.dim() == 2 and value.is_floating_point()
                    and value.layout == torch.strided and key != "y"):
                leaf = value.detach().requires_grad_(True)
                store[key] = leaf
                self._tracked[key] = leaf
        return graph

    def _collect_saliency(self) -> None:
        for key, leaf in self._tracked.items():
            if leaf.grad is not None:
                self.saliency[key] = leaf.grad[: self.n_nodes].detach().abs().cpu()
        self._tracked = {}

    def saliency_masks(self, dst: Tensor, fraction: Tensor) -> dict[str, Tensor]:
        """Per attribute with a saliency, ``[S, F]``: ``K = int(F * keep_prob)`` features
        drawn without replacement with probability proportional to ``dst_k``'s saliency,
        of which the first ``max(1, int(fraction[k] * K))`` are kept from the source
        (GraphENS's adaptive masking)."""
        masks = {}
        for key, sal in self.saliency.items():
            width = sal.size(1)
            k = max(1, int(width * self.params_["keep_prob"]))
            kept = (fraction * k).long()
            # k draws without replacement ∝ saliency, in draw order: the k smallest
            # exponential keys -log(u) / w (the law of torch.multinomial, ~30x faster here)
            u = torch.rand(dst.numel(), width, generator=self.generator).clamp_min(1e-12)
            drawn = (-u.log() / (sal[dst] + 1e-10)).topk(k, dim=1, largest=False).indices
            use = torch.arange(k)[None, :] < kept.clamp(1, k)[:, None]
            mask = torch.zeros(dst.numel(), width, dtype=torch.bool)
            mask[torch.arange(dst.numel())[:, None].expand(-1, k)[use], drawn[use]] = True
            masks[key] = mask
        return masks
