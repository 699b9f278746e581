"""The README stays true: its component table matches the registries, and its
library example runs as written."""

import re
from pathlib import Path

from hetero_imb.cli.catalog import END, START, component_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_component_table_matches_registries():
    text = README.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == component_table(), "run: python -m hetero_imb.cli.catalog --write README.md"


def test_library_example_runs_as_written(capsys):
    text = README.read_text(encoding="utf-8")
    section = text.split("## Library use on your own graph", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README example", "exec"), {})
    recall = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= recall <= 1.0


def test_adding_a_component_example_registers_everywhere(tmp_path, capsys):
    from hetero_imb.balancing.losses import LOSSES
    from hetero_imb.cli.train import main

    text = README.read_text(encoding="utf-8")
    section = text.split("## Adding a component", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README component example", "exec"), {})
    try:
        assert "label-smoothing" in LOSSES
        code = main(["--dataset", "synthetic", "--model", "gcn", "--loss", "label-smoothing",
                     "--loss-param", "eps=0.2", "--epochs", "2", "--no-progress",
                     "--out", str(tmp_path / "run")])
        assert code == 0
        assert (tmp_path / "run" / "results.json").is_file()
    finally:
        LOSSES.unregister("label-smoothing")
