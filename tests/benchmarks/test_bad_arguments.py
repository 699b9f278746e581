"""Every benchmark script refuses bad arguments the same way: exit status 2, one stderr
line ``<prog>: error: <message>`` naming the option (no traceback, no usage block),
before any expensive work, and nothing written. The documented commands still get
past the checks."""

from __future__ import annotations

import json

import pytest
import torch

#: (script, arguments, the option the message must name); ``{tmp}`` is the test's
#: folder, where ``text.txt`` is a text file and ``new`` does not exist.
BAD = [
    ("epoch_time", ["--cases", "foo:bar"], "--cases"),
    ("epoch_time", ["--cases", "citation:nosuch"], "--cases"),
    ("epoch_time", ["--cases", "synthetic"], "--cases"),
    ("epoch_time", ["--epochs", "0"], "--epochs"),
    ("epoch_time", ["--repeats", "0"], "--repeats"),
    ("epoch_time", ["--threads", "-1"], "--threads"),
    ("gcn_aggregation", ["--dataset", "nosuch"], "--dataset"),
    ("gcn_aggregation", ["--hidden", "0"], "--hidden"),
    ("gcn_aggregation", ["--steps", "0"], "--steps"),
    ("gcn_aggregation", ["--threads", "0"], "--threads"),
    ("mask_share", ["--dataset", "nosuch"], "--dataset"),
    ("mask_share", ["--imbalance", "step:0"], "--imbalance"),
    ("mask_share", ["--seeds", "a"], "--seeds"),
    ("mask_share", ["--split", "foo"], "--split"),
    ("mask_share", ["--configs", "lp/nosuch", "--control", "lp/nosuch"], "--configs"),
    ("mask_share", ["--configs", "lp[alpa=1]/ce", "--control", "lp[alpa=1]/ce"], "--configs"),
    ("mask_share", ["--control", "foo"], "--control"),
    ("method_cost", ["--models", "nosuch"], "--models"),
    ("method_cost", ["--methods", "nosuch"], "--methods"),
    ("method_cost", ["--methods", "ce,+nosuch"], "--methods"),
    ("method_cost", ["--methods", "ce,ldam[drw_epch=5]"], "--methods"),
    ("method_cost", ["--methods", "weighted"], "--methods"),
    ("method_cost", ["--epochs", "0"], "--epochs"),
    ("method_cost", ["--case", "nosuch"], "--case"),
    ("minibatch_scale", ["--items", "0", "--graph", "{tmp}/new/g.pt"], "--items"),
    ("minibatch_scale", ["--items", "-10", "--graph", "{tmp}/new/g.pt"], "--items"),
    ("minibatch_scale", ["--split", "foo", "--graph", "{tmp}/new/g.pt"], "--split"),
    ("minibatch_scale", ["--batch-size", "0", "--graph", "{tmp}/new/g.pt"], "--batch-size"),
    ("minibatch_scale", ["--num-neighbors", "abc", "--graph", "{tmp}/new/g.pt"],
     "--num-neighbors"),
    ("minibatch_scale", ["--graph", "{tmp}/text.txt"], "--graph"),
    ("minibatch_scale", ["--graph", "{tmp}"], "--graph"),
    ("minibatch_scale", ["--graph", "{tmp}/text.txt/g.pt"], "--graph"),
    ("rgcn_variants", ["--dataset", "nosuch"], "--dataset"),
    ("rgcn_variants", ["--bases", "abc"], "--bases"),
    ("rgcn_variants", ["--bases", "none", "0"], "--bases"),
    ("rgcn_variants", ["--hidden", "0"], "--hidden"),
    ("rgcn_variants", ["--epochs", "0"], "--epochs"),
    ("rgcn_variants", ["--max-gb", "nan"], "--max-gb"),
    ("self_training", ["--dataset", "nosuch"], "--dataset"),
    ("self_training", ["--model", "nosuch"], "--model"),
    ("self_training", ["--loss", "focal[gama=1]"], "--loss"),
    ("self_training", ["--loss", "focal[gamma=1"], "--loss"),
    ("self_training", ["--smoother", "nosuch"], "--smoother"),
    ("self_training", ["--seeds", "x"], "--seeds"),
    ("self_training", ["--tune-decision", "foo"], "--tune-decision"),
    ("self_training", ["--alpha", "-1"], "--alpha"),
    ("self_training", ["--rounds", "0"], "--rounds"),
    ("self_training", ["--imbalance", "step:0"], "--imbalance"),
    ("self_training", ["--model", "lp", "--loss", "weighted"], "--model"),
    ("synthetic_scale", ["--split", "foo", "--out", "{tmp}/new"], "--split"),
    ("synthetic_scale", ["--out", "{tmp}/text.txt"], "--out"),
    ("synthetic_scale", ["--threads", "0", "--out", "{tmp}/new"], "--threads"),
    ("synthetic_scale", ["--num-neighbors", "abc", "--out", "{tmp}/new"], "--num-neighbors"),
    ("synthetic_scale", ["--cases", "nosuch", "--out", "{tmp}/new"], "--cases"),
    ("synthetic_scale", ["--items", "0", "--out", "{tmp}/new"], "--items"),
    ("synthetic_scale", ["--epochs", "0"], "--epochs"),
]


