"""Overhead of the shared training loop against a minimal hand-written PyG loop.

Both loops train the SAME model object type on the SAME data for the same number of
epochs, with one training step and one full-graph evaluation per epoch; the
difference is what our loop adds (loss/sampler plumbing, macro-F1 on validation,
best-weight tracking, progress bar, history). Runs alternate (ours, hand, ours, ...)
so that machine noise hits both alike; the script prints median seconds per epoch,
their ratio, and the ratio of the fastest repeats (less sensitive to other
processes on a shared machine). Target: ratio <= 1.05.

Cases are ``dataset:model``; ``citation`` is a seeded Cora-sized single-type graph
built here (2,708 nodes, 1,433-d sparse binary features, about 5.3k undirected
edges, 7 imbalanced classes; no download).

Usage:
    python benchmarks/epoch_time.py                 # citation GCN and Freebase R-GCN
    python benchmarks/epoch_time.py --epochs 200 --repeats 3 --cases citation:gcn
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData
from torch_geometric.utils import remove_self_loops, to_undirected

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.datasets import load
from hetero_imb.data.graph import class_counts, split_mask, target_type
from hetero_imb.data.imbalance import make_imbalance
from hetero_imb.data.splits import stratified_split
from hetero_imb.models import build_model
from hetero_imb.training.engine import fit

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


def time_hand(model_name: str, data, epochs: int) -> float:
    model = build_model(model_name, data, seed=0)
    data = model.encoder.preprocess(data)
    target = target_type(data)
    y = data[target].y
    train, val = split_mask(data, "train"), split_mask(data, "val")
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(data)[train], y[train])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(data).argmax(-1)
        _ = (pred[val] == y[val]).float().mean().item()
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="citation:gcn,freebase:rgcn",
                        help="comma-separated dataset:model pairs")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.epochs} epochs x {args.repeats} alternating repeats")
    print(f"{'case':<18}{'ours s/epoch':>14}{'hand s/epoch':>14}{'ratio':>8}{'min ratio':>11}")
    for case in args.cases.split(","):
        dataset, model_name = case.split(":")
        data = prepare(dataset)
        time_hand(model_name, data, 2)  # warm-up (caches, allocator)
        ours, hand = [], []
        for i in range(args.repeats):  # alternate which loop goes first, too
            if i % 2:
                hand.append(time_hand(model_name, data, args.epochs))
            ours.append(time_ours(model_name, data, args.epochs))
            if not i % 2:
                hand.append(time_hand(model_name, data, args.epochs))
        o, h = statistics.median(ours), statistics.median(hand)
        print(f"{case:<18}{o:>14.4f}{h:>14.4f}{o / h:>8.3f}{min(ours) / min(hand):>11.3f}")


if __name__ == "__main__":
    main()
