"""fit's per-epoch callbacks: progress lines with elapsed time and ETA, TensorBoard."""

import io

import pytest

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.graph import class_counts, class_names, split_mask
from hetero_imb.models import build_model
from hetero_imb.training.callbacks import ProgressLines, TensorBoardLogger
from hetero_imb.training.engine import fit


def _fit(data, callbacks, epochs=4):
    model = build_model("mlp", data, hidden=8)
    loss = build_loss("ce", class_counts=class_counts(data, split_mask(data, "train")),
                      class_names=class_names(data))
    return fit(model, data, loss=loss, epochs=epochs, patience=None, progress=False,
               callbacks=callbacks)


def test_every_epoch_reaches_every_callback(toy_split):
    seen = []
    out = _fit(toy_split, [seen.append])
    assert [r["epoch"] for r in seen] == [1, 2, 3, 4]
    assert all(r["epochs"] == 4 and "loss" in r and "val_macro_f1" in r for r in seen)
    assert [r["epoch"] for r in out.history] == [1, 2, 3, 4]


def test_progress_lines_are_periodic_with_eta():
    ticks = iter([0.0, 1.0, 2.0, 40.0, 41.0])
    out = io.StringIO()
    lines = ProgressLines("gcn", every_seconds=30, stream=out, clock=lambda: next(ticks))
    for epoch in (1, 2, 3, 4):
        lines({"epoch": epoch, "epochs": 4, "loss": 0.5, "val_macro_f1": 0.7, "best_epoch": 1})
    text = out.getvalue().splitlines()
    # epoch 1 (first), epoch 3 (30 s after the last line) and epoch 4 (the last)
    assert [t.split()[2] for t in text] == ["1/4", "3/4", "4/4"]
    assert text[0].endswith("elapsed 1s eta 3s") and text[1].endswith("elapsed 40s eta 13s")


def test_tensorboard_event_files(tmp_path, toy_split):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(tmp_path / "tb")
    _fit(toy_split, [logger], epochs=3)
    logger.close()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert [s.step for s in events.Scalars("train/loss")] == [1, 2, 3]
    assert len(events.Scalars("train/val_macro_f1")) == 3


def test_train_cli_tensorboard_flag(tmp_path):
    pytest.importorskip("tensorboard")
    from hetero_imb.cli.train import main

    code = main(["--dataset", "synthetic", "--model", "mlp", "--epochs", "2", "--hidden", "8",
                 "-q", "--tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path / "run")])
    assert code == 0 and list((tmp_path / "tb").glob("events.out.tfevents.*"))
