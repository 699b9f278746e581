"""Overhead of the shared training loop against a bare PyG loop, side by side in one process.

Both loops train the SAME model type on the SAME data with the same optimiser (Adam,
the loop's parameter groups) for the same number of epochs, one training step and one
full-graph evaluation per epoch; the difference is what the shared loop adds (loss and
sampler plumbing, validation macro-F1, best-weight tracking, history, progress bar,
callbacks). Two measurements per repeat, both printed as median seconds per epoch and
their ratio (target <= 1.05), the median of the per-repeat ratios and their range:

* ``paired``: one shared-loop run whose epoch callback runs one bare epoch, so that
  the two loops alternate epoch by epoch and a change of machine load hits both
  alike (the robust figure on a shared machine);
* ``alternate``: whole runs of each loop in turn (ours, bare, bare, ours, ...).

Cases are ``dataset:model``; ``citation`` is a seeded Cora-sized single-type graph
built here (2,708 nodes, 1,433-d sparse binary features, about 5.3k undirected
edges, 7 imbalanced classes; no download).

Usage:
    python benchmarks/epoch_time.py                 # citation GCN and Freebase R-GCN
    python benchmarks/epoch_time.py --epochs 200 --repeats 3 --cases citation:gcn
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData
from torch_geometric.utils import remove_self_loops, to_undirected

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.datasets import DATASETS, load
from hetero_imb.data.graph import class_counts, split_mask, target_type
from hetero_imb.data.imbalance import make_imbalance
from hetero_imb.data.splits import stratified_split
from hetero_imb.models import MODELS, build_model
from hetero_imb.registry import UnknownComponentError
from hetero_imb.training.engine import fit, parameter_groups

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/_args.py
from _args import Parser, non_negative_int, positive_int, validated  # noqa: E402

CORA_COUNTS = (818, 426, 418, 351, 298, 217, 180)


def make_citation(seed: int = 0, features: int = 1433, words: int = 18,
                  edges: int = 5278, homophily: float = 0.8) -> HeteroData:
    """A Cora-sized ``paper`` graph: class-dependent sparse bag-of-words features,
    homophilous symmetric ``cites`` edges, Cora's class sizes."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(CORA_COUNTS)])
    y = y[torch.randperm(len(y), generator=gen)]
    n, k = len(y), len(CORA_COUNTS)
    topic = torch.randint(0, features, (k, features // 10), generator=gen)  # class vocabularies
    own = torch.rand(n, words, generator=gen) < 0.5
    vocab = topic[y].gather(1, torch.randint(0, features // 10, (n, words), generator=gen))
    cols = torch.where(own, vocab, torch.randint(0, features, (n, words), generator=gen))
    rows = torch.arange(n).repeat_interleave(words)
    x = torch.sparse_coo_tensor(torch.stack([rows, cols.flatten()]), torch.ones(n * words),
                                (n, features), check_invariants=True).coalesce()
    x = torch.sparse_coo_tensor(x.indices(), torch.ones_like(x.values()), x.shape,
                                check_invariants=True).to_sparse_csr()
    src = torch.randint(0, n, (edges,), generator=gen)
    same = torch.rand(edges, generator=gen) < homophily
    by_class = [torch.nonzero(y == c).flatten() for c in range(k)]
    dst = torch.randint(0, n, (edges,), generator=gen)
    for c in range(k):
        pick = same & (y[src] == c)
        dst[pick] = by_class[c][torch.randint(0, len(by_class[c]), (int(pick.sum()),), generator=gen)]
    edge_index = to_undirected(remove_self_loops(torch.stack([src, dst]))[0], num_nodes=n)
    data = HeteroData()
    data["paper"].x, data["paper"].y = x, y
    data["paper", "cites", "paper"].edge_index = edge_index
    data.target_node_type, data.class_names = "paper", [f"class_{c}" for c in range(k)]
    data.metapaths = [[("paper", "cites", "paper")]]
    data.name = "citation"
    return data


def parse_cases(text: str) -> list[tuple[str, str, str]]:
    """``"citation:gcn,freebase:rgcn"`` -> ``[(case, dataset, model), ...]``, every name
    checked (``citation`` or a registered dataset; a registered model).

    Raises:
        ValueError: an entry that is not ``DATASET:MODEL`` or names an unknown component.
    """
    out = []
    for case in text.split(","):
        dataset, sep, model_name = case.partition(":")
        if not sep or not dataset or not model_name or ":" in model_name:
            raise ValueError(f"--cases expects comma-separated DATASET:MODEL pairs "
                             f"(e.g. citation:gcn,freebase:rgcn), got {case!r} in {text!r}")
        if dataset != "citation" and dataset not in DATASETS:
            raise UnknownComponentError("dataset", dataset, ["citation", *DATASETS.names()],
                                        parameter="--cases")
        MODELS.get(model_name, parameter="--cases")
        out.append((case, dataset, model_name))
    return out


def prepare(dataset: str):
    if dataset == "citation":
        return stratified_split(make_citation(), seed=0)
    data = load(dataset)
    if dataset == "facebook":
        data = make_imbalance(data, counts=[3327, 1410, 460, 256], mode="drop", seed=0)
    return stratified_split(data, seed=0)


def time_ours(model_name: str, data, epochs: int) -> float:
    model = build_model(model_name, data, seed=0)
    loss = build_loss("ce", class_counts=class_counts(data, split_mask(data, "train")))
    out = fit(model, data, loss=loss, epochs=epochs, patience=0, progress=False, device="cpu")
    return out.fit_seconds / epochs


class BareLoop:
    """The bare PyG loop: same model, data and optimiser (Adam with the loop's parameter
    groups), one training step and one full-graph evaluation with accuracy per epoch."""

    def __init__(self, model_name: str, data):
        self.model = build_model(model_name, data, seed=0)
        self.data = self.model.encoder.preprocess(data)
        target = target_type(self.data)
        self.y = self.data[target].y
        self.train, self.val = split_mask(self.data, "train"), split_mask(self.data, "val")
        self.opt = torch.optim.Adam(parameter_groups(self.model, 5e-4), lr=0.01)

    def epoch(self) -> None:
        self.model.train()
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(self.data)[self.train], self.y[self.train])
        loss.backward()
        self.opt.step()
        self.model.eval()
        with torch.no_grad():
            pred = self.model(self.data).argmax(-1)
        _ = (pred[self.val] == self.y[self.val]).float().mean().item()


def time_hand(model_name: str, data, epochs: int) -> float:
    loop = BareLoop(model_name, data)
    start = time.perf_counter()
    for _ in range(epochs):
        loop.epoch()
    return (time.perf_counter() - start) / epochs


def paired_epochs(model_name: str, data, epochs: int) -> tuple[list[float], list[float]]:
    """One run of the shared loop with one bare-loop epoch run inside each of its epoch
    callbacks: per-epoch wall times of both loops taken back to back, so that a change
    of machine load hits both alike. Ours is timed from the end of one callback to the
    start of the next (its whole epoch: training, evaluation, validation metric, early
    stopping, history, progress bar, callback dispatch); its first epoch is left out."""
    bare = BareLoop(model_name, data)
    ours_times: list[float] = []
    bare_times: list[float] = []
    mark: list[float] = []

    def callback(record) -> None:
        if mark:
            ours_times.append(time.perf_counter() - mark[0])
        start = time.perf_counter()
        bare.epoch()
        bare_times.append(time.perf_counter() - start)
        mark[:] = [time.perf_counter()]

    model = build_model(model_name, data, seed=0)
    loss = build_loss("ce", class_counts=class_counts(data, split_mask(data, "train")))
    fit(model, data, loss=loss, epochs=epochs + 1, patience=0, progress=False, device="cpu",
        callbacks=[callback])
    return ours_times, bare_times[1:]


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="citation:gcn,freebase:rgcn",
                        help="comma-separated dataset:model pairs")
    parser.add_argument("--epochs", type=positive_int, default=20)
    parser.add_argument("--repeats", type=positive_int, default=3)
    parser.add_argument("--threads", type=non_negative_int, default=0,
                        help="torch threads (0 = default)")
    args = parser.parse_args(argv)
    cases = validated(parser, "--cases", parse_cases, args.cases)
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.epochs} epochs x {args.repeats} alternating repeats")
    print(f"{'case':<16}{'method':<10}{'ours s/epoch':>13}{'bare s/epoch':>13}{'ratio':>8}"
          f"{'median of repeat ratios':>25}{'range':>14}")
    for case, dataset, model_name in cases:
        data = prepare(dataset)
        time_hand(model_name, data, 2)  # warm-up (caches, allocator)
        runs: dict[str, tuple[list[float], list[float]]] = {"paired": ([], []),
                                                             "alternate": ([], [])}
        for i in range(args.repeats):  # alternate which loop goes first, too
            ours, bare = paired_epochs(model_name, data, args.epochs)
            runs["paired"][0].append(statistics.median(ours))
            runs["paired"][1].append(statistics.median(bare))
            if i % 2:
                runs["alternate"][1].append(time_hand(model_name, data, args.epochs))
            runs["alternate"][0].append(time_ours(model_name, data, args.epochs))
            if not i % 2:
                runs["alternate"][1].append(time_hand(model_name, data, args.epochs))
        for method, (ours, bare) in runs.items():
            o, h = statistics.median(ours), statistics.median(bare)
            each = sorted(a / b for a, b in zip(ours, bare, strict=True))
            print(f"{case:<16}{method:<10}{o:>13.4f}{h:>13.4f}{o / h:>8.3f}"
                  f"{statistics.median(each):>25.3f}{each[0]:>8.3f}-{each[-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
