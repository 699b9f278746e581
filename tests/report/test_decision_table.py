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


def _run(root: Path, name: str, seed: int, bal: float, rare: float) -> None:
    folder = root / "runs" / f"{name}__seed{seed}"
    folder.mkdir(parents=True)
    metrics = {"balanced_accuracy": bal, "per_class": {"rare": {"recall": rare}}}
    folder.joinpath("results.json").write_text(json.dumps(
        {"seed": seed, "metrics": {"test": metrics, "val": metrics}}))


def test_paired_differences_by_seed(tmp_path, table):
    for seed, (base, tam) in enumerate([(0.60, 0.65), (0.70, 0.68), (0.50, 0.56)]):
        _run(tmp_path, "rgcn__weighted__none", seed, base, 0.3)
        _run(tmp_path, "rgcn__tam__none+graphens", seed, tam, 0.3 + seed / 10)
    _run(tmp_path, "rgcn__tam__none+graphens", 7, 0.99, 0.99)  # no baseline on seed 7
    _run(tmp_path, "han__tam__none", 0, 0.9, 0.9)  # no han baseline at all
    out = table.paired(tmp_path, "rare", "weighted")
    assert list(out) == ["rgcn__tam__none+graphens"]  # baseline and unpaired left out
    np.testing.assert_allclose(out["rgcn__tam__none+graphens"],
                               [[0.05, 0.0], [-0.02, 0.1], [0.06, 0.2]], atol=1e-12)
