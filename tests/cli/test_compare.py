"""The comparison runner: grid expansion, summaries, failures, interruption and resume."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hetero_imb.cli import compare as compare_mod
from hetero_imb.cli.compare import main, run_grid
from hetero_imb.training.grid import Grid

BASE = {
    "dataset": "synthetic",
    "epochs": 3,
    "patience": 0,
    "model_params": {"hidden": 8},
    "grid": {"models": ["mlp", "gcn"], "losses": ["ce", {"name": "focal", "params": {"gamma": 1.0}}],
             "samplers": ["none"], "seeds": [0, 1]},
}
TIMING = ["fit_seconds"]


def _grid(**over):
    return Grid.from_dict(BASE, **over)


def test_grid_expands_in_stable_order():
    specs = list(_grid().runs())
    assert len(specs) == 2 * 2 * 2
    assert specs[0].key == "mlp__ce__none__seed0"
    assert specs[3].key == "mlp__focal[gamma=1.0]__none__seed1"
    assert specs[3].config.loss_params == {"gamma": 1.0}
    cv = list(_grid(cv=3, seeds=[0]).runs())
    assert len(cv) == 2 * 2 * 3 and cv[0].config.split == "kfold:3:0"
    with pytest.raises(ValueError, match=r"'cv' runs the 3 folds of one seed, got seeds \[0, 1\]"):
        _grid(cv=3)  # seed 1 would be dropped without a word


def test_grid_writes_summaries_and_pictures(tmp_path):
    out = run_grid(_grid(), tmp_path / "g", progress=False, echo=lambda line: None)
    frame = pd.read_csv(out / "summary.csv")
    assert len(frame) == 8 and (frame["status"] == "ok").all()
    for col in ["dataset", "model", "loss", "sampler", "seed", "macro_f1", "balanced_accuracy",
                "g_mean", "recall[class_3]", "fit_seconds"]:
        assert col in frame.columns
    md = (out / "summary.md").read_text()
    assert "| mlp | ce | none | 2 |" in md and "**" in md and "±" in md
    assert "`mlp` saw node features only" in md
    for png in ["pr_curves.png", "recall_bars.png", "confusion_matrix.png", "class_distribution.png"]:
        assert (out / png).stat().st_size > 1000


def test_failed_run_is_recorded_and_grid_goes_on(tmp_path, monkeypatch):
    real_run = compare_mod.run

    def flaky(config, **kw):
        if config.model == "gcn" and config.seed == 1:
            raise RuntimeError("simulated out of memory")
        return real_run(config, **kw)

    monkeypatch.setattr(compare_mod, "run", flaky)
    out = run_grid(_grid(), tmp_path / "g", progress=False, echo=lambda line: None, plots=False)
    frame = pd.read_csv(out / "summary.csv")
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 2 and failed["error"].str.contains("simulated out of memory").all()
    assert (frame["status"] == "ok").sum() == 6
    assert "FAILED" in (out / "summary.md").read_text()


def _comparable(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns=TIMING)


def test_interrupt_then_resume_equals_uninterrupted(tmp_path, monkeypatch):
    reference = run_grid(_grid(), tmp_path / "ref", progress=False, echo=lambda line: None, plots=False)

    calls = {"n": 0}
    real_run = compare_mod.run

    def interrupted(config, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_run(config, **kw)

    monkeypatch.setattr(compare_mod, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_grid(_grid(), tmp_path / "resumed", progress=False, echo=lambda line: None, plots=False)
    done = list((tmp_path / "resumed" / "runs").glob("*/results.json"))
    assert len(done) == 3

    monkeypatch.setattr(compare_mod, "run", real_run)
    ran = []
    run_grid(_grid(), tmp_path / "resumed", progress=False, echo=ran.append, plots=False)
    assert len(ran) == 5  # only the missing runs
    pd.testing.assert_frame_equal(
        _comparable(tmp_path / "resumed" / "summary.csv"), _comparable(reference / "summary.csv")
    )


# `python -m hetero_imb.compare ARGS` that SIGKILLs itself (no cleanup at all) when the
# KILL_AT-th run folder is about to be swapped into place: that run's files are all
# staged in a hidden folder but it is unfinished, and the runs before it are complete.
_COMPARE_KILLED_AT = """
import os, signal, sys
from hetero_imb.report import results
from hetero_imb.cli.compare import main

kill_at, real_replace_dir, seen = int(os.environ["KILL_AT"]), results.replace_dir, []

def replace_dir(staging, target):
    seen.append(target)
    if len(seen) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace_dir(staging, target)

