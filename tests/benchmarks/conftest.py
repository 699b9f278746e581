"""Helpers of the benchmark-script tests: each script of ``benchmarks/`` loaded from its
file (as tests/report/test_decision_table.py does) and its ``main(argv)`` run in-process,
with the work that would follow the argument checks replaced by :class:`Reached`."""

from __future__ import annotations

import functools
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


class Reached(Exception):
    """Raised by the stand-ins of a script's expensive work: the checks let it through."""


def _reached(*args, **kwargs):
    raise Reached()


@functools.cache
def load_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (loaded once per session)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Per script, the attributes (``module.attr`` or ``module.obj.attr``) standing for the
#: work that follows the argument checks: data loading, generation, child processes.
EXPENSIVE = {
    "decision_table": ["collect", "run_rows"],
    "epoch_time": ["prepare"],
    "gcn_aggregation": [],  # its graph comes from rgcn_variants.load_graph: see below
    "mask_share": ["hi.load", "prepare_data"],
    "method_cost": ["load", "prepare_data"],
    "minibatch_scale": ["generate", "run_mode", "worker"],
    "rgcn_variants": ["_estimate_fast_gb", "run_variant", "subprocess.run"],
    "self_training": ["hi.load", "prepare_data"],
    "synthetic_scale": ["run_case", "tempfile.mkdtemp"],
}


@pytest.fixture(autouse=True)
def _restore_globals():
    """The scripts turn logging off and set torch's threads: undo both after each test."""
    level, threads = logging.root.manager.disable, torch.get_num_threads()
    yield
    logging.disable(level)
    torch.set_num_threads(threads)


@pytest.fixture
def script():
    """``script(name)``: the module of ``benchmarks/<name>.py``."""
    return load_script


@pytest.fixture
def reached():
    """The exception the stand-ins of :func:`guarded` raise."""
    return Reached


@pytest.fixture
def guarded(monkeypatch):
    """``guarded(name)``: the script's module with its expensive work replaced by
    :class:`Reached`."""

    def guard(name: str) -> ModuleType:
        module = load_script(name)
        for path in EXPENSIVE[name]:
            *owner, attr = path.split(".")
            target = functools.reduce(getattr, owner, module)
            monkeypatch.setattr(target, attr, _reached)
        if name == "gcn_aggregation":  # imported inside main()
            monkeypatch.setitem(sys.modules, "rgcn_variants",
                                type(sys)("rgcn_variants"))
            sys.modules["rgcn_variants"].load_graph = _reached
        return module

    return guard


@pytest.fixture
def call(monkeypatch, capsys):
    """``call(module, name, argv)`` -> ``(exit status, stdout, stderr)`` of ``main(argv)``
    run as ``python benchmarks/<name>.py argv``."""

    def run(module: ModuleType, name: str, argv: list[str]) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", [f"{name}.py", *argv])
        try:
            code = module.main(argv)
        except SystemExit as stop:
            code = stop.code
        out, err = capsys.readouterr()
        return code or 0, out, err

    return run
