"""One run from a :class:`~hetero_imb.training.config.RunConfig`: data → imbalance → split →
model → the shared loop (or a feature baseline's own fit) → metrics.

Used by the ``hetero_imb.train`` CLI, the comparison runner and library users alike,
so every number in every table is computed the same way.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from ..balancing.losses import LOSSES, build_loss
from ..balancing.samplers import SAMPLERS
from ..balancing.weights import resolve_class_weights
from ..data.datasets import DATASETS, load
from ..data.features import node_features
from ..data.graph import (
    SPLITS,
    class_counts,
    class_counts_by_split,
    class_names,
    has_split,
    labels,
    split_mask,
)
from ..data.imbalance import MODES, make_imbalance, parse_imbalance
from ..data.splits import official_split, stratified_kfold, stratified_split
from ..models import MODELS, build_model
from ..params import validate_params
from ..paths import processed_dir
from ..registry import import_plugins
from ..report.checkpoint import capture
from ..report.metrics import compute_metrics
from ..report.predictions import node_ids, with_node_ids
from ..report.results import RunResult
from .config import RunConfig
from .decision import parse_decision, tune_run
from .engine import fit

log = logging.getLogger(__name__)

IMBALANCE_MODES = MODES


def parse_split(spec: str) -> dict[str, Any]:
    """Parse a split spec: ``"stratified"`` (60/20/20), ``"stratified:TRAIN,VAL,TEST"``,
    ``"kfold:K:FOLD"``, ``"official"`` (the dataset's own) or ``"given"`` (keep the masks
    the graph already carries)."""
    if spec in ("official", "given"):
        return {"kind": spec}
    if spec == "stratified":
        return {"kind": "stratified", "fractions": (0.6, 0.2, 0.2)}
    if spec.startswith("kfold:"):
        parts = spec.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            k, fold = int(parts[1]), int(parts[2])
            if k >= 2 and fold < k:
                return {"kind": "kfold", "k": k, "fold": fold}
    if spec.startswith("stratified:"):
        parts = spec.split(":", 1)[1].split(",")
        try:
            fractions = tuple(float(p) for p in parts)
        except ValueError:
            fractions = ()
        if len(fractions) == 3:
            if fractions[1] <= 0:
                raise ValueError(
                    f"split {spec!r} has no validation part; early stopping and model "
                    "selection need one (e.g. stratified:0.6,0.2,0.2)"
                )
            return {"kind": "stratified", "fractions": fractions}
    raise ValueError(
        "split must be 'stratified', 'stratified:TRAIN,VAL,TEST' (e.g. stratified:0.6,0.2,0.2) "
        f"'kfold:K:FOLD' (fold FOLD of a stratified K-fold, e.g. kfold:5:0), 'official' or 'given', "
        f"got {spec!r}"
    )


def validate_names(config: RunConfig, *, check_dataset: bool = True) -> None:
    """Fail fast, before any data is loaded, on unknown names or malformed specs.

    ``check_dataset=False`` when the caller passes its own graph (``dataset`` is then
    only a label for the results).
    """
    if check_dataset:
        DATASETS.get(config.dataset, parameter="dataset")
    MODELS.get(config.model, parameter="model").settings(**config.model_params)
    loss_cls = LOSSES.get(config.loss, parameter="loss")
    validate_params(config.loss_params, loss_cls.params, owner=f"loss {config.loss!r}")
    sampler_cls = SAMPLERS.get(config.sampler, parameter="sampler")
    validate_params(config.sampler_params, sampler_cls.params, owner=f"sampler {config.sampler!r}")
    parse_imbalance(config.imbalance)
    parse_split(config.split)
    parse_decision(config.tune_decision)
    if config.imbalance_mode not in IMBALANCE_MODES:
        raise ValueError(
            f"imbalance_mode must be one of {', '.join(IMBALANCE_MODES)}, "
            f"got {config.imbalance_mode!r}"
        )


def prepare_data(
    data: HeteroData, *, imbalance: str = "none", imbalance_mode: str = "drop",
    split: str = "stratified", seed: int = 0,
) -> HeteroData:
    """Induce imbalance and split, in the order the mode needs.

    ``drop`` removes nodes before splitting (the splits then follow the new class
    sizes); ``mask`` splits first and then limits the training labels per class.
    """
    if imbalance_mode not in IMBALANCE_MODES:
        raise ValueError(
            f"imbalance_mode must be one of {', '.join(IMBALANCE_MODES)}, got {imbalance_mode!r}"
        )
    spec = parse_imbalance(imbalance)
    split_spec = parse_split(split)
    if spec is not None and imbalance_mode == "drop":
        data = make_imbalance(data, mode="drop", seed=seed, **spec)
    if split_spec["kind"] == "official":
        data = official_split(data, seed=seed)
    elif split_spec["kind"] == "kfold":
        data = stratified_kfold(data, split_spec["k"], seed=seed)[split_spec["fold"]]
    elif split_spec["kind"] == "given":
        if not has_split(data):
            raise ValueError(
                "split 'given' needs train_mask/val_mask/test_mask on the target node type"
            )
    else:
        train, val, test = split_spec["fractions"]
        data = stratified_split(data, train=train, val=val, test=test, seed=seed)
    if spec is not None and imbalance_mode == "mask":
        data = make_imbalance(data, mode="mask", seed=seed, **spec)
    return data


def _fit_neural(config: RunConfig, data: HeteroData, progress: bool | None,
                callbacks: Any = None) -> dict[str, Any]:
    spec = MODELS.get(config.model, parameter="model")
    settings = spec.settings(**config.model_params)
    params = dict(config.model_params)
    if "cache_dir" in settings and settings["cache_dir"] is None:
        # encoders that cache learned artefacts keep them under the run's data root
        params["cache_dir"] = str(processed_dir(config.root) / "embeddings")
    model = build_model(config.model, data, seed=config.seed, **params)
    train_counts = class_counts(data, split_mask(data, "train"))
    loss = build_loss(
        config.loss, class_counts=train_counts, class_names=class_names(data),
        **config.loss_params,
    )
    sampler = None
    if config.sampler != "none":
        sampler = SAMPLERS.get(config.sampler, parameter="sampler")(**config.sampler_params)
    out = fit(
        model, data, loss=loss, sampler=sampler, epochs=config.epochs,
        lr=settings["lr"], weight_decay=settings["weight_decay"], patience=config.patience,
        device=config.device, seed=config.seed, progress=progress,
        batch_size=config.batch_size, num_neighbors=config.num_neighbors,
        balanced_batches=config.balanced_batches, callbacks=callbacks,
    )
    return {
        "model": out.model,
        "preprocessed": out.data,
        "proba": out.proba,
        "history": out.history,
        "best_epoch": out.best_epoch,
        "timing": {
            "fit_seconds": out.fit_seconds,
            "epochs": out.epochs,
            "seconds_per_epoch": out.fit_seconds / max(out.epochs, 1),
            "preprocess_seconds": out.preprocess_seconds,
        },
        "features": getattr(out.model.encoder, "feature_description", None),
    }


def _feature_sample_weight(
    config: RunConfig, y_train: np.ndarray, counts: list[int], names: list[str]
) -> np.ndarray | None:
    """Sample weights a feature baseline uses for the configured loss."""
    if config.loss == "ce":
        return None
    if config.loss == "weighted":
        scheme = config.loss_params.get("weights", "balanced")
        beta = config.loss_params.get("beta", 0.999)
        weights = resolve_class_weights(scheme, names, counts, beta=beta).numpy()
        return weights[y_train]
    raise ValueError(
        f"model {config.model!r} fits node features outside the training loop and supports "
        f"loss 'ce' or 'weighted' (class-balanced sample weights), got {config.loss!r}"
    )


def _fit_features(config: RunConfig, data: HeteroData) -> dict[str, Any]:
    import time

    spec = MODELS.get(config.model, parameter="model")
    if config.sampler != "none":
        raise ValueError(
            f"model {config.model!r} fits node features outside the training loop; "
            f"sampler must be 'none', got {config.sampler!r}"
        )
    x, description = node_features(data)
    x = x.numpy()
    y = labels(data).numpy()
    masks = {s: split_mask(data, s).numpy() & (y >= 0) for s in SPLITS}
    counts = class_counts(data, split_mask(data, "train"))
    settings = spec.settings(**config.model_params)
    estimator = spec.builder(data, seed=config.seed, **settings)
    start = time.perf_counter()
    estimator.fit(
        x[masks["train"]], y[masks["train"]],
        sample_weight=_feature_sample_weight(config, y[masks["train"]], counts, class_names(data)),
        x_val=x[masks["val"]], y_val=y[masks["val"]],
    )
    seconds = time.perf_counter() - start
    proba = torch.as_tensor(estimator.predict_proba(x), dtype=torch.float)
    rounds = int(getattr(estimator, "rounds", 1))
    return {
        "model": estimator,
        "proba": proba,
        "history": [],
        "best_epoch": 0,
        "timing": {
            "fit_seconds": seconds,
            "epochs": rounds,
            "seconds_per_epoch": seconds / max(rounds, 1),
            "preprocess_seconds": 0.0,
        },
        "features": description,
    }


def run(
    config: RunConfig, *, data: HeteroData | None = None, progress: bool | None = None,
    callbacks: Any = None,
) -> RunResult:
    """Execute one run and compute its metrics on train, val and test.

    Args:
        config: The run configuration.
        data: A graph to use instead of loading ``config.dataset`` (library use on a
            user's own graph); imbalance and split are still applied from ``config``
            (``config.split == "given"`` keeps the graph's own masks).
        progress: Progress bars (``None``: only on a terminal).
        callbacks: Called after each epoch of a neural model (see
            :func:`hetero_imb.training.engine.fit`).

    Returns:
        A :class:`~hetero_imb.report.results.RunResult`.
    """
    import_plugins(config.plugins)
    validate_names(config, check_dataset=data is None)
    graph_source = "code" if data is not None else "dataset"
    if data is None:
        data = load(config.dataset, root=config.root, **config.dataset_options)
    data = prepare_data(
        with_node_ids(data), imbalance=config.imbalance, imbalance_mode=config.imbalance_mode,
        split=config.split, seed=config.seed,
    )
    kind = MODELS.get(config.model, parameter="model").kind
    if kind == "neural":
        out = _fit_neural(config, data, progress, callbacks)
    else:
        out = _fit_features(config, data)
    y = labels(data)
    names = class_names(data)
    masks = {s: split_mask(data, s) & (y >= 0) for s in SPLITS}
    metrics = {
        s: compute_metrics(y[masks[s]].numpy(), out["proba"][masks[s]].numpy(), names)
        for s in SPLITS
    }
    decision = tune_run(config.tune_decision, out["proba"], y, masks, names)
    return RunResult(
        config=config,
        class_names=names,
        metrics=metrics,
        class_counts=class_counts_by_split(data),
        history=out["history"],
        best_epoch=out["best_epoch"],
        timing=out["timing"],
        features=out["features"],
        imbalance=getattr(data, "imbalance", None),
        split=getattr(data, "split", None),
        proba=out["proba"],
        y=y,
        masks=masks,
        node_ids=node_ids(data),
        decision=decision,
        checkpoint=capture(config, data, out["model"], kind=kind,
                           preprocessed=out.get("preprocessed"), graph_source=graph_source,
                           decision={k: v for k, v in (decision or {}).items() if k != "metrics"}
                           or None),
    )

