"""Every shipped config parses, names only registered components, and expands."""

from pathlib import Path

import pytest

from hetero_imb.training.config import read_yaml
from hetero_imb.training.grid import Grid
from hetero_imb.training.runner import validate_names

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_is_valid(path):
    grid = Grid.from_dict(read_yaml(path))
    specs = list(grid.runs())
    assert specs
    for spec in specs:
        validate_names(spec.config)


def test_facebook_case_study_grid_shape():
    grid = Grid.from_dict(read_yaml(Path(CONFIGS[0]).parent / "facebook_case_study.yaml"))
    specs = list(grid.runs())
    assert len(specs) == (7 * 3 - 1) * 5
    assert {s.config.imbalance for s in specs} == {"counts:3327,1410,460,256"}
