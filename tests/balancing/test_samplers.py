import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.balancing.samplers import SAMPLERS, SyntheticRows
from hetero_imb.data.graph import metapath_edge_index
from hetero_imb.params import ParamError

COUNTS = [10, 4, 2]


def _labels_only_graph(num_nodes: int = 16) -> HeteroData:
    data = HeteroData()
    data["paper"].num_nodes = num_nodes
    data.target_node_type = "paper"
    data.class_names = ["a", "b", "c"]
    data.metapaths = []
    return data


def _rows(counts=COUNTS, dim=3, seed=0):
    """Rows with class counts ``counts``: z [n, dim], y [n], global ids 0..n-1."""
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    z = torch.randn(len(y), dim, generator=torch.Generator().manual_seed(seed))
    return z, y, torch.arange(len(y))


def _fitted(name, data=None, y=None, **params):
    z, y_rows, index = _rows()
    y = y_rows if y is None else y
    data = data if data is not None else _labels_only_graph(len(y))
    return SAMPLERS.get(name)(**params).fit(data, torch.arange(len(y)), y, seed=0)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _paper_author_graph() -> HeteroData:
    """16 papers (classes: 0-9 -> 0, 10-13 -> 1, 14-15 -> 2) and 4 authors.

    author 0 wrote papers 0, 10, 11; author 1: 3, 14; author 2: 12; author 3: 13, 15.
    Same-class meta-path (paper-author-paper) neighbours: 10 <-> 11 only.
    """
    data = _labels_only_graph(16)
    data["paper"].y = torch.tensor([0] * 10 + [1] * 4 + [2] * 2)
    data["author"].num_nodes = 4
    writes = torch.tensor([[0, 10, 11, 3, 14, 12, 13, 15], [0, 0, 0, 1, 1, 2, 3, 3]])
    data["paper", "written_by", "author"].edge_index = writes
    data["author", "rev_written_by", "paper"].edge_index = writes.flip(0)
    data.metapaths = [[("paper", "written_by", "author"), ("author", "rev_written_by", "paper")]]
    return data


def _line_embeddings():
    """z on a line: class-1 rows 10:(0) 11:(5) 12:(10) 13:(8); class-2 rows 14:(20) 15:(30)."""
    z = torch.zeros(16, 2)
    z[:10, 0] = -100.0 - torch.arange(10.0)
    z[10:, 0] = torch.tensor([0.0, 5.0, 10.0, 8.0, 20.0, 30.0])
    return z


def test_registry_lists_every_sampler():
    assert SAMPLERS.names() == ["none", "oversample-random", "undersample", "oversample-neighbors",
                                "smote", "smote-tomek", "adasyn", "ml-ros"]
    for name in SAMPLERS:
        assert SAMPLERS.summary(name)
        assert SAMPLERS.get(name).name == name


def test_none_returns_inputs_unchanged():
    z, y, index = _rows()
    sampler = _fitted("none")
    z2, y2, w = sampler.resample(z, y, index=index, generator=_gen())
    assert z2 is z and y2 is y and w is None
    assert len(sampler.last_synthetic) == 0


def test_random_oversampling_counts_copies_and_ratio():
    z, y, index = _rows()
    z = z.requires_grad_()
    sampler = _fitted("oversample-random")
    z2, y2, w = sampler.resample(z, y, index=index, generator=_gen())
    assert w is None
    assert torch.bincount(y2).tolist() == [10, 10, 10]
    assert torch.equal(z2[:16], z) and torch.equal(y2[:16], y)
    info = sampler.last_synthetic
    assert len(info) == 14
    assert torch.equal(z2[16:], z[info.anchors])
    assert torch.equal(y[info.anchors], y2[16:])
    z2.sum().backward()
    expected = torch.ones(16).index_add_(0, info.anchors, torch.ones(14))
    assert torch.equal(z.grad[:, 0], expected)

    half = _fitted("oversample-random", target_ratio=0.5)
    _, y_half, _ = half.resample(z.detach(), y, index=index, generator=_gen())
    assert torch.bincount(y_half).tolist() == [10, 5, 5]  # floor(0.5 * 10)


