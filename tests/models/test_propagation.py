"""Label propagation (``lp``) and the Correct & Smooth smoother (``cs``): the operator and
both outputs checked against numbers computed by hand, their effect on a seeded graph,
the command line, and the saved run."""

import json
import math

import pytest
import torch
from torch_geometric.data import HeteroData

import hetero_imb as hi
from hetero_imb.cli.train import main
from hetero_imb.data.datasets.synthetic import make_synthetic
from hetero_imb.models.label_propagation import LabelPropagator
from hetero_imb.models.propagation import (
    TrainingLabels,
    class_mass,
    propagate,
    target_operator,
)
from hetero_imb.models.smoothers import SMOOTHERS, build_smoother
from hetero_imb.params import ParamError


def _papers() -> HeteroData:
    """4 papers, 2 authors: author 0 wrote papers 0, 1, 2; author 1 wrote papers 2, 3.

    Classes: papers 0, 1 -> 0; papers 2, 3 -> 1. Train: papers 0 and 3; val: 1; test: 2.
    """
    g = HeteroData(target_node_type="paper", class_names=["a", "b"])
    g["paper"].num_nodes, g["author"].num_nodes = 4, 2
    g["paper"].y = torch.tensor([0, 0, 1, 1])
    g["paper"].train_mask = torch.tensor([True, False, False, True])
    g["paper"].val_mask = torch.tensor([False, True, False, False])
    g["paper"].test_mask = torch.tensor([False, False, True, False])
    ei = torch.tensor([[0, 1, 2, 2, 3], [0, 0, 0, 1, 1]])
    g["paper", "by", "author"].edge_index = ei
    g["author", "wrote", "paper"].edge_index = ei.flip(0)
    return g


def _by_hand_operator() -> torch.Tensor:
    # A D^-1 A^T with author degrees 3 and 2, diagonal dropped:
    w = torch.tensor([[0, 1 / 3, 1 / 3, 0], [1 / 3, 0, 1 / 3, 0],
                      [1 / 3, 1 / 3, 0, 1 / 2], [0, 0, 1 / 2, 0]], dtype=torch.float64)
    d = w.sum(1).rsqrt()
    return d[:, None] * w * d[None, :]


def test_operator_is_the_normalised_metapath_graph_by_hand():
    op = target_operator(_papers())
    assert op.names == ["paper-author-paper"]  # only relations leaving the target type
    got = torch.tensor(op.matrix().toarray())
    assert torch.allclose(got, _by_hand_operator(), atol=1e-9)
    assert torch.all(got.diagonal() == 0)  # no self loops


def test_operator_of_a_homogeneous_graph_is_the_relation_itself():
    g = HeteroData(target_node_type="page", class_names=["x", "y"])
    g["page"].num_nodes = 3
    g["page", "links", "page"].edge_index = torch.tensor([[0, 1, 2], [1, 0, 2]])  # + a self loop
    got = target_operator(g).matrix().toarray()
    assert got.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_two_paths_are_averaged_with_their_weights():
    g = _papers()
    g["venue"].num_nodes = 1
    g["paper", "in", "venue"].edge_index = torch.tensor([[1, 3], [0, 0]])
    op = target_operator(g)
    assert op.names == ["paper-author-paper", "paper-venue-paper"]
    venue = torch.zeros(4, 4, dtype=torch.float64)
    venue[1, 3] = venue[3, 1] = 1.0  # one shared venue: weight 1/2, normalised to 1
    expected = 0.25 * _by_hand_operator() + 0.75 * venue
    assert torch.allclose(torch.tensor(op.matrix([0.25, 0.75]).toarray()), expected)


def test_label_propagation_by_hand():
    g = _papers()
    op = target_operator(g)
    seeds = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # train: 0 (a), 3 (b)
    s = _by_hand_operator().float()
    alpha = 0.6
    by_hand = seeds
    for _ in range(2):
        by_hand = (alpha * s @ by_hand + (1 - alpha) * seeds).clamp(0, 1)
    got = propagate(op, seeds, alpha=alpha, steps=2)
    assert torch.allclose(got, by_hand, atol=1e-6)


def test_lp_model_uses_only_training_labels_and_predicts_by_hand():
    g = _papers()
    model = LabelPropagator(alpha=0.6, steps=2, class_mass=False).fit(g)
    assert model.labels.ids == [0, 3] and model.labels.y.tolist() == [0, 1]
    # a change of validation or test labels changes nothing
    g2 = _papers()
    g2["paper"].y = torch.tensor([0, 1, 0, 1])
    proba2 = LabelPropagator(alpha=0.6, steps=2, class_mass=False).fit(g2).predict_graph(g2)
    seeds = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # train: 0 (a), 3 (b)
    s = _by_hand_operator().float()
    f = seeds
    for _ in range(2):
        f = (0.6 * s @ f + 0.4 * seeds).clamp(0, 1)
    by_hand = f / f.sum(1, keepdim=True)
    proba = model.predict_graph(g)
    assert torch.allclose(proba, by_hand, atol=1e-6)
    assert torch.allclose(proba2, proba)


