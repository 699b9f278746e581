"""``fit`` and ``build_model`` refuse what they cannot use in one line, before any work,
instead of a torch error deep in the first step."""

import copy

import pytest
import torch

from hetero_imb import build_loss, build_model, fit
from hetero_imb.data.graph import class_counts, split_mask


def _loss(data):
    return build_loss("ce", class_counts=class_counts(data, split_mask(data, "train")))


def _fit(model, data, **over):
    settings = {"loss": _loss(data), "epochs": 1, "device": "cpu", "progress": False, **over}
    return fit(model, data, **settings)


@pytest.mark.parametrize(("over", "error", "message"), [
    ({"loss": "ce"}, TypeError,
     r"loss must be a torch.nn.Module, got str 'ce': build it with hetero_imb.build_loss\('ce'"),
    ({"lr": -1.0}, ValueError, "lr must be a finite number >= 0, got -1.0"),
    ({"lr": float("nan")}, ValueError, "lr must be a finite number >= 0, got nan"),
    ({"weight_decay": "0.1"}, ValueError, "weight_decay must be a finite number >= 0, got '0.1'"),
    ({"seed": -1}, ValueError, "seed must be a non-negative integer, got -1"),
])
def test_bad_settings_are_named(toy_split, over, error, message):
    model = build_model("rgcn", toy_split)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(error, match=message) as err:
        _fit(model, toy_split, **over)
    assert "\n" not in str(err.value)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched


def test_a_model_built_on_another_graph_is_named(toy_split):
    wider = copy.copy(toy_split)
    wider["item"].x = torch.cat([toy_split["item"].x, toy_split["item"].x], dim=1)
    with pytest.raises(ValueError, match="model was built for a graph whose node type 'item' has"):
        _fit(build_model("rgcn", wider), toy_split)
    with pytest.raises(TypeError, match="model must be a NodeClassifier"):
        _fit(torch.nn.Linear(2, 2), toy_split)


def test_build_model_takes_a_graph():
    with pytest.raises(TypeError, match="data must be a torch_geometric HeteroData, got dict"):
        build_model("rgcn", {"a": 1})


class _IndexRecorder(torch.nn.Module):
    """Cross-entropy that keeps the node ids and labels of every row it is given."""

    takes_index = True

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, logits, y, index=None, **_):
        self.seen.append((index.clone(), y.clone()))
        return torch.nn.functional.cross_entropy(logits, y)


def test_an_undersampler_keeps_each_rows_node_id_for_graph_losses(toy_split):
    # TAM and ReNode read each row's node: after undersampling, the kept rows' ids
    # (they were refused before: "sampler 'undersample' dropped rows")
    from hetero_imb.balancing.samplers import SAMPLERS

    loss = _IndexRecorder()
    _fit(build_model("mlp", toy_split), toy_split, loss=loss, epochs=3,
         sampler=SAMPLERS.get("undersample")())
    y = toy_split["item"].y
    train = int(toy_split["item"].train_mask.sum())
    for index, rows_y in loss.seen:
        assert 0 < index.numel() < train and bool((index >= 0).all())
        assert torch.equal(y[index], rows_y)  # each id is the node of its own row
        assert index.unique().numel() == index.numel()
