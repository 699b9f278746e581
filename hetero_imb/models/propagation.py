"""The propagation operator over the target type, and label propagation with it.

On featureless graphs (Freebase, AMiner) most of the signal is in who shares an
actor, an author or a reference with a labelled node (docs/benchmarks_hin.md,
"Featureless graphs"). This module builds one operator ``S`` on the target nodes
from every relation that leaves the target type ``T``:

* ``T -> X`` with ``X != T``: the meta-path graph ``T-X-T``, ``W = A D_X^-1 A^T``
  (``A`` the 0/1 ``[N_T, N_X]`` incidence, ``D_X`` the degrees of the ``X`` nodes: a
  shared hub such as a prolific author counts ``1/deg`` — hubs down-weighted);
* ``T -> T`` (a homogeneous graph such as Facebook's page-page edges): the relation
  itself, symmetrised, ``W = max(A, A^T)``;

each without its diagonal (no self loops: a node never votes for itself), each
normalised symmetrically, ``D^-1/2 W D^-1/2``, and summed with weights that add up
to 1 (default equal), so the spectral radius of ``S`` is at most 1. A meta-path
whose exact product would walk more than ``max_walks`` node pairs is built instead
from at most ``max_neighbors`` sampled neighbours per node with the capped
composition of :mod:`hetero_imb.data.metapath` (unit weights, seeded).

:func:`propagate` runs PyG's :class:`~torch_geometric.nn.models.LabelPropagation` with
``S`` as edge weights; :func:`class_mass` is the class-mass normalisation of Zhu et
al. (2003) for imbalanced classes. Only the labels handed in are read: callers pass
the one-hot **training** labels (see :mod:`.label_propagation` and
:mod:`.smoothers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import EdgeType, labelled_mask, labels, num_classes, split_mask, target_type
from ..data.metapath import capped_metapath, count_metapath_walks
from ..report.predictions import node_ids

#: Node pairs an exact meta-path product may walk before the capped one is used.
DEFAULT_MAX_WALKS = 50_000_000


@dataclass
class TargetOperator:
    """The target type's propagation operator, kept per path so that weights can change.

    Attributes:
        num_nodes: Target nodes.
        names: One name per path (``"movie-actor-movie"``, ``"page-page"``).
        parts: Each path's symmetrically normalised ``[N, N]`` matrix (scipy CSR).
        weights: Each path's weight in :meth:`matrix` (they add up to 1).
    """

    num_nodes: int
    names: list[str]
    parts: list[sp.csr_matrix]
    weights: list[float] = field(default_factory=list)

    def matrix(self, weights: list[float] | None = None) -> sp.csr_matrix:
        """``S = sum_p w_p S_p`` (``weights`` default: the operator's own)."""
        weights = self.weights if weights is None else weights
        out = sp.csr_matrix((self.num_nodes, self.num_nodes), dtype=np.float64)
        for w, part in zip(weights, self.parts, strict=True):
            out = out + w * part
        return sp.csr_matrix(out)

    def edges(self, weights: list[float] | None = None) -> tuple[Tensor, Tensor]:
        """``(adj_t, edge_weight)``: :meth:`matrix` as a torch sparse CSR tensor in PyG's
        ``adj_t`` convention (row ``i`` holds the weights of the messages ``i`` receives)
        and its values. PyG's ``LabelPropagation`` multiplies by it in one sparse product
        per step (its fused path), far faster than one message per edge on dense
        meta-path graphs (ACM's paper-subject-paper)."""
        import warnings

        csr = self.matrix(weights).astype(np.float32)
        csr.sort_indices()
        with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            adj_t = torch.sparse_csr_tensor(
                torch.from_numpy(csr.indptr.astype(np.int64)),
                torch.from_numpy(csr.indices.astype(np.int64)),
                torch.from_numpy(csr.data), size=csr.shape, check_invariants=False)
        return adj_t, adj_t.values()


def _incidence(data: HeteroData, edge_type: EdgeType) -> sp.csr_matrix:
    src, _, dst = edge_type
    ei = data[edge_type].edge_index.cpu().numpy()
    shape = (int(data[src].num_nodes), int(data[dst].num_nodes))
    a = sp.csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=shape)
    a.data[:] = 1.0  # duplicate edges count once
    return a


def _sym_normalise(w: sp.spmatrix) -> sp.csr_matrix:
    w = sp.csr_matrix(w)
    w.setdiag(0.0)
    w.eliminate_zeros()
    deg = np.asarray(w.sum(axis=1)).ravel()
    inv = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
    return sp.csr_matrix(sp.diags(inv) @ w @ sp.diags(inv))


