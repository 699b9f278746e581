"""A saved model scores a graph only in its training schema: relations and meta-paths
listed in another order are put back in the run's order, a relation or node type the
run did not have is refused in one line, and the graph passes the validation gate
before any model code reads it (an out-of-range edge id crashed the process)."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

import hetero_imb as hi
from hetero_imb.data.validate import GraphValidationError

N = 90
IDS = {"user": "uid", "device": "did", "merchant": "mid"}


def _tables():
    rng = np.random.default_rng(0)
    label = np.array(["a"] * 50 + ["b"] * 25 + ["c"] * 15)
    users = pd.DataFrame({"uid": [f"u{i}" for i in range(N)],
                          "f1": rng.normal(size=N) + (label == "b"), "label": label})
    devices = pd.DataFrame({"did": [f"d{j}" for j in range(10)], "g": rng.normal(size=10)})
    merchants = pd.DataFrame({"mid": [f"m{j}" for j in range(8)], "h": rng.normal(size=8)})
    uses = pd.DataFrame({"src": users.uid, "dst": [f"d{j}" for j in rng.integers(0, 10, N)]})
    pays = pd.DataFrame({"src": users.uid, "dst": [f"m{j}" for j in rng.integers(0, 8, N)]})
    return ({"user": users, "device": devices, "merchant": merchants},
            {("user", "uses", "device"): uses, ("user", "pays", "merchant"): pays})


def _graph(node_order=("user", "device", "merchant"), edge_order=("uses", "pays")):
    nodes, edges = _tables()
    keys = {et[1]: et for et in edges}
    return hi.from_pandas({t: nodes[t] for t in node_order},
                          {keys[r]: edges[keys[r]] for r in edge_order},
                          target="user", node_id=IDS)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    data = hi.stratified_split(_graph(), seed=0)
    runs = {}
    for model in ("rgcn", "han", "hgt"):
        config = hi.RunConfig(dataset="custom", model=model, split="given", epochs=20, seed=0,
                              model_params={"hidden": 16})
        result = hi.run(config, data=data, progress=False)
        runs[model] = hi.load_run(hi.save_run(result, tmp_path_factory.mktemp(model) / "run"))
    return runs


@pytest.mark.parametrize("model", ["rgcn", "han", "hgt"])
def test_types_in_another_order_score_as_in_training(saved, model):
    reference = saved[model].predict_proba(_graph())
    for order in ({"edge_order": ("pays", "uses")},
                  {"node_order": ("user", "merchant", "device")},
                  {"node_order": ("merchant", "user", "device"), "edge_order": ("pays", "uses")}):
        other = _graph(**order)
        assert other.edge_types != _graph().edge_types or other.node_types != _graph().node_types
        assert torch.equal(saved[model].predict_proba(other), reference), order


def test_a_relation_the_run_lacks_or_misses_is_refused_in_one_line(saved):
    nodes, edges = _tables()
    renamed = {("user", "owns", "device") if et[1] == "uses" else et: t for et, t in edges.items()}
    only_uses = {et: t for et, t in edges.items() if et[1] == "uses"}
    cases = [
        (hi.from_pandas(nodes, renamed, target="user", node_id=IDS),
         "data has no relation ('user', 'uses', 'device')"),
        (hi.from_pandas(nodes, only_uses, target="user", node_id=IDS),
         "data has no relation ('user', 'pays', 'merchant')"),
    ]
    extra = _graph()
    extra["user", "knows", "user"].edge_index = torch.tensor([[0, 1], [1, 0]])
    cases.append((extra, "data has the relation ('user', 'knows', 'user'), which the run was not"))
    shop = _graph()
    shop["shop"].num_nodes = 3
    cases.append((shop, "data has node type 'shop', which the run was not trained on"))
    for graph, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
            saved["rgcn"].predict_proba(graph)
        assert "\n" not in str(err.value)


def test_meta_paths_of_another_set_are_refused(saved):
    data = _graph()
    data.metapaths = data.metapaths[:1]
    with pytest.raises(ValueError, match="data has the meta-paths"):
        saved["han"].predict_proba(data)


@pytest.mark.parametrize("fault", ["edge", "nan"])
def test_a_broken_graph_is_refused_before_the_model_reads_it(saved, fault):
    bad = copy.copy(_graph())
    if fault == "edge":
        index = bad["user", "uses", "device"].edge_index.clone()
        index[1, 0] = 999  # no device 999: the model's gather crashed the process
        bad["user", "uses", "device"].edge_index = index
        message = "target id 999 is out of range for 'device'"
    else:
        x = bad["user"].x.clone()
        x[0, 0] = float("nan")  # gave a row of NaN probabilities
        bad["user"].x = x
        message = "features x of node type 'user' contain nan"
    for score in (saved["rgcn"].predict_proba, saved["rgcn"].predictions):
        with pytest.raises(GraphValidationError, match=message):
            score(bad)


def test_data_that_is_not_a_graph_is_a_type_error(saved):
    with pytest.raises(TypeError, match="data must be a torch_geometric HeteroData, got dict"):
        saved["rgcn"].predict({"a": 1})


def test_save_run_keeps_a_folder_that_is_not_a_run(saved, tmp_path):
    result = hi.run(hi.RunConfig(dataset="custom", model="mlp", split="given", epochs=2),
                    data=hi.stratified_split(_graph(), seed=0), progress=False)
    notes = tmp_path / "mine"
    notes.mkdir()
    (notes / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a run folder") as err:
        hi.save_run(result, notes)
    assert "\n" not in str(err.value)
    assert [p.name for p in notes.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing staged
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is an existing file"):
        hi.save_run(result, tmp_path / "file")
    run = hi.save_run(result, tmp_path / "run")
    hi.save_run(result, run)  # a run folder is replaced, as before
    hi.save_run(result, notes, overwrite=True)
    assert (notes / "results.json").is_file() and not (notes / "notes.txt").exists()
