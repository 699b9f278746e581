"""``tam``: topology-aware margins (Song, Park and Yang, ICML 2022).

"TAM: Topology-Aware Margin Loss for Class-Imbalanced Node Classification". Each
training node's logits are shifted according to how far its neighbour label
distribution (NLD) deviates from the average NLD of its class, then a base loss
(``ce``, ``weighted``, ``balanced-softmax``, ``focal`` or ``ldam``) is applied.

After every epoch (``on_epoch`` hook) with the model's current probabilities:

1. class-wise temperature: ``r_c = n_c / n``, ``r'_c = gamma r_c + 1 - gamma``
   (``gamma = 0.4``), ``t_c = phi (r'_c + 1 - max r')``; soft labels
   ``q_v = softmax(t * log p_v)`` for unlabelled nodes, one-hot labels for training nodes;
2. NLD ``p_v`` = mean of ``q`` over ``v`` and its neighbours; class NLD
   ``pbar_c`` = mean ``p_v`` over training nodes of class ``c`` (both clamped at 1e-6);
3. ACM (anomalous connectivity margin), for training node ``v`` of class ``y``:
   ``acm_vc = min(1, (p_vy / pbar_yy) * (pbar_yc / p_vc))``, 1 at ``c = y``;
4. ADM (anomalous distribution margin), with ``J`` the Jensen-Shannon divergence:
   ``adm_vc = (J(p_v, pbar_y)^2 + J(pbar_y, pbar_c)^2 - J(p_v, pbar_c)^2) / (2 J(pbar_y, pbar_c)^2)``,
   0 at ``c = y``;
5. training logits: ``z_vc + alpha * log(acm_vc) - beta * adm_vc``.

Margins apply once ``warmup`` epochs have passed. The reference implementation computes
them from the logits of the current training step; here they come from the
evaluation-mode predictions at the end of the previous epoch (the loop computes those
anyway), and the temperature acts on log-probabilities (logits up to a per-node shift).

Heterographs: the neighbours of a target node are the target nodes reached through
the graph's meta-paths and target-to-target relations, merged into one graph (see
:mod:`~hetero_imb.balancing.topology` for why). Works full-batch and mini-batch (the
margins are looked up by node id).

Example:
    >>> from hetero_imb.data.datasets.synthetic import make_synthetic
    >>> data = make_synthetic(seed=0)
    >>> idx = torch.arange(0, 300, 3); y = data["item"].y[idx]
    >>> loss = TAMLoss(class_counts=torch.bincount(y, minlength=4), warmup=0)
    >>> loss = loss.fit(data, idx, y)
    >>> loss.on_epoch(1, torch.full((300, 4), 0.25))
    >>> loss.margin.shape
    torch.Size([300, 4])
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from ..params import ParamSpec
from .graph_loss import GraphAwareLoss, base_param
from .losses import register_loss
from .topology import mean_aggregate, target_adjacency

__all__ = ["TAMLoss", "jsd", "tam_margins"]

_EPS = 1e-6


def jsd(p: Tensor, q: Tensor) -> Tensor:
    """Jensen-Shannon divergence of distributions along the last dimension.

    Example:
        >>> round(float(jsd(torch.tensor([1.0, 1e-12]), torch.tensor([1e-12, 1.0]))), 4)
        0.6931
    """
    m = (p + q) / 2
    return 0.5 * ((p * (p / m).log()).sum(-1) + (q * (q / m).log()).sum(-1))


def tam_margins(nld: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
    """ACM and ADM ``[L, C]`` of labelled nodes from their NLDs (steps 2-4 of the module).

    Args:
        nld: Neighbour label distributions of the training nodes ``[L, C]``.
        y: Their labels ``[L]``.
        num_classes: ``C``.

    Returns:
        ``(acm, adm)``, each ``[L, C]``.
    """
    nld = nld.double()
    onehot = torch.nn.functional.one_hot(y, num_classes).double()
    counts = onehot.sum(0).clamp_min(1)
    pbar = (onehot.t() @ nld) / counts[:, None]  # class NLD [C, C]
    nld, pbar = nld.clamp_min(_EPS), pbar.clamp_min(_EPS)
    center = onehot.bool()
    own = nld[center] / pbar.diagonal()[y]  # p_vy / pbar_yy
    acm = (own[:, None] * pbar[y] / nld).clamp_max(1.0)
    acm[center] = 1.0
    pair = jsd(pbar[None, :, :], pbar[:, None, :]).clamp_min(_EPS)  # [C, C]
    self_d = jsd(nld, pbar[y])[:, None]  # [L, 1]
    to_class = jsd(nld[:, None, :], pbar[None, :, :])  # [L, C]
    adm = (self_d**2 + pair[y] ** 2 - to_class**2) / (2 * pair[y] ** 2)
    adm[center] = 0.0
    return acm, adm


def class_temperature(class_counts: list[int], phi: float, gamma: float = 0.4) -> Tensor:
    """TAM's class-wise temperature ``t_c = phi (r'_c + 1 - max r')`` (step 1)."""
    n = torch.tensor(class_counts, dtype=torch.float64)
    ratio = gamma * n / n.sum() + (1 - gamma)
    return phi * (ratio + 1 - ratio.max())


