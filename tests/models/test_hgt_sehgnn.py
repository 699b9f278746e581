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


def _tiny_label_graph():
    """4 papers, 2 authors: p0, p1 by a0; p1, p2, p3 by a1. Train: p0 (class 0), p1
    (class 1), p2 (class 1, but *not* in train); p3 is a test node of class 0."""
    from torch_geometric.data import HeteroData

    data = HeteroData()
    data.target_node_type = "paper"
    data.class_names = ["a", "b"]
    data["paper"].num_nodes = 4
    data["paper"].y = torch.tensor([0, 1, 1, 0])
    data["paper"].train_mask = torch.tensor([True, True, False, False])
    data["paper"].val_mask = torch.tensor([False, False, True, False])
    data["paper"].test_mask = torch.tensor([False, False, False, True])
    data["author"].num_nodes = 2
    pa = torch.tensor([[0, 1, 1, 2, 3], [0, 0, 1, 1, 1]])
    data["paper", "by", "author"].edge_index = pa
    data["author", "wrote", "paper"].edge_index = pa.flip(0)
    return data


def test_sehgnn_label_propagation_by_hand():
    data = _tiny_label_graph()
    encoder = SeHGNNEncoder(data, hidden=8, hops=2, seed=0, label_hops=1)
    assert encoder.path_names()[-1] == "labels^1:paper-author-paper"
    got = encoder.preprocess(data).sehgnn_aggregates[-1]
    # P = A_pa A_ap (means): p0 -> a0 -> {p0, p1}; p1 -> {a0 (p0, p1), a1 (p1, p2, p3)};
    # p2, p3 -> a1 -> {p1, p2, p3}. Own label removed (the diagonal); only train labels
    # (p0: class 0, p1: class 1) are read, so p2's and p3's labels never appear.
    expected = torch.tensor([
        [0.0, 0.5],          # p0: p1 (class 1) with weight 1/2; its own 1/2 dropped
        [0.25, 0.0],         # p1: p0 via a0 (1/2 * 1/2); itself dropped
        [0.0, 1 / 3],        # p2: p1 via a1
        [0.0, 1 / 3],        # p3: p1 via a1 (its own label 0 is a test label)
    ])
    assert torch.allclose(got, expected, atol=1e-6)
    # a test label changed: the features do not move (no leakage)
    data["paper"].y = torch.tensor([0, 1, 0, 1])
    again = SeHGNNEncoder(data, hidden=8, hops=2, seed=0, label_hops=1)
    assert torch.equal(again.preprocess(data).sehgnn_aggregates[-1], got)
    out = again(again.preprocess(data))
    assert out.shape == (4, 8) and "train_labels" in again.state_dict()
    del data["paper"].train_mask  # a reload graph: -1 until the saved buffer is loaded
    bare = SeHGNNEncoder(data, hidden=8, hops=2, seed=0, label_hops=1)
    assert (bare.train_labels == -1).all()
    two = SeHGNNEncoder(_tiny_label_graph(), hidden=8, hops=2, seed=0, label_hops=2)
    assert two.path_names()[-2:] == ["labels^1:paper-author-paper", "labels^2:paper-author-paper"]
    P = torch.tensor([[0.5, 0.5, 0, 0], [0.25, 5 / 12, 1 / 6, 1 / 6],
                      [0, 1 / 3, 1 / 3, 1 / 3], [0, 1 / 3, 1 / 3, 1 / 3]])
    P2 = P @ P
    P2.fill_diagonal_(0)
    onehot = torch.tensor([[1.0, 0], [0, 1], [0, 0], [0, 0]])
    second = two.preprocess(_tiny_label_graph()).sehgnn_aggregates[-1]
    assert torch.allclose(second, P2 @ onehot, atol=1e-6)
    bare.load_state_dict(again.state_dict())
    assert bare.train_labels.tolist() == [0, 1, -1, -1]
