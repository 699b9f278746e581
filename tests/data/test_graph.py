import pytest
import torch

from hetero_imb.data.features import node_features
from hetero_imb.data.graph import class_counts, describe, metapath_edge_index, split_mask


def test_metapath_edge_index_matches_bruteforce(toy_graph):
    path = toy_graph.metapaths[0]
    ei = metapath_edge_index(toy_graph, path)
    a = toy_graph[path[0]].edge_index
    users_of = {}
    for i, u in a.t().tolist():
        users_of.setdefault(i, set()).add(u)
    expected = {
        (i, j) for i in users_of for j in users_of if i != j and users_of[i] & users_of[j]
    }
    assert set(map(tuple, ei.t().tolist())) == expected


def test_structural_features_for_featureless_target(toy_graph_featureless):
    x, desc = node_features(toy_graph_featureless)
    assert x.shape == (300, 4)
    assert desc.startswith("structural:")
    deg = torch.bincount(toy_graph_featureless["item", "bought_by", "user"].edge_index[0], minlength=300)
    assert torch.allclose(x[:, 0], torch.log1p(deg.float()))


def test_real_features_used_when_present(toy_graph):
    x, desc = node_features(toy_graph)
    assert torch.equal(x, toy_graph["item"].x)
    assert desc == "node features x[8]"


def test_class_counts_and_missing_mask(toy_graph):
    assert sum(class_counts(toy_graph)) == 300
    with pytest.raises(ValueError, match="train_mask"):
        split_mask(toy_graph, "train")
    assert "meta-path: item-user-item" in describe(toy_graph)
