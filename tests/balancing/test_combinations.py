"""Every loss x every sampler trains with every neural model (2 epochs, tiny graph),
and the feature baselines accept exactly the losses they can honour.

Graph-aware losses (``tam``, ``renode``: ``takes_index``) need each row's node id, so
they refuse a sampler that drops rows (``undersample``) with a clear error."""

import pytest
import torch

from hetero_imb.balancing.losses import LOSSES, build_loss
from hetero_imb.balancing.samplers import SAMPLERS
from hetero_imb.data.graph import class_counts, split_mask
from hetero_imb.models import MODELS, build_model
from hetero_imb.training.config import RunConfig
from hetero_imb.training.engine import fit
from hetero_imb.training.runner import run

NEURAL = [n for n in MODELS.names() if MODELS.get(n).kind == "neural"]
FEATURE = [n for n in MODELS.names() if MODELS.get(n).kind == "features"]
SMALL = {"hidden": 8}
MODEL_EXTRA = {"metapath2vec": {"embedding_epochs": 1, "walks_per_node": 1, "cache": False}}


# feature-row samplers (smote, ...) never enter the loop: tests/balancing/test_feature_samplers.py;
# single-label components here, the multi-label ones: tests/training/test_multilabel_training.py
LOOP_SAMPLERS = [n for n in SAMPLERS.names() if SAMPLERS.get(n).rows == "embeddings"
                 and getattr(SAMPLERS.get(n), "multilabel", False) is not True]


@pytest.mark.parametrize("sampler", LOOP_SAMPLERS)
@pytest.mark.parametrize("loss", [n for n in LOSSES.names()
                                  if not getattr(LOSSES.get(n), "multilabel", False)])
@pytest.mark.parametrize("model", NEURAL)
def test_loss_sampler_model_trains(toy_split_featureless, model, loss, sampler):
    data = toy_split_featureless
    net = build_model(model, data, seed=0, **SMALL, **MODEL_EXTRA.get(model, {}))
    counts = class_counts(data, split_mask(data, "train"))
    kwargs = dict(loss=build_loss(loss, class_counts=counts),
                  sampler=None if sampler == "none" else SAMPLERS.get(sampler)(),
                  epochs=2, patience=0, progress=False, seed=0)
    out = fit(net, data, **kwargs)
    assert out.epochs == 2
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in out.history)
    assert torch.allclose(out.proba.sum(1), torch.ones(len(out.proba)), atol=1e-5)


GRAPH_LOSS_CASES = [
    ("ldam", {"drw_epoch": 2}),
    ("tam", {"warmup": 0, "base": "balanced-softmax"}),
    ("tam", {"warmup": 0, "base": "ldam"}),
    ("renode", {"base": "weighted"}),
]


@pytest.mark.parametrize("loss,params", GRAPH_LOSS_CASES)
@pytest.mark.parametrize("model", ["gcn", "rgcn"])
def test_graph_losses_train_minibatch(toy_split_featureless, model, loss, params):
    """The graph-native losses look their per-node quantities up by global node id, so
    they train on sampled subgraphs too (hooks active: warmup 0, DRW from epoch 2)."""
    data = toy_split_featureless
    net = build_model(model, data, seed=0, **SMALL)
    counts = class_counts(data, split_mask(data, "train"))
    out = fit(net, data, loss=build_loss(loss, class_counts=counts, **params), epochs=3,
              patience=0, progress=False, seed=0, batch_size=32, num_neighbors=[4, 4])
    assert out.epochs == 3
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in out.history)


@pytest.mark.parametrize("model", FEATURE)
def test_feature_baselines_take_ce_and_weighted_and_refuse_others(toy_graph, model):
    base = RunConfig(dataset="synthetic", model=model, model_params={"n_estimators": 5})
    for loss in ("ce", "weighted"):
        result = run(base.replace(loss=loss), data=toy_graph)
        assert result.features == "node features x[8]"
    with pytest.raises(ValueError, match="supports loss 'ce' or 'weighted'"):
        run(base.replace(loss="focal"), data=toy_graph)
    with pytest.raises(ValueError, match="model 'xgboost' supports sampler 'none' or 'smote' or "
                       "'smote-tomek' or 'adasyn', got 'undersample'"):
        run(base.replace(sampler="undersample"), data=toy_graph)


def test_xgboost_on_a_binary_problem(toy_graph):
    y = toy_graph["item"].y
    toy_graph["item"].y = (y > 1).long()
    toy_graph.class_names = ["common", "rare"]
    result = run(RunConfig(dataset="toy", model="xgboost", model_params={"n_estimators": 5}),
                 data=toy_graph)
    assert result.proba.shape == (300, 2)
    assert torch.allclose(result.proba.sum(1), torch.ones(300, dtype=result.proba.dtype), atol=1e-5)
