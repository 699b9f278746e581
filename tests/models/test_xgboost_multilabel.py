"""XGBoost on multi-hot labels: one binary:logistic output per label, bce and weighted-bce."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hetero_imb import RunConfig, run
from hetero_imb.models import MODELS
from hetero_imb.models.estimator import label_weight_sample_weights
from hetero_imb.training.checks import ConfigError

SMALL = {"n_estimators": 60, "n_jobs": 1}


def _run(data, **over):
    config = RunConfig(**{"dataset": "toy-multilabel", "model": "xgboost", "split": "given",
                          "model_params": SMALL, **over})
    return run(config, data=data, progress=False)


def test_xgboost_fits_multi_hot_labels(multilabel_graph):
    result = _run(multilabel_graph)  # the default loss ce reads as bce
    assert result.config.loss == "bce"
    proba = result.proba.numpy()
    assert proba.shape == (multilabel_graph["movie"].num_nodes, 4)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids, not a softmax
    test = result.metrics["test"]
    assert test["task"] == "multilabel"
    # drama and comedy are thresholds on one feature each: the booster finds them
    assert test["per_class"]["drama"]["f1"] > 0.85
    assert test["per_class"]["comedy"]["f1"] > 0.7
    assert 0 < result.timing["epochs"] <= SMALL["n_estimators"]


def test_weighted_bce_upweights_rows_of_rare_labels(multilabel_graph):
    plain = _run(multilabel_graph, loss="bce").proba.numpy()
    weighted = _run(multilabel_graph, loss="weighted-bce").proba.numpy()
    rare = multilabel_graph.class_names.index("rare")
    assert weighted[:, rare].mean() > plain[:, rare].mean() + 0.01


def test_label_weight_sample_weights_follow_pos_weight():
    y = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    w = label_weight_sample_weights({"power": 1.0}, y, [2, 1], ["a", "b"])
    # pos_weight: a = 2/2 = 1, b = 3/1 = 3; row means 1, 1, 1, 2, scaled to mean 1
    assert w.tolist() == pytest.approx([0.8, 0.8, 0.8, 1.6])


def test_other_multilabel_losses_are_refused_in_one_line(multilabel_graph):
    with pytest.raises(ValueError, match=r"^model 'xgboost' supports loss .*'weighted-bce', "
                                         r"got 'asl'$"):
        _run(multilabel_graph, loss="asl")


def test_default_loss_refused_where_a_feature_model_lacks_bce(multilabel_graph, monkeypatch):
    # ce reads as bce on multi-label data; a model without bce says so after that reading
    spec = MODELS.get("xgboost")
    without_bce = {k: v for k, v in spec.losses.items() if k != "bce"}
    # replace the registry entry (in place: the registry's order and the spec stay intact)
    monkeypatch.setitem(MODELS._entries, "xgboost", dataclasses.replace(spec, losses=without_bce))
    with pytest.raises(ConfigError, match=r"^model 'xgboost' supports loss .*got 'bce' "
                                          r"\(multi-label graph\)$"):
        _run(multilabel_graph)
