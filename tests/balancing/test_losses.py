import math

import pytest
import torch
import torch.nn.functional as F

from hetero_imb.balancing import (
    LOSSES,
    BalancedLoss,
    build_loss,
    class_weights,
    describe_loss,
    ohem_select,
    triplet_term,
)
from hetero_imb.params import ParamError, parse_params
from hetero_imb.registry import UnknownComponentError

COUNTS = [50, 20, 5, 1]
NAMES = ["politician", "tvshow", "company", "government"]


def _batch(n=24, c=4, d=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=gen)
    target = torch.randint(0, c, (n,), generator=gen)
    embeddings = torch.randn(n, d, generator=gen)
    weight = torch.rand(n, generator=gen)
    return logits, target, embeddings, weight


# graph-aware losses (fitted on a graph, told node ids) get the same checks in
# test_graph_losses.py
# multi-label losses (multi-hot targets) are tested in test_multilabel_losses.py
SINGLE = [n for n in LOSSES.names() if not getattr(LOSSES.get(n), "multilabel", False)]
PLAIN = [n for n in SINGLE if not getattr(LOSSES.get(n), "takes_index", False)]


def test_registry_holds_every_loss():
    assert LOSSES.names() == [
        "ce",
        "weighted",
        "focal",
        "ce+focal",
        "balanced-softmax",
        "ohem",
        "crl",
        "bce",
        "weighted-bce",
        "focal-bce",
        "margin-bce",
        "asl",
        "db",
        "ldam",
        "renode",
        "tam",
    ]
    for name in LOSSES:
        cls = LOSSES.get(name)
        assert issubclass(cls, BalancedLoss) and cls.name == name
        assert LOSSES.summary(name)
        assert describe_loss(name).startswith(f"{name}: ")


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("weighted", [False, True])
def test_every_loss_finite_differentiable_deterministic(name, weighted):
    loss_fn = build_loss(name, class_counts=COUNTS, class_names=NAMES)
    logits, target, emb, weight = _batch()
    logits.requires_grad_(True)
    emb.requires_grad_(True)
    sw = weight if weighted else None
    value = loss_fn(logits, target, embeddings=emb, sample_weight=sw)
    assert value.dim() == 0 and torch.isfinite(value) and value.item() > 0
    value.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    again = loss_fn(logits, target, embeddings=emb, sample_weight=sw)
    assert torch.equal(value.detach(), again.detach())


@pytest.mark.parametrize("name", PLAIN)
def test_every_loss_survives_extreme_logits_and_empty_batches(name):
    loss_fn = build_loss(name, class_counts=COUNTS, class_names=NAMES)
    logits = torch.tensor([[1e4, -1e4, 0.0, 0.0], [-1e4, 1e4, 0.0, 0.0]] * 3)[:5].requires_grad_(
        True
    )
    emb = torch.zeros(5, 3, requires_grad=True)  # identical embeddings: zero distances
    value = loss_fn(logits, torch.tensor([0, 0, 0, 1, 1]), embeddings=emb)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
    if loss_fn.requires_embeddings:
        assert torch.isfinite(emb.grad).all()
    empty = torch.zeros(0, 4, requires_grad=True)
    value = loss_fn(empty, torch.zeros(0, dtype=torch.long), embeddings=torch.zeros(0, 3))
    value.backward()
    assert value.item() == 0.0


@pytest.mark.parametrize("name", SINGLE)
def test_every_loss_validates_inputs(name):
    loss_fn = build_loss(name, class_counts=COUNTS)
    logits, target, emb, _ = _batch(n=4)
    with pytest.raises(ValueError, match=r"label -1 is out of range \[0, 3\] \(mask unlabelled"):
        loss_fn(logits, torch.tensor([0, 1, -1, 2]), embeddings=emb)
    with pytest.raises(ValueError, match="logits have 3 columns but the loss was built for 4"):
        loss_fn(logits[:, :3], target, embeddings=emb)
    with pytest.raises(ValueError, match=r"target must be a tensor \[N=4\], got \(3,\)"):
        loss_fn(logits, target[:3], embeddings=emb)
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        loss_fn(logits, target, embeddings=emb, sample_weight=torch.tensor([1.0, -1, 1, 1]))


