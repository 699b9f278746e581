"""ONE training loop for every neural model, loss and sampler.

Full-batch by default; mini-batch on sampled subgraphs by setting ``batch_size``.
Adam, early stopping on validation macro-F1 with patience, best weights restored,
a live progress bar, device auto-selection, and determinism under a seed.
"""

from __future__ import annotations

import logging
import math
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

from ..data.graph import feature_dims, labelled_mask, num_classes, split_mask, target_type
from ..data.validate import validate_graph
from ..models.base import NodeClassifier
from . import distributed
from .diagnostics import chance_floor
from .early_stopping import EarlyStopping
from .inference import BatchProgress, Evaluator, to_device
from .sampling import HeteroNeighborLoader, HeteroNeighborSampler

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


def _check_fit_inputs(model: Any, data: Any, loss: Any, lr: Any, weight_decay: Any,
                      seed: Any) -> None:
    """One-line errors for what :func:`fit` cannot use, before any work."""
    if not isinstance(model, NodeClassifier):
        raise TypeError(f"model must be a NodeClassifier (hetero_imb.build_model(name, data)), "
                        f"got {type(model).__name__}")
    if not isinstance(loss, nn.Module):
        hint = f" {loss!r}: build it with hetero_imb.build_loss({loss!r}, ...)" \
            if isinstance(loss, str) else ""
        raise TypeError(f"loss must be a torch.nn.Module, got {type(loss).__name__}{hint}")
    for name, value in (("lr", lr), ("weight_decay", weight_decay)):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    built = getattr(model, "built_for", None)
    if built is not None:  # data passed validate_graph already
        widths = feature_dims(data)
        for node_type, width in built["features"].items():
            if node_type in widths and widths[node_type] != width:
                raise ValueError(
                    f"model was built for a graph whose node type {node_type!r} has "
                    f"{width or 'no'} features; data's has {widths[node_type] or 'none'} "
                    "(build the model on the graph you train it on)")
        if num_classes(data) != built["num_classes"]:
            raise ValueError(f"model was built for {built['num_classes']} classes; data has "
                             f"{num_classes(data)} (build the model on the graph you train "
                             "it on)")


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
                 dev: torch.device, seed: int, augmenter: Any | None = None,
                 context: distributed.DistributedContext | None = None) -> None:
        self.context = context  # torch.distributed group (see training/distributed.py)
        self.gen = torch.Generator().manual_seed(seed + (context.rank if context else 0))
        self.target = target_type(data)
        self.n_classes = num_classes(data)
        y = data[self.target].y
        self.multilabel = y.dim() == 2  # multi-hot [N, C]: sigmoid outputs (training/multilabel.py)
        self.train_idx = torch.nonzero(split_mask(data, "train") & labelled_mask(y)).flatten()
        self.val_idx = torch.nonzero(split_mask(data, "val") & labelled_mask(y)).flatten()
        if self.train_idx.numel() == 0:
            raise ValueError("the train mask selects no labelled target node")
        self.sampler = sampler
        if sampler is not None:
            sampler.fit(data, self.train_idx, y[self.train_idx], seed=seed)
        if callable(getattr(loss, "fit", None)):  # graph-aware losses read the graph once
            loss.fit(data, self.train_idx, y[self.train_idx])
        self.augmenter = augmenter
        if augmenter is not None:
            if getattr(augmenter, "adds_nodes", False) and sampler is not None \
                    and getattr(sampler, "name", "") != "none":
                raise ValueError(f"{augmenter.owner} adds labelled nodes (it balances the "
                                 "classes itself); use sampler 'none' with it")
            augmenter.fit(data, self.train_idx, y[self.train_idx], seed=seed)
        self.dev = dev
        self.model = model.to(dev)
        self.loss = loss.to(dev)
        self.data = data
        self._graph: HeteroData | None = None  # full graph on the device, moved on first use
        self.y = y.to(dev)
        self.train_rows = self.train_idx.to(dev)  # once, not every epoch
        self.train_y = self.y[self.train_rows]
        self.optimiser = torch.optim.Adam(parameter_groups(model, weight_decay), lr=lr)
        self.loader: Any = None
        self.forward: nn.Module = distributed.TrainStep(self.model, sampler, self.gen)
        hooks = any(callable(getattr(obj, "on_epoch", None))
                    and getattr(obj, "uses_epoch_proba", True) for obj in (loss, augmenter))
        self.evaluator = Evaluator(self.model, lambda: self.graph, self.y, self.val_idx,
                                   self.n_classes, dev, seed=seed, hooks_need_proba=hooks)

    @property
    def graph(self) -> HeteroData:
        """The full graph on the device (a shallow copy; never used in mini-batch mode)."""
        if self._graph is None:
            self._graph = to_device(self.data, self.dev)
        return self._graph

    def use_minibatches(self, data: HeteroData, batch_size: int, num_neighbors: Sequence[int],
                        balanced: bool, seed: int,
                        eval_num_neighbors: Sequence[int] | None = None) -> None:
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
        self.loader = HeteroNeighborLoader(
            data, input_nodes=self.train_idx, num_neighbors=list(num_neighbors),
            batch_size=batch_size, shuffle=True, seed=seed, balanced=balanced,
        )
        eval_sampler = self.loader.sampler
        if eval_num_neighbors is not None and list(eval_num_neighbors) != list(num_neighbors):
            eval_sampler = HeteroNeighborSampler(data, list(eval_num_neighbors))
        self.evaluator.use_minibatches(eval_sampler, batch_size)
        if self.context is not None and self.context.world_size > 1:
            self.loader = distributed.ShardedLoader(self.loader, self.context, seed)
            self.forward = distributed.data_parallel(
                self.forward, self.context, self.dev,
                probe=self._batch_args(to_device(self.loader.probe(), self.dev)))

    def _batch_args(self, batch: HeteroData) -> tuple[Any, ...]:
        """``step`` arguments of a sampled subgraph: its seed rows, labels, node ids."""
        size = batch[self.target].batch_size
        return batch, slice(0, size), batch[self.target].y[:size], batch[self.target].n_id[:size]

    def step(self, graph: HeteroData, rows: Tensor | slice, rows_y: Tensor,
             index: Tensor) -> Tensor:
        """One optimiser step on the target rows ``rows`` of ``graph`` (node ids ``index``)."""
        logits, z, rows_y, weight = self.forward(graph, rows, rows_y, index)
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
        """Node id of every row after re-sampling: -1 for the rows a sampler appended; an
        undersampler's kept rows keep theirs (its ``last_kept`` positions)."""
        index = index.to(self.dev)
        if rows == index.numel():
            return index
        if rows > index.numel():  # oversamplers keep the original rows first
            return torch.cat([index, index.new_full((rows - index.numel(),), -1)])
        kept = getattr(self.sampler, "last_kept", None)  # an undersampler's kept positions
        if kept is not None and kept.numel() == rows:
            return index[kept.to(self.dev)]
        raise ValueError(
            f"loss {getattr(self.loss, 'name', type(self.loss).__name__)!r} needs each row's "
            f"node, but sampler {getattr(self.sampler, 'name', '?')!r} dropped rows; use "
            "sampler 'none' or an oversampler with this loss"
        )

    def end_epoch(self, epoch: int, proba: Tensor | None) -> None:
        """Tell the loss that ``epoch`` finished, with the current probabilities
        (``None`` when no hook reads them; an augmenter is then not called)."""
        hook = getattr(self.loss, "on_epoch", None)
        if callable(hook):
            hook(epoch, proba)
        if self.augmenter is not None and proba is not None:
            self.augmenter.on_epoch(epoch, proba)

    def train_epoch(self, label: str = "train") -> float:
        """One pass over the training nodes; returns the mean training loss."""
        self.model.train()
        if self.loader is None:
            graph = self.graph if self.augmenter is None else self.augmenter.augment(self.graph)
            rows, labels, index = self.train_rows, self.train_y, self.train_idx
            extra = None if self.augmenter is None else self.augmenter.synthetic_rows()
            if extra is not None:  # labelled synthetic nodes after the real ones (node id -1)
                rows = torch.cat([rows, extra[0].to(self.dev)])
                labels = torch.cat([labels, extra[1].to(self.dev)])
                index = torch.cat([index, index.new_full((extra[0].numel(),), -1)])
            losses = [self.step(graph, rows, labels, index)]
        else:
            losses = []
            progress = BatchProgress(label, len(self.loader))
            for done, batch in enumerate(self.loader, start=1):
                losses.append(self.step(*self._batch_args(to_device(batch, self.dev))))
                progress.step(done)
        return float(torch.stack(losses).mean())

    def predict(self, nodes: Tensor | None = None, label: str = "predict") -> Tensor:
        """Class probabilities ``[n, C]`` of the target ``nodes`` (``None``: all ``N``;
        per-label sigmoids if multi-label); see
        :class:`~hetero_imb.training.inference.Evaluator`."""
        return self.evaluator.predict(nodes, label)


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
    eval_every: int = 1,
    eval_num_neighbors: Sequence[int] | None = None,
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
        patience: Stop after this many evaluations without a better validation
            macro-F1 (``None`` or 0 disables early stopping); with ``eval_every=1``
            (the default), epochs.
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
        eval_every: Evaluate on the validation nodes every this many epochs (and
            after the last one); epochs in between record ``val_macro_f1`` NaN. Early
            stopping counts evaluations. A loss or augmenter with an ``on_epoch``
            hook still gets every target node's fresh probabilities after every
            epoch (in mini-batch mode: all target nodes predicted in batches), unless
            it sets ``uses_epoch_proba = False``.
        eval_num_neighbors: Neighbours per hop for evaluation and the final
            prediction in mini-batch mode (``None``: ``num_neighbors``; ``-1`` per hop:
            exact, the whole receptive field). Mini-batch mode never runs the full
            graph: the evaluated nodes go through in batches of ``batch_size``.

    Returns:
        A :class:`FitResult`.

    Raises:
        GraphValidationError: ``data`` fails ``validate_graph(data, for_training=True)``.
        TypeError: ``model`` is not a :class:`NodeClassifier` or ``loss`` not a module.
        ValueError: a setting out of range, or ``model`` built for other feature widths
            or another number of classes than ``data``'s.
    """
    _check_fit_args(epochs, patience, batch_size)
    validate_graph(data, for_training=True)
    _check_fit_inputs(model, data, loss, lr, weight_decay, seed)
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ValueError(f"eval_every must be a positive integer, got {eval_every!r}")
    context = distributed.current()  # set when launched by torchrun
    distributed.check_batch_size(batch_size, context)
    dev = distributed.rank_device(resolve_device(device), context)
    main = context is None or context.is_main
    torch.manual_seed(seed + (context.rank if context else 0))  # dropout differs per rank
    start = time.perf_counter()
    data = model.encoder.preprocess(data)
    preprocess_seconds = time.perf_counter() - start
    trainer = _Trainer(model, data, loss, sampler, lr=lr, weight_decay=weight_decay,
                       dev=dev, seed=seed, augmenter=augmenter, context=context)
    if batch_size is not None:
        trainer.use_minibatches(data, batch_size, num_neighbors, balanced_batches, seed,
                                eval_num_neighbors)

    history: list[dict[str, Any]] = []
    stopper = EarlyStopping(patience, floor=chance_floor(trainer.y[trainer.val_idx.to(dev)],
                                                         trainer.n_classes))
    bar = tqdm(range(1, epochs + 1), desc=f"train {type(model.encoder).__name__}",
               disable=not (main and progress_enabled(progress)), leave=False)
    fit_start = time.perf_counter()
    for epoch in bar:
        epoch_start = time.perf_counter()
        train_loss = trainer.train_epoch(f"train epoch {epoch}/{epochs}")
        train_end = time.perf_counter()
        due = epoch % eval_every == 0 or epoch == epochs
        proba, val_f1 = trainer.evaluator.evaluate(epoch, due)
        trainer.end_epoch(epoch, proba)
        train_loss, val_f1 = distributed.agree(train_loss, val_f1, context, dev)  # rank 0's
        if not np.isfinite(train_loss):
            raise FloatingPointError(
                f"training loss became {train_loss} at epoch {epoch}; lower the learning rate"
            )
        end = time.perf_counter()
        history.append({"epoch": epoch, "loss": train_loss, "val_macro_f1": val_f1,
                        "seconds": end - epoch_start, "train_seconds": train_end - epoch_start,
                        "eval_seconds": end - train_end})
        if due:
            stopper.update(val_f1, epoch, trainer.model)
        for callback in callbacks if main and callbacks else ():
            callback({**history[-1], "epochs": epochs, "best_epoch": stopper.best_epoch})
        if not bar.disable:  # formatting the postfix costs even when nothing is shown
            bar.set_postfix(loss=f"{train_loss:.4f}", val_macro_f1=f"{val_f1:.4f}",
                            best=stopper.best_epoch)
        if stopper.should_stop:
            log.info("early stopping at epoch %d (best %d)", epoch, stopper.best_epoch)
            break
    fit_seconds = time.perf_counter() - fit_start
    bar.close()
    if stopper.best_state is not None:
        trainer.model.load_state_dict(stopper.best_state)
    proba = trainer.predict(label="final prediction").cpu()
    return FitResult(model=trainer.model.cpu(), data=data, proba=proba, history=history,
                     best_epoch=stopper.best_epoch, fit_seconds=fit_seconds,
                     preprocess_seconds=preprocess_seconds)
