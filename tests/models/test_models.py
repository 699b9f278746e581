"""The model zoo: every registered neural model builds, trains, is seeded and batches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData
from torch_geometric.nn import GCNConv

import hetero_imb.models.metapath2vec as m2v
from hetero_imb import paths
from hetero_imb.data.graph import metapath_edge_index
from hetero_imb.models import MODELS, build_model
from hetero_imb.models.han import cap_neighbors
from hetero_imb.models.homogeneous import GCNEncoder, homogeneous_projection
from hetero_imb.models.mlp import standardise
from hetero_imb.models.rgcn import RGCNEncoder
from hetero_imb.models.sparse_adj import gcn_adjacency, mean_adjacency
from hetero_imb.params import ParamError

NEURAL = [name for name in MODELS if MODELS.get(name).kind == "neural"]
GRAPHS = ["toy_split", "toy_split_featureless"]


def settings(name: str, cache_dir) -> dict:
    """Small, fast settings for the toy graph (300 items, 4 classes)."""
    out: dict = {"hidden": 16, "dropout": 0.1}
    if name in ("gat", "han"):
        out["heads"] = 2
    if name == "metapath2vec":
        out.update(
            embedding_dim=16,
            walks_per_node=3,
            embedding_epochs=3,
            cache_dir=str(cache_dir),
            progress=False,
        )
    return out


def make(name: str, data: HeteroData, cache_dir, seed: int = 0, **extra):
    model = build_model(name, data, seed=seed, **{**settings(name, cache_dir), **extra})
    return model, model.encoder.preprocess(data)


def test_registry_holds_the_zoo():
    assert {"gcn", "gat", "rgcn", "han", "metapath2vec", "mlp"} <= set(NEURAL)
    for name in NEURAL:
        assert MODELS.summary(name), name
    assert MODELS.validate("gat")["heads"] == 8
    assert MODELS.validate("gat")["hidden"] == 64
    assert MODELS.validate("han")["num_layers"] == 1
    assert MODELS.validate("rgcn")["num_layers"] == 2


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("name", NEURAL)
def test_forward_gives_finite_embeddings_and_logits(name, graph, request, tmp_path):
    data = request.getfixturevalue(graph)
    model, prepared = make(name, data, tmp_path)
    assert model.encoder.out_channels == 16
    z = model.embed(prepared)
    assert z.shape == (300, 16)
    assert torch.isfinite(z).all()
    logits = model.classify(z)
    assert logits.shape == (300, 4)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("name", NEURAL)
def test_short_training_fits_and_graph_models_generalise(name, graph, request, tmp_path):
    data = request.getfixturevalue(graph)
    store = data["item"]
    y, train = store.y, store.train_mask
    held_out = store.val_mask | store.test_mask
    majority = torch.bincount(y[train]).max().item() / int(train.sum())  # 0.61
    model, prepared = make(name, data, tmp_path)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(50):
        model.train()
        optimiser.zero_grad()
        z = model.embed(prepared)
        loss = F.cross_entropy(model.classify(z[train]), y[train])
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(prepared).argmax(-1)
    train_acc = (pred[train] == y[train]).float().mean().item()
    assert losses[-1] < 0.7 * losses[0]
    assert train_acc > majority + 0.1
    if name != "mlp":
        # labels follow the neighbours' communities: only a model using the graph
        # gets unseen nodes right (measured ~0.88-0.98 against 0.61; HGT on the
        # featureless seed-0 graph of the vectorised generator: 0.73, 0.81-0.87 on seeds 1-3)
        held_acc = (pred[held_out] == y[held_out]).float().mean().item()
        assert held_acc > majority + 0.1


@pytest.mark.parametrize("name", NEURAL)
def test_same_seed_same_logits_other_seed_other_logits(name, toy_graph_featureless, tmp_path):
    def logits(seed):
        model, prepared = make(name, toy_graph_featureless, tmp_path, seed=seed)
        model.eval()
        with torch.no_grad():
            return model(prepared)

    first = logits(0)
    assert torch.equal(first, logits(0))
    assert not torch.allclose(first, logits(1))


def _permuted_batch(data: HeteroData, seed: int = 3) -> HeteroData:
    """The whole graph with every node type shuffled: a subgraph carrying ``n_id``."""
    gen = torch.Generator().manual_seed(seed)
    perm = {t: torch.randperm(data[t].num_nodes, generator=gen) for t in data.node_types}
    batch = data.subgraph(perm)
    for node_type, n_id in perm.items():
        batch[node_type].n_id = n_id
    batch["item"].batch_size = 300
    return batch


def _neighbourhood_batch(data: HeteroData, seeds: torch.Tensor) -> HeteroData:
    """Seeds, their users and tags, and the other items of those: a 2-hop sample."""
    bought = data["item", "bought_by", "user"].edge_index
    tagged = data["item", "tagged", "tag"].edge_index
    users = bought[1][torch.isin(bought[0], seeds)].unique()
    tags = tagged[1][torch.isin(tagged[0], seeds)].unique()
    others = torch.cat(
        [bought[0][torch.isin(bought[1], users)], tagged[0][torch.isin(tagged[1], tags)]]
    ).unique()
    items = torch.cat([seeds, others[~torch.isin(others, seeds)]])
    n_id = {"item": items, "user": users, "tag": tags}
    batch = data.subgraph(n_id)
    for node_type, ids in n_id.items():
        batch[node_type].n_id = ids
    batch["item"].batch_size = len(seeds)
    return batch


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("name", NEURAL)
def test_minibatch_subgraphs(name, graph, request, tmp_path):
    data = request.getfixturevalue(graph)
    model, prepared = make(name, data, tmp_path)
    if not model.encoder.supports_minibatch:
        pytest.skip(f"{name} does not support mini-batches")
    model.eval()
    with torch.no_grad():
        full = model.embed(prepared)
        # a shuffled copy of the whole graph: same embeddings, rows in n_id order
        batch = _permuted_batch(prepared)
        assert torch.allclose(model.embed(batch), full[batch["item"].n_id], atol=1e-5)
        # a real 2-hop sample around 20 seeds
        seeds = torch.arange(0, 300, 15)
        batch = _neighbourhood_batch(prepared, seeds)
        z = model.embed(batch)
        assert z.shape == (batch["item"].num_nodes, 16)
        assert torch.isfinite(z).all()
        if name in ("mlp", "metapath2vec"):  # no message passing: rows are exact
            assert torch.allclose(z[: len(seeds)], full[seeds], atol=1e-6)


def test_minibatch_with_unsliced_node_attribute_uses_n_id(toy_graph, tmp_path):
    model, prepared = make("metapath2vec", toy_graph, tmp_path)
    model.eval()
    batch = HeteroData()
    batch["item"].num_nodes = 3
    batch["item"].n_id = torch.tensor([5, 0, 7])
    batch["item"][m2v.EMBEDDING_KEY] = prepared["item"][m2v.EMBEDDING_KEY]  # all 300 rows
    with torch.no_grad():
        assert torch.allclose(model.embed(batch), model.embed(prepared)[[5, 0, 7]])


# ------------------------------------------------------------------- metapath2vec


def _count_training(monkeypatch) -> list:
    calls: list = []
    original = m2v.train_metapath2vec

    def counting(*args, **kwargs):
        calls.append(kwargs.get("seed"))
        return original(*args, **kwargs)

    monkeypatch.setattr(m2v, "train_metapath2vec", counting)
    return calls


def test_metapath2vec_cache_hit_does_not_retrain(toy_graph, tmp_path, monkeypatch):
    _, first = make("metapath2vec", toy_graph, tmp_path)
    files = list(tmp_path.glob("metapath2vec-*.pt"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("retrained despite a cached embedding")

    monkeypatch.setattr(m2v, "train_metapath2vec", boom)
    _, second = make("metapath2vec", toy_graph, tmp_path)
    assert torch.equal(first["item"][m2v.EMBEDDING_KEY], second["item"][m2v.EMBEDDING_KEY])
    # labels are not part of the fingerprint: new labels, same walks, still a hit
    relabelled = toy_graph.clone()
    relabelled["item"].y = relabelled["item"].y.flip(0)
    make("metapath2vec", relabelled, tmp_path)


def test_metapath2vec_cache_misses_on_seed_settings_and_graph(toy_graph, tmp_path, monkeypatch):
    calls = _count_training(monkeypatch)
    make("metapath2vec", toy_graph, tmp_path, seed=0)
    make("metapath2vec", toy_graph, tmp_path, seed=1)
    make("metapath2vec", toy_graph, tmp_path, seed=0, walk_length=8)
    assert calls == [0, 1, 0]
    changed = toy_graph.clone()
    for edge_type in [("item", "bought_by", "user"), ("user", "rev_bought_by", "item")]:
        changed[edge_type].edge_index = changed[edge_type].edge_index[:, 1:]
    make("metapath2vec", changed, tmp_path, seed=0)
    assert calls == [0, 1, 0, 0]
    assert len(list(tmp_path.glob("metapath2vec-*.pt"))) == 4


def test_metapath2vec_without_cache_writes_nothing_and_is_seeded(toy_graph, tmp_path):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    _, a = make("metapath2vec", toy_graph, tmp_path, cache=False)
    _, b = make("metapath2vec", toy_graph, tmp_path, cache=False)
    _, c = make("metapath2vec", toy_graph, tmp_path, seed=1, cache=False)
    assert list(tmp_path.iterdir()) == []
    key = m2v.EMBEDDING_KEY
    assert torch.equal(a["item"][key], b["item"][key])
    assert not torch.allclose(a["item"][key], c["item"][key])
    assert a["item"][key].shape == (300, 16)
    # build_model seeds torch; the embedding training itself restores the global RNG
    # ... and the thread count (it trains on one thread)
    torch.set_rng_state(state)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        m2v.train_metapath2vec(toy_graph, embedding_dim=4, walk_length=4, epochs=1, seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(torch.get_rng_state(), state)


def test_metapath2vec_walk_scheme_and_default_cache_dir(toy_graph, monkeypatch, tmp_path):
    assert m2v.walk_scheme(toy_graph) == [
        ("item", "bought_by", "user"),
        ("user", "rev_bought_by", "item"),
        ("item", "tagged", "tag"),
        ("tag", "rev_tagged", "item"),
    ]
    monkeypatch.setenv(paths.ENV_DATA, str(tmp_path / "root"))
    model = build_model("metapath2vec", toy_graph, seed=0)
    path = model.encoder.cache_path(toy_graph)
    assert path.parent == paths.processed_dir(None) / "embeddings"
    assert path.parent == tmp_path / "root" / "processed" / "embeddings"
    assert not path.exists()


# --------------------------------------------------------------------------- HAN


def test_han_preprocess_adds_one_edge_type_per_metapath(toy_graph, tmp_path):
    model, prepared = make("han", toy_graph, tmp_path)
    assert ("item", "metapath_0", "item") not in toy_graph.edge_types  # input untouched
    for i, path in enumerate(toy_graph.metapaths):
        expected = metapath_edge_index(toy_graph, path, drop_self_loops=True)
        edge_index = prepared["item", f"metapath_{i}", "item"].edge_index
        # meta-path pairs plus one self-loop per item
        assert edge_index.size(1) == expected.size(1) + 300
        loops = edge_index[0] == edge_index[1]
        assert int(loops.sum()) == 300
        assert torch.equal(edge_index[:, ~loops], expected)


def test_han_neighbour_cap(toy_graph, tmp_path):
    _, prepared = make("han", toy_graph, tmp_path, max_metapath_neighbors=2)
    for i in range(2):
        src = prepared["item", f"metapath_{i}", "item"].edge_index[0]
        assert torch.bincount(src, minlength=300).max().item() <= 3  # 2 + self-loop


def test_cap_neighbors_keeps_a_seeded_subset():
    edge_index = torch.tensor([[0, 0, 0, 0, 0, 1, 1], [1, 2, 3, 4, 5, 0, 2]])

    def capped(seed):
        return cap_neighbors(edge_index, 3, torch.Generator().manual_seed(seed))

    out = capped(0)
    assert out[0].tolist() == [0, 0, 0, 1, 1]
    assert set(out[1, :3].tolist()) <= {1, 2, 3, 4, 5}
    assert sorted(out[1, 3:].tolist()) == [0, 2]
    assert torch.equal(out, capped(0))
    picks = {tuple(sorted(capped(s)[1, :3].tolist())) for s in range(10)}
    assert len(picks) > 1


# --------------------------------------------------------- homogeneous and R-GCN


def test_homogeneous_projection_by_hand():
    data = HeteroData()
    data["a"].num_nodes = 2
    data["b"].num_nodes = 3
    data["a", "to", "b"].edge_index = torch.tensor([[0, 1], [2, 0]])
    data["b", "rev_to", "a"].edge_index = torch.tensor([[2, 0], [0, 1]])
    offsets, n, edge_index, edge_type = homogeneous_projection(
        data, ["a", "b"], [("a", "to", "b"), ("a", "missing", "a"), ("b", "rev_to", "a")]
    )
    assert offsets == {"a": 0, "b": 2}
    assert n == 5
    assert edge_index.tolist() == [[0, 1, 4, 2], [4, 2, 0, 1]]
    assert edge_type.tolist() == [0, 0, 2, 2]


def test_gcn_on_one_node_type_is_plain_gcn():
    gen = torch.Generator().manual_seed(0)
    data = HeteroData()
    data["page"].x = torch.randn(6, 3, generator=gen)
    edges = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    data["page", "likes", "page"].edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    data.target_node_type = "page"
    encoder = GCNEncoder(data, hidden=4, num_layers=2, dropout=0.0, seed=0).eval()
    edge_index = data["page", "likes", "page"].edge_index
    h = encoder.input(data)["page"]
    for conv in encoder.convs:
        plain = GCNConv(4, 4)  # self-loops and symmetric normalisation inside
        plain.load_state_dict(conv.state_dict())
        h = torch.relu(plain(h, edge_index))
    assert torch.allclose(encoder(data), h, atol=1e-6)


@pytest.mark.parametrize("num_bases", [None, 2])
def test_rgcn_implementations_agree_in_output_and_gradient(toy_graph_featureless, num_bases):
    data = toy_graph_featureless
    encoders = {
        impl: RGCNEncoder(
            data, hidden=8, num_layers=2, dropout=0.0, num_bases=num_bases,
            implementation=impl, seed=0,
        )
        for impl in ("spmm", "rgcn", "fast")
    }
    reference = encoders["rgcn"]
    if num_bases is not None:
        assert reference.convs[0].comp.shape == (4, 2)  # 4 relations, 2 bases
    encoders["spmm"].load_state_dict(reference.state_dict())
    encoders["fast"].load_state_dict(reference.state_dict())
    grads = {}
    for impl, encoder in encoders.items():
        out = encoder.eval()(data)
        assert out.shape == (300, 8)
        (out * torch.arange(8.0)).sum().backward()
        grads[impl] = (out.detach(), {n: p.grad.clone() for n, p in encoder.named_parameters()})
    for impl in ("spmm", "fast"):
        assert torch.allclose(grads[impl][0], grads["rgcn"][0], atol=1e-5)
        for name, grad in grads["rgcn"][1].items():
            assert torch.allclose(grads[impl][1][name], grad, atol=1e-5), name
    assert all(g.abs().sum() > 0 for g in grads["rgcn"][1].values())  # every part is used


def test_sparse_adjacencies_by_hand():
    # edges 0->2, 1->2, 1->2 (duplicate), 2->0; node 1 receives nothing
    edge_index = torch.tensor([[0, 1, 1, 2], [2, 2, 2, 0]])
    mean = mean_adjacency(edge_index, num_src=3, num_dst=3)
    assert mean.layout == torch.sparse_csr
    assert torch.allclose(
        mean.to_dense(),
        torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1 / 3, 2 / 3, 0.0]]),
    )
    bipartite = mean_adjacency(torch.tensor([[0, 1], [0, 0]]), num_src=2, num_dst=3)
    assert bipartite.shape == (3, 2)
    assert bipartite.to_dense().tolist() == [[0.5, 0.5], [0.0, 0.0], [0.0, 0.0]]

    x = torch.randn(3, 4)
    plain = GCNConv(4, 4)  # normalises the edge list itself, duplicates included
    ours = GCNConv(4, 4, normalize=False)
    ours.load_state_dict(plain.state_dict())
    gcn = gcn_adjacency(edge_index, 3)
    assert torch.allclose(ours(x, gcn), plain(x, edge_index), atol=1e-6)
    degree = torch.tensor([2.0, 1.0, 4.0])  # in-degree with self-loop
    assert torch.isclose(gcn.to_dense()[2, 1], 2 / (degree[2] * degree[1]).sqrt())


# --------------------------------------------------------------------------- MLP


def test_mlp_features_and_description(toy_graph, toy_graph_featureless, tmp_path):
    model, prepared = make("mlp", toy_graph, tmp_path)
    assert model.encoder.feature_description == "node features x[8] (standardised)"
    assert torch.equal(prepared["item"].x, toy_graph["item"].x)  # x untouched
    x = prepared["item"].x_mlp
    assert torch.allclose(x.mean(0), torch.zeros(8), atol=1e-5)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(8), atol=1e-4)

    model, prepared = make("mlp", toy_graph_featureless, tmp_path)
    assert model.encoder.feature_description == (
        "structural: degree[bought_by], degree[tagged], metapath_neighbours[item-user-item], "
        "metapath_neighbours[item-tag-item] (standardised)"
    )
    assert prepared["item"].x_mlp.shape == (300, 4)
    assert "x" not in prepared["item"]


def test_standardise_by_hand():
    x = torch.tensor([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    std = (8.0 / 3.0) ** 0.5
    expected = torch.tensor([[-2.0 / std, 0.0], [0.0, 0.0], [2.0 / std, 0.0]])
    assert torch.allclose(standardise(x), expected)


def test_mlp_on_sparse_features_matches_dense(toy_graph, tmp_path):
    sparse = toy_graph.clone()
    sparse["item"].x = sparse["item"].x.to_sparse()
    model, prepared = make("mlp", sparse, tmp_path)
    assert model.encoder.feature_description == "node features x[8] (sparse, unscaled)"
    assert prepared["item"].x_mlp.layout == torch.sparse_coo
    model.eval()
    dense = HeteroData()
    dense["item"].num_nodes = 300
    dense["item"].x_mlp = toy_graph["item"].x  # the same features, dense and unscaled
    with torch.no_grad():
        assert torch.allclose(model.embed(prepared), model.embed(dense), atol=1e-5)


# ------------------------------------------------------------------------ errors


def test_setting_errors_name_the_model_parameter_expected_and_given(toy_graph):
    with pytest.raises(ParamError, match=r"^model 'gat': hidden must be a multiple of heads \(4\), got 10$"):
        build_model("gat", toy_graph, hidden=10, heads=4)
    with pytest.raises(
        ParamError, match=r"^model 'gcn' has no parameter 'heads'; accepted parameters: hidden, num_layers, "
    ):
        build_model("gcn", toy_graph, heads=4)
    with pytest.raises(ParamError, match=r"model 'rgcn' has no parameter 'num_base' \(did you mean 'num_bases'\?\)"):
        build_model("rgcn", toy_graph, num_base=2)
    with pytest.raises(ParamError, match=r"^model 'rgcn': implementation must be one of spmm, rgcn, fast, got 'slow'$"):
        build_model("rgcn", toy_graph, implementation="slow")
    with pytest.raises(ParamError, match=r"^model 'rgcn': num_layers must be an integer >= 1, got 0$"):
        build_model("rgcn", toy_graph, num_layers=0)
    with pytest.raises(ParamError, match=r"^model 'mlp': dropout must be a float >= 0 and < 1, got 1.0$"):
        build_model("mlp", toy_graph, dropout=1.0)
    with pytest.raises(ParamError, match=r"model 'metapath2vec': context_size must be <= walk_length \+ 1 \(5\)"):
        build_model("metapath2vec", toy_graph, walk_length=4, context_size=7)
    with pytest.raises(TypeError, match="model 'xgboost' builds a XGBoostBaseline, not an Encoder"):
        build_model("xgboost", toy_graph)


@pytest.mark.parametrize(
    ("encoder", "kwargs", "match"),
    [
        (RGCNEncoder, {"hidden": 0}, r"^model 'rgcn': hidden must be an integer >= 1, got 0$"),
        (GCNEncoder, {"num_layers": 2.5}, r"^model 'gcn': num_layers must be an integer >= 1, got 2.5$"),
        (RGCNEncoder, {"num_bases": 0}, r"^model 'rgcn': num_bases must be an integer >= 1 or none, got 0$"),
    ],
)
def test_encoders_built_directly_check_the_same_declaration(toy_graph, encoder, kwargs, match):
    with pytest.raises(ParamError, match=match):
        encoder(toy_graph, **kwargs)


@pytest.mark.parametrize("name", ["han", "metapath2vec"])
def test_metapath_models_need_metapaths(name, toy_graph):
    toy_graph.metapaths = []
    with pytest.raises(ValueError, match="graph has no 'metapaths'"):
        build_model(name, toy_graph)


@pytest.mark.parametrize("name", ["han", "metapath2vec", "mlp"])
def test_forward_before_preprocess_says_so(name, toy_graph, tmp_path):
    model = build_model(name, toy_graph, seed=0, **settings(name, tmp_path))
    with pytest.raises(RuntimeError, match="preprocess"):
        model(toy_graph)


# ----------------------------------------------------------------- real dataset


@pytest.mark.slow
@pytest.mark.parametrize("name", NEURAL)
def test_two_epochs_on_freebase(name, tmp_path):
    from hetero_imb.data.datasets import load

    data = load("freebase")
    extra = {}
    if name == "metapath2vec":
        extra = {
            "walks_per_node": 1,
            "embedding_epochs": 1,
            "cache_dir": str(tmp_path),
            "progress": False,
        }
    model = build_model(name, data, seed=0, **extra)
    prepared = model.encoder.preprocess(data)
    y = prepared["movie"].y
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        optimiser.zero_grad()
        z = model.embed(prepared)
        assert z.shape == (3492, model.encoder.out_channels)
        loss = F.cross_entropy(model.classify(z), y)
        loss.backward()
        optimiser.step()
        assert torch.isfinite(loss)


@pytest.mark.parametrize("name", ["han", "metapath2vec", "mlp"])
def test_metapaths_turned_into_lists_by_data_to_still_work(name, toy_graph, tmp_path):
    reference, expected = make(name, toy_graph.clone(), tmp_path)  # clone() also lists them
    listed = toy_graph.to("cpu")  # in place: tuples become lists
    assert isinstance(listed.metapaths[0][0], list)
    model, prepared = make(name, listed, tmp_path)
    model.eval()
    reference.eval()
    with torch.no_grad():
        assert torch.equal(model(prepared), reference(expected))


def test_han_cap_above_every_count_keeps_the_exact_meta_path_graph(toy_graph, tmp_path):
    _, exact = make("han", toy_graph, tmp_path)
    _, capped = make("han", toy_graph, tmp_path, max_metapath_neighbors=100_000)
    for i in range(2):
        edge_type = ("item", f"metapath_{i}", "item")
        assert torch.equal(capped[edge_type].edge_index, exact[edge_type].edge_index)


# --------------------------------------------------------------------------- GAT default


def test_gat_full_batch_estimate_follows_the_documented_rule():
    from hetero_imb.models.homogeneous import gat_full_batch_bytes

    assert gat_full_batch_bytes(10, 90, 64, 8, 2) == 4 * 100 * (128 + 48) * 3
    # Freebase-sized graphs stay full batch; the 10M-edge synthetic graph does not
    assert gat_full_batch_bytes(43_854, 151_034, 64, 8, 2) < 4 * 2**30
    assert gat_full_batch_bytes(1_110_000, 9_999_302, 64, 8, 2) > 4 * 2**30


def test_gat_switches_to_mini_batch_only_above_its_memory_limit(toy_graph):
    from hetero_imb.models.homogeneous import GAT_AUTO_BATCH_SIZE

    assert build_model("gat", toy_graph).encoder.default_batch_size(toy_graph) is None
    tiny = build_model("gat", toy_graph, full_batch_max_gib=1e-6).encoder
    assert tiny.default_batch_size(toy_graph) == GAT_AUTO_BATCH_SIZE
    never = build_model("gat", toy_graph, full_batch_max_gib=None).encoder
    assert never.default_batch_size(toy_graph) is None
    assert build_model("rgcn", toy_graph).encoder.default_batch_size(toy_graph) is None


def test_the_runner_uses_the_gat_default_unless_a_batch_size_is_given(toy_graph, monkeypatch):
    from hetero_imb.training import runner
    from hetero_imb.training.config import RunConfig

    seen = []
    real_fit = runner.fit

    def spy(*args, **kwargs):
        seen.append(kwargs["batch_size"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(runner, "fit", spy)
    config = RunConfig(dataset="toy", model="gat", epochs=1,
                       model_params={"full_batch_max_gib": 1e-6, "hidden": 8, "heads": 2})
    runner.run(config, data=toy_graph)
    runner.run(config.replace(batch_size=64), data=toy_graph)
    runner.run(config.replace(model_params={"hidden": 8, "heads": 2}), data=toy_graph)
    assert seen == [1024, 64, None]


def test_han_refuses_an_exact_product_that_is_too_large(toy_graph, tmp_path, monkeypatch):
    import hetero_imb.models.han as han

    monkeypatch.setattr(han, "MAX_EXACT_WALKS", 12_000)  # item-user-item 10,331; item-tag-item 15,319
    with pytest.raises(ValueError, match=r"^model 'han': max_metapath_neighbors must be set for "
                       r"meta-path item-tag-item, which has .* instances"):
        make("han", toy_graph, tmp_path)
    make("han", toy_graph, tmp_path, max_metapath_neighbors=3)  # capped: no refusal


@pytest.mark.parametrize("training", [False, True])
def test_rgcn_aggregate_first_equals_project_first(toy_graph, training):
    # layer 0 averages the raw item (8-d) and user (4-d) features over each relation and
    # projects the destinations only; forcing it off projects every source row first
    encoder = RGCNEncoder(toy_graph, hidden=16, num_layers=2, dropout=0.5, seed=0)
    encoder.train(training)
    results = {}
    for first in (True, False):
        encoder.aggregate_first = first
        encoder.zero_grad()
        torch.manual_seed(1)  # same dropout masks: they act on the raw inputs either way
        out = encoder(toy_graph)
        (out * torch.arange(16.0)).sum().backward()
        results[first] = (out.detach(), {n: p.grad.clone() for n, p in encoder.named_parameters()})
    torch.testing.assert_close(results[True][0], results[False][0], rtol=1e-5, atol=1e-5)
    for name, grad in results[False][1].items():
        torch.testing.assert_close(results[True][1][name], grad, rtol=1e-4, atol=1e-5)
    assert results[True][1]["input.linears.item.weight"].abs().sum() > 0


def test_rgcn_layer0_dropout_placement(toy_graph):
    # the narrow dense item (8-d) and user (4-d) features are sent to neighbours raw,
    # dropped out (survivors scaled; an item whose features are all dropped sends exactly
    # the bias); every node's own input and the featureless tags are dropped out after
    # their projection, at hidden width
    encoder = RGCNEncoder(toy_graph, hidden=16, num_layers=1, dropout=0.9, seed=0).train()
    torch.manual_seed(2)
    sources, roots, raw_types = encoder._layer0_inputs(toy_graph, None)
    assert raw_types == {"item", "user"}
    assert sources["item"].shape == toy_graph["item"].x.shape  # raw width, not hidden
    assert roots["item"].shape == (300, 16) and sources["tag"].shape == (30, 16)
    assert sources["tag"] is roots["tag"]
    kept = sources["item"] != 0
    torch.testing.assert_close(sources["item"][kept], 10 * toy_graph["item"].x[kept])
    zero_rows = (~kept).all(dim=1)
    assert int(zero_rows.sum()) > 50  # 0.9 ** 8 of 300 items, about 129
    projected = encoder.input.project("item", sources["item"])[zero_rows].detach()
    bias = encoder.input.linears["item"].bias.detach()
    torch.testing.assert_close(projected, bias.expand_as(projected))
    own_kept = roots["item"] != 0  # own input: a mask over the 16 projected columns
    assert 0 < int(own_kept.sum()) < 300 * 16 // 2


def test_rgcn_wide_features_are_dropped_out_after_their_projection(toy_graph):
    # hidden 4 < 8 item features: items send their projected input (as before this
    # rule); the 4-d user features still count as narrow
    encoder = RGCNEncoder(toy_graph, hidden=4, num_layers=1, dropout=0.5, seed=0).train()
    sources, roots, raw_types = encoder._layer0_inputs(toy_graph, None)
    assert raw_types == {"user"}
    assert sources["item"].shape == (300, 4) and sources["item"] is roots["item"]


def test_rgcn_spmm_and_rgcn_draw_the_same_dropout(toy_graph):
    # both implementations drop out layer 0's inputs the same way: same seed, same output
    encoders = {impl: RGCNEncoder(toy_graph, hidden=8, num_layers=2, dropout=0.5,
                                  implementation=impl, seed=0).train() for impl in ("spmm", "rgcn")}
    encoders["rgcn"].load_state_dict(encoders["spmm"].state_dict())
    outs = {}
    for impl, encoder in encoders.items():
        torch.manual_seed(3)
        outs[impl] = encoder(toy_graph)
    torch.testing.assert_close(outs["spmm"], outs["rgcn"], rtol=1e-4, atol=1e-5)