def _fill(argv: list[str], tmp) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def _one_line(err: str, name: str, flag: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{name}.py: error: "), err
    assert flag in lines[0], err
    assert "Traceback" not in err and "usage:" not in err
    return lines[0]


@pytest.mark.parametrize("name, argv, flag", BAD, ids=[f"{n}:{' '.join(a)}" for n, a, _ in BAD])
def test_bad_argument_is_one_line_exit_2(name, argv, flag, tmp_path, guarded, call):
    (tmp_path / "text.txt").write_text("not a graph\n")
    before = sorted(tmp_path.rglob("*"))
    module = guarded(name)
    code, out, err = call(module, name, _fill(argv, tmp_path))
    assert code == 2
    _one_line(err, name, flag)
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def _run_folder(root, name: str, seed: int) -> None:
    """A finished run folder as ``compare`` writes it (the parts decision_table reads)."""
    folder = root / "runs" / f"{name}__seed{seed}"
    folder.mkdir(parents=True)
    metrics = {"macro_f1": 0.5, "balanced_accuracy": 0.6,
               "per_class": {"rare": {"recall": 0.3}, "other": {"recall": 0.9}}}
    folder.joinpath("results.json").write_text(json.dumps({
        "seed": seed, "class_names": ["rare", "other"],
        "metrics": {"test": metrics, "val": metrics},
        "timing": {"epochs": 3, "fit_seconds": 1.0}}))
    y = torch.tensor([0, 1, 0, 1, 1, 1, 0, 1])
    proba = torch.tensor([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.1, 0.9]] * 2)
    masks = {"train": torch.zeros(8, dtype=torch.bool),
             "val": torch.tensor([True] * 4 + [False] * 4),
             "test": torch.tensor([False] * 4 + [True] * 4)}
    torch.save({"y": y, "proba": proba, "masks": masks}, folder / "predictions.pt")


def _failed_folder(root, name: str, seed: int) -> None:
    folder = root / "runs" / f"{name}__seed{seed}"
    folder.mkdir(parents=True)
    folder.joinpath("error.json").write_text(json.dumps({"key": folder.name, "error": "boom"}))


@pytest.fixture
def grid(tmp_path):
    root = tmp_path / "grid"
    for seed in (0, 1):
        _run_folder(root, "mlp__ce__none", seed)
    return root


@pytest.mark.parametrize("argv, flag", [
    (["--specs", "foo"], "--specs"),
    (["--specs", "balanced-accuracy,min-recall:nosuch:0.8"], "--specs"),
    (["--runs-csv", "{tmp}"], "--runs-csv"),
    (["--split", "foo"], "--split"),
    (["--rare", "nosuch"], "--rare"),
])
def test_decision_table_bad_arguments(grid, tmp_path, argv, flag, guarded, call):
    module = guarded("decision_table")
    argv = _fill(argv, tmp_path)
    if "--rare" not in argv:
        argv += ["--rare", "rare"]
    if "--runs-csv" not in argv:
        argv += ["--runs-csv", str(tmp_path / "rows.csv")]
    code, out, err = call(module, "decision_table", [str(grid), *argv])
    assert code == 2
    _one_line(err, "decision_table", flag)
    assert out == "" and not (tmp_path / "rows.csv").exists()


