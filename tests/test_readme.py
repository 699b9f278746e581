"""The README stays true: its component table matches the registries, its library
example runs as written, and its train / compare commands resolve to valid configs."""

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


def _readme_commands(module: str) -> list[list[str]]:
    """Every ``python -m MODULE ...`` line of the README's bash blocks, continuations
    joined and comments dropped, as argv lists (the module's own arguments)."""
    import shlex

    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith(f"python -m {module} ") and "--help" not in line:
                commands.append(shlex.split(line)[3:])
    return commands


def test_readme_train_and_compare_commands_resolve(monkeypatch):
    """Each train / compare command the README shows parses and resolves to a valid
    configuration (flags, component names and parameters) without running."""
    from hetero_imb.cli import compare as compare_cli
    from hetero_imb.cli import train as train_cli
    from hetero_imb.training.checks import check_config
    from hetero_imb.training.runner import validate_names

    monkeypatch.chdir(README.parent)  # the configs/ paths are relative to the root
    trains, compares = _readme_commands("hetero_imb.train"), _readme_commands("hetero_imb.compare")
    assert len(trains) >= 8 and len(compares) >= 3
    for argv in trains:
        check_config(train_cli.config_from_args(train_cli.build_parser().parse_args(argv)))
    for argv in compares:
        grid = compare_cli.grid_from_args(compare_cli.build_parser().parse_args(argv))
        for spec in grid.runs():
            validate_names(check_config(spec.config))
