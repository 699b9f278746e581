"""R-GCN: relational graph convolution over every relation of the graph.

Node types are mapped to ``hidden`` by :class:`~.inputs.NodeInput`, stacked into one
node set, and all relations merged into one ``edge_index`` with an ``edge_type``
vector (see :func:`~.homogeneous.homogeneous_projection`); each layer has one weight
per relation (mean over each relation's neighbours) plus a self weight.

Choice of implementation, by measurement (``benchmarks/rgcn_variants.py``): Freebase
(HeCo; 43,854 nodes, 6 relations, 151,034 edges), hidden 64, 2 layers, one
forward+backward+Adam step, 2 CPU threads, peak RSS above the loaded graph:

==========================  ==============  ============  ============  ==========
variant                     median s/epoch  CPU s/epoch   peak RSS MiB  over graph
==========================  ==============  ============  ============  ==========
RGCNConv, no bases          0.33            0.59          1,325         893
RGCNConv, 2 bases           0.35            0.64          1,294         861
RGCNConv, 4 bases           0.39            0.72          1,412         979
FastRGCNConv, no bases      8.6             15.6          7,908         7,476
FastRGCNConv, 4 bases       20.4            20.0          7,905         7,473
==========================  ==============  ============  ============  ==========

(RGCNConv: median of 10 timed epochs after 1 warm-up; FastRGCNConv: of 3. The
machine's 2 cores are shared, so single epochs can be several times slower; the
ordering was the same in every run.)

PyG's ``RGCNConv`` loops over relations (one ``[num_nodes, hidden]`` aggregate per
relation and layer, so memory grows with nodes x relations); ``FastRGCNConv``
gathers one ``[in, out]`` weight matrix per edge, which costs ``E * in * out`` floats
(~2.5 GB per layer here) and is 25-60x slower on CPU. Basis decomposition changes
neither time nor memory noticeably with 6 relations (the weights are tiny next to
the activations), so the default is ``RGCNConv`` without bases (``num_bases=None``);
set ``num_bases`` for graphs with many relations (HGB Freebase has 36), where it
regularises the per-relation weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import FastRGCNConv, RGCNConv

from ..graph import target_type
from .base import MODELS, Encoder, ModelSpec
from .homogeneous import homogeneous_projection
from .inputs import NodeInput, check_fraction, check_int

#: Accepted values of the ``implementation`` setting.
IMPLEMENTATIONS = {"rgcn": RGCNConv, "fast": FastRGCNConv}


class RGCNEncoder(Encoder):
    """Relational GCN layers with ReLU over all relations.

    Args:
        data: The graph; its edge types (in ``data.edge_types`` order) are the
            relations.
        hidden: Width of the node inputs and of every layer.
        num_layers: Number of relational convolutions.
        dropout: Dropout on each layer's input.
        num_bases: Basis decomposition with this many bases (``None``: a full weight
            per relation).
        implementation: ``"rgcn"`` (PyG ``RGCNConv``, loops over relations) or
            ``"fast"`` (``FastRGCNConv``, per-edge weights; much more memory).
        seed: Seeds the node input layer.
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        num_bases: int | None = None,
        implementation: str = "rgcn",
        seed: int | None = None,
    ):
        super().__init__()
        check_int("hidden", hidden)
        check_int("num_layers", num_layers)
        self.dropout = check_fraction("dropout", dropout)
        if num_bases is not None:
            check_int("num_bases", num_bases)
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"parameter 'implementation' must be one of {sorted(IMPLEMENTATIONS)}, "
                f"got {implementation!r}"
            )
        self.target = target_type(data)
        self.node_types = list(data.node_types)
        self.edge_types = list(data.edge_types)
        if not self.edge_types:
            raise ValueError("graph has no edge types; R-GCN needs at least one relation")
        self.input = NodeInput(data, hidden, seed=seed)
        conv_cls = IMPLEMENTATIONS[implementation]
        self.convs = nn.ModuleList(
            conv_cls(hidden, hidden, num_relations=len(self.edge_types), num_bases=num_bases)
            for _ in range(num_layers)
        )
        self.out_channels = hidden

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        offsets, _, edge_index, edge_type = homogeneous_projection(
            data, self.node_types, self.edge_types
        )
        inputs = self.input(data)
        x = torch.cat([inputs[t] for t in self.node_types], dim=0)
        edge_index, edge_type = edge_index.to(x.device), edge_type.to(x.device)
        for conv in self.convs:
            x = F.dropout(x, p=self.dropout, training=self.training)
            x = F.relu(conv(x, edge_index, edge_type))
        start = offsets[self.target]
        return x[start : start + int(data[self.target].num_nodes)]


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
    ModelSpec(
        builder=build_rgcn,
        defaults={"num_bases": None, "implementation": "rgcn"},
        summary=_SUMMARY,
    ),
    summary=_SUMMARY,
)
