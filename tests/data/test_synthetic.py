"""The synthetic generator: sizes, dtypes, seeds, class counts and imbalance options."""

import pytest
import torch

from hetero_imb.data.datasets.synthetic import DEFAULT_CLASS_WEIGHTS, make_synthetic
from hetero_imb.params import ParamError


def _edges(data):
    return {e: data[e].edge_index for e in data.edge_types}


def test_sizes_dtypes_and_reverse_relations():
    data = make_synthetic(num_items=2000, num_users=200, num_tags=20, seed=3)
    assert data["item"].num_nodes == 2000 and data["user"].num_nodes == 200
    assert data["tag"].num_nodes == 20
    assert data["item"].x.shape == (2000, 8) and data["item"].x.dtype == torch.float
    assert data["item"].y.dtype == torch.long
    buy = data["item", "bought_by", "user"].edge_index
    tag = data["item", "tagged", "tag"].edge_index
    assert buy.dtype == torch.long and buy[1].max() < 200 and tag[1].max() < 20
    # at most user_degree / tag_degree edges per item, distinct pairs, sorted by item
    assert torch.bincount(buy[0]).max() <= 3 and torch.bincount(tag[0]).max() <= 2
    assert torch.unique(buy[0] * 200 + buy[1]).numel() == buy.size(1)
    assert torch.equal(buy[0], buy[0].sort().values)
    assert buy.size(1) > 0.95 * 3 * 2000  # few duplicates were removed
    assert torch.equal(data["user", "rev_bought_by", "item"].edge_index, buy.flip(0))
    assert [p[0][1] for p in data.metapaths] == ["bought_by", "tagged"]


def test_the_same_seed_gives_the_same_graph_and_another_seed_another():
    a, b = make_synthetic(seed=5), make_synthetic(seed=5)
    c = make_synthetic(seed=6)
    assert torch.equal(a["item"].y, b["item"].y) and torch.equal(a["item"].x, b["item"].x)
    assert all(torch.equal(x, y) for x, y in zip(_edges(a).values(), _edges(b).values(), strict=True))
    assert not torch.equal(a["item", "bought_by", "user"].edge_index,
                           c["item", "bought_by", "user"].edge_index)


def test_default_class_counts_follow_the_default_weights():
    y = make_synthetic(num_items=20000, seed=0)["item"].y
    share = torch.bincount(y).float() / 20000
    assert share.tolist() == pytest.approx(list(DEFAULT_CLASS_WEIGHTS), abs=0.02)


def test_num_classes_and_imbalance_ratio_give_geometric_classes():
    y = make_synthetic(num_items=50000, num_classes=5, imbalance_ratio=20, seed=1)["item"].y
    counts = torch.bincount(y).float()
    assert counts.numel() == 5
    assert (counts[:-1] > counts[1:]).all()  # decreasing
    assert float(counts[0] / counts[-1]) == pytest.approx(20, rel=0.25)


def test_every_class_gets_at_least_five_items():
    y = make_synthetic(num_items=60, class_weights=(0.97, 0.01, 0.01, 0.01), seed=0)["item"].y
    assert torch.bincount(y, minlength=4).min() >= 5


def test_degrees_and_extra_types_are_options():
    data = make_synthetic(num_items=500, num_tags=10, user_degree=1, tag_degree=4,
                          extra_types=2, seed=0)
    assert {"ctx0", "ctx1"} <= set(data.node_types)
    assert data["ctx1"].num_nodes == 10
    assert ("ctx1", "rev_in_ctx1", "item") in data.edge_types
    assert len(data.metapaths) == 4
    assert torch.bincount(data["item", "bought_by", "user"].edge_index[0]).max() == 1
    assert torch.bincount(data["item", "in_ctx0", "ctx0"].edge_index[0]).max() <= 4


def test_homophily_controls_how_often_edges_stay_in_the_community():
    def same_class_share(h):
        data = make_synthetic(num_items=4000, num_users=400, homophily=h, seed=2)
        items, users = data["item", "bought_by", "user"].edge_index
        return float((data["item"].y[items] == users % 4).float().mean())

    assert same_class_share(1.0) == 1.0
    assert same_class_share(0.0) < 0.4  # random users: about 1/4 share the class


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"class_weights": (1.0, 2.0), "num_classes": 3},
         "^dataset 'synthetic': class_weights cannot be combined with num_classes"),
        ({"num_classes": 1}, "^dataset 'synthetic': num_classes must be an integer >= 2, got 1$"),
        ({"imbalance_ratio": 0.5},
         "^dataset 'synthetic': imbalance_ratio must be a float >= 1, got 0.5$"),
        ({"tag_degree": -1}, "^dataset 'synthetic': tag_degree must be an integer >= 0, got -1$"),
        ({"num_items": 3},
         r"^dataset 'synthetic': num_items must be at least the number of classes \(4\), got 3$"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, match):
    # a ParamError: the command lines' usage error (exit 2), like the declared checks
    with pytest.raises(ParamError, match=match):
        make_synthetic(**kwargs)
