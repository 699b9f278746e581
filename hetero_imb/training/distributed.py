"""Data-parallel training on :mod:`torch.distributed`, when launched by ``torchrun``.

``torchrun --nproc-per-node N -m hetero_imb.train ... --batch-size B`` starts N copies of
the ordinary command; each joins the process group from torchrun's environment
variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``),
gloo on CPU and NCCL on CUDA (one GPU per process, ``cuda:LOCAL_RANK``). The one
training loop (:func:`hetero_imb.training.engine.fit`) then differs in four places:

* **Seed nodes.** Every rank draws the same global seed sequence of an epoch (shuffled
  or class-balanced, from the run's seed), pads it to a multiple of N and keeps every
  N-th node from its rank on (:class:`ShardedLoader`). ``B`` stays the *global* batch
  size: optimiser step ``g`` of all ranks together covers the same ``B`` seeds, in the
  same class proportions, as step ``g`` of a one-process run, and each rank samples the
  neighbourhoods of its ``ceil(B / N)``. Same number of steps, same effective batch:
  no learning-rate rescaling, and results comparable across process counts.
* **Gradients.** The model step (embed → optional re-sampling → classify) runs inside
  :class:`~torch.nn.parallel.DistributedDataParallel`, which averages the gradients of
  the ranks' equal-sized shares: the mean loss over the global batch.
  ``find_unused_parameters`` is switched on only when a probe step on the first batch
  leaves a parameter without gradient (:func:`needs_unused_search`).
* **Decisions.** The validation macro-F1 of rank 0 and the mean training loss of all
  ranks are shared by one ``all_reduce`` per epoch (:func:`agree`): early stopping
  and the kept epoch are the same on every rank.
* **Outputs.** Only rank 0 shows progress, calls the epoch callbacks and writes the run
  folder; ``world_size`` and ``backend`` are recorded in ``config.yaml`` and
  ``results.json``.

Full-batch training is not data-parallel (every rank would need the whole graph for
its share of the loss): under torchrun with N > 1 it is refused (``batch_size`` must
be set; the command line exits with status 2).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parameter import UninitializedParameter
from torch_geometric.data import HeteroData

__all__ = [
    "DistributedContext", "ShardedLoader", "TrainStep", "agree", "current", "data_parallel",
    "init_from_env", "launched_by_torchrun", "rank_device", "record", "shutdown",
    "world_size_from_env",
]

#: torchrun's environment variables that ``init_process_group("env://")`` reads.
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in the process group.

    Attributes:
        rank: This process's rank, ``0 .. world_size - 1``.
        world_size: Number of processes.
        local_rank: Rank on this machine (the GPU it uses).
        backend: ``"gloo"`` or ``"nccl"``.
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0 (the one that reports and writes)."""
        return self.rank == 0