def test_undersampling_counts_and_prior_preserving_weights():
    z, y, index = _rows()
    sampler = _fitted("undersample")
    z2, y2, w = sampler.resample(z, y, index=index, generator=_gen())
    assert torch.bincount(y2).tolist() == [2, 2, 2]
    assert torch.equal(z2, z[sampler.last_kept]) and torch.equal(y2, y[sampler.last_kept])
    assert sampler.last_kept.unique().numel() == 6
    expected_w = {0: 5.0, 1: 2.0, 2: 1.0}  # n_c / kept_c
    assert w.tolist() == [expected_w[int(c)] for c in y2]
    per_class = torch.zeros(3).index_add_(0, y2, w)
    assert per_class.tolist() == [10.0, 4.0, 2.0]

    loose = _fitted("undersample", target_ratio=1.5, reweight=False)
    _, y3, w3 = loose.resample(z, y, index=index, generator=_gen())
    assert torch.bincount(y3).tolist() == [3, 3, 2] and w3 is None  # floor(1.5 * 2) = 3

    tiny = _fitted("undersample", target_ratio=0.1)
    _, y4, _ = tiny.resample(z, y, index=index, generator=_gen())
    assert torch.bincount(y4).tolist() == [1, 1, 1]  # at least one per class


def test_undersampling_draws_a_fresh_seeded_subset():
    z, y, index = _rows()
    sampler = _fitted("undersample")
    gen = _gen(3)
    first = sampler.resample(z, y, index=index, generator=gen)[0]
    second = sampler.resample(z, y, index=index, generator=gen)[0]
    again = sampler.resample(z, y, index=index, generator=_gen(3))[0]
    assert torch.equal(first, again)
    assert not torch.equal(first, second)


def test_neighbor_oversampling_partners_on_hand_built_graph():
    data = _paper_author_graph()
    y = data["paper"].y
    z = _line_embeddings().requires_grad_()
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, torch.arange(16), y, seed=0)
    assert sampler.graph_neighbors(10).tolist() == [11]
    assert sampler.graph_neighbors(11).tolist() == [10]
    for node in (0, 3, 12, 13, 14, 15):  # neighbours exist only across classes
        assert sampler.graph_neighbors(node).numel() == 0

    z2, y2, w = sampler.resample(z, y, index=torch.arange(16), generator=_gen())
    assert w is None
    assert torch.bincount(y2).tolist() == [10, 10, 10]
    info = sampler.last_synthetic
    assert len(info) == 14 and torch.equal(y2[16:], y[info.anchors])
    assert torch.equal(y[info.partners], y[info.anchors])
    expected_partner = {10: 11, 11: 10, 12: 13, 13: 12, 14: 15, 15: 14}
    for a, p, g in zip(info.anchors.tolist(), info.partners.tolist(), info.graph_partner.tolist(), strict=True):
        assert p == expected_partner[a]
        assert g == (a in (10, 11))
    # each synthetic row lies on the segment anchor -> partner
    lam = info.lambdas
    assert bool(((lam >= 0) & (lam < 1)).all())
    za, zp = z[info.anchors].detach(), z[info.partners].detach()
    assert torch.allclose(z2[16:].detach(), za + lam[:, None] * (zp - za))
    # gradient: 1 per original row, (1 - lambda) to the anchor, lambda to the partner
    z2.sum().backward()
    expected = torch.ones(16).index_add_(0, info.anchors, 1 - lam).index_add_(0, info.partners, lam)
    assert torch.allclose(z.grad[:, 0], expected)


def test_neighbor_oversampling_minibatch_rows_and_fallback():
    data = _paper_author_graph()
    y_all = data["paper"].y
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, torch.arange(16), y_all, seed=0)
    # a batch without node 11 (its only graph partner) and with node 10 twice
    index = torch.tensor([0, 1, 2, 3, 4, 10, 12, 13, 10, 14, 15])
    z = _line_embeddings()[index]
    y = y_all[index]
    z2, y2, _ = sampler.resample(z, y, index=index, generator=_gen())
    assert torch.bincount(y2, minlength=3).tolist() == [5, 5, 5]
    info = sampler.last_synthetic
    assert not bool(info.graph_partner.any())
    anchor_ids, partner_ids = index[info.anchors], index[info.partners]
    assert bool((anchor_ids != partner_ids).all())  # a duplicate row is not its own partner
    expected = {10: 13, 12: 13, 13: 12, 14: 15, 15: 14}  # nearest same-class row present
    assert [expected[a] for a in anchor_ids.tolist()] == partner_ids.tolist()