def test_decision_table_says_how_many_runs_failed(grid, script, call):
    _failed_folder(grid, "mlp__focal__none", 0)
    code, out, err = call(script("decision_table"), "decision_table", [str(grid), "--rare", "rare"])
    assert code == 0
    assert "| mlp__ce__none | none | 2 |" in out  # the table of the finished runs
    line = err.strip()
    assert len(err.splitlines()) == 1
    assert line.startswith("decision_table.py: warning: 1 of 3 runs failed")
    assert "mlp__focal__none__seed0" in line


def test_decision_table_grid_whose_every_run_failed_is_not_exit_0(tmp_path, script, call):
    _failed_folder(tmp_path, "mlp__ce__none", 0)
    _failed_folder(tmp_path, "mlp__ce__none", 1)
    code, out, err = call(script("decision_table"), "decision_table", [str(tmp_path), "--rare", "x"])
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "every run of the grid failed (2 " in err


#: Commands of the scripts' docstrings and of docs/*.md: the checks let them through.
DOCUMENTED = [
    ("epoch_time", []),
    ("epoch_time", ["--epochs", "200", "--repeats", "3", "--cases", "citation:gcn"]),
    ("epoch_time", ["--cases", "freebase:rgcn", "--epochs", "20", "--repeats", "5", "--threads", "1"]),
    ("gcn_aggregation", []),
    ("gcn_aggregation", ["--dataset", "synthetic"]),
    ("mask_share", ["--seeds", "0,1,2,3,4,5,6,7,8,9"]),
    ("mask_share", ["--configs", "lp/ce,rgcn/weighted", "--seeds", "0"]),
    ("method_cost", ["--case", "facebook", "--models", "gcn,rgcn", "--epochs", "30"]),
    ("method_cost", ["--case", "freebase", "--models", "rgcn", "--methods", "ce,weighted,renode"]),
    ("method_cost", ["--case", "freebase", "--models", "rgcn", "--epochs", "20", "--repeats", "3"]),
    ("minibatch_scale", ["--items", "100000", "--mode", "minibatch", "--graph", "{tmp}/g.pt"]),
    ("minibatch_scale", ["--mode", "minibatch", "--batch-size", "16384", "--graph", "{tmp}/g.pt"]),
    ("minibatch_scale", ["--split", "stratified:0.05,0.05,0.9", "--graph", "{tmp}/g.pt"]),
    ("rgcn_variants", []),
    ("rgcn_variants", ["--dataset", "synthetic"]),
    ("rgcn_variants", ["--bases", "none", "2", "4", "--epochs", "5", "--threads", "2"]),
    ("rgcn_variants", ["--implementations", "spmm", "rgcn", "--bases", "none", "4", "--epochs", "10"]),
    ("self_training", ["--seeds", "0,1,2,3,4"]),
    ("self_training", ["--seeds", "0", "--rounds", "2", "--pool", "outside-split"]),
    ("self_training", ["--seeds", "0,1,2,3,4", "--alpha", "0.5", "--rounds", "2"]),
    ("self_training", ["--seeds", "0,1,2,3,4", "--model", "lp", "--loss", "ce", "--rounds", "3",
                       "--alpha", "0.5"]),
    ("synthetic_scale", ["--cases", "han", "hgt", "sehgnn", "--epochs", "2", "--out", "{tmp}/o"]),
    ("synthetic_scale", ["--cases", "rgcn-full", "--items", "300000", "--users", "30000",
                         "--tags", "3000", "--out", "{tmp}/o"]),
]


@pytest.mark.parametrize("name, argv", DOCUMENTED, ids=[f"{n}:{' '.join(a)}" for n, a in DOCUMENTED])
def test_documented_commands_pass_the_checks(name, argv, tmp_path, guarded, reached, call):
    module = guarded(name)
    with pytest.raises(reached):
        call(module, name, _fill(argv, tmp_path))
