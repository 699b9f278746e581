"""Multi-label losses: each against a value computed by hand on a 2 x 3 example."""

from __future__ import annotations

import math

import pytest
import torch

from hetero_imb.balancing.losses import LOSSES, build_loss
from hetero_imb.balancing.losses.multilabel import (
    build_multilabel_loss,
    is_multilabel_loss,
    multilabel_losses,
)
from hetero_imb.params import ParamError

X = [[2.0, -1.0, 0.5], [-0.5, 1.5, -2.0]]
Y = [[1, 0, 0], [0, 1, 1]]
COUNTS, N = [6, 3, 1], 8


def _sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def _bce(x: float, y: int) -> float:
    p = _sig(x)
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def _mean(term) -> float:
    return sum(term(X[i][c], Y[i][c], c, i) for i in range(2) for c in range(3)) / 6


def _weighted(x, y, c, i):
    w = (N - COUNTS[c]) / COUNTS[c]
    p = _sig(x)
    return -(w * y * math.log(p) + (1 - y) * math.log(1 - p))


def _focal(x, y, c, i, g=2.0):
    p = _sig(x)
    return -(y * (1 - p) ** g * math.log(p) + (1 - y) * p**g * math.log(1 - p))


def _margin(x, y, c, i):
    margin = COUNTS[c] ** -0.25 / min(COUNTS) ** -0.25  # the rarest label gets max_margin 1
    return _bce(x - y * margin, y)


def _asl(x, y, c, i, gn=4.0, gp=1.0, clip=0.05):
    p = _sig(x)
    if y:
        return -((1 - p) ** gp) * math.log(p)
    pm = max(p - clip, 0.0)
    return -(pm**gn) * math.log(1 - pm)


def _db(x, y, c, i, a=0.1, b=10.0, mu=0.2, lam=2.0, k=0.05):
    repeat = sum(1 / COUNTS[j] for j in range(3) if Y[i][j])
    weight = _sig(b * ((1 / COUNTS[c]) / repeat - mu)) + a
    z = x - math.log(N / COUNTS[c] - 1) * k / lam
    return weight * _bce(z, 1) if y else weight / lam * _bce(lam * z, 0)


CASES = [
    ("bce", lambda x, y, c, i: _bce(x, y), 0.702780825991189),
    ("weighted-bce", _weighted, 2.8379849778052484),
    ("focal-bce", _focal, 0.354371289678101),
    ("margin-bce", _margin, 0.9047137198500176),
    ("asl", _asl, 0.3369421774944943),
    ("db", _db, 0.5803693106557205),
]


@pytest.mark.parametrize(("name", "term", "value"), CASES, ids=[c[0] for c in CASES])
def test_loss_matches_the_hand_computed_value(name, term, value):
    loss = build_multilabel_loss(name, class_counts=COUNTS, num_samples=N)
    got = float(loss(torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)))
    assert got == pytest.approx(_mean(term), rel=1e-9)
    assert got == pytest.approx(value, rel=1e-9)


def test_every_multilabel_loss_is_covered_and_marked():
    assert set(multilabel_losses()) == {c[0] for c in CASES}
    assert all(is_multilabel_loss(name) for name, _, _ in CASES)
    assert not is_multilabel_loss("ce") and not is_multilabel_loss("focal")


def test_bce_equals_torch_and_focal_with_gamma_0_equals_bce():
    x, y = torch.randn(5, 3), (torch.rand(5, 3) > 0.5).float()
    ref = torch.nn.BCEWithLogitsLoss()(x, y)
    assert torch.allclose(build_loss("bce", class_counts=[2, 2, 2])(x, y), ref)
    focal = build_loss("focal-bce", class_counts=[2, 2, 2], gamma=0.0)
    assert torch.allclose(focal(x, y), ref)


def test_weighted_bce_options_and_gradient_flow():
    loss = build_multilabel_loss("weighted-bce", class_counts=[1, 99], num_samples=100,
                                 power=0.5, max_weight=5.0)
    assert loss.pos_weight.tolist() == pytest.approx([5.0, math.sqrt(1 / 99)])
    x = torch.zeros(2, 2, requires_grad=True)
    loss(x, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), sample_weight=torch.tensor([1.0, 0.0])).backward()
    assert x.grad[1].abs().sum() == 0 and x.grad[0].abs().sum() > 0


def test_rarer_labels_get_larger_margins():
    loss = build_multilabel_loss("margin-bce", class_counts=[16, 1], num_samples=17, max_margin=2)
    assert loss.margins.tolist() == pytest.approx([1.0, 2.0])


def test_bad_inputs_give_one_line_errors():
    loss = build_loss("asl", class_counts=[3, 1])
    with pytest.raises(ValueError, match=r"loss 'asl': target must be a multi-hot tensor \[N=2, C=2\]"):
        loss(torch.zeros(2, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="mask unlabelled rows out first"):
        loss(torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [-1.0, -1.0]]))
    with pytest.raises(ParamError, match="loss 'asl': clip must be a float >= 0 and < 1, got 1.5"):
        build_loss("asl", class_counts=[3, 1], clip=1.5)
    with pytest.raises(ValueError, match="num_samples must be an integer >= the largest label count 3"):
        build_multilabel_loss("db", class_counts=[3, 1], num_samples=2)
    with pytest.raises(ValueError, match="loss 'focal' is single-label"):
        build_multilabel_loss("focal", class_counts=[3, 1], num_samples=4)


def test_rows_without_any_label_and_extreme_logits_stay_finite():
    x = torch.tensor([[30.0, -30.0, 0.0], [-30.0, 30.0, 5.0]], requires_grad=True)
    y = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])  # row 0 carries no label
    for name, _, _ in CASES:
        value = build_multilabel_loss(name, class_counts=COUNTS, num_samples=N)(x, y)
        (grad,) = torch.autograd.grad(value, x)
        assert torch.isfinite(value) and torch.isfinite(grad).all(), name


def test_empty_batch_and_registry_entries():
    for name, _, _ in CASES:
        assert name in LOSSES
        loss = build_loss(name, class_counts=[3, 1])
        x = torch.zeros(0, 2, requires_grad=True)
        out = loss(x, torch.zeros(0, 2))
        out.backward()
        assert float(out.detach()) == 0.0
