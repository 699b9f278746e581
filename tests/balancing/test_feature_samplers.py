"""imbalanced-learn's samplers on node-feature rows (``smote``, ``smote-tomek``, ``adasyn``):
counts, seeds, the small-class error, the multi-label powerset, the feature baselines end
to end, and the graph models' refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.balancing.samplers import SAMPLERS, FeatureSamplerError, feature_row_samplers
from hetero_imb.balancing.samplers.feature_rows import resampled_graph
from hetero_imb.params import ParamError
from hetero_imb.training.config import RunConfig
from hetero_imb.training.runner import run, validate_names

NAMES = ["smote", "smote-tomek", "adasyn"]


def _blobs(seed: int = 0, sizes=(60, 12, 8), spread: float = 1.0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    x = np.concatenate([rng.randn(n, 2) * spread + centers[c] for c, n in enumerate(sizes)])
    y = np.repeat(np.arange(len(sizes)), sizes)
    return x, y


def _rows(name, x, y, seed=0, **params):
    return SAMPLERS.get(name)(**params).fit_resample(x, y, seed=seed)


def test_registered_as_feature_row_samplers():
    assert feature_row_samplers() == tuple(NAMES)
    for name in NAMES:
        assert SAMPLERS.get(name).rows == "features" and SAMPLERS.summary(name)


def test_smote_fills_every_class_to_the_largest_keeping_the_input_rows():
    x, y = _blobs()
    rows = _rows("smote", x, y)
    assert np.bincount(rows.y).tolist() == [60, 60, 60]
    assert rows.kept.all() and np.allclose(rows.x[:80], x)  # input rows first, unchanged
    assert len(rows.new_y) == 100 and np.allclose(rows.x[80:], rows.new_x)
    # a synthetic row lies between rows of its class: inside the class's bounding box
    for c in (1, 2):
        new, own = rows.new_x[rows.new_y == c], x[y == c]
        assert (new >= own.min(0) - 1e-9).all() and (new <= own.max(0) + 1e-9).all()


def test_minority_strategy_fills_the_smallest_class_only():
    x, y = _blobs()
    rows = _rows("smote", x, y, sampling_strategy="minority")
    assert np.bincount(rows.y).tolist() == [60, 12, 60]


def test_smote_tomek_removes_the_rows_of_tomek_links():
    x, y = _blobs(spread=1.6)  # overlapping classes: Tomek links exist
    smote, tomek = _rows("smote", x, y), _rows("smote-tomek", x, y)
    assert len(tomek.y) < len(smote.y)
    assert not tomek.kept.all()
    assert np.allclose(tomek.x[: tomek.kept.sum()], x[tomek.kept])
    assert np.bincount(tomek.y).max() <= 60


def test_adasyn_counts_are_close_to_the_largest_class():
    x, y = _blobs(spread=1.6)
    counts = np.bincount(_rows("adasyn", x, y).y)
    assert counts[0] == 60 and all(abs(int(n) - 60) <= 3 for n in counts[1:])


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_rows_other_seed_other_rows(name):
    x, y = _blobs(spread=1.6)
    a, b, c = _rows(name, x, y, seed=1), _rows(name, x, y, seed=1), _rows(name, x, y, seed=2)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.new_x, c.new_x)


@pytest.mark.parametrize("name", NAMES)
def test_a_class_too_small_for_k_neighbors_is_one_clear_error(name):
    x, y = _blobs(sizes=(30, 10, 3))
    names = ["big", "mid", "tiny"]
    with pytest.raises(FeatureSamplerError, match=(
            rf"^sampler '{name}': k_neighbors must be below the training rows of every class "
            r"it fills; class 'tiny' has 3 training rows, k_neighbors=5 needs at least 6 "
            r"\(pass k_neighbors=2 or less")):
        SAMPLERS.get(name)().fit_resample(x, y, seed=0, names=names)
    assert np.bincount(_rows(name, x, y, k_neighbors=2).y)[2] > 3  # the suggested k works


def test_options_are_validated_in_the_one_option_system():
    x, y = _blobs()
    with pytest.raises(ParamError, match=r"^sampler 'smote': k_neighbors must be an integer >= 1, got 0"):
        _rows("smote", x, y, k_neighbors=0)
    with pytest.raises(ParamError, match=r"sampling_strategy must be one of auto, minority"):
        _rows("adasyn", x, y, sampling_strategy="most")
    with pytest.raises(ParamError, match="has no parameter"):
        _rows("smote-tomek", x, y, ratio=1)


def test_multilabel_powerset_round_trip():
    rng = np.random.RandomState(0)
    sets = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32)
    sizes = [40, 12, 9, 1]  # the last label set has a single member
    y = np.concatenate([np.repeat(sets[i : i + 1], n, axis=0) for i, n in enumerate(sizes)])
    x = np.concatenate([rng.randn(n, 3) + 4 * i for i, n in enumerate(sizes)])
    rows = _rows("smote", x, y, k_neighbors=3)
    assert rows.y.shape[1] == 3 and rows.y.dtype == np.float32
    assert rows.kept.all() and np.array_equal(rows.y[: len(y)], y)
    # every synthetic row decodes to a label set of the input, drawn from that set's rows
    found = {tuple(r) for r in rows.new_y.astype(int)}
    assert found == {(1, 1, 0), (0, 0, 1)}
    counts = {tuple(s.astype(int)): int((rows.y == s).all(1).sum()) for s in sets}
    assert counts == {(1, 0, 0): 40, (1, 1, 0): 40, (0, 0, 1): 40, (0, 1, 1): 1}  # the single is kept
    for s in ((1, 1, 0), (0, 0, 1)):
        new = rows.new_x[(rows.new_y == s).all(1)]
        own = x[(y == s).all(1)]
        assert (new >= own.min(0) - 1e-9).all() and (new <= own.max(0) + 1e-9).all()


def test_resampled_graph_appends_training_rows_only(toy_split):
    data = toy_split
    n = data["item"].num_nodes
    x = data["item"].x
    graph = resampled_graph(data, x, SAMPLERS.get("smote")(k_neighbors=2), seed=0)
    store = graph["item"]
    k = store.num_nodes - n
    assert k > 0 and graph.edge_types == []
    assert torch.equal(store.x[:n], x) and torch.equal(store.y[:n], data["item"].y)
    assert store.train_mask[n:].all() and not store.val_mask[n:].any() and not store.test_mask[n:].any()
    train_counts = torch.bincount(store.y[store.train_mask])
    assert train_counts.min() == train_counts.max()  # balanced


def _learnable_graph(seed: int = 0) -> HeteroData:
    """One node type, two overlapping Gaussian classes (1,000 : 60) in 2-D features."""
    gen = torch.Generator().manual_seed(seed)
    sizes = (1000, 60)
    x = torch.cat([torch.randn(sizes[0], 2, generator=gen),
                   torch.randn(sizes[1], 2, generator=gen) + 2.0])
    y = torch.cat([torch.zeros(sizes[0]), torch.ones(sizes[1])]).long()
    n = sum(sizes)
    data = HeteroData()
    data["item"].x, data["item"].y = x, y
    data["item", "links", "item"].edge_index = torch.stack([torch.arange(n), torch.arange(n).roll(1)])
    data.target_node_type, data.class_names = "item", ["common", "rare"]
    return data


SMALL = {"mlp": {"hidden": 16, "dropout": 0.0}, "xgboost": {"n_estimators": 50, "n_jobs": 1}}


def _rare_recall(result) -> float:
    return result.metrics["test"]["per_class"]["rare"]["recall"]


@pytest.mark.parametrize("model", ["mlp", "xgboost"])
@pytest.mark.parametrize("sampler", NAMES)
def test_feature_baselines_train_on_resampled_rows(model, sampler):
    config = RunConfig(dataset="toy", model=model, model_params=SMALL[model], sampler=sampler,
                       epochs=100, patience=0, seed=0)
    base = run(config.replace(sampler="none"), data=_learnable_graph())
    a = run(config, data=_learnable_graph())
    b = run(config, data=_learnable_graph())
    assert a.proba.shape == (1060, 2) and torch.equal(a.proba, b.proba)  # reproducible
    assert a.features == base.features  # the real nodes' features, described as without
    assert a.features.startswith("node features x[2]")
    assert a.class_counts == base.class_counts  # the real nodes' counts are reported
    assert a.class_counts["test"][1] == 12
    # the sampler helps the rare class (measured: none 6 or 5 of 12, samplers 8 to 11)
    assert _rare_recall(a) >= _rare_recall(base) + 2 / 12, (_rare_recall(base), _rare_recall(a))


def test_graph_models_refuse_feature_row_samplers():
    for model in ("gcn", "rgcn", "han"):
        with pytest.raises(ValueError, match=(
                rf"^model '{model}' cannot take sampler 'smote': it re-samples node-feature rows "
                r"before fitting, and its synthetic rows have no edges .*; models that can: "
                r"mlp, xgboost$")):
            validate_names(RunConfig(dataset="synthetic", model=model, sampler="smote"))
    with pytest.raises(ValueError, match="cannot run in the training loop: it re-samples"):
        SAMPLERS.get("adasyn")().fit(None, torch.arange(3), torch.zeros(3))


def test_mlp_with_a_feature_sampler_refuses_an_augmenter():
    # graphens: an augmenter mlp takes without a feature sampler (bat it refuses anyway)
    config = RunConfig(dataset="toy", model="mlp", sampler="smote", augmenter="graphens",
                       epochs=2)
    with pytest.raises(ValueError, match="augmenter must be 'none', got 'graphens'"):
        run(config, data=_learnable_graph())


CLI_FAST = ["--dataset", "synthetic", "--epochs", "2", "--no-progress", "--hidden", "8"]


@pytest.mark.parametrize("model", ["mlp", "xgboost"])
def test_cli_trains_a_feature_baseline_with_smote(tmp_path, model):
    from hetero_imb.cli.train import main

    out = tmp_path / "run"
    extra = ["--model-param", "n_estimators=5"] if model == "xgboost" else []
    code = main([*CLI_FAST, "--model", model, *extra, "--sampler", "smote",
                 "--sampler-param", "k_neighbors=2", "--out", str(out)])
    assert code == 0 and (out / "results.json").is_file()


def test_cli_refuses_smote_for_a_graph_model_before_any_work(tmp_path, capsys):
    from hetero_imb.cli.train import main

    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        main([*CLI_FAST, "--model", "rgcn", "--sampler", "smote", "--out", str(out)])
    assert exc.value.code == 2
    assert "model 'rgcn' cannot take sampler 'smote'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_small_class_is_a_data_error(tmp_path, capsys):
    from hetero_imb.cli.train import main

    out = tmp_path / "x"
    code = main([*CLI_FAST, "--model", "xgboost", "--model-param", "n_estimators=5",
                 "--imbalance", "counts:100,50,20,5", "--sampler", "adasyn", "--out", str(out)])
    assert code == 1
    assert "k_neighbors must be below the training rows" in capsys.readouterr().err


def test_resampled_graph_on_a_multilabel_graph():
    gen = torch.Generator().manual_seed(0)
    sets = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y = sets[torch.tensor([0] * 30 + [1] * 8 + [2] * 6)]
    y = torch.cat([y, torch.full((4, 2), -1.0)])  # 4 unlabelled rows
    data = HeteroData()
    data["movie"].x = torch.randn(48, 3, generator=gen)
    data["movie"].y = y
    data["movie"].train_mask = torch.ones(48, dtype=torch.bool)
    data["movie"].val_mask = data["movie"].test_mask = torch.zeros(48, dtype=torch.bool)
    data.target_node_type, data.class_names = "movie", ["drama", "comedy"]
    graph = resampled_graph(data, data["movie"].x, SAMPLERS.get("smote")(k_neighbors=3), seed=0)
    store = graph["movie"]
    assert store.num_nodes == 48 + 22 + 24 and torch.equal(store.y[:48], y)
    new = store.y[48:]
    assert ((new == sets[1]).all(1) | (new == sets[2]).all(1)).all()
    assert store.train_mask.all()  # unlabelled rows keep their mask, never re-sampled
