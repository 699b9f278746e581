"""Overhead of the shared training loop against a minimal hand-written PyG loop.

Both loops train the SAME model object type on the SAME data for the same number of
epochs, with one training step and one full-graph evaluation per epoch; the
difference is what our loop adds (loss/sampler plumbing, macro-F1 on validation,
best-weight tracking, progress bar, history). Runs alternate (ours, hand, ours, ...)
so that machine noise hits both alike; the script prints median seconds per epoch
and their ratio. Target: ratio <= 1.10.

Usage:
    python benchmarks/epoch_time.py                 # Facebook GCN and Freebase R-GCN
    python benchmarks/epoch_time.py --epochs 30 --repeats 3 --cases facebook:gcn
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.datasets import load
from hetero_imb.data.graph import class_counts, split_mask, target_type
from hetero_imb.data.imbalance import make_imbalance
from hetero_imb.data.splits import stratified_split
from hetero_imb.models import build_model
from hetero_imb.training.engine import fit


def prepare(dataset: str):
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
    parser.add_argument("--cases", default="facebook:gcn,freebase:rgcn",
                        help="comma-separated dataset:model pairs")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.epochs} epochs x {args.repeats} alternating repeats")
    print(f"{'case':<18}{'ours s/epoch':>14}{'hand s/epoch':>14}{'ratio':>8}")
    for case in args.cases.split(","):
        dataset, model_name = case.split(":")
        data = prepare(dataset)
        time_hand(model_name, data, 2)  # warm-up (caches, allocator)
        ours, hand = [], []
        for _ in range(args.repeats):
            ours.append(time_ours(model_name, data, args.epochs))
            hand.append(time_hand(model_name, data, args.epochs))
        o, h = statistics.median(ours), statistics.median(hand)
        print(f"{case:<18}{o:>14.4f}{h:>14.4f}{o / h:>8.3f}")


if __name__ == "__main__":
    main()
