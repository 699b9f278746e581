"""``--eval-every`` and the progress lines of a redirected mini-batch run."""

import json
import logging
import math

import pytest
import yaml

from hetero_imb.cli.train import main

FAST = ["--dataset", "synthetic", "--model", "rgcn", "--hidden", "8", "--no-progress"]


def test_eval_every_is_saved_and_skips_evaluations(tmp_path):
    out = tmp_path / "run"
    assert main([*FAST, "--epochs", "3", "--eval-every", "2", "--batch-size", "64",
                 "--out", str(out)]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["eval_every"] == 2
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [math.isnan(h["val_macro_f1"]) for h in history] == [True, False, False]


@pytest.mark.parametrize("value", ["0", "-1"])
def test_bad_eval_every_exits_2_naming_it(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exc:
        main([*FAST, "--eval-every", value, "--out", str(tmp_path / "run")])
    assert exc.value.code == 2
    assert f"eval_every must be an integer >= 1, got {value}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_redirected_minibatch_run_logs_progress_inside_epochs(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("hetero_imb.training.inference.PROGRESS_SECONDS", 0.0)  # every batch
    try:  # stderr is no terminal here: the CLI turns the loop's INFO lines on
        assert main(["--dataset", "synthetic", "--model", "rgcn", "--hidden", "8",
                     "--epochs", "1", "--batch-size", "100",
                     "--out", str(tmp_path / "run")]) == 0
    finally:
        logging.getLogger("hetero_imb.training").setLevel(logging.NOTSET)
    lines = [r.getMessage() for r in caplog.records if r.name == "hetero_imb.training.inference"]
    assert "train epoch 1/1: batch 1/2, elapsed 0s, eta 0s" in lines
    assert any(line.startswith("evaluate epoch 1: batch") for line in lines)
    assert any(line.startswith("final prediction: batch") for line in lines)


def test_eval_num_neighbors_is_saved_and_used_for_the_final_prediction(tmp_path):
    probas = {}
    for fanout in ("1,1", "-1,-1"):
        out = tmp_path / fanout
        assert main([*FAST, "--epochs", "2", "--batch-size", "64", f"--eval-num-neighbors={fanout}",
                     "--out", str(out)]) == 0
        saved = yaml.safe_load((out / "config.yaml").read_text())["eval_num_neighbors"]
        assert saved == [int(k) for k in fanout.split(",")]
        probas[fanout] = (out / "predictions.csv").read_text()
    # same seed, same training batches: only the evaluation fan-out differs, and it shows
    assert probas["1,1"] != probas["-1,-1"]


@pytest.mark.parametrize(("value", "message"), [
    ("0,0", "eval_num_neighbors must be a non-empty list of integers >= 1 (or -1 = all), got [0, 0]"),
    ("5", "eval_num_neighbors must have one entry per hop like num_neighbors (2), got [5]"),
    ("a,b", "--eval-num-neighbors expects integers like 10,10, got 'a,b'"),
])
def test_bad_eval_num_neighbors_exits_2_naming_it(tmp_path, capsys, value, message):
    with pytest.raises(SystemExit) as exc:
        main([*FAST, "--batch-size", "64", "--eval-num-neighbors", value, "--out", str(tmp_path / "run")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
