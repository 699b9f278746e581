"""SeHGNN-style model (Yang et al., AAAI 2023): meta-path aggregation computed once,
then semantic fusion by a transformer layer, then an MLP.

Meta-paths: every relation walk from the target type of 1 to ``hops`` steps, plus the
dataset's own ``metapaths`` (e.g. HeCo's APCPA on DBLP), plus the target's own input
(the empty path). For a path ``t -> ... -> u`` the neighbour aggregate is the chain of
row-normalised (mean) adjacencies ``A_1 A_2 ... A_k`` applied to ``u``'s features:

* ``u`` has features ``x``: ``A_1 (A_2 (... (A_k x)))`` is computed **once** in
  :meth:`SeHGNNEncoder.preprocess` (scipy sparse products, right to left, never a
  meta-path adjacency) and stored per target node; training only reads it;
* ``u`` is featureless: the chain ``A_1, ..., A_k`` is kept factored (sparse
  matrices, never their product: a meta-path adjacency such as item-tag-item can be
  far denser than the graph) and applied to ``u``'s learnable embedding table in
  ``forward``, right to left: ``A_1[rows] (A_2 (... (A_k E)))`` (one sparse product
  per path and step; the same numbers as the product operator).

With ``label_hops = K > 0`` (SeHGNN's label aggregation) every path that returns to
the target type adds ``K`` more tokens: the **training** labels (one-hot; validation
and test labels are never read) propagated along it ``k = 1..K`` times,
``(P^k - diag(P^k)) Y_train`` with ``P`` the path's mean operator, so a node never
sees its own label. The training labels are
a buffer of the encoder (saved with its weights), taken from the ``train_mask`` of the
graph it is built on. On featureless graphs (Freebase, AMiner) these tokens carry most
of the signal (docs/benchmarks_hin.md).

Each path's aggregate is mapped to ``hidden`` by its own linear map (a "semantic
token"); a one-layer transformer over the tokens of each node (single-head attention
across meta-paths, residual with a learnable gate starting at 0, as SeHGNN) fuses
them; the concatenated tokens go through an MLP of ``num_layers`` layers. Per epoch
this costs a few dense products on target nodes only, and a mini-batch only needs
the rows of its seed nodes.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from ..data.graph import EdgeType, num_classes, select_rows, target_type
from ..params import ParamSpec
from .base import COMMON_PARAMS, MODELS, Encoder, ModelSpec, with_defaults
from .inputs import NodeInput, check_settings, graph_metapaths, is_sparse, scipy_features

SEHGNN_PARAMS: dict[str, ParamSpec] = {
    **with_defaults(COMMON_PARAMS, lr=0.005),
    "hops": ParamSpec("int", 2, "longest relation walk aggregated from the target type", low=1),
    "label_hops": ParamSpec(
        "int", 0, "training labels propagated 1..K times along each path back to the target "
        "(0: none)", low=0,
    ),
}


def relation_walks(data: HeteroData, start: str, hops: int) -> list[list[EdgeType]]:
    """Every walk of 1..``hops`` relations from ``start`` (in ``data.edge_types`` order).

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> len(relation_walks(make_synthetic(seed=0), "item", 2)) > 0
        True
    """
    walks: list[list[EdgeType]] = []
    frontier: list[list[EdgeType]] = [[]]
    for _ in range(hops):
        frontier = [
            path + [e] for path in frontier for e in data.edge_types
            if e[0] == (path[-1][2] if path else start)
        ]
        walks.extend(frontier)
    return walks


def mean_adjacency_scipy(data: HeteroData, edge_type: EdgeType) -> sp.csr_matrix:
    """Row-normalised ``[N_src, N_dst]`` adjacency of one relation (rows without edges: 0)."""
    src, _, dst = edge_type
    ei = data[edge_type].edge_index.cpu().numpy()
    shape = (int(data[src].num_nodes), int(data[dst].num_nodes))
    adj = sp.csr_matrix((np.ones(ei.shape[1], dtype=np.float32), (ei[0], ei[1])), shape=shape)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0).astype(np.float32)
    return sp.csr_matrix(sp.diags(inv) @ adj)


def _to_torch(matrix: sp.spmatrix | np.ndarray, dense_above: float = 0.1) -> Tensor:
    """A scipy matrix as a torch COO tensor, or dense when more than ``dense_above`` full."""
    if isinstance(matrix, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))
    coo = matrix.tocoo()
    if coo.nnz > dense_above * coo.shape[0] * coo.shape[1]:
        return torch.from_numpy(np.asarray(matrix.todense(), dtype=np.float32))
    indices = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32))
    return torch.sparse_coo_tensor(indices, values, size=coo.shape, check_invariants=True).coalesce()


def path_operator(adj, path: list[EdgeType]) -> sp.csr_matrix:
    """The mean operator ``A_1 A_2 ... A_k`` of a path (``adj``: relation -> matrix)."""
    value = adj(path[0])
    for edge_type in path[1:]:
        value = value @ adj(edge_type)
    return sp.csr_matrix(value)


def propagated_labels(operator: sp.spmatrix, train_labels: Tensor, n_classes: int) -> Tensor:
    """``(P - diag(P)) Y``: one-hot training labels (``-1``: not a training node, a zero
    row) propagated by a ``[N, N]`` operator ``P`` without each node's own label.

    Example:
        >>> P = sp.csr_matrix(np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]))
        >>> propagated_labels(P, torch.tensor([0, 1, -1]), 2).tolist()
        [[0.0, 0.5], [0.5, 0.0], [0.0, 0.5]]
    """
    y = train_labels.cpu().numpy()
    onehot = np.zeros((y.shape[0], n_classes), dtype=np.float32)
    rows = np.nonzero(y >= 0)[0]
    onehot[rows, y[rows]] = 1.0
    without_self = sp.csr_matrix(operator) - sp.diags(operator.diagonal())
    return torch.from_numpy(np.asarray(without_self @ onehot, dtype=np.float32))


def _rows(data: HeteroData, target: str, i: int) -> Tensor:
    """Rows of aggregate ``i`` for the target nodes of ``data`` (all, or its ``n_id``)."""
    aggregates = getattr(data, "sehgnn_aggregates", None)
    if aggregates is None:
        raise RuntimeError("graph has no 'sehgnn_aggregates'; call encoder.preprocess(data) first")
    n_id = data[target].get("n_id")
    return aggregates[i] if n_id is None else select_rows(aggregates[i], n_id)


class SemanticFusion(nn.Module):
    """Single-head self-attention across a node's meta-path tokens, gated residual.

    ``out = gamma * softmax(Q K^T) V + X`` on ``X [N, P, hidden]``; ``gamma`` starts at
    0, so training starts from the plain tokens (SeHGNN's transformer fusion).
    """

    def __init__(self, hidden: int):
        super().__init__()
        inner = max(hidden // 4, 1)
        self.query = nn.Linear(hidden, inner)
        self.key = nn.Linear(hidden, inner)
        self.value = nn.Linear(hidden, hidden)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        scores = self.query(x) @ self.key(x).transpose(1, 2)  # [N, P, P]
        attention = torch.softmax(scores, dim=-1)
        return self.gamma * (attention @ self.value(x)) + x


class SeHGNNEncoder(Encoder):
    """Precomputed meta-path aggregates, transformer fusion across them, then an MLP.

    Args:
        data: The graph.
        hidden: Width of every semantic token and of the MLP.
        num_layers: Layers of the MLP after fusion (at least 1).
        dropout: Dropout on tokens and between MLP layers.
        hops: Length of the relation walks from the target type used as meta-paths.
        seed: Seeds the embedding tables of featureless node types.
        label_hops: Add tokens of training labels propagated 1..``label_hops`` times
            along every path that returns to the target type (needs ``train_mask`` on
            ``data``; 0: none).

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> data = make_synthetic(seed=0)
        >>> encoder = SeHGNNEncoder(data, hidden=16, seed=0)
        >>> encoder(encoder.preprocess(data)).shape
        torch.Size([300, 16])
    """

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 2,
        dropout: float = 0.5,
        hops: int = 2,
        seed: int | None = None,
        label_hops: int = 0,
    ):
        super().__init__()
        check_settings("model 'sehgnn'", SEHGNN_PARAMS, hidden=hidden, num_layers=num_layers,
                       dropout=dropout, hops=hops, label_hops=label_hops)
        self.dropout = float(dropout)
        self.target = target_type(data)
        paths = relation_walks(data, self.target, hops)
        for path in graph_metapaths(data):
            if path and path[0][0] == self.target and path not in paths:
                paths.append(path)
        self.paths: list[list[EdgeType]] = [[]] + paths
        ends = [path[-1][2] if path else self.target for path in self.paths]
        featureless = sorted({u for u in ends if data[u].get("x") is None})
        self.tables = NodeInput(data, hidden, node_types=featureless, seed=seed) if featureless else None
        self.featured = [data[u].get("x") is not None for u in ends]
        self.ends = ends
        self.projections = nn.ModuleList(
            nn.Linear(int(data[u].x.size(-1)), hidden) if has_x else nn.Identity()
            for u, has_x in zip(ends, self.featured, strict=True)
        )
        self.label_paths = [(p, k) for p in paths if p[-1][2] == self.target
                            for k in range(1, label_hops + 1)]
        self.n_classes = num_classes(data)
        if self.label_paths:  # a graph without labels or masks (a reload): -1, then loaded
            store = data[self.target]
            y, train = store.get("y"), store.get("train_mask")
            known = None if y is None or train is None else train & (y >= 0)
            self.register_buffer("train_labels", torch.full((store.num_nodes,), -1) if known is None
                                 else torch.where(known, y, -1).long())
        self.label_projections = nn.ModuleList(
            nn.Linear(self.n_classes, hidden) for _ in self.label_paths
        )
        self.fusion = SemanticFusion(hidden)
        n_tokens = len(self.paths) + len(self.label_paths)
        layers: list[nn.Module] = [nn.Linear(hidden * n_tokens, hidden)]
        for _ in range(num_layers - 1):
            layers += [nn.PReLU(), nn.Dropout(self.dropout), nn.Linear(hidden, hidden)]
        self.mlp = nn.Sequential(*layers)
        self.out_channels = hidden

    def path_names(self) -> list[str]:
        """``"paper"``, ``"paper-author"``, ``"paper-author-paper"``, ... per token
        (label tokens: ``"labels^k:paper-author-paper"``)."""
        names = ["-".join([self.target] + [e[2] for e in path]) for path in self.paths]
        return names + [f"labels^{k}:" + "-".join([self.target] + [e[2] for e in path])
                        for path, k in self.label_paths]

    def preprocess(self, data: HeteroData) -> HeteroData:
        """A shallow copy of ``data`` holding every path's aggregate over all target nodes
        in the graph attribute ``sehgnn_aggregates`` (features, or the first sparse
        operator for featureless ends, whose later operators are in ``sehgnn_chains``;
        ``None`` for the target's own input). A graph attribute, not a
        node attribute: subgraphs keep it whole and :meth:`forward` takes the rows of
        their ``n_id``."""
        data = copy.copy(data)
        aggregates: list[Tensor | None] = [None] * len(self.paths)
        chains: list[list[Tensor]] = [[] for _ in self.paths]
        cache: dict[EdgeType, sp.csr_matrix] = {}

        def adj(edge_type: EdgeType) -> sp.csr_matrix:
            if edge_type not in cache:
                cache[edge_type] = mean_adjacency_scipy(data, edge_type)
            return cache[edge_type]

        for i, (path, end, has_x) in enumerate(zip(self.paths, self.ends, self.featured, strict=True)):
            if not path:
                continue  # the target's own input is read in forward
            if has_x:
                value = scipy_features(data[end].x)
                for edge_type in reversed(path):
                    value = adj(edge_type) @ value
            else:  # the operator stays factored: A_1 here, A_2..A_k in the chain
                value = adj(path[0])
                chains[i] = [_to_torch(adj(edge_type), dense_above=1.0) for edge_type in path[1:]]
            aggregates[i] = _to_torch(value)
        power: sp.csr_matrix | None = None
        for path, k in self.label_paths:
            operator = path_operator(adj, path)
            power = operator if k == 1 else sp.csr_matrix(power @ operator)
            aggregates.append(propagated_labels(power, self.train_labels, self.n_classes))
        data.sehgnn_aggregates = aggregates
        data.sehgnn_chains = chains
        return data

    def _token(self, data: HeteroData, i: int, tables: dict[str, Tensor] | None) -> Tensor:
        proj = self.projections[i]
        if not self.paths[i]:  # the target's own features or embedding
            if self.featured[i]:
                return NodeInput._project(proj, data[self.target].x)
            weight = tables[self.target]  # type: ignore[index]
            n_id = data[self.target].get("n_id")
            return weight if n_id is None else weight.index_select(0, n_id.to(weight.device))
        value = _rows(data, self.target, i)
        if self.featured[i]:
            return NodeInput._project(proj, value)
        table = tables[self.ends[i]]  # type: ignore[index]
        chains = getattr(data, "sehgnn_chains", None) or [[]] * len(self.paths)
        for operator in reversed(chains[i]):
            table = torch.sparse.mm(operator, table)  # over all nodes of the chain's types
        return torch.sparse.mm(value, table) if is_sparse(value) else value @ table

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        tables = None
        if self.tables is not None:  # whole tables: the operators index every node
            tables = {t: emb.weight for t, emb in self.tables.tables.items()}
        tokens = [self._token(data, i, tables) for i in range(len(self.paths))]
        for j, proj in enumerate(self.label_projections):
            tokens.append(proj(_rows(data, self.target, len(self.paths) + j).to(tokens[0].device)))
        tokens = torch.stack(tokens, 1)
        tokens = F.dropout(tokens, p=self.dropout, training=self.training)
        fused = self.fusion(tokens)
        return self.mlp(fused.flatten(1))


def build_sehgnn(
    data: HeteroData, *, hidden: int, num_layers: int, dropout: float, seed: int, hops: int,
    label_hops: int = 0,
) -> SeHGNNEncoder:
    """Builder registered as ``"sehgnn"``."""
    return SeHGNNEncoder(
        data, hidden=hidden, num_layers=num_layers, dropout=dropout, hops=hops, seed=seed,
        label_hops=label_hops,
    )


_SUMMARY = "SeHGNN-style: meta-path aggregates precomputed once, transformer fusion, MLP"
MODELS.register(
    "sehgnn",
    ModelSpec(builder=build_sehgnn, params=SEHGNN_PARAMS, summary=_SUMMARY,
              static_graph="its meta-path aggregates are computed once, before training"),
    summary=_SUMMARY,
)
