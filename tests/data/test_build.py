import logging
import sys
import types

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from hetero_imb.data import assemble
from hetero_imb.data.from_dgl import from_dgl
from hetero_imb.data.from_networkx import from_networkx
from hetero_imb.data.from_pandas import from_pandas
from hetero_imb.data.validate import GraphValidationError

MADE_BY = ("transaction", "made_by", "user")
ON = ("transaction", "on", "device")
AT = ("transaction", "at", "merchant")
OWNS = ("user", "owns", "device")
KNOWS = ("user", "knows", "user")


# --------------------------------------------------------------------- toy tables
def fraud_tables():
    """5 users, 3 devices, 2 merchants, 8 transactions (2 fraud, 5 legit, 1 unlabelled)."""
    users = pd.DataFrame(
        {
            "user_id": ["u0", "u1", "u2", "u3", "u4"],
            "age": [23, 35, 51, 19, 44],
            "account_days": [10.0, 400.0, 1200.0, 3.0, 800.0],
            "country": ["FR", "DE", "FR", "US", "DE"],  # not numeric: not a feature
        }
    )
    devices = pd.DataFrame({"device_id": ["d0", "d1", "d2"], "os": ["ios", "android", "ios"]})
    merchants = pd.DataFrame({"merchant_id": ["m0", "m1"], "risk": [0.1, 0.9]})
    transactions = pd.DataFrame(
        {
            "tx_id": [f"t{i}" for i in range(8)],
            "amount": [12.5, 900.0, 5.0, 60.0, 2500.0, 8.0, 31.0, 77.0],
            "hour": [9, 3, 14, 20, 2, 11, 16, 23],
            "label": ["legit", "fraud", "legit", "legit", "fraud", "legit", None, "legit"],
        }
    )
    edges = {
        MADE_BY: pd.DataFrame(
            {
                "src": [
                    "t0",
                    "t1",
                    "t2",
                    "t3",
                    "t4",
                    "t5",
                    "t6",
                    "t7",
                    "t1",
                ],  # last row: duplicate
                "dst": ["u0", "u3", "u1", "u2", "u3", "u4", "u0", "u1", "u3"],
            }
        ),
        ON: pd.DataFrame({"src": ["t0", "t1", "t4", "t5"], "dst": ["d0", "d2", "d2", "d1"]}),
        AT: pd.DataFrame({"src": ["t1", "t0", "t4"], "dst": ["m1", "m0", "m1"]}),
        OWNS: pd.DataFrame({"src": ["u0", "u3", "u1"], "dst": ["d0", "d2", "d1"]}),
        KNOWS: pd.DataFrame({"src": ["u3", "u1"], "dst": ["u4", "u2"]}),
    }
    nodes = {"user": users, "device": devices, "merchant": merchants, "transaction": transactions}
    return nodes, edges


ID_COLS = {
    "user": "user_id",
    "device": "device_id",
    "merchant": "merchant_id",
    "transaction": "tx_id",
}


def build_fraud(**kwargs):
    nodes, edges = fraud_tables()
    kwargs.setdefault("node_id", ID_COLS)
    return from_pandas(nodes, edges, target="transaction", **kwargs)


def pairs(data, edge_type):
    return [tuple(p) for p in data[edge_type].edge_index.t().tolist()]


# ---------------------------------------------------------------------- from_pandas
def test_node_counts_and_ids():
    data = build_fraud()
    assert {t: data[t].num_nodes for t in data.node_types} == {
        "user": 5,
        "device": 3,
        "merchant": 2,
        "transaction": 8,
    }
    assert data.node_ids["user"] == ["u0", "u1", "u2", "u3", "u4"]
    assert data.node_ids["transaction"][6] == "t6"
    assert data.target_node_type == "transaction"