def path_matrix(data: HeteroData, edge_type: EdgeType, *, max_walks: int = DEFAULT_MAX_WALKS,
                max_neighbors: int = 64, seed: int = 0, hubs: bool = True) -> sp.csr_matrix:
    """The (un-normalised, symmetric) graph of one relation leaving the target type.

    ``T -> T``: the relation symmetrised. ``T -> X``: ``A D_X^-1 A^T`` (``hubs``: each
    shared ``X`` node counts ``1/deg``) or ``A A^T`` (shared ``X`` nodes counted), the
    diagonal kept; above ``max_walks`` node pairs, 0/1 from the capped composition.

    Example:
        >>> from torch_geometric.data import HeteroData
        >>> g = HeteroData(); g["m"].num_nodes, g["a"].num_nodes = 3, 2
        >>> g["m", "by", "a"].edge_index = torch.tensor([[0, 1, 1, 2], [0, 0, 1, 1]])
        >>> path_matrix(g, ("m", "by", "a"), hubs=False).toarray().tolist()
        [[1.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 1.0]]
    """
    a = _incidence(data, edge_type)
    n = a.shape[0]
    if edge_type[0] == edge_type[2]:
        return sp.csr_matrix(a.maximum(a.T))
    ei = torch.from_numpy(np.stack(a.nonzero()).astype(np.int64))
    sizes = [n, a.shape[1], n]
    if count_metapath_walks([ei, ei.flip(0)], sizes) <= max_walks:
        if not hubs:
            return sp.csr_matrix(a @ a.T)
        deg = np.asarray(a.sum(axis=0)).ravel()
        inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
        return sp.csr_matrix(a @ sp.diags(inv) @ a.T)
    pairs = capped_metapath([ei, ei.flip(0)], sizes, max_neighbors,
                            generator=torch.Generator().manual_seed(seed), drop_self_loops=True)
    p = pairs.numpy()
    w = sp.csr_matrix((np.ones(p.shape[1]), (p[0], p[1])), shape=(n, n))
    return sp.csr_matrix(w.maximum(w.T))


