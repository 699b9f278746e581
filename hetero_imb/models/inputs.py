"""Node-type-aware input layers: every node type mapped to the same width.

Featured node types go through a linear map (dense or sparse features); featureless
types get a learnable embedding table. Encoders start from :class:`NodeInput`, so
all of them handle featured, sparse and featureless graphs the same way.

The module also holds :func:`check_settings`, the encoders' check of their settings
against the model's declared ``params``.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..data.graph import EdgeType
from ..params import ParamSpec, validate_params
from .base import COMMON_PARAMS


def check_settings(owner: str, params: Mapping[str, ParamSpec], **values: Any) -> dict[str, Any]:
    """``values`` checked against the declared ``params`` (the one check and message of
    :func:`~hetero_imb.params.validate_params`), for modules constructed directly.

    Example:
        >>> check_settings("model 'rgcn'", COMMON_PARAMS, hidden=0)
        Traceback (most recent call last):
        ...
        hetero_imb.params.ParamError: model 'rgcn': hidden must be an integer >= 1, got 0
    """
    checked = validate_params(values, params, owner=owner)
    return {name: checked[name] for name in values}


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block under ``torch.manual_seed(seed)`` and restore the global CPU RNG after.

    With ``seed=None`` the block uses the global RNG as it is.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def graph_metapaths(data: HeteroData) -> list[list[EdgeType]]:
    """``data.metapaths`` with every edge type as a tuple (``[]`` when absent).

    ``HeteroData.to()`` and ``clone()`` turn the tuples of graph-level lists into lists
    (``to()`` even in place), after which ``edge_type in data.edge_types`` fails.
    """
    return [[tuple(e) for e in path] for path in getattr(data, "metapaths", None) or []]


def with_tuple_metapaths(data: HeteroData) -> HeteroData:
    """``data`` itself if its meta-paths hold tuples, else a shallow copy whose do."""
    raw = getattr(data, "metapaths", None) or []
    if all(isinstance(e, tuple) for path in raw for e in path):
        return data
    data = copy.copy(data)
    data.metapaths = graph_metapaths(data)
    return data


#: Standard deviation of the initial embeddings of featureless node types.
#:
#: Not PyTorch's N(0, 1): a table's random initial values are a unique random id per
#: node, and at unit scale they dominate what the graph adds. With few labels (HeCo
#: Freebase at 20 per class, step-10: 42 training movies) the model then fits the
#: training labels through those ids within ~20 epochs (training loss ~0) while the
#: neighbours' embeddings — the part that transfers to unlabelled nodes — have moved
#: by a few Adam steps of size ``lr`` (0.01) against noise of size 1; the validation
#: score sits at chance for dozens of epochs and early stopping ends the run there
#: (R-GCN, heco:20 step-10, patience 30: 4 of 7 runs at chance). At 0.01 — the size
#: of one Adam step — the learned, structure-shared part dominates from the first
#: epochs (0 of 10 runs at chance); see docs/benchmarks_hin.md.
EMBEDDING_INIT_STD = 0.01


def is_sparse(x: Tensor) -> bool:
    """Whether ``x`` is a torch sparse (COO or CSR) tensor."""
    return x.layout in (torch.sparse_coo, torch.sparse_csr)


def scipy_features(x: Tensor) -> sp.csr_matrix | np.ndarray:
    """Node features for scipy / scikit-learn: a CSR matrix when ``x`` is sparse, else a
    dense array (float32 either way).

    Example:
        >>> scipy_features(torch.eye(2).to_sparse()).toarray().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    if is_sparse(x):
        coo = x.to_sparse_coo().coalesce().cpu()
        idx, val = coo.indices().numpy(), coo.values().float().numpy()
        return sp.csr_matrix((val, (idx[0], idx[1])), shape=tuple(coo.shape))
    return x.detach().float().cpu().numpy()


