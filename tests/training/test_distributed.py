"""Data-parallel training (hetero_imb.training.distributed): seed sharding, the
full-batch refusal, and a real 2-process torchrun over gloo on loopback checked
against a 1-process run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from hetero_imb.cli.train import main
from hetero_imb.data.datasets import load
from hetero_imb.data.splits import stratified_split
from hetero_imb.models import build_model
from hetero_imb.training.distributed import (
    DistributedContext,
    ShardedLoader,
    TrainStep,
    launched_by_torchrun,
    needs_unused_search,
)
from hetero_imb.training.sampling import HeteroNeighborLoader

REPO = Path(__file__).resolve().parents[2]
TORCHRUN_ENV = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0",
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


def _context(rank, world=2):
    return DistributedContext(rank=rank, world_size=world, local_rank=rank, backend="gloo")


def _loader(data, balanced):
    train = torch.nonzero(data["item"].train_mask).flatten()
    return HeteroNeighborLoader(data, train, [2, 2], batch_size=10, shuffle=True, seed=3,
                                balanced=balanced)


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("balanced", [False, True])
def test_shards_of_a_step_make_up_the_global_batch(world, balanced):
    data = stratified_split(load("synthetic"), seed=0)
    global_seeds = _loader(data, balanced).epoch_seeds()
    shards = [ShardedLoader(_loader(data, balanced), _context(r, world), seed=3)
              for r in range(world)]
    batches = [[b["item"].n_id[:b["item"].batch_size] for b in s] for s in shards]
    assert len({len(s) for s in shards} | {len(b) for b in batches}) == 1  # same step count
    padded = torch.cat([global_seeds, global_seeds[: -global_seeds.numel() % world]])
    step = shards[0].batch_size * world
    for g in range(len(shards[0])):
        union = torch.cat([batches[r][g] for r in range(world)])
        assert sorted(union.tolist()) == sorted(padded[g * step:(g + 1) * step].tolist())
    if balanced:  # the union over ranks keeps the global class balance exactly
        y = data["item"].y
        every = torch.cat([torch.cat(b) for b in batches])
        assert torch.equal(torch.bincount(y[every], minlength=4).sort().values,
                           torch.bincount(y[padded], minlength=4).sort().values)


def test_probe_finds_parameters_left_without_gradient():
    data = stratified_split(load("synthetic"), seed=0)
    batch = _loader(data, False).sampler.sample(torch.tensor([0, 1]), torch.Generator())
    args = (batch, slice(0, 2), batch["item"].y[:2], batch["item"].n_id[:2])
    model = build_model("rgcn", data, seed=0)
    assert not needs_unused_search(TrainStep(model, None, torch.Generator()), args)
    assert all(p.grad is None for p in model.parameters())  # gradients left as they were
    model.unused = torch.nn.Linear(2, 2)
    assert needs_unused_search(TrainStep(model, None, torch.Generator()), args)


def test_full_batch_under_torchrun_is_a_usage_error(tmp_path, monkeypatch, capsys):
    for name, value in TORCHRUN_ENV.items():
        monkeypatch.setenv(name, value)
    assert launched_by_torchrun()
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "synthetic", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "batch_size must be set under torchrun (world size 2)" in err[0]
    assert not (tmp_path / "run").exists()
    # the other process exits the same way without repeating the line
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "synthetic", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2 and capsys.readouterr().err == ""


# All neighbours, no dropout: the 2-process run takes the same optimiser steps as the
# 1-process run (each step's global batch split in halves whose gradients DDP averages),
# so the two differ only by float32 summation order (measured: losses equal to ~1e-7).
SAME_STEPS = ["--dataset", "synthetic", "--model", "rgcn", "--batch-size", "64",
              "--num-neighbors=-1,-1", "--dropout", "0", "--epochs", "6", "--patience", "0",
              "--device", "cpu", "--no-progress", "-q"]


def test_torchrun_two_processes_match_one_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    runs = tmp_path / "runs"
    runs.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", "2", "-m", "hetero_imb.train", *SAME_STEPS,
           "--out", str(runs / "ddp")]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test macro-F1") == 1  # only rank 0 reports
    assert [p.name for p in runs.iterdir()] == ["ddp"]  # one run folder
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]  # nothing written elsewhere
    assert main([*SAME_STEPS, "--out", str(runs / "single")]) == 0

    ddp, single = runs / "ddp", runs / "single"
    config = yaml.safe_load((ddp / "config.yaml").read_text())
    result = json.loads((ddp / "results.json").read_text())
    assert (config["world_size"], config["backend"]) == (2, "gloo")
    assert (result["world_size"], result["backend"]) == (2, "gloo")
    one = json.loads((single / "results.json").read_text())
    assert (one["world_size"], one["backend"]) == (1, None)

    def history(folder):
        return [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()]

    h2, h1 = history(ddp), history(single)
    assert len(h2) == len(h1) == 6
    # the losses must agree to round-off: a wrong shard, a missing gradient average or
    # unsynchronised weights moves them by far more than 1e-4
    assert torch.allclose(torch.tensor([r["loss"] for r in h2]),
                          torch.tensor([r["loss"] for r in h1]), rtol=1e-4)
    # metrics: at most a near-tie node flipping between classes (60 test nodes)
    for r2, r1 in zip(h2, h1, strict=True):
        assert abs(r2["val_macro_f1"] - r1["val_macro_f1"]) <= 0.02
    assert abs(result["metrics"]["test"]["macro_f1"] - one["metrics"]["test"]["macro_f1"]) <= 0.02


def test_the_loop_trains_on_its_share_under_a_process_group(monkeypatch):
    """Without a real group: a fake rank 1 of 2 (DDP itself is exercised by torchrun above)."""
    from hetero_imb.balancing.losses import build_loss
    from hetero_imb.training import distributed, engine

    seen = []

    class Recording(ShardedLoader):
        def __iter__(self):
            for batch in super().__iter__():
                seen.append(batch["item"].n_id[:batch["item"].batch_size])
                yield batch

    monkeypatch.setattr(distributed, "current", lambda: _context(1))
    monkeypatch.setattr(distributed, "ShardedLoader", Recording)
    monkeypatch.setattr(distributed, "data_parallel", lambda step, *a, **k: step)
    monkeypatch.setattr(distributed, "agree", lambda loss, score, *a: (loss, score))
    data = stratified_split(load("synthetic"), seed=0)
    model = build_model("rgcn", data, seed=0)
    engine.fit(model, data, loss=build_loss("ce", class_counts=[1, 1, 1, 1]), epochs=1,
               device="cpu", batch_size=64, progress=False)
    n_train = int(data["item"].train_mask.sum())
    assert [len(s) for s in seen] == [32, 32, 26]  # ceil(64 / 2) of the 180 train nodes
    assert sum(len(s) for s in seen) == n_train // 2
    with pytest.raises(ValueError, match="batch_size must be set under torchrun"):
        engine.fit(model, data, loss=build_loss("ce", class_counts=[1, 1, 1, 1]), epochs=1,
                   device="cpu", progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torchrun_on_gpus_uses_nccl(tmp_path):
    """One process per GPU (up to 2), NCCL; the run folder records it."""
    nproc = min(2, torch.cuda.device_count())
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    args = [a if a != "cpu" else "auto" for a in SAME_STEPS]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", str(nproc), "-m", "hetero_imb.train", *args,
           "--out", str(tmp_path / "gpu")]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "gpu" / "results.json").read_text())
    assert (result["world_size"], result["backend"]) == (nproc, "nccl")
