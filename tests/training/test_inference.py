"""Mini-batch inference, layer trimming, eval_every and batch progress lines."""

import logging
import math

import pytest
import torch
from torch import nn

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.graph import class_counts, split_mask
from hetero_imb.models import build_model
from hetero_imb.models.base import Encoder, NodeClassifier
from hetero_imb.models.rgcn import layer_rows
from hetero_imb.training.engine import fit
from hetero_imb.training.inference import BatchProgress, predict_in_batches
from hetero_imb.training.sampling import HeteroNeighborSampler

from .test_sampling import _chain_graph, _gen


def _loss(data):
    return build_loss("ce", class_counts=class_counts(data, split_mask(data, "train")))


class Recorder(Encoder):
    """Linear on the item features; records every graph it is run on."""

    def __init__(self):
        super().__init__()
        self.out_channels = 8
        self.lin = nn.Linear(8, 8)
        self.seen: list[tuple[bool, int, bool]] = []  # (sampled?, item rows, training?)

    def forward(self, data):
        store = data["item"]
        self.seen.append(("n_id" in store, int(store.num_nodes), self.training))
        return torch.relu(self.lin(store.x))


def test_nodes_are_ordered_by_hop_and_counted():
    batch = HeteroNeighborSampler(_chain_graph(), [-1, -1]).sample(torch.tensor([0]), _gen())
    # paper 0 is the seed, paper 1 comes at hop 1, papers 2 and 3 at hop 2; author 0 at hop 1
    assert batch["paper"].num_sampled_nodes == [1, 1, 2]
    assert batch["author"].num_sampled_nodes == [0, 1, 0]
    assert layer_rows(batch, 2) == [{"paper": 4, "author": 1}, {"paper": 2, "author": 1},
                                    {"paper": 1, "author": 0}]


def test_every_sampled_edge_points_into_an_earlier_hop(toy_graph):
    sampler = HeteroNeighborSampler(toy_graph, [3, 2])
    batch = sampler.sample(torch.arange(0, 300, 7), _gen(1))
    for edge_type in batch.edge_types:
        src_type, _, dst_type = edge_type
        src_hop = torch.repeat_interleave(torch.tensor(batch[src_type].num_sampled_nodes))
        dst_hop = torch.repeat_interleave(torch.tensor(batch[dst_type].num_sampled_nodes))
        ei = batch[edge_type].edge_index
        # an edge sampled at hop h goes from a node within h hops into one first reached at h-1
        assert bool((src_hop[ei[0]] <= dst_hop[ei[1]] + 1).all())
        assert bool((dst_hop[ei[1]] <= 1).all())


