"""``python -m hetero_imb.predict`` on run folders written by ``hetero_imb.train``."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import hetero_imb as hi
from hetero_imb.cli.predict import main as predict
from hetero_imb.cli.train import main as train
from hetero_imb.data.datasets import load

FAST = ["--dataset", "synthetic", "--epochs", "3", "--no-progress", "--hidden", "8", "-q"]


def _train(tmp_path, *args):
    out = tmp_path / "run"
    assert train([*FAST, *args, "--out", str(out)]) == 0
    return out


def _check_against_run(run, csv):
    frame = pd.read_csv(csv)
    saved = torch.load(run / "predictions.pt")
    names = json.loads((run / "results.json").read_text())["class_names"]
    probs = frame[[f"proba_{n}" for n in names]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    test = saved["masks"]["test"].numpy()
    expected = [names[i] for i in saved["proba"].argmax(-1)[saved["masks"]["test"]].tolist()]
    assert frame["predicted"][test].tolist() == expected
    assert (frame["split"][test] == "test").all()
    return frame


def test_predict_reproduces_the_runs_test_predictions(tmp_path):
    run = _train(tmp_path, "--model", "gcn")
    assert predict([str(run), "--out", str(tmp_path / "p.csv")]) == 0
    frame = _check_against_run(run, tmp_path / "p.csv")
    assert len(frame) == load("synthetic")["item"].num_nodes
    assert frame.columns[:4].tolist() == ["node_id", "split", "label", "predicted"]


def test_dropped_nodes_keep_their_raw_ids(tmp_path):
    run = _train(tmp_path, "--model", "mlp", "--imbalance", "counts:100,40,20,10", "--imbalance-mode", "drop")
    assert predict([str(run), "--out", str(tmp_path / "p.csv")]) == 0
    frame = _check_against_run(run, tmp_path / "p.csv")
    total = load("synthetic")["item"].num_nodes
    assert len(frame) < total and frame["node_id"].max() > len(frame) - 1  # ids not renumbered
    labels = load("synthetic")["item"].y.numpy()
    names = json.loads((run / "results.json").read_text())["class_names"]
    assert frame["label"].tolist() == [names[labels[i]] for i in frame["node_id"]]


def test_dataset_flag_scores_every_node_as_loaded(tmp_path):
    run = _train(tmp_path, "--model", "rgcn", "--imbalance", "step:5")
    assert predict([str(run), "--dataset", "synthetic", "--out", str(tmp_path / "all.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "all.csv")) == load("synthetic")["item"].num_nodes


def test_graph_file_input(tmp_path):
    run = _train(tmp_path, "--model", "mlp")
    torch.save(load("synthetic"), tmp_path / "g.pt")
    assert predict([str(run), "--graph", str(tmp_path / "g.pt"), "--out", str(tmp_path / "g.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "g.csv")) == load("synthetic")["item"].num_nodes


def test_not_a_run_folder_exits_2(tmp_path, capsys):
    assert predict([str(tmp_path), "--out", str(tmp_path / "p.csv")]) == 2
    assert "model.pt does not exist" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def _refused(args, capsys):
    """Exit status and stderr of a predict call that must be refused in one line."""
    try:
        code = predict(args)
    except SystemExit as stop:  # argparse-level errors exit from the parser
        code = stop.code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m hetero_imb.predict: error: "), err
    return code, err


def test_bad_inputs_exit_2_in_one_line_before_scoring(tmp_path, capsys):
    run = _train(tmp_path, "--model", "mlp")
    capsys.readouterr()
    (tmp_path / "text.pt").write_text("not a graph")
    torch.save({"item": 1}, tmp_path / "dict.pt")
    cases = [
        (["--out", str(run)], "--out: .* is an existing folder; expected a file path"),
        (["--out", ""], "--out: expected a file path, got ''"),
        (["--graph", str(tmp_path / "text.pt")], "is not a file saved with torch.save"),
        (["--graph", str(tmp_path / "dict.pt")], "holds a dict; expected a torch_geometric"),
        (["--graph", str(tmp_path)], "is a folder; expected a file saved with torch.save"),
        (["--dataset", "synthetic", "--root", str(tmp_path / "nope")],
         r"--root: .*nope does not exist; expected an existing data folder$"),
        (["--dataset-option", "num_items=50"], "--dataset-option applies to --dataset"),
        (["--plugin", ""], "plugin module must be an importable module name"),
        (["--dataset", "synthetic", "--graph", "x.pt"], "not allowed with argument --dataset"),
    ]
    for extra, message in cases:
        code, err = _refused([str(run), *extra], capsys)
        assert code == 2 and re.search(message, err.strip().removesuffix(" (see --help)")), err
    assert not (tmp_path / "nope").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dict.pt", "run", "text.pt"]


def test_a_failed_write_exits_1_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    run = _train(tmp_path, "--model", "mlp")
    capsys.readouterr()

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    code, err = _refused([str(run), "--out", str(tmp_path / "p.csv")], capsys)
    assert code == 1 and "could not write" in err and "No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_run_folder_holds_checkpoint_csvs_and_tuned_report(tmp_path, capsys):
    out = tmp_path / "tuned"
    assert train([*FAST[:-1], "--model", "mlp", "--tune-decision", "macro-f1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "TEST with tuned decisions (macro-f1" in text
    res = json.loads((out / "results.json").read_text())
    assert res["decision"]["spec"] == "macro-f1" and "test" in res["decision"]["metrics"]
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3] and "val_macro_f1" in history
    assert {"model.pt", "predictions.csv"} <= {p.name for p in out.iterdir()}


def test_min_recall_decision_runs_from_the_cli(tmp_path):
    out = tmp_path / "min-recall"
    assert train([*FAST, "--model", "mlp", "--tune-decision", "min-recall:class_3:0.8",
                  "--out", str(out)]) == 0
    decision = json.loads((out / "results.json").read_text())["decision"]
    assert decision["spec"] == "min-recall:class_3:0.8" and len(decision["offsets"]) == 4


def test_bad_tune_decision_exits_2(tmp_path):
    with pytest.raises(SystemExit) as info:
        train([*FAST, "--tune-decision", "recall:x", "--out", str(tmp_path / "r")])
    assert info.value.code == 2 and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_facebook_train_then_predict_subprocess(tmp_path):
    run = tmp_path / "fb"
    cmd = [sys.executable, "-m", "hetero_imb.train", "--dataset", "facebook", "--model", "gcn",
           "--epochs", "3", "--hidden", "16", "--out", str(run)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "gcn epoch 3/3" in done.stderr  # progress lines when stderr is not a terminal
    csv = tmp_path / "fb.csv"
    subprocess.run([sys.executable, "-m", "hetero_imb.predict", str(run), "--out", str(csv)],
                   check=True, capture_output=True)
    frame = _check_against_run(run, csv)
    assert len(frame) == 22470 and frame["node_id"].tolist() == list(range(22470))
    assert set(frame["predicted"]) <= {"tvshow", "company", "government", "politician"}


def _fraud_graph(n_new=0):
    rng = np.random.default_rng(1)
    n = 100 + 10
    fraud = rng.random(n) < 0.2
    users = pd.DataFrame({"user_id": [f"user-{i}" for i in range(100)] + [f"late-{i}" for i in range(10)],
                          "age": rng.normal(np.where(fraud, 20, 40), 5),
                          "label": np.where(fraud, "fraud", "ok").astype(object)})
    users.loc[100:, "label"] = None
    devices = pd.DataFrame({"device_id": [f"dev-{j}" for j in range(8)]})
    uses = pd.DataFrame({"src": users["user_id"], "dst": [f"dev-{j}" for j in rng.integers(0, 8, n)]})
    keep = 100 + n_new
    return hi.from_pandas({"user": users.iloc[:keep], "device": devices},
                          {("user", "uses", "device"): uses.iloc[:keep]},
                          target="user", node_id={"user": "user_id", "device": "device_id"})


def test_string_ids_and_ten_new_nodes_through_the_cli(tmp_path):
    data = hi.stratified_split(_fraud_graph(), seed=0)
    config = hi.RunConfig(dataset="custom", model="gcn", split="given", epochs=5,
                          model_params={"hidden": 8})
    run = hi.save_run(hi.run(config, data=data, progress=False), tmp_path / "run")
    torch.save(data, tmp_path / "same.pt")
    torch.save(_fraud_graph(10), tmp_path / "grown.pt")
    assert predict([str(run), "--graph", str(tmp_path / "same.pt"), "--out", str(tmp_path / "a.csv")]) == 0
    frame = _check_against_run(run, tmp_path / "a.csv")
    assert frame["node_id"].tolist() == [f"user-{i}" for i in range(100)]
    assert predict([str(run), "--graph", str(tmp_path / "grown.pt"), "--out", str(tmp_path / "b.csv")]) == 0
    grown = pd.read_csv(tmp_path / "b.csv")
    late = grown[grown["node_id"].str.startswith("late-")]
    assert len(late) == 10 and late["predicted"].isin(["fraud", "ok"]).all()
    np.testing.assert_allclose(late[["proba_fraud", "proba_ok"]].sum(axis=1), 1.0, atol=1e-5)
    # without --graph, a run trained on a graph passed in code says what to do
    assert predict([str(run), "--out", str(tmp_path / "c.csv")]) == 2