def test_neighbor_oversampling_on_toy_graph(toy_split_featureless):
    data = toy_split_featureless
    y_all = data["item"].y
    train = torch.nonzero(data["item"].train_mask).flatten()
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, train, y_all[train], seed=0)
    z = torch.randn(300, 8, generator=_gen(1))[train].requires_grad_()
    counts = torch.bincount(y_all[train]).tolist()
    z2, y2, _ = sampler.resample(z, y_all[train], index=train, generator=_gen())
    assert torch.bincount(y2).tolist() == [max(counts)] * 4
    info = sampler.last_synthetic
    assert torch.equal(y_all[train][info.partners], y_all[train][info.anchors])
    assert bool(info.graph_partner.float().mean() > 0.9)  # homophilous graph: most have one
    pairs = set()
    for path in data.metapaths:
        pairs |= set(map(tuple, metapath_edge_index(data, path).t().tolist()))
    graph = info.graph_partner
    for a, p in zip(train[info.anchors[graph]].tolist(), train[info.partners[graph]].tolist(), strict=True):
        assert (a, p) in pairs
    again = sampler.resample(z, y_all[train], index=train, generator=_gen())[0]
    other = sampler.resample(z, y_all[train], index=train, generator=_gen(1))[0]
    assert torch.equal(z2, again) and not torch.equal(z2, other)


def test_neighbor_oversampling_cap_and_embedding_source():
    data = _paper_author_graph()
    y = data["paper"].y
    z = _line_embeddings()
    capped = SAMPLERS.get("oversample-neighbors")(max_synthetic_per_class=3)
    capped.fit(data, torch.arange(16), y, seed=0)
    _, y2, _ = capped.resample(z, y, index=torch.arange(16), generator=_gen())
    assert torch.bincount(y2).tolist() == [10, 7, 5]

    emb = SAMPLERS.get("oversample-neighbors")(neighbor_source="embedding", target_ratio=0.6)
    emb.fit(data, torch.arange(16), y, seed=0)
    _, y3, _ = emb.resample(z, y, index=torch.arange(16), generator=_gen())
    assert torch.bincount(y3).tolist() == [10, 6, 6]
    info = emb.last_synthetic
    assert not bool(info.graph_partner.any())
    nearest = {10: 11, 11: 13, 12: 13, 13: 12, 14: 15, 15: 14}
    assert [nearest[a] for a in info.anchors.tolist()] == info.partners.tolist()


def test_training_subset_restricts_graph_neighbours():
    data = _paper_author_graph()
    y = data["paper"].y
    train = torch.tensor([i for i in range(16) if i != 11])
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, train, y[train], seed=0)
    assert sampler.graph_neighbors(10).numel() == 0


def test_parameter_errors_name_sampler_param_and_choices():
    data = _labels_only_graph()
    y = torch.tensor([0] * 10 + [1] * 4 + [2] * 2)
    idx = torch.arange(16)
    with pytest.raises(ParamError, match=r"sampler 'oversample-neighbors' has no parameter 'ratio'.*"
                       r"accepted parameters: target_ratio, neighbor_source, max_synthetic_per_class"):
        SAMPLERS.get("oversample-neighbors")(ratio=2).fit(data, idx, y)
    with pytest.raises(ParamError, match="^sampler 'oversample-random': target_ratio must be a float > 0, got 0$"):
        SAMPLERS.get("oversample-random")(target_ratio=0).fit(data, idx, y)
    with pytest.raises(ParamError, match="target_ratio must be a float > 0, got -1"):
        SAMPLERS.get("undersample")(target_ratio=-1).fit(data, idx, y)
    with pytest.raises(ParamError, match="neighbor_source must be one of metapath, embedding, got 'x'"):
        SAMPLERS.get("oversample-neighbors")(neighbor_source="x").fit(data, idx, y)
    with pytest.raises(ParamError, match="max_synthetic_per_class must be an integer >= 0 or none, got -2"):
        SAMPLERS.get("oversample-neighbors")(max_synthetic_per_class=-2).fit(data, idx, y)
    with pytest.raises(ParamError, match="sampler 'none' has no parameter 'k'"):
        SAMPLERS.get("none")(k=1).fit(data, idx, y)
    with pytest.raises(ValueError, match="needs meta-paths on the graph"):
        SAMPLERS.get("oversample-neighbors")().fit(data, idx, y)
    # strings (as typed in YAML) are converted
    assert SAMPLERS.get("undersample")(reweight="false").fit(data, idx, y).params_["reweight"] is False


def test_resample_input_errors():
    z, y, index = _rows()
    with pytest.raises(RuntimeError, match="not fitted"):
        SAMPLERS.get("oversample-random")().resample(z, y, index=index)
    sampler = _fitted("oversample-random")
    with pytest.raises(ValueError, match=r"y must be a tensor \[16\]"):
        sampler.resample(z, y[:5], index=index)
    with pytest.raises(ValueError, match="index has 3 entries but z has 16 rows"):
        sampler.resample(z, y, index=index[:3])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\], got \[0, 7\]"):
        sampler.resample(z, torch.where(y == 2, 7, y), index=index)
    # index=None means the training nodes given to fit; the sampler's own generator is used
    z2, y2, _ = sampler.resample(z, y)
    assert torch.bincount(y2).tolist() == [10, 10, 10]