class NodeInput(nn.Module):
    """Maps every node type of a graph to ``hidden``-wide vectors.

    * a node type with features ``x`` (dense, or a torch sparse COO/CSR matrix such
      as Facebook's 4,714-wide bag of words) gets a ``Linear(in, hidden)``; sparse
      inputs are multiplied with :func:`torch.sparse.mm`, never densified;
    * a featureless node type gets an ``nn.Embedding(num_nodes, hidden)`` table
      initialised from N(0, :data:`EMBEDDING_INIT_STD` ²) — small on purpose, see there.

    On a mini-batch (a sampled subgraph), a featureless type's store carries ``n_id``
    (global node ids) and the table is indexed with it; featured stores already hold
    the batch's rows of ``x``. Without ``n_id`` the whole table is returned, and the
    store must then have exactly as many nodes as the table.

    Args:
        data: The graph whose schema (node types, feature widths, node counts) sizes
            the layers.
        hidden: Output width for every node type.
        node_types: Restrict to these node types (default: all of ``data``'s), e.g.
            only the target type for encoders that ignore the others.
        seed: Seeds the initialisation of this module (``None``: global RNG).

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> data = make_synthetic(item_features=None)
        >>> inputs = NodeInput(data, hidden=16, seed=0)
        >>> {t: tuple(h.shape) for t, h in inputs(data).items()}
        {'item': (300, 16), 'user': (120, 16), 'tag': (30, 16)}
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int,
        node_types: Sequence[str] | None = None,
        seed: int | None = None,
    ):
        super().__init__()
        check_settings("NodeInput", {"hidden": COMMON_PARAMS["hidden"]}, hidden=hidden)
        if node_types is None:
            node_types = list(data.node_types)
        unknown = [t for t in node_types if t not in data.node_types]
        if unknown:
            raise ValueError(
                f"parameter 'node_types' must name node types of the graph "
                f"{data.node_types}, got unknown {unknown}"
            )
        self.hidden = hidden
        self.node_types = list(node_types)
        self.linears = nn.ModuleDict()
        self.tables = nn.ModuleDict()
        with seeded(seed):
            for node_type in self.node_types:
                store = data[node_type]
                x = store.get("x")
                if x is not None:
                    self.linears[node_type] = nn.Linear(int(x.size(-1)), hidden)
                else:
                    num_nodes = store.num_nodes
                    if num_nodes is None:
                        raise ValueError(
                            f"node type {node_type!r} has neither features 'x' nor 'num_nodes'"
                        )
                    table = nn.Embedding(int(num_nodes), hidden)
                    nn.init.normal_(table.weight, std=EMBEDDING_INIT_STD)
                    self.tables[node_type] = table

    def featureless_types(self) -> list[str]:
        """Node types represented by embedding tables."""
        return list(self.tables.keys())

    def forward(self, data: HeteroData) -> dict[str, Tensor]:
        """``{node_type: [num_nodes_of_type_in_data, hidden]}`` for this module's types."""
        return {t: self.project(t, x) for t, x in self.raw(data).items()}

    def raw(self, data: HeteroData) -> dict[str, Tensor]:
        """Each type's input before the projection: its features ``x`` (dense or
        sparse, cast to the weights' float type) or its embedding-table rows.

        ``project(t, raw(data)[t])`` is ``forward(data)[t]``; an encoder that drops out
        or averages raw features before projecting them (R-GCN) uses the two steps.
        """
        out: dict[str, Tensor] = {}
        for node_type in self.node_types:
            store = data[node_type]
            if node_type in self.linears:
                x = store.get("x")
                if x is None:
                    raise ValueError(
                        f"node type {node_type!r} had features when the model was built "
                        "but has no 'x' now"
                    )
                dtype = self.linears[node_type].weight.dtype
                out[node_type] = x if x.dtype == dtype else x.to(dtype)
            else:
                table = self.tables[node_type]
                n_id = store.get("n_id")
                if n_id is not None:
                    out[node_type] = table(n_id)
                else:
                    num_nodes = store.num_nodes
                    if num_nodes != table.num_embeddings:
                        raise ValueError(
                            f"node type {node_type!r} has {num_nodes} nodes but its embedding "
                            f"table has {table.num_embeddings} rows; a subgraph must carry "
                            "'n_id' (global node ids)"
                        )
                    out[node_type] = table.weight
        return out

    def project(self, node_type: str, x: Tensor) -> Tensor:
        """``x`` (rows of :meth:`raw`) mapped to ``hidden``: the type's linear map for a
        featured type, ``x`` itself for a table's rows."""
        if node_type in self.linears:
            return self._project(self.linears[node_type], x)
        return x

    @staticmethod
    def _project(linear: nn.Linear, x: Tensor) -> Tensor:
        if is_sparse(x):
            if not x.is_floating_point():
                x = x.to(linear.weight.dtype)
            return torch.sparse.mm(x, linear.weight.t()) + linear.bias
        return linear(x.to(linear.weight.dtype))


def precomputed_rows(data: HeteroData, node_type: str, key: str, what: str) -> Tensor:
    """Rows of a per-node tensor that ``preprocess`` stored under ``data[node_type][key]``.

    On a full graph these are all rows; on a sampled subgraph whose rows were not
    sliced, the rows of the subgraph's nodes (``n_id``).

    Raises:
        RuntimeError: nothing stored yet (``preprocess`` was not called).
        ValueError: the row count does not match and there is no ``n_id``.
    """
    store = data[node_type]
    rows = store.get(key)
    if rows is None:
        raise RuntimeError(
            f"{node_type!r} store has no '{key}'; call encoder.preprocess(data) first"
        )
    if rows.size(0) != store.num_nodes:
        n_id = store.get("n_id")
        if n_id is None:
            raise ValueError(
                f"{node_type!r} store has {store.num_nodes} nodes but {rows.size(0)} {what} "
                "and no 'n_id' to select them"
            )
        rows = rows.index_select(0, n_id.to(rows.device))
    return rows
