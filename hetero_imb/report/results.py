"""The result of one run, and how it is written to a run folder.

A run folder holds ``config.yaml`` (the resolved config), ``history.jsonl`` (one
line per epoch), ``results.json`` (metrics, class counts, timing, versions) and
``predictions.pt`` (class probabilities of every target node). The folder is written
under a temporary name and put in place only once complete (replacing an older one
in a single step), so a folder with a ``results.json`` is always a finished run.
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

from .._io import default_mode, replace_dir, save_torch
from ..training.config import RunConfig, to_yaml
from .checkpoint import write_run_files


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
        node_ids: The user's id of every target node (see :mod:`hetero_imb.report.predictions`).
        decision: Tuned decision offsets and the metrics they give, if tuned
            (see :mod:`hetero_imb.training.decision`).
        checkpoint: What ``model.pt`` holds (see :mod:`hetero_imb.report.checkpoint`).
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
    node_ids: list[Any] | None = None
    decision: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = field(default=None, repr=False)
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
            "smoother": cfg.smoother,
            "smoother_params": cfg.smoother_params,
            "seed": cfg.seed,
            "world_size": cfg.world_size,
            "backend": cfg.backend,
            "imbalance": self.imbalance,
            "split": self.split,
            "features": self.features,
            "class_names": self.class_names,
            "class_counts": self.class_counts,
            "best_epoch": self.best_epoch,
            "metrics": self.metrics,
            "decision": self.decision,
            "timing": self.timing,
            "warnings": self.warnings,
            "versions": versions(),
        }

    def predictions(self) -> Tensor:
        """Predicted class of every target node (multi-label: multi-hot label sets at the
        tuned thresholds, else 0.5)."""
        if self.proba is None:
            raise ValueError("this result holds no probabilities")
        if self.y is not None and self.y.dim() == 2:
            thresholds = (self.decision or {}).get("thresholds") or [0.5] * self.proba.size(1)
            return (self.proba >= torch.tensor(thresholds, dtype=self.proba.dtype)).long()
        return self.proba.argmax(dim=-1)


class SaveError(OSError):
    """A run folder could not be written; the message says where the results are."""


def _write_files(result: RunResult, folder: Path) -> None:
    """Every file of a run folder, written into ``folder`` (a private staging folder)."""
    (folder / "config.yaml").write_text(to_yaml(result.config), encoding="utf-8")
    (folder / "history.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in result.history), encoding="utf-8"
    )
    if result.proba is not None:
        save_torch({"proba": result.proba, "y": result.y, "masks": result.masks},
                   folder / "predictions.pt")
    write_run_files(result, folder)  # model.pt, predictions.csv, history.csv
    # results.json last: its presence marks a complete run.
    (folder / "results.json").write_text(
        json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8"
    )


def _stage(result: RunResult, parent: Path, name: str) -> Path:
    """Write the run into a new folder ``.<name>.*.tmp`` under ``parent``, with the
    permissions of a normal folder; remove it again on any failure."""
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    try:
        _write_files(result, staging)
        os.chmod(staging, default_mode(directory=True))  # mkdtemp made it 0700
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


#: Files that mark a folder as a run folder (finished, or a grid's failed run), which
#: :func:`save_run` may replace without ``overwrite``.
RUN_FILES = ("results.json", "config.yaml", "model.pt", "error.json")


def save_run(result: RunResult, out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a run folder (see module docstring) and return its path.

    The whole folder is written under a temporary name beside ``out_dir`` and then
    put in place in one step (:func:`hetero_imb._io.replace_dir`), replacing a run
    folder already there: a process killed while saving leaves either the old folder
    or the new one, never a mix. Files and folder get the user's normal permissions.

    Args:
        result: The run.
        out_dir: The run folder.
        overwrite: Also replace an existing non-empty folder that is not a run folder
            (holds none of :data:`RUN_FILES`); its content is deleted.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a non-empty folder that is not a run
            folder and ``overwrite`` is false (checked before anything is written).
        SaveError: the folder could not be written; the results were saved elsewhere
            (a folder under the system's temporary directory, or the complete staging
            folder) and the message says where.
    """
    out = Path(out_dir)
    _check_replaceable(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = _stage(result, out.parent, out.name)
    except OSError as err:
        rescue = _stage(result, Path(tempfile.gettempdir()), "hetero_imb-run")
        raise SaveError(
            f"could not write the run folder {out} ({err}); the results were saved to {rescue}"
        ) from err
    try:
        replace_dir(staging, out)
    except OSError as err:
        raise SaveError(
            f"could not move the run folder into place at {out} ({err}); the complete "
            f"results are in {staging}"
        ) from err
    return out


def _check_replaceable(out: Path, overwrite: bool) -> None:
    """Refuse to put a run where a file, or a folder of something else, would be lost."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"out_dir {str(out)!r} is an existing file; expected a folder path")
    if overwrite or not out.is_dir() or not any(out.iterdir()):
        return
    if not any((out / name).exists() for name in RUN_FILES):
        raise FileExistsError(
            f"out_dir {str(out)!r} is a non-empty folder that is not a run folder (none of "
            f"{', '.join(RUN_FILES)}); expected a new or run folder (pass overwrite=True to "
            "replace it and delete its content)"
        )
