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
