"""``--plugin MODULE``: a user module registers a component before arguments are
resolved; train, compare and predict all see it (run in subprocesses so the test
process's registries stay as they are)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

PLUGIN = textwrap.dedent('''
    import torch.nn.functional as F
    from hetero_imb import BalancedLoss
    from hetero_imb.balancing.losses import register_loss, weighted_mean
    from hetero_imb.params import ParamSpec

    @register_loss("smooth-ce-plugin")
    class SmoothCE(BalancedLoss):
        """Cross-entropy with label smoothing (a plugin)."""

        params = {"eps": ParamSpec("float", 0.1, "smoothing mass", low=0.0, high=1.0)}

        def _forward(self, logits, target, embeddings, sample_weight):
            losses = F.cross_entropy(logits, target, label_smoothing=self.hparams["eps"],
                                     reduction="none")
            return weighted_mean(losses, sample_weight)
''')


def _cli(tmp_path, *args):
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path)


@pytest.mark.slow
def test_plugin_loss_in_help_train_compare_and_predict(tmp_path):
    done = _cli(tmp_path, "hetero_imb.train", "--plugin", "my_plugin", "--help")
    assert done.returncode == 0 and "smooth-ce-plugin" in done.stdout
    run = tmp_path / "run"
    done = _cli(tmp_path, "hetero_imb.train", "--plugin", "my_plugin", "--dataset", "synthetic",
                "--loss", "smooth-ce-plugin", "--loss-param", "eps=0.2", "--epochs", "2",
                "--hidden", "8", "-q", "--out", str(run))
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "results.json").read_text())["loss"] == "smooth-ce-plugin"
    done = _cli(tmp_path, "hetero_imb.predict", str(run), "--out", str(tmp_path / "p.csv"))
    assert done.returncode == 0, done.stderr  # the saved config names the plugin
    done = _cli(tmp_path, "hetero_imb.compare", "--plugin", "my_plugin", "--dataset", "synthetic",
                "--models", "mlp", "--losses", "ce,smooth-ce-plugin", "--seeds", "0",
                "--epochs", "2", "--no-plots", "--out", str(tmp_path / "grid"))
    assert done.returncode == 0, done.stderr
    assert "smooth-ce-plugin" in (tmp_path / "grid" / "summary.csv").read_text()


def test_without_the_plugin_the_name_is_unknown(tmp_path):
    done = _cli(tmp_path, "hetero_imb.train", "--dataset", "synthetic", "--loss",
                "smooth-ce-plugin", "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "smooth-ce-plugin" in done.stderr


def test_missing_plugin_module_exits_2(tmp_path):
    done = _cli(tmp_path, "hetero_imb.train", "--plugin", "no_such_module_xyz")
    assert done.returncode == 2 and "no_such_module_xyz" in done.stderr
