"""Build a graph from a typed networkx graph (node and edge attributes).

The graph becomes one table per node type and one per relation, which
:func:`~hetero_imb.data.from_pandas.from_pandas` turns into the graph, so both follow
the same rules. ``data.node_ids[t][i]`` is the networkx node of node ``i`` of type ``t``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from torch_geometric.data import HeteroData

from .assemble import check_bool
from .from_pandas import from_pandas
from .graph import EdgeType

__all__ = ["from_networkx"]


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """``values`` as a 1-D object array (tuples stay single ids)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _feature_vector(value: Any, node: Hashable, node_type: str, attr: str) -> np.ndarray:
    try:
        vec = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"node {node!r} (type {node_type!r}): feature attribute {attr!r} must be a list "
            f"or array of numbers, got {value!r}"
        ) from None
    if vec.ndim > 1:
        raise ValueError(
            f"node {node!r} (type {node_type!r}): feature attribute {attr!r} must be 1-D, got "
            f"shape {vec.shape}"
        )
    return vec.reshape(-1)


def _node_types(graph: nx.Graph, attr: str) -> tuple[dict[Hashable, str], dict[str, list]]:
    """Node → its type, and type → its nodes in graph order."""
    type_of: dict[Hashable, str] = {}
    members: dict[str, list[Hashable]] = {}
    for node, attrs in graph.nodes(data=True):
        t = attrs.get(attr)
        if t is None:
            raise ValueError(
                f"node {node!r} has no attribute {attr!r} giving its node type; every "
                "node needs one"
            )
        if not isinstance(t, str):
            raise TypeError(
                f"node {node!r}: node type attribute {attr!r} must be a string, got {t!r}"
            )
        type_of[node] = t
        members.setdefault(t, []).append(node)
    return type_of, members


def _feature_table(graph: nx.Graph, keys: list, node_type: str, attr: str) -> pd.DataFrame:
    """One column per feature dimension (no column when no node has the attribute)."""
    have = [k for k in keys if graph.nodes[k].get(attr) is not None]
    if not have:
        return pd.DataFrame(index=range(len(keys)))
    if len(have) < len(keys):
        lacking = next(k for k in keys if graph.nodes[k].get(attr) is None)
        raise ValueError(
            f"node type {node_type!r}: {len(have)} of {len(keys)} nodes have feature attribute "
            f"{attr!r} but node {lacking!r} has none; give every node of a type a "
            "feature vector, or none of them"
        )
    vecs = [_feature_vector(graph.nodes[k][attr], k, node_type, attr) for k in keys]
    width = len(vecs[0])
    for k, vec in zip(keys, vecs, strict=True):
        if len(vec) != width:
            raise ValueError(
                f"node type {node_type!r}: feature vectors differ in length: node "
                f"{keys[0]!r} has {width} values, node {k!r} has {len(vec)}"
            )
    return pd.DataFrame(np.stack(vecs), columns=[f"{attr}[{j}]" for j in range(width)])


def _edge_tables(
    graph: nx.Graph, type_of: dict[Hashable, str], attr: str, target: str
) -> dict[EdgeType, pd.DataFrame]:
    """Relation → table of ``src`` / ``dst`` nodes.

    In an undirected graph an edge between two types is stored from the target type,
    else from the alphabetically first type.
    """
    directed = graph.is_directed()
    pairs: dict[EdgeType, tuple[list, list]] = {}
    for u, v, attrs in graph.edges(data=True):
        rel = attrs.get(attr, "to")
        if not isinstance(rel, str):
            raise TypeError(
                f"edge ({u!r}, {v!r}): relation attribute {attr!r} must be a string, got {rel!r}"
            )
        tu, tv = type_of[u], type_of[v]
        if not directed and tu != tv and (tv == target or (tu != target and tu > tv)):
            u, v, tu, tv = v, u, tv, tu
        heads, tails = pairs.setdefault((tu, rel, tv), ([], []))
        heads.append(u)
        tails.append(v)
    return {
        key: pd.DataFrame({"src": _object_array(heads), "dst": _object_array(tails)})
        for key, (heads, tails) in pairs.items()
    }


def from_networkx(
    graph: nx.Graph,
    *,
    target: str,
    node_type: str = "type",
    edge_type: str = "type",
    label: str | None = "label",
    features: str | None = "x",
    class_names: Sequence[str] | None = None,
    metapaths: Sequence[Sequence[EdgeType]] | None = None,
    add_reverse: bool = True,
) -> HeteroData:
    """Build a graph from a networkx graph whose nodes carry their type.

    Args:
        graph: A ``Graph``, ``DiGraph``, ``MultiGraph`` or ``MultiDiGraph``. Parallel
            edges are merged. In an undirected graph every edge goes both ways: an
            edge between two types is stored once (from the target type, else from the
            alphabetically first type) together with its reverse; an edge within one
            type is made symmetric (``add_reverse`` is then always on).
        target: The node type to classify.
        node_type: Node attribute holding each node's type (a string; required).
        edge_type: Edge attribute holding the relation name (default relation ``"to"``).
        label: Node attribute holding the label of target nodes (missing → unlabelled;
            see :func:`from_pandas` for the accepted values). ``None``: no labels.
        features: Node attribute holding a feature vector (list or array of numbers).
            Within a type, every node has one of the same length, or none has. ``None``:
            no features.
        class_names: See :func:`from_pandas`.
        metapaths: See :func:`from_pandas`.
        add_reverse: See :func:`from_pandas` (directed graphs only).

    Returns:
        A validated graph; ``data.node_ids[t]`` lists the networkx node of each node of
        type ``t``, in the graph's node order.

    Example:
        >>> g = nx.Graph()
        >>> g.add_node("u1", type="user", x=[0.5, 1.0], label="fraud")
        >>> g.add_node("u2", type="user", x=[0.1, 0.0], label="legit")
        >>> g.add_node("d1", type="device")
        >>> g.add_edge("u1", "d1", type="uses"); g.add_edge("u2", "d1", type="uses")
        >>> data = from_networkx(g, target="user")
        >>> data.edge_types
        [('user', 'uses', 'device'), ('device', 'rev_uses', 'user')]
    """
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"parameter 'graph' must be a networkx graph, got {type(graph).__name__}")
    check_bool("add_reverse", add_reverse)
    type_of, members = _node_types(graph, node_type)
    if not isinstance(target, str) or target not in members:
        raise ValueError(
            f"parameter 'target' must be one of the node types {list(members)}, got {target!r}"
        )
    id_col = "node" if label != "node" else "node_"
    tables: dict[str, pd.DataFrame] = {}
    for t, keys in members.items():
        table = pd.DataFrame({id_col: _object_array(keys)})
        if t == target and label is not None:
            table[label] = pd.Series([graph.nodes[k].get(label) for k in keys]).infer_objects()
        if features is not None:
            table = pd.concat([table, _feature_table(graph, keys, t, features)], axis=1)
        tables[t] = table
    chosen = {t: [c for c in df.columns if c not in (id_col, label)] for t, df in tables.items()}
    return from_pandas(
        tables,
        _edge_tables(graph, type_of, edge_type, target),
        target=target,
        label=label,
        node_id=id_col,
        features=chosen,
        class_names=class_names,
        metapaths=metapaths,
        add_reverse=add_reverse or not graph.is_directed(),
    )