def launched_by_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the process was started by ``torchrun`` (its variables are all set).

    Example:
        >>> launched_by_torchrun({})
        False
        >>> launched_by_torchrun({"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0",
        ...                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"})
        True
    """
    environ = os.environ if environ is None else environ
    return all(name in environ for name in TORCHRUN_VARIABLES)


def world_size_from_env(environ: Mapping[str, str] | None = None) -> int:
    """``WORLD_SIZE`` of a torchrun launch, 1 otherwise.

    Example:
        >>> world_size_from_env({})
        1
    """
    environ = os.environ if environ is None else environ
    return int(environ.get("WORLD_SIZE", "1")) if launched_by_torchrun(environ) else 1


def current() -> DistributedContext | None:
    """The context of the initialised process group, ``None`` when there is none."""
    if not (dist.is_available() and dist.is_initialized()):
        return None
    return DistributedContext(
        rank=dist.get_rank(), world_size=dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")), backend=str(dist.get_backend()),
    )


def init_from_env(device: str = "auto") -> DistributedContext | None:
    """Join the process group when launched by torchrun; ``None`` otherwise.

    Args:
        device: The run's device setting: NCCL when it resolves to CUDA, else gloo.

    Returns:
        The :class:`DistributedContext` (an already initialised group is reused).
    """
    if not launched_by_torchrun():
        return current()
    if not dist.is_initialized():
        local_rank = int(os.environ["LOCAL_RANK"])
        if _wants_cuda(device):
            torch.cuda.set_device(local_rank)
            dist.init_process_group("nccl", device_id=torch.device("cuda", local_rank))
        else:
            dist.init_process_group("gloo")
    return current()


def _wants_cuda(device: str | torch.device) -> bool:
    if isinstance(device, torch.device):
        return device.type == "cuda"
    return device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())


def shutdown(context: DistributedContext | None) -> None:
    """Leave the process group (no-op without one)."""
    if context is not None and dist.is_initialized():
        dist.destroy_process_group()


def record(config: Any) -> Any:
    """``config`` (a :class:`~hetero_imb.training.config.RunConfig`) with this process
    group's ``world_size`` and ``backend`` (1 and ``None`` without one)."""
    context = current()
    if context is None:
        return config.replace(world_size=1, backend=None)
    return config.replace(world_size=context.world_size, backend=context.backend)


def rank_device(device: torch.device, context: DistributedContext | None) -> torch.device:
    """``cuda`` without an index becomes ``cuda:LOCAL_RANK`` (one GPU per process)."""
    if context is not None and device.type == "cuda" and device.index is None:
        return torch.device("cuda", context.local_rank)
    return device


def check_batch_size(batch_size: int | None, context: DistributedContext | None) -> None:
    """Refuse full-batch training in a process group of more than one process."""
    if context is not None and context.world_size > 1 and batch_size is None:
        raise ValueError(
            f"batch_size must be set under torchrun (world size {context.world_size}): "
            "full-batch training is not data-parallel; pass --batch-size B"
        )


def agree(loss: float, score: float, context: DistributedContext | None,
          device: torch.device) -> tuple[float, float]:
    """The mean of the ranks' ``loss`` and rank 0's ``score``, the same on every rank.

    One ``all_reduce`` per epoch; adding zeros to rank 0's score keeps it exact.
    """
    if context is None or context.world_size == 1:
        return loss, score
    own = score if context.is_main else 0.0
    dev = device if context.backend == "nccl" else torch.device("cpu")
    values = torch.tensor([loss / context.world_size, own], dtype=torch.float64, device=dev)
    dist.all_reduce(values)
    return float(values[0]), float(values[1])


class TrainStep(nn.Module):
    """Embed → optional re-sampling → classify as ONE forward call.

    DistributedDataParallel expects one forward per backward; the loop's step embeds,
    lets the re-sampler act on the embeddings, then classifies, so those three run here.

    Args:
        model: The :class:`~hetero_imb.models.base.NodeClassifier`.
        sampler: A re-sampler with ``resample(z, y, index=, generator=)`` or ``None``
            (not registered as a submodule: its state is not the model's).
        generator: The generator of the re-sampler's draws.
    """

    def __init__(self, model: nn.Module, sampler: Any | None, generator: torch.Generator):
        super().__init__()
        self.model = model
        self._resample = None if sampler is None else sampler.resample
        self._generator = generator

    def forward(self, graph: HeteroData, rows: Tensor | slice, y: Tensor,
                index: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """``(logits, embeddings, labels, sample weights)`` of the rows ``rows``."""
        z = self.model.embed(graph)[rows]
        weight = None
        if self._resample is not None:
            z, y, weight = self._resample(z, y, index=index, generator=self._generator)
        return self.model.classify(z), z, y, weight


def needs_unused_search(step: TrainStep, probe: tuple[Any, ...]) -> bool:
    """Whether a training step on ``probe`` (``step``'s arguments) leaves any parameter
    without a gradient; materialises lazy parameters on the way. Random state and
    gradients are left as they were."""
    with torch.random.fork_rng(devices=[]):
        step.train()
        logits, z, _, _ = step(*probe)
        (logits.sum() + z.sum()).backward()
    unused = any(p.grad is None for p in step.parameters() if p.requires_grad)
    step.zero_grad(set_to_none=True)
    return unused


def data_parallel(step: TrainStep, context: DistributedContext | None, device: torch.device,
                  probe: tuple[Any, ...] | None = None) -> nn.Module:
    """``step`` wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` (as is
    without a group of more than one process). Rank 0's weights are broadcast to all.

    Buffers are not re-broadcast at every forward (``forward_sync_buffers=False``): the
    models' buffers are derived from the graph, the same on every rank.
    """
    if context is None or context.world_size == 1:
        return step
    find_unused = False
    if probe is not None:  # every rank probes its own batch; any rank's "yes" decides
        flag = torch.tensor([float(needs_unused_search(step, probe))],
                            device=device if context.backend == "nccl" else "cpu")
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        find_unused = bool(flag.item())
    elif any(isinstance(p, UninitializedParameter) for p in step.parameters()):
        raise ValueError("a model with lazy parameters needs a probe batch before "
                         "DistributedDataParallel; train with batch_size set")
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(
        step, device_ids=device_ids, forward_sync_buffers=False,
        find_unused_parameters=find_unused,
    )


class ShardedLoader:
    """This rank's share of every global mini-batch of a
    :class:`~hetero_imb.training.sampling.HeteroNeighborLoader`.

    The wrapped loader draws the epoch's global seed order (the same on every rank:
    same seed); it is padded by wrapping around to a multiple of ``world_size`` and
    rank ``r`` keeps positions ``r, r + N, r + 2N, ...``, in batches of
    ``ceil(batch_size / N)``. Every rank has the same number of batches of the same
    sizes, and batch ``g`` of all ranks together is the window ``g`` of the global
    order. Neighbourhoods are sampled with a generator of this rank's own.

    Args:
        loader: The global loader (its ``batch_size`` is the global batch size).
        context: The process group.
        seed: The run's seed (the neighbour-sampling generator gets ``seed + rank``).
    """

    def __init__(self, loader: Any, context: DistributedContext, seed: int):
        self.loader = loader
        self.rank, self.world_size = context.rank, context.world_size
        self.batch_size = math.ceil(loader.batch_size / self.world_size)
        self.generator = torch.Generator().manual_seed(int(seed) + 7919 * (self.rank + 1))

    def shard(self, seeds: Tensor) -> Tensor:
        """This rank's share of the global seed order ``seeds``.

        Example:
            >>> ctx = DistributedContext(rank=1, world_size=2, local_rank=1, backend="gloo")
            >>> loader = type("L", (), {"batch_size": 4})()
            >>> ShardedLoader(loader, ctx, seed=0).shard(torch.arange(5)).tolist()
            [1, 3, 0]
        """
        pad = -seeds.numel() % self.world_size
        if pad:
            seeds = torch.cat([seeds, seeds[:pad]])
        return seeds[self.rank::self.world_size]

    def __len__(self) -> int:
        n = self.loader.input_nodes.numel()
        return math.ceil(math.ceil(n / self.world_size) / self.batch_size)

    def __iter__(self) -> Iterator[HeteroData]:
        seeds = self.shard(self.loader.epoch_seeds())
        for start in range(0, seeds.numel(), self.batch_size):
            yield self.loader.sampler.sample(seeds[start:start + self.batch_size], self.generator)

    def probe(self) -> HeteroData:
        """A first batch for :func:`needs_unused_search`, sampled with a throwaway
        generator (the epoch streams are left untouched)."""
        seeds = self.shard(self.loader.input_nodes)[: self.batch_size]
        return self.loader.sampler.sample(seeds, torch.Generator().manual_seed(0))