def test_ce_and_sample_weight_is_weighted_mean():
    logits, target, _, w = _batch()
    ce = build_loss("ce", class_counts=COUNTS)
    assert torch.allclose(ce(logits, target), F.cross_entropy(logits, target))
    per = F.cross_entropy(logits, target, reduction="none")
    assert torch.allclose(ce(logits, target, sample_weight=w), (w * per).sum() / w.sum())
    assert float(ce(logits, target, sample_weight=torch.zeros(len(target)))) == 0.0


def test_weighted_matches_manual_sum_and_torch():
    logits, target, _, sw = _batch()
    w = torch.tensor([1.0, 2.0, 3.0, 4.0])
    loss = build_loss("weighted", class_counts=COUNTS, weights=[1, 2, 3, 4])
    per = F.cross_entropy(logits, target, reduction="none")
    manual = (w[target] * per).sum() / w[target].sum()
    assert torch.allclose(loss(logits, target), manual)
    assert torch.allclose(loss(logits, target), F.cross_entropy(logits, target, weight=w))
    manual_sw = (sw * w[target] * per).sum() / (sw * w[target]).sum()
    assert torch.allclose(loss(logits, target, sample_weight=sw), manual_sw)


def test_weighted_schemes_and_names():
    default = build_loss("weighted", class_counts=COUNTS)
    assert torch.equal(default.class_weight, class_weights(COUNTS, "balanced"))
    eff = build_loss("weighted", class_counts=COUNTS, weights="effective", beta=0.9)
    assert torch.equal(eff.class_weight, class_weights(COUNTS, "effective", beta=0.9))
    named = build_loss(
        "weighted", class_counts=COUNTS, class_names=NAMES, weights={"government": 5}
    )
    assert named.class_weight.tolist() == [1.0, 1.0, 1.0, 5.0]
    with pytest.raises(ValueError, match="unknown class 'senate'"):
        build_loss("weighted", class_counts=COUNTS, class_names=NAMES, weights={"senate": 5})
    with pytest.raises(ValueError, match="expected 4"):
        build_loss("weighted", class_counts=COUNTS, weights=[1, 2])


def test_focal_gamma_zero_equals_ce_exactly():
    logits, target, _, _ = _batch(n=64)
    focal = build_loss("focal", class_counts=COUNTS, gamma=0.0)
    ce = build_loss("ce", class_counts=COUNTS)
    assert torch.allclose(focal(logits, target), ce(logits, target), rtol=0, atol=1e-7)


def test_focal_gamma_two_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.5, 1.5]])
    target = torch.tensor([0, 0])
    p0 = math.exp(2) / (math.exp(2) + 1)
    p1 = math.exp(0.5) / (math.exp(0.5) + math.exp(1.5))
    terms = [-((1 - p) ** 2) * math.log(p) for p in (p0, p1)]
    focal = build_loss("focal", class_counts=[1, 1], gamma=2.0)
    assert float(focal(logits, target)) == pytest.approx(sum(terms) / 2, rel=1e-6)
    alpha = build_loss("focal", class_counts=[1, 1], gamma=2.0, alpha=[0.25, 0.75])
    assert float(alpha(logits, target)) == pytest.approx(0.25 * sum(terms) / 2, rel=1e-6)
    # alpha is not renormalised: a node of class 1 weighs 0.75
    one = float(alpha(logits[:1], torch.tensor([1])))
    q = 1 - p0
    assert one == pytest.approx(-0.75 * (1 - q) ** 2 * math.log(q), rel=1e-6)


def test_focal_alpha_scheme_and_none():
    focal = build_loss("focal", class_counts=COUNTS, alpha="balanced")
    assert torch.equal(focal.alpha, class_weights(COUNTS))
    assert build_loss("focal", class_counts=COUNTS, alpha="none").alpha is None  # nullable
    assert build_loss("focal", class_counts=COUNTS).alpha is None


def test_focal_small_gamma_gradient_finite_when_confident():
    logits = torch.tensor([[200.0, -200.0]], requires_grad=True)
    build_loss("focal", class_counts=[1, 1], gamma=0.5)(logits, torch.tensor([0])).backward()
    assert torch.isfinite(logits.grad).all()


