"""Shared fixtures: small imbalanced heterographs built in memory."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.data.datasets.synthetic import make_synthetic

torch.set_num_threads(1)


def _random_masks(data: HeteroData, seed: int = 0) -> HeteroData:
    """60/20/20 masks, stratified by class, built without the splits module."""
    y = data[data.target_node_type].y
    gen = torch.Generator().manual_seed(seed)
    train = torch.zeros_like(y, dtype=torch.bool)
    val = torch.zeros_like(train)
    test = torch.zeros_like(train)
    for c in y.unique():
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_tr = max(1, int(0.6 * len(idx)))
        n_va = max(1, int(0.2 * len(idx)))
        train[idx[:n_tr]] = True
        val[idx[n_tr : n_tr + n_va]] = True
        test[idx[n_tr + n_va :]] = True
    store = data[data.target_node_type]
    store.train_mask, store.val_mask, store.test_mask = train, val, test
    return data


@pytest.fixture
def toy_graph() -> HeteroData:
    """Item/user/tag heterograph, 300 items in 4 imbalanced classes, item features."""
    return make_synthetic(seed=0)


@pytest.fixture
def toy_graph_featureless() -> HeteroData:
    """Same graph with no item features (items need learnable embeddings)."""
    return make_synthetic(seed=0, item_features=None)


@pytest.fixture
def toy_split() -> HeteroData:
    """The featured toy graph with stratified 60/20/20 masks."""
    return _random_masks(make_synthetic(seed=0))


@pytest.fixture
def toy_split_featureless() -> HeteroData:
    """The featureless toy graph with stratified 60/20/20 masks."""
    return _random_masks(make_synthetic(seed=0, item_features=None))


# --- multi-label (issue 16) ----------------------------------------------------------

ML_LABELS = ["drama", "comedy", "action", "rare"]


def make_multilabel_graph(seed: int = 7, n: int = 240) -> HeteroData:
    """Movie/director/actor heterograph with 4 learnable labels and given 60/20/20 masks.

    drama (about half): feature 0 > 0; comedy (about 30%): feature 1 > 0.5; action: the
    movie's director is one of the first 8 (a neighbour type drives it); rare (about 6%):
    feature 2 > 1.55. Ten movies are unlabelled (rows of -1). Every split holds every label.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=gen)
    director = torch.randint(0, 40, (n,), generator=gen)
    actors = torch.randint(0, 60, (n, 3), generator=gen)
    y = torch.stack([x[:, 0] > 0, x[:, 1] > 0.5, director < 8, x[:, 2] > 1.55], dim=1).float()
    y[torch.randperm(n, generator=gen)[:10]] = -1.0
    data = HeteroData(target_node_type="movie", class_names=list(ML_LABELS))
    data["movie"].x, data["movie"].y = x, y
    data["director"].num_nodes, data["actor"].num_nodes = 40, 60
    directs = torch.stack([torch.arange(n), director])
    plays = torch.stack([torch.arange(n).repeat_interleave(3), actors.flatten()])
    plays = torch.unique(plays, dim=1)
    data["movie", "directed_by", "director"].edge_index = directs
    data["director", "rev_directed_by", "movie"].edge_index = directs.flip(0)
    data["movie", "stars", "actor"].edge_index = plays
    data["actor", "rev_stars", "movie"].edge_index = plays.flip(0)
    data.metapaths = [
        [("movie", "directed_by", "director"), ("director", "rev_directed_by", "movie")],
        [("movie", "stars", "actor"), ("actor", "rev_stars", "movie")],
    ]
    order = torch.randperm(n, generator=gen)
    train, val, test = (torch.zeros(n, dtype=torch.bool) for _ in range(3))
    train[order[: int(0.6 * n)]] = True
    val[order[int(0.6 * n): int(0.8 * n)]] = True
    test[order[int(0.8 * n):]] = True
    store = data["movie"]
    store.train_mask, store.val_mask, store.test_mask = train, val, test
    for mask in (train, val, test):
        assert bool((y[mask & (y >= 0).all(1)].sum(0) > 0).all()), "a split lacks a label"
    return data


@pytest.fixture
def multilabel_graph() -> HeteroData:
    """:func:`make_multilabel_graph`, checked by the validation gate."""
    from hetero_imb.data.validate import validate_graph

    data = make_multilabel_graph()
    validate_graph(data, for_training=True)
    return data


@pytest.fixture
def loss_counts(monkeypatch) -> list[list[int]]:
    """The class counts every loss a run builds is given, in order (``runner.build_loss``
    spied on; the loss is built as usual)."""
    from hetero_imb.training import runner

    seen: list[list[int]] = []
    real = runner.build_loss

    def spy(name, *, class_counts, **kw):
        seen.append(list(class_counts))
        return real(name, class_counts=class_counts, **kw)

    monkeypatch.setattr(runner, "build_loss", spy)
    return seen
