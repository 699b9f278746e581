"""Build a graph that follows the hetero_imb conventions from your own data.

Three entry points, one result (a validated :class:`~torch_geometric.data.HeteroData`
with ``target_node_type``, ``class_names``, ``metapaths``, labels, features and
reverse relations, see :mod:`hetero_imb.data.graph`):

* :func:`from_pandas`: one table per node type and one per relation;
* :func:`from_networkx`: a typed networkx graph (node and edge attributes);
* :func:`from_dgl`: a DGL heterograph (DGL is an optional extra).

Every function also stores the original node ids: ``data.node_ids[t][i]`` is the id
(table value, networkx node, DGL node index) of node ``i`` of type ``t``, so that
predictions can be mapped back to your records. It describes the graph as built:
subgraphs and samplers keep the original numbering through their own ``n_id``.

Shared rules: duplicate edges are dropped (edges come out sorted by source, then
target); with ``add_reverse`` every relation between two different node types gets
its reverse ``(dst, "rev_<relation>", src)`` and every relation within one node type
is made symmetric, except where the graph already holds a relation with exactly the
transposed edges (then that relation is its reverse and nothing is added).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .graph import SPLITS
from .validate import validate_graph

__all__ = ["from_dgl", "from_networkx", "from_pandas"]

log = logging.getLogger(__name__)

EdgeType = tuple[str, str, str]
_NUMERIC_LABEL_KINDS = {"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"}


# ----------------------------------------------------------------------------- helpers
def _py(value: Any) -> Any:
    """A numpy scalar as the Python value (for readable messages and node ids)."""
    return value.item() if isinstance(value, np.generic) else value


def _row(i: int, ids: np.ndarray | None) -> str:
    return f"row {i}" if ids is None else f"row {i} (id {_py(ids[i])!r})"


def _preview(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(_py(v)) for v in list(values)[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"parameter '{name}' must be a bool, got {value!r}")


def _check_class_names(class_names: Sequence[str] | None) -> list[str] | None:
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(
            f"parameter 'class_names' must be a list of strings, got {type(class_names).__name__} "
            f"{class_names!r}"
        )
    names = list(class_names)
    if not names:
        raise ValueError("parameter 'class_names' must be a non-empty list, got []")
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(
                f"class_names[{i}] must be a string, got {type(name).__name__} {name!r}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"class_names must be unique, got {names}")
    return names


def _check_edge_key(key: Any, node_types: Sequence[str]) -> EdgeType:
    if not (isinstance(key, tuple) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise TypeError(
            "edge types must be (source type, relation, target type) tuples of strings, "
            f"got {key!r}"
        )
    for end in (key[0], key[2]):
        if end not in node_types:
            raise ValueError(
                f"edge type {key} refers to unknown node type {end!r}; node types are: "
                f"{list(node_types)}"
            )
    return key


def _finite_float32(
    arr: np.ndarray, node_type: str, columns: Sequence[str], ids: np.ndarray | None
) -> Tensor:
    """``arr`` (float64 ``[n, F]``) as float32, or an error naming the first NaN/inf."""
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.argmin(finite.all(axis=1)))
        col = int(np.argmin(finite[row]))
        raise ValueError(
            f"node type {node_type!r}: feature column {columns[col]!r} has {arr[row, col]} at "
            f"{_row(row, ids)}; {int((~finite).sum())} feature values of {node_type!r} are NaN "
            "or inf (fill or drop them first)"
        )
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    fits = np.isfinite(out)
    if not fits.all():
        row = int(np.argmin(fits.all(axis=1)))
        col = int(np.argmin(fits[row]))
        raise ValueError(
            f"node type {node_type!r}: feature column {columns[col]!r} value {arr[row, col]} at "
            f"{_row(row, ids)} does not fit in float32 (|x| <= 3.4e38); rescale the column"
        )
    return torch.from_numpy(out)


def _parse_labels(
    values: pd.Series,
    class_names: list[str] | None,
    where: str,
    ids: np.ndarray | None,
) -> tuple[np.ndarray, list[str]]:
    """Turn a label column into class indices (``-1`` = unlabelled) and class names.

    Numbers (and booleans) are class indices; strings are class names. NaN/None and
    ``-1`` (or ``"-1"``) mean unlabelled.
    """
    s = values.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    missing = s.isna().to_numpy()
    kind = pd.api.types.infer_dtype(s, skipna=True)
    n = len(s)
    y = np.full(n, -1, dtype=np.int64)
    if kind in _NUMERIC_LABEL_KINDS:
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~missing
        bad = known & ((~np.isfinite(arr)) | (arr != np.round(arr)))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{where}: label {arr[i]} at {_row(i, ids)} is not an integer class index; "
                f"{int(bad.sum())} of {n} labels are not integers"
            )
        bad = known & (arr < -1)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{where}: label {int(arr[i])} at {_row(i, ids)} is negative; use -1 or NaN "
                "for unlabelled nodes"
            )
        labelled = known & (arr >= 0)
        y[labelled] = arr[labelled].astype(np.int64)
        if class_names is None:
            top = int(y.max()) if labelled.any() else -1
            class_names = [str(c) for c in range(top + 1)]
        num_classes = len(class_names)
        bad = y >= num_classes
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{where}: label {int(y[i])} at {_row(i, ids)} is out of range [0, "
                f"{num_classes - 1}] for class_names {class_names} (-1 = unlabelled); "
                f"{int(bad.sum())} of {n} labels are out of range"
            )
    else:
        obj = s.to_numpy(dtype=object)
        unlabelled = missing | s.isin([-1, "-1"]).to_numpy()
        labelled = ~unlabelled
        not_str = labelled & np.array([not isinstance(v, str) for v in obj], dtype=bool)
        if not_str.any():
            i = int(np.argmax(not_str))
            raise ValueError(
                f"{where} mixes class names (strings) with other values: "
                f"{_py(obj[i])!r} ({type(obj[i]).__name__}) at {_row(i, ids)}; use strings "
                "throughout, or integer class indices throughout"
            )
        if class_names is None:
            class_names = sorted(set(obj[labelled]))
        codes = pd.Index(class_names).get_indexer(obj[labelled])
        if (codes < 0).any():
            unknown = pd.Series(obj[labelled][codes < 0]).value_counts(sort=False)
            listed = ", ".join(f"{k!r} ({c} nodes)" for k, c in list(unknown.items())[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise ValueError(
                f"{where}: {len(unknown)} label values are not in class_names {class_names}: "
                f"{listed}{more}"
            )
        y[labelled] = codes
    if not (y >= 0).any():
        raise ValueError(
            f"{where}: no labelled node; all {n} values are missing or -1 (a target type "
            "needs at least one labelled node)"
        )
    return y, list(class_names)


# ------------------------------------------------------------------- graph assembly
def _dedup(src: np.ndarray, dst: np.ndarray, num_dst: int) -> np.ndarray:
    """Sorted unique keys ``src * num_dst + dst``."""
    return np.unique(src.astype(np.int64) * max(num_dst, 1) + dst.astype(np.int64))


def _normalise_metapaths(metapaths: Any) -> list[list[EdgeType]]:
    if isinstance(metapaths, str) or not isinstance(metapaths, Sequence):
        raise TypeError(
            "parameter 'metapaths' must be a list of meta-paths (each a list of edge-type "
            f"triples), got {type(metapaths).__name__}"
        )
    out = []
    for k, path in enumerate(metapaths):
        if isinstance(path, str) or not isinstance(path, Sequence) or not len(path):
            raise TypeError(f"meta-path {k} must be a non-empty list of edge types, got {path!r}")
        steps = []
        for step in path:
            if not (isinstance(step, (list, tuple)) and len(step) == 3):
                raise TypeError(
                    f"meta-path {k}: each step must be a (source type, relation, target type) "
                    f"triple, got {step!r}"
                )
            steps.append(tuple(step))
        out.append(steps)
    return out


def _assemble(
    num_nodes: dict[str, int],
    xs: dict[str, Tensor | None],
    y: np.ndarray | None,
    class_names: list[str],
    edges: dict[EdgeType, tuple[np.ndarray, np.ndarray]],
    *,
    target: str,
    metapaths: Any,
    add_reverse: bool,
    node_ids: dict[str, list],
    masks: dict[str, Tensor] | None = None,
) -> HeteroData:
    """The part every builder shares: dedup, reverse relations, meta-paths, validation."""
    keys: dict[EdgeType, np.ndarray] = {}
    for edge_type, (src, dst) in edges.items():
        keys[edge_type] = _dedup(src, dst, num_nodes[edge_type[2]])
        dropped = len(src) - len(keys[edge_type])
        if dropped:
            log.info("edge type %s: dropped %d duplicate edges", edge_type, dropped)

    def transposed(edge_type: EdgeType) -> np.ndarray:
        a, _, b = edge_type
        k = keys[edge_type]
        nb = max(num_nodes[b], 1)
        return np.sort((k % nb) * max(num_nodes[a], 1) + k // nb)

    # relations whose transpose is already in the graph need no reverse
    partner: dict[EdgeType, EdgeType] = {}
    for e in keys:
        if e in partner:
            continue
        for f in keys:
            if (
                f != e
                and f not in partner
                and (f[0], f[2]) == (e[2], e[0])
                and len(keys[f]) == len(keys[e])
                and np.array_equal(transposed(e), keys[f])
            ):
                partner[e], partner[f] = f, e
                break

    out: dict[EdgeType, np.ndarray] = {}  # edge type -> [2, E] int64
    for e, k in keys.items():
        a, rel, b = e
        nb = max(num_nodes[b], 1)
        if add_reverse and a == b and e not in partner:
            k = np.union1d(k, transposed(e))
        out[e] = np.stack([k // nb, k % nb])
        if add_reverse and a != b and e not in partner:
            rev = (b, f"rev_{rel}", a)
            if rev in keys:
                raise ValueError(
                    f"cannot add the reverse of {e}: edge type {rev} already exists with other "
                    "edges; rename one relation, or pass add_reverse=False"
                )
            out[rev] = out[e][::-1].copy()
            partner[e], partner[rev] = rev, e

    if metapaths is None:
        paths: list[list[EdgeType]] = []
        for e in keys:
            a, _, b = e
            if a == target and b == target:
                path = [e]
            elif a == target and e in partner:
                path = [e, partner[e]]
            elif b == target and e in partner:
                path = [partner[e], e]
            else:
                continue
            if path not in paths:
                paths.append(path)
        if not paths:
            log.warning(
                "no default meta-path through target type %r (it needs relations from %r "
                "and back); pass metapaths=... or add_reverse=True",
                target,
                target,
            )
    else:
        paths = _normalise_metapaths(metapaths)

    data = HeteroData()
    for node_type, n in num_nodes.items():
        data[node_type].num_nodes = n
        if xs.get(node_type) is not None:
            data[node_type].x = xs[node_type]
    data[target].y = (
        torch.from_numpy(y)
        if y is not None
        else torch.full((num_nodes[target],), -1, dtype=torch.long)
    )
    for split_key, mask in (masks or {}).items():
        data[target][split_key] = mask
    for edge_type, edge_index in out.items():
        data[edge_type].edge_index = torch.from_numpy(np.ascontiguousarray(edge_index))
    data.target_node_type = target
    data.class_names = list(class_names)
    data.metapaths = paths
    data.node_ids = node_ids
    return validate_graph(data, require_labels=y is not None)


# ------------------------------------------------------------------------- pandas
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
        first = _py(ids[int(np.argmax(dup))])
        rows = [int(r) for r in np.nonzero(dup)[0] if ids[r] == first]
        raise ValueError(
            f"node table {node_type!r}: id {first!r} appears {len(rows)} times in column "
            f"{id_col!r} (rows {rows[:5]}); {int(index.duplicated().sum())} duplicate ids in "
            "all, node ids must be unique"
        )
    return index, ids


def _feature_columns(
    df: pd.DataFrame, node_type: str, chosen: Sequence[str] | None, exclude: set[str]
) -> list[str]:
    if chosen is None:
        cols = [c for c in df.columns if c not in exclude]
        numeric = [
            c
            for c in cols
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_complex_dtype(df[c])
        ]
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
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_complex_dtype(df[c]):
            raise TypeError(
                f"node type {node_type!r}: feature column {c!r} is not numeric (dtype "
                f"{df[c].dtype}); encode it as numbers first"
            )
    if len(set(cols)) != len(cols):
        raise ValueError(f"features[{node_type!r}] lists a column twice: {cols}")
    return cols


def _map_ids(
    values: pd.Series,
    index: pd.Index,
    edge_type: EdgeType,
    column: str,
    node_type: str,
    positional: bool,
) -> np.ndarray:
    raw = values.to_numpy()
    pos = index.get_indexer(raw)
    bad = pos < 0
    if bad.any():
        unknown = pd.unique(raw[bad])
        hint = (
            f" (node type {node_type!r} has no id column, so its ids are row positions "
            f"0..{len(index) - 1})"
            if positional
            else ""
        )
        if not positional and index.dtype.kind != values.dtype.kind and bad.all():
            hint = (
                f" (the ids of {node_type!r} have dtype {index.dtype}, column {column!r} has "
                f"dtype {values.dtype})"
            )
        raise ValueError(
            f"edge type {edge_type}: column {column!r} has {int(bad.sum())} values "
            f"({len(unknown)} distinct) that are not ids of node type {node_type!r}: "
            f"{_preview(unknown)}{hint}"
        )
    return pos.astype(np.int64)


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
) -> HeteroData:
    """Build a graph from one table per node type and one per relation.

    Args:
        nodes: Node type → table, one row per node. Node ``i`` of a type is row ``i``.
        edges: ``(source type, relation, target type)`` → table with columns ``src``
            and ``dst`` holding node ids of the source and target types. Other columns
            are ignored. Duplicate edges are dropped.
        target: The node type to classify; its table holds the ``label`` column.
        label: Label column of the target table. Integers (or booleans) are class
            indices; strings or categories are class names. NaN/None and ``-1``
            (``"-1"``) mean unlabelled (``y = -1``). ``None``: the graph has no labels
            (``y`` is all ``-1``; ``class_names`` must be given), e.g. for prediction.
        node_id: Id column: one name for every table, or ``{type: column}`` (types not
            listed use row positions). Ids may be any hashable values (``"user_17"``)
            and must be unique per type. ``None`` (default): ids are row positions
            ``0..n-1``.
        features: ``{type: [columns]}`` choosing each type's feature columns (``[]``:
            no features). Types not listed use every numeric (or boolean) column except
            the id column and, on the target type, the label column; other columns are
            skipped (logged at INFO). Features become ``x`` (float32); a type without
            feature columns gets no ``x``. NaN/inf values are an error.
        src: Column of the edge tables holding source ids.
        dst: Column of the edge tables holding target ids.
        class_names: Class names, index ``c`` naming class ``c``. Default: for string
            labels, their sorted unique values; for integer labels ``"0".."K-1"``.
        metapaths: Meta-paths (lists of edge types from the target type back to it).
            Default: for each relation between the target type and another type ``T``,
            target → ``T`` → target through the relation and its reverse; for each
            relation within the target type, that relation alone.
        add_reverse: Add ``(dst, "rev_<rel>", src)`` for each relation between two
            types and make each relation within one type symmetric (skipped for a
            relation whose transpose is already in ``edges``).

    Returns:
        A validated graph; ``data.node_ids[t]`` lists the original id of each node of
        type ``t`` (the row positions when the type has no id column).

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
    _check_bool("add_reverse", add_reverse)
    if not isinstance(nodes, Mapping) or not nodes:
        raise TypeError(
            f"parameter 'nodes' must be a non-empty mapping type -> DataFrame, got {nodes!r}"
        )
    if not isinstance(edges, Mapping):
        raise TypeError(
            f"parameter 'edges' must be a mapping edge type -> DataFrame, got {type(edges).__name__}"
        )
    node_types = list(nodes)
    for node_type, df in nodes.items():
        if not isinstance(node_type, str):
            raise TypeError(f"node types must be strings, got {node_type!r}")
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"nodes[{node_type!r}] must be a pandas DataFrame, got {type(df).__name__}"
            )
    if target not in nodes:
        raise ValueError(
            f"parameter 'target' must be one of the node types {node_types}, got {target!r}"
        )
    if node_id is None or isinstance(node_id, str):
        id_cols = {t: node_id for t in node_types}
    elif isinstance(node_id, Mapping):
        for t in node_id:
            if t not in nodes:
                raise ValueError(
                    f"node_id names unknown node type {t!r}; node types are: {node_types}"
                )
        id_cols = {t: node_id.get(t) for t in node_types}
    else:
        raise TypeError(
            f"parameter 'node_id' must be a column name, a mapping or None, got {node_id!r}"
        )
    features = dict(features or {})
    for t in features:
        if t not in nodes:
            raise ValueError(
                f"features names unknown node type {t!r}; node types are: {node_types}"
            )
    names = _check_class_names(class_names)
    if label is None and names is None:
        raise ValueError("without labels (label=None), pass class_names=[...] to name the classes")

    indexes: dict[str, pd.Index] = {}
    ids_of: dict[str, np.ndarray | None] = {}
    xs: dict[str, Tensor | None] = {}
    for t, df in nodes.items():
        indexes[t], ids_of[t] = _node_index(df, t, id_cols[t])
        exclude = {id_cols[t]} - {None}
        if t == target and label is not None:
            exclude.add(label)
        cols = _feature_columns(df, t, features.get(t), exclude)
        if cols:
            arr = df[cols].to_numpy(dtype=np.float64, na_value=np.nan)
            xs[t] = _finite_float32(arr, t, cols, ids_of[t])
        else:
            xs[t] = None

    y = None
    if label is not None:
        table = nodes[target]
        if label not in table.columns:
            raise ValueError(
                f"target table {target!r} has no label column {label!r}; columns are: "
                f"{list(table.columns)} (pass label=<column>)"
            )
        y, names = _parse_labels(
            table[label], names, f"label column {label!r} of node type {target!r}", ids_of[target]
        )

    mapped: dict[EdgeType, tuple[np.ndarray, np.ndarray]] = {}
    for key, df in edges.items():
        edge_type = _check_edge_key(key, node_types)
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
        a, _, b = edge_type
        mapped[edge_type] = (
            _map_ids(df[src], indexes[a], edge_type, src, a, ids_of[a] is None),
            _map_ids(df[dst], indexes[b], edge_type, dst, b, ids_of[b] is None),
        )

    node_ids = {
        t: (ids_of[t].tolist() if ids_of[t] is not None else list(range(len(nodes[t]))))
        for t in node_types
    }
    return _assemble(
        {t: len(df) for t, df in nodes.items()},
        xs,
        y,
        names,
        mapped,
        target=target,
        metapaths=metapaths,
        add_reverse=add_reverse,
        node_ids=node_ids,
    )


