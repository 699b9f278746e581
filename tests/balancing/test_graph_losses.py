"""Oracles and effects of the graph-native losses ``ldam``, ``tam`` and ``renode``.

Oracles: each method's defining quantity on a tiny graph, computed here independently
(plain Python loops / a dense matrix inverse) and compared with the module's.
Effects: on a seeded synthetic heterograph with a learnable minority class, each
method raises the minority's test recall over plain cross-entropy.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData

from hetero_imb.balancing.losses import build_loss
from hetero_imb.balancing.renode import renode_weights
from hetero_imb.balancing.topology import ppr_propagate, target_adjacency
from hetero_imb.data.datasets.synthetic import make_synthetic
from hetero_imb.data.graph import class_counts, split_mask
from hetero_imb.data.splits import stratified_split
from hetero_imb.models import build_model
from hetero_imb.params import ParamError
from hetero_imb.training.engine import fit


def _path_graph() -> HeteroData:
    """Target 'a': 0-1-2-3 through shared 'b' nodes (meta-path a-b-a), 4-0 directly."""
    data = HeteroData()
    data["a"].num_nodes = 5
    data["a"].y = torch.tensor([0, 0, 1, 1, 0])
    data["b"].num_nodes = 3
    ab = torch.tensor([[0, 1, 1, 2, 2, 3], [0, 0, 1, 1, 2, 2]])
    data["a", "to", "b"].edge_index = ab
    data["b", "rev_to", "a"].edge_index = ab.flip(0)
    data["a", "link", "a"].edge_index = torch.tensor([[4], [0]])
    data.target_node_type = "a"
    data.class_names = ["x", "y"]
    data.metapaths = [[("a", "to", "b"), ("b", "rev_to", "a")]]
    return data


def test_target_adjacency_is_the_union_of_metapaths_and_direct_relations():
    adj = target_adjacency(_path_graph()).toarray()
    expected = np.zeros((5, 5))
    for i, j in [(0, 1), (1, 2), (2, 3), (0, 4)]:
        expected[i, j] = expected[j, i] = 1
    np.testing.assert_array_equal(adj, expected)


def test_target_adjacency_refuses_a_graph_without_target_neighbours():
    data = _path_graph()
    del data["a", "link", "a"]
    data.metapaths = []
    with pytest.raises(ValueError, match="no meta-path and no 'a'-to-'a' relation"):
        target_adjacency(data)


# ---------------------------------------------------------------- LDAM


def test_ldam_margins_loss_and_drw_by_hand():
    loss = build_loss("ldam", class_counts=[16, 1], max_margin=0.5, s=2.0, drw_epoch=3,
                      drw_beta=0.5)
    assert loss.margins.tolist() == pytest.approx([0.25, 0.5])  # 0.5 * (1/16)^(1/4), 0.5
    z = torch.tensor([[1.0, 0.0], [0.2, 0.4]])
    y = torch.tensor([0, 1])
    # node 0: s * (z - 0.25 e_0) = [1.5, 0]; node 1: s * (z - 0.5 e_1) = [0.4, -0.2]
    l0 = -1.5 + math.log(math.exp(1.5) + 1)
    l1 = 0.2 + math.log(math.exp(0.4) + math.exp(-0.2))
    assert float(loss(z, y)) == pytest.approx((l0 + l1) / 2, rel=1e-6)
    loss.on_epoch(1)  # epoch 2 next: DRW not yet
    assert float(loss(z, y)) == pytest.approx((l0 + l1) / 2, rel=1e-6)
    loss.on_epoch(2)  # epoch 3 next: DRW on, effective-number weights (beta 0.5)
    w = [(1 - 0.5) / (1 - 0.5**16), (1 - 0.5) / (1 - 0.5)]
    w = [2 * v / sum(w) for v in w]
    assert float(loss(z, y)) == pytest.approx((w[0] * l0 + w[1] * l1) / sum(w), rel=1e-6)


# ---------------------------------------------------------------- ReNode


def _renode_by_hand(adj, train, y, alpha):
    """Dense Pi, class influences and Totoro with explicit loops (the paper's formulas)."""
    n = adj.shape[0]
    a_hat = adj + np.eye(n)
    d = np.diag(1 / np.sqrt(a_hat.sum(1)))
    pi = alpha * np.linalg.inv(np.eye(n) - (1 - alpha) * d @ a_hat @ d)
    classes = sorted(set(y))
    influence = {c: [np.mean([pi[i, x] for i, yi in zip(train, y, strict=True) if yi == c]) for x in range(n)]
                 for c in classes}
    totoro = []
    for v, yv in zip(train, y, strict=True):
        others = [c for c in classes if c != yv]
        t = sum(pi[v, x] * (np.mean([influence[c][x] for c in others]) - influence[yv][x])
                for x in range(n))
        totoro.append(t)
    order = sorted(range(len(train)), key=lambda k: (totoro[k], k))
    weight = [0.0] * len(train)
    for rank, k in enumerate(order):
        weight[k] = 0.5 + 0.5 * (1.5 - 0.5) * (1 + math.cos(math.pi * rank / (len(train) - 1)))
    return pi, weight


def test_renode_weights_match_the_dense_formula():
    data = _path_graph()
    train = torch.tensor([0, 1, 3, 4])
    y = data["a"].y[train]
    loss = build_loss("renode", class_counts=[3, 1]).fit(data, train, y)
    adj = target_adjacency(data).toarray()
    pi, weight = _renode_by_hand(adj, train.tolist(), y.tolist(), 0.15)
    np.testing.assert_allclose(ppr_propagate(target_adjacency(data), np.eye(5)), pi, atol=1e-7)
    np.testing.assert_allclose(loss.node_weight[train].numpy(), weight, atol=1e-6)
    # ranks 0..3 → cosine weights 1.5, 1.25, 0.75, 0.5 (a permutation of them)
    assert sorted(weight) == pytest.approx([0.5, 0.75, 1.25, 1.5])
    assert loss.node_weight[2] == 1.0  # not a training node
    # the loss is the ReNode-weighted mean of the per-node cross-entropy
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    ce = F.cross_entropy(z, y, reduction="none")
    w = torch.tensor(weight, dtype=torch.float)
    assert float(loss(z, y, index=train)) == pytest.approx(float((w * ce).sum() / w.sum()))
    # a synthetic row (index -1) weighs 1
    assert float(loss(z[:1], y[:1], index=torch.tensor([-1]))) == pytest.approx(float(ce[0]))


def test_renode_weight_ranks_by_hand():
    assert renode_weights(torch.tensor([5.0, 1.0, 3.0]), 0.0, 2.0).tolist() == \
        pytest.approx([0.0, 2.0, 1.0])


def test_graph_losses_refuse_use_before_fit_and_without_index():
    loss = build_loss("renode", class_counts=[3, 1])
    with pytest.raises(RuntimeError, match="call loss.fit"):
        loss(torch.zeros(1, 2), torch.tensor([0]), index=torch.tensor([0]))
    loss.fit(_path_graph(), torch.tensor([0, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="index must be a tensor"):
        loss(torch.zeros(1, 2), torch.tensor([0]))
    with pytest.raises(ParamError, match="base must be one of"):
        build_loss("tam", class_counts=[3, 1], base="crl")


# ---------------------------------------------------------------- TAM


def _jsd(p, q):
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return 0.5 * sum(a * math.log(a / c) + b * math.log(b / c) for a, b, c in zip(p, q, m, strict=True))


def _tam_by_hand(adj, proba, train, y, counts, alpha, beta, phi):
    n, k = proba.shape
    r = [0.4 * c / sum(counts) + 0.6 for c in counts]
    t = [phi * (ri + 1 - max(r)) for ri in r]
    q = []
    for v in range(n):
        e = [math.exp(t[c] * math.log(proba[v, c])) for c in range(k)]
        q.append([x / sum(e) for x in e])
    for v, yv in zip(train, y, strict=True):
        q[v] = [1.0 if c == yv else 0.0 for c in range(k)]
    nld = {}
    for v in train:
        group = [v] + [u for u in range(n) if adj[v, u]]
        nld[v] = [sum(q[u][c] for u in group) / len(group) for c in range(k)]
    pbar = []  # class averages of the raw NLDs; both are clamped at 1e-6 afterwards
    for c in range(k):
        members = [v for v, yv in zip(train, y, strict=True) if yv == c]
        pbar.append([max(sum(nld[v][j] for v in members) / len(members), 1e-6) for j in range(k)])
    nld = {v: [max(x, 1e-6) for x in row] for v, row in nld.items()}
    margin = {}
    for v, yv in zip(train, y, strict=True):
        row = []
        for c in range(k):
            if c == yv:
                row.append(0.0)
                continue
            acm = min(1.0, nld[v][yv] / pbar[yv][yv] * pbar[yv][c] / nld[v][c])
            pair = max(_jsd(pbar[yv], pbar[c]), 1e-6)
            adm = (_jsd(nld[v], pbar[yv]) ** 2 + pair**2 - _jsd(nld[v], pbar[c]) ** 2) / (2 * pair**2)
            row.append(alpha * math.log(acm) - beta * adm)
        margin[v] = row
    return margin


def test_tam_margins_match_the_formulas_by_hand():
    data = _path_graph()
    train = torch.tensor([0, 1, 3, 4])
    y = data["a"].y[train]
    proba = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.5, 0.5]])
    loss = build_loss("tam", class_counts=[3, 1], alpha=2.0, beta=0.7, phi=1.3, warmup=1)
    loss.fit(data, train, y)
    loss.on_epoch(0, proba)  # still warming up: no margin
    assert not loss.margin.any()
    loss.on_epoch(1, proba)
    adj = target_adjacency(data).toarray()
    expected = _tam_by_hand(adj, proba.double(), train.tolist(), y.tolist(), [3, 1], 2.0, 0.7, 1.3)
    for v in train.tolist():
        assert loss.margin[v].tolist() == pytest.approx(expected[v], abs=1e-5)
    assert not loss.margin[2].any()
    # node 1 (class 0, neighbours 0 and 2 where 2 leans to class 1) gets a lowered
    # class-1 logit: its connectivity to class 1 is anomalously high (ACM < 1)
    assert expected[1][1] < 0
    z = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    shifted = z + loss.margin[train]
    assert float(loss(z, y, index=train)) == pytest.approx(float(F.cross_entropy(shifted, y)))


