"""Build a graph from one pandas table per node type and one per relation.

The result is a validated :class:`~torch_geometric.data.HeteroData` with
``target_node_type``, ``class_names``, ``metapaths``, labels, features and reverse
relations (see :mod:`hetero_imb.data.graph`; the shared rules are in
:mod:`hetero_imb.data.assemble`). ``data.node_ids[t][i]`` is the id (table value) of
node ``i`` of type ``t``, so that predictions can be mapped back to your records.

Labels: integers (or booleans) are class indices; strings or categories are class
names. NaN/None and ``-1`` (``"-1"``) mean unlabelled (``y = -1``). Multi-label: a
column of label sets (lists, tuples, sets; or strings split at ``label_sep``) gives
multi-hot ``y`` ``[N, C]`` (float 0/1, unlabelled rows all ``-1``; an empty set is a
labelled node without positives; see :mod:`hetero_imb.data.labels`).

Features: types not listed in ``features`` use every numeric (or boolean) column
except the id column and, on the target type, the label column; other columns are
skipped (logged at INFO). Features become ``x`` (float32); a type without feature
columns gets no ``x``. NaN/inf values are an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from torch import Tensor
from torch_geometric.data import HeteroData

from .assemble import (
    assemble,
    check_bool,
    check_class_names,
    check_edge_key,
    finite_float32,
    parse_labels,
    preview,
    py_value,
)
from .graph import EdgeType
from .labels import is_label_set, parse_multilabels

__all__ = ["from_pandas"]

log = logging.getLogger(__name__)


def _node_index(
    df: pd.DataFrame, node_type: str, id_col: str | None
) -> tuple[pd.Index, np.ndarray | None]:
    """Index mapping a node id to its row, and the id array (``None`` = row positions)."""
    if id_col is None:
        return pd.RangeIndex(len(df)), None
    if id_col not in df.columns:
        raise ValueError(
            f"node table {node_type!r} has no id column {id_col!r}; columns are: {list(df.columns)}"
        )
    ids = df[id_col].to_numpy()
    missing = pd.isna(ids)
    if np.ndim(missing) and missing.any():
        i = int(np.argmax(missing))
        raise ValueError(
            f"node table {node_type!r}: id column {id_col!r} is missing at row {i}; "
            f"{int(missing.sum())} of {len(ids)} ids are missing"
        )
    index = pd.Index(ids, tupleize_cols=False)
    if not index.is_unique:
        dup = index.duplicated(keep=False)
        first = py_value(ids[int(np.argmax(dup))])
        rows = [int(r) for r in np.nonzero(dup)[0] if ids[r] == first]
        raise ValueError(
            f"node table {node_type!r}: id {first!r} appears {len(rows)} times in column "
            f"{id_col!r} (rows {rows[:5]}); {int(index.duplicated().sum())} duplicate ids in "
            "all, node ids must be unique"
        )
    return index, ids


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column)


def _default_features(df: pd.DataFrame, node_type: str, exclude: set[str]) -> list[str]:
    """Every numeric column not in ``exclude``; the skipped ones are logged."""
    cols = [c for c in df.columns if c not in exclude]
    numeric = [c for c in cols if _is_numeric(df[c])]
    skipped = [c for c in cols if c not in numeric]
    if skipped:
        log.info(
            "node type %r: non-numeric columns %s are not used as features "
            "(pass features={%r: [...]} to choose columns)",
            node_type,
            skipped,
            node_type,
        )
    return numeric


def _feature_columns(
    df: pd.DataFrame, node_type: str, chosen: Sequence[str] | None, exclude: set[str]
) -> list[str]:
    """The feature columns of one node table (``chosen``, checked, or the default)."""
    if chosen is None:
        return _default_features(df, node_type, exclude)
    if isinstance(chosen, str) or not isinstance(chosen, Sequence):
        raise TypeError(f"features[{node_type!r}] must be a list of column names, got {chosen!r}")
    cols = list(chosen)
    for c in cols:
        if c not in df.columns:
            raise ValueError(
                f"features[{node_type!r}] names column {c!r}, which node table {node_type!r} "
                f"does not have; columns are: {list(df.columns)}"
            )
        if c in exclude:
            raise ValueError(
                f"features[{node_type!r}] names column {c!r}, which is the id or label column "
                "and cannot be a feature"
            )
        if not _is_numeric(df[c]):
            raise TypeError(
                f"node type {node_type!r}: feature column {c!r} is not numeric (dtype "
                f"{df[c].dtype}); encode it as numbers first"
            )
    if len(set(cols)) != len(cols):
        raise ValueError(f"features[{node_type!r}] lists a column twice: {cols}")
    return cols


def _map_ids(
    values: pd.Series, index: pd.Index, edge_type: EdgeType, end: str, positional: bool
) -> np.ndarray:
    """Row positions of the ids in ``values`` (the ``end`` = "src" or "dst" column of an
    edge table), or an error listing the ids that are not in ``index``."""
    node_type = edge_type[2] if end == "dst" else edge_type[0]
    raw = values.to_numpy()
    pos = index.get_indexer(raw)
    bad = pos < 0
    if not bad.any():
        return pos.astype(np.int64)
    unknown = pd.unique(raw[bad])
    hint = ""
    if positional:
        hint = (
            f" (node type {node_type!r} has no id column, so its ids are row positions "
            f"0..{len(index) - 1})"
        )
    elif index.dtype.kind != values.dtype.kind and bad.all():
        hint = (
            f" (the ids of {node_type!r} have dtype {index.dtype}, column {values.name!r} has "
            f"dtype {values.dtype})"
        )
    raise ValueError(
        f"edge type {edge_type}: column {values.name!r} has {int(bad.sum())} values "
        f"({len(unknown)} distinct) that are not ids of node type {node_type!r}: "
        f"{preview(unknown)}{hint}"
    )


def _check_tables(nodes: object, edges: object, target: str) -> list[str]:
    """The node types, after checking the two mappings of tables and ``target``."""
    if not isinstance(nodes, Mapping) or not nodes:
        raise TypeError(
            f"parameter 'nodes' must be a non-empty mapping type -> DataFrame, got {nodes!r}"
        )
    if not isinstance(edges, Mapping):
        raise TypeError(
            f"parameter 'edges' must be a mapping edge type -> DataFrame, got {type(edges).__name__}"
        )
    for node_type, df in nodes.items():
        if not isinstance(node_type, str):
            raise TypeError(f"node types must be strings, got {node_type!r}")
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"nodes[{node_type!r}] must be a pandas DataFrame, got {type(df).__name__}"
            )
    node_types = list(nodes)
    if not isinstance(target, str) or target not in nodes:
        raise ValueError(
            f"parameter 'target' must be one of the node types {node_types}, got {target!r}"
        )
    return node_types


def _per_type(name: str, value: object, node_types: list[str]) -> dict:
    """A per-node-type mapping parameter, checked to name only known types."""
    value = dict(value or {})
    for t in value:
        if t not in node_types:
            raise ValueError(f"{name} names unknown node type {t!r}; node types are: {node_types}")
    return value


def _id_columns(node_id: object, node_types: list[str]) -> dict[str, str | None]:
    """Node type → id column (``None`` = row positions)."""
    if node_id is None or isinstance(node_id, str):
        return {t: node_id for t in node_types}
    if isinstance(node_id, Mapping):
        chosen = _per_type("node_id", node_id, node_types)
        return {t: chosen.get(t) for t in node_types}
    raise TypeError(
        f"parameter 'node_id' must be a column name, a mapping or None, got {node_id!r}"
    )


class _Tables:
    """The node tables with their id indexes and feature matrices."""

    def __init__(self, nodes, id_cols, features, target: str, label: str | None):
        self.nodes = nodes
        self.indexes: dict[str, pd.Index] = {}
        self.ids: dict[str, np.ndarray | None] = {}
        self.xs: dict[str, Tensor | None] = {}
        for t, df in nodes.items():
            self.indexes[t], self.ids[t] = _node_index(df, t, id_cols[t])
            exclude = {id_cols[t], label if t == target else None} - {None}
            cols = _feature_columns(df, t, features.get(t), exclude)
            arr = df[cols].to_numpy(dtype=np.float64, na_value=np.nan) if cols else None
            self.xs[t] = None if arr is None else finite_float32(arr, t, cols, self.ids[t])

    def labels(self, target: str, label: str, names: list[str] | None, sep: str | None = None):
        """Parsed labels of the target table's ``label`` column, and the class names
        (multi-hot when ``sep`` is given or the column holds label sets)."""
        table = self.nodes[target]
        if label not in table.columns:
            raise ValueError(
                f"target table {target!r} has no label column {label!r}; columns are: "
                f"{list(table.columns)} (pass label=<column>)"
            )
        where = f"label column {label!r} of node type {target!r}"
        column = table[label]
        if sep is not None or any(is_label_set(v) for v in column.to_numpy(dtype=object)):
            return parse_multilabels(column, names, where, self.ids[target], sep=sep)
        return parse_labels(column, names, where, self.ids[target])

    def edges(self, edges: Mapping, src: str, dst: str) -> dict:
        """Edge type → (source positions, target positions)."""
        mapped: dict[EdgeType, tuple[np.ndarray, np.ndarray]] = {}
        for key, df in edges.items():
            edge_type = check_edge_key(key, list(self.nodes))
            if not isinstance(df, pd.DataFrame):
                raise TypeError(
                    f"edges[{edge_type}] must be a pandas DataFrame, got {type(df).__name__}"
                )
            for column in (src, dst):
                if column not in df.columns:
                    raise ValueError(
                        f"edge table {edge_type} has no column {column!r}; columns are: "
                        f"{list(df.columns)} (set src=/dst= to the id columns)"
                    )
            ends = {"src": (df[src], edge_type[0]), "dst": (df[dst], edge_type[2])}
            mapped[edge_type] = tuple(
                _map_ids(col, self.indexes[t], edge_type, end, self.ids[t] is None)
                for end, (col, t) in ends.items()
            )
        return mapped

    def node_ids(self) -> dict[str, list]:
        return {
            t: ids.tolist() if ids is not None else list(range(len(self.nodes[t])))
            for t, ids in self.ids.items()
        }


def from_pandas(
    nodes: Mapping[str, pd.DataFrame],
    edges: Mapping[EdgeType, pd.DataFrame],
    *,
    target: str,
    label: str | None = "label",
    node_id: str | Mapping[str, str] | None = None,
    features: Mapping[str, Sequence[str]] | None = None,
    src: str = "src",
    dst: str = "dst",
    class_names: Sequence[str] | None = None,
    metapaths: Sequence[Sequence[EdgeType]] | None = None,
    add_reverse: bool = True,
    label_sep: str | None = None,
) -> HeteroData:
    """Build a graph from one table per node type and one per relation.

    Args:
        nodes: Node type → table, one row per node. Node ``i`` of a type is row ``i``.
        edges: ``(source type, relation, target type)`` → table with columns ``src``
            and ``dst`` holding node ids of the source and target types (other columns
            are ignored; duplicate edges are dropped).
        target: The node type to classify; its table holds the ``label`` column.
        label: Label column of the target table (module docstring). ``None``: no
            labels (``y`` is all ``-1``; give ``class_names``), e.g. for prediction.
        node_id: Id column: one name for every table, or ``{type: column}`` (types not
            listed use row positions). Ids may be any hashable values, unique per type.
            ``None`` (default): ids are row positions ``0..n-1``.
        features: ``{type: [columns]}`` choosing each type's feature columns (``[]``:
            none); other types use their numeric columns (module docstring).
        src: Column of the edge tables holding source ids.
        dst: Column of the edge tables holding target ids.
        class_names: Class names, index ``c`` naming class ``c``. Default: the sorted
            unique string labels, or ``"0".."K-1"`` for integer labels.
        metapaths: Meta-paths (lists of edge types from the target type back to it).
            Default: target → ``T`` → target through each relation to another type
            ``T`` and its reverse; each relation within the target type alone.
        add_reverse: Add ``(dst, "rev_<rel>", src)`` for each relation between two
            types and make relations within one type symmetric (skipped for a relation
            whose transpose is already in ``edges``).
        label_sep: Read the label column as multi-label strings split at this
            separator (e.g. ``"|"`` for ``"Comedy|Drama"``). Columns of lists/sets are
            multi-label without it.

    Returns:
        A validated graph; ``data.node_ids[t]`` lists the original id of each node.

    Raises:
        TypeError, ValueError: invalid input; the message names the node or edge
            type, the column, and the offending values with their count.

    Example:
        >>> users = pd.DataFrame({"uid": ["u1", "u2"], "age": [31, 45]})
        >>> tx = pd.DataFrame({"tid": ["t1", "t2", "t3"], "amount": [9.5, 120.0, 3.2],
        ...                    "label": ["legit", "fraud", None]})
        >>> made = pd.DataFrame({"src": ["t1", "t2", "t3"], "dst": ["u1", "u1", "u2"]})
        >>> data = from_pandas({"user": users, "tx": tx}, {("tx", "made_by", "user"): made},
        ...                    target="tx", node_id={"user": "uid", "tx": "tid"})
        >>> data.class_names, data["tx"].y.tolist()
        (['fraud', 'legit'], [1, 0, -1])
    """
    check_bool("add_reverse", add_reverse)
    if label_sep is not None and (not isinstance(label_sep, str) or not label_sep):
        raise TypeError(f"parameter 'label_sep' must be a non-empty string or None, got {label_sep!r}")
    node_types = _check_tables(nodes, edges, target)
    id_cols = _id_columns(node_id, node_types)
    chosen = _per_type("features", features, node_types)
    names = check_class_names(class_names)
    if label is None and names is None:
        raise ValueError("without labels (label=None), pass class_names=[...] to name the classes")
    tables = _Tables(nodes, id_cols, chosen, target, label)
    y = None
    if label is not None:
        y, names = tables.labels(target, label, names, label_sep)
    num_nodes = {t: len(df) for t, df in nodes.items()}
    mapped = tables.edges(edges, src, dst)
    return assemble(
        num_nodes, tables.xs, y, names, mapped, target=target, metapaths=metapaths,
        add_reverse=add_reverse, node_ids=tables.node_ids(),
    )  # fmt: skip