# ----------------------------------------------------------------------- networkx
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

    The graph becomes one table per node type and one per relation, which
    :func:`from_pandas` turns into the graph, so both follow the same rules. Nodes of
    a type are numbered in the graph's node order.

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
        type ``t``.

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
    _check_bool("add_reverse", add_reverse)
    type_of: dict[Hashable, str] = {}
    members: dict[str, list[Hashable]] = {}
    for node, attrs in graph.nodes(data=True):
        t = attrs.get(node_type)
        if t is None:
            raise ValueError(
                f"node {node!r} has no attribute {node_type!r} giving its node type; every "
                "node needs one"
            )
        if not isinstance(t, str):
            raise TypeError(
                f"node {node!r}: node type attribute {node_type!r} must be a string, got {t!r}"
            )
        type_of[node] = t
        members.setdefault(t, []).append(node)
    if target not in members:
        raise ValueError(
            f"parameter 'target' must be one of the node types {list(members)}, got {target!r}"
        )

    id_col = "node" if label != "node" else "node_"
    tables: dict[str, pd.DataFrame] = {}
    chosen: dict[str, list[str]] = {}
    for t, keys in members.items():
        ids = np.empty(len(keys), dtype=object)
        ids[:] = keys
        table = pd.DataFrame({id_col: ids})
        if t == target and label is not None:
            table[label] = pd.Series([graph.nodes[k].get(label) for k in keys]).infer_objects()
        chosen[t] = []
        if features is not None:
            have = [k for k in keys if graph.nodes[k].get(features) is not None]
            if have and len(have) < len(keys):
                lacking = next(k for k in keys if graph.nodes[k].get(features) is None)
                raise ValueError(
                    f"node type {t!r}: {len(have)} of {len(keys)} nodes have feature attribute "
                    f"{features!r} but node {lacking!r} has none; give every node of a type a "
                    "feature vector, or none of them"
                )
            if have:
                vecs = [_feature_vector(graph.nodes[k][features], k, t, features) for k in keys]
                width = len(vecs[0])
                for k, vec in zip(keys, vecs, strict=True):
                    if len(vec) != width:
                        raise ValueError(
                            f"node type {t!r}: feature vectors differ in length: node "
                            f"{keys[0]!r} has {width} values, node {k!r} has {len(vec)}"
                        )
                chosen[t] = [f"{features}[{j}]" for j in range(width)]
                table = pd.concat(
                    [table, pd.DataFrame(np.stack(vecs) if vecs else None, columns=chosen[t])],
                    axis=1,
                )
        tables[t] = table

    directed = graph.is_directed()
    pairs: dict[EdgeType, tuple[list, list]] = {}
    for u, v, attrs in graph.edges(data=True):
        rel = attrs.get(edge_type, "to")
        if not isinstance(rel, str):
            raise TypeError(
                f"edge ({u!r}, {v!r}): relation attribute {edge_type!r} must be a string, got {rel!r}"
            )
        tu, tv = type_of[u], type_of[v]
        if not directed and tu != tv and (tv == target or (tu != target and tu > tv)):
            u, v, tu, tv = v, u, tv, tu
        heads, tails = pairs.setdefault((tu, rel, tv), ([], []))
        heads.append(u)
        tails.append(v)
    edge_tables = {}
    for key, (heads, tails) in pairs.items():
        columns = {}
        for name, values in (("src", heads), ("dst", tails)):
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            columns[name] = arr
        edge_tables[key] = pd.DataFrame(columns)
    return from_pandas(
        tables,
        edge_tables,
        target=target,
        label=label,
        node_id=id_col,
        features=chosen,
        class_names=class_names,
        metapaths=metapaths,
        add_reverse=add_reverse or not directed,
    )