def test_default_features_are_numeric_columns_except_id_and_label():
    data = build_fraud()
    assert data["user"].x.dtype == torch.float32
    assert data["user"].x.tolist() == [[23, 10], [35, 400], [51, 1200], [19, 3], [44, 800]]
    assert data["merchant"].x.tolist() == [[pytest.approx(0.1)], [pytest.approx(0.9)]]
    assert data["transaction"].x[:, 1].tolist() == [9, 3, 14, 20, 2, 11, 16, 23]
    assert data["transaction"].x.shape == (8, 2)  # amount, hour; not the label
    assert "x" not in data["device"]  # only an id and a string column


def test_explicit_features_choose_and_order_columns():
    data = build_fraud(features={"user": ["account_days"], "transaction": [], "merchant": ["risk"]})
    assert data["user"].x.tolist() == [[10], [400], [1200], [3], [800]]
    assert "x" not in data["transaction"]


def test_string_labels_map_to_sorted_class_names():
    data = build_fraud()
    assert data.class_names == ["fraud", "legit"]
    assert data["transaction"].y.tolist() == [1, 0, 1, 1, 0, 1, -1, 1]
    assert data["transaction"].y.dtype == torch.long


def test_class_names_given_fix_the_order():
    data = build_fraud(class_names=["legit", "fraud"])
    assert data["transaction"].y.tolist() == [0, 1, 0, 0, 1, 0, -1, 0]


def test_edges_mapped_deduplicated_and_sorted():
    data = build_fraud()
    # t1->u3 appears twice in the table and once in the graph
    assert pairs(data, MADE_BY) == [(0, 0), (1, 3), (2, 1), (3, 2), (4, 3), (5, 4), (6, 0), (7, 1)]
    assert pairs(data, AT) == [(0, 0), (1, 1), (4, 1)]


def test_reverse_relations_and_symmetric_same_type_relation():
    data = build_fraud()
    assert data.edge_types == [
        MADE_BY,
        ("user", "rev_made_by", "transaction"),
        ON,
        ("device", "rev_on", "transaction"),
        AT,
        ("merchant", "rev_at", "transaction"),
        OWNS,
        ("device", "rev_owns", "user"),
        KNOWS,
    ]
    rev = data["user", "rev_made_by", "transaction"].edge_index
    assert torch.equal(rev, data[MADE_BY].edge_index.flip(0))
    # u3-u4 and u1-u2, both ways, sorted
    assert pairs(data, KNOWS) == [(1, 2), (2, 1), (3, 4), (4, 3)]


def test_without_reverse(caplog):
    with caplog.at_level(logging.WARNING, logger=assemble.__name__):
        data = build_fraud(add_reverse=False)
    assert data.edge_types == [MADE_BY, ON, AT, OWNS, KNOWS]
    assert pairs(data, KNOWS) == [(1, 2), (3, 4)]
    assert data.metapaths == []  # no way back to the target type
    assert "no default meta-path through target type 'transaction'" in caplog.text


def test_default_metapaths_go_through_each_neighbour_type():
    data = build_fraud()
    assert data.metapaths == [
        [MADE_BY, ("user", "rev_made_by", "transaction")],
        [ON, ("device", "rev_on", "transaction")],
        [AT, ("merchant", "rev_at", "transaction")],
    ]


def test_explicit_metapaths_are_validated():
    path = [MADE_BY, KNOWS, ("user", "rev_made_by", "transaction")]
    assert build_fraud(metapaths=[path]).metapaths == [path]
    with pytest.raises(GraphValidationError, match="meta-path 0 is not a chain"):
        build_fraud(metapaths=[[MADE_BY, ON]])


def test_existing_transpose_is_recognised_as_the_reverse():
    nodes, edges = fraud_tables()
    made = edges[MADE_BY]
    edges[("user", "made", "transaction")] = made.rename(columns={"src": "dst", "dst": "src"})
    data = from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)
    assert ("user", "rev_made_by", "transaction") not in data.edge_types
    assert [MADE_BY, ("user", "made", "transaction")] in data.metapaths
    assert sum(p[0] == MADE_BY for p in data.metapaths) == 1


