"""Re-sampling methods that act on target-node embeddings, registered in ``SAMPLERS``.

Every sampler is an :class:`EmbeddingSampler`. The training loop calls ``fit`` once
on the full graph (after the encoder's ``preprocess``), then at every step::

    z_tr, y_tr = z[train_idx], y[train_idx]
    z2, y2, w = sampler.resample(z_tr, y_tr, index=train_idx, generator=gen)
    loss = loss_fn(model.classify(z2), y2, embeddings=z2, sample_weight=w)

``resample`` returns the rows to train on, their labels and optional per-row weights.
Returned rows are differentiable functions of the input rows (copies, subsets or
interpolations), so gradients reach the encoder through every row, synthetic or not.

Entries:

* ``"none"``: the rows as they are.
* ``"oversample-random"``: repeat rows of small classes (drawn with replacement) until
  each reaches ``target_ratio`` × the largest class count.
* ``"undersample"``: keep a random subset of each large class, down to
  ``target_ratio`` × the smallest class count; with ``reweight`` the kept rows are
  weighted so that the loss keeps the true class prior.
* ``"oversample-neighbors"``: GraphSMOTE-style synthesis in embedding space
  (Zhao, Zhang & Wang, "GraphSMOTE: Imbalanced Node Classification on Graphs with
  Graph Neural Networks", WSDM 2021): a synthetic row is a random point on the
  segment between a minority node and a same-class (meta-path) neighbour.

Per-class targets are computed on the rows given to ``resample`` (all training nodes
in full-batch training, the batch's seed nodes in mini-batch training), with
``target = floor(target_ratio * count)`` of the reference class.

Options are declared as :class:`~hetero_imb.params.ParamSpec` in each class's
``params`` and validated when ``fit`` starts.

Example:
    >>> sampler = SAMPLERS.get("oversample-random")(target_ratio=1.0)
    >>> sampler = sampler.fit(data, train_idx, y[train_idx], seed=0)      # doctest: +SKIP
    >>> z2, y2, w = sampler.resample(z[train_idx], y[train_idx], index=train_idx,
    ...                              generator=torch.Generator().manual_seed(0))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import metapath_edge_index, target_type
from ..params import ParamSpec, validate_params
from ..registry import Registry

log = logging.getLogger(__name__)

SAMPLERS: Registry[type[EmbeddingSampler]] = Registry("sampler")

# Largest number of distance entries computed at once by the nearest-neighbour search.
_CHUNK_ENTRIES = 1 << 22

_TARGET_RATIO_HELP = "each class below target_ratio x the largest class count is filled up to it"


@dataclass(frozen=True)
class SyntheticRows:
    """How the rows appended by the last :meth:`EmbeddingSampler.resample` call were made.

    Appended row ``i`` (output row ``n + i``, with ``n`` input rows) is
    ``z[anchors[i]] + lambdas[i] * (z[partners[i]] - z[anchors[i]])``.

    Attributes:
        anchors: Input-row positions of the anchors ``[k]`` (long, CPU).
        partners: Input-row positions of the partners ``[k]`` (equal to ``anchors``
            for plain copies).
        lambdas: Interpolation factors ``[k]`` in ``[0, 1)`` (0 for copies).
        graph_partner: ``[k]`` bool, whether the partner is a graph (meta-path)
            neighbour of the anchor rather than its nearest row in embedding space.
    """

    anchors: Tensor
    partners: Tensor
    lambdas: Tensor
    graph_partner: Tensor

    @classmethod
    def empty(cls) -> SyntheticRows:
        """No appended rows."""
        long = torch.empty(0, dtype=torch.long)
        return cls(long, long.clone(), torch.empty(0), torch.empty(0, dtype=torch.bool))

    def __len__(self) -> int:
        return int(self.anchors.numel())


class EmbeddingSampler:
    """Base class: re-sample training rows (embeddings + labels) at every step.

    Subclasses set ``name`` (the registry name), declare ``params`` and implement
    :meth:`_resample` (and :meth:`_fit` when they need the graph).

    Args:
        **params: Options declared in ``params``; stored as given and validated by
            :meth:`fit` (unknown names or bad values raise
            :class:`~hetero_imb.params.ParamError`, a ``ValueError``).

    Attributes (after ``fit``):
        params_: The validated options, defaults filled in.
        num_classes_: Number of classes.
        last_synthetic: :class:`SyntheticRows` describing the rows appended by the
            last ``resample`` call (empty when none were appended).
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, ParamSpec]] = {}

    def __init__(self, **params: Any):
        self._given = dict(params)
        self.last_synthetic = SyntheticRows.empty()

    @property
    def owner(self) -> str:
        """``"sampler '<name>'"``, for messages."""
        return f"sampler {self.name!r}"

    def get_params(self) -> dict[str, Any]:
        """The options, validated, with defaults filled in."""
        return validate_params(self._given, self.params, owner=self.owner)

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({given})"

    def fit(
        self, data: HeteroData, train_index: Tensor, y_train: Tensor, *, seed: int = 0
    ) -> EmbeddingSampler:
        """Validate the options and precompute what :meth:`resample` needs.

        Args:
            data: The full graph (after the encoder's ``preprocess``).
            train_index: Global ids of the labelled training target nodes ``[n]``.
            y_train: Their labels ``[n]`` (``>= 0``).
            seed: Seeds the generator used when ``resample`` gets none.

        Returns:
            ``self``.
        """
        self.params_ = self.get_params()
        train_index = torch.as_tensor(train_index).reshape(-1).long().cpu()
        y_train = torch.as_tensor(y_train).reshape(-1).long().cpu()
        if train_index.numel() != y_train.numel():
            raise ValueError(
                f"{self.owner}: train_index has {train_index.numel()} entries but y_train has "
                f"{y_train.numel()}"
            )
        if y_train.numel() == 0:
            raise ValueError(f"{self.owner}: there are no training nodes to re-sample")
        if bool((y_train < 0).any()):
            raise ValueError(
                f"{self.owner}: y_train holds {int((y_train < 0).sum())} unlabelled (-1) nodes; "
                "pass labelled training nodes only"
            )
        names = getattr(data, "class_names", None)
        self.num_classes_ = len(names) if names is not None else int(y_train.max()) + 1
        if int(y_train.max()) >= self.num_classes_:
            raise ValueError(
                f"{self.owner}: y_train holds class {int(y_train.max())} but the graph has "
                f"{self.num_classes_} classes"
            )
        self.train_index_ = train_index
        self.generator_ = torch.Generator().manual_seed(int(seed))
        self._fit(data, train_index, y_train)
        return self

    def _fit(self, data: HeteroData, train_index: Tensor, y_train: Tensor) -> None:
        """Hook for subclasses (default: nothing to precompute)."""

    def resample(
        self,
        z: Tensor,
        y: Tensor,
        *,
        index: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Re-sample the training rows of one step.

        Args:
            z: Embeddings of the training rows ``[n, d]``.
            y: Their labels ``[n]``.
            index: Global target-node ids of the rows ``[n]`` (``None``: the rows are
                the ``train_index`` given to :meth:`fit`, in that order).
            generator: A CPU ``torch.Generator`` for every random draw (``None``: the
                sampler's own, seeded by ``fit``).

        Returns:
            ``(embeddings [m, d], labels [m], sample weights [m] or None)``.
        """
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{self.owner} is not fitted; call fit(data, train_index, y_train) first")
        if not isinstance(z, Tensor) or z.dim() != 2:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"{self.owner}: z must be a 2-D tensor [rows, dim], got {shape}")
        n = z.size(0)
        if not isinstance(y, Tensor) or y.shape != (n,):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"{self.owner}: y must be a tensor [{n}] (one label per row of z), got {shape}")
        if index is None:
            if self.train_index_.numel() != n:
                raise ValueError(
                    f"{self.owner}: index is required when z has {n} rows but fit saw "
                    f"{self.train_index_.numel()} training nodes"
                )
            index = self.train_index_
        index = torch.as_tensor(index).reshape(-1).long().cpu()
        if index.numel() != n:
            raise ValueError(f"{self.owner}: index has {index.numel()} entries but z has {n} rows")
        y_cpu = y.detach().long().cpu()
        if n and (int(y_cpu.min()) < 0 or int(y_cpu.max()) >= self.num_classes_):
            raise ValueError(
                f"{self.owner}: labels must lie in [0, {self.num_classes_ - 1}], got "
                f"[{int(y_cpu.min())}, {int(y_cpu.max())}]"
            )
        self.last_synthetic = SyntheticRows.empty()
        return self._resample(z, y, y_cpu, index, generator or self.generator_)

    def _resample(
        self, z: Tensor, y: Tensor, y_cpu: Tensor, index: Tensor, gen: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    # helpers -----------------------------------------------------------------------

    def _counts(self, y_cpu: Tensor) -> Tensor:
        return torch.bincount(y_cpu, minlength=self.num_classes_)

    def _oversample_targets(self, counts: Tensor, cap: int | None = None) -> dict[int, int]:
        """``{class: rows to add}`` for every present class below the target count."""
        target = math.floor(self.params_["target_ratio"] * int(counts.max()))
        need = {}
        for c, n_c in enumerate(counts.tolist()):
            extra = target - n_c if 0 < n_c < target else 0
            if cap is not None:
                extra = min(extra, cap)
            if extra > 0:
                need[c] = extra
        return need


def _register(name: str):
    def decorator(cls: type[EmbeddingSampler]) -> type[EmbeddingSampler]:
        cls.name = name
        return SAMPLERS.register(name)(cls)

    return decorator


@_register("none")
class IdentitySampler(EmbeddingSampler):
    """No re-sampling: the training rows as they are."""

    params: ClassVar[dict[str, ParamSpec]] = {}

    def _resample(self, z, y, y_cpu, index, gen):
        return z, y, None


def _draw(rows: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """``k`` entries of ``rows`` drawn uniformly with replacement."""
    return rows[torch.randint(rows.numel(), (k,), generator=gen)]


@_register("oversample-random")
class RandomOverSampler(EmbeddingSampler):
    """Repeat rows of small classes (drawn with replacement) up to target_ratio x the largest.

    Every class ``c`` with ``0 < n_c < floor(target_ratio * max_c n_c)`` gets that many
    rows in total: its original rows plus copies of rows drawn uniformly with
    replacement. Copies are appended after the original rows.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "target_ratio": ParamSpec("float", 1.0, _TARGET_RATIO_HELP, low=0.0, low_open=True),
    }

    def _resample(self, z, y, y_cpu, index, gen):
        need = self._oversample_targets(self._counts(y_cpu))
        if not need:
            return z, y, None
        sources = torch.cat(
            [_draw(torch.nonzero(y_cpu == c).flatten(), k, gen) for c, k in need.items()]
        )
        self.last_synthetic = SyntheticRows(
            sources, sources.clone(), torch.zeros(sources.numel()), torch.zeros_like(sources, dtype=torch.bool)
        )
        rows = sources.to(z.device)
        return torch.cat([z, z[rows]]), torch.cat([y, y[rows]]), None


@_register("undersample")
class RandomUnderSampler(EmbeddingSampler):
    """Drop rows of large classes at random down to target_ratio x the smallest class count.

    Each step keeps, per class, ``min(n_c, max(1, floor(target_ratio * min_c n_c)))``
    rows drawn without replacement (the minimum is over classes present among the
    rows); a fresh subset is drawn at every call.

    With ``reweight=True`` (default) every kept row of class ``c`` gets the weight
    ``n_c / kept_c``, so the weighted loss ``sum(w * l) / sum(w)`` is an unbiased
    estimate of the loss on all rows, computed from fewer rows: the model still
    learns the true class prior and its predicted probabilities keep it (each step
    sees every class in balanced numbers, but the decision rule is not shifted).
    With ``reweight=False`` the weights are
    ``None`` and the model learns the balanced prior of the kept rows (the classic
    random under-sampling, which shifts predictions towards the small classes).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "target_ratio": ParamSpec(
            "float", 1.0, "large classes keep target_ratio x the smallest class count",
            low=0.0, low_open=True,
        ),
        "reweight": ParamSpec(
            "bool", True, "weight kept rows by n_c / kept_c to keep the true class prior"
        ),
    }

    #: Input-row positions kept by the last ``resample`` call (sorted).
    last_kept: Tensor

    def _resample(self, z, y, y_cpu, index, gen):
        counts = self._counts(y_cpu)
        present = counts[counts > 0]
        if present.numel() == 0:
            self.last_kept = torch.arange(0)
            return z, y, None
        keep_per_class = max(1, math.floor(self.params_["target_ratio"] * int(present.min())))
        kept_parts = []
        kept_counts = torch.zeros_like(counts)
        for c, n_c in enumerate(counts.tolist()):
            if n_c == 0:
                continue
            rows = torch.nonzero(y_cpu == c).flatten()
            if n_c > keep_per_class:
                rows = rows[torch.randperm(n_c, generator=gen)[:keep_per_class]]
            kept_parts.append(rows)
            kept_counts[c] = rows.numel()
        kept = torch.sort(torch.cat(kept_parts)).values
        self.last_kept = kept
        rows = kept.to(z.device)
        weight = None
        if self.params_["reweight"]:
            per_class = counts.double() / kept_counts.clamp_min(1).double()
            weight = per_class[y_cpu[kept]].to(device=z.device, dtype=z.dtype)
        return z[rows], y[rows], weight


@_register("oversample-neighbors")
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
        "target_ratio": ParamSpec("float", 1.0, _TARGET_RATIO_HELP, low=0.0, low_open=True),
        "neighbor_source": ParamSpec(
            "str", "metapath", "where partners come from: graph meta-path neighbours, "
            "else the nearest same-class embedding", choices=("metapath", "embedding"),
        ),
        "max_synthetic_per_class": ParamSpec(
            "int", None, "cap on synthetic rows per class and step (none: no cap)", low=0,
        ),
    }

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
        anchors = torch.cat(
            [_draw(torch.nonzero(y_cpu == c).flatten(), k, gen) for c, k in need.items()]
        )
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


__all__ = [
    "SAMPLERS",
    "EmbeddingSampler",
    "IdentitySampler",
    "NeighborOverSampler",
    "RandomOverSampler",
    "RandomUnderSampler",
    "SyntheticRows",
]
