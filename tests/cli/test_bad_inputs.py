"""Bad-input corpus of the command lines, run in-process on the synthetic graph.

Every case asserts the exit status (2: usage/configuration, 1: data), that stderr
is at most two lines naming the parameter, and that nothing was written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from hetero_imb.cli import compare as compare_cli
from hetero_imb.cli import train as train_cli

FAST = ["--dataset", "synthetic", "--epochs", "2", "--no-progress", "-q", "--hidden", "8"]


@pytest.fixture
def place(tmp_path):
    """``(outs, root)``: an empty folder for outputs and an existing data root."""
    outs, root = tmp_path / "outs", tmp_path / "data"
    outs.mkdir()
    root.mkdir()
    return outs, root


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _call(main, argv, capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def _check(code, err, expected_code, needles, outs, before):
    assert code == expected_code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    assert "usage:" not in err and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert _tree(outs) == before, "something was written"


def _train(place, capsys, *args, out="run", code=2, needles=()):
    outs, root = place
    before = _tree(outs)
    argv = [*FAST, "--root", str(root), "--out", str(outs / out), *args]
    got, err = _call(train_cli.main, argv, capsys)
    _check(got, err, code, needles, outs, before)
    return err


USAGE_CASES = {
    "prefix-flag": (["--epoch", "1"], ["--epoch"]),
    "unknown-flag": (["--bogus"], ["--bogus"]),
    "epochs-0": (["--epochs", "0"], ["epochs", ">= 1", "got 0"]),
    "epochs-not-int": (["--epochs", "abc"], ["--epochs", "'abc'"]),
    "dropout-1.5": (["--dropout", "1.5"], ["dropout", "< 1", "1.5"]),
    "hidden-0": (["--hidden", "0"], ["hidden", "got 0"]),
    "layers-0": (["--layers", "0"], ["num_layers", "got 0"]),
    "lr-negative": (["--lr", "-0.1"], ["lr", "-0.1"]),
    "seed-negative": (["--seed", "-1"], ["seed", "got -1"]),
    "patience-negative": (["--patience", "-1"], ["patience", "got -1"]),
    "batch-size-0": (["--batch-size", "0"], ["batch_size", "got 0"]),
    "num-neighbors-text": (["--num-neighbors", "a,b"], ["--num-neighbors", "'a,b'"]),
    "split-over-1": (["--split", "stratified:0.9,0.2,0.2"], ["split", "1.3"]),
    "split-unknown": (["--split", "random"], ["split must be", "'random'"]),
    "split-no-test": (["--split", "stratified:0.6,0.4,0"], ["split", "has no test part"]),
    "plugin-empty": (["--plugin", ""], ["plugin module must be an importable module name"]),
    "num-neighbors-full-batch": (["--num-neighbors", "10,10"],
                                 ["--num-neighbors applies to mini-batch training"]),
    "balanced-batches-full-batch": (["--balanced-batches"], ["--balanced-batches applies to"]),
    "kfold-bad-fold": (["--split", "kfold:5:7"], ["split", "kfold:5:7"]),
    "imbalance-malformed": (["--imbalance", "steps:10"], ["--imbalance", "steps:10"]),
    "imbalance-ratio-1": (["--imbalance", "step:1"], ["--imbalance", "> 1"]),
    "imbalance-mode": (["--imbalance-mode", "zap"], ["--imbalance-mode", "zap"]),
    "counts-wrong-length": (["--imbalance", "counts:1,2"], ["counts", "2 counts", "4 classes"]),
    "weights-wrong-length": (
        ["--loss", "weighted", "--loss-param", "weights=1,2"], ["weights", "expected 4", "got 2"]
    ),
    "tune-decision-unknown-class": (
        ["--tune-decision", "min-recall:nobody:0.8"], ["tune_decision", "'nobody'", "class_3"]
    ),
    "tune-decision-recall-unknown-class": (
        ["--tune-decision", "recall:nobody:0.5"], ["tune_decision", "'nobody'", "class_0"]
    ),
    "unknown-model": (["--model", "nope"], ["model", "'nope'", "rgcn"]),
    "unknown-dataset": (["--dataset", "nope"], ["dataset", "'nope'", "synthetic"]),
    "unknown-loss": (["--loss", "nope"], ["loss", "'nope'", "focal"]),
    "unknown-sampler": (["--sampler", "nope"], ["sampler", "'nope'", "undersample"]),
    "loss-param-typo": (["--loss", "focal", "--loss-param", "gama=1"], ["gama", "gamma", "alpha"]),
    "loss-param-value": (["--loss", "focal", "--loss-param", "gamma=abc"], ["gamma", "abc"]),
    "sampler-param-range": (
        ["--sampler", "oversample-random", "--sampler-param", "target_ratio=-1"],
        ["target_ratio", "-1"],
    ),
    "model-param-unknown": (["--model-param", "nosuch=1"], ["nosuch", "hidden"]),
    "model-param-no-equals": (["--model-param", "noequals"], ["--model-param", "NAME=VALUE"]),
    "dataset-option-seed-overflow": (
        ["--dataset-option", "seed=99999999999999999999"], ["seed must be an integer >= 0 and < 2**63"]
    ),
    "dataset-option-relation": (
        ["--dataset-option", "num_items=3"], ["dataset 'synthetic': num_items", "got 3"]
    ),
    "dataset-option-typo": (
        ["--dataset-option", "num_itemz=100"], ["num_itemz", "num_items", "homophily"]
    ),
}
if not torch.cuda.is_available():
    USAGE_CASES["device-cuda-missing"] = (["--device", "cuda"], ["device", "'cuda'", "CUDA"])
USAGE_CASES["device-unknown"] = (["--device", "tpu"], ["device", "'tpu'"])


@pytest.mark.parametrize("case", sorted(USAGE_CASES))
def test_train_usage_errors_exit_2_one_line_nothing_written(place, capsys, case):
    args, needles = USAGE_CASES[case]
    _train(place, capsys, *args, code=2, needles=needles)


def test_config_file_malformed_yaml(place, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [rgcn\nloss: : :\n")
    _train(place, capsys, "--config", str(bad), needles=["config file", "bad.yaml", "YAML"])


def test_config_file_missing_and_unknown_key(place, capsys, tmp_path):
    _train(place, capsys, "--config", str(tmp_path / "none.yaml"), needles=["none.yaml"])
    odd = tmp_path / "odd.yaml"
    odd.write_text("epochz: 3\n")
    _train(place, capsys, "--config", str(odd), needles=["epochz", "epochs"])


def test_config_file_bad_value(place, capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_params: {dropout: 2}\n")
    _train(place, capsys, "--config", str(cfg), needles=["dropout", "2"])


@pytest.mark.parametrize(("text", "needles"), [
    ("standardize: 'no'\n", ["standardize must be true or false, got 'no'"]),
    ("standardize: 5\n", ["standardize must be true or false, got 5"]),
    ("root: 5\n", ["root must be a folder path (text) or null, got 5"]),
])
def test_config_file_values_of_the_wrong_type(place, capsys, tmp_path, text, needles):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)  # "no" was read as true: features standardised all the same
    outs, _ = place
    before = _tree(outs)
    code, err = _call(train_cli.main, [*FAST, "--config", str(cfg), "--out", str(outs / "r")],
                      capsys)
    _check(code, err, 2, needles, outs, before)


def test_config_file_key_given_twice(place, capsys, tmp_path):
    cfg = tmp_path / "twice.yaml"
    cfg.write_text("epochs: 3\nmodel: gcn\nepochs: 5\n")  # YAML keeps the last silently
    _train(place, capsys, "--config", str(cfg),
           needles=["twice.yaml", "line 3, column 1: key 'epochs' is given twice"])


def test_empty_out_is_refused(place, capsys):
    _train(place, capsys, "--out", "", needles=["--out: expected a folder path, got ''"])


def test_config_file_not_text_or_a_folder(place, capsys, tmp_path):
    binary = tmp_path / "c.yaml"
    binary.write_bytes(b"model: rgcn\n\xff\xfe\n")
    _train(place, capsys, "--config", str(binary), needles=["c.yaml", "is not UTF-8 text"])
    _train(place, capsys, "--config", str(tmp_path), needles=["is a folder; expected a YAML"])


def test_data_root_from_the_environment_is_checked_like_root(place, capsys, monkeypatch,
                                                               tmp_path):
    outs, _ = place
    before = _tree(outs)
    monkeypatch.setenv("HETERO_IMB_DATA", str(tmp_path / "typo"))
    argv = [*FAST, "--out", str(outs / "r")]
    code, err = _call(train_cli.main, argv, capsys)
    _check(code, err, 2, ["$HETERO_IMB_DATA", "typo does not exist", "--create-root"], outs,
           before)
    code, err = _call(compare_cli.main, ["--dataset", "synthetic", "--models", "mlp", "--out",
                                         str(outs / "g")], capsys)
    _check(code, err, 2, ["$HETERO_IMB_DATA", "typo does not exist"], outs, before)
    assert not (tmp_path / "typo").exists()
    assert _call(train_cli.main, [*argv, "--create-root"], capsys)[0] == 0
    assert (tmp_path / "typo").is_dir()


def test_root_typo_is_refused_and_not_created(place, capsys):
    outs, root = place
    typo = root.parent / "dta"
    _train(place, capsys, "--root", str(typo), needles=["--root", "dta", "--create-root"])
    assert not typo.exists()


def test_root_is_a_file_or_under_a_file(place, capsys, tmp_path):
    file = tmp_path / "afile"
    file.write_text("x")
    _train(place, capsys, "--root", str(file), needles=["--root", "afile"])
    _train(place, capsys, "--root", str(file / "sub"), needles=["--root", "afile"])


def test_create_root_creates_it(place, capsys):
    outs, root = place
    new = root / "fresh"
    code, _ = _call(train_cli.main, [*FAST, "--root", str(new), "--create-root",
                                      "--out", str(outs / "r")], capsys)
    assert code == 0 and new.is_dir() and (outs / "r" / "results.json").is_file()


def test_out_is_a_file_or_under_a_file(place, capsys, monkeypatch):
    outs, _ = place

    def never(*args, **kwargs):
        raise AssertionError("training started before --out was checked")

    monkeypatch.setattr(train_cli, "run", never)
    (outs / "taken").write_text("x")
    _train(place, capsys, out="taken", needles=["--out", "taken", "existing file"])
    _train(place, capsys, out="taken/run", needles=["--out", "under the file"])


def test_out_unwritable(place, capsys):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc (a folder nobody can write in)")
    outs, root = place
    before = _tree(outs)
    code, err = _call(train_cli.main, [*FAST, "--root", str(root), "--out", "/proc/hetero_imb_run"],
                      capsys)
    _check(code, err, 2, ["--out", "cannot write in /proc"], outs, before)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_out_read_only_folder(place, capsys):
    outs, _ = place
    locked = outs / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _train(place, capsys, out="locked/run", needles=["--out", "cannot write"])
    finally:
        locked.chmod(0o755)


def test_existing_run_folder_is_refused_and_left_untouched(place, capsys):
    outs, _ = place
    old = outs / "run"
    old.mkdir()
    (old / "results.json").write_text('{"old": true}')
    stamp = (old / "results.json").stat().st_mtime_ns
    _train(place, capsys, out="run", needles=["--out", "already exists", "--overwrite"])
    assert (old / "results.json").read_text() == '{"old": true}'
    assert (old / "results.json").stat().st_mtime_ns == stamp


def test_overwrite_replaces_the_folder_whole(place, capsys):
    outs, _ = place
    old = outs / "run"
    old.mkdir()
    (old / "stale.txt").write_text("from an older run")
    code, _ = _call(train_cli.main, [*FAST, "--out", str(old), "--overwrite"], capsys)
    assert code == 0
    assert sorted(p.name for p in old.iterdir()) == [
        "config.yaml", "history.csv", "history.jsonl", "model.pt", "predictions.csv",
        "predictions.pt", "results.json",
    ]
    assert [p.name for p in outs.iterdir()] == ["run"]  # no staging folder left


# ------------------------------------------------------------------ data errors: exit 1
@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_damaged_raw_file_exits_1_naming_it(place, capsys, damage):
    outs, root = place
    mirror = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "freebase_heco"
    if not (mirror / "labels.npy").is_file():
        pytest.skip("needs the Freebase mirror")
    raw = root / "freebase_heco"
    raw.mkdir()
    original = (mirror / "labels.npy").read_bytes()
    broken = original[: len(original) // 2] if damage == "truncated" else b"\0" * len(original)
    (raw / "labels.npy").write_bytes(broken)
    before = _tree(outs)
    argv = ["--dataset", "freebase", "--model", "mlp", "--epochs", "1", "--no-progress",
            "--root", str(root), "--out", str(outs / "r")]
    code, err = _call(train_cli.main, argv, capsys)
    _check(code, err, 1, ["labels.npy"], outs, before)


def test_class_too_small_to_split_exits_1(place, capsys):
    # class 3 keeps 1 node: a stratified 3-way split cannot place it in every part
    _train(place, capsys, "--imbalance", "counts:50,20,10,1", code=1, needles=["class"])


# ------------------------------------------------------------------ compare
def _compare(place, capsys, *args, code=2, needles=(), out="grid"):
    outs, root = place
    before = _tree(outs)
    argv = ["--dataset", "synthetic", "--models", "mlp", "--epochs", "1", "--no-progress",
            "--no-plots", "--root", str(root), "--out", str(outs / out), *args]
    got, err = _call(compare_cli.main, argv, capsys)
    if code == 2:
        _check(got, err, code, needles, outs, before)
    return got, err


@pytest.mark.parametrize(
    "args, needles",
    [
        (["--epochs", "0"], ["epochs", "got 0"]),
        (["--epoch", "1"], ["--epoch"]),
        (["--models", "mlp,nope"], ["model", "'nope'"]),
        (["--seeds", "0,x"], ["--seeds", "0,x"]),
        (["--device", "cuda" if not torch.cuda.is_available() else "tpu"], ["device"]),
    ],
)
def test_compare_usage_errors_exit_2(place, capsys, args, needles):
    _compare(place, capsys, *args, needles=needles)


def test_compare_out_is_a_file(place, capsys):
    outs, _ = place
    (outs / "grid").write_text("x")
    _compare(place, capsys, needles=["--out", "existing file"])


@pytest.fixture
def broken_model():
    """A registered model whose fit fails at run time (a deterministic injected fault)."""
    import dataclasses

    from hetero_imb.models import MODELS

    def fail(data, context):
        raise RuntimeError("injected fault in the model's fit")

    MODELS.register("broken", dataclasses.replace(MODELS.get("mlp"), fit=fail))
    yield "broken"
    MODELS.unregister("broken")


@pytest.mark.parametrize("models, failed", [("broken,mlp", "1 of 2"), ("broken", "1 of 1")])
def test_compare_failed_runs_exit_1_and_are_counted(place, capsys, broken_model, models, failed):
    outs, _ = place
    code, err = _compare(place, capsys, "--models", models, code=1)
    assert code == 1
    assert f"{failed} runs failed" in err
    runs = outs / "grid" / "runs"
    assert (runs / "broken__ce__none__seed0" / "error.json").is_file()
    if "mlp" in models:
        assert json.loads((runs / "mlp__ce__none__seed0" / "results.json").read_text())


def test_compare_refuses_a_loss_the_model_cannot_take(place, capsys):
    # xgboost fits features outside the loop and takes ce or class weights only
    _compare(place, capsys, "--models", "xgboost", "--losses", "focal",
             needles=["xgboost", "focal"])
