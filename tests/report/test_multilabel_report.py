"""Multi-label metrics, thresholds, predictions, the compare summary and the predict CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import f1_score

from hetero_imb.report.metrics import format_report, pr_curves
from hetero_imb.report.multilabel_metrics import (
    compute_multilabel_metrics,
    multilabel_macro_f1,
    multilabel_predictions_frame,
)
from hetero_imb.training.thresholds import tune_thresholds

Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]])
P = np.array([[0.9, 0.2, 0.1], [0.6, 0.4, 0.2], [0.3, 0.7, 0.4], [0.8, 0.1, 0.45],
              [0.2, 0.6, 0.05]])
NAMES = ["a", "b", "c"]


def test_metrics_by_hand():
    m = compute_multilabel_metrics(Y, P, NAMES)
    # predictions at 0.5: [1,0,0] [1,0,0] [0,1,0] [1,0,0] [0,1,0]
    assert m["per_class"]["a"]["f1"] == 1.0
    b = m["per_class"]["b"]  # tp 1, fp 1, fn 1, tn 2
    assert (b["precision"], b["recall"], b["f1"]) == (0.5, 0.5, 0.5)
    assert b["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert b["g_mean"] == pytest.approx(np.sqrt(0.5 * 2 / 3))
    assert m["per_class"]["c"]["recall"] == 0.0 and m["per_class"]["c"]["g_mean"] == 0.0
    assert m["per_class"]["c"]["auprc"] == 1.0  # its one positive has the top score
    assert m["hamming_loss"] == pytest.approx(3 / 15)
    assert m["accuracy"] == pytest.approx(2 / 5)  # subset accuracy: rows 0 and 2
    assert m["macro_f1"] == pytest.approx((1 + 0.5 + 0) / 3)
    pred = (P >= 0.5).astype(int)
    for avg in ("micro", "samples", "weighted"):
        assert m[f"{avg}_f1"] == pytest.approx(f1_score(Y, pred, average=avg, zero_division=0))
    text = format_report(m, NAMES)
    assert "samples F1" in text and "Hamming loss" in text
    tuned = compute_multilabel_metrics(Y, P, NAMES, thresholds=[0.5, 0.5, 0.4])
    assert tuned["per_class"]["c"]["recall"] == 1.0


def test_torch_macro_f1_equals_sklearn():
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        y = (torch.rand(40, 6, generator=gen) > 0.7).float()
        y[:, 5] = 0  # a label with no positive
        p = torch.rand(40, 6, generator=gen)
        ref = f1_score(y.numpy(), (p >= 0.5).numpy(), average="macro", zero_division=0)
        assert float(multilabel_macro_f1(y, p)) == pytest.approx(ref, abs=1e-12)


def test_thresholds_maximise_each_label_f1():
    out = tune_thresholds(P, Y, "macro-f1", NAMES)
    tuned = compute_multilabel_metrics(Y, P, NAMES, out["thresholds"])
    assert tuned["macro_f1"] >= compute_multilabel_metrics(Y, P, NAMES)["macro_f1"]
    assert tuned["per_class"]["c"]["f1"] == 1.0
    floor = tune_thresholds(P, Y, "recall:b:0.6", NAMES)
    assert floor["thresholds"][0] == 0.5 and floor["reached"]
    b = (P[:, 1] >= floor["thresholds"][1])
    assert (Y[b, 1].mean() >= 0.6) and Y[b, 1].sum() >= 1


def test_min_recall_threshold_is_the_hand_computed_conformal_quantile():
    # label a's validation positives have p = .9 .8 .6 (n = 3): R = 0.5 -> j = ceil(2) = 2,
    # the 2nd largest, 0.8; R = 0.7 -> j = ceil(2.8) = 3: 0.6; R = 0.8 -> j = 4 > n: all, unreached
    for recall, threshold, reached in ((0.5, 0.8, True), (0.7, 0.6, True), (0.8, 0.6, False)):
        out = tune_thresholds(P, Y, f"min-recall:a:{recall}", NAMES)
        assert out["thresholds"] == [threshold, 0.5, 0.5] and out["reached"] is reached
        assert out["spec"] == f"min-recall:a:{recall}"
    with pytest.raises(ValueError, match="needs validation positives of label 'a'"):
        tune_thresholds(P, np.zeros_like(Y), "min-recall:a:0.5", NAMES)


def test_balanced_accuracy_thresholds_are_youden_optima():
    # label x: p = .9 .6 | .4 .2 separates at 0.5; label y: positives .2 .3 above negatives
    # .1 .05, so (TPR + TNR) / 2 = 1 between 0.1 and 0.2: the midpoint 0.15
    p = np.array([[0.9, 0.1], [0.6, 0.2], [0.4, 0.3], [0.2, 0.05]])
    y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    out = tune_thresholds(p, y, "balanced-accuracy", ["x", "y"])
    assert out["spec"] == "balanced-accuracy"
    assert out["thresholds"] == pytest.approx([0.5, 0.15])


def test_pr_curves_and_predictions_frame():
    curves = pr_curves(Y, P, NAMES)
    assert set(curves) == set(NAMES) and curves["c"]["support"] == 1
    frame = multilabel_predictions_frame(list("vwxyz"), P, None, NAMES, y=Y)
    assert frame.loc[1, "label"] == "a|b" and frame.loc[1, "predicted"] == "a"
    assert frame.loc[4, "label"] == "" and frame.loc[4, "predicted"] == "b"


def test_bad_inputs():
    with pytest.raises(ValueError, match="unlabelled rows, all -1, must be masked out"):
        compute_multilabel_metrics(np.array([[1, 0], [-1, -1]]), np.zeros((2, 2)), ["a", "b"])
    with pytest.raises(ValueError, match=r"y_true must be multi-hot \[N, C=3\]"):
        compute_multilabel_metrics(np.array([0, 1]), np.zeros((2, 3)), NAMES)


@pytest.fixture
def toy_dataset(multilabel_graph, monkeypatch):
    """The multi-label fixture graph registered as dataset 'ml-toy' (masks kept: split given)."""
    from hetero_imb.data.datasets import DATASETS
    from hetero_imb.data.datasets.base import DatasetLoader

    class Loader(DatasetLoader):
        """Multi-label fixture graph (tests only)."""

        name = "ml-toy"
        raw_folder = "ml-toy"

        def process(self, raw):
            return multilabel_graph

    DATASETS.register("ml-toy")(Loader)
    yield "ml-toy"
    DATASETS.unregister("ml-toy")


def test_compare_mini_grid_and_predict_cli(toy_dataset, tmp_path, capsys):
    from hetero_imb.cli.compare import run_grid
    from hetero_imb.cli.predict import main as predict_main
    from hetero_imb.data.datasets import load
    from hetero_imb.training.grid import Grid

    grid = Grid.from_dict({
        "dataset": toy_dataset, "split": "given", "epochs": 15, "patience": 0,
        "root": str(tmp_path / "data"), "device": "cpu", "model_params": {"hidden": 8},
        "tune_decision": "macro-f1",
        "grid": {"models": ["mlp"], "losses": ["bce", "asl"], "samplers": ["none", "ml-ros"],
                 "seeds": [0, 1]},
    })
    out = run_grid(grid, tmp_path / "grid", progress=False, echo=lambda line: None)
    frame = pd.read_csv(out / "summary.csv")
    assert len(frame) == 8 and (frame["status"] == "ok").all(), frame.get("error")
    for col in ["macro_f1", "micro_f1", "samples_f1", "hamming_loss", "g_mean",
                "balanced_accuracy", "auprc_macro", "recall[rare]", "f1[rare]", "auprc[rare]",
                "rare_quarter_macro_f1"]:
        assert col in frame.columns and frame[col].notna().all(), col
    md = (out / "summary.md").read_text()
    assert "samples f1" in md and "hamming loss" in md and "| mlp | asl | ml-ros | 2 |" in md
    for png in ["pr_curves.png", "recall_bars.png", "prevalence_f1.png", "class_distribution.png"]:
        assert (out / png).stat().st_size > 1000, png
    run_dir = out / "runs" / "mlp__asl__none__seed0"
    graph = tmp_path / "graph.pt"
    torch.save(load(toy_dataset, root=str(tmp_path / "data")), graph)
    assert predict_main([str(run_dir), "--graph", str(graph), "--out", str(tmp_path / "p.csv")]) == 0
    scored = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert len(scored) == 240 and "proba_rare" in scored.columns
    assert set("|".join(scored["predicted"]).split("|")) <= {"drama", "comedy", "action", "rare", ""}
    assert predict_main([str(run_dir), "--out", str(tmp_path / "own.csv")]) == 0  # its own graph