# ---------------------------------------------------------------------------- DGL
def _import_dgl() -> Any:
    """Import DGL, or raise an ImportError that says what to do."""
    try:
        import dgl
    except Exception as exc:  # DGL wheels built for another torch fail with OSError etc.
        raise ImportError(
            f"from_dgl needs DGL, which could not be imported ({type(exc).__name__}: {exc}). "
            "DGL is an optional extra (pip install hetero_imb[dgl]); its PyPI wheels target "
            f"torch <= 2.3 and do not import with torch {torch.__version__}. Install a DGL "
            "build matching your torch, or convert your graph with "
            "hetero_imb.data.build.from_pandas."
        ) from exc
    return dgl


def from_dgl(
    graph: Any,
    *,
    target: str,
    label: str = "label",
    features: str = "feat",
    class_names: Sequence[str] | None = None,
    metapaths: Sequence[Sequence[EdgeType]] | None = None,
    add_reverse: bool = True,
) -> HeteroData:
    """Build a graph from a DGL (hetero)graph.

    DGL is an optional extra (``pip install hetero_imb[dgl]``), imported here only.
    Edges are converted by :func:`torch_geometric.utils.from_dgl`; then labels come
    from ``graph.nodes[target].data[label]`` (integer class indices, ``-1`` =
    unlabelled), features from ``graph.nodes[t].data[features]`` on every type that
    has them, and ``train_mask``/``val_mask``/``test_mask`` of the target type are
    kept when present. Edge data and other node data are dropped.

    Args:
        graph: A ``dgl.DGLGraph`` (homogeneous or heterogeneous).
        target: The node type to classify.
        label: Node-data key of the labels on the target type.
        features: Node-data key of the features (types without it get no ``x``).
        class_names: See :func:`from_pandas` (default ``"0".."K-1"``).
        metapaths: See :func:`from_pandas`.
        add_reverse: See :func:`from_pandas`; relations whose transpose the DGL graph
            already holds (e.g. ``writes`` / ``written-by``) get no extra reverse.

    Returns:
        A validated graph; ``data.node_ids[t]`` is ``list(range(num_nodes))`` (DGL
        node ids).

    Raises:
        ImportError: DGL is not installed or does not import with this torch.
    """
    dgl = _import_dgl()
    from torch_geometric.data import Data
    from torch_geometric.utils import from_dgl as pyg_from_dgl

    if not isinstance(graph, dgl.DGLGraph):
        raise TypeError(f"parameter 'graph' must be a dgl.DGLGraph, got {type(graph).__name__}")
    _check_bool("add_reverse", add_reverse)
    ntypes = list(graph.ntypes)
    if target not in ntypes:
        raise ValueError(
            f"parameter 'target' must be one of the node types {ntypes}, got {target!r}"
        )
    names = _check_class_names(class_names)

    converted = pyg_from_dgl(graph)
    if isinstance(converted, Data):  # homogeneous graphs come back as Data
        edge_index = {tuple(graph.canonical_etypes[0]): converted.edge_index}
    else:
        edge_index = {tuple(e): converted[e].edge_index for e in converted.edge_types}
    edges = {e: (ei[0].cpu().numpy(), ei[1].cpu().numpy()) for e, ei in edge_index.items()}

    num_nodes = {t: int(graph.num_nodes(t)) for t in ntypes}
    xs: dict[str, Tensor | None] = {}
    for t in ntypes:
        ndata = graph.nodes[t].data
        if features not in ndata:
            xs[t] = None
            continue
        x = ndata[features].detach().cpu()
        if x.dim() == 1:
            x = x.unsqueeze(1)
        if x.dim() != 2:
            raise ValueError(
                f"node type {t!r}: features {features!r} must be [num_nodes, F], got shape {list(x.shape)}"
            )
        cols = [f"{features}[{j}]" for j in range(x.size(1))]
        xs[t] = _finite_float32(x.double().numpy(), t, cols, None)

    ndata = graph.nodes[target].data
    if label not in ndata:
        raise ValueError(
            f"node type {target!r} has no node data {label!r}; it has: {sorted(ndata.keys())} "
            "(pass label=<key>)"
        )
    y_raw = ndata[label].detach().cpu()
    if y_raw.dim() == 2 and y_raw.size(1) == 1:
        y_raw = y_raw.squeeze(1)
    if y_raw.dim() != 1:
        raise ValueError(
            f"labels {label!r} of node type {target!r} must be one class index per node, got "
            f"shape {list(y_raw.shape)} (multi-label data is not supported)"
        )
    y, names = _parse_labels(
        pd.Series(y_raw.numpy()), names, f"labels {label!r} of node type {target!r}", None
    )
    masks = {
        f"{s}_mask": ndata[f"{s}_mask"].detach().cpu().bool()
        for s in SPLITS
        if f"{s}_mask" in ndata
    }
    return _assemble(
        num_nodes,
        xs,
        y,
        names,
        edges,
        target=target,
        metapaths=metapaths,
        add_reverse=add_reverse,
        node_ids={t: list(range(n)) for t, n in num_nodes.items()},
        masks=masks,
    )
