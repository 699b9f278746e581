import math

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight

from hetero_imb.balancing.weights import (
    WEIGHT_SCHEMES,
    class_weights,
    init_bias_to_log_prior,
    log_prior,
    resolve_class_weights,
)

COUNTS = [50, 20, 5, 1]
NAMES = ["politician", "tvshow", "company", "government"]


def test_balanced_matches_sklearn():
    y = np.repeat(np.arange(4), COUNTS)
    expected = compute_class_weight("balanced", classes=np.arange(4), y=y)
    assert torch.allclose(
        class_weights(COUNTS, "balanced"), torch.tensor(expected, dtype=torch.float32)
    )
    assert class_weights([6, 2]).tolist() == pytest.approx([8 / 12, 8 / 4])


def test_sqrt_is_inverse_sqrt_with_unit_count_weighted_mean():
    w = class_weights([9, 1], "sqrt")
    # w_c = n / (sqrt(n_c) * sum_j sqrt(n_j)) = 10 / (3 * 4), 10 / (1 * 4)
    assert w.tolist() == pytest.approx([10 / 12, 10 / 4])
    w = class_weights(COUNTS, "sqrt")
    counts = torch.tensor(COUNTS, dtype=torch.float32)
    assert float((w * counts).sum() / counts.sum()) == pytest.approx(1.0)
    assert float(w[0] * math.sqrt(50)) == pytest.approx(float(w[3] * 1.0))


@pytest.mark.parametrize("beta", [0.9, 0.999])
def test_effective_number_weights(beta):
    counts = [100, 10, 1]
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    expected = [r * 3 / sum(raw) for r in raw]
    w = class_weights(counts, "effective", beta=beta)
    assert w.tolist() == pytest.approx(expected, rel=1e-6)
    assert float(w.sum()) == pytest.approx(3.0)


def test_effective_beta_zero_is_uniform_and_bad_beta_refused():
    assert class_weights(COUNTS, "effective", beta=0.0).tolist() == [1.0] * 4
    with pytest.raises(ValueError, match=r"'beta' must be in \[0, 1\), got 1.0"):
        class_weights(COUNTS, "effective", beta=1.0)


def test_none_is_ones():
    assert class_weights(COUNTS, "none").tolist() == [1.0] * 4


@pytest.mark.parametrize("scheme", ["balanced", "sqrt", "effective"])
def test_zero_count_class_gets_zero_and_others_unchanged(scheme):
    with_zero = class_weights([10, 0, 30], scheme)
    without = class_weights([10, 30], scheme)
    assert with_zero[1] == 0.0
    assert torch.allclose(with_zero[[0, 2]], without)


def test_unknown_scheme_lists_schemes():
    with pytest.raises(ValueError, match="one of balanced, sqrt, effective, none, got 'inverse'"):
        class_weights(COUNTS, "inverse")


@pytest.mark.parametrize(
    ("counts", "match"),
    [
        ([], "non-empty"),
        ([3, -1], r"counts\[1\] must be an integer >= 0, got -1"),
        ([0, 0], "all 0"),
        ([1.5, 2], r"counts\[0\]"),
    ],
)
def test_bad_counts(counts, match):
    with pytest.raises(ValueError, match=match):
        class_weights(counts)


def test_resolve_scheme_sequence_and_tensor():
    assert torch.equal(resolve_class_weights("balanced", NAMES, COUNTS), class_weights(COUNTS))
    assert resolve_class_weights([1, 2, 3, 4], NAMES, COUNTS).tolist() == [1, 2, 3, 4]
    assert resolve_class_weights(torch.tensor([1.0, 0, 0, 2]), NAMES, COUNTS).tolist() == [
        1,
        0,
        0,
        2,
    ]
    assert resolve_class_weights(None, NAMES, COUNTS).tolist() == [1.0] * 4
    eff = resolve_class_weights("effective", NAMES, COUNTS, beta=0.9)
    assert torch.equal(eff, class_weights(COUNTS, "effective", beta=0.9))


def test_resolve_mapping_by_name_and_index():
    w = resolve_class_weights({"politician": 4, 3: 0.5, "1": 2.0}, NAMES, COUNTS)
    assert w.tolist() == [4.0, 2.0, 1.0, 0.5]  # unlisted "company" gets 1.0
    assert resolve_class_weights({0: 3.0}, None, [5, 5]).tolist() == [3.0, 1.0]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (
            [1, 2, 3],
            r"one weight per class: expected 4 \(politician, tvshow, company, government\), got 3",
        ),
        ({"senator": 2}, r"unknown class 'senator'; class names are politician, tvshow"),
        ({7: 2}, r"class index 7 is out of range \[0, 3\]"),
        ({"politician": 2, 0: 3}, "class 0 is given twice"),
        ([1, -1, 1, 1], r"weight of class 'tvshow' must be finite and >= 0, got -1"),
        ([0, 0, 0, 0], "all weights are 0"),
        ("inverse", "must be one of balanced, sqrt, effective, none"),
        (3.0, "got float"),
    ],
)
def test_resolve_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        resolve_class_weights(spec, NAMES, COUNTS)


def test_resolve_names_count_mismatch():
    with pytest.raises(ValueError, match="3 class names but 4 class counts"):
        resolve_class_weights("balanced", NAMES[:3], COUNTS)


def test_log_prior_is_log_frequency():
    lp = log_prior([3, 1])
    assert lp.tolist() == pytest.approx([math.log(0.75), math.log(0.25)])
    lp = log_prior(COUNTS)
    assert float(lp.exp().sum()) == pytest.approx(1.0)
    assert float(lp[0] - lp[3]) == pytest.approx(math.log(50))


def test_log_prior_zero_count_is_finite_floor():
    lp = log_prior([9, 0])
    assert torch.isfinite(lp).all()
    assert lp.tolist() == pytest.approx([math.log(9 / 10), math.log(1 / 10)])


def test_init_bias_to_log_prior():
    head = torch.nn.Linear(8, 4)
    torch.nn.init.zeros_(head.weight)
    init_bias_to_log_prior(head, COUNTS)
    assert torch.allclose(head.bias, log_prior(COUNTS))
    probs = head(torch.randn(2, 8)).softmax(-1)
    expected = torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS)
    assert torch.allclose(probs, expected.expand(2, 4), atol=1e-6)
    assert head.bias.requires_grad and head.bias.grad is None


def test_init_bias_errors():
    with pytest.raises(ValueError, match="out_features=3 but 4 class counts"):
        init_bias_to_log_prior(torch.nn.Linear(8, 3), COUNTS)
    with pytest.raises(ValueError, match="no bias"):
        init_bias_to_log_prior(torch.nn.Linear(8, 4, bias=False), COUNTS)
    with pytest.raises(TypeError, match="torch.nn.Linear"):
        init_bias_to_log_prior(torch.nn.Conv1d(1, 4, 1), COUNTS)


def test_schemes_constant():
    assert WEIGHT_SCHEMES == ("balanced", "sqrt", "effective", "none")
