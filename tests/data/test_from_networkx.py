"""from_networkx: a typed networkx graph gives the same graph as its tables."""

import networkx as nx
import pandas as pd
import pytest
import torch

from hetero_imb.data.from_networkx import from_networkx


# -------------------------------------------------------------------- from_networkx
def fraud_networkx(fraud, directed=True):
    """The toy tables as a typed networkx graph (same node order, same edges)."""
    nodes, edges = fraud.tables()
    g = nx.DiGraph() if directed else nx.Graph()
    for t, df in nodes.items():
        feats = [
            c
            for c in df.columns
            if c != fraud.ID_COLS[t] and c != "label" and pd.api.types.is_numeric_dtype(df[c])
        ]
        for _, row in df.iterrows():
            attrs = {"type": t}
            if feats:
                attrs["x"] = [float(row[c]) for c in feats]
            if t == "transaction" and row["label"] is not None:
                attrs["label"] = row["label"]
            g.add_node(row[fraud.ID_COLS[t]], **attrs)
    for (_, rel, _), df in edges.items():
        for s, d in zip(df["src"], df["dst"], strict=True):
            g.add_edge(s, d, type=rel)
    return g


def assert_same_graph(a, b):
    assert a.node_types == b.node_types
    assert sorted(a.edge_types) == sorted(b.edge_types)
    for t in a.node_types:
        assert a[t].num_nodes == b[t].num_nodes
        assert ("x" in a[t]) == ("x" in b[t])
        if "x" in a[t]:
            assert torch.equal(a[t].x, b[t].x)
    for e in a.edge_types:
        assert torch.equal(a[e].edge_index, b[e].edge_index), e
    assert torch.equal(a[a.target_node_type].y, b[b.target_node_type].y)
    assert a.class_names == b.class_names
    assert sorted(map(tuple, a.metapaths)) == sorted(map(tuple, b.metapaths))
    assert a.node_ids == b.node_ids


def test_networkx_equals_pandas(fraud):
    assert_same_graph(from_networkx(fraud_networkx(fraud), target="transaction"), fraud.build())


def test_networkx_multidigraph_merges_parallel_edges(fraud):
    g = nx.MultiDiGraph(fraud_networkx(fraud))
    g.add_edge("t0", "u0", type="made_by")
    data = from_networkx(g, target="transaction")
    assert fraud.pairs(data, fraud.MADE_BY)[0] == (0, 0) and data[fraud.MADE_BY].num_edges == 8


def test_networkx_undirected_edges_go_both_ways(fraud):
    g = fraud_networkx(fraud, directed=False)
    data = from_networkx(g, target="transaction", add_reverse=False)
    # oriented from the target type; user-device from 'device' (alphabetically first)
    assert ("user", "rev_made_by", "transaction") in data.edge_types
    assert fraud.pairs(data, fraud.MADE_BY) == fraud.pairs(fraud.build(), fraud.MADE_BY)
    assert fraud.pairs(data, ("device", "owns", "user")) == [(0, 0), (1, 1), (2, 3)]
    assert fraud.pairs(data, ("user", "rev_owns", "device")) == [(0, 0), (1, 1), (3, 2)]
    assert fraud.pairs(data, fraud.KNOWS) == [(1, 2), (2, 1), (3, 4), (4, 3)]


def test_networkx_default_relation_name(fraud):
    g = nx.Graph()
    g.add_node(0, type="paper", label=1)
    g.add_node(1, type="paper", label=0)
    g.add_node(2, type="author")
    g.add_edge(0, 1)
    g.add_edge(2, 1)
    data = from_networkx(g, target="paper")
    assert data.edge_types == [
        ("paper", "to", "paper"),
        ("paper", "to", "author"),
        ("author", "rev_to", "paper"),
    ]
    assert fraud.pairs(data, ("paper", "to", "paper")) == [(0, 1), (1, 0)]
    assert data.class_names == ["0", "1"]
    assert "x" not in data["paper"]


def test_networkx_errors(fraud):
    g = fraud_networkx(fraud)
    g.add_node("ghost")
    with pytest.raises(
        ValueError, match="node 'ghost' has no attribute 'type' giving its node type"
    ):
        from_networkx(g, target="transaction")
    g = fraud_networkx(fraud)
    del g.nodes["u3"]["x"]
    with pytest.raises(
        ValueError,
        match="node type 'user': 4 of 5 nodes have feature attribute 'x' but node 'u3' has none",
    ):
        from_networkx(g, target="transaction")
    g = fraud_networkx(fraud)
    g.nodes["u3"]["x"] = [1.0]
    with pytest.raises(ValueError, match="node 'u0' has 2 values, node 'u3' has 1"):
        from_networkx(g, target="transaction")
    g = fraud_networkx(fraud)
    g.nodes["u3"]["x"] = ["old", 1.0]
    with pytest.raises(TypeError, match="node 'u3' .*must be a list or array of numbers"):
        from_networkx(g, target="transaction")
    g = fraud_networkx(fraud)
    g.nodes["u3"]["x"] = [float("nan"), 1.0]
    with pytest.raises(ValueError, match=r"feature column 'x\[0\]' has nan at row 3 \(id 'u3'\)"):
        from_networkx(g, target="transaction")
    with pytest.raises(TypeError, match="must be a networkx graph, got dict"):
        from_networkx({}, target="transaction")


def test_networkx_without_features(fraud):
    data = from_networkx(fraud_networkx(fraud), target="transaction", features=None)
    assert all("x" not in data[t] for t in data.node_types)