def test_reverse_name_clash_is_an_error():
    nodes, edges = fraud_tables()
    edges[("user", "rev_made_by", "transaction")] = pd.DataFrame({"src": ["u0"], "dst": ["t3"]})
    with pytest.raises(
        ValueError, match=r"cannot add the reverse of \('transaction', 'made_by', 'user'\)"
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_integer_labels_and_row_position_ids():
    nodes = {
        "item": pd.DataFrame({"f": [0.5, 1.5, 2.5, 3.5], "label": [0, 2, -1, 2]}),
        "tag": pd.DataFrame(index=range(3)),
    }
    edges = {("item", "has", "tag"): pd.DataFrame({"src": [0, 1, 3], "dst": [2, 2, 0]})}
    data = from_pandas(nodes, edges, target="item")
    assert data.class_names == ["0", "1", "2"]
    assert data["item"].y.tolist() == [0, 2, -1, 2]
    assert data["item"].x.tolist() == [[0.5], [1.5], [2.5], [3.5]]
    assert data["tag"].num_nodes == 3 and "x" not in data["tag"]
    assert pairs(data, ("item", "has", "tag")) == [(0, 2), (1, 2), (3, 0)]
    assert data.node_ids["tag"] == [0, 1, 2]


def test_nan_and_bool_and_categorical_labels():
    base = pd.DataFrame({"f": [1.0, 2.0, 3.0, 4.0]})
    tag = pd.DataFrame(index=range(1))
    e = {("item", "has", "tag"): pd.DataFrame({"src": [0], "dst": [0]})}
    cases = [
        ([1.0, np.nan, 0.0, 1.0], None, [1, -1, 0, 1], ["0", "1"]),
        ([True, False, False, True], None, [1, 0, 0, 1], ["0", "1"]),
        (pd.Categorical(["b", "a", None, "b"]), None, [1, 0, -1, 1], ["a", "b"]),
        (["spam", "-1", "ham", -1], None, [1, -1, 0, -1], ["ham", "spam"]),
        ([1, 0, 0, 1], ["no", "yes"], [1, 0, 0, 1], ["no", "yes"]),
    ]
    for values, names, y, expected_names in cases:
        items = base.assign(label=values)
        data = from_pandas({"item": items, "tag": tag}, e, target="item", class_names=names)
        assert data["item"].y.tolist() == y
        assert data.class_names == expected_names


def test_prediction_graph_without_labels():
    nodes, edges = fraud_tables()
    nodes["transaction"] = nodes["transaction"].drop(columns="label")
    data = from_pandas(
        nodes,
        edges,
        target="transaction",
        node_id=ID_COLS,
        label=None,
        class_names=["fraud", "legit"],
    )
    assert data["transaction"].y.tolist() == [-1] * 8
    with pytest.raises(ValueError, match="pass class_names"):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS, label=None)


def test_tuple_ids():
    nodes = {
        "a": pd.DataFrame({"id": pd.Series([(0, "x"), (1, "y")], dtype=object), "label": [0, 1]}),
        "b": pd.DataFrame({"id": pd.Series([("k", 1)], dtype=object)}),
    }
    edges = {
        ("a", "r", "b"): pd.DataFrame(
            {"src": pd.Series([(1, "y")], dtype=object), "dst": pd.Series([("k", 1)], dtype=object)}
        )
    }
    data = from_pandas(nodes, edges, target="a", node_id="id")
    assert pairs(data, ("a", "r", "b")) == [(1, 0)]
    assert data.node_ids["a"] == [(0, "x"), (1, "y")]


def test_node_ids_map_predictions_back():
    data = build_fraud()
    pred = data["transaction"].y.clamp(min=0)
    by_id = dict(zip(data.node_ids["transaction"], pred.tolist(), strict=True))
    assert data.class_names[by_id["t4"]] == "fraud"


