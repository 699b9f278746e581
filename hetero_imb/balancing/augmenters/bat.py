"""``bat``: balanced topological augmentation (Liu et al., "Class-Imbalanced Graph
Learning without Class Rebalancing", ICML 2024).

Before every training step, target nodes at risk of misclassification are linked to
one virtual node per class, drawn at random from the current predictions (computed on
the un-augmented graph after the previous epoch), so that a node whose neighbourhood
pulls it towards a (majority) class gets a direct message from the class it may
belong to. With ``p`` the class probabilities, ``ŷ`` the predicted class (training
nodes: their label) and ``n_c`` the training count of class ``c``:

* uncertainty ``u_i = 1 - max_c p_ic``; risk
  ``r_i = max(0, u_i - mean_{j: ŷ_j = ŷ_i} u_j) * n_{ŷ_i} / max_c n_c``
  (above-average uncertainty within its predicted class, damped for nodes predicted
  as small classes);
* posterior ``q_i``: ``p_i`` (``mode=bat0``) or the distribution of ``ŷ`` over ``i``'s
  target-node neighbours (``mode=bat1``, the default); ``q_{i,ŷ_i}`` is set to 0 and
  the row renormalised (a zero row stays zero);
* the edge ``i — virtual c`` is drawn with probability ``r_i * q_ic``, independently,
  and used in both directions;
* the virtual node of class ``c`` has the mean features of the target nodes with
  ``ŷ = c`` (recomputed at every draw); when the target type has no features it is a
  learned embedding (one row per class).

Heterographs (the choice): the virtual nodes form a new node type ``virtual_class``
(``C`` nodes) with two new relations, ``(target, "bat_to_class", "virtual_class")`` and
``(virtual_class, "bat_from_class", target)``. Relation-aware models (``rgcn``) give
them their own weights, the homogeneous projection (``gcn``, ``gat``) merges them
like any relation, ``han`` reads ``bat_from_class`` as one more semantic beside its
meta-paths (:mod:`hetero_imb.models.han`), and the dataset's own relations are
untouched. The neighbourhood of ``bat1`` is
:func:`~hetero_imb.balancing.topology.target_adjacency` (meta-paths and target-to-target
relations). Models whose graph input is fixed before training (``sehgnn``'s meta-path
aggregates, ``metapath2vec``'s embeddings; ``mlp`` reads none) would never see the
links redrawn at each step, so they refuse ``bat``
(:attr:`~hetero_imb.models.ModelSpec.static_graph`). As in the paper, the model is evaluated and scored on
the graph without virtual edges. In the paper the virtual nodes are also labelled
training nodes; here only target nodes have a classification head, so they are not.

Full-batch only: the edges are redrawn from full-graph predictions before each step,
while mini-batch neighbour sampling is set up once on the un-augmented graph.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData

from ...data.graph import num_classes, target_type
from ...params import ParamSpec
from ..topology import target_adjacency
from .base import Augmenter, register_augmenter, shallow_copy

__all__ = ["VIRTUAL_TYPE", "BATAugmenter", "link_probabilities", "node_risk", "virtual_relations"]

log = logging.getLogger(__name__)

#: The node type holding one virtual node per class.
VIRTUAL_TYPE = "virtual_class"


def virtual_relations(target: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The two relations between ``target`` and :data:`VIRTUAL_TYPE`.

    Example:
        >>> virtual_relations("page")[1]
        ('virtual_class', 'bat_from_class', 'page')
    """
    return (target, "bat_to_class", VIRTUAL_TYPE), (VIRTUAL_TYPE, "bat_from_class", target)


def node_risk(proba: Tensor, y_pred: Tensor, class_weight: Tensor) -> Tensor:
    """BAT's risk ``r_i = max(0, u_i - mean u over ŷ_i's nodes) * class_weight[ŷ_i]``.

    Args:
        proba: ``[N, C]`` class probabilities.
        y_pred: ``[N]`` predicted classes (training nodes: their labels).
        class_weight: ``[C]`` training count of each class over the largest count.

    Returns:
        ``[N]`` risks ``>= 0``.

    Example:
        >>> p = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
        >>> node_risk(p, torch.tensor([0, 0, 1]), torch.tensor([1.0, 0.5]))
        tensor([0.0000, 0.2000, 0.0000])
    """
    uncertainty = 1 - proba.max(dim=1).values
    c = proba.size(1)
    sums = torch.zeros(c, dtype=uncertainty.dtype, device=proba.device).index_add_(
        0, y_pred, uncertainty
    )
    counts = torch.bincount(y_pred, minlength=c).clamp_min(1).to(uncertainty.dtype)
    mean = (sums / counts)[y_pred]
    return (uncertainty - mean).clamp_min(0) * class_weight.to(proba)[y_pred]


def link_probabilities(
    proba: Tensor, y_pred: Tensor, class_weight: Tensor, posterior: Tensor
) -> Tensor:
    """``[N, C]``: the probability of the edge ``node i — virtual node c``.

    ``r_i * q_ic``, with ``q`` the ``posterior`` whose entry at ``ŷ_i`` is zeroed and whose
    rows are renormalised (see the module docstring).

    Example:
        >>> p = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
        >>> link_probabilities(p, torch.tensor([0, 0, 1]), torch.tensor([1.0, 0.5]), p)
        tensor([[0.0000, 0.0000],
                [0.0000, 0.2000],
                [0.0000, 0.0000]])
    """
    q = posterior.clone().to(proba.dtype)
    q[torch.arange(q.size(0), device=q.device), y_pred] = 0
    q = q.clamp_min(0)
    q = (q / q.sum(dim=1, keepdim=True)).nan_to_num(0.0)
    return q * node_risk(proba, y_pred, class_weight)[:, None]