def test_class_mass_gives_each_class_its_training_share():
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.6, 0.3]])
    out = class_mass(scores, torch.tensor([0.5, 0.5]))
    assert torch.allclose(out.sum(0), torch.tensor([0.5, 0.5]))
    assert out[2].argmax() == 1  # the flooded class no longer wins everywhere


def test_unset_settings_are_chosen_on_validation():
    model = LabelPropagator().fit(_papers())
    assert model.chosen["alpha"] in (0.5, 0.8, 0.9, 0.95, 0.99)
    assert model.chosen["class_mass"] in (True, False)
    fixed = LabelPropagator(alpha=0.8, class_mass=True).fit(_papers())
    assert fixed.chosen["alpha"] == 0.8 and fixed.chosen["class_mass"] is True


def test_correct_and_smooth_by_hand():
    g = _papers()
    z = torch.tensor([[0.6, 0.4], [0.5, 0.5], [0.5, 0.5], [0.3, 0.7]])
    cs = build_smoother("cs", correction_alpha=0.5, smoothing_alpha=0.5, correction_steps=1,
                        smoothing_steps=1, autoscale=False, scale=1.0).fit(z, g)
    s = _by_hand_operator().float()
    y = torch.tensor([[1.0, 0.0], [0, 0], [0, 0], [0.0, 1.0]])
    train = torch.tensor([1.0, 0, 0, 1.0])[:, None]
    error = (y - z) * train
    e1 = 0.5 * s @ error + 0.5 * error
    e1 = e1 * (1 - train) + error * train  # PyG keeps the training residuals fixed
    corrected = z + e1
    start = corrected * (1 - train) + y * train
    smooth = (0.5 * s @ start + 0.5 * start).clamp(0, 1)
    by_hand = smooth / smooth.sum(1, keepdim=True)
    assert torch.allclose(cs.transform(z, g), by_hand, atol=1e-6)


def test_bad_parameters_are_one_line_errors():
    with pytest.raises(ParamError, match=r"^smoother 'cs': smoothing_alpha must be"):
        build_smoother("cs", smoothing_alpha=1.5)
    with pytest.raises(ParamError, match=r"^model 'lp': path_weights must be 1 non-negative"):
        LabelPropagator(path_weights=[1.0, 2.0]).fit(_papers())
    with pytest.raises(ParamError, match="alpha must be a float > 0 and < 1 or none, got 1.0"):
        hi.MODELS.validate("lp", {"alpha": 1.0})
    assert SMOOTHERS.names() == ["none", "cs"]


def test_training_labels_follow_node_ids():
    g = _papers()
    g.node_ids = {"paper": ["p0", "p1", "p2", "p3"], "author": [0, 1]}
    labels = TrainingLabels.of(g)
    assert labels.ids == ["p0", "p3"]
    g.node_ids = {"paper": ["p3", "p9", "p0", "p1"], "author": [0, 1]}
    pos, lab = labels.index(g)
    assert pos.tolist() == [2, 0] and lab.tolist() == [0, 1]


# --- effect on a seeded graph ---------------------------------------------------------

def _macro_f1(result):
    return result.metrics["test"]["macro_f1"]


@pytest.fixture(scope="module")
def synthetic_few_labels():
    """The synthetic graph (labels follow the neighbours' communities, item features are
    weak) with 5% training labels: the structure carries most of the signal."""
    data = make_synthetic(num_items=400, item_features=8, seed=3, homophily=0.8)
    return hi.stratified_split(data, train=0.05, val=0.25, test=0.7, seed=0)


def test_lp_and_cs_beat_the_plain_model(synthetic_few_labels):
    data = synthetic_few_labels
    base = hi.RunConfig(dataset="custom", split="given", epochs=60, patience=20, seed=0,
                        model="mlp")
    plain = hi.run(base, data=data, progress=False)
    smoothed = hi.run(base.replace(smoother="cs"), data=data, progress=False)
    lp = hi.run(base.replace(model="lp"), data=data, progress=False)
    # measured: MLP on the item features 0.30, + cs 0.37, lp 0.67
    assert _macro_f1(smoothed) > _macro_f1(plain) + 0.05
    assert _macro_f1(lp) > _macro_f1(plain) + 0.2
    assert lp.timing["epochs"] == 50 and lp.history == []  # no training loop
    assert "training labels only" in lp.features


# --- command line and saved runs ------------------------------------------------------

FAST = ["--dataset", "synthetic", "--epochs", "3", "--no-progress", "--hidden", "8"]


