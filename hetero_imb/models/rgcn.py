"""R-GCN: relational graph convolution over every relation of the graph.

Node types are mapped to ``hidden`` by :class:`~.inputs.NodeInput`; each layer has
one weight per relation (mean over each relation's neighbours) plus a self weight
and a bias, as PyG's ``RGCNConv`` with mean aggregation.

Three implementations of the same layer (``implementation`` setting):

* ``"spmm"`` (default): the parameters of an ``RGCNConv``, applied per relation as
  ``A_r @ x_src @ W_r`` with ``A_r`` the row-normalised adjacency of relation ``r``
  as a sparse CSR matrix (:mod:`.sparse_adj`), built once per forward for all layers;
  node types stay separate blocks, so no merged edge list is needed;
* ``"rgcn"``: PyG's ``RGCNConv`` on the homogeneous projection (all relations merged
  into one ``edge_index`` with an ``edge_type`` vector); it gathers and scatters one
  message per edge and relation;
* ``"fast"``: PyG's ``FastRGCNConv``, which gathers one weight matrix per edge.

On a sampled subgraph (mini-batches; nodes ordered by hop with ``num_sampled_nodes``,
see :mod:`hetero_imb.training.sampling`), ``"spmm"`` computes layer ``l`` of ``L`` only
for the nodes within ``L - l`` hops of the seeds, as PyG's ``trim_to_layer`` does, and
returns the seeds' rows: the last layer runs on the seeds alone, and the outermost
nodes only feed their messages in (the seeds' embeddings are unchanged; tested).

Dropout acts on each layer's input. In layer 0 a node's own input (the root term) is
its projected input (embedding row, or features mapped to ``hidden``), dropped out.
What it sends to its neighbours is the same tensor, except for a type with **dense
features no wider than** ``hidden``: such a type sends its raw features, dropped out
by a separate draw, before the projection. That placement is what lets ``"spmm"``
average those features over each relation and project the destinations' rows only
(``mean_j (W x_j + b) = W mean_j x_j + b``; ``aggregate_first``, tested equal to
projecting first). On a sampled subgraph the outermost hop only feeds layer 0's
messages, so its nodes — most of a batch: ~152k items two hops out of 4,096 seeds
on the 10M-edge synthetic graph — then cost a feature gather and a sparse product,
with no projection, no ``hidden``-wide dropout mask and no backward pass
(``docs/benchmarks.md``). A graph without such a type (featureless HeCo Freebase,
Facebook's 128 features) gives the same values as before this rule, seed for seed.
Dropping the raw features of a node's own input too cost accuracy (Facebook's 128
features: 1.5–2.3 macro-F1 points over 15 case-study runs; on a test graph whose
labels depend on a node's own 8 features, drama F1 fell to 0.68, under the test's
0.7 floor), so the own input keeps its dropout after the projection.

``"spmm"`` and ``"rgcn"`` compute the same function with the same parameters (tested
to float rounding); a model trained with one can be evaluated with the other.

Choice by measurement (``benchmarks/rgcn_variants.py``): Freebase (HeCo; 43,854
nodes, 6 relations, 151,034 edges), hidden 64, 2 layers, one forward + backward +
Adam step, 2 CPU threads, peak RSS above the loaded graph; ``docs/benchmarks.md``
has the full table. ``RGCNConv`` took 0.33 s/epoch and ~0.9 GB; ``FastRGCNConv`` 8.6
s/epoch and ~7.5 GB (one ``[in, out]`` weight per edge is ~2.5 GB per layer here);
the sparse product is faster than both. Basis decomposition changes neither time
nor memory noticeably with 6 relations, so the default is no bases
(``num_bases=None``); set ``num_bases`` for graphs with many relations (HGB Freebase
has 36), where it regularises the per-relation weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import FastRGCNConv, RGCNConv

from ..data.graph import target_type
from ..params import ParamSpec
from .base import COMMON_PARAMS, MODELS, Encoder, ModelSpec
from .homogeneous import homogeneous_projection
from .inputs import NodeInput, check_settings, is_sparse
from .sparse_adj import mean_adjacency

#: Accepted values of the ``implementation`` setting and the PyG layer holding the
#: parameters of each (``"spmm"`` uses ``RGCNConv``'s parameters, not its forward).
IMPLEMENTATIONS = {"spmm": RGCNConv, "rgcn": RGCNConv, "fast": FastRGCNConv}

#: The settings of ``"rgcn"``.
RGCN_PARAMS: dict[str, ParamSpec] = {
    **COMMON_PARAMS,
    "num_bases": ParamSpec(
        "int", None, "basis decomposition with this many bases (none: a weight per relation)",
        low=1,
    ),
    "implementation": ParamSpec(
        "str", "spmm", "sparse products per relation, PyG RGCNConv or FastRGCNConv",
        choices=tuple(IMPLEMENTATIONS),
    ),
}


class RGCNEncoder(Encoder):
    """Relational GCN layers with ReLU over all relations.

    Args:
        data: The graph; its edge types (in ``data.edge_types`` order) are the
            relations.
        hidden: Width of the node inputs and of every layer.
        num_layers: Number of relational convolutions.
        dropout: Dropout on each layer's input (layer 0: on the projected input; a
            type with dense features no wider than ``hidden`` sends its neighbours its
            raw features, dropped out separately; see the module docstring).
        num_bases: Basis decomposition with this many bases (``None``: a full weight
            per relation).
        implementation: ``"spmm"`` (sparse products per relation, the default),
            ``"rgcn"`` (PyG ``RGCNConv`` over the merged edge list) or ``"fast"``
            (``FastRGCNConv``, per-edge weights; much more memory).
        seed: Seeds the node input layer.

    Attributes:
        aggregate_first: ``True`` (default): layer 0 averages the raw features a type
            with dense features no wider than ``hidden`` sends over each relation
            before projecting them; ``False`` projects every source row first. Only
            the order of the linear operations changes (tests compare both).
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        num_bases: int | None = None,
        implementation: str = "spmm",
        seed: int | None = None,
    ):
        super().__init__()
        check_settings(
            "model 'rgcn'", RGCN_PARAMS, hidden=hidden, num_layers=num_layers, dropout=dropout,
            num_bases=num_bases, implementation=implementation,
        )
        self.dropout = float(dropout)
        self.target = target_type(data)
        self.node_types = list(data.node_types)
        self.edge_types = list(data.edge_types)
        if not self.edge_types:
            raise ValueError("graph has no edge types; R-GCN needs at least one relation")
        self.implementation = implementation
        self.input = NodeInput(data, hidden, seed=seed)
        conv_cls = IMPLEMENTATIONS[implementation]
        self.convs = nn.ModuleList(
            conv_cls(hidden, hidden, num_relations=len(self.edge_types), num_bases=num_bases)
            for _ in range(num_layers)
        )
        self.out_channels = hidden
        self.aggregate_first = True

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        if self.implementation == "spmm":
            return self._forward_spmm(data)
        offsets, _, edge_index, edge_type = homogeneous_projection(
            data, self.node_types, self.edge_types
        )
        sources, roots, raw_types = self._layer0_inputs(data, None)
        x_src = torch.cat([self.input.project(t, sources[t]) if t in raw_types else sources[t]
                           for t in self.node_types], dim=0)
        x = torch.cat([roots[t] for t in self.node_types], dim=0)
        edge_index, edge_type = edge_index.to(x.device), edge_type.to(x.device)
        for layer, conv in enumerate(self.convs):
            if layer:  # layer 0's inputs were dropped out by _layer0_inputs
                x = F.dropout(x, p=self.dropout, training=self.training)
            x = F.relu(conv((x_src, x) if layer == 0 else x, edge_index, edge_type))
        start = offsets[self.target]
        return x[start : start + int(data[self.target].num_nodes)]

    def _layer0_inputs(
        self, data: HeteroData, root_rows: dict[str, int] | None
    ) -> tuple[dict[str, Tensor], dict[str, Tensor], set[str]]:
        """Layer 0's dropped-out inputs: what each type sends (``sources``), what each
        keeps for itself (``roots``, the first ``root_rows[t]`` rows, or all), and the
        types whose sources are raw features (``raw_types``).

        Every type's own input is its projected input, dropped out. A type with dense
        features no wider than ``hidden`` sends its raw features, dropped out by a
        separate draw and unprojected; every other type sends its own input.
        """
        sources, roots, raw_types = {}, {}, set()
        for t, h in self.input.raw(data).items():
            narrow = t in self.input.linears and not is_sparse(h) and h.size(-1) <= self.out_channels
            if narrow:
                own = h if root_rows is None else h[: root_rows[t]]
                roots[t] = F.dropout(self.input.project(t, own), p=self.dropout,
                                     training=self.training)
                sources[t] = F.dropout(h, p=self.dropout, training=self.training)
                raw_types.add(t)
            else:
                sources[t] = F.dropout(self.input.project(t, h), p=self.dropout,
                                       training=self.training)
                roots[t] = sources[t]
        return sources, roots, raw_types

    def _forward_spmm(self, data: HeteroData) -> Tensor:
        keep = layer_rows(data, len(self.convs))
        sources, roots, raw_types = self._layer0_inputs(data, keep[1] if keep else None)
        device, dtype = roots[self.target].device, self.convs[0].root.dtype
        present = [(r, et) for r, et in enumerate(self.edge_types) if et in set(data.edge_types)]
        adjacency = None if keep else self._adjacency(data, present, None, None, device, dtype)
        xs: dict[str, Tensor] = {}
        for layer, conv in enumerate(self.convs):
            rows = keep[layer + 1] if keep else None
            if keep:  # sampled subgraph: layer l only for the nodes within L - l hops
                adjacency = self._adjacency(data, present, keep[layer], rows, device, dtype)
            weight = conv.weight
            if conv.num_bases is not None:
                weight = (conv.comp @ weight.view(conv.num_bases, -1)).view(
                    conv.num_relations, conv.in_channels_l, conv.out_channels
                )
            if layer == 0:
                out = self._first_layer(sources, roots, raw_types, adjacency, conv, weight, rows)
            else:
                xs = {t: F.dropout(h if not keep else h[: keep[layer][t]], p=self.dropout,
                                   training=self.training) for t, h in xs.items()}
                out = {t: (h if rows is None else h[: rows[t]]) @ conv.root + conv.bias
                       for t, h in xs.items()}
                for r, src, dst, adj in adjacency:
                    out[dst] = out[dst] + torch.sparse.mm(adj, xs[src]) @ weight[r]
            xs = {t: F.relu(h) for t, h in out.items()}
        return xs[self.target]

    def _first_layer(self, sources, roots, raw_types, adjacency, conv, weight,
                     rows) -> dict[str, Tensor]:
        """Layer 0 from :meth:`_layer0_inputs`, before its ReLU.

        A type that sends raw features (``raw_types``) is averaged first over each
        relation (``aggregate_first``): ``mean_j (W x_j + b) = W mean_j x_j + b`` for a
        destination with neighbours, so on a sampled subgraph the outermost hop's nodes
        cost a feature gather and a sparse product, never a projection.
        """
        out = {t: (h if rows is None else h[: rows[t]]) @ conv.root + conv.bias
               for t, h in roots.items()}
        for r, src, dst, adj in adjacency:
            if src in raw_types and self.aggregate_first:
                linear = self.input.linears[src]
                mean = torch.sparse.mm(adj, sources[src])
                has_edges = (adj.crow_indices().diff() > 0).unsqueeze(1).to(mean.dtype)
                message = mean @ linear.weight.t() + has_edges * linear.bias
            else:
                h = sources[src]
                message = torch.sparse.mm(adj, self.input.project(src, h) if src in raw_types else h)
            out[dst] = out[dst] + message @ weight[r]
        return out

    @staticmethod
    def _adjacency(data, present, src_rows, dst_rows, device, dtype):
        """``(relation, src, dst, A)`` per present relation; with row counts, only the
        edges into the first ``dst_rows[dst]`` nodes (all of them come from the first
        ``src_rows[src]``), as a ``[dst_rows, src_rows]`` matrix."""
        out = []
        for r, (src, rel, dst) in present:
            edge_index = data[(src, rel, dst)].edge_index.to(device)
            n_src, n_dst = int(data[src].num_nodes), int(data[dst].num_nodes)
            if dst_rows is not None:
                n_src, n_dst = src_rows[src], dst_rows[dst]
                edge_index = edge_index[:, edge_index[1] < n_dst]
            out.append((r, src, dst, mean_adjacency(edge_index, n_src, n_dst, dtype=dtype)))
        return out


