"""The result of one run, and how it is written to a run folder.

A run folder holds ``config.yaml`` (the resolved config), ``history.jsonl`` (one
line per epoch), ``results.json`` (metrics, class counts, timing, versions) and
``predictions.pt`` (class probabilities of every target node). Each file is written
atomically, and a new folder appears only once complete, so a folder with a
``results.json`` is always a finished run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch_geometric
from torch import Tensor

from .._io import atomic_write, atomic_write_json, atomic_write_text
from ..training.config import RunConfig, to_yaml


def versions() -> dict[str, str]:
    """Versions of the libraries a result depends on."""
    from .. import __version__

    return {
        "hetero_imb": __version__,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "python": platform.python_version(),
    }


@dataclass
class RunResult:
    """Metrics and artefacts of one run (same shape for neural models and baselines).

    Attributes:
        config: The resolved run configuration.
        class_names: Class names, index = class id.
        metrics: ``{"train"|"val"|"test": metrics dict}`` (see :func:`hetero_imb.report.metrics.compute_metrics`).
        class_counts: Per-class labelled node counts of each split.
        history: One dict per epoch (empty for feature baselines without epochs).
        best_epoch: Epoch whose weights were kept (0 when not applicable).
        timing: ``fit_seconds``, ``epochs``, ``seconds_per_epoch``, ``preprocess_seconds``.
        features: What node features a feature-only model saw (``None`` for graph models).
        imbalance: The applied imbalance record, if any.
        split: The split record.
        proba: Class probabilities of every target node ``[N, C]``.
        y: Labels of every target node.
        masks: ``{"train"|"val"|"test": bool mask}``.
        warnings: Signs of a collapsed run (see :mod:`hetero_imb.training.diagnostics`).
    """

    config: RunConfig
    class_names: list[str]
    metrics: dict[str, dict[str, Any]]
    class_counts: dict[str, list[int]]
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    timing: dict[str, float] = field(default_factory=dict)
    features: str | None = None
    imbalance: dict[str, Any] | None = None
    split: dict[str, Any] | None = None
    proba: Tensor | None = None
    y: Tensor | None = None
    masks: dict[str, Tensor] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of ``results.json``."""
        cfg = self.config
        return {
            "dataset": cfg.dataset,
            "model": cfg.model,
            "loss": cfg.loss,
            "loss_params": cfg.loss_params,
            "sampler": cfg.sampler,
            "sampler_params": cfg.sampler_params,
            "seed": cfg.seed,
            "imbalance": self.imbalance,
            "split": self.split,
            "features": self.features,
            "class_names": self.class_names,
            "class_counts": self.class_counts,
            "best_epoch": self.best_epoch,
            "metrics": self.metrics,
            "timing": self.timing,
            "warnings": self.warnings,
            "versions": versions(),
        }

    def predictions(self) -> Tensor:
        """Predicted class of every target node."""
        if self.proba is None:
            raise ValueError("this result holds no probabilities")
        return self.proba.argmax(dim=-1)


def save_run(result: RunResult, out_dir: str | os.PathLike) -> Path:
    """Write a run folder (see module docstring) and return its path.

    A new folder is assembled under a temporary name beside ``out_dir`` and renamed
    into place; an existing folder has its files replaced one by one, atomically.
    """
    out = Path(out_dir)

    def write_all(folder: Path) -> None:
        atomic_write_text(folder / "config.yaml", to_yaml(result.config))
        atomic_write_text(
            folder / "history.jsonl", "".join(json.dumps(row) + "\n" for row in result.history)
        )
        if result.proba is not None:
            atomic_write(
                folder / "predictions.pt",
                lambda tmp: torch.save(
                    {"proba": result.proba, "y": result.y, "masks": result.masks}, tmp
                ),
            )
        # results.json last: its presence marks a complete run.
        atomic_write_json(folder / "results.json", result.to_dict())

    if out.exists():
        # the old results.json goes first: a crash midway must not leave old metrics
        # beside a new config (a folder without results.json is an unfinished run)
        (out / "results.json").unlink(missing_ok=True)
        write_all(out)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        write_all(staging)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def load_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read ``results.json`` of a finished run folder."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: not a finished run folder")
    return json.loads(path.read_text(encoding="utf-8"))