def test_cli_lp_and_cs(tmp_path, capsys):
    assert main([*FAST, "--model", "lp", "--out", str(tmp_path / "lp")]) == 0
    res = json.loads((tmp_path / "lp" / "results.json").read_text())
    assert res["model"] == "lp" and 0.0 <= res["metrics"]["test"]["macro_f1"] <= 1.0
    code = main([*FAST, "--model", "rgcn", "--smoother", "cs", "--smoother-param",
                 "smoothing_alpha=0.8", "--out", str(tmp_path / "cs")])
    assert code == 0
    assert "smoother cs" in capsys.readouterr().out
    cfg = (tmp_path / "cs" / "config.yaml").read_text()
    assert "smoother: cs" in cfg and "smoothing_alpha: 0.8" in cfg
    res = json.loads((tmp_path / "cs" / "results.json").read_text())
    assert res["smoother"] == "cs" and res["smoother_params"] == {"smoothing_alpha": 0.8}


def test_a_grid_with_a_smoother_labels_its_rows():
    from hetero_imb.training.grid import Grid

    grid = Grid.from_dict({"smoother": "cs", "grid": {"models": ["mlp", "lp"], "seeds": [0]}})
    specs = list(grid.runs())
    assert [s.model for s in specs] == ["mlp+cs", "lp+cs"]
    assert specs[0].key == "mlp+cs__ce__none__seed0" and specs[0].config.smoother == "cs"
    plain = list(Grid.from_dict({"grid": {"models": ["lp"], "seeds": [0]}}).runs())
    assert plain[0].key == "lp__ce__none__seed0"


@pytest.mark.parametrize("args, needle", [
    (["--model", "lp", "--model-param", "alpha=2"], "model 'lp': alpha must be a float > 0"),
    (["--smoother", "nope"], "unknown smoother 'nope'"),
    (["--smoother", "cs", "--smoother-param", "steps=3"], "smoother 'cs' has no parameter"),
    (["--model", "lp", "--loss", "focal"], "model 'lp' supports loss 'ce'"),
    (["--model", "lp", "--model-param", "path_weights=1,2,3"], "path_weights must be 2"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, args, needle):
    with pytest.raises(SystemExit) as exc:
        code = main([*FAST, *args, "--out", str(tmp_path / "bad")])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("model, smoother", [("lp", "none"), ("mlp", "cs"), ("lp", "cs")])
def test_saved_run_reproduces_after_reload(tmp_path, synthetic_few_labels, model, smoother):
    data = synthetic_few_labels
    config = hi.RunConfig(dataset="custom", split="given", epochs=5, seed=0, model=model,
                          smoother=smoother)
    result = hi.run(config, data=data, progress=False)
    folder = hi.save_run(result, tmp_path / "run")
    loaded = hi.load_run(folder)
    assert torch.allclose(loaded.predict_proba(data), result.proba, atol=1e-6)
    assert not math.isnan(float(result.proba.sum()))


@pytest.mark.parametrize("decision", ["none", "min-recall:class_2:0.8"])
def test_cs_builds_the_operator_once_per_run(monkeypatch, tmp_path, synthetic_few_labels,
                                             decision):
    """fit and the run's transform share one operator (min-recall: the fitted graph is a
    copy with half the validation nodes held out, same relations); it is not saved, and a
    reload builds its own and gives the same probabilities."""
    import pickle

    import hetero_imb.models.smoothers as smoothers

    built = []
    real = smoothers.target_operator

    def counting(*args, **kw):
        built.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(smoothers, "target_operator", counting)
    data = synthetic_few_labels
    config = hi.RunConfig(dataset="custom", split="given", epochs=5, seed=0, model="mlp",
                          smoother="cs", tune_decision=decision)
    result = hi.run(config, data=data, progress=False)
    assert len(built) == 1
    smoother = result.checkpoint["smoother"]
    assert "_built" not in pickle.loads(pickle.dumps(smoother)).__dict__
    loaded = hi.load_run(hi.save_run(result, tmp_path / "run"))
    assert torch.allclose(loaded.predict_proba(data), result.proba, atol=1e-6)
    assert len(built) == 2


def test_multilabel_graphs_refuse_lp_and_smoothers(multilabel_graph):
    from hetero_imb.training.checks import ConfigError

    data = multilabel_graph
    with pytest.raises(ConfigError, match="model 'lp' works on single-label graphs only"):
        hi.run(hi.RunConfig(dataset="custom", split="given", model="lp"), data=data)
    with pytest.raises(ConfigError, match="smoother 'cs' works on single-label graphs only"):
        hi.run(hi.RunConfig(dataset="custom", split="given", model="mlp", smoother="cs"),
               data=data)


def test_compare_command_line_takes_a_smoother():
    from hetero_imb.cli.compare import build_parser, grid_from_args

    args = build_parser().parse_args(["--dataset", "synthetic", "--models", "mlp,lp", "--smoother",
                                      "cs", "--smoother-param", "smoothing_alpha=0.9",
                                      "--seeds", "0", "--out", "unused"])
    grid = grid_from_args(args)
    assert grid.base.smoother == "cs" and grid.base.smoother_params == {"smoothing_alpha": 0.9}
    assert [s.key for s in grid.runs()] == ["mlp+cs__ce__none__seed0", "lp+cs__ce__none__seed0"]
