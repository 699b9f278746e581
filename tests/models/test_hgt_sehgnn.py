"""HGT and SeHGNN specifics (the generic zoo tests cover forward, training, seeding and
mini-batches for every registered model)."""

import torch

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.graph import class_counts, split_mask
from hetero_imb.models import build_model
from hetero_imb.models.sehgnn import SeHGNNEncoder, relation_walks
from hetero_imb.training.engine import fit


def test_relation_walks_and_sehgnn_paths(toy_graph):
    walks = relation_walks(toy_graph, "item", 1)
    assert walks == [[e] for e in toy_graph.edge_types if e[0] == "item"]
    encoder = SeHGNNEncoder(toy_graph, hidden=8, hops=2, seed=0)
    names = encoder.path_names()
    assert names[0] == "item" and "item-user" in names and "item-user-item" in names
    assert len(names) == len(set(names))


def test_sehgnn_aggregates_are_computed_once_by_hand(toy_graph_featureless):
    data = toy_graph_featureless
    encoder = SeHGNNEncoder(data, hidden=8, hops=1, seed=0)
    prepared = encoder.preprocess(data)
    one_hop = [(i, p[0]) for i, p in enumerate(encoder.paths) if len(p) == 1]
    assert len(one_hop) == 2  # plus the graph's own meta-paths
    for i, edge_type in one_hop:
        value = prepared.sehgnn_aggregates[i]
        src, dst = data[edge_type].edge_index
        adj = torch.zeros(data["item"].num_nodes, data[edge_type[2]].num_nodes)
        adj[src, dst] = 1.0
        mean = adj / adj.sum(1, keepdim=True).clamp(min=1)
        x = data[edge_type[2]].get("x")  # featured end: mean of x; featureless: the operator
        expected = mean if x is None else mean @ x.float()
        dense = value.to_dense() if value.is_sparse else value
        assert torch.allclose(dense, expected, atol=1e-5)


def test_hgt_and_sehgnn_train_in_minibatches(toy_split_featureless):
    data = toy_split_featureless
    counts = class_counts(data, split_mask(data, "train"))
    for name in ("hgt", "sehgnn"):
        model = build_model(name, data, seed=0, hidden=8, **({"heads": 2} if name == "hgt" else {}))
        out = fit(model, data, loss=build_loss("ce", class_counts=counts), epochs=2, patience=0,
                  progress=False, seed=0, batch_size=64, num_neighbors=[5, 5])
        assert out.epochs == 2 and torch.isfinite(out.proba).all()


def test_sehgnn_keeps_featureless_meta_path_operators_factored(toy_graph_featureless):
    from hetero_imb.models.sehgnn import mean_adjacency_scipy

    data = toy_graph_featureless
    encoder = SeHGNNEncoder(data, hidden=8, hops=2, seed=0)
    prepared = encoder.preprocess(data)
    i = encoder.path_names().index("item-user-item")
    path = encoder.paths[i]
    assert len(prepared.sehgnn_chains[i]) == 1  # A_2 kept apart: no item x item product
    assert prepared.sehgnn_aggregates[i].shape == (300, 120)
    product = torch.from_numpy(
        (mean_adjacency_scipy(data, path[0]) @ mean_adjacency_scipy(data, path[1])).toarray()
    )
    tables = {t: emb.weight for t, emb in encoder.tables.tables.items()}
    token = encoder._token(prepared, i, tables)
    assert torch.allclose(token, product @ tables["item"], atol=1e-5)
