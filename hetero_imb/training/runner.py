"""One run from a :class:`~hetero_imb.training.config.RunConfig`: data → imbalance → split →
model (fitted through its spec's hooks: the shared loop, or a feature baseline's own
fit) → metrics. Nothing here names a component: options are checked by the
registries, and how a model is fitted is declared on its own spec.

Used by the ``hetero_imb.train`` CLI, the comparison runner and library users alike,
so every number in every table is computed the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from torch_geometric.data import HeteroData

from ..balancing.augmenters import AUGMENTERS, build_augmenter
from ..balancing.compose import counts_seen_by_loss
from ..balancing.losses import LOSSES, build_loss
from ..balancing.samplers import SAMPLERS
from ..data.datasets import DATASETS, load
from ..data.graph import (
    SPLITS,
    class_counts,
    class_counts_by_split,
    class_names,
    has_split,
    is_multilabel,
    labelled_mask,
    labels,
    split_mask,
)
from ..data.heco_splits import check_heco_split, heco_split
from ..data.imbalance import MODES, make_imbalance, parse_imbalance
from ..data.scaling import standardize_features
from ..data.splits import official_split, stratified_kfold, stratified_split
from ..data.validate import check_is_graph, validate_graph
from ..models import MODELS, FitContext, FitOutput, NodeClassifier
from ..models.smoothers import SMOOTHERS, fit_smoother, smoothed
from ..registry import import_plugins
from ..report.checkpoint import capture
from ..report.metrics import compute_metrics
from ..report.predictions import node_ids, with_node_ids
from ..report.results import RunResult
from .calibration import hold_out_for_decision
from .checks import check_config, check_config_for_graph
from .config import RunConfig
from .decision import parse_decision, tune_run
from .diagnostics import collapse_warnings, first_epoch_warnings, untrained_class_warnings
from .distributed import record as record_processes
from .engine import fit
from .multilabel import (
    build_loss_and_sampler,
    check_task,
    evaluate_multilabel,
    label_counts_by_split,
    resolve_task,
)

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
    """Fail fast, before any data is loaded, on unknown names, options or malformed specs.

    Every component's options are checked against its declaration through its
    registry (one check, one message form); the model's spec says which losses and
    samplers it accepts. ``check_dataset=False`` when the caller passes its own graph
    (``dataset`` is then only a label for the results).
    """
    check_config(config, check_dataset=check_dataset)
    components = [
        (MODELS, config.model, config.model_params, "model"),
        (LOSSES, config.loss, config.loss_params, "loss"),
        (SAMPLERS, config.sampler, config.sampler_params, "sampler"),
        (AUGMENTERS, config.augmenter, config.augmenter_params, "augmenter"),
        (SMOOTHERS, config.smoother, config.smoother_params, "smoother"),
    ]
    if check_dataset:
        components.insert(0, (DATASETS, config.dataset, config.dataset_options, "dataset"))
    for registry, name, options, parameter in components:
        registry.validate(name, options, parameter=parameter)
    MODELS.get(config.model).check_components(
        config.model, loss=config.loss, sampler=config.sampler, augmenter=config.augmenter
    )
    augmenter = AUGMENTERS.get(config.augmenter)
    if config.batch_size is not None and not augmenter.supports_minibatch:
        raise ValueError(f"augmenter {config.augmenter!r} works full-batch only: "
                         f"{augmenter.minibatch_reason}; leave batch_size unset")
    parse_imbalance(config.imbalance)
    split_spec = parse_split(config.split)
    parse_decision(config.tune_decision)
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


def _loop_trainer(
    config: RunConfig, data: HeteroData, progress: bool | None, callbacks: Any = None
) -> Callable[..., FitOutput]:
    """``train(model, *, lr, weight_decay)``: the shared loop with the run's loss, sampler and
    augmenter (handed to a model's fit hook as ``FitContext.train``)."""

    def train(model: NodeClassifier, *, lr: float, weight_decay: float) -> FitOutput:
        batch_size = config.batch_size  # else the encoder's default (GAT on big graphs)
        if batch_size is None and AUGMENTERS.get(config.augmenter).supports_minibatch:
            batch_size = model.encoder.default_batch_size(data)
        if is_multilabel(data):  # per-label counts and N (training/multilabel.py)
            loss, sampler = build_loss_and_sampler(config, data)
        else:
            sampler = SAMPLERS.get(config.sampler, parameter="sampler")(**config.sampler_params)
            # the loss is built from the counts it sees after re-sampling (docs/balancing.md)
            loss_counts = counts_seen_by_loss(
                sampler, class_counts(data, split_mask(data, "train")),
                balanced_batches=config.balanced_batches and bool(batch_size),
            )
            loss = build_loss(
                config.loss, class_counts=loss_counts, class_names=class_names(data),
                **config.loss_params,
            )
        out = fit(
            model, data, loss=loss, sampler=sampler, epochs=config.epochs, lr=lr,
            weight_decay=weight_decay, patience=config.patience, device=config.device,
            seed=config.seed, progress=progress, batch_size=batch_size,
            num_neighbors=config.num_neighbors, balanced_batches=config.balanced_batches,
            eval_num_neighbors=config.eval_num_neighbors,
            callbacks=callbacks, eval_every=config.eval_every,
            augmenter=None if is_multilabel(data)  # only 'none' passes check_task there
            else build_augmenter(config.augmenter, **config.augmenter_params),
        )
        return FitOutput(
            proba=out.proba, history=out.history, best_epoch=out.best_epoch,
            fit_seconds=out.fit_seconds, epochs=out.epochs,
            preprocess_seconds=out.preprocess_seconds,
            features=getattr(out.model.encoder, "feature_description", None),
            model=out.model, preprocessed=out.data,
        )

    return train


def fit_model(config: RunConfig, data: HeteroData, progress: bool | None = None,
              callbacks: Any = None) -> FitOutput:
    """Fit the configured model on a prepared (split) graph through its spec's hooks.

    The one fit path: the spec's ``prepare_params`` completes the validated settings,
    the run's augmenter adds the node/edge types it needs to the graph (``prepare``,
    before the model is built from its schema), then the spec's ``fit`` hook trains (the
    shared loop by default, see :func:`hetero_imb.models.base.fit_in_loop`; feature
    estimators fit outside it).
    """
    spec = MODELS.get(config.model, parameter="model")
    settings = spec.prepare_params(MODELS.validate(config.model, config.model_params), config)
    data = build_augmenter(config.augmenter, **config.augmenter_params).prepare(data)
    context = FitContext(
        name=config.model, spec=spec, settings=settings, config=config,
        train=_loop_trainer(config, data, progress, callbacks),
    )
    return spec.fit(data, context)


def _unused_schedule(config: RunConfig, history: list[dict[str, Any]],
                     best_epoch: int | None) -> list[str]:
    """The loss's own line when a part of it that starts late never shaped the kept
    weights (neural runs only: the feature baselines have no epochs)."""
    if not history or best_epoch is None or config.loss not in LOSSES:
        return []
    loss = LOSSES.get(config.loss)
    line = getattr(loss, "unused_schedule", lambda *_: "")(
        LOSSES.validate(config.loss, config.loss_params), int(best_epoch))
    return [line] if line else []


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

    Raises:
        TypeError: ``config`` is not a :class:`RunConfig` or ``data`` not a graph.
        ConfigError: a value of ``config`` is malformed (checked before any work).
        GraphValidationError: the graph breaks a convention (the validation gate
            :func:`~hetero_imb.data.validate.validate_graph`, run before imbalance
            and split, and with ``for_training=True`` after them).
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig (hetero_imb.RunConfig(**settings) from a "
                        f"dict), got {type(config).__name__}")
    if data is not None:
        check_is_graph(data)
    import_plugins(config.plugins)
    validate_names(config, check_dataset=data is None)
    config = record_processes(config)  # world_size, backend of a torchrun launch
    graph_source = "code" if data is not None else "dataset"
    if data is None:
        data = load(config.dataset, root=config.root, **config.dataset_options)
    check_config_for_graph(config, data)  # the validation gate, before any work on data
    config = resolve_task(config, data)  # on multi-label data the default loss ce means bce
    check_task(config, data)
    data = prepare_data(
        with_node_ids(data), imbalance=config.imbalance, imbalance_mode=config.imbalance_mode,
        split=config.split, seed=config.seed, standardize=config.standardize,
        dataset=config.dataset if graph_source == "dataset" else None, root=config.root,
    )
    validate_graph(data, for_training=True)
    # a min-recall decision places its offset on validation nodes that chose nothing else
    fit_data, held_out = hold_out_for_decision(config.tune_decision, data, config.seed)
    out = fit_model(config, fit_data, progress, callbacks)
    # post-processing over the graph from the training labels (validation: its choices only)
    smoother = fit_smoother(config.smoother, config.smoother_params, out.proba, fit_data,
                            seed=config.seed)
    proba = smoothed(out.proba, data, smoother)
    y = labels(data)
    names = class_names(data)
    masks = {s: split_mask(data, s) & labelled_mask(y) for s in SPLITS}
    if is_multilabel(data):
        metrics, decision, warnings = evaluate_multilabel(config, proba, y, masks, names,
                                                          held_out)
    else:
        metrics = {
            s: compute_metrics(y[masks[s]].numpy(), proba[masks[s]].numpy(), names)
            for s in SPLITS
        }
        decision = tune_run(config.tune_decision, proba, y, masks, names, held_out)
        warnings = collapse_warnings(out.history, proba, masks["val"] | masks["test"], names, y)
    warnings = [*untrained_class_warnings(y, split_mask(data, "train"), names), *warnings,
                *first_epoch_warnings(out.history, out.best_epoch),
                *_unused_schedule(config, out.history, out.best_epoch)]
    for line in warnings:
        log.warning("%s (%s %s %s seed %d)", line, config.dataset, config.model, config.loss,
                    config.seed)
    return RunResult(
        config=config,
        class_names=names,
        metrics=metrics,
        class_counts=label_counts_by_split(data) if is_multilabel(data) else class_counts_by_split(data),
        history=out.history,
        best_epoch=out.best_epoch,
        timing=out.timing(),
        features=out.features,
        imbalance=getattr(data, "imbalance", None),
        split=getattr(data, "split", None),
        proba=proba,
        y=y,
        masks=masks,
        node_ids=node_ids(data),
        decision=decision,
        checkpoint=capture(config, data, out.model,
                           preprocessed=out.preprocessed, graph_source=graph_source,
                           smoother=smoother,
                           decision={k: v for k, v in (decision or {}).items() if k != "metrics"}
                           or None),
        warnings=warnings,
    )