def test_trimmed_rgcn_equals_the_untrimmed_forward_on_the_seeds(toy_graph):
    model = build_model("rgcn", toy_graph, num_layers=2).eval()
    batch = HeteroNeighborSampler(toy_graph, [3, 3]).sample(torch.arange(40), _gen())
    untrimmed = batch.clone()
    for store in untrimmed.node_stores:
        del store.num_sampled_nodes
    with torch.no_grad():
        trimmed_out = model(batch)
        full_out = model(untrimmed)
    assert trimmed_out.shape[0] == 40  # layer 2 ran on the seeds only
    torch.testing.assert_close(trimmed_out, full_out[:40], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("item_features", [8, None])
def test_batched_prediction_with_full_fanout_equals_the_full_graph(item_features):
    from hetero_imb.data.datasets.synthetic import make_synthetic

    data = make_synthetic(num_items=120, num_users=30, num_tags=10, item_features=item_features)
    model = build_model("rgcn", data, num_layers=2, seed=3)
    sampler = HeteroNeighborSampler(data, [-1, -1])
    batched = predict_in_batches(model, sampler, torch.arange(120), batch_size=32)
    with torch.no_grad():
        torch.testing.assert_close(batched, model(data), rtol=1e-4, atol=1e-5)


def test_minibatch_fit_evaluates_in_batches_equal_to_full_batch_eval(toy_split):
    torch.manual_seed(0)
    model = build_model("rgcn", toy_split, seed=0)
    out = fit(model, toy_split, loss=_loss(toy_split), epochs=3, patience=None, device="cpu",
              progress=False, batch_size=64, num_neighbors=[4, 4], eval_num_neighbors=[-1, -1])
    with torch.no_grad():
        full = out.model.eval()(toy_split).softmax(dim=-1)
    torch.testing.assert_close(out.proba, full, rtol=1e-4, atol=1e-5)


def test_minibatch_mode_never_runs_the_full_graph(toy_split):
    torch.manual_seed(0)
    encoder = Recorder()
    fit(NodeClassifier(encoder, num_classes=4), toy_split, loss=_loss(toy_split), epochs=2,
        patience=None, device="cpu", progress=False, batch_size=50, num_neighbors=[2])
    assert encoder.seen and all(sampled for sampled, _, _ in encoder.seen)
    evaluated = [rows for _, rows, training in encoder.seen if not training]
    assert evaluated  # evaluation and the final prediction ran, on subgraphs
    assert all(rows < toy_split["item"].num_nodes for _, rows, _ in encoder.seen)


def test_full_batch_mode_is_unchanged(toy_split):
    torch.manual_seed(0)
    encoder = Recorder()
    fit(NodeClassifier(encoder, num_classes=4), toy_split, loss=_loss(toy_split), epochs=2,
        patience=None, device="cpu", progress=False)
    # per epoch: one training forward and one evaluation, then the final prediction
    assert [(s, r) for s, r, _ in encoder.seen] == [(False, 300)] * 5


@pytest.mark.parametrize("batch_size", [None, 64])
def test_eval_every_evaluates_every_n_epochs_and_after_the_last(toy_split, batch_size):
    torch.manual_seed(0)
    out = fit(build_model("rgcn", toy_split), toy_split, loss=_loss(toy_split), epochs=7,
              patience=None, device="cpu", progress=False, eval_every=3, batch_size=batch_size)
    evaluated = [h["epoch"] for h in out.history if not math.isnan(h["val_macro_f1"])]
    assert evaluated == [3, 6, 7]
    assert out.best_epoch in evaluated
    assert all(h["seconds"] >= h["train_seconds"] for h in out.history)


def test_patience_counts_evaluations(toy_split, monkeypatch):
    # lr 0: the weights never change, so no evaluation after the first improves; the
    # untrained model scores at chance, so the chance floor (tests/training/test_stalls.py)
    # is switched off here to count evaluations alone
    monkeypatch.setattr("hetero_imb.training.engine.chance_floor", lambda *a, **k: -1.0)
    out = fit(build_model("rgcn", toy_split), toy_split, loss=_loss(toy_split), epochs=50,
              lr=0.0, patience=2, device="cpu", progress=False, eval_every=3)
    assert out.best_epoch == 3 and out.epochs == 9  # evaluations at 3 (best), 6, 9 -> stop


def test_eval_every_must_be_positive(toy_split):
    with pytest.raises(ValueError, match="eval_every must be a positive integer, got 0"):
        fit(build_model("rgcn", toy_split), toy_split, loss=_loss(toy_split), epochs=1,
            device="cpu", progress=False, eval_every=0)


def test_batch_progress_logs_through_logging(caplog):
    ticks = iter([0.0, 5.0, 31.0, 40.0])
    progress = BatchProgress("train epoch 1/2", 10, every_seconds=30, clock=lambda: next(ticks))
    with caplog.at_level(logging.INFO, logger="hetero_imb.training.inference"):
        assert [progress.step(i) for i in (1, 2, 3)] == [False, True, False]
    assert [r.getMessage() for r in caplog.records] == [
        "train epoch 1/2: batch 2/10, elapsed 31s, eta 2m04s"
    ]


class _ProbaReadingCE(nn.Module):
    """Cross-entropy with an ``on_epoch`` hook that keeps the probabilities it gets."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, logits, y, **_):
        return nn.functional.cross_entropy(logits, y)

    def on_epoch(self, epoch, proba):
        self.seen.append(None if proba is None else tuple(proba.shape))


@pytest.mark.parametrize("reads_proba", [False, True])
def test_minibatch_evaluation_predicts_every_node_only_for_hooks_that_read_it(toy_split,
                                                                               reads_proba):
    from hetero_imb.balancing.augmenters import build_augmenter

    torch.manual_seed(0)
    encoder = Recorder()
    loss = _ProbaReadingCE() if reads_proba else _loss(toy_split)
    fit(NodeClassifier(encoder, num_classes=4), toy_split, loss=loss, epochs=2, patience=None,
        device="cpu", progress=False, batch_size=50, num_neighbors=[2],
        augmenter=build_augmenter("none"))  # as the runner passes it: reads no probabilities
    eval_batches = sum(1 for _, _, training in encoder.seen if not training)
    n_val, n_all = int(toy_split["item"].val_mask.sum()), toy_split["item"].num_nodes
    per_eval = math.ceil((n_all if reads_proba else n_val) / 50)
    assert eval_batches == 2 * per_eval + math.ceil(n_all / 50)  # + the final prediction
    if reads_proba:
        assert loss.seen == [(n_all, 4), (n_all, 4)]