# ---------------------------------------------------------------- effects


@pytest.fixture(scope="module")
def minority_graph() -> HeteroData:
    """800 items, classes 60/30/5 %, homophily 0.6: plain ce never predicts class 2."""
    data = make_synthetic(num_items=800, class_weights=(0.6, 0.3, 0.05), homophily=0.6, seed=0)
    return stratified_split(data, train=0.5, val=0.25, test=0.25, seed=0)


def _minority_recall(data: HeteroData, loss: str, seed: int, **params) -> float:
    net = build_model("rgcn", data, seed=seed, hidden=16)
    counts = class_counts(data, split_mask(data, "train"))
    out = fit(net, data, loss=build_loss(loss, class_counts=counts, **params), epochs=60,
              patience=0, progress=False, seed=seed)
    y = data["item"].y
    rows = split_mask(data, "test") & (y == 2)
    return float((out.proba[rows].argmax(1) == 2).float().mean())


@pytest.mark.parametrize(
    "loss,params",
    [
        ("ldam", {"drw_epoch": 20}),
        ("tam", {"base": "balanced-softmax"}),
        ("renode", {"w_min": 0.2, "w_max": 1.8}),
    ],
)
def test_method_raises_minority_recall_over_ce(minority_graph, loss, params):
    seed = 1
    base = _minority_recall(minority_graph, "ce", seed)
    assert _minority_recall(minority_graph, loss, seed, **params) > base


