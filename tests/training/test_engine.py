import pytest
import torch
from torch import nn

from hetero_imb.balancing.losses import build_loss
from hetero_imb.data.graph import class_counts, split_mask
from hetero_imb.models.base import Encoder, NodeClassifier
from hetero_imb.training.engine import fit, resolve_device


class ItemLinear(Encoder):
    """Test encoder: one linear layer on the item features (no graph)."""

    def __init__(self, in_dim: int, out: int = 8):
        super().__init__()
        self.out_channels = out
        self.lin = nn.Linear(in_dim, out)
        self.preprocessed = 0

    def preprocess(self, data):
        self.preprocessed += 1
        return data

    def forward(self, data):
        return torch.relu(self.lin(data["item"].x))


def _model(seed=0):
    torch.manual_seed(seed)
    return NodeClassifier(ItemLinear(8), num_classes=4, dropout=0.2)


def _loss(data, name="ce"):
    return build_loss(name, class_counts=class_counts(data, split_mask(data, "train")))


def test_fit_learns_and_restores_best_epoch(toy_split):
    out = fit(_model(), toy_split, loss=_loss(toy_split), epochs=60, lr=0.05, patience=0, progress=False)
    assert out.model.encoder.preprocessed == 1  # preprocess runs once
    assert len(out.history) == 60 and out.epochs == 60
    best = max(h["val_macro_f1"] for h in out.history)
    assert out.history[out.best_epoch - 1]["val_macro_f1"] == best
    assert out.history[-1]["loss"] < out.history[0]["loss"]
    assert out.proba.shape == (300, 4)
    assert torch.allclose(out.proba.sum(1), torch.ones(300), atol=1e-5)
    # the returned probabilities are the restored best model's
    val = split_mask(toy_split, "val")
    from sklearn.metrics import f1_score

    y = toy_split["item"].y
    f1 = f1_score(y[val], out.proba[val].argmax(1), average="macro", labels=range(4), zero_division=0)
    assert f1 == pytest.approx(best)


def test_early_stopping_stops_after_patience(toy_split):
    out = fit(_model(), toy_split, loss=_loss(toy_split), epochs=500, lr=0.05, patience=5, progress=False)
    assert out.epochs == out.best_epoch + 5
    assert out.epochs < 500


def test_same_seed_same_result_different_seed_differs(toy_split):
    runs = [
        fit(_model(s), toy_split, loss=_loss(toy_split), epochs=15, seed=s, progress=False)
        for s in (3, 3, 4)
    ]
    assert torch.equal(runs[0].proba, runs[1].proba)
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]
    assert not torch.equal(runs[0].proba, runs[2].proba)


def test_bad_arguments_are_named(toy_split, toy_graph):
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        fit(_model(), toy_split, loss=_loss(toy_split), epochs=0)
    with pytest.raises(ValueError, match="train_mask"):
        fit(_model(), toy_graph, loss=nn.CrossEntropyLoss(), epochs=1)
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_fit_leaves_the_callers_graph_untouched(toy_split):
    x, paths = toy_split["item"].x, toy_split.metapaths
    fit(_model(), toy_split, loss=_loss(toy_split), epochs=2, progress=False)
    assert toy_split["item"].x is x and toy_split.metapaths is paths
    with pytest.raises(ValueError, match="patience must be a non-negative integer"):
        fit(_model(), toy_split, loss=_loss(toy_split), epochs=2, patience=-1)
