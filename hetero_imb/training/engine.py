"""ONE training loop for every neural model, loss and sampler.

Full-batch by default; mini-batch on sampled subgraphs by setting ``batch_size``.
Adam, early stopping on validation macro-F1 with patience, best weights restored,
a live progress bar, device auto-selection, and determinism under a seed.
"""

from __future__ import annotations

import copy
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from tqdm.auto import tqdm

from ..data.graph import num_classes, split_mask, target_type
from ..data.validate import validate_graph
from ..models.base import NodeClassifier
from ..report.metrics import macro_f1
from .diagnostics import chance_floor

log = logging.getLogger(__name__)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise validate ``device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here")
    return resolved


def progress_enabled(progress: bool | None) -> bool:
    """``None`` means: show progress bars only when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Adam parameter groups: weight decay on every parameter except embedding tables.

    Learnable node embeddings (featureless node types) are free per-node vectors, not
    weights shared across nodes; decaying them every step pulls the embeddings of
    the many unlabelled nodes to zero (on Freebase it kept R-GCN at chance level).
    """
    embedding_ids = {
        id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()
    }
    decay = [p for p in model.parameters() if id(p) not in embedding_ids]
    no_decay = [p for p in model.parameters() if id(p) in embedding_ids]
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: The model with the best validation weights restored (on CPU).
        data: The graph after the encoder's ``preprocess`` (on CPU).
        proba: Class probabilities of every target node ``[N, C]`` from the best model.
        history: One dict per epoch (epoch, loss, val_macro_f1, seconds).
        best_epoch: Epoch (1-based) whose weights were kept.
        fit_seconds: Wall time of the training epochs (excluding ``preprocess``).
        preprocess_seconds: Wall time of the encoder's ``preprocess``.
    """

    model: NodeClassifier
    data: HeteroData
    proba: Tensor
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    fit_seconds: float = 0.0
    preprocess_seconds: float = 0.0

    @property
    def epochs(self) -> int:
        """Number of epochs actually run."""
        return len(self.history)


class EarlyStopping:
    """Keeps the best validation score, its epoch and a copy of its weights.

    Args:
        patience: Epochs without improvement before :attr:`should_stop` turns true
            (``None`` or 0: never).
        floor: Patience is not counted while the best score is at or below ``floor``
            (the band of chance-level scores, see
            :func:`~hetero_imb.training.diagnostics.chance_floor`): an untrained
            model's validation score is noise, and an early lucky peak of it must not
            start the countdown (docs/benchmarks_hin.md, "stalls"). Best weights are
            kept as usual.

    Example:
        >>> stopper = EarlyStopping(patience=2)
        >>> model = nn.Linear(2, 2)
        >>> [stopper.update(score, epoch, model) for epoch, score in enumerate([0.5, 0.4, 0.3], 1)]
        [True, False, False]
        >>> stopper.best_epoch, stopper.should_stop
        (1, True)
    """

    def __init__(self, patience: int | None, floor: float = float("-inf")):
        self.patience = patience
        self.floor = floor
        self.best_score = -1.0
        self.best_epoch = 0
        self.best_state: dict[str, Tensor] | None = None
        self.since_best = 0

    def update(self, score: float, epoch: int, model: nn.Module) -> bool:
        """Record ``score`` of ``epoch``; return whether it is the best so far."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.since_best = score, epoch, 0
            self._keep(model.state_dict())
            return True
        if self.best_score > self.floor:
            self.since_best += 1
        return False

    def _keep(self, state: dict[str, Tensor]) -> None:
        """Copy ``state`` into the kept buffers (allocated once; a deepcopy of the state
        dict on every improving epoch cost ~3 ms on Freebase R-GCN, copy_ ~1.3 ms)."""
        best = self.best_state
        if best is None or best.keys() != state.keys() or any(
                best[k].shape != v.shape or best[k].dtype != v.dtype for k, v in state.items()):
            self.best_state = {k: v.detach().clone() for k, v in state.items()}
            return
        with torch.no_grad():
            for key, value in state.items():
                best[key].copy_(value)

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs have passed without improvement."""
        return bool(self.patience) and self.since_best >= self.patience


def _check_fit_args(epochs: Any, patience: Any, batch_size: Any) -> None:
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if patience is not None and (not isinstance(patience, int) or patience < 0):
        raise ValueError(f"patience must be a non-negative integer or None, got {patience!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")


class _Trainer:
    """The state of one :func:`fit` call: model, optimiser, data on the device, batches."""

    def __init__(self, model: NodeClassifier, data: HeteroData, loss: nn.Module,
                 sampler: Any | None, *, lr: float, weight_decay: float,
                 dev: torch.device, seed: int, augmenter: Any | None = None) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.target = target_type(data)
        self.n_classes = num_classes(data)
        y = data[self.target].y
        self.train_idx = torch.nonzero(split_mask(data, "train") & (y >= 0)).flatten()
        self.val_idx = torch.nonzero(split_mask(data, "val") & (y >= 0)).flatten()
        if self.train_idx.numel() == 0:
            raise ValueError("the train mask selects no labelled target node")
        self.sampler = sampler
        if sampler is not None:
            sampler.fit(data, self.train_idx, y[self.train_idx], seed=seed)
        if callable(getattr(loss, "fit", None)):  # graph-aware losses read the graph once
            loss.fit(data, self.train_idx, y[self.train_idx])
        self.augmenter = augmenter
        if augmenter is not None:
            augmenter.fit(data, self.train_idx, y[self.train_idx], seed=seed)
        self.dev = dev
        self.model = model.to(dev)
        self.loss = loss.to(dev)
        # a shallow copy moved to the device: the caller's graph stays where it was
        self.graph = copy.copy(data).to(dev)
        self.y = y.to(dev)
        self.optimiser = torch.optim.Adam(parameter_groups(model, weight_decay), lr=lr)
        self.loader: Any = None

    def use_minibatches(self, data: HeteroData, batch_size: int, num_neighbors: Sequence[int],
                        balanced: bool, seed: int) -> None:
        """Train on sampled subgraphs of ``batch_size`` seed nodes from now on."""
        if not self.model.encoder.supports_minibatch:
            raise ValueError(
                f"encoder {type(self.model.encoder).__name__} does not support mini-batch "
                "training; leave batch_size unset"
            )
        if self.augmenter is not None and not self.augmenter.supports_minibatch:
            raise ValueError(
                f"{self.augmenter.owner} works full-batch only: "
                f"{self.augmenter.minibatch_reason}; leave batch_size unset"
            )
        from .sampling import HeteroNeighborLoader

        self.loader = HeteroNeighborLoader(
            data, input_nodes=self.train_idx, num_neighbors=list(num_neighbors),
            batch_size=batch_size, shuffle=True, seed=seed, balanced=balanced,
        )

    def step(self, z: Tensor, rows_y: Tensor, index: Tensor) -> Tensor:
        """One optimiser step on the embeddings ``z`` of the rows ``index``."""
        weight = None
        if self.sampler is not None:
            z, rows_y, weight = self.sampler.resample(z, rows_y, index=index, generator=self.gen)
        logits = self.model.classify(z)
        extra = {"index": self._row_index(index, z.size(0))} if self.takes_index else {}
        value = self.loss(logits, rows_y, embeddings=z, sample_weight=weight, **extra)
        self.optimiser.zero_grad(set_to_none=True)
        value.backward()
        self.optimiser.step()
        return value.detach()

    @property
    def takes_index(self) -> bool:
        """Whether the loss is told each row's global node id (``index=``)."""
        return bool(getattr(self.loss, "takes_index", False))

    def _row_index(self, index: Tensor, rows: int) -> Tensor:
        """Node id of every row after re-sampling: -1 for the rows a sampler appended."""
        index = index.to(self.dev)
        if rows == index.numel():
            return index
        if rows > index.numel():  # oversamplers keep the original rows first
            return torch.cat([index, index.new_full((rows - index.numel(),), -1)])
        raise ValueError(
            f"loss {getattr(self.loss, 'name', type(self.loss).__name__)!r} needs each row's "
            f"node, but sampler {getattr(self.sampler, 'name', '?')!r} dropped rows; use "
            "sampler 'none' or an oversampler with this loss"
        )

    def end_epoch(self, epoch: int, proba: Tensor) -> None:
        """Tell the loss that ``epoch`` finished, with the current probabilities."""
        hook = getattr(self.loss, "on_epoch", None)
        if callable(hook):
            hook(epoch, proba)
        if self.augmenter is not None:
            self.augmenter.on_epoch(epoch, proba)

    def train_epoch(self) -> float:
        """One pass over the training nodes; returns the mean training loss."""
        self.model.train()
        if self.loader is None:
            graph = self.graph if self.augmenter is None else self.augmenter.augment(self.graph)
            z = self.model.embed(graph)[self.train_idx.to(self.dev)]
            losses = [self.step(z, self.y[self.train_idx], self.train_idx)]
        else:
            losses = []
            for batch in self.loader:
                batch = batch.to(self.dev)
                size = batch[self.target].batch_size
                z = self.model.embed(batch)[:size]
                losses.append(self.step(z, batch[self.target].y[:size],
                                        batch[self.target].n_id[:size]))
        return float(torch.stack(losses).mean())

    @torch.no_grad()
    def predict(self) -> Tensor:
        """Class probabilities of every target node ``[N, C]``."""
        self.model.eval()
        return self.model(self.graph).softmax(dim=-1)

    def val_macro_f1(self, proba: Tensor) -> float:
        """Macro-F1 of ``proba`` on the validation nodes."""
        pred = proba[self.val_idx.to(self.dev)].argmax(-1)
        return float(macro_f1(self.y[self.val_idx.to(self.dev)], pred, self.n_classes))


