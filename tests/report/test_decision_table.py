"""benchmarks/decision_table.py's paired table: differences from the same model's
baseline loss, seed by seed."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "decision_table.py"


@pytest.fixture(scope="module")
def table():
    spec = importlib.util.spec_from_file_location("decision_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(root: Path, name: str, seed: int, bal: float, rare: float, shift: float = 0.0) -> None:
    """A run folder whose validation figures are the test ones plus ``shift``."""
    folder = root / "runs" / f"{name}__seed{seed}"
    folder.mkdir(parents=True)
    test = {"balanced_accuracy": bal, "per_class": {"rare": {"recall": rare}}}
    val = {"balanced_accuracy": bal + shift, "per_class": {"rare": {"recall": rare + shift}}}
    folder.joinpath("results.json").write_text(json.dumps(
        {"seed": seed, "metrics": {"test": test, "val": val}}))


@pytest.fixture()
def grid(tmp_path):
    base = {0: 0.60, 2: 0.50, 10: 0.40}  # no baseline run on seed 1
    tam = {0: 0.65, 1: 0.99, 2: 0.56, 10: 0.38}
    for seed, bal in base.items():
        _run(tmp_path, "rgcn__weighted__none", seed, bal, 0.3)
    for seed, bal in tam.items():
        _run(tmp_path, "rgcn__tam__none+graphens", seed, bal, 0.3 + seed / 100, shift=0.2)
    _run(tmp_path, "han__tam__none", 0, 0.9, 0.9)  # no han baseline at all
    return tmp_path


def test_paired_differences_by_seed(grid, table):
    out = table.paired(grid, "rare", "weighted")
    assert list(out) == ["rgcn__tam__none+graphens"]  # baseline and unpaired left out
    # seeds 0, 2, 10 in numeric order (seed 1 has no baseline and is left out)
    np.testing.assert_allclose(out["rgcn__tam__none+graphens"],
                               [[0.05, 0.0], [0.06, 0.02], [-0.02, 0.10]], atol=1e-12)


def test_paired_by_fold_in_a_cv_grid(tmp_path, table):
    """A --cv grid's runs share one seed and differ by their folder's foldN tail."""
    for fold, (base, tam) in enumerate([(0.60, 0.65), (0.70, 0.68)]):
        for name, bal in (("rgcn__weighted__none", base), ("rgcn__tam__none", tam)):
            _run(tmp_path, name, 0, bal, 0.3)
            (tmp_path / "runs" / f"{name}__seed0").rename(tmp_path / "runs" / f"{name}__fold{fold}")
    out = table.paired(tmp_path, "rare", "weighted")
    np.testing.assert_allclose(out["rgcn__tam__none"], [[0.05, 0.0], [-0.02, 0.0]], atol=1e-12)


def test_paired_reads_the_asked_split(grid, table):
    test = table.paired(grid, "rare", "weighted", split="test")["rgcn__tam__none+graphens"]
    val = table.paired(grid, "rare", "weighted", split="val")["rgcn__tam__none+graphens"]
    np.testing.assert_allclose(val, test + 0.2, atol=1e-12)  # only the tam runs are shifted
    assert table.paired(grid, "rare", "ce") == {}  # no run with that loss: nothing paired


@pytest.mark.parametrize("extra, says", [
    (["--rare", "rare", "--against", "focal"], "--against must be a loss"),
    (["--rare", "common"], "--rare must be one of the grid's classes (rare, other)"),
])
def test_bad_arguments_exit_2_with_one_line(grid, table, monkeypatch, capsys, extra, says):
    for path in (grid / "runs").glob("*/results.json"):  # the class names a real run keeps
        res = json.loads(path.read_text())
        path.write_text(json.dumps({**res, "class_names": ["rare", "other"]}))
    csv = grid / "rows.csv"
    monkeypatch.setattr("sys.argv", ["decision_table.py", str(grid), *extra,
                                     "--runs-csv", str(csv)])
    with pytest.raises(SystemExit) as stop:
        table.main()
    assert stop.value.code == 2
    assert says in capsys.readouterr().err
    assert not csv.exists()  # nothing written