def test_ce_plus_focal_mixes():
    logits, target, _, _ = _batch()
    ce = build_loss("ce", class_counts=COUNTS)(logits, target)
    focal = build_loss("focal", class_counts=COUNTS, gamma=2.0)(logits, target)
    for mix in (0.0, 0.3, 1.0):
        mixed = build_loss("ce+focal", class_counts=COUNTS, mix=mix, gamma=2.0)(logits, target)
        assert torch.allclose(mixed, (1 - mix) * ce + mix * focal)


@pytest.mark.parametrize("tau", [0.0, 1.0, 2.5])
def test_balanced_softmax_adds_tau_log_prior(tau):
    counts = [6, 3, 1]
    logits, target, _, _ = _batch(c=3)
    prior = torch.tensor([math.log(c / 10) for c in counts])
    expected = F.cross_entropy(logits + tau * prior, target)
    loss = build_loss("balanced-softmax", class_counts=counts, tau=tau)
    before = logits.clone()
    assert torch.allclose(loss(logits, target), expected)
    assert torch.equal(logits, before)  # predictions stay the raw logits
    if tau == 0.0:
        assert torch.allclose(loss(logits, target), F.cross_entropy(logits, target))


def test_balanced_softmax_penalises_minority_less_than_ce_favours():
    # equal logits: adjusted loss is -log(prior_y), so a minority target costs more
    loss = build_loss("balanced-softmax", class_counts=[9, 1])
    logits = torch.zeros(1, 2)
    assert float(loss(logits, torch.tensor([1]))) == pytest.approx(-math.log(0.1), rel=1e-6)
    assert float(loss(logits, torch.tensor([0]))) == pytest.approx(-math.log(0.9), rel=1e-6)


@pytest.mark.parametrize(
    ("n", "keep", "min_kept", "expected"),
    [
        (10, 0.5, 1, 5),
        (10, 0.3, 1, 3),
        (7, 0.5, 1, 4),
        (10, 0.1, 4, 4),
        (10, 1.0, 1, 10),
        (3, 0.1, 5, 3),
    ],
)
def test_ohem_select_count(n, keep, min_kept, expected):
    losses = torch.randn(n, generator=torch.Generator().manual_seed(n))
    idx = ohem_select(losses, keep, min_kept)
    assert idx.numel() == expected
    assert set(idx.tolist()) == set(losses.topk(expected).indices.tolist())
    assert torch.equal(losses[idx], losses[idx].sort(descending=True).values)


def test_ohem_select_per_group_keeps_hardest_of_every_group():
    losses = torch.tensor([5.0, 4.0, 3.0, 0.1, 0.2, 0.3, 0.05])
    groups = torch.tensor([0, 0, 0, 1, 1, 1, 2])
    assert ohem_select(losses, 0.5).tolist() == [0, 1, 2, 5]
    assert ohem_select(losses, 0.5, groups=groups).tolist() == [0, 1, 5, 4, 6]
    assert ohem_select(losses, 0.1, min_kept=2, groups=groups).tolist() == [0, 1, 5, 4, 6]


def test_ohem_select_ties_are_deterministic_and_bad_keep_refused():
    idx = ohem_select(torch.tensor([1.0, 2.0, 2.0, 2.0, 0.0]), 0.4)
    assert idx.tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"'keep' must be in \(0, 1\], got 0"):
        ohem_select(torch.ones(3), 0.0)


def test_ohem_loss_is_mean_of_hardest():
    logits, target, _, sw = _batch(n=20)
    per = F.cross_entropy(logits, target, reduction="none")
    hardest = per.sort(descending=True).values[:6]
    loss = build_loss("ohem", class_counts=COUNTS, keep=0.3, per_class=False)
    assert torch.allclose(loss(logits, target), hardest.mean())
    idx = per.sort(descending=True).indices[:6]
    assert torch.allclose(
        loss(logits, target, sample_weight=sw), (sw[idx] * per[idx]).sum() / sw[idx].sum()
    )
    full = build_loss("ohem", class_counts=COUNTS, keep=1.0)
    assert torch.allclose(full(logits, target), per.mean())