def test_synthetic_rows_empty():
    info = SyntheticRows.empty()
    assert len(info) == 0 and info.graph_partner.dtype == torch.bool


def test_single_relation_metapath_gives_direct_neighbours():
    data = _labels_only_graph(4)
    data["paper", "cites", "paper"].edge_index = torch.tensor([[0, 2, 3], [1, 0, 1]])
    data.metapaths = [[("paper", "cites", "paper")]]
    y = torch.tensor([1, 1, 0, 1])
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, torch.arange(4), y, seed=0)
    assert sampler.graph_neighbors(0).tolist() == [1]  # 0 cites 1, same class
    assert sampler.graph_neighbors(2).tolist() == []  # 2 cites 0, other class
    assert sampler.graph_neighbors(3).tolist() == [1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_neighbor_oversampling_on_cuda_matches_cpu():
    data = _paper_author_graph()
    y = data["paper"].y
    sampler = SAMPLERS.get("oversample-neighbors")().fit(data, torch.arange(16), y, seed=0)
    z = _line_embeddings()
    cpu = sampler.resample(z, y, index=torch.arange(16), generator=_gen())
    gpu = sampler.resample(z.cuda(), y.cuda(), index=torch.arange(16).cuda(), generator=_gen())
    assert gpu[0].is_cuda and torch.allclose(gpu[0].cpu(), cpu[0])
    assert torch.equal(gpu[1].cpu(), cpu[1])


def test_register_sampler_makes_it_known_everywhere(tmp_path):
    from hetero_imb.balancing import register_sampler
    from hetero_imb.balancing.samplers import EmbeddingSampler
    from hetero_imb.cli.train import main
    from hetero_imb.params import ParamSpec

    @register_sampler("keep-first")
    class KeepFirst(EmbeddingSampler):
        """Train on the first rows only."""

        params = {"fraction": ParamSpec("float", 0.5, "rows kept", low=0.0, high=1.0)}

        def _resample(self, z, y, y_cpu, index, gen):
            keep = max(1, int(self.params_["fraction"] * z.size(0)))
            return z[:keep], y[:keep], None

    try:
        assert SAMPLERS.get("keep-first") is KeepFirst and KeepFirst.name == "keep-first"
        z, y, index = _rows()
        sampler = KeepFirst(fraction=0.25).fit(_labels_only_graph(), index, y)
        assert sampler.resample(z, y)[0].shape == (4, 3)
        with pytest.raises(ParamError, match="sampler 'keep-first' has no parameter 'k'"):
            KeepFirst(k=1).fit(_labels_only_graph(), index, y)
        code = main(["--dataset", "synthetic", "--model", "mlp", "--epochs", "2",
                     "--no-progress", "--sampler", "keep-first", "--sampler-param",
                     "fraction=0.5", "--out", str(tmp_path / "run")])
        assert code == 0 and (tmp_path / "run" / "results.json").is_file()
        with pytest.raises(ValueError, match="sampler 'keep-first' is already registered"):
            register_sampler("keep-first")(KeepFirst)
    finally:
        SAMPLERS.unregister("keep-first")
    assert "keep-first" not in SAMPLERS


def test_register_sampler_refuses_other_classes():
    from hetero_imb.balancing import register_sampler

    with pytest.raises(TypeError, match="register_sampler\\('x'\\) decorates an EmbeddingSampler"):
        register_sampler("x")(dict)
    assert "x" not in SAMPLERS


def test_sampler_messages_name_the_sampler_however_registered():
    """Never ``sampler ''``: a class registered without the decorator is named by its
    registered name, an unregistered one by its class name."""
    from hetero_imb.balancing.samplers import EmbeddingSampler

    class Plain(EmbeddingSampler):
        def _resample(self, z, y, y_cpu, index, gen):
            return z, y, None

    z, y, index = _rows()
    with pytest.raises(ParamError, match="sampler 'Plain' has no parameter 'k'"):
        Plain(k=1).fit(_labels_only_graph(), index, y)
    SAMPLERS.register("plain", Plain)
    try:
        assert Plain().owner == "sampler 'plain'"
        with pytest.raises(ValueError, match="sampler 'plain': there are no training nodes"):
            Plain().fit(_labels_only_graph(), index[:0], y[:0])
    finally:
        SAMPLERS.unregister("plain")
    for name in SAMPLERS:
        assert SAMPLERS.get(name)().owner == f"sampler {name!r}"
