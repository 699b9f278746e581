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
from ..data.heco_splits import check_heco_split, heco_split
from ..data.imbalance import MODES, make_imbalance, parse_imbalance
from ..data.scaling import standardize_features
from ..data.splits import official_split, stratified_kfold, stratified_split
from ..models import MODELS, build_model
from ..params import validate_params
from ..paths import processed_dir
from ..report.metrics import compute_metrics
from ..report.results import RunResult
from .config import RunConfig
from .diagnostics import collapse_warnings
from .engine import fit

log = logging.getLogger(__name__)

IMBALANCE_MODES = MODES


def parse_split(spec: str) -> dict[str, Any]:
    """Parse a split spec: ``"stratified"`` (60/20/20), ``"stratified:TRAIN,VAL,TEST"``,
    ``"kfold:K:FOLD"``, ``"official"`` (the dataset's own), ``"heco:K"`` (HeCo's published
    split with K = 20, 40 or 60 training nodes per class) or ``"given"`` (keep the masks
    the graph already carries)."""
    if spec in ("official", "given"):
        return {"kind": spec}
    if spec.startswith("heco:") and spec[5:].isdigit():
        return {"kind": "heco", "size": int(spec[5:])}
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
        f"'kfold:K:FOLD' (fold FOLD of a stratified K-fold, e.g. kfold:5:0), 'official', "
        f"'heco:K' (K = 20, 40 or 60) or 'given', "
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
    split_spec = parse_split(config.split)
    if split_spec["kind"] == "heco":
        if check_dataset:
            check_heco_split(config.dataset, split_spec["size"])
        if config.imbalance != "none" and config.imbalance_mode == "drop":
            raise ValueError(
                f"split {config.split!r} is a published split of fixed nodes; combine it with "
                "imbalance_mode 'mask' (--imbalance-mode mask), got 'drop'"
            )
    if config.imbalance_mode not in IMBALANCE_MODES:
        raise ValueError(
            f"imbalance_mode must be one of {', '.join(IMBALANCE_MODES)}, "
            f"got {config.imbalance_mode!r}"
        )


def prepare_data(
    data: HeteroData, *, imbalance: str = "none", imbalance_mode: str = "drop",
    split: str = "stratified", seed: int = 0, standardize: bool = True,
    dataset: str | None = None, root: str | None = None,
) -> HeteroData:
    """Standardise features, induce imbalance and split, in the order the mode needs.

    ``drop`` removes nodes before splitting (the splits then follow the new class
    sizes); ``mask`` splits first and then limits the training labels per class.
    ``standardize`` scales dense numeric features per node type
    (:mod:`hetero_imb.data.scaling`); ``dataset``/``root`` locate published split files.
    """
    if imbalance_mode not in IMBALANCE_MODES:
        raise ValueError(
            f"imbalance_mode must be one of {', '.join(IMBALANCE_MODES)}, got {imbalance_mode!r}"
        )
    spec = parse_imbalance(imbalance)
    split_spec = parse_split(split)
    if standardize:
        data = standardize_features(data)
    if spec is not None and imbalance_mode == "drop":
        if split_spec["kind"] == "heco":
            raise ValueError(
                f"split {split!r} is a published split of fixed nodes; combine it with "
                "imbalance_mode 'mask', got 'drop'"
            )
        data = make_imbalance(data, mode="drop", seed=seed, **spec)
    if split_spec["kind"] == "heco":
        data = heco_split(data, split_spec["size"], dataset=dataset, root=root)
    elif split_spec["kind"] == "official":
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


def _fit_neural(config: RunConfig, data: HeteroData, progress: bool | None) -> dict[str, Any]:
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
        balanced_batches=config.balanced_batches,
    )
    return {
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
    config: RunConfig, *, data: HeteroData | None = None, progress: bool | None = None
) -> RunResult:
    """Execute one run and compute its metrics on train, val and test.

    Args:
        config: The run configuration.
        data: A graph to use instead of loading ``config.dataset`` (library use on a
            user's own graph); imbalance and split are still applied from ``config``
            (``config.split == "given"`` keeps the graph's own masks).
        progress: Progress bars (``None``: only on a terminal).

    Returns:
        A :class:`~hetero_imb.report.results.RunResult`.
    """
    validate_names(config, check_dataset=data is None)
    data_given = data
    if data is None:
        data = load(config.dataset, root=config.root, **config.dataset_options)
    data = prepare_data(
        data, imbalance=config.imbalance, imbalance_mode=config.imbalance_mode,
        split=config.split, seed=config.seed, standardize=config.standardize,
        dataset=config.dataset if data_given is None else None, root=config.root,
    )
    kind = MODELS.get(config.model, parameter="model").kind
    out = _fit_neural(config, data, progress) if kind == "neural" else _fit_features(config, data)
    y = labels(data)
    names = class_names(data)
    masks = {s: split_mask(data, s) & (y >= 0) for s in SPLITS}
    metrics = {
        s: compute_metrics(y[masks[s]].numpy(), out["proba"][masks[s]].numpy(), names)
        for s in SPLITS
    }
    warnings = collapse_warnings(out["history"], out["proba"], masks["val"] | masks["test"], names)
    for line in warnings:
        log.warning("%s (%s %s %s seed %d)", line, config.dataset, config.model, config.loss,
                    config.seed)
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
        warnings=warnings,
    )
