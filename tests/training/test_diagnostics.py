"""Collapse warnings, and the issue's repro: an unscaled 0-49 column on a non-target type
(an h-index) used to train R-GCN to uniform predictions; standardisation fixes it and
the unscaled run now says that it collapsed."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

import hetero_imb as hi
from hetero_imb.training.config import RunConfig
from hetero_imb.training.diagnostics import collapse_warnings
from hetero_imb.training.runner import run


def test_single_class_and_uniform_and_flat_loss_are_reported():
    mask = torch.ones(4, dtype=torch.bool)
    one_class = torch.tensor([[0.9, 0.1]] * 4)
    assert "single class 'a'" in collapse_warnings([], one_class, mask, ["a", "b"])[0]
    # under-confident but informative predictions are not a collapse
    uniform = torch.tensor([[0.26, 0.24, 0.25, 0.25], [0.24, 0.26, 0.25, 0.25]] * 2)
    assert collapse_warnings([], uniform, mask, list("abcd")) == []
    flat = [{"loss": float(np.log(4)) + 0.01}] * 10
    healthy = torch.tensor([[0.9, 0.1, 0, 0], [0, 0.9, 0.1, 0]] * 2)
    assert "ln C = 1.3863" in collapse_warnings(flat, healthy, mask, list("abcd"))[0]
    learning = [{"loss": 1.4 - 0.1 * i} for i in range(10)]
    assert collapse_warnings(learning, healthy, mask, list("abcd")) == []


def _papers_and_authors(seed: int = 0, n_papers: int = 400, n_authors: int = 120, classes: int = 5):
    """Papers (target, featureless) written by authors with one numeric column, 0..49."""
    rng = np.random.default_rng(seed)
    paper_class = rng.integers(0, classes, n_papers)
    author_class = rng.integers(0, classes, n_authors)
    papers = pd.DataFrame({"paper_id": [f"p{i}" for i in range(n_papers)],
                           "label": [f"c{c}" for c in paper_class]})
    authors = pd.DataFrame({"author_id": [f"a{j}" for j in range(n_authors)],
                            "h_index": rng.integers(0, 50, n_authors)})
    src, dst = [], []
    for i, c in enumerate(paper_class):  # 3 authors, mostly of the paper's class
        same = np.flatnonzero(author_class == c)
        for _ in range(3):
            j = rng.choice(same) if rng.random() < 0.8 else rng.integers(0, n_authors)
            src.append(f"p{i}")
            dst.append(f"a{j}")
    return hi.from_pandas(
        {"paper": papers, "author": authors},
        {("paper", "written_by", "author"): pd.DataFrame({"src": src, "dst": dst})},
        target="paper", node_id={"paper": "paper_id", "author": "author_id"},
    )


@pytest.fixture(scope="module")
def h_index_graph():
    return _papers_and_authors()


def test_h_index_graph_trains_with_default_standardisation(h_index_graph):
    config = RunConfig(dataset="custom", model="rgcn", epochs=60, patience=0, seed=0)
    result = run(config, data=h_index_graph)
    assert result.warnings == []
    assert result.metrics["test"]["macro_f1"] > 0.6  # chance is 0.2; measured 0.875


def test_h_index_graph_unscaled_collapses_and_warns(h_index_graph, caplog):
    config = RunConfig(dataset="custom", model="rgcn", epochs=60, patience=0, seed=0,
                       standardize=False)
    with caplog.at_level(logging.WARNING, logger="hetero_imb.training.runner"):
        result = run(config, data=h_index_graph)
    assert result.metrics["test"]["macro_f1"] < 0.3
    assert any("collapsed run" in w for w in result.warnings)
    assert "collapsed run" in caplog.text
    assert result.to_dict()["warnings"] == result.warnings


def test_a_run_that_keeps_its_first_epoch_is_reported(toy_split, caplog):
    # lr 1e-12: the weights do not move, so no later epoch beats epoch 1 and its weights
    # (as initialised) are the ones kept; the run says so in one warning
    config = RunConfig(dataset="custom", model="rgcn", epochs=5, patience=0, seed=0,
                       model_params={"lr": 1e-12})
    with caplog.at_level(logging.WARNING):
        result = run(config, data=toy_split, progress=False)
    assert result.best_epoch == 1
    assert any(w.startswith("untrained model kept: epoch 1 of 5") for w in result.warnings)
    assert "untrained model kept" in caplog.text
    healthy = run(config.replace(model_params={"lr": 0.05}, epochs=30), data=toy_split,
                  progress=False)
    assert healthy.best_epoch > 1
    assert not any(w.startswith("untrained model kept") for w in healthy.warnings)


def test_first_evaluation_counts_as_the_first_epoch_with_eval_every():
    from hetero_imb.training.diagnostics import first_epoch_warnings

    nan = float("nan")
    history = [{"epoch": e, "val_macro_f1": 0.4 if e % 3 == 0 else nan} for e in range(1, 10)]
    assert first_epoch_warnings(history, 3)[0].startswith("untrained model kept: epoch 3 of 9")
    assert first_epoch_warnings(history, 6) == []
    assert first_epoch_warnings([{"epoch": 1, "val_macro_f1": 0.4}], 1) == []  # one epoch only


def test_chance_floor_is_the_same_in_chunks_on_a_large_validation_set():
    from hetero_imb.training.diagnostics import chance_floor

    y = torch.arange(300_000) % 3  # 200 draws x 300k labels: computed in chunks
    floor = chance_floor(y, 3)
    assert 1 / 3 < floor < 1 / 3 + 0.005 and floor == chance_floor(y, 3)


def test_a_class_without_training_labels_is_reported(toy_split, caplog):
    data = toy_split.clone()
    y, train = data["item"].y, data["item"].train_mask.clone()
    train[y == 3] = False  # class 3 labelled in validation and test only
    data["item"].train_mask = train
    config = RunConfig(dataset="custom", model="mlp", split="given", epochs=3, seed=0)
    with caplog.at_level(logging.WARNING):
        result = run(config, data=data, progress=False)
    name = data.class_names[3]
    lost = int(((y == 3) & ~train & (y >= 0)).sum())
    assert f"class {name!r} has no labelled training node: no model can learn it" in caplog.text
    assert [w for w in result.warnings if "no labelled training node" in w] == [
        f"class {name!r} has no labelled training node: no model can learn it (its recall "
        f"will be 0); {lost} labelled nodes of it lie outside training"]
    assert result.metrics["test"]["per_class"][name]["recall"] == 0.0
    full = run(config, data=toy_split, progress=False)
    assert not [w for w in full.warnings if "no labelled training node" in w]


@pytest.mark.parametrize(("loss", "params", "needle"), [
    ("ldam", {"drw_epoch": 50}, "before drw_epoch 50, so its deferred re-weighting never"),
    ("tam", {"warmup": 50}, "within its warmup of 50 epochs, so its margins never applied"),
])
def test_a_loss_schedule_that_never_shaped_the_kept_weights_is_reported(toy_split, loss, params,
                                                                         needle):
    config = RunConfig(dataset="custom", model="mlp", loss=loss, loss_params=params, epochs=4,
                       seed=0)
    result = run(config, data=toy_split, progress=False)
    assert [w for w in result.warnings if needle in w]
    early = run(config.replace(loss_params={k: 2 for k in params}, epochs=30, patience=0),
                data=toy_split, progress=False)
    assert not [w for w in early.warnings if "never applied" in w or "never re-weight" in w]


def test_classes_never_predicted_are_named():
    mask = torch.ones(6, dtype=torch.bool)
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    proba = torch.tensor([[0.8, 0.1, 0.1]] * 5 + [[0.1, 0.8, 0.1]])  # two classes, not 2
    lines = collapse_warnings([], proba, mask, ["a", "b", "c"], y)
    assert lines == ["ignored classes: at argmax the model never predicts 'c' (2 of the 6 "
                     "evaluated nodes are of them); try a balancing loss (weighted, "
                     "balanced-softmax) or --tune-decision balanced-accuracy"]
    every = torch.eye(3)[y]
    assert collapse_warnings([], every, mask, ["a", "b", "c"], y) == []
    # a class with no evaluated node is not "ignored"
    assert collapse_warnings([], proba, mask, ["a", "b", "c", "d"][:3], torch.tensor([0, 0, 0, 1, 1, 1])) == []


def test_multilabel_runs_that_predict_nothing_for_most_nodes_are_named():
    from hetero_imb.training.multilabel import multilabel_collapse_warnings

    mask = torch.ones(10, dtype=torch.bool)
    y = torch.ones(10, 3)
    empty = torch.full((10, 3), 0.2)
    empty[:2, 0] = 0.9  # 8 of 10 nodes get no label
    (line,) = multilabel_collapse_warnings(empty, y, mask, ["a", "b", "c"])
    assert line.startswith("near-collapsed run: the model predicts no label (at 0.5) for 80.0 %")
    full = torch.full((10, 3), 0.9)
    full[:3, 1] = 0.1  # 7 of 10 get every label
    (line,) = multilabel_collapse_warnings(full, y, mask, ["a", "b", "c"])
    assert "predicts every label (at 0.5) for 70.0 % of the 10" in line
    healthy = torch.eye(3)[torch.arange(10) % 3] * 0.8 + 0.1
    assert multilabel_collapse_warnings(healthy, y, mask, ["a", "b", "c"]) == []
