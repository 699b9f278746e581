"""NodeInput: embedding tables for featureless types, linear maps for featured ones."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.models.base import COMMON_PARAMS
from hetero_imb.models.inputs import NodeInput, check_settings, seeded
from hetero_imb.params import ParamError


def _tiny_graph(sparse: bool = False) -> HeteroData:
    """Two featured pages (3-d features), three featureless tags."""
    data = HeteroData()
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    data["page"].x = x.to_sparse() if sparse else x
    data["tag"].num_nodes = 3
    edges = torch.tensor([[0, 1, 1], [0, 1, 2]])
    data["page", "has", "tag"].edge_index = edges
    data["tag", "rev_has", "page"].edge_index = edges.flip(0)
    data.target_node_type = "page"
    return data


def test_featureless_types_get_tables_and_featured_types_linear_maps(toy_graph_featureless):
    inputs = NodeInput(toy_graph_featureless, hidden=6, seed=0)
    # item and tag carry no features in this graph; user has 4-d features
    assert sorted(inputs.featureless_types()) == ["item", "tag"]
    assert sorted(inputs.linears.keys()) == ["user"]
    assert inputs.tables["item"].weight.shape == (300, 6)
    assert inputs.tables["tag"].weight.shape == (30, 6)
    assert inputs.linears["user"].in_features == 4
    out = inputs(toy_graph_featureless)
    assert {t: tuple(h.shape) for t, h in out.items()} == {
        "item": (300, 6),
        "user": (120, 6),
        "tag": (30, 6),
    }
    # a table's output is the table itself; a linear map's is x W^T + b
    assert torch.equal(out["tag"], inputs.tables["tag"].weight)
    lin = inputs.linears["user"]
    expected = toy_graph_featureless["user"].x @ lin.weight.t() + lin.bias
    assert torch.allclose(out["user"], expected)


def test_featured_target_uses_its_features(toy_graph):
    inputs = NodeInput(toy_graph, hidden=5, seed=0)
    assert sorted(inputs.linears.keys()) == ["item", "user"]
    assert inputs.linears["item"].in_features == 8


def test_sparse_features_match_the_dense_computation_and_get_gradients():
    dense, sparse = _tiny_graph(sparse=False), _tiny_graph(sparse=True)
    inputs = NodeInput(sparse, hidden=4, seed=0)
    out = inputs(sparse)["page"]
    lin = inputs.linears["page"]
    # hand computation on the dense features
    assert torch.allclose(out, dense["page"].x @ lin.weight.t() + lin.bias)
    out.sum().backward()
    # d(sum)/dW[j, k] = sum_i x[i, k] = column sums [1, 3, 2] for every output j
    assert torch.allclose(lin.weight.grad, torch.tensor([[1.0, 3.0, 2.0]]).repeat(4, 1))
    assert inputs.tables["tag"].weight.shape == (3, 4)


def test_minibatch_store_indexes_tables_with_n_id():
    data = _tiny_graph(sparse=True)
    inputs = NodeInput(data, hidden=4, seed=1)
    full = inputs(data)
    batch = HeteroData()
    page_ids, tag_ids = torch.tensor([1]), torch.tensor([2, 0])
    batch["page"].x = torch.index_select(data["page"].x, 0, page_ids)
    batch["page"].n_id = page_ids
    batch["tag"].num_nodes = 2
    batch["tag"].n_id = tag_ids
    out = inputs(batch)
    assert torch.equal(out["tag"], inputs.tables["tag"].weight[tag_ids])
    assert torch.allclose(out["page"], full["page"][page_ids])


def test_subgraph_without_n_id_is_rejected_with_counts():
    data = _tiny_graph()
    inputs = NodeInput(data, hidden=4, seed=0)
    batch = HeteroData()
    batch["page"].x = data["page"].x[:1]
    batch["tag"].num_nodes = 2
    with pytest.raises(ValueError, match="'tag' has 2 nodes but its embedding table has 3 rows"):
        inputs(batch)


def test_node_types_restriction_and_validation():
    data = _tiny_graph()
    inputs = NodeInput(data, hidden=4, node_types=["page"])
    assert list(inputs(data)) == ["page"]
    assert len(inputs.tables) == 0
    with pytest.raises(ValueError, match="unknown \\['movie'\\]"):
        NodeInput(data, hidden=4, node_types=["movie"])
    with pytest.raises(ParamError, match="^NodeInput: hidden must be an integer >= 1, got 0$"):
        NodeInput(data, hidden=0)


def test_seed_fixes_initialisation_and_leaves_global_rng_alone():
    data = _tiny_graph()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = NodeInput(data, hidden=4, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    b = NodeInput(data, hidden=4, seed=7)
    c = NodeInput(data, hidden=4, seed=8)
    assert torch.equal(a.tables["tag"].weight, b.tables["tag"].weight)
    assert torch.equal(a.linears["page"].weight, b.linears["page"].weight)
    assert not torch.equal(a.tables["tag"].weight, c.tables["tag"].weight)


def test_seeded_context_restores_the_global_state():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    with seeded(5):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)
    with seeded(5):
        assert torch.equal(torch.rand(3), inside)


def test_setting_checks_name_the_model_parameter_expected_and_given():
    assert check_settings("model 'x'", COMMON_PARAMS, hidden=3, dropout=0) == {
        "hidden": 3, "dropout": 0.0,
    }
    with pytest.raises(ParamError, match=r"^model 'x': hidden must be an integer >= 1, got 2.0$"):
        check_settings("model 'x'", COMMON_PARAMS, hidden=2.0)
    with pytest.raises(ParamError, match="hidden must be an integer >= 1, got True"):
        check_settings("model 'x'", COMMON_PARAMS, hidden=True)
    with pytest.raises(ParamError, match=r"dropout must be a float >= 0 and < 1, got 1.5"):
        check_settings("model 'x'", COMMON_PARAMS, dropout=1.5)
    with pytest.raises(ParamError, match="model 'x' has no parameter 'heads'"):
        check_settings("model 'x'", COMMON_PARAMS, heads=2)


def test_raw_then_project_is_forward_for_dense_sparse_and_tables():
    for sparse in (False, True):
        data = _tiny_graph(sparse=sparse)
        inputs = NodeInput(data, hidden=4, seed=0)
        raw = inputs.raw(data)
        assert torch.equal(raw["tag"], inputs.tables["tag"].weight)  # table rows, unprojected
        assert raw["page"].shape == (2, 3)
        for t, h in inputs(data).items():
            torch.testing.assert_close(inputs.project(t, raw[t]), h)
