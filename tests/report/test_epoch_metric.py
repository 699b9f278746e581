"""The per-epoch validation macro-F1 in torch equals sklearn's, absent classes included."""

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from hetero_imb.report.metrics import macro_f1


def _sklearn(y, pred, k):
    return f1_score(y.numpy(), pred.numpy(), labels=np.arange(k), average="macro", zero_division=0)


@pytest.mark.parametrize("k", [2, 3, 4, 7, 9, 16, 33, 100])
def test_equals_sklearn_on_random_inputs(k):
    gen = torch.Generator().manual_seed(k)
    for trial in range(50):
        n = int(torch.randint(1, 200, (), generator=gen))
        present = int(torch.randint(1, k + 1, (), generator=gen))  # some classes absent
        y = torch.randint(0, present, (n,), generator=gen)
        pred = torch.randint(0, k, (n,), generator=gen) if trial % 2 else y.clone()
        if trial % 3 == 0:
            pred[torch.rand(n, generator=gen) < 0.5] = 0  # a skewed predictor
        ours = macro_f1(y, pred, k)
        assert ours.dtype == torch.float64 and ours.dim() == 0
        assert float(ours) == _sklearn(y, pred, k)  # exact: same formula, same order


def test_absent_and_never_predicted_classes_score_zero():
    y = torch.tensor([0, 0, 1, 1])
    assert float(macro_f1(y, y, 2)) == 1.0
    assert float(macro_f1(y, y, 4)) == 0.5  # classes 2 and 3: no support, no prediction
    assert float(macro_f1(y, torch.zeros(4, dtype=torch.long), 2)) == _sklearn(
        y, torch.zeros(4, dtype=torch.long), 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_stays_on_the_gpu():
    y = torch.tensor([0, 1, 2, 2], device="cuda")
    out = macro_f1(y, torch.tensor([0, 1, 1, 2], device="cuda"), 3)
    assert out.device.type == "cuda"
    assert float(out) == pytest.approx(_sklearn(y.cpu(), torch.tensor([0, 1, 1, 2]), 3), abs=1e-15)


def test_early_stopping_keeps_a_copy_of_the_best_weights():
    from torch import nn

    from hetero_imb.training.engine import EarlyStopping

    model = nn.Linear(3, 2)
    stopper = EarlyStopping(patience=5)
    kept = []
    for epoch, score in enumerate([0.5, 0.7, 0.6, 0.65], 1):
        with torch.no_grad():
            model.weight.add_(1.0)  # the weights change every epoch
        if stopper.update(score, epoch, model):
            kept.append(model.weight.detach().clone())
    assert stopper.best_epoch == 2
    assert torch.equal(stopper.best_state["weight"], kept[-1])  # not the current weights
    assert not torch.equal(stopper.best_state["weight"], model.weight)
    model.load_state_dict(stopper.best_state)
    assert torch.equal(model.weight, kept[-1])