# -------------------------------------------------------------- from_pandas errors
def test_edge_ids_not_found_lists_up_to_five_with_count():
    nodes, edges = fraud_tables()
    edges[MADE_BY] = pd.DataFrame(
        {"src": ["t0"] * 7, "dst": ["u0", "u9", "u10", "u11", "u12", "u13", "u9"]}
    )
    msg = (
        r"edge type \('transaction', 'made_by', 'user'\): column 'dst' has 6 values \(5 distinct\) "
        r"that are not ids of node type 'user': 'u9', 'u10', 'u11', 'u12', 'u13'"
    )
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)
    edges[MADE_BY] = pd.DataFrame({"src": ["t0", "a", "b", "c", "d", "e", "f"], "dst": ["u0"] * 7})
    with pytest.raises(
        ValueError,
        match=r"column 'src' has 6 values \(6 distinct\).*'a', 'b', 'c', 'd', 'e', \.\.\.",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_edge_ids_out_of_range_with_row_positions():
    nodes = {"item": pd.DataFrame({"label": [0, 1]}), "tag": pd.DataFrame(index=range(3))}
    edges = {("item", "has", "tag"): pd.DataFrame({"src": [0, 1], "dst": [2, 3]})}
    msg = r"column 'dst' has 1 values \(1 distinct\) that are not ids of node type 'tag': 3 \(.*row positions 0..2\)"
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="item")


