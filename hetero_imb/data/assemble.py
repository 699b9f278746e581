"""What the three graph builders share: input checks, label parsing and assembly.

:mod:`~hetero_imb.data.from_pandas`, :mod:`~hetero_imb.data.from_networkx` and
:mod:`~hetero_imb.data.from_dgl` turn their source into node counts, feature
matrices, labels and integer edge lists; :func:`assemble` then applies the rules
every built graph follows (see :mod:`hetero_imb.data.graph`):

* duplicate edges are dropped (edges come out sorted by source, then target);
* with ``add_reverse`` every relation between two different node types gets its
  reverse ``(dst, "rev_<relation>", src)`` right after it, and every relation within
  one node type is made symmetric, except where the graph already holds a relation
  with exactly the transposed edges (then that relation is its reverse);
* default meta-paths go from the target type to each neighbour type and back;
* the result is checked by :func:`~hetero_imb.data.validate.validate_graph`.

Reverses are written here, not with :class:`torch_geometric.transforms.ToUndirected`,
which appends every ``rev_`` relation after all the others (edge-type order seeds
per-relation parameters), overwrites an existing ``rev_`` relation, and cannot see
that a relation already is another's transpose (``writes`` / ``written_by``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from .graph import EdgeType
from .validate import GraphWarning, validate_graph

__all__ = [
    "assemble",
    "check_bool",
    "check_class_names",
    "check_edge_key",
    "finite_float32",
    "parse_labels",
    "preview",
    "py_value",
    "row_label",
]

log = logging.getLogger(__name__)

_NUMERIC_LABEL_KINDS = {"integer", "floating", "mixed-integer-float", "boolean", "decimal", "empty"}


# ----------------------------------------------------------------------- messages
def py_value(value: Any) -> Any:
    """A numpy scalar as the Python value (for readable messages and node ids)."""
    return value.item() if isinstance(value, np.generic) else value


def row_label(i: int, ids: np.ndarray | None) -> str:
    """``"row i"``, with the node id when there is one (for error messages)."""
    return f"row {i}" if ids is None else f"row {i} (id {py_value(ids[i])!r})"


def preview(values: Sequence[Any], limit: int = 5) -> str:
    """The first ``limit`` values, comma-separated, ``...`` when there are more."""
    shown = ", ".join(repr(py_value(v)) for v in list(values)[:limit])
    return shown + (", ..." if len(values) > limit else "")


# ------------------------------------------------------------------------- checks
def check_bool(name: str, value: Any) -> None:
    """Raise ``TypeError`` unless parameter ``name`` is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"parameter '{name}' must be a bool, got {value!r}")


def check_class_names(class_names: Sequence[str] | None) -> list[str] | None:
    """``class_names`` as a list of unique strings (``None`` stays ``None``)."""
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


def check_edge_key(key: Any, node_types: Sequence[str]) -> EdgeType:
    """``key`` as a ``(src, relation, dst)`` triple between known node types."""
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


def _require(ok: np.ndarray, arr: np.ndarray, node_type: str, columns, ids, problem: str) -> None:
    """Raise at the first ``False`` of ``ok``; ``problem`` is formatted with the value
    ``{v}``, where it is ``{at}`` and the number of bad values ``{n}``."""
    if ok.all():
        return
    row = int(np.argmin(ok.all(axis=1)))
    col = int(np.argmin(ok[row]))
    at, n = row_label(row, ids), int((~ok).sum())
    raise ValueError(
        f"node type {node_type!r}: feature column {columns[col]!r} "
        + problem.format(v=arr[row, col], at=at, n=n)
    )


def finite_float32(
    arr: np.ndarray, node_type: str, columns: Sequence[str], ids: np.ndarray | None
) -> Tensor:
    """``arr`` (float64 ``[n, F]``) as float32, or an error naming the first NaN/inf."""
    nan = f"has {{v}} at {{at}}; {{n}} feature values of {node_type!r} are NaN or inf (fill "
    _require(np.isfinite(arr), arr, node_type, columns, ids, nan + "or drop them first)")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    too_big = "value {v} at {at} does not fit in float32 (|x| <= 3.4e38); rescale the column"
    _require(np.isfinite(out), arr, node_type, columns, ids, too_big)
    return torch.from_numpy(out)


