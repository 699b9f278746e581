"""``compare --jobs N``: runs in worker processes give the same summary as one by one;
a failing run in a worker is recorded and the grid goes on; Ctrl-C stops the pool."""

import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from hetero_imb.cli.compare import run_grid
from hetero_imb.training.grid import Grid
from hetero_imb.training.parallel import default_threads, imap_unordered

GRID = {
    "dataset": "synthetic",
    "epochs": 4,
    "patience": 0,
    "model_params": {"hidden": 8},
    "grid": {"models": ["mlp", "gcn"], "losses": ["ce"], "samplers": ["none"], "seeds": [0, 1, 2]},
}
TIMING = ["fit_seconds"]

BOOM = textwrap.dedent('''
    from hetero_imb import BalancedLoss
    from hetero_imb.balancing.losses import register_loss

    @register_loss("boom-plugin")
    class Boom(BalancedLoss):
        """A loss that always fails."""

        def _forward(self, logits, target, embeddings, sample_weight):
            raise RuntimeError("simulated failure in a worker")
''')


#: A cross-entropy loss whose first run goes ahead and whose others wait, before their
#: first step, until a file ``release`` exists in the working folder: the grid is
#: mid-way, deterministically, when the first run reports ``done``.
HOLD = textwrap.dedent('''
    import os
    import time

    import torch.nn.functional as F

    from hetero_imb import BalancedLoss
    from hetero_imb.balancing.losses import register_loss

    @register_loss("hold-plugin")
    class Hold(BalancedLoss):
        """Cross-entropy; every run but the first waits for the file 'release'."""

        def _forward(self, logits, target, embeddings, sample_weight):
            if not getattr(self, "_cleared", False):
                try:
                    os.mkdir("first-run")  # atomic: exactly one run gets through
                except FileExistsError:
                    while not os.path.exists("release"):
                        time.sleep(0.05)
                self._cleared = True
            return F.cross_entropy(logits, target)
''')


def _metrics(path):
    frame = pd.read_csv(path).drop(columns=TIMING)
    return frame.sort_values(list(frame.columns[:5])).reset_index(drop=True)


def test_jobs_2_gives_the_same_summary_as_jobs_1(tmp_path):
    grid = Grid.from_dict(GRID)
    assert len(list(grid.runs())) == 6
    one = run_grid(grid, tmp_path / "one", progress=False, echo=lambda line: None, plots=False,
                   jobs=1, threads=1)
    lines = []
    two = run_grid(grid, tmp_path / "two", progress=False, echo=lines.append, plots=False,
                   jobs=2, threads=1)
    assert len(lines) == 6 and all(line.startswith("done ") for line in lines)
    a, b = _metrics(one / "summary.csv"), _metrics(two / "summary.csv")
    assert (a["status"] == "ok").all() and len(a) == 6
    pd.testing.assert_frame_equal(a, b)


def test_default_threads_and_bad_jobs():
    assert default_threads(1, cores=2) == 2 and default_threads(3, cores=2) == 1
    with pytest.raises(ValueError, match="jobs must be an integer >= 1, got 0"):
        list(imap_unordered(abs, [1], jobs=0))


def _env(tmp_path):
    (tmp_path / "boom_plugin.py").write_text(BOOM)
    (tmp_path / "hold_plugin.py").write_text(HOLD)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
            "PYTHONUNBUFFERED": "1"}


def _cli(tmp_path, *args, **kw):
    return subprocess.run([sys.executable, "-m", "hetero_imb.compare", *args], capture_output=True,
                          text=True, env=_env(tmp_path), cwd=tmp_path, **kw)


@pytest.mark.slow
def test_failing_run_in_a_worker_is_recorded_and_the_grid_goes_on(tmp_path):
    out = tmp_path / "grid"
    done = _cli(tmp_path, "--plugin", "boom_plugin", "--dataset", "synthetic", "--models", "mlp",
                "--losses", "ce,boom-plugin", "--seeds", "0,1", "--epochs", "2", "--no-plots",
                "--jobs", "2", "--threads", "1", "--out", str(out))
    assert done.returncode == 1, done.stderr
    assert "2 of 4 runs failed" in done.stderr
    frame = pd.read_csv(out / "summary.csv")
    assert (frame["status"] == "ok").sum() == 2
    error = (out / "runs" / "mlp__boom-plugin__none__seed1" / "error.json").read_text()
    assert "simulated failure in a worker" in error


def test_bad_jobs_exits_2(tmp_path):
    done = _cli(tmp_path, "--dataset", "synthetic", "--jobs", "0", "--out", str(tmp_path / "g"))
    assert done.returncode == 2 and "--jobs must be an integer >= 1, got 0" in done.stderr


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_stops_the_pool_and_the_grid_resumes(tmp_path):
    """The runs after the first wait (``hold-plugin``) until ``release`` exists, so Ctrl-C
    lands mid-grid whatever the machine's speed."""
    out = tmp_path / "grid"
    args = ["--plugin", "hold_plugin", "--dataset", "synthetic", "--models", "mlp,gcn",
            "--losses", "hold-plugin", "--seeds", "0,1,2,3,4,5", "--epochs", "3", "--no-plots",
            "--jobs", "2", "--threads", "1", "--no-progress", "--out", str(out)]
    # SIGINT back to its default in the child: a test session started in the background
    # by a non-interactive shell ignores SIGINT, and the child would inherit that
    proc = subprocess.Popen([sys.executable, "-m", "hetero_imb.compare", *args], env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=_default_sigint)
    for line in proc.stdout:  # the first finished run, then Ctrl-C
        if line.startswith("done "):
            proc.send_signal(signal.SIGINT)
            break
    assert proc.wait(timeout=600) == 130  # a hang guard only, never reached on a healthy run
    assert "interrupted" in proc.stderr.read()
    finished = list(out.glob("runs/*/results.json"))
    assert len(finished) == 1 and not (out / "summary.csv").exists()
    (tmp_path / "release").touch()
    done = _cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert (pd.read_csv(out / "summary.csv")["status"] == "ok").sum() == 12