def test_ohem_per_class_is_mean_of_hardest_of_each_class():
    logits, target, _, _ = _batch(n=20)
    per = F.cross_entropy(logits, target, reduction="none")
    kept = []
    for c in target.unique():
        losses = per[target == c].sort(descending=True).values
        kept.append(losses[: math.ceil(0.3 * losses.numel())])
    loss = build_loss("ohem", class_counts=COUNTS, keep=0.3)  # per_class is the default
    assert torch.allclose(loss(logits, target), torch.cat(kept).mean())


def test_ohem_on_a_cold_model_keeps_every_class():
    # The stall of docs/benchmarks_hin.md: on a cold model every loss is about ln C, so
    # global top-k keeps whole classes (here the 20 of class 2, whose logit is a hair
    # lower, plus one tied node of class 1) and the 2 minority nodes get no gradient at
    # all; the next step swings to other classes. Per-class selection gives every class
    # its share.
    target = torch.tensor([1] * 20 + [2] * 20 + [0] * 2)
    logits = torch.zeros(42, 3)
    logits[:, 2] = -1e-3
    for per_class, starved in ((False, {0}), (True, set())):
        x = logits.clone().requires_grad_(True)
        build_loss("ohem", class_counts=[2, 20, 20], per_class=per_class)(x, target).backward()
        got = {c for c in range(3) if float(x.grad[target == c].abs().sum()) == 0.0}
        assert got == starved, per_class


def test_crl_alpha_zero_is_ce_and_needs_embeddings():
    logits, target, emb, _ = _batch()
    crl = build_loss("crl", class_counts=COUNTS, alpha=0.0)
    assert torch.allclose(crl(logits, target, embeddings=emb), F.cross_entropy(logits, target))
    with pytest.raises(ValueError, match="loss 'crl' needs the node embeddings"):
        build_loss("crl", class_counts=COUNTS)(logits, target)
    with pytest.raises(ValueError, match=r"embeddings must be a tensor \[N=24, D\]"):
        crl(logits, target, embeddings=emb[:3])


# 1-D embeddings: class 1 (the batch minority, 2 of 5 nodes) at 0 and 1; class 0 at 0.3, 5, 6.
EMB = torch.tensor([[0.0], [1.0], [0.3], [5.0], [6.0]])
TGT = torch.tensor([1, 1, 0, 0, 0])


def test_triplet_term_by_hand():
    minority = torch.tensor([False, True])
    # k=1: anchor 0: d(p)=1, d(n)=0.3 → 0.5+1-0.3 = 1.2; anchor 1: d(p)=1, d(n)=0.7 → 0.8
    term = triplet_term(EMB, TGT, minority, k=1, margin=0.5)
    assert float(term) == pytest.approx(1.0)
    # k=3: each anchor has 1 positive and 3 negatives; only the closest negative violates
    term = triplet_term(EMB, TGT, minority, k=3, margin=0.5)
    assert float(term) == pytest.approx((1.2 + 0.8) / 6)
    # a large enough gap and no margin: no violation
    far = torch.tensor([[0.0], [0.1], [3.0], [5.0], [6.0]])
    assert float(triplet_term(far, TGT, minority, k=1, margin=0.0)) == 0.0


def test_crl_combines_ce_and_triplet_with_batch_minority():
    logits = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    crl = build_loss("crl", class_counts=[3, 2], alpha=0.5, k=1, margin=0.5, normalize=False)
    expected = 0.5 * F.cross_entropy(logits, TGT) + 0.5 * 1.0
    assert torch.allclose(crl(logits, TGT, embeddings=EMB), expected)
    assert float(crl(logits, TGT, embeddings=EMB)) > float(F.cross_entropy(logits, TGT)) * 0.5


