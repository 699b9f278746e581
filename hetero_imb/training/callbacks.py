"""Per-epoch callbacks for :func:`hetero_imb.training.engine.fit`.

A callback is any callable taking the epoch's record (``epoch``, ``loss``,
``val_macro_f1``, ``seconds``, ``epochs`` — the maximum — and ``best_epoch``). Two
are provided:

* :class:`ProgressLines`: one log line every ``every_seconds`` with the epoch,
  elapsed time and an ETA — what a redirected run prints instead of a progress bar;
* :class:`TensorBoardLogger`: TensorBoard event files (``pip install
  'hetero_imb[tensorboard]'``).

The per-epoch CSV (``history.csv``) is written with the run folder from the same
records (see :mod:`hetero_imb.report.predictions`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["ProgressLines", "TensorBoardLogger", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``"1h02m"``, ``"3m05s"`` or ``"12s"``.

    Example:
        >>> format_seconds(3725), format_seconds(185), format_seconds(12.4)
        ('1h02m', '3m05s', '12s')
    """
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class ProgressLines:
    """Periodic one-line progress (epoch, loss, val macro-F1, elapsed, ETA).

    Args:
        label: What is trained (first word of each line).
        every_seconds: Minimum time between two lines (the last epoch always prints).
        stream: Where lines go (default ``sys.stderr``).
        clock: Time source (``time.monotonic``; tests pass a fake one).

    Example:
        >>> import io
        >>> ticks = iter([0.0, 10.0, 20.0])
        >>> out = io.StringIO()
        >>> lines = ProgressLines("gcn", every_seconds=5, stream=out, clock=lambda: next(ticks))
        >>> lines({"epoch": 1, "epochs": 4, "loss": 1.0, "val_macro_f1": 0.5, "best_epoch": 1})
        >>> print(out.getvalue().strip())
        gcn epoch 1/4 loss 1.0000 val macro-F1 0.5000 (best epoch 1) elapsed 10s eta 30s
    """

    def __init__(self, label: str, every_seconds: float = 30.0, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.every_seconds = every_seconds
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.last: float | None = None

    def __call__(self, record: dict[str, Any]) -> None:
        now = self.clock()
        epoch, epochs = int(record["epoch"]), int(record.get("epochs", record["epoch"]))
        due = self.last is None or now - self.last >= self.every_seconds or epoch >= epochs
        if not due:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / epoch * (epochs - epoch) if epoch else 0.0
        line = (
            f"{self.label} epoch {epoch}/{epochs} loss {record['loss']:.4f} "
            f"val macro-F1 {record['val_macro_f1']:.4f} (best epoch {record.get('best_epoch', '?')}) "
            f"elapsed {format_seconds(elapsed)} eta {format_seconds(eta)}"
        )
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()


class TensorBoardLogger:
    """Writes ``loss`` and ``val_macro_f1`` of every epoch as TensorBoard scalars.

    Args:
        log_dir: Folder of the event files.

    Raises:
        ImportError: the ``tensorboard`` package is missing (one line naming the extra).
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ImportError(
                "--tensorboard needs the tensorboard package: pip install 'hetero_imb[tensorboard]'"
            ) from err
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def __call__(self, record: dict[str, Any]) -> None:
        step = int(record["epoch"])
        for key in ("loss", "val_macro_f1", "seconds"):
            if key in record:
                self.writer.add_scalar(f"train/{key}", float(record[key]), step)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.flush()
        self.writer.close()