@register_augmenter(
    "bat",
    summary="BAT: link nodes at risk of misclassification to virtual class nodes, "
    "redrawn every epoch (full-batch only; refused by models whose graph input is fixed "
    "before training)",
)
class BATAugmenter(Augmenter):
    """Balanced topological augmentation (see the module docstring)."""

    params = {
        "mode": ParamSpec(
            "str", "bat1", "posterior of the link: bat0 = predicted probabilities, bat1 = "
            "predicted classes of the target-node neighbours", choices=("bat0", "bat1"),
        ),
        "warmup": ParamSpec(
            "int", 0, "epochs trained on the plain graph after the first one", low=0
        ),
    }
    supports_minibatch = False
    redraws_relations = True
    minibatch_reason = (
        "its virtual-class edges are redrawn from full-graph predictions before every "
        "step, while mini-batch neighbour sampling is set up once on the plain graph"
    )

    def _prepare(self, data: HeteroData) -> HeteroData:
        target = target_type(data)
        if VIRTUAL_TYPE in data.node_types:
            raise ValueError(
                f"{self.owner}: the graph already has a node type {VIRTUAL_TYPE!r}; "
                "rename it to use bat"
            )
        out = shallow_copy(data)
        c = num_classes(data)
        x = data[target].get("x")
        if x is not None:
            out[VIRTUAL_TYPE].x = torch.zeros(c, int(x.size(-1)))
        else:
            out[VIRTUAL_TYPE].num_nodes = c
        to_class, from_class = virtual_relations(target)
        empty = torch.empty((2, 0), dtype=torch.long)
        out[to_class].edge_index = empty
        out[from_class].edge_index = empty.clone()
        return out

    def _fit(self, data: HeteroData, train_idx: Tensor, y_train: Tensor) -> None:
        if VIRTUAL_TYPE not in data.node_types:
            raise ValueError(
                f"{self.owner}: the graph has no {VIRTUAL_TYPE!r} node type; call "
                "augmenter.prepare(data) before building the model"
            )
        self.target = target_type(data)
        self.n_classes = num_classes(data)
        self.n_nodes = int(data[self.target].num_nodes)
        counts = torch.bincount(y_train, minlength=self.n_classes).float()
        self.class_weight = counts / counts.max()
        self.train_idx, self.y_train = train_idx, y_train
        x = data[self.target].get("x")
        if x is not None and x.layout == torch.sparse_csr:
            x = x.to_sparse_coo()
        self.features = None if x is None else x.cpu()
        self.adjacency = None
        if self.params_["mode"] == "bat1":
            adj = target_adjacency(data).tocoo()
            index = torch.from_numpy(np.vstack([adj.row, adj.col])).long()
            self.adjacency = torch.sparse_coo_tensor(
                index, torch.ones(index.size(1)), (self.n_nodes, self.n_nodes),
                check_invariants=False,
            ).coalesce()
        self.proba: Tensor | None = None
        self.last_edges = 0

    def _on_epoch(self, proba: Tensor) -> None:
        self.proba = proba.cpu().float()

    def predicted(self, proba: Tensor) -> Tensor:
        """``argmax`` of ``proba`` with the training nodes set to their labels."""
        y_pred = proba.argmax(dim=1)
        y_pred[self.train_idx] = self.y_train
        return y_pred

    def posterior(self, proba: Tensor, y_pred: Tensor) -> Tensor:
        """``[N, C]``: ``proba`` (bat0) or the neighbours' predicted-class distribution (bat1)."""
        if self.adjacency is None:
            return proba
        one_hot = F.one_hot(y_pred, self.n_classes).float()
        counts = torch.sparse.mm(self.adjacency, one_hot)
        return (counts / counts.sum(dim=1, keepdim=True)).nan_to_num(0.0)

    def virtual_features(self, y_pred: Tensor) -> Tensor | None:
        """``[C, F]`` mean features of the target nodes predicted as each class."""
        if self.features is None:
            return None
        members = F.one_hot(y_pred, self.n_classes).float()
        members = members / members.sum(dim=0, keepdim=True).clamp_min(1)
        if self.features.is_sparse:
            return torch.sparse.mm(self.features.t().float(), members).t()
        return members.t() @ self.features.float()

    def links(self, proba: Tensor) -> Tensor:
        """``[N, C]`` probabilities of the edges ``target node — virtual class node``."""
        y_pred = self.predicted(proba)
        return link_probabilities(proba, y_pred, self.class_weight, self.posterior(proba, y_pred))

    def draw_edges(self, proba: Tensor) -> Tensor:
        """``[2, E]`` ``(target node, class)`` pairs, each drawn with its :meth:`links`
        probability (from the seeded generator, so a run is reproducible)."""
        links = self.links(proba)
        drawn = torch.rand(links.shape, generator=self.generator) < links
        return drawn.nonzero().t()

    def _augment(self, graph: HeteroData) -> HeteroData:
        if self.proba is None or self.epochs_done <= self.params_["warmup"]:
            return graph
        y_pred = self.predicted(self.proba)
        pairs = self.draw_edges(self.proba)
        self.last_edges = int(pairs.size(1))
        out = shallow_copy(graph)
        device = graph[self.target].get("y", torch.empty(0)).device
        to_class, from_class = virtual_relations(self.target)
        out[to_class].edge_index = pairs.to(device)
        out[from_class].edge_index = pairs.flip(0).to(device)
        features = self.virtual_features(y_pred)
        if features is not None:
            out[VIRTUAL_TYPE].x = features.to(device)
        return out