# ------------------------------------------------------------------------- labels
def _numeric_labels(
    s: pd.Series, known: np.ndarray, class_names: list[str] | None, where: str, ids
) -> tuple[np.ndarray, list[str]]:
    """Integer class indices (``-1`` / NaN = unlabelled) and the class names."""
    arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
    n = len(arr)
    bad = known & ((~np.isfinite(arr)) | (arr != np.round(arr)))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}: label {arr[i]} at {row_label(i, ids)} is not an integer class index; "
            f"{int(bad.sum())} of {n} labels are not integers"
        )
    bad = known & (arr < -1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}: label {int(arr[i])} at {row_label(i, ids)} is negative; use -1 or NaN "
            "for unlabelled nodes"
        )
    y = np.full(n, -1, dtype=np.int64)
    labelled = known & (arr >= 0)
    y[labelled] = arr[labelled].astype(np.int64)
    if class_names is None:
        class_names = [str(c) for c in range(int(y.max()) + 1 if labelled.any() else 0)]
        empty = sorted(set(range(len(class_names))) - set(y[labelled].tolist()))
        if empty:  # ids with gaps make classes no node has: splits refuse them, metrics drop
            warnings.warn(
                f"{where}: integer class ids {preview(sorted(set(y[labelled].tolist())))} "
                f"leave classes {preview(empty)} without a node; renumber the labels 0..K-1 "
                "(or pass class_names to keep empty classes on purpose)",
                GraphWarning, stacklevel=4,
            )
    bad = y >= len(class_names)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}: label {int(y[i])} at {row_label(i, ids)} is out of range [0, "
            f"{len(class_names) - 1}] for class_names {class_names} (-1 = unlabelled); "
            f"{int(bad.sum())} of {n} labels are out of range"
        )
    return y, class_names


