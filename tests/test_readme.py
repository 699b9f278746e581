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


def test_keep_a_model_example_runs_after_the_library_example(capsys):
    text = README.read_text(encoding="utf-8")
    library = re.search(r"```python\n(.*?)```",
                        text.split("## Library use on your own graph", 1)[1], re.S).group(1)
    keep = re.search(r"```python\n(.*?)```",
                     text.split("## Keep a model and score new data", 1)[1], re.S).group(1)
    namespace: dict = {}
    exec(compile(library, "README example", "exec"), namespace)
    exec(compile(keep, "README keep example", "exec"), namespace)
    scores = namespace["scores"]
    assert len(scores) == 310 and scores["node_id"].tolist()[-10:] == [f"new{i}" for i in range(10)]
    assert scores["predicted"].isin(["fraud", "ok"]).all()
