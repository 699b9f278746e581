"""Fault injection on ``save_run``: a process killed (``os._exit``, no clean-up runs)
at each step of saving leaves the old run folder or the new one, never a mix; a
save that fails says where the results are; permissions follow the umask."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import torch

from hetero_imb import _io
from hetero_imb.report import results as results_mod
from hetero_imb.report.results import RunResult, SaveError, save_run
from hetero_imb.training.config import RunConfig

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _result(seed: int) -> RunResult:
    return RunResult(
        config=RunConfig(dataset="synthetic", seed=seed),
        class_names=["a", "b"],
        metrics={"test": {"macro_f1": seed / 10}},
        class_counts={"train": [3, 1], "val": [1, 1], "test": [1, 1]},
        history=[{"epoch": 1, "loss": float(seed)}],
        proba=torch.full((4, 2), 0.5),
        y=torch.tensor([0, 1, 0, 1]),
        masks={},
    )


def _state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _kill_at(step: str):
    """Make the current (child) process die at ``step`` of saving."""
    die = lambda *a, **k: os._exit(9)  # noqa: E731
    if step == "config-written":  # after config.yaml, before history.jsonl
        real, calls = Path.write_text, []

        def write_text(self, *a, **k):
            calls.append(self)
            if len(calls) == 2:
                os._exit(9)
            return real(self, *a, **k)

        Path.write_text = write_text
    elif step == "predictions":
        torch.save = die
    elif step == "before-swap":
        _io._exchange = die
        _io.os.rename = die
    elif step == "after-swap":
        _io.shutil.rmtree = die
    elif step == "between-renames":  # the fallback where no atomic exchange exists
        _io._exchange = lambda a, b: False
        real_rename, calls = os.rename, []

        def rename(a, b):
            calls.append(a)
            if len(calls) == 2:
                os._exit(9)
            return real_rename(a, b)

        _io.os.rename = rename


def _save_in_child(step: str, result: RunResult, out: Path) -> int:
    pid = os.fork()
    if pid == 0:  # child: no pytest clean-up may run here
        try:
            _kill_at(step)
            save_run(result, out)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize(
    "step", ["config-written", "predictions", "before-swap", "after-swap", "between-renames"]
)
@pytest.mark.parametrize("existing", [True, False])
def test_killed_while_saving_leaves_old_or_new_never_a_mix(tmp_path, step, existing):
    out = tmp_path / "run"
    old = new = {}
    if existing:
        save_run(_result(1), out)
        old = _state(out)
    reference = tmp_path / "reference"
    save_run(_result(2), reference)
    new = _state(reference)
    code = _save_in_child(step, _result(2), out)
    swap_only = step in ("after-swap", "between-renames")  # a new folder is just renamed
    assert code == (0 if swap_only and not existing else 9)  # it really died there
    now = _state(out)
    if step == "between-renames" and existing and not now:
        # the only non-atomic window of the fallback: the old folder waits beside it
        (aside,) = tmp_path.glob(".run.*.old")
        assert _state(aside) == old
        return
    assert now in ((old, new) if existing else ({}, new))
    if now:
        assert json.loads(now["results.json"])["seed"] in (1, 2)


def test_files_and_folder_get_normal_permissions(tmp_path):
    out = save_run(_result(0), tmp_path / "run")
    umask = _io.current_umask()
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for file in out.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask


def test_overwrite_swaps_the_whole_folder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    save_run(_result(3), out, overwrite=True)  # not a run folder: replaced when asked
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "results.json").read_text())["seed"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_failed_move_says_where_the_results_are(tmp_path, monkeypatch):
    def refuse(a, b):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(results_mod, "replace_dir", refuse)
    with pytest.raises(SaveError, match="complete results are in") as err:
        save_run(_result(4), tmp_path / "run")
    where = Path(str(err.value).rsplit(" ", 1)[1])
    assert json.loads((where / "results.json").read_text())["seed"] == 4


def _rescued_seed(err: SaveError) -> int:
    """The seed of the run saved in the temporary folder the error names (then removed)."""
    import shutil

    where = Path(str(err).rsplit(" ", 1)[1])
    try:
        return json.loads((where / "results.json").read_text())["seed"]
    finally:
        shutil.rmtree(where)


def test_unwritable_parent_saves_to_the_temp_dir_and_says_so(tmp_path, monkeypatch):
    real_stage = results_mod._stage

    def stage(result, parent, name):
        if parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(parent))
        return real_stage(result, parent, name)

    monkeypatch.setattr(results_mod, "_stage", stage)
    with pytest.raises(SaveError, match="results were saved to") as err:
        save_run(_result(5), tmp_path / "run")
    assert _rescued_seed(err.value) == 5


def test_a_full_disk_in_torch_save_is_an_os_error_and_the_results_are_kept(tmp_path, monkeypatch):
    # torch's zip writer reports a full disk as a RuntimeError ("[enforce fail at
    # inline_container.cc] unexpected pos"); it is the OSError save_run rescues from
    real_save = torch.save

    def full_disk(obj, path, *args, **kwargs):
        if Path(path).parent.parent == tmp_path:  # the staging folder beside the run
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 7104")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(SaveError, match="could not write predictions.pt .*is the disk full") as err:
        save_run(_result(6), tmp_path / "run")
    assert _rescued_seed(err.value) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no half-written folder
