"""Run folders keep the model: load_run scores the training graph as the run did,
and target nodes added after training get predictions without retraining."""

import numpy as np
import pandas as pd
import pytest
import torch

import hetero_imb as hi
from hetero_imb.report.checkpoint import NotInductiveError

N_USERS, N_DEVICES, N_NEW = 120, 12, 10
MODELS = ["rgcn", "gcn", "mlp", "xgboost", "label-lr", "label-lr[rounds=2]"]


def _tables(n_new: int = 0):
    rng = np.random.default_rng(0)
    n = N_USERS + N_NEW  # drawn for every size, so that old users are the same rows
    fraud = rng.random(n) < 0.15
    users = pd.DataFrame({
        "user_id": [f"u{i}" for i in range(N_USERS)] + [f"new{i}" for i in range(N_NEW)],
        "age": rng.normal(np.where(fraud, 20, 40), 8),
        "score": rng.normal(np.where(fraud, 1.0, 0.0), 1.0),
        "label": np.where(fraud, "fraud", "ok").astype(object),
    })
    users.loc[N_USERS:, "label"] = None  # the new users are unlabelled
    devices = pd.DataFrame({"device_id": [f"d{j}" for j in range(N_DEVICES)]})
    device = np.where(fraud, rng.integers(0, 3, n), rng.integers(0, N_DEVICES, n))
    uses = pd.DataFrame({"src": users["user_id"], "dst": [f"d{j}" for j in device]})
    keep = N_USERS + n_new
    return users.iloc[:keep].copy(), devices, uses.iloc[:keep].copy()


