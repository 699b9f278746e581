"""``renode``: topology-imbalance re-weighting from personalised-PageRank influence conflict.

Chen et al., "Topology-Imbalance Learning for Semi-Supervised Node Classification"
(NeurIPS 2021). With ``Pi = alpha (I - (1 - alpha) Â)^-1`` the personalised-PageRank
matrix of the target-node graph (``Â`` the normalised adjacency with self-loops,
``alpha`` the restart probability), the influence of class ``j`` on node ``x`` is
``P_j(x) = mean_{i in L_j} Pi[i, x]`` (``L_j``: training nodes of class ``j``). The
conflict ("Totoro") of a training node ``v`` of class ``y`` is the expectation, over
the nodes ``x`` its own influence reaches, of how much the other classes outweigh its
own there::

    T_v = sum_x Pi[v, x] * ( mean_{j != y} P_j(x) - P_y(x) )

The training nodes are ranked by ``T_v`` (ascending, ties by node id), and node of rank
``r`` (of ``|L|``) gets the weight ``w_min + (w_max - w_min) / 2 * (1 + cos(pi r / (|L|-1)))``:
nodes near their class's topological centre (low conflict) weigh up to ``w_max``, nodes
near a class boundary down to ``w_min``. The weights multiply the per-node loss of the
``base`` loss (``weighted`` adds the quantity re-weighting the paper pairs it with).

Heterographs: ``Pi`` is that of the target-node graph merged from the meta-paths (see
:mod:`~hetero_imb.balancing.topology`). ``Pi`` is never formed; the two products
``Pi @ S`` and ``Pi @ (Pi @ S)`` (``S`` the ``[N, C]`` class-mean indicators) are
solved by power iteration, so the cost is ``O(iterations * edges * C)``, once.
Works full-batch and mini-batch (the weights are looked up by node id).

Example:
    >>> from hetero_imb.data.datasets.synthetic import make_synthetic
    >>> data = make_synthetic(seed=0)
    >>> idx = torch.arange(0, 300, 3); y = data["item"].y[idx]
    >>> loss = ReNodeLoss(class_counts=torch.bincount(y, minlength=4)).fit(data, idx, y)
    >>> w = loss.node_weight[idx]
    >>> round(float(w.min()), 2), round(float(w.max()), 2)
    (0.5, 1.5)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from ..params import ParamSpec
from .graph_loss import GraphAwareLoss, base_param
from .losses import register_loss
from .topology import ppr_propagate, target_adjacency

__all__ = ["ReNodeLoss", "renode_conflict", "renode_weights"]


def renode_conflict(
    adj: Any, train_idx: Tensor, y_train: Tensor, num_classes: int, alpha: float = 0.15
) -> Tensor:
    """The influence conflict ``T_v`` of every training node (see the module docstring).

    Args:
        adj: ``[N, N]`` scipy adjacency between target nodes (no self-loops).
        train_idx: Global ids of the training nodes ``[L]``.
        y_train: Their labels ``[L]``.
        num_classes: ``C``.
        alpha: PPR restart probability.

    Returns:
        ``[L]`` float64 conflicts, in the order of ``train_idx``.
    """
    n = adj.shape[0]
    idx, y = train_idx.numpy(), y_train.numpy()
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    s = np.zeros((n, num_classes))
    s[idx, y] = 1.0 / counts[y]
    influence = ppr_propagate(adj, s, alpha=alpha)  # P_j(x) = (Pi S)[x, j]   (Pi symmetric)
    reach = ppr_propagate(adj, influence, alpha=alpha)[idx]  # (Pi Pi S)[v, j]
    present = counts > 0
    own = reach[np.arange(len(idx)), y]
    others = (reach * present).sum(1) - own
    k_other = max(int(present.sum()) - 1, 1)
    return torch.from_numpy(others / k_other - own)


def renode_weights(conflict: Tensor, w_min: float = 0.5, w_max: float = 1.5) -> Tensor:
    """Cosine-annealed weights from the conflict ranks (rank 0: least conflict → ``w_max``).

    Example:
        >>> renode_weights(torch.tensor([0.3, -1.0, 2.0]))
        tensor([1.0000, 1.5000, 0.5000], dtype=torch.float64)
    """
    order = np.lexsort((np.arange(conflict.numel()), conflict.numpy()))
    rank = np.empty(len(order), dtype=np.float64)
    rank[order] = np.arange(len(order))
    span = max(len(order) - 1, 1)
    w = w_min + 0.5 * (w_max - w_min) * (1 + np.cos(math.pi * rank / span))
    return torch.from_numpy(w)


@register_loss("renode")
class ReNodeLoss(GraphAwareLoss):
    """ReNode (NeurIPS 2021) weights from PPR conflict on the meta-path target graph; full/mini-batch.

    Params:
        base ("ce"): the loss whose per-node terms are weighted (ce, weighted,
            balanced-softmax, focal, ldam).
        alpha (0.15): PPR restart probability (the paper's 1 - 0.85).
        w_min (0.5): weight of the most conflicted training node.
        w_max (1.5): weight of the least conflicted training node.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "base": base_param("ce"),
        "alpha": ParamSpec("float", 0.15, "PPR restart probability", low=0.0, high=1.0,
                           low_open=True),
        "w_min": ParamSpec("float", 0.5, "weight of the most conflicted node", low=0.0),
        "w_max": ParamSpec("float", 1.5, "weight of the least conflicted node", low=0.0),
    }

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self.hparams["w_max"] < self.hparams["w_min"]:
            raise ValueError(
                f"{self._owner()}: w_max must be >= w_min, got w_max={self.hparams['w_max']} "
                f"and w_min={self.hparams['w_min']}"
            )
        self.register_buffer("node_weight", torch.ones(0), persistent=False)

    def _fit(self, data, train_idx, y_train):
        adj = target_adjacency(data)
        conflict = renode_conflict(adj, train_idx, y_train, self.num_classes, self.hparams["alpha"])
        weight = torch.ones(adj.shape[0])
        weight[train_idx] = renode_weights(
            conflict, self.hparams["w_min"], self.hparams["w_max"]
        ).float()
        self.node_weight = weight.to(self.node_weight.device)

    def _adjust(self, logits, target, index, sample_weight):
        table = self.node_weight.to(logits.device, logits.dtype)
        w = torch.where(index >= 0, table[index.clamp_min(0)], torch.ones_like(logits[:, 0]))
        return logits, w if sample_weight is None else w * sample_weight
