"""Checks of a :class:`~hetero_imb.training.config.RunConfig` before any work starts.

Two levels, both raising :class:`ConfigError` (a ``ValueError``) with one line that
names the parameter, what was expected and what was given:

* :func:`check_config` needs only the configuration (numbers in range, the device
  present, split fractions that add up); the command lines call it before loading
  anything, and :func:`hetero_imb.run` calls it first.
* :func:`check_config_for_graph` needs the graph's classes (per-class ``counts`` of
  the imbalance, per-class loss weights) and runs the validation gate
  :func:`~hetero_imb.data.validate.validate_graph` on the graph.

A :class:`ConfigError` is a usage error (the command lines exit with status 2); a
:class:`~hetero_imb.data.validate.GraphValidationError` is a data error (status 1).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch_geometric.data import HeteroData

from ..data.validate import validate_graph
from .config import RunConfig
from .distributed import world_size_from_env

__all__ = ["ConfigError", "check_config", "check_config_for_graph"]


class ConfigError(ValueError):
    """A configuration value is malformed or out of range; the message names it."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_at_least(name: str, value: Any, low: int) -> None:
    if not _is_int(value) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")


def _number(name: str, value: Any, *, low: float, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f" and {'<' if high_open else '<='} {high:g}"
        raise ConfigError(f"{name} must be a finite number {lo}{hi}, got {value!r}")


def _check_device(device: Any) -> None:
    if device == "auto":
        return
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {device!r} was requested but CUDA is not available here; "
                "use --device cpu or auto"
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here"
            )
    elif resolved.type != "cpu":
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")


def _check_split_fractions(split: Any) -> None:
    if not isinstance(split, str) or not split.startswith("stratified:"):
        return
    try:
        fractions = [float(p) for p in split.split(":", 1)[1].split(",")]
    except ValueError:
        return  # parse_split names the accepted forms
    bad = [f for f in fractions if not (math.isfinite(f) and 0.0 <= f <= 1.0)]
    if bad or sum(fractions) > 1.0 + 1e-9:
        raise ConfigError(
            f"split fractions must each be in [0, 1] and add up to at most 1, got {split!r} "
            f"(sum {sum(fractions):g})"
        )
    needs = (("training", "a model needs nodes to learn from"),
             ("validation", "early stopping and model selection need one"),
             ("test", "the reported metrics need one"))
    for (part, why), fraction in zip(needs, fractions, strict=False):
        if fraction == 0:
            raise ConfigError(f"split {split!r} has no {part} part; {why} (e.g. "
                              "stratified:0.6,0.2,0.2)")


def check_config(config: RunConfig, *, check_dataset: bool = True) -> RunConfig:
    """Check the values of ``config`` that need no data; return it unchanged.

    Args:
        config: The run configuration.
        check_dataset: Kept for the callers' symmetry with
            :func:`~hetero_imb.training.runner.validate_names`, which checks every
            component's options (dataset, model, loss, sampler) through its registry.

    Returns:
        ``config``.

    Raises:
        ConfigError: a value is malformed or out of range.

    Example:
        >>> check_config(RunConfig(epochs=0))
        Traceback (most recent call last):
        ...
        hetero_imb.training.checks.ConfigError: epochs must be an integer >= 1, got 0
    """
    _int_at_least("epochs", config.epochs, 1)
    _int_at_least("patience", config.patience, 0)
    _int_at_least("eval_every", config.eval_every, 1)
    _int_at_least("seed", config.seed, 0)
    if config.seed >= 2**63:
        raise ConfigError(f"seed must be an integer below 2**63, got {config.seed!r}")
    if config.batch_size is not None:
        _int_at_least("batch_size", config.batch_size, 1)
    _int_at_least("world_size", config.world_size, 1)
    if config.batch_size is None and world_size_from_env() > 1:
        raise ConfigError(
            f"batch_size must be set under torchrun (world size {world_size_from_env()}): "
            "full-batch training is not data-parallel; pass --batch-size B"
        )
    for name in ("num_neighbors", "eval_num_neighbors"):
        neighbors = getattr(config, name)
        if name == "eval_num_neighbors" and neighbors is None:
            continue
        if not isinstance(neighbors, list | tuple) or not neighbors or not all(
            _is_int(k) and (k >= 1 or k == -1) for k in neighbors
        ):
            raise ConfigError(
                f"{name} must be a non-empty list of integers >= 1 (or -1 = all), "
                f"got {neighbors!r}"
            )
    if config.eval_num_neighbors is not None and len(config.eval_num_neighbors) != len(config.num_neighbors):
        raise ConfigError(
            f"eval_num_neighbors must have one entry per hop like num_neighbors "
            f"({len(config.num_neighbors)}), got {config.eval_num_neighbors!r}"
        )
    for name in ("balanced_batches", "standardize"):
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(f"{name} must be true or false, got {getattr(config, name)!r}")
    if config.root is not None and (not isinstance(config.root, str) or not config.root.strip()):
        raise ConfigError(f"root must be a folder path (text) or null, got {config.root!r}")
    for name in ("dataset_options", "model_params", "loss_params", "sampler_params",
                 "augmenter_params", "smoother_params"):
        if not isinstance(getattr(config, name), dict):
            raise ConfigError(f"{name} must be a mapping, got {getattr(config, name)!r}")
    _check_device(config.device)
    _check_split_fractions(config.split)
    return config


def check_config_for_graph(config: RunConfig, data: HeteroData) -> HeteroData:
    """The validation gate of a run: the graph itself, then ``config`` against its classes.

    Args:
        config: The run configuration.
        data: The graph the run will use (loaded or given), before imbalance and split.

    Returns:
        ``data``.

    Raises:
        GraphValidationError: the graph breaks a convention (a data error).
        ConfigError: a per-class value of ``config`` does not fit the graph's classes
            (imbalance counts, loss options, the class a ``tune_decision`` names).
    """
    from ..balancing.losses import build_loss
    from ..data.imbalance import parse_imbalance

    validate_graph(data)
    names = list(data.class_names)
    spec = parse_imbalance(config.imbalance)
    counts = (spec or {}).get("counts")
    if isinstance(counts, list | tuple) and len(counts) != len(names):
        raise ConfigError(
            f"imbalance {config.imbalance!r} gives {len(counts)} counts but the graph has "
            f"{len(names)} classes ({', '.join(names)})"
        )
    from ..data.graph import is_multilabel
    from .decision import parse_decision

    decision = parse_decision(config.tune_decision)  # a named class must exist, before training
    if decision.target_class is not None and decision.target_class not in names:
        kind, kinds = ("label", "labels") if is_multilabel(data) else ("class", "classes")
        raise ConfigError(f"tune_decision names {kind} {decision.target_class!r}; {kinds} are: "
                          f"{', '.join(names)} (tune_decision {decision.text!r})")
    try:  # per-class loss options (weights, alpha) must match the classes
        build_loss(config.loss, class_counts=[1] * len(names), class_names=names,
                   **config.loss_params)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"loss_params: {err}") from None
    return data