@register_loss("tam")
class TAMLoss(GraphAwareLoss):
    """TAM margins (ICML 2022) over a base loss; neighbours: target nodes via meta-paths; full/mini-batch.

    Params:
        base ("ce"): the loss applied to the adjusted logits (ce, weighted,
            balanced-softmax, focal, ldam; the paper pairs TAM with bs and ldam).
        alpha (2.5): strength of ACM.
        beta (0.5): strength of ADM.
        phi (1.2): class-wise temperature scale.
        warmup (5): epochs before the margins apply.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "base": base_param("ce"),
        "alpha": ParamSpec("float", 2.5, "strength of the connectivity margin (ACM)", low=0.0),
        "beta": ParamSpec("float", 0.5, "strength of the distribution margin (ADM)", low=0.0),
        "phi": ParamSpec("float", 1.2, "class-wise temperature scale", low=0.0, low_open=True),
        "warmup": ParamSpec("int", 5, "epochs before the margins apply", low=0),
    }

    @classmethod
    def unused_schedule(cls, hparams: dict[str, Any], kept_epoch: int) -> str:
        """Margins are first computed after ``warmup`` epochs and used from the next one.

        Example:
            >>> TAMLoss.unused_schedule({"warmup": 5}, 5)[:44]
            "loss 'tam': the kept weights are from epoch "
            >>> TAMLoss.unused_schedule({"warmup": 5}, 6)
            ''
        """
        if kept_epoch > hparams.get("warmup", 0):
            return ""
        return (f"{cls._owner()}: the kept weights are from epoch {kept_epoch}, within its "
                f"warmup of {hparams.get('warmup')} epochs, so its margins never applied to "
                "them; lower warmup or raise epochs/patience")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.register_buffer("margin", torch.zeros(0, self.num_classes), persistent=False)
        self._adj: Any = None

    def _fit(self, data, train_idx, y_train):
        self._adj = target_adjacency(data)
        self._train_idx, self._y_train = train_idx, y_train
        self.margin = torch.zeros(self._adj.shape[0], self.num_classes,
                                  device=self.margin.device)

    def _on_epoch(self, proba: Tensor) -> None:
        if self.epochs_done < self.hparams["warmup"]:
            return
        temp = class_temperature(self.class_counts, self.hparams["phi"])
        q = torch.softmax(proba.cpu().double().clamp_min(1e-12).log() * temp, dim=1)
        q[self._train_idx] = torch.nn.functional.one_hot(self._y_train, self.num_classes).double()
        nld = mean_aggregate(self._adj, q)[self._train_idx]
        acm, adm = tam_margins(nld, self._y_train, self.num_classes)
        margin = torch.zeros(self._adj.shape[0], self.num_classes, dtype=torch.float64)
        margin[self._train_idx] = self.hparams["alpha"] * acm.log() - self.hparams["beta"] * adm
        self.margin = margin.to(self.margin.device, torch.float32)

    def _adjust(self, logits, target, index, sample_weight):
        table = self.margin.to(logits.device, logits.dtype)
        shift = torch.where((index >= 0)[:, None], table[index.clamp_min(0)],
                            torch.zeros_like(logits))
        return logits + shift, sample_weight