def _graph(n_new: int = 0):
    users, devices, uses = _tables(n_new)
    return hi.from_pandas({"user": users, "device": devices}, {("user", "uses", "device"): uses},
                          target="user", node_id={"user": "user_id", "device": "device_id"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One saved run per model on the string-id graph."""
    data = hi.stratified_split(_graph(), train=0.6, val=0.2, test=0.2, seed=0)
    runs = {}
    params = {"xgboost": {"n_estimators": 20}, "label-lr": {}, "label-lr[rounds=2]": {"rounds": 2}}
    for model in MODELS:
        config = hi.RunConfig(dataset="custom", model=model.split("[")[0], split="given",
                              epochs=15, seed=0, model_params=params.get(model, {"hidden": 16}))
        result = hi.run(config, data=data, progress=False)
        folder = hi.save_run(result, tmp_path_factory.mktemp(model) / "run")
        runs[model] = (result, folder)
    return data, runs


@pytest.mark.parametrize("model", MODELS)
def test_loaded_model_reproduces_the_run(trained, model):
    data, runs = trained
    result, folder = runs[model]
    loaded = hi.load_run(folder)
    proba = loaded.predict_proba(data)
    assert torch.allclose(proba, result.proba, atol=1e-6)
    frame = loaded.predictions(data)
    assert frame["node_id"].tolist() == [f"u{i}" for i in range(N_USERS)]
    assert set(frame["predicted"]) <= {"fraud", "ok"}
    np.testing.assert_allclose(frame[["proba_fraud", "proba_ok"]].sum(axis=1), 1.0, atol=1e-5)
    # the run folder's own predictions.csv (val + test) agrees with predict
    saved = pd.read_csv(folder / "predictions.csv")
    assert set(saved["split"]) == {"val", "test"}
    merged = saved.merge(frame, on="node_id", suffixes=("", "_now"))
    assert len(merged) == len(saved) and (merged["predicted"] == merged["predicted_now"]).all()


@pytest.mark.parametrize("model", MODELS)
def test_ten_new_nodes_get_predictions_without_retraining(trained, model):
    _, runs = trained
    result, folder = runs[model]
    bigger = _graph(N_NEW)
    frame = hi.load_run(folder).predictions(bigger)
    assert len(frame) == N_USERS + N_NEW
    new = frame[frame["node_id"].str.startswith("new")]
    assert len(new) == N_NEW and new["predicted"].isin(["fraud", "ok"]).all()
    np.testing.assert_allclose(new[["proba_fraud", "proba_ok"]].sum(axis=1), 1.0, atol=1e-5)
    old = torch.tensor(frame[["proba_fraud", "proba_ok"]].to_numpy()[:N_USERS], dtype=torch.float)
    if model in ("mlp", "xgboost"):
        # features-only models: a node's score depends on its own features alone
        assert torch.allclose(old, result.proba, atol=1e-6)
    else:
        # graph models: users outside the new users' 2-hop neighbourhood keep their scores
        # (label-lr: each user has one device, so an untouched device's users only ever
        # meet each other along user-device-user, at one step or two, and in round 2
        # read predictions of those same users)
        users, _, uses = _tables(N_NEW)
        touched = set(uses["dst"][N_USERS:])
        far = ~uses["dst"][:N_USERS].isin(touched).to_numpy()
        assert far.sum() > 0
        assert torch.allclose(old[far], result.proba[far], atol=1e-5)


def test_featureless_type_with_new_nodes_says_why_and_what_to_do(trained):
    _, runs = trained
    users, devices, uses = _tables(N_NEW)
    devices = pd.concat([devices, pd.DataFrame({"device_id": ["d_new"]})], ignore_index=True)
    uses.loc[len(uses) - 1, "dst"] = "d_new"
    data = hi.from_pandas({"user": users, "device": devices}, {("user", "uses", "device"): uses},
                          target="user", node_id={"user": "user_id", "device": "device_id"})
    with pytest.raises(NotInductiveError, match="featureless node type 'device'.*give 'device' features"):
        hi.load_run(runs["rgcn"][1]).predict(data)


def test_featureless_nodes_in_another_order_are_named_as_such(trained):
    _, runs = trained
    users, devices, uses = _tables()
    data = hi.from_pandas({"user": users, "device": devices.iloc[::-1]},
                          {("user", "uses", "device"): uses},
                          target="user", node_id={"user": "user_id", "device": "device_id"})
    with pytest.raises(NotInductiveError, match="the same 'device' nodes in another order"):
        hi.load_run(runs["rgcn"][1]).predict(data)


def test_metapath2vec_is_not_inductive(tmp_path):
    data = hi.stratified_split(_graph(), train=0.6, val=0.2, test=0.2, seed=0)
    config = hi.RunConfig(dataset="custom", model="metapath2vec", split="given", epochs=2,
                          model_params={"hidden": 8, "embedding_dim": 8, "embedding_epochs": 1,
                                        "cache": False})
    folder = hi.save_run(hi.run(config, data=data, progress=False), tmp_path / "m2v")
    loaded = hi.load_run(folder)
    assert loaded.predict(data).shape == (N_USERS,)
    with pytest.raises(NotInductiveError, match="metapath2vec learns one embedding per node.*retrain"):
        loaded.predict(_graph(N_NEW))


def test_schema_errors_are_one_line(trained):
    data, runs = trained
    other = data.clone()
    other["user"].x = torch.zeros(N_USERS, 5)
    with pytest.raises(ValueError, match="node type 'user' must have 2 features"):
        hi.load_run(runs["gcn"][1]).predict(other)


def test_missing_model_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.pt does not exist"):
        hi.load_run(tmp_path)


def test_tuned_offsets_are_saved_and_applied(tmp_path, trained):
    data, _ = trained
    config = hi.RunConfig(dataset="custom", model="mlp", split="given", epochs=10,
                          tune_decision="recall:fraud:0.3", model_params={"hidden": 8})
    result = hi.run(config, data=data, progress=False)
    assert result.decision["spec"] == "recall:fraud:0.3"
    assert result.to_dict()["decision"]["metrics"]["test"]["per_class"]["fraud"]["recall"] >= \
        result.metrics["test"]["per_class"]["fraud"]["recall"] - 1e-9 or not result.decision["reached"]
    loaded = hi.load_run(hi.save_run(result, tmp_path / "tuned"))
    offsets = torch.tensor(result.decision["offsets"])
    expected = (result.proba.clamp_min(1e-12).log() + offsets).argmax(-1)
    assert torch.equal(loaded.predict(data), expected)


def test_a_graph_passed_in_code_must_be_given_again(trained):
    _, runs = trained
    with pytest.raises(ValueError, match="trained on a graph passed in code.*pass data="):
        hi.load_run(runs["mlp"][1]).predict()