def layer_rows(data: HeteroData, num_layers: int) -> list[dict[str, int]] | None:
    """Rows each layer needs on a sampled subgraph, or ``None`` on a full graph.

    Entry ``l`` (``0..num_layers``) maps every node type to the number of its nodes
    within ``num_layers - l`` hops of the seeds: the input of layer ``l`` (entry 0:
    every node) and the output of layer ``l - 1``. Reads ``num_sampled_nodes`` (nodes
    per hop, ordered by hop; see :mod:`hetero_imb.training.sampling`); ``None`` when a
    node type lacks it.

    Example:
        >>> data = HeteroData()
        >>> data["paper"].num_nodes = 7
        >>> data["paper"].num_sampled_nodes = [2, 3, 2]  # 2 seeds, 3 at hop 1, 2 at hop 2
        >>> layer_rows(data, 2)
        [{'paper': 7}, {'paper': 5}, {'paper': 2}]
    """
    counts = {t: data[t].get("num_sampled_nodes") for t in data.node_types}
    if any(c is None for c in counts.values()):
        return None
    return [
        {t: int(sum(c[: num_layers - layer + 1])) for t, c in counts.items()}
        for layer in range(num_layers + 1)
    ]


def build_rgcn(
    data: HeteroData,
    *,
    hidden: int,
    num_layers: int,
    dropout: float,
    seed: int,
    num_bases: int | None,
    implementation: str,
) -> RGCNEncoder:
    """Builder registered as ``"rgcn"``."""
    return RGCNEncoder(
        data,
        hidden=hidden,
        num_layers=num_layers,
        dropout=dropout,
        num_bases=num_bases,
        implementation=implementation,
        seed=seed,
    )


_SUMMARY = "R-GCN over all relations (one weight per relation, mean aggregation)"
MODELS.register(
    "rgcn",
    ModelSpec(builder=build_rgcn, params=RGCN_PARAMS, summary=_SUMMARY),
    summary=_SUMMARY,
)
