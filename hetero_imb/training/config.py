"""Run configuration: defaults in code, a YAML file holds only what differs, flags win.

The resolved configuration is saved with every run as ``config.yaml``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class RunConfig:
    """Everything that defines one training run.

    Attributes:
        dataset: Registered dataset name.
        dataset_options: Loader options (e.g. ``{"features": "svd"}`` for Facebook).
        model: Registered model name.
        model_params: Overrides of the model's defaults (``hidden``, ``num_layers``,
            ``dropout``, ``lr``, ``weight_decay`` and model-specific settings).
        loss: Registered loss name; ``loss_params`` its parameters.
        sampler: Registered sampler name; ``sampler_params`` its parameters.
        augmenter: Registered augmenter name (changes the training graph, e.g.
            ``"bat"``); ``augmenter_params`` its parameters.
        smoother: Registered smoother name (post-processes the fitted model's
            probabilities over the graph from the training labels, e.g. ``"cs"``,
            Correct & Smooth; see :mod:`hetero_imb.models.smoothers`);
            ``smoother_params`` its parameters.
        imbalance: ``"none"``, ``"counts:a,b,..."``, ``"step:R"`` or ``"longtail:R"``.
        imbalance_mode: ``"drop"`` (remove target nodes) or ``"mask"`` (limit training
            labels).
        split: ``"stratified"`` (60/20/20), ``"stratified:TRAIN,VAL,TEST"`` or
            ``"official"`` (the dataset's own split, validation carved from train) or
            ``"heco:K"`` (HeCo's published split, K = 20, 40, 60 training nodes per class).
        standardize: Scale dense numeric node features to zero mean and unit variance
            per node type, over all nodes of the type (see :mod:`hetero_imb.data.scaling`).
        seed: Seed of everything random in the run (imbalance, split, init, training).
        epochs, patience: Training length and early-stopping patience (0 = off),
            counted in evaluations.
        eval_every: Evaluate on the validation nodes every this many epochs (and
            after the last); early stopping and the kept weights only see evaluated
            epochs. In mini-batch mode evaluation runs in batches of sampled
            subgraphs, never on the full graph.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        batch_size: ``None`` for full-batch, else mini-batch seed nodes per step.
        num_neighbors: Neighbours per hop and relation in mini-batch mode.
        eval_num_neighbors: Neighbours per hop and relation for evaluation and the
            final prediction in mini-batch mode (``None``: ``num_neighbors``; ``-1``
            per hop: every neighbour, equal to a full-graph forward).
        balanced_batches: Class-balanced seed sampling in mini-batch mode.
        root: Data root (``None``: see :mod:`hetero_imb.paths`).
        tune_decision: ``"none"``, ``"macro-f1"``, ``"balanced-accuracy"``,
            ``"recall:CLASS:PRECISION_FLOOR"`` or ``"min-recall:CLASS:RECALL"``:
            per-class logit offsets chosen on the validation set after training (see
            :mod:`hetero_imb.training.decision`), reported beside the untuned metrics.
        plugins: Modules imported before the run (and before a saved run is loaded)
            that register custom components.
        world_size, backend: Recorded, not chosen: the number of processes that trained
            the run (torchrun's ``WORLD_SIZE``, 1 without torchrun) and their
            torch.distributed backend (``None`` without a process group); a run sets
            them (see :mod:`hetero_imb.training.distributed`).
    """

    dataset: str = "freebase"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    model: str = "rgcn"
    model_params: dict[str, Any] = field(default_factory=dict)
    loss: str = "ce"
    loss_params: dict[str, Any] = field(default_factory=dict)
    sampler: str = "none"
    sampler_params: dict[str, Any] = field(default_factory=dict)
    augmenter: str = "none"
    augmenter_params: dict[str, Any] = field(default_factory=dict)
    smoother: str = "none"
    smoother_params: dict[str, Any] = field(default_factory=dict)
    imbalance: str = "none"
    imbalance_mode: str = "drop"
    split: str = "stratified"
    standardize: bool = True
    seed: int = 0
    epochs: int = 200
    patience: int = 50
    eval_every: int = 1
    device: str = "auto"
    batch_size: int | None = None
    num_neighbors: list[int] = field(default_factory=lambda: [10, 10])
    eval_num_neighbors: list[int] | None = None
    balanced_batches: bool = False
    root: str | None = None
    tune_decision: str = "none"
    plugins: list[str] = field(default_factory=list)
    world_size: int = 1
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (for YAML/JSON)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` applied (unknown keys raise ``ValueError``)."""
        check_keys(changes, source="changes")
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


def check_keys(values: dict[str, Any], source: str) -> None:
    """Raise ``ValueError`` naming unknown keys and listing the accepted ones."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} in {source}; accepted keys: {', '.join(FIELDS)}"
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the
    last silently, so a grid file's second ``losses:`` would hide the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML config file into a dict, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"config file {str(path)!r} {what}; expected a YAML file")
    try:
        values = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except UnicodeDecodeError as err:
        raise ValueError(f"config file {str(path)!r} is not UTF-8 text ({err.reason} at byte "
                         f"{err.start}); expected a YAML file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = getattr(err, "problem", None) or str(err)
        raise ValueError(f"config file {str(path)!r} is not valid YAML: {where}{what}") from err
    if not isinstance(values, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping, got {type(values).__name__}")
    return values


def resolve(file_values: dict[str, Any] | None = None, **overrides: Any) -> RunConfig:
    """Defaults ← values from a config file ← explicit overrides (``None`` = not given).

    Dict-valued fields (``model_params``, ``loss_params``...) are merged key by key.
    """
    merged: dict[str, Any] = {}
    for source, values in (("config file", file_values or {}), ("overrides", overrides)):
        check_keys(values, source)
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return RunConfig(**merged)


def to_yaml(config: RunConfig) -> str:
    """The resolved config as YAML text."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