def fit(
    model: NodeClassifier,
    data: HeteroData,
    *,
    loss: nn.Module,
    sampler: Any | None = None,
    epochs: int = 200,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    patience: int | None = 50,
    device: str | torch.device = "auto",
    seed: int = 0,
    progress: bool | None = None,
    batch_size: int | None = None,
    num_neighbors: Sequence[int] = (10, 10),
    balanced_batches: bool = False,
    callbacks: Sequence[Callable[[dict[str, Any]], Any]] | None = None,
    augmenter: Any | None = None,
) -> FitResult:
    """Train ``model`` on the train mask of ``data`` and keep the best validation weights.

    Args:
        model: Encoder + head (see :mod:`hetero_imb.models`).
        data: Graph with ``train_mask``/``val_mask`` on the target type.
        loss: A loss module called as ``loss(logits, y, embeddings=z, sample_weight=w)``
            (see :mod:`hetero_imb.balancing.losses`). Optional hooks, used when present:
            ``loss.fit(data, train_index, y_train)`` once before training,
            ``loss.on_epoch(epoch, proba)`` after each epoch, and ``takes_index = True``
            to be called with ``index=`` the rows' global node ids (-1: synthetic)
            (see :mod:`hetero_imb.balancing.graph_loss`).
        sampler: Optional re-sampler with ``fit(data, train_index, y_train, seed=...)`` and
            ``resample(z, y, index=..., generator=...)`` (see
            :mod:`hetero_imb.balancing.samplers`); ``None`` trains on the nodes as they are.
        epochs: Maximum number of epochs (> 0).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        patience: Stop after this many epochs without a better validation macro-F1
            (``None`` or 0 disables early stopping).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``...
        seed: Seeds dropout, sampling and re-sampling; same seed → same result.
        progress: Show a progress bar (``None``: only on a terminal).
        batch_size: ``None`` for full-batch training, else the number of seed nodes per
            mini-batch (sampled subgraphs, see :mod:`hetero_imb.training.sampling`).
        num_neighbors: Neighbours sampled per hop and relation in mini-batch mode.
        balanced_batches: Draw mini-batch seed nodes class-balanced.
        callbacks: Each called after every epoch with that epoch's history record
            (plus ``epochs``, the maximum, and ``best_epoch``); see
            :mod:`hetero_imb.training.callbacks` (progress lines, TensorBoard).
        augmenter: Optional graph augmenter (see
            :mod:`hetero_imb.balancing.augmenters`), already ``prepare``-d into ``data``:
            ``fit(data, train_index, y_train, seed=...)`` once, ``on_epoch(epoch, proba)``
            after each epoch and ``augment(graph)`` for the graph of each full-batch
            step; evaluation always uses ``data`` itself.

    Returns:
        A :class:`FitResult`.

    Raises:
        GraphValidationError: ``data`` fails ``validate_graph(data, for_training=True)``.
    """
    _check_fit_args(epochs, patience, batch_size)
    validate_graph(data, for_training=True)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    start = time.perf_counter()
    data = model.encoder.preprocess(data)
    preprocess_seconds = time.perf_counter() - start
    trainer = _Trainer(model, data, loss, sampler, lr=lr, weight_decay=weight_decay,
                       dev=dev, seed=seed, augmenter=augmenter)
    if batch_size is not None:
        trainer.use_minibatches(data, batch_size, num_neighbors, balanced_batches, seed)

    history: list[dict[str, Any]] = []
    stopper = EarlyStopping(patience, floor=chance_floor(trainer.y[trainer.val_idx.to(dev)],
                                                         trainer.n_classes))
    bar = tqdm(range(1, epochs + 1), desc=f"train {type(model.encoder).__name__}",
               disable=not progress_enabled(progress), leave=False)
    fit_start = time.perf_counter()
    for epoch in bar:
        epoch_start = time.perf_counter()
        train_loss = trainer.train_epoch()
        proba = trainer.predict()
        trainer.end_epoch(epoch, proba)
        val_f1 = trainer.val_macro_f1(proba)
        if not np.isfinite(train_loss):
            raise FloatingPointError(
                f"training loss became {train_loss} at epoch {epoch}; lower the learning rate"
            )
        history.append({"epoch": epoch, "loss": train_loss, "val_macro_f1": val_f1,
                        "seconds": time.perf_counter() - epoch_start})
        stopper.update(val_f1, epoch, trainer.model)
        for callback in callbacks or ():
            callback({**history[-1], "epochs": epochs, "best_epoch": stopper.best_epoch})
        bar.set_postfix(loss=f"{train_loss:.4f}", val_macro_f1=f"{val_f1:.4f}",
                        best=stopper.best_epoch)
        if stopper.should_stop:
            log.info("early stopping at epoch %d (best %d)", epoch, stopper.best_epoch)
            break
    fit_seconds = time.perf_counter() - fit_start
    bar.close()
    if stopper.best_state is not None:
        trainer.model.load_state_dict(stopper.best_state)
    proba = trainer.predict().cpu()
    return FitResult(model=trainer.model.cpu(), data=data, proba=proba, history=history,
                     best_epoch=stopper.best_epoch, fit_seconds=fit_seconds,
                     preprocess_seconds=preprocess_seconds)
