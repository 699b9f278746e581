"""HGT: the Heterogeneous Graph Transformer (Hu et al., WWW 2020) on PyG's ``HGTConv``.

Every node type is mapped to ``hidden`` by :class:`~.inputs.NodeInput` (features
through a linear map, featureless types through a learnable table); then
``num_layers`` ``HGTConv`` layers run over all relations of the graph: per-type
key/query/value maps, per-relation attention and message matrices with a learnable
relation prior, ``heads`` attention heads, GELU, and a gated skip connection to
the layer's input (all inside ``HGTConv``). The target type's output is the
embedding. Works full-batch and on sampled subgraphs (mini-batches): a node type
that receives no message in a subgraph keeps its input.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import HGTConv

from ..data.graph import target_type
from ..params import ParamError, ParamSpec
from .base import COMMON_PARAMS, MODELS, Encoder, ModelSpec, with_defaults
from .inputs import NodeInput, check_settings

HGT_PARAMS: dict[str, ParamSpec] = {
    **with_defaults(COMMON_PARAMS, lr=0.005),
    "heads": ParamSpec("int", 4, "attention heads; must divide hidden", low=1),
}


class HGTEncoder(Encoder):
    """HGT layers over every relation of the graph.

    Args:
        data: The graph (its node and edge types fix the layers' metadata).
        hidden: Width of the inputs and of every layer; a multiple of ``heads``.
        num_layers: Number of ``HGTConv`` layers.
        dropout: Dropout on each layer's input.
        heads: Attention heads.
        seed: Seeds the node input layer.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> data = make_synthetic(seed=0)
        >>> HGTEncoder(data, hidden=16, heads=2, seed=0)(data).shape
        torch.Size([300, 16])
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        heads: int = 4,
        seed: int | None = None,
    ):
        super().__init__()
        check_settings("model 'hgt'", HGT_PARAMS, hidden=hidden, num_layers=num_layers,
                       dropout=dropout, heads=heads)
        if hidden % heads:
            raise ParamError(
                f"model 'hgt': hidden must be a multiple of heads ({heads}), got {hidden}"
            )
        self.dropout = float(dropout)
        self.target = target_type(data)
        self.edge_types = list(data.edge_types)
        if not self.edge_types:
            raise ValueError("graph has no edge types; HGT needs at least one relation")
        self.input = NodeInput(data, hidden, seed=seed)
        metadata = (list(data.node_types), self.edge_types)
        self.convs = nn.ModuleList(
            HGTConv(hidden, hidden, metadata, heads=heads) for _ in range(num_layers)
        )
        self.out_channels = hidden

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        xs = self.input(data)
        present = set(data.edge_types)
        edges = {e: data[e].edge_index for e in self.edge_types if e in present}
        for conv in self.convs:
            xs = {t: F.dropout(h, p=self.dropout, training=self.training) for t, h in xs.items()}
            out = conv(xs, edges)
            xs = {t: out[t] if out.get(t) is not None else h for t, h in xs.items()}
        return xs[self.target]


def build_hgt(
    data: HeteroData, *, hidden: int, num_layers: int, dropout: float, seed: int, heads: int
) -> HGTEncoder:
    """Builder registered as ``"hgt"``."""
    return HGTEncoder(
        data, hidden=hidden, num_layers=num_layers, dropout=dropout, heads=heads, seed=seed
    )


_SUMMARY = "HGT: heterogeneous graph transformer over all relations (PyG HGTConv, 4 heads)"
MODELS.register(
    "hgt",
    ModelSpec(builder=build_hgt, params=HGT_PARAMS, summary=_SUMMARY),
    summary=_SUMMARY,
)