def test_edge_id_dtype_mismatch_is_explained():
    nodes, edges = fraud_tables()
    nodes["merchant"] = nodes["merchant"].assign(merchant_id=[100, 101])
    edges[AT] = pd.DataFrame({"src": ["t0"], "dst": ["100"]})
    with pytest.raises(
        ValueError, match="ids of 'merchant' have dtype int64, column 'dst' has dtype (object|str)"
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_unknown_node_type_in_edge_key():
    nodes, edges = fraud_tables()
    edges[("user", "owns", "car")] = pd.DataFrame({"src": ["u0"], "dst": ["c0"]})
    msg = r"edge type \('user', 'owns', 'car'\) refers to unknown node type 'car'; node types are: \['user', 'device', 'merchant', 'transaction'\]"
    with pytest.raises(ValueError, match=msg):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_bad_edge_key_and_missing_edge_column():
    nodes, edges = fraud_tables()
    with pytest.raises(TypeError, match="tuples of strings, got 'user-owns-device'"):
        from_pandas(nodes, {"user-owns-device": edges[OWNS]}, target="transaction", node_id=ID_COLS)
    with pytest.raises(
        ValueError, match=r"edge table \('user', 'owns', 'device'\) has no column 'dst'"
    ):
        from_pandas(
            nodes,
            {OWNS: edges[OWNS].rename(columns={"dst": "device"})},
            target="transaction",
            node_id=ID_COLS,
        )


def test_integer_label_out_of_class_names():
    nodes, edges = fraud_tables()
    nodes["transaction"]["label"] = [0, 1, 0, 0, 7, 0, -1, 0]
    msg = r"label 7 at row 4 \(id 't4'\) is out of range \[0, 1\] for class_names \['legit', 'fraud'\]"
    with pytest.raises(ValueError, match=msg):
        from_pandas(
            nodes, edges, target="transaction", node_id=ID_COLS, class_names=["legit", "fraud"]
        )


def test_string_label_not_in_class_names():
    nodes, edges = fraud_tables()
    nodes["transaction"].loc[3, "label"] = "frod"
    msg = r"1 label values are not in class_names \['legit', 'fraud'\]: 'frod' \(1 nodes\)"
    with pytest.raises(ValueError, match=msg):
        from_pandas(
            nodes, edges, target="transaction", node_id=ID_COLS, class_names=["legit", "fraud"]
        )


def test_non_integer_negative_and_mixed_labels():
    nodes, edges = fraud_tables()
    for values, msg in [
        (
            [0, 1, 0, 0, 1.5, 0, 0, 0],
            r"label 1.5 at row 4 \(id 't4'\) is not an integer class index",
        ),
        ([0, 1, 0, -2, 1, 0, 0, 0], r"label -2 at row 3 \(id 't3'\) is negative"),
        (
            ["legit", "fraud", 3, "legit", "fraud", "legit", None, "legit"],
            r"mixes class names .*: 3 \(int\) at row 2",
        ),
    ]:
        nodes["transaction"]["label"] = pd.Series(values, dtype=object)
        with pytest.raises(ValueError, match=msg):
            from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_target_without_label_column():
    nodes, edges = fraud_tables()
    nodes["transaction"] = nodes["transaction"].drop(columns="label")
    with pytest.raises(
        ValueError,
        match=r"target table 'transaction' has no label column 'label'; columns are: \['tx_id', 'amount', 'hour'\]",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_target_with_all_labels_missing():
    nodes, edges = fraud_tables()
    nodes["transaction"]["label"] = [None, -1, None, None, -1, None, None, None]
    with pytest.raises(
        ValueError,
        match="label column 'label' of node type 'transaction': no labelled node; all 8 values are missing or -1",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_nan_and_inf_features_name_type_column_and_row():
    nodes, edges = fraud_tables()
    nodes["user"].loc[2, "account_days"] = np.nan
    with pytest.raises(
        ValueError,
        match=r"node type 'user': feature column 'account_days' has nan at row 2 \(id 'u2'\); 1 feature values",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)
    nodes, edges = fraud_tables()
    nodes["transaction"].loc[5, "amount"] = np.inf
    with pytest.raises(
        ValueError,
        match=r"node type 'transaction': feature column 'amount' has inf at row 5 \(id 't5'\)",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)
    nodes, edges = fraud_tables()
    nodes["merchant"].loc[1, "risk"] = 1e300
    with pytest.raises(ValueError, match="'risk' value 1e.300 at row 1 .* does not fit in float32"):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_non_numeric_feature_column():
    with pytest.raises(
        TypeError, match="node type 'user': feature column 'country' is not numeric"
    ):
        build_fraud(features={"user": ["age", "country"]})
    with pytest.raises(ValueError, match="names column 'label', which is the id or label column"):
        build_fraud(features={"transaction": ["amount", "label"]})
    with pytest.raises(
        ValueError,
        match=r"names column 'height', which node table 'user' does not have; columns are: \['user_id'",
    ):
        build_fraud(features={"user": ["height"]})


def test_duplicate_node_ids():
    nodes, edges = fraud_tables()
    nodes["device"]["device_id"] = ["d0", "d1", "d0"]
    with pytest.raises(
        ValueError,
        match=r"node table 'device': id 'd0' appears 2 times in column 'device_id' \(rows \[0, 2\]\)",
    ):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS)


def test_missing_id_column_and_bad_target():
    nodes, edges = fraud_tables()
    with pytest.raises(
        ValueError, match=r"node table 'user' has no id column 'id'; columns are: \['user_id'"
    ):
        from_pandas(nodes, edges, target="transaction", node_id="id")
    with pytest.raises(
        ValueError,
        match=r"'target' must be one of the node types \['user', 'device', 'merchant', 'transaction'\], got 'tx'",
    ):
        from_pandas(nodes, edges, target="tx", node_id=ID_COLS)
    with pytest.raises(TypeError, match="'add_reverse' must be a bool, got 'yes'"):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS, add_reverse="yes")
    with pytest.raises(TypeError, match="'class_names' must be a list of strings, got str"):
        from_pandas(nodes, edges, target="transaction", node_id=ID_COLS, class_names="ab")


# -------------------------------------------------------------------- from_networkx
def fraud_networkx(directed=True):
    """The toy tables as a typed networkx graph (same node order, same edges)."""
    nodes, edges = fraud_tables()
    g = nx.DiGraph() if directed else nx.Graph()
    for t, df in nodes.items():
        feats = [
            c
            for c in df.columns
            if c != ID_COLS[t] and c != "label" and pd.api.types.is_numeric_dtype(df[c])
        ]
        for _, row in df.iterrows():
            attrs = {"type": t}
            if feats:
                attrs["x"] = [float(row[c]) for c in feats]
            if t == "transaction" and row["label"] is not None:
                attrs["label"] = row["label"]
            g.add_node(row[ID_COLS[t]], **attrs)
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


def test_networkx_equals_pandas():
    assert_same_graph(from_networkx(fraud_networkx(), target="transaction"), build_fraud())


def test_networkx_multidigraph_merges_parallel_edges():
    g = nx.MultiDiGraph(fraud_networkx())
    g.add_edge("t0", "u0", type="made_by")
    data = from_networkx(g, target="transaction")
    assert pairs(data, MADE_BY)[0] == (0, 0) and data[MADE_BY].num_edges == 8


def test_networkx_undirected_edges_go_both_ways():
    g = fraud_networkx(directed=False)
    data = from_networkx(g, target="transaction", add_reverse=False)
    # oriented from the target type; user-device from 'device' (alphabetically first)
    assert ("user", "rev_made_by", "transaction") in data.edge_types
    assert pairs(data, MADE_BY) == pairs(build_fraud(), MADE_BY)
    assert pairs(data, ("device", "owns", "user")) == [(0, 0), (1, 1), (2, 3)]
    assert pairs(data, ("user", "rev_owns", "device")) == [(0, 0), (1, 1), (3, 2)]
    assert pairs(data, KNOWS) == [(1, 2), (2, 1), (3, 4), (4, 3)]


def test_networkx_default_relation_name():
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
    assert pairs(data, ("paper", "to", "paper")) == [(0, 1), (1, 0)]
    assert data.class_names == ["0", "1"]
    assert "x" not in data["paper"]


def test_networkx_errors():
    g = fraud_networkx()
    g.add_node("ghost")
    with pytest.raises(
        ValueError, match="node 'ghost' has no attribute 'type' giving its node type"
    ):
        from_networkx(g, target="transaction")
    g = fraud_networkx()
    del g.nodes["u3"]["x"]
    with pytest.raises(
        ValueError,
        match="node type 'user': 4 of 5 nodes have feature attribute 'x' but node 'u3' has none",
    ):
        from_networkx(g, target="transaction")
    g = fraud_networkx()
    g.nodes["u3"]["x"] = [1.0]
    with pytest.raises(ValueError, match="node 'u0' has 2 values, node 'u3' has 1"):
        from_networkx(g, target="transaction")
    g = fraud_networkx()
    g.nodes["u3"]["x"] = ["old", 1.0]
    with pytest.raises(TypeError, match="node 'u3' .*must be a list or array of numbers"):
        from_networkx(g, target="transaction")
    g = fraud_networkx()
    g.nodes["u3"]["x"] = [float("nan"), 1.0]
    with pytest.raises(ValueError, match=r"feature column 'x\[0\]' has nan at row 3 \(id 'u3'\)"):
        from_networkx(g, target="transaction")
    with pytest.raises(TypeError, match="must be a networkx graph, got dict"):
        from_networkx({}, target="transaction")


def test_networkx_without_features():
    data = from_networkx(fraud_networkx(), target="transaction", features=None)
    assert all("x" not in data[t] for t in data.node_types)


# ------------------------------------------------------------------------- from_dgl
def dgl_or_skip():
    try:
        import dgl
    except Exception as exc:  # not installed, or built for another torch
        pytest.skip(f"DGL does not import here: {type(exc).__name__}")
    return dgl


def test_from_dgl_raises_clear_import_error_without_dgl(monkeypatch):
    monkeypatch.setitem(sys.modules, "dgl", None)
    with pytest.raises(
        ImportError,
        match=r"optional extra \(pip install hetero_imb\[dgl\]\).*torch <= 2.3.*from_pandas",
    ):
        from_dgl(object(), target="paper")


def test_from_dgl_import_error_when_dgl_breaks_on_import(monkeypatch):
    class Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "dgl":
                raise OSError("libgraphbolt_pytorch_2.13.so: cannot open shared object file")
            return None

    monkeypatch.delitem(sys.modules, "dgl", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    with pytest.raises(
        ImportError, match="OSError: libgraphbolt.*DGL is an optional extra"
    ) as info:
        from_dgl(object(), target="paper")
    assert isinstance(info.value.__cause__, OSError)


class _FakeDGLGraph:
    """The slice of the DGLGraph API that PyG's from_dgl and from_dgl read."""

    def __init__(self, edges, num_nodes, ndata):
        self._edges = edges
        self._num_nodes = num_nodes
        self.nodes = {t: types.SimpleNamespace(data=ndata.get(t, {})) for t in num_nodes}
        self.ntypes = list(num_nodes)
        self.canonical_etypes = list(edges)
        self.is_homogeneous = False

    def num_nodes(self, ntype):
        return self._num_nodes[ntype]

    def edges(self, form="uv", etype=None):
        return self._edges[etype]

    def edge_attr_schemes(self, etype):
        return {}


def test_from_dgl_conventions_with_a_stand_in_dgl(monkeypatch):
    monkeypatch.setitem(sys.modules, "dgl", types.SimpleNamespace(DGLGraph=_FakeDGLGraph))
    writes = (torch.tensor([0, 0, 1, 2, 2]), torch.tensor([0, 1, 1, 2, 2]))  # one duplicate
    g = _FakeDGLGraph(
        {
            ("author", "writes", "paper"): writes,
            ("paper", "written_by", "author"): (writes[1], writes[0]),
            ("paper", "cites", "paper"): (torch.tensor([0]), torch.tensor([2])),
        },
        {"author": 3, "paper": 3, "venue": 2},
        {
            "paper": {
                "feat": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
                "label": torch.tensor([1, -1, 0]),
                "train_mask": torch.tensor([1, 0, 0], dtype=torch.uint8),
            }
        },
    )
    data = from_dgl(g, target="paper", class_names=["db", "ml"])
    assert data.edge_types == [
        ("author", "writes", "paper"),
        ("paper", "written_by", "author"),
        ("paper", "cites", "paper"),
    ]  # writes/written_by already reverse each other; cites made symmetric
    assert pairs(data, ("paper", "written_by", "author")) == [(0, 0), (1, 0), (1, 1), (2, 2)]
    assert pairs(data, ("paper", "cites", "paper")) == [(0, 2), (2, 0)]
    assert data.metapaths == [
        [("paper", "written_by", "author"), ("author", "writes", "paper")],
        [("paper", "cites", "paper")],
    ]
    assert data["paper"].y.tolist() == [1, -1, 0]
    assert data["paper"].x.dtype == torch.float32 and data["paper"].x.tolist()[2] == [1.0, 1.0]
    assert "x" not in data["author"] and data["venue"].num_nodes == 2
    assert data["paper"].train_mask.tolist() == [True, False, False]
    assert data.node_ids["author"] == [0, 1, 2]
    with pytest.raises(
        ValueError,
        match=r"node type 'paper' has no node data 'y'; it has: \['feat', 'label', 'train_mask'\]",
    ):
        from_dgl(g, target="paper", label="y")
    with pytest.raises(
        ValueError,
        match=r"'target' must be one of the node types \['author', 'paper', 'venue'\], got 'user'",
    ):
        from_dgl(g, target="user")


def test_from_dgl_with_real_dgl():
    dgl = dgl_or_skip()
    g = dgl.heterograph(
        {
            ("user", "buys", "item"): (torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1])),
            ("item", "similar", "item"): (torch.tensor([0]), torch.tensor([1])),
        }
    )
    g.nodes["item"].data["feat"] = torch.randn(2, 4)
    g.nodes["item"].data["label"] = torch.tensor([0, 1])
    data = from_dgl(g, target="item")
    assert data["user"].num_nodes == 2 and data["item"].x.shape == (2, 4)
    assert ("item", "rev_buys", "user") in data.edge_types
    assert pairs(data, ("item", "similar", "item")) == [(0, 1), (1, 0)]
    assert data.class_names == ["0", "1"]


def test_logs_dropped_duplicates(caplog):
    with caplog.at_level(logging.INFO, logger=assemble.__name__):
        build_fraud()
    assert "dropped 1 duplicate edges" in caplog.text
