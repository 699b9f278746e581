"""A benchmark script whose cases fail (a child process that exits non-zero) says so in
one line per failure, with the child's own message rather than ``/usr/bin/time``'s
report, and does not exit 0. The child processes are stand-ins: no training runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

#: What a child run under ``/usr/bin/time -v`` leaves on stderr when it fails.
TIMED_FAILURE = (
    "Traceback (most recent call last):\n"
    '  File "x.py", line 1, in <module>\n'
    "RuntimeError: boom in the child\n"
    "Command exited with non-zero status 1\n"
    '\tCommand being timed: "python x.py"\n'
    "\tMaximum resident set size (kbytes): 1234\n"
    "\tExit status: 1\n"
)
#: GNU time's own part of it.
TIMED_REPORT = TIMED_FAILURE[TIMED_FAILURE.index("Command exited"):]


def _failing_child(monkeypatch, stderr: str = TIMED_FAILURE, code: int = 1) -> list[list[str]]:
    """Every ``subprocess.run`` fails with ``stderr``; returns the commands it was given."""
    seen: list[list[str]] = []

    def run(cmd, **kwargs):
        seen.append(list(cmd))
        return subprocess.CompletedProcess(cmd, code, stdout="", stderr=stderr)

    monkeypatch.setattr(subprocess, "run", run)
    return seen


def test_rgcn_variants_every_variant_failed_is_exit_1(monkeypatch, script, call):
    module = script("rgcn_variants")
    seen = _failing_child(monkeypatch)
    code, out, err = call(module, "rgcn_variants", [
        "--dataset", "synthetic", "--implementations", "spmm", "rgcn", "--bases", "none", "2"])
    assert code == 1 and len(seen) == 4
    assert out.count("failed (rc 1): RuntimeError: boom in the child") == 4
    assert err.splitlines() == [
        "rgcn_variants.py: error: 4 of 4 variants failed (first: spmm bases=none); see the table"]


def test_synthetic_scale_failed_case_holds_the_childs_message(monkeypatch, tmp_path, script, call):
    module = script("synthetic_scale")
    seen = _failing_child(monkeypatch, "python -m hetero_imb.train: error: bad value (see --help)\n"
                          + TIMED_REPORT, code=2)
    monkeypatch.setattr(module.shutil, "which", lambda name: "/usr/bin/time")
    monkeypatch.setattr(module, "Path", _PathWithTime)
    code, out, err = call(module, "synthetic_scale", [
        "--cases", "rgcn", "gat", "--items", "2000", "--users", "200", "--tags", "20",
        "--out", str(tmp_path / "out")])
    assert code == 1 and len(seen) == 2
    rows = [line for line in out.splitlines() if line.startswith("{")]
    assert len(rows) == 2
    assert all('"error": "bad value (see --help)"' in row for row in rows)
    assert err.splitlines() == [
        "synthetic_scale.py: error: 2 of 2 cases failed (first: rgcn: bad value (see --help)); "
        "see the rows' error fields"]


class _PathWithTime(type(Path())):
    """``Path`` for which ``/usr/bin/time`` exists (the timed branch, on any machine)."""

    def exists(self, *args, **kwargs):
        return str(self) == "/usr/bin/time" or super().exists(*args, **kwargs)


def test_minibatch_scale_failed_modes_are_one_line_each_and_exit_1(monkeypatch, tmp_path,
                                                                    script, call):
    module = script("minibatch_scale")
    graph = tmp_path / "g.pt"
    torch.save({"not": "a graph"}, graph)  # an archive: reused, not generated
    _failing_child(monkeypatch, "minibatch_scale.py: error: TypeError: not a graph\n" + TIMED_REPORT)
    code, out, err = call(module, "minibatch_scale", ["--graph", str(graph), "--epochs", "1"])
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"minibatch_scale.py: error: {mode} run failed (rc 1): TypeError: not a graph"
        for mode in ("full", "minibatch")]


@pytest.mark.parametrize("name, argv", [
    ("synthetic_scale", ["--threads", "0"]),
    ("decision_table", ["{tmp}", "--rare", "x", "--specs", "foo"]),
    ("mask_share", ["--seeds", "a"]),
])
def test_as_a_script_bad_argument_is_one_line_exit_2(name, argv, tmp_path):
    """The real command line (``python benchmarks/NAME.py``): exit 2, one line."""
    root = Path(__file__).resolve().parents[2]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / f"{name}.py"), *argv],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}.py: error: "), proc.stderr
    assert argv[-2] in lines[0]
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []
