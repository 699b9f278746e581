"""HAN: node-level attention within each meta-path, semantic attention across them.

``preprocess`` turns every meta-path of the dataset (``data.metapaths``) into one
edge type between target nodes, ``(target, "metapath_<i>", target)``, computed with
:func:`hetero_imb.data.graph.metapath_edge_index`. As in the HAN paper a node counts as
its own meta-path neighbour: pairs ``(i, i)`` from the meta-path are dropped and one
self-loop per target node is added instead (``self_loops=True``), which also gives
nodes without meta-path neighbours an embedding of their own.

The encoder then runs PyG ``HANConv`` layers on the target type only; its input is
the target's features (or a learnable table when it has none) mapped to ``hidden``
by :class:`~.inputs.NodeInput`. Other node types are never embedded, with one
exception: on a graph prepared by the ``bat`` augmenter
(:mod:`hetero_imb.balancing.augmenters.bat`), the virtual class nodes are embedded too
and their relation into the target type, ``(virtual_class, bat_from_class, target)``,
is one more semantic beside the meta-paths. Its edges are read from the graph at every
forward, so the links ``bat`` redraws before each step reach the model (a meta-path
through the virtual type would be a clique per class, computed once, and see neither).

Meta-path adjacency sizes on Freebase (3,492 movies; distinct pairs, no self pairs):
movie-actor-movie 251,210 (mean 72 neighbours per movie, max 450), movie-director-
movie 4,912, movie-writer-movie 7,214; computing them takes ~40 ms and HAN runs on
them comfortably, so ``max_metapath_neighbors`` defaults to ``None`` (keep all: the
exact product; refused with a message when a meta-path has more than
:data:`MAX_EXACT_WALKS` instances). For denser meta-paths set it: each node then keeps
at most that many meta-path neighbours per meta-path, sampled hop by hop while the path
is composed, over chunks of nodes, so the full product is never built
(:func:`hetero_imb.data.metapath.capped_metapath`; a ``torch.Generator`` seeded by the
model's seed; the self-loop is always kept). With a cap above every count the result
is the exact product. On the 10M-edge synthetic graph (item-tag-item: ~400 neighbours
per item, 5.9e8 instances) a cap of 20 takes ~1.5 min per meta-path and ~2 GB.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import HANConv

from ..data.graph import EdgeType, metapath_edge_index, target_type
from ..data.metapath import (
    cap_neighbors,  # noqa: F401  (re-exported: its old home)
    count_metapath_walks,
)
from ..params import ParamError, ParamSpec
from .base import COMMON_PARAMS, MODELS, Encoder, ModelSpec, with_defaults
from .inputs import NodeInput, check_settings, graph_metapaths

#: Meta-path instances above which HAN refuses the exact product (about 2e8 pairs of
#: int64 ids, plus the sparse product's own buffers, is several GB).
MAX_EXACT_WALKS = 200_000_000


def metapath_edge_types(data: HeteroData) -> list[EdgeType]:
    """``[(target, "metapath_0", target), ...]``: one edge type per meta-path of ``data``.

    Raises:
        ValueError: The graph has no meta-paths, or one does not start and end at the
            target type.
    """
    target = target_type(data)
    paths = graph_metapaths(data)
    if not paths:
        raise ValueError("graph has no 'metapaths'; HAN needs at least one meta-path")
    for i, path in enumerate(paths):
        if not path or path[0][0] != target or path[-1][2] != target:
            raise ValueError(
                f"meta-path {i} must start and end at the target type {target!r}, got {path}"
            )
    return [(target, f"metapath_{i}", target) for i in range(len(paths))]


#: The settings of ``"han"``: one HAN layer of 8 heads x 8 channels, attention dropout
#: 0.6 (HAN paper).
HAN_PARAMS: dict[str, ParamSpec] = {
    **with_defaults(COMMON_PARAMS, num_layers=1),
    "heads": ParamSpec("int", 8, "attention heads; must divide hidden", low=1),
    "attn_dropout": ParamSpec(
        "float", 0.6, "dropout on node-level attention coefficients", low=0.0, high=1.0,
        high_open=True,
    ),
    "max_metapath_neighbors": ParamSpec(
        "int", None, "cap on meta-path neighbours kept per node and meta-path, sampled while "
        "the path is composed (none: all, the exact product)",
        low=1,
    ),
    "self_loops": ParamSpec("bool", True, "add a self-loop per target node to every meta-path graph"),
}


class HANEncoder(Encoder):
    """HAN over the dataset's meta-paths (target nodes only).

    Args:
        data: The graph, with ``metapaths`` starting and ending at the target type.
        hidden: Width of the input map and of every HAN layer (``heads`` heads of
            ``hidden // heads`` channels).
        num_layers: Number of ``HANConv`` layers (the HAN paper uses 1).
        dropout: Dropout on each layer's input.
        heads: Attention heads; must divide ``hidden``.
        attn_dropout: Dropout on node-level attention coefficients.
        max_metapath_neighbors: Cap on meta-path neighbours kept per node and
            meta-path (``None``: all), see the module docstring.
        self_loops: Add one self-loop per target node to every meta-path graph.
        seed: Seeds the input layer and the neighbour cap's sampling.
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 1,
        dropout: float = 0.5,
        heads: int = 8,
        attn_dropout: float = 0.6,
        max_metapath_neighbors: int | None = None,
        self_loops: bool = True,
        seed: int | None = None,
    ):
        super().__init__()
        check_settings(
            "model 'han'", HAN_PARAMS, hidden=hidden, num_layers=num_layers, dropout=dropout,
            heads=heads, attn_dropout=attn_dropout, self_loops=self_loops,
            max_metapath_neighbors=max_metapath_neighbors,
        )
        if hidden % heads:
            raise ParamError(
                f"model 'han': hidden must be a multiple of heads ({heads}), got {hidden}"
            )
        self.dropout = float(dropout)
        self.target = target_type(data)
        self.edge_types = metapath_edge_types(data)
        self.metapaths = graph_metapaths(data)
        self.max_metapath_neighbors = max_metapath_neighbors
        self.self_loops = bool(self_loops)
        self.seed = 0 if seed is None else seed
        from ..balancing.augmenters.bat import VIRTUAL_TYPE, virtual_relations

        # bat's virtual class nodes: one more semantic, read live (module docstring)
        self.live_edge_types: list[EdgeType] = []
        node_types = [self.target]
        if VIRTUAL_TYPE in data.node_types:
            node_types.append(VIRTUAL_TYPE)
            self.live_edge_types.append(virtual_relations(self.target)[1])
        self.input = NodeInput(data, hidden, node_types=node_types, seed=seed)
        metadata = (node_types, self.edge_types + self.live_edge_types)
        self.convs = nn.ModuleList(
            HANConv(hidden, hidden, metadata, heads=heads, dropout=attn_dropout)
            for _ in range(num_layers)
        )
        self.out_channels = hidden

    def preprocess(self, data: HeteroData) -> HeteroData:
        """A shallow copy of ``data`` with one target-to-target edge type per meta-path."""
        data = copy.copy(data)
        n = int(data[self.target].num_nodes)
        generator = torch.Generator().manual_seed(self.seed)
        if self.max_metapath_neighbors is None:  # every path checked before any work
            for path in self.metapaths:
                self._check_exact_size(data, path)
        for path, edge_type in zip(self.metapaths, self.edge_types, strict=True):
            edge_index = metapath_edge_index(
                data, path, drop_self_loops=True, max_neighbors=self.max_metapath_neighbors,
                generator=generator,
            )
            if self.self_loops:
                loops = torch.arange(n).repeat(2, 1)
                edge_index = torch.cat([edge_index, loops], dim=1)
            data[edge_type].edge_index = edge_index
        return data

    @staticmethod
    def _check_exact_size(data: HeteroData, path: list[EdgeType]) -> None:
        """Refuse an exact meta-path product of more than :data:`MAX_EXACT_WALKS` walks."""
        counts = [data[path[0][0]].num_nodes] + [data[e[2]].num_nodes for e in path]
        walks = count_metapath_walks([data[e].edge_index for e in path], counts)
        if walks > MAX_EXACT_WALKS:
            name = "-".join([path[0][0]] + [e[2] for e in path])
            raise ValueError(
                f"model 'han': max_metapath_neighbors must be set for meta-path {name}, which "
                f"has {walks:.2e} instances (exact products stop at {MAX_EXACT_WALKS:.0e}); "
                "got none (try 10 or 20)"
            )

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        missing = [e for e in self.edge_types if e not in data.edge_types]
        if missing:
            raise RuntimeError(
                f"graph lacks the meta-path edge types {missing}; call "
                "encoder.preprocess(data) first"
            )
        x_dict = self.input(data)
        edge_index_dict = {e: data[e].edge_index for e in self.edge_types + self.live_edge_types}
        for conv in self.convs:
            x_dict = {
                t: F.dropout(x, p=self.dropout, training=self.training) for t, x in x_dict.items()
            }
            out = conv(x_dict, edge_index_dict)
            # only the target type receives messages; other types keep their input
            x_dict = {t: x if out.get(t) is None else out[t] for t, x in x_dict.items()}
        return x_dict[self.target]


def build_han(
    data: HeteroData,
    *,
    hidden: int,
    num_layers: int,
    dropout: float,
    seed: int,
    heads: int,
    attn_dropout: float,
    max_metapath_neighbors: int | None,
    self_loops: bool,
) -> HANEncoder:
    """Builder registered as ``"han"``."""
    return HANEncoder(
        data,
        hidden=hidden,
        num_layers=num_layers,
        dropout=dropout,
        heads=heads,
        attn_dropout=attn_dropout,
        max_metapath_neighbors=max_metapath_neighbors,
        self_loops=self_loops,
        seed=seed,
    )


_SUMMARY = "HAN: attention within each meta-path, then across meta-paths (8 heads x 8)"
MODELS.register("han", ModelSpec(builder=build_han, params=HAN_PARAMS, summary=_SUMMARY))
