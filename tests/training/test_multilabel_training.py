"""Multi-label runs through the shared loop and the runner (multi-hot labels [N, C])."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from hetero_imb import RunConfig, run, save_run
from hetero_imb.balancing.samplers import SAMPLERS
from hetero_imb.training.checks import ConfigError
from hetero_imb.training.multilabel import (
    label_counts,
    multilabel_collapse_warnings,
    seed_weights,
)
from hetero_imb.training.sampling import HeteroNeighborLoader

BASE = dict(dataset="toy-multilabel", model="rgcn", split="given", epochs=80, patience=0,
            model_params={"hidden": 16, "lr": 0.03}, device="cpu")
METRIC_KEYS = ["accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "samples_f1",
               "weighted_f1", "hamming_loss", "g_mean", "auroc_macro", "auprc_macro",
               "rare_quarter_macro_f1"]
LABEL_KEYS = ["precision", "recall", "f1", "auprc", "balanced_accuracy", "g_mean", "support"]


def _run(data, **over):
    return run(RunConfig(**{**BASE, **over}), data=data, progress=False)


def test_bce_learns_every_label_and_reports_every_metric(multilabel_graph, tmp_path):
    result = _run(multilabel_graph)
    assert result.config.loss == "bce"  # the default ce means bce on multi-label data
    test = result.metrics["test"]
    assert test["task"] == "multilabel" and all(k in test for k in METRIC_KEYS)
    for name in multilabel_graph.class_names:
        assert all(k in test["per_class"][name] for k in LABEL_KEYS)
    assert test["macro_f1"] > 0.45 and test["per_class"]["drama"]["f1"] > 0.7
    assert test["rare_quarter_macro_f1"] == test["per_class"]["rare"]["f1"]  # 1 of 4 labels
    assert result.proba.shape == (240, 4) and float(result.proba.max()) <= 1.0
    assert result.class_counts["train"] == label_counts(
        multilabel_graph["movie"].y, multilabel_graph["movie"].train_mask)
    assert result.history[-1]["val_macro_f1"] == pytest.approx(
        result.metrics["val"]["macro_f1"], abs=0.2)
    folder = save_run(result, tmp_path / "run")
    saved = json.loads((folder / "results.json").read_text())
    assert saved["loss"] == "bce" and saved["metrics"]["test"]["hamming_loss"] is not None
    csv = (folder / "predictions.csv").read_text().splitlines()
    assert csv[0] == "node_id,split,label,predicted,proba_drama,proba_comedy,proba_action,proba_rare"


@pytest.mark.parametrize("loss", ["weighted-bce", "focal-bce", "margin-bce", "asl", "db"])
def test_every_multilabel_loss_trains(multilabel_graph, loss):
    result = _run(multilabel_graph, loss=loss, epochs=30)
    assert result.config.loss == loss
    assert result.metrics["test"]["macro_f1"] > 0.25


def test_weighted_bce_raises_rare_label_recall(multilabel_graph):
    plain = _run(multilabel_graph, model="mlp")
    weighted = _run(multilabel_graph, model="mlp", loss="weighted-bce")
    rare = [r.metrics["test"]["per_class"]["rare"]["recall"] for r in (plain, weighted)]
    assert rare[1] >= rare[0] and rare[1] > 0


def test_thresholds_tuned_on_validation_and_applied(multilabel_graph, tmp_path):
    result = _run(multilabel_graph, loss="bce", tune_decision="macro-f1")
    decision = result.decision
    assert len(decision["thresholds"]) == 4 and decision["spec"] == "macro-f1"
    assert decision["metrics"]["val"]["macro_f1"] >= result.metrics["val"]["macro_f1"] - 1e-12
    assert decision["metrics"]["test"]["thresholds"] == decision["thresholds"]
    folder = save_run(result, tmp_path / "run")
    from hetero_imb import load_run

    model = load_run(folder)
    proba = model.predict_proba(multilabel_graph)
    assert torch.allclose(proba, result.proba, atol=1e-5)
    pred = model.predict(multilabel_graph)
    assert torch.equal(pred, (proba >= torch.tensor(decision["thresholds"])).long())
    assert torch.equal(result.predictions(), (result.proba >= torch.tensor(
        decision["thresholds"])).long())
    from hetero_imb.cli.train import summary_text

    text = summary_text(result, folder)
    assert "thresholds drama 0." in text and "samples F1" in text and "rare-1/4 macro F1" in text
    frame = model.predictions(multilabel_graph)
    assert list(frame.columns[-4:]) == ["proba_drama", "proba_comedy", "proba_action", "proba_rare"]


def test_recall_objective_names_a_label(multilabel_graph):
    result = _run(multilabel_graph, tune_decision="recall:rare:0.5", epochs=30)
    assert result.decision["thresholds"][:3] == [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="tune_decision names label 'nope'"):
        _run(multilabel_graph, tune_decision="recall:nope:0.5", epochs=2)


@pytest.mark.parametrize(("over", "message"), [
    ({"loss": "focal"}, "loss 'focal' is single-label but the graph's labels are multi-label"),
    ({"sampler": "oversample-random"}, "sampler 'oversample-random' is single-label"),
    ({"augmenter": "bat"}, "augmenter 'bat' works on single-label graphs only"),
    # the default loss ce, read as bce on multi-label data, is not what a refusal names
    ({"model": "lp"}, "model 'lp' works on single-label graphs only; the graph's labels are multi"),
    ({"model": "label-lr"}, "model 'label-lr' works on single-label graphs only"),
])
def test_single_label_components_are_rejected_in_one_line(multilabel_graph, over, message):
    with pytest.raises(ConfigError, match=message) as err:
        _run(multilabel_graph, epochs=1, **over)
    assert "\n" not in str(err.value)


def test_multilabel_components_are_rejected_on_single_label_data(toy_split):
    for over in ({"loss": "asl"}, {"sampler": "ml-ros"}):
        with pytest.raises(ConfigError, match="is multi-label but the graph's labels are single"):
            run(RunConfig(dataset="synthetic", model="mlp", split="given", epochs=1, **over),
                data=toy_split, progress=False)


def test_ml_ros_and_balanced_batches(multilabel_graph):
    result = _run(multilabel_graph, model="mlp", sampler="ml-ros", epochs=20)
    assert result.metrics["test"]["macro_f1"] > 0.25
    result = _run(multilabel_graph, model="rgcn", batch_size=32, balanced_batches=True,
                  epochs=5, num_neighbors=[4, 4])
    assert result.metrics["test"]["task"] == "multilabel"


def test_ml_ros_clones_minority_label_sets():
    y = torch.tensor([[1, 0, 0]] * 8 + [[1, 1, 0]] + [[0, 0, 1]]).float()
    sampler = SAMPLERS.get("ml-ros")(percentage=50)
    sampler.fit(None, torch.arange(10), y, seed=0)
    z = torch.randn(10, 3, requires_grad=True)
    z2, y2, w = sampler.resample(z, y, generator=torch.Generator().manual_seed(0))
    assert w is None and z2.shape[0] == y2.shape[0] > 10
    added = y2[10:]
    assert bool(((added[:, 1] == 1) | (added[:, 2] == 1)).all())  # only minority bags clone
    assert torch.equal(z2[10:], z[sampler.last_synthetic.anchors])
    counts, n = sampler.expected_label_counts(y.bool())
    assert n == y2.shape[0] and counts == y2.sum(0).long().tolist()


def test_balanced_seed_weights_favour_rare_labels(multilabel_graph):
    y = multilabel_graph["movie"].y
    train = torch.nonzero(multilabel_graph["movie"].train_mask & (y >= 0).all(1)).flatten()
    loader = HeteroNeighborLoader(multilabel_graph, train, [2], batch_size=64, seed=0,
                                  balanced=True)
    seeds = torch.cat([loader.epoch_seeds() for _ in range(20)])
    share = (y[seeds] > 0).float().mean(0)
    prior = (y[train] > 0).float().mean(0)
    assert share[3] > 2 * prior[3]  # the rare label is drawn far more often
    w = seed_weights(y[train])
    assert w.shape == (train.numel(),) and bool((w > 0).all())


def test_collapse_warning_when_no_label_is_predicted(caplog):
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mask = torch.tensor([True, True])
    assert multilabel_collapse_warnings(torch.full((2, 2), 0.2), y, mask, ["a", "b"])
    assert not multilabel_collapse_warnings(torch.tensor([[0.8, 0.1], [0.1, 0.3]]), y, mask,
                                            ["a", "b"])
    assert logging.getLogger("hetero_imb").level in (logging.NOTSET, logging.WARNING)
    assert np.isfinite(0.0)