# ---------------------------------------------------------------- generic checks


@pytest.mark.parametrize("params", [{}, {"base": "ldam"}, {"base": "weighted"}])
@pytest.mark.parametrize("name", ["tam", "renode"])
def test_graph_loss_finite_differentiable_deterministic_and_empty(name, params):
    data = make_synthetic(seed=0)
    idx = torch.arange(0, 300, 2)
    y = data["item"].y[idx]
    loss = build_loss(name, class_counts=torch.bincount(y, minlength=4).tolist(),
                      **({"warmup": 0} if name == "tam" else {}), **params).fit(data, idx, y)
    loss.on_epoch(1, torch.softmax(torch.randn(300, 4, generator=torch.Generator().manual_seed(1)), 1))
    logits = (torch.randn(len(idx), 4, generator=torch.Generator().manual_seed(0)) * 1e3)
    logits.requires_grad_(True)
    value = loss(logits, y, index=idx, sample_weight=torch.rand(len(idx)))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0
    again = loss(logits, y, index=idx, sample_weight=None)
    assert torch.equal(again.detach(), loss(logits, y, index=idx).detach())
    empty = torch.zeros(0, 4, requires_grad=True)
    out = loss(empty, torch.zeros(0, dtype=torch.long), index=torch.zeros(0, dtype=torch.long))
    out.backward()
    assert out.item() == 0.0