def target_operator(data: HeteroData, *, max_walks: int = DEFAULT_MAX_WALKS,
                    max_neighbors: int = 64, seed: int = 0) -> TargetOperator:
    """The propagation operator of ``data``'s target type (see the module docstring).

    Args:
        data: A graph with ``target_node_type``.
        max_walks: Node pairs an exact ``T-X-T`` product may walk; above it the capped
            composition is used.
        max_neighbors: Neighbours per node kept by the capped composition.
        seed: Seed of the capped composition's draws.

    Returns:
        A :class:`TargetOperator` with equal path weights.

    Raises:
        ValueError: no relation leaves the target type.

    Example:
        >>> from torch_geometric.data import HeteroData
        >>> g = HeteroData(); g.target_node_type = "paper"
        >>> g["paper"].num_nodes, g["author"].num_nodes = 3, 1
        >>> g["paper", "by", "author"].edge_index = torch.tensor([[0, 1], [0, 0]])
        >>> op = target_operator(g)
        >>> op.names, op.matrix().toarray().round(6).tolist()
        (['paper-author-paper'], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    target = target_type(data)
    names, parts = [], []
    for edge_type in data.edge_types:
        if edge_type[0] != target:
            continue
        w = path_matrix(data, edge_type, max_walks=max_walks, max_neighbors=max_neighbors,
                         seed=seed)
        names.append(target if edge_type[2] == target else edge_type[2])
        parts.append(_sym_normalise(w))
    if not parts:
        raise ValueError(f"no relation leaves the target type {target!r}; label propagation "
                         f"needs edges from it, got edge types {data.edge_types}")
    names = [f"{target}-{x}-{target}" if x != target else f"{target}-{target}" for x in names]
    return TargetOperator(int(data[target].num_nodes), names, parts,
                          [1.0 / len(parts)] * len(parts))


def propagate(operator: TargetOperator, seeds: Tensor, *, alpha: float, steps: int,
              weights: list[float] | None = None) -> Tensor:
    """``F <- alpha S F + (1 - alpha) F_0`` for ``steps`` steps from ``F_0 = seeds``
    (PyG's ``LabelPropagation`` with ``S`` as edge weights; values clamped to [0, 1]).

    Args:
        operator: The target operator.
        seeds: ``[N, C]`` starting rows (one-hot training labels, zero elsewhere).
        alpha: Weight of the propagated part, in (0, 1).
        steps: Propagation steps.
        weights: Path weights (default: the operator's).

    Returns:
        ``[N, C]`` propagated scores.
    """
    return propagate_edges(operator.edges(weights), seeds, alpha=alpha, steps=steps)


def propagate_edges(edges: tuple[Tensor, Tensor], seeds: Tensor, *, alpha: float,
                    steps: int) -> Tensor:
    """:func:`propagate` with the operator's ``(adj_t, edge_weight)`` built already
    (:meth:`TargetOperator.edges`), to try several ``alpha`` on one operator. (The
    weights are given so that PyG does not normalise the operator again.)"""
    from torch_geometric.nn.models import LabelPropagation

    edge_index, edge_weight = edges
    return LabelPropagation(steps, alpha)(seeds, edge_index, edge_weight=edge_weight)


def class_mass(scores: Tensor, prior: Tensor) -> Tensor:
    """Class-mass normalisation: each column scaled so that its total matches ``prior``.

    Column ``c`` is divided by its sum and multiplied by ``prior[c]`` (the training
    class frequencies): without it, a class with many or well-connected training
    nodes floods the graph and the minority classes are never predicted.

    Example:
        >>> class_mass(torch.tensor([[3.0, 1.0], [1.0, 1.0]]), torch.tensor([0.5, 0.5])).tolist()
        [[0.375, 0.25], [0.125, 0.25]]
    """
    mass = scores.sum(dim=0).clamp_min(1e-12)
    return scores / mass * prior


def to_proba(scores: Tensor, prior: Tensor) -> Tensor:
    """Rows scaled to sum to 1; a row with no mass (a node no label reached) gets ``prior``.

    Example:
        >>> to_proba(torch.tensor([[1.0, 3.0], [0.0, 0.0]]), torch.tensor([0.5, 0.5])).tolist()
        [[0.25, 0.75], [0.5, 0.5]]
    """
    scores = scores.clamp_min(0.0)
    total = scores.sum(dim=1, keepdim=True)
    return torch.where(total > 0, scores / total.clamp_min(1e-12), prior.expand_as(scores))


@dataclass
class TrainingLabels:
    """The training labels of a graph, kept by node id so that they can be laid on the
    same graph again after a reload (``model.pt``), or on a graph with more nodes.

    Attributes:
        ids: Node ids (``data.node_ids`` of the target type, else positions) of the
            labelled training nodes.
        y: Their class ids.
        num_classes: Number of classes.
    """

    ids: list
    y: Tensor
    num_classes: int

    @classmethod
    def of(cls, data: HeteroData) -> TrainingLabels:
        """The labelled nodes of ``data``'s ``train_mask`` (never validation or test).

        Raises:
            ValueError: the graph has no training labels.
        """
        y = labels(data)
        index = torch.nonzero(split_mask(data, "train") & labelled_mask(y)).flatten()
        if index.numel() == 0:
            raise ValueError("label propagation needs training labels; the graph's "
                             "train_mask selects no labelled target node")
        ids = node_ids(data)
        return cls([ids[i] for i in index.tolist()], y[index].clone(), num_classes(data))

    def index(self, data: HeteroData) -> tuple[Tensor, Tensor]:
        """``(positions, labels)`` of the training nodes present in ``data`` (by id)."""
        where = {node: i for i, node in enumerate(node_ids(data))}
        keep = [(where[node], int(c)) for node, c in zip(self.ids, self.y.tolist(), strict=True)
                if node in where]
        if not keep:
            return torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
        pos, lab = zip(*keep, strict=True)
        return torch.tensor(pos), torch.tensor(lab)

    def seeds(self, data: HeteroData) -> Tensor:
        """``[N, C]`` one-hot training labels on ``data``'s target nodes, zero elsewhere."""
        pos, lab = self.index(data)
        out = torch.zeros(int(data[target_type(data)].num_nodes), self.num_classes)
        out[pos, lab] = 1.0
        return out

    def prior(self) -> Tensor:
        """Training class frequencies ``[C]``."""
        counts = torch.bincount(self.y, minlength=self.num_classes).float()
        return counts / counts.sum()


def validation_macro_f1(proba: Tensor, data: HeteroData) -> float:
    """Macro-F1 of ``proba``'s argmax on ``data``'s labelled validation nodes (the
    selection score of every choice made on validation here; 0 without them)."""
    from sklearn.metrics import f1_score

    y = labels(data)
    mask = split_mask(data, "val") & labelled_mask(y)
    if not bool(mask.any()):
        return 0.0
    return float(f1_score(y[mask].numpy(), proba[mask].argmax(1).numpy(), average="macro",
                          labels=list(range(proba.size(1))), zero_division=0))
