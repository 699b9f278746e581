"""The README stays true: its component table matches the registries, and its
library example runs as written."""

import re
from pathlib import Path

from hetero_imb.catalog import END, START, component_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_component_table_matches_registries():
    text = README.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == component_table(), "run: python -m hetero_imb.catalog --write README.md"


def test_library_example_runs_as_written(capsys):
    text = README.read_text(encoding="utf-8")
    section = text.split("## Library use on your own graph", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README example", "exec"), {})
    recall = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= recall <= 1.0
