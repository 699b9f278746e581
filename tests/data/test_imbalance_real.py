"""Induced imbalance and splits on the real datasets (raw files from the local mirror).

The processed-graph cache goes to a temporary data root, never the repository's data/.
"""

from __future__ import annotations

import pytest
import torch

from hetero_imb.data.datasets import DatasetFileError, load
from hetero_imb.data.graph import class_counts, class_counts_by_split
from hetero_imb.data.imbalance import make_imbalance
from hetero_imb.data.splits import stratified_split


def _load(name, root, **options):
    try:
        return load(name, root=root, download=False, **options)
    except DatasetFileError as err:  # no mirror and no network: nothing to test on
        pytest.skip(f"raw files of {name!r} not available: {err}")


@pytest.fixture(scope="module")
def facebook(tmp_path_factory):
    # sparse features: the default SVD takes ~15 s and is irrelevant here, and the
    # sparse matrix also checks that sparse node features are sliced with the nodes
    return _load("facebook", tmp_path_factory.mktemp("data"), features="sparse")


@pytest.fixture(scope="module")
def freebase(tmp_path_factory):
    return _load("freebase", tmp_path_factory.mktemp("data"))


def test_facebook_case_study_counts(facebook):
    data = facebook.clone()
    assert data.target_node_type == "page"
    assert data.class_names == ["tvshow", "company", "government", "politician"]
    assert class_counts(data) == [3327, 6495, 6880, 5768]
    data["page"].orig = torch.arange(22470)
    edge_type = ("page", "likes", "page")
    ei = data[edge_type].edge_index

    out = make_imbalance(data, counts=[3327, 1410, 460, 256], mode="drop", seed=0)

    assert class_counts(out) == [3327, 1410, 460, 256]
    assert out["page"].num_nodes == 3327 + 1410 + 460 + 256 == 5453
    assert out["page"].y.shape == (5453,)
    assert out["page"].x.shape == (5453, data["page"].x.shape[1])
    orig = out["page"].orig
    assert torch.equal(out["page"].y, data["page"].y[orig])
    # the sparse features follow their nodes: same (original row, column) entries
    kept = torch.zeros(22470, dtype=torch.bool)
    kept[orig] = True
    width = data["page"].x.shape[1]
    x_new = out["page"].x.coalesce().indices()
    x_old = data["page"].x.coalesce().indices()
    x_old = x_old[:, kept[x_old[0]]]
    assert torch.equal(
        torch.sort(orig[x_new[0]] * width + x_new[1]).values,
        torch.sort(x_old[0] * width + x_old[1]).values,
    )
    # all tvshow pages are kept (the count asked for all of them)
    assert torch.equal(orig[out["page"].y == 0], torch.nonzero(data["page"].y == 0).flatten())

    new_ei = out[edge_type].edge_index
    assert 0 < new_ei.size(1) < ei.size(1)
    assert int(new_ei.min()) >= 0 and int(new_ei.max()) < 5453
    # exactly the original edges whose two ends survived, relabelled
    expected = ei[:, kept[ei[0]] & kept[ei[1]]]
    mapped = orig[new_ei]
    key = lambda e: torch.sort(e[0] * 22470 + e[1]).values  # noqa: E731
    assert torch.equal(key(mapped), key(expected))

    assert out.imbalance["counts_before"] == [3327, 6495, 6880, 5768]
    assert out.imbalance["counts_after"] == [3327, 1410, 460, 256]
    # the input graph is untouched
    assert facebook["page"].num_nodes == 22470
    assert facebook[edge_type].edge_index.size(1) == ei.size(1)


def test_freebase_split_then_step_mask(freebase):
    assert freebase.target_node_type == "movie"
    assert class_counts(freebase) == [1327, 618, 1547]

    split = stratified_split(freebase, 0.6, 0.2, 0.2, seed=0)
    # per class: quotas 0.6n / 0.2n / 0.2n, floors, then the leftover nodes to the
    # largest fractional parts (ties: train, val, test):
    # 1327: 796.2/265.4/265.4 -> 796/265/265, +1 -> val          => 796/266/265
    #  618: 370.8/123.6/123.6 -> 370/123/123, +2 -> train, val   => 371/124/123
    # 1547: 928.2/309.4/309.4 -> 928/309/309, +1 -> val          => 928/310/309
    assert class_counts_by_split(split) == {
        "train": [796, 371, 928],
        "val": [266, 124, 310],
        "test": [265, 123, 309],
    }

    out = make_imbalance(split, ratio=10, profile="step", mode="mask", seed=0)
    # step 10 on the train counts: n_max = 928, the floor(3/2) = 1 smallest class is
    # class 1 (371), capped at ceil(928 / 10) = 93; classes 0 and 2 keep all
    assert class_counts_by_split(out) == {
        "train": [796, 93, 928],
        "val": [266, 124, 310],
        "test": [265, 123, 309],
    }
    assert out.imbalance["counts_before"] == [796, 371, 928]
    assert out.imbalance["counts_requested"] == [796, 93, 928]
    assert out.imbalance["counts_after"] == [796, 93, 928]
    assert out["movie"].num_nodes == 3492
    assert out.num_edges == freebase.num_edges