results.replace_dir = replace_dir
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_killed_process_resumes(tmp_path):
    """SIGKILL mid-grid (while the third run is being saved), then the same command again."""
    import yaml

    cfg = tmp_path / "grid.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    args = ["--config", str(cfg), "--no-progress", "--no-plots"]
    out = tmp_path / "killed"
    env = {**os.environ, "KILL_AT": "3"}
    killed = subprocess.run([sys.executable, "-c", _COMPARE_KILLED_AT, *args, "--out", str(out)],
                            env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = [p for p in out.glob("runs/*/results.json") if not p.parent.name.startswith(".")]
    assert len(finished) == 2
    assert len(list(out.glob("runs/.*.tmp"))) == 1  # the third run, staged but unfinished
    assert not (out / "summary.csv").exists()

    cmd = [sys.executable, "-m", "hetero_imb.compare", *args]
    resumed = subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True, text=True)
    assert sum(line.startswith("done ") for line in resumed.stdout.splitlines()) == 6
    assert not list(out.glob("runs/.*.tmp"))  # the staging folder was cleared
    subprocess.run([*cmd, "--out", str(tmp_path / "ref")], check=True, capture_output=True)
    pd.testing.assert_frame_equal(_comparable(out / "summary.csv"),
                                  _comparable(tmp_path / "ref" / "summary.csv"))


def test_bad_grid_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--dataset", "synthetic", "--models", "gcn,nope", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_component_labels_on_the_command_line_round_trip(tmp_path):
    """--losses 'focal[gamma=1.0]' is the grid file's {name, params} entry: same cell,
    same run folder; commas inside brackets belong to the value."""
    from hetero_imb.cli.compare import build_parser, grid_from_args

    args = build_parser().parse_args([
        "--dataset", "synthetic", "--models", "mlp", "--losses", "ce, focal[gamma=1.0]",
        "--seeds", "0", "--out", str(tmp_path / "g")])
    specs = list(grid_from_args(args).runs())
    yaml_specs = list(_grid(models=["mlp"], seeds=[0]).runs())
    assert [s.key for s in specs] == [s.key for s in yaml_specs]
    assert specs[1].config.loss_params == {"gamma": 1.0}
    lp = list(_grid(models=["lp[path_weights=1,2]"], losses=["ce"], seeds=[0]).runs())
    assert lp[0].key == "lp[path_weights=1,2]__ce__none__seed0"


@pytest.mark.parametrize("entry, message", [
    ("focal[gamma]", "expected key=value inside the brackets, got 'gamma'"),
    ("focal[gamma=1", "expected NAME or NAME[key=value,...]"),
    ("focal[gamma=abc]", "gamma must be a float >= 0, got 'abc'"),
    ("focal[gamma=1,gamma=2]", "each key once"),
])
def test_bad_component_label_exits_2_and_writes_nothing(tmp_path, capsys, entry, message):
    with pytest.raises(SystemExit) as exc:
        main(["--dataset", "synthetic", "--models", "mlp", "--losses", f"ce,{entry}",
              "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_skip_rules_with_negation():
    grid = Grid.from_dict({**BASE, "grid": {
        "models": ["gcn"], "losses": ["ce", "focal", "weighted"],
        "samplers": ["none", "undersample", "oversample-random"], "seeds": [0],
        "skip": [{"loss": "!ce", "sampler": "!none"}]}})
    cells = {(s.config.loss, s.config.sampler) for s in grid.runs()}
    assert cells == {("ce", "none"), ("focal", "none"), ("weighted", "none"),
                     ("ce", "undersample"), ("ce", "oversample-random")}


def test_resume_refuses_a_folder_with_another_configuration(tmp_path):
    run_grid(_grid(models=["mlp"], seeds=[0]), tmp_path / "g", progress=False,
             echo=lambda line: None, plots=False)
    before = {p: p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="different configuration.*imbalance"):
        run_grid(_grid(models=["mlp"], seeds=[0], imbalance="step:3", imbalance_mode="mask"),
                 tmp_path / "g", progress=False, echo=lambda line: None, plots=False)
    # grid.yaml and the summaries still describe the runs that are there
    assert {p: p.read_bytes() for p in (tmp_path / "g").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("args, message", [
    (["--models", "mlp,mlp"], "grid 'models' lists 'mlp' twice"),
    (["--models", "mlp", "--seeds", "0,0"], "grid 'seeds' lists 0 twice"),
    (["--models", "mlp", "--losses", "ce,focal[gamma=1.0],focal[gamma=1.0]"],
     "grid 'losses' lists 'focal[gamma=1.0]' twice"),
    (["--models", ""], "--models expects comma-separated names, got ''"),
    (["--models", ","], "--models expects comma-separated names, got ','"),
    (["--models", "mlp", "--seeds", ""], "--seeds expects integers like 0,1,2, got ''"),
    (["--models", "mlp", "--cv", "3", "--seeds", "0,1"], "'cv' runs the 3 folds of one seed"),
])
def test_grid_lists_that_would_mislead_exit_2(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["--dataset", "synthetic", *args, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_resume_with_another_configuration_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "g"
    common = ["--models", "mlp", "--seeds", "0", "--epochs", "2", "--no-plots", "--out", str(out)]
    assert main(["--dataset", "synthetic", *common]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["--dataset", "synthetic", "--imbalance", "step:3", *common]) == 2
    err = capsys.readouterr().err
    assert "holds a finished run with a different configuration (imbalance)" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_train_run_folder_is_not_a_grid_folder(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text("{}")
    with pytest.raises(SystemExit) as exc:
        main(["--dataset", "synthetic", "--models", "mlp", "--out", str(run)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "is a run folder of hetero_imb.train" in err
    assert [p.name for p in run.iterdir()] == ["results.json"]
