"""The ``hetero_imb.train`` command line, run in-process on the synthetic graph
(fast) and on the real datasets of the mirror (slow)."""

import json
import subprocess
import sys

import pytest
import yaml

from hetero_imb.cli.train import main
from hetero_imb.data.datasets import load
from hetero_imb.models import MODELS

FAST = ["--dataset", "synthetic", "--epochs", "2", "--no-progress", "--hidden", "8"]


def _run(tmp_path, *args, name="run"):
    out = tmp_path / name
    code = main([*args, "--out", str(out)])
    return code, out


@pytest.mark.parametrize("model", MODELS.names())
def test_every_model_trains_two_epochs_on_synthetic(tmp_path, model, capsys):
    code, out = _run(tmp_path, *FAST, "--model", model, "--loss", "ce")
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    assert res["model"] == model and res["dataset"] == "synthetic" and res["loss"] == "ce"
    for split in ("train", "val", "test"):
        m = res["metrics"][split]
        for key in ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "g_mean",
                    "auroc_macro", "auprc_macro", "per_class"):
            assert key in m
        assert sum(res["class_counts"][split]) > 0
    assert set(res["timing"]) >= {"fit_seconds", "epochs", "seconds_per_epoch"}
    assert res["versions"]["torch"] and res["versions"]["torch_geometric"]
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["model"] == model and cfg["epochs"] == 2
    history = (out / "history.jsonl").read_text().splitlines()
    if MODELS.get(model).kind == "neural":
        assert len(history) == 2 and json.loads(history[0])["epoch"] == 1
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and "balanced" in printed.lower()


def test_same_seed_identical_metrics(tmp_path):
    args = [*FAST, "--model", "rgcn", "--loss", "focal", "--seed", "7", "--epochs", "5"]
    _, a = _run(tmp_path, *args, name="a")
    _, b = _run(tmp_path, *args, name="b")
    ra, rb = (json.loads((p / "results.json").read_text()) for p in (a, b))
    assert ra["metrics"] == rb["metrics"]
    _, c = _run(tmp_path, *[*args[:-2], "--seed", "8", "--epochs", "5"], name="c")
    assert json.loads((c / "results.json").read_text())["metrics"] != ra["metrics"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--model", "nope"], "unknown model 'nope'"),
        (["--dataset", "nope"], "unknown dataset 'nope'"),
        (["--loss", "nope"], "unknown loss 'nope'"),
        (["--sampler", "nope"], "unknown sampler 'nope'"),
        (["--imbalance", "steps:10"], "--imbalance"),
        (["--split", "random"], "split must be"),
        (["--loss", "focal", "--loss-param", "gamma=abc"], "gamma"),
        (["--loss", "focal", "--loss-param", "gama=1"], "gama"),
        (["--model-param", "noequals"], "NAME=VALUE"),
        (["--model-param", "nosuch=1"], "nosuch"),
        (["--imbalance-mode", "zap"], "invalid choice"),
    ],
)
def test_bad_flags_exit_2_listing_choices_and_write_nothing(tmp_path, capsys, args, needle):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        main([*FAST, "--model", "gcn", *args, "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    if "unknown model" in needle:
        assert all(name in err for name in MODELS.names())
    assert not out.exists()


def test_config_file_then_flags(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dataset: synthetic\nmodel: mlp\nepochs: 3\nloss: weighted\n"
                   "grid: {models: [mlp, gcn]}\n")
    code, out = _run(tmp_path, "--config", str(cfg), "--epochs", "2", "--no-progress")
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    assert res["model"] == "mlp" and res["loss"] == "weighted"
    assert yaml.safe_load((out / "config.yaml").read_text())["epochs"] == 2


def test_help_lists_registered_choices():
    proc = subprocess.run([sys.executable, "-m", "hetero_imb.train", "--help"],
                          capture_output=True, text=True, check=True)
    for name in ["freebase", "facebook", "rgcn", "han", "metapath2vec", "focal", "xgboost"]:
        assert name in proc.stdout


@pytest.fixture(scope="module")
def real_root(tmp_path_factory):
    """A private data root: raw files come from the mirror, the cache goes here."""
    root = tmp_path_factory.mktemp("data")
    for name in ("freebase", "facebook"):
        load(name, root=root)  # process once for the module
    return root


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["freebase", "facebook"])
@pytest.mark.parametrize("model", MODELS.names())
def test_every_model_two_epochs_on_real_data(tmp_path, real_root, monkeypatch, dataset, model):
    monkeypatch.setenv("HETERO_IMB_DATA", str(real_root))  # caches (embeddings too) go there
    extra = ["--model-param", "embedding_epochs=1", "--model-param", "walks_per_node=1"] if model == "metapath2vec" else []
    extra += ["--model-param", "n_estimators=5"] if model == "xgboost" else []
    code, out = _run(tmp_path, "--dataset", dataset, "--model", model, "--loss", "ce",
                     "--epochs", "2", "--no-progress", "-q", *extra)
    assert code == 0
    res = json.loads((out / "results.json").read_text())
    expected_total = {"freebase": 3492, "facebook": 22470}[dataset]
    assert sum(sum(v) for v in res["class_counts"].values()) == expected_total
    assert 0.0 <= res["metrics"]["test"]["macro_f1"] <= 1.0


@pytest.mark.parametrize("model", ["rgcn", "han"])
def test_minibatch_flag(tmp_path, model):
    code, out = _run(tmp_path, *FAST, "--model", model, "--batch-size", "32",
                     "--num-neighbors", "5,5", "--balanced-batches", "--sampler", "oversample-neighbors")
    assert code == 0
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["batch_size"] == 32 and cfg["num_neighbors"] == [5, 5] and cfg["balanced_batches"]


def test_split_without_validation_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*FAST, "--model", "gcn", "--split", "stratified:0.8,0,0.2", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2 and "no validation part" in capsys.readouterr().err


def test_class_too_small_is_a_clear_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "x"
    code = main([*FAST, "--model", "gcn", "--imbalance", "counts:100,50,20,2", "--out", str(out)])
    assert code == 1
    assert "class 'class_3' (3) has 2 labelled nodes" in capsys.readouterr().err
    assert not out.exists()
