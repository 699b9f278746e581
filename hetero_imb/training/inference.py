"""Inference on sampled subgraphs: predictions in batches, never on the full graph.

In mini-batch mode the training loop evaluates (every ``eval_every`` epochs) and
predicts (once, at the end) with :func:`predict_in_batches`: the evaluated nodes are
cut into batches of seed nodes, each batch's sampled neighbourhood (the sampler of
:mod:`hetero_imb.training.sampling`, seeded, so every evaluation sees the same
neighbourhoods) goes through the model, and only the seed rows are kept. With full
fan-out (``-1`` per hop) a node's sampled neighbourhood is its whole receptive field,
so batched inference equals a full-graph forward up to float rounding (tested).

:class:`BatchProgress` logs one line every ``every_seconds`` (through ``logging``,
so a run whose output is redirected still shows where a long epoch is);
:func:`to_device` moves a (sub)graph's tensors without walking its non-tensor
attributes (a list of a million node ids took PyG's ``HeteroData.to`` ~0.9 s per
batch).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..report.metrics import macro_f1
from ..report.multilabel_metrics import multilabel_macro_f1
from .callbacks import format_seconds
from .sampling import HeteroNeighborSampler

log = logging.getLogger(__name__)

#: Default seconds between two progress lines of :class:`BatchProgress`.
PROGRESS_SECONDS = 30.0

__all__ = ["BatchProgress", "Evaluator", "predict_in_batches", "to_device"]


def to_device(data: HeteroData, device: torch.device | str) -> HeteroData:
    """A shallow copy of ``data`` with every tensor attribute on ``device``.

    Unlike ``HeteroData.to``, attributes that are not tensors (``node_ids`` lists,
    class names, meta-paths) are shared as they are, not walked element by element;
    tensors already on ``device`` are not copied.

    Args:
        data: A graph or sampled subgraph.
        device: Target device.

    Returns:
        The copy (``data`` itself is unchanged).

    Example:
        >>> data = HeteroData()
        >>> data["paper"].x = torch.ones(2, 3)
        >>> data.node_ids = {"paper": ["a", "b"]}
        >>> out = to_device(data, "cpu")
        >>> out["paper"].x.device.type, out.node_ids is data.node_ids
        ('cpu', True)
    """
    device = torch.device(device)
    out = copy.copy(data)
    for store in out.stores:
        for key, value in list(store.items()):
            if isinstance(value, Tensor) and value.device != device:
                store[key] = value.to(device)
    return out


class BatchProgress:
    """Logs ``"LABEL: batch i/n, elapsed, eta"`` at most every ``every_seconds``.

    Args:
        label: What runs (first words of each line).
        total: Number of batches.
        every_seconds: Minimum time between two lines (``None``:
            :data:`PROGRESS_SECONDS`); a pass shorter than this logs nothing.
        clock: Time source (tests pass a fake one).

    Example:
        >>> ticks = iter([0.0, 10.0, 40.0, 45.0])
        >>> progress = BatchProgress("epoch 1", 4, every_seconds=30, clock=lambda: next(ticks))
        >>> [progress.step(i) for i in (1, 2, 3)]  # logs once, at 40 s (batch 2 of 4)
        [False, True, False]
    """

    def __init__(self, label: str, total: int, every_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self.clock = label, int(total), clock
        self.every_seconds = PROGRESS_SECONDS if every_seconds is None else every_seconds
        self.start = self.last = clock()

    def step(self, done: int) -> bool:
        """``done`` batches are finished; log a line when one is due (returns whether)."""
        now = self.clock()
        if now - self.last < self.every_seconds:
            return False
        self.last = now
        elapsed = now - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        log.info("%s: batch %d/%d, elapsed %s, eta %s", self.label, done, self.total,
                 format_seconds(elapsed), format_seconds(eta))
        return True


@torch.no_grad()
def predict_in_batches(
    model: nn.Module,
    sampler: HeteroNeighborSampler,
    nodes: Tensor,
    *,
    batch_size: int,
    device: torch.device | str = "cpu",
    seed: int = 0,
    label: str = "predict",
) -> Tensor:
    """Logits of the target ``nodes``, batch by batch over their sampled neighbourhoods.

    Args:
        model: A :class:`~hetero_imb.models.base.NodeClassifier` (``embed``, then
            ``classify``); switched to eval mode.
        sampler: Samples each batch's subgraph (its ``num_neighbors``: ``-1`` per hop
            gives exact full-graph results).
        nodes: Global ids of the target nodes to predict ``[n]``.
        batch_size: Seed nodes per batch.
        device: Where the model runs.
        seed: Seeds the neighbour draws (the same seed samples the same neighbourhoods).
        label: First words of the progress lines.

    Returns:
        Logits ``[n, C]`` on ``device``, row ``i`` for ``nodes[i]``.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> from hetero_imb.models import build_model
        >>> data = make_synthetic(num_items=50, num_users=10, num_tags=5)
        >>> model = build_model("rgcn", data)
        >>> sampler = HeteroNeighborSampler(data, [-1, -1])
        >>> batched = predict_in_batches(model, sampler, torch.arange(50), batch_size=16)
        >>> torch.allclose(batched, model(data), atol=1e-5)
        True
    """
    model.eval()
    nodes = torch.as_tensor(nodes).reshape(-1).long()
    gen = torch.Generator().manual_seed(int(seed))
    target = sampler.target
    starts = range(0, nodes.numel(), int(batch_size))
    progress = BatchProgress(label, len(starts))
    out = []
    for done, start in enumerate(starts, start=1):
        batch = to_device(sampler.sample(nodes[start : start + batch_size], gen), device)
        size = batch[target].batch_size
        out.append(model.classify(model.embed(batch)[:size]))
        progress.step(done)
    if not out:
        return torch.empty(0, model.head.out_features, device=device)
    return torch.cat(out)


class Evaluator:
    """The training loop's predictions and validation macro-F1.

    Full-batch mode (the default): one forward on the full graph. After
    :meth:`use_minibatches`: batches of sampled subgraphs over the evaluated nodes
    only (:func:`predict_in_batches`), never the full graph.

    Args:
        model: The :class:`~hetero_imb.models.base.NodeClassifier` being trained.
        full_graph: Returns the full graph on ``device`` (called only in full-batch mode).
        y: Labels of every target node, on ``device``.
        val_idx: Validation node ids.
        num_classes: Number of classes.
        device: Where the model runs.
        seed: Seeds the neighbour draws of batched inference (same every evaluation).
        hooks_need_proba: Whether every target node's probabilities are needed after
            every epoch (a loss or augmenter ``on_epoch`` hook).
    """

    def __init__(self, model: nn.Module, full_graph: Callable[[], HeteroData], y: Tensor,
                 val_idx: Tensor, num_classes: int, device: torch.device, *, seed: int = 0,
                 hooks_need_proba: bool = False) -> None:
        self.model, self.full_graph, self.y = model, full_graph, y
        self.val_idx, self.num_classes, self.device = val_idx.to(device), num_classes, device
        self.seed, self.hooks_need_proba = seed, hooks_need_proba
        self.multilabel = y.dim() == 2  # multi-hot [N, C]: one sigmoid per label
        self.sampler: HeteroNeighborSampler | None = None
        self.batch_size = 0

    def use_minibatches(self, sampler: HeteroNeighborSampler, batch_size: int) -> None:
        """Predict in batches of ``batch_size`` seed nodes over ``sampler``'s subgraphs."""
        self.sampler, self.batch_size = sampler, int(batch_size)

    def _proba(self, logits: Tensor) -> Tensor:
        return logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)

    @torch.no_grad()
    def predict(self, nodes: Tensor | None = None, label: str = "predict") -> Tensor:
        """Class probabilities ``[n, C]`` of the target ``nodes`` (``None``: all ``N``);
        per-label sigmoids on a multi-label graph."""
        self.model.eval()
        if self.sampler is None:
            logits = self.model(self.full_graph())
            return self._proba(logits if nodes is None else logits[nodes.to(self.device)])
        if nodes is None:
            nodes = torch.arange(self.sampler.num_nodes[self.sampler.target])
        logits = predict_in_batches(self.model, self.sampler, nodes, batch_size=self.batch_size,
                                    device=self.device, seed=self.seed, label=label)
        return self._proba(logits)

    def evaluate(self, epoch: int, due: bool) -> tuple[Tensor | None, float]:
        """Every target node's probabilities for the epoch hooks (``None`` when none
        needs them) and the validation macro-F1 (NaN when no evaluation is ``due``)."""
        label = f"evaluate epoch {epoch}"
        if self.hooks_need_proba:
            proba = self.predict(label=label)
            return proba, self.val_macro_f1(proba[self.val_idx]) if due else float("nan")
        if not due:
            return None, float("nan")
        return None, self.val_macro_f1(self.predict(self.val_idx, label=label))

    def val_macro_f1(self, val_proba: Tensor) -> float:
        """Macro-F1 of the validation nodes' probabilities ``[n_val, C]`` (multi-label: at
        threshold 0.5)."""
        if self.multilabel:
            return float(multilabel_macro_f1(self.y[self.val_idx], val_proba))
        pred = val_proba.argmax(-1)
        return float(macro_f1(self.y[self.val_idx], pred, self.num_classes))