def test_crl_minority_param_and_no_valid_triplet():
    logits = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    ce = F.cross_entropy(logits, TGT)
    # class 0 as anchors: anchor 2 (0.3): farthest positive 6 (5.7), closest negative 0 (0.3)
    crl = build_loss(
        "crl", class_counts=[3, 2], class_names=["x", "y"], minority=["x"], k=1, normalize=False
    )
    assert crl.minority.tolist() == [True, False]
    assert float(crl(logits, TGT, embeddings=EMB)) > 0.5 * float(ce)
    # one class only: no anchors, the triplet term is 0
    same = torch.zeros(5, dtype=torch.long)
    crl = build_loss("crl", class_counts=[3, 2], alpha=0.5, normalize=False)
    assert torch.allclose(crl(logits, same, embeddings=EMB), 0.5 * F.cross_entropy(logits, same))
    # a minority class with a single node has no positive: term 0
    single = torch.tensor([1, 0, 0, 0, 0])
    crl = build_loss("crl", class_counts=[3, 2], minority=["1"], normalize=False)
    assert torch.allclose(
        crl(logits, single, embeddings=EMB), 0.5 * F.cross_entropy(logits, single)
    )
    with pytest.raises(ValueError, match="minority: unknown class 'z'"):
        build_loss("crl", class_counts=[3, 2], class_names=["x", "y"], minority=["z"])


def test_unknown_loss_and_params():
    with pytest.raises(UnknownComponentError, match=r"unknown loss 'dice' for '--loss'.*focal"):
        build_loss("dice", class_counts=COUNTS)
    with pytest.raises(
        ParamError,
        match=r"loss 'focal' has no parameter 'gama' \(did you mean 'gamma'\?\); accepted parameters: gamma, alpha, beta",
    ):
        build_loss("focal", class_counts=COUNTS, gama=2)
    with pytest.raises(
        ParamError, match="loss 'ce' has no parameter 'gamma'; accepted parameters: \\(none\\)"
    ):
        build_loss("ce", class_counts=COUNTS, gamma=2)
    with pytest.raises(ParamError, match="loss 'ohem': keep must be a float > 0 and <= 1, got 0.0"):
        build_loss("ohem", class_counts=COUNTS, keep=0.0)
    with pytest.raises(ValueError, match=r"class_counts\[1\] must be an integer >= 0"):
        build_loss("ce", class_counts=[3, -2])


def test_command_line_params_build_the_same_loss():
    params = parse_params(
        ["gamma=1", "alpha=politician:0.5,government:4"],
        LOSSES.get("focal").params,
        owner="loss 'focal'",
        flag="--loss-param",
    )
    assert params == {"gamma": 1.0, "alpha": {"politician": 0.5, "government": 4.0}}
    loss = build_loss("focal", class_counts=COUNTS, class_names=NAMES, **params)
    assert loss.hparams["gamma"] == 1.0
    assert loss.alpha.tolist() == [0.5, 1.0, 1.0, 4.0]
    # strings are converted as on the command line (e.g. values from YAML)
    assert build_loss("focal", class_counts=COUNTS, gamma="3").hparams["gamma"] == 3.0
    with pytest.raises(ParamError, match=r"loss 'focal': gamma must be a float >= 0, got 'abc' \(--loss-param 'gamma=abc'\)"):
        parse_params(
            ["gamma=abc"], LOSSES.get("focal").params, owner="loss 'focal'", flag="--loss-param"
        )


def test_loss_buffers_follow_module_device_and_are_not_saved():
    loss = build_loss("weighted", class_counts=COUNTS)
    assert "class_weight" in dict(loss.named_buffers())
    assert loss.state_dict() == {}


def test_loss_messages_name_the_loss_however_registered():
    from hetero_imb.balancing import register_loss

    class Plain(BalancedLoss):
        def _forward(self, logits, target, embeddings, sample_weight):
            return F.cross_entropy(logits, target)

    with pytest.raises(ParamError, match="loss 'Plain' has no parameter 'k'"):
        Plain(class_counts=COUNTS, k=1)
    LOSSES.register("plain", Plain)
    try:
        with pytest.raises(ParamError, match="loss 'plain' has no parameter 'k'"):
            build_loss("plain", class_counts=COUNTS, k=1)
    finally:
        LOSSES.unregister("plain")
    with pytest.raises(TypeError, match="register_loss\\('x'\\) decorates a BalancedLoss"):
        register_loss("x")(dict)
    with pytest.raises(ValueError, match="loss 'ce' is already registered"):
        register_loss("ce")(Plain)
    assert Plain.name == "" and "x" not in LOSSES and LOSSES.get("ce").__name__ == "CrossEntropyLoss"