def _named_labels(
    s: pd.Series, missing: np.ndarray, class_names: list[str] | None, where: str, ids
) -> tuple[np.ndarray, list[str]]:
    """Class names as labels (NaN / ``-1`` / ``"-1"`` = unlabelled)."""
    obj = s.to_numpy(dtype=object)
    labelled = ~(missing | s.isin([-1, "-1"]).to_numpy())
    not_str = labelled & np.array([not isinstance(v, str) for v in obj], dtype=bool)
    if not_str.any():
        i = int(np.argmax(not_str))
        raise ValueError(
            f"{where} mixes class names (strings) with other values: "
            f"{py_value(obj[i])!r} ({type(obj[i]).__name__}) at {row_label(i, ids)}; use "
            "strings throughout, or integer class indices throughout"
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
    y = np.full(len(obj), -1, dtype=np.int64)
    y[labelled] = codes
    return y, list(class_names)


def parse_labels(
    values: pd.Series,
    class_names: list[str] | None,
    where: str,
    ids: np.ndarray | None,
) -> tuple[np.ndarray, list[str]]:
    """Turn a label column into class indices (``-1`` = unlabelled) and class names.

    Numbers (and booleans) are class indices; strings are class names. NaN/None and
    ``-1`` (or ``"-1"``) mean unlabelled. ``where`` starts every error message.

    Example:
        >>> y, names = parse_labels(pd.Series(["b", None, "a"]), None, "labels", None)
        >>> y.tolist(), names
        ([1, -1, 0], ['a', 'b'])
    """
    s = values.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    missing = s.isna().to_numpy()
    if pd.api.types.infer_dtype(s, skipna=True) in _NUMERIC_LABEL_KINDS:
        y, class_names = _numeric_labels(s, ~missing, class_names, where, ids)
    else:
        y, class_names = _named_labels(s, missing, class_names, where, ids)
    if not (y >= 0).any():
        raise ValueError(
            f"{where}: no labelled node; all {len(y)} values are missing or -1 (a target type "
            "needs at least one labelled node)"
        )
    return y, list(class_names)


# ---------------------------------------------------------------------- edges
class _EdgeKeys:
    """Each relation's edges as sorted unique keys ``src * num_dst + dst``."""

    def __init__(self, edges: dict[EdgeType, tuple[np.ndarray, np.ndarray]], num_nodes):
        self.num_nodes = num_nodes
        self.keys: dict[EdgeType, np.ndarray] = {}
        for edge_type, (src, dst) in edges.items():
            width = self.width(edge_type[2])
            self.keys[edge_type] = np.unique(src.astype(np.int64) * width + dst.astype(np.int64))
            dropped = len(src) - len(self.keys[edge_type])
            if dropped:
                log.info("edge type %s: dropped %d duplicate edges", edge_type, dropped)

    def width(self, node_type: str) -> int:
        return max(self.num_nodes[node_type], 1)

    def transposed(self, edge_type: EdgeType) -> np.ndarray:
        """Keys of the transposed relation, sorted."""
        k, nb = self.keys[edge_type], self.width(edge_type[2])
        return np.sort((k % nb) * self.width(edge_type[0]) + k // nb)

    def partners(self) -> dict[EdgeType, EdgeType]:
        """Pairs of relations whose edges are each other's transpose."""
        partner: dict[EdgeType, EdgeType] = {}
        for e in self.keys:
            for f in self.keys:
                if e in partner or f == e or f in partner or (f[0], f[2]) != (e[2], e[0]):
                    continue
                if len(self.keys[f]) == len(self.keys[e]) and np.array_equal(
                    self.transposed(e), self.keys[f]
                ):
                    partner[e], partner[f] = f, e
        return partner

    def edge_indices(
        self, partner: dict[EdgeType, EdgeType], add_reverse: bool
    ) -> dict[EdgeType, np.ndarray]:
        """Edge type → ``[2, E]`` edges, with reverses added (``partner`` is updated)."""
        out: dict[EdgeType, np.ndarray] = {}
        for e, k in self.keys.items():
            a, rel, b = e
            if add_reverse and a == b and e not in partner:
                k = np.union1d(k, self.transposed(e))
            nb = self.width(b)
            out[e] = np.stack([k // nb, k % nb])
            if add_reverse and a != b and e not in partner:
                rev = (b, f"rev_{rel}", a)
                if rev in self.keys:
                    raise ValueError(
                        f"cannot add the reverse of {e}: edge type {rev} already exists with "
                        "other edges; rename one relation, or pass add_reverse=False"
                    )
                out[rev] = out[e][::-1].copy()
                partner[e], partner[rev] = rev, e
        return out


def _default_metapaths(
    edge_types: Sequence[EdgeType], partner: dict[EdgeType, EdgeType], target: str
) -> list[list[EdgeType]]:
    """Target → neighbour type → target through each relation and its reverse."""
    paths: list[list[EdgeType]] = []
    for e in edge_types:
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
    return paths


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
        for step in path:
            if not (isinstance(step, (list, tuple)) and len(step) == 3):
                raise TypeError(
                    f"meta-path {k}: each step must be a (source type, relation, target type) "
                    f"triple, got {step!r}"
                )
        out.append([tuple(step) for step in path])
    return out


def assemble(
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
    """Build and validate the graph from what a builder extracted from its source.

    Args:
        num_nodes: Node type → number of nodes (dict order = node-type order).
        xs: Node type → float32 features, or ``None`` for a featureless type.
        y: Target labels (``-1`` = unlabelled), or ``None`` for an unlabelled graph.
        class_names: Class names.
        edges: Edge type → (source positions, target positions), duplicates allowed.
        target: The target node type.
        metapaths: Meta-paths, or ``None`` for the defaults (module docstring).
        add_reverse: Add reverse relations (module docstring).
        node_ids: Node type → the original id of each node.
        masks: Optional ``train_mask`` / ``val_mask`` / ``test_mask`` of the target type.

    Returns:
        The validated graph.
    """
    keys = _EdgeKeys(edges, num_nodes)
    partner = keys.partners()
    out = keys.edge_indices(partner, add_reverse)
    paths = (
        _default_metapaths(list(keys.keys), partner, target)
        if metapaths is None
        else _normalise_metapaths(metapaths)
    )
    data = HeteroData()
    for node_type, n in num_nodes.items():
        data[node_type].num_nodes = n
        if xs.get(node_type) is not None:
            data[node_type].x = xs[node_type]
    data[target].y = torch.from_numpy(y) if y is not None else torch.full((num_nodes[target],), -1)
    for split_key, mask in (masks or {}).items():
        data[target][split_key] = mask
    for edge_type, edge_index in out.items():
        data[edge_type].edge_index = torch.from_numpy(np.ascontiguousarray(edge_index))
    data.target_node_type = target
    data.class_names = list(class_names)
    data.metapaths = paths
    data.node_ids = node_ids
    return validate_graph(data, require_labels=y is not None)
