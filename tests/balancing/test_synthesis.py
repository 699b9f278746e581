"""Node-synthesis augmenters (graphens, graphsha): the synthesized nodes' rows and edges
by hand on a 6-paper graph (oracle), the loop's use of their labelled rows, and the
effect on a seeded synthetic heterograph."""

import math

import pytest
import torch
from torch_geometric.data import HeteroData

from hetero_imb.balancing.augmenters import build_augmenter
from hetero_imb.balancing.augmenters.synthesis import IncomingNeighbours, sample_neighbours
from hetero_imb.training.config import RunConfig
from hetero_imb.training.runner import run

# ------------------------------------------------------------------ oracle graph
#  papers 0..5, x_i = [i, 10 i], labels [0, 0, 0, 1, 0, 1]; training 0, 1, 2 (class 0)
#  and 3 (class 1) -> counts [3, 1]. Authors 0..3 (featureless).
#  writes (author -> paper): p0, p1, p2 <- {a0, a1}; p3 <- {a2, a3}; p4 <- {a0, a2};
#  p5 <- {a1, a3} (every paper in-degree 2). cites: 5->3, 4->0, 5->1, 4->2.
WRITES = ("author", "writes", "paper")
CITES = ("paper", "cites", "paper")
BY = ("paper", "written_by", "author")
PROBA = torch.tensor([[0.8, 0.2]] * 3 + [[0.2, 0.8], [0.5, 0.5], [0.5, 0.5]])
TRAIN = torch.tensor([0, 1, 2, 3])


def _graph() -> HeteroData:
    data = HeteroData()
    data["paper"].x = torch.stack([torch.arange(6.0), 10 * torch.arange(6.0)], dim=1)
    data["paper"].y = torch.tensor([0, 0, 0, 1, 0, 1])
    data["paper"].train_mask = torch.tensor([True] * 4 + [False] * 2)
    data["author"].num_nodes = 4
    authors = torch.tensor([0, 1, 0, 1, 0, 1, 2, 3, 0, 2, 1, 3])
    papers = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    data[WRITES].edge_index = torch.stack([authors, papers])
    data[BY].edge_index = torch.stack([papers, authors])
    data[CITES].edge_index = torch.tensor([[5, 4, 5, 4], [3, 0, 1, 2]])
    data.target_node_type, data.class_names = "paper", ["a", "b"]
    return data


def _masks(data):
    data["paper"].val_mask = torch.tensor([False] * 4 + [True, False])
    data["paper"].test_mask = torch.tensor([False] * 5 + [True])


def _fitted(name: str, seed: int = 0, **params):
    aug = build_augmenter(name, **params)
    data = _graph()
    aug.fit(data, TRAIN, data["paper"].y[TRAIN], seed=seed)
    aug.on_epoch(1, PROBA)
    return aug, data


def _in_neighbours(graph, relation, node):
    edge_index = graph[relation].edge_index
    return sorted(edge_index[0, edge_index[1] == node].tolist())


def test_mixed_neighbour_distribution_and_sampling_by_hand():
    nb = IncomingNeighbours(_graph()[WRITES].edge_index, 6)
    assert nb.of(3).tolist() == [2, 3] and nb.degree.tolist() == [2] * 6
    # synthetic node from source 3 and partner 0 with ratio 0.7 / 0.3:
    # dist(3) = {a2, a3: 1/2}, dist(0) = {a0, a1: 1/2}
    group, neighbour, weight = (torch.cat(t) for t in zip(
        nb.gather(torch.tensor([3]), torch.tensor([0.7])),
        nb.gather(torch.tensor([0]), torch.tensor([0.3])), strict=True))
    mixed = torch.zeros(4).index_add_(0, neighbour, weight)
    assert torch.allclose(mixed, torch.tensor([0.15, 0.15, 0.35, 0.35]))
    # keys -log(u) / w on the merged candidates (a0, a1, a2, a3): with u = (0.9, 0.5,
    # 0.1, 0.8): 0.70, 4.62, 6.58, 0.64 -> the two smallest are a3 and a0
    g, n = sample_neighbours(group, neighbour, weight, torch.tensor([2]),
                             torch.tensor([0.9, 0.5, 0.1, 0.8]))
    assert g.tolist() == [0, 0] and n.tolist() == [3, 0]
    # the same candidates twice (a duplicate edge) add their weights
    g, n = sample_neighbours(torch.tensor([0, 0, 0]), torch.tensor([1, 1, 2]),
                             torch.tensor([0.1, 0.1, 0.5]), torch.tensor([1]),
                             torch.tensor([0.5, 0.6]))   # keys: 1 -> 3.47, 2 -> 1.02
    assert n.tolist() == [2]


def test_graphens_synthesized_nodes_by_hand():
    aug, data = _fitted("graphens", keep_prob=0.5)
    # saliency of every paper all on feature 1: K = int(2 * 0.5) = 1 candidate feature,
    # kept = max(1, int(sigmoid(KL / 3) * 1)) = 1 -> feature 1 always from the source
    aug.saliency = {"x": torch.tensor([[0.0, 1.0]] * 6)}
    out = aug.augment(data)
    # counts [3, 1] -> class 1 is filled up to 3: two synthetic nodes from paper 3;
    # partners drawn among class 0 (weight log 3 / 3; class 1: log 1 / 1 = 0)
    ids, labels = aug.synthetic_rows()
    assert ids.tolist() == [6, 7] and labels.tolist() == [1, 1]
    syn = aug.last_synthesis
    assert syn.src.tolist() == [3, 3] and set(syn.dst.tolist()) <= {0, 1, 2}
    x = out["paper"].x
    for k, (d, lam) in enumerate(zip(syn.dst.tolist(), syn.lam.tolist(), strict=True)):
        assert x[6 + k].tolist() == pytest.approx([lam * 3 + (1 - lam) * d, 30.0])
    assert out["paper"].y.tolist() == [0, 0, 0, 1, 0, 1, 1, 1]
    assert out["paper"].train_mask.tolist()[6:] == [False, False]
    assert out["paper"].n_id.tolist() == [0, 1, 2, 3, 4, 5, 3, 3]
    # writes: in-degree 2 everywhere -> 2 authors each, from {a0, a1} (partner) or
    # {a2, a3} (source); KL(p3 || p0) = 0.6 ln 4, ratio sigmoid(0.832) = 0.697
    for k in (6, 7):
        got = _in_neighbours(out, WRITES, k)
        assert len(got) == 2 and set(got) <= {0, 1, 2, 3}
    assert torch.equal(out[BY].edge_index, data[BY].edge_index)   # nothing goes out
    assert torch.equal(out[WRITES].edge_index[:, :12], data[WRITES].edge_index)
    assert data["paper"].x.size(0) == 6   # the plain graph is untouched


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_sparse_features_keep_their_layout_and_get_the_mixed_rows(layout):
    # the same oracle with the features as a torch sparse matrix (Facebook features=sparse):
    # sparse rows are mixed without the saliency mask, lam on every feature (documented)
    aug, data = _fitted("graphens", keep_prob=0.5)
    aug.saliency = {"x": torch.tensor([[0.0, 1.0]] * 6)}
    dense = data["paper"].x
    data["paper"].x = dense.to_sparse_csr() if layout == "csr" else dense.to_sparse_coo()
    out = aug.augment(data)
    x = out["paper"].x
    assert x.layout == data["paper"].x.layout and x.shape == (8, 2)
    syn = aug.last_synthesis
    rows = x.to_dense()
    assert torch.equal(rows[:6], dense)
    for k, (d, lam) in enumerate(zip(syn.dst.tolist(), syn.lam.tolist(), strict=True)):
        assert rows[6 + k].tolist() == pytest.approx([lam * 3 + (1 - lam) * d,
                                                      lam * 30 + (1 - lam) * 10 * d])


def test_graphens_neighbour_frequencies_match_the_mixed_distribution():
    """P(a2 among 2 draws without replacement) from w = (.152, .152, .348, .348):
    w2 + sum_j w_j w2 / (1 - w_j) = 0.659; a0: 1 - 0.659."""
    r = 1 / (1 + math.exp(-0.6 * math.log(4)))
    w = [(1 - r) / 2] * 2 + [r / 2] * 2
    p2 = w[2] + sum(w[j] * w[2] / (1 - w[j]) for j in (0, 1, 3))
    aug, data = _fitted("graphens", seed=1)
    hits, total = torch.zeros(4), 0
    for _ in range(150):
        out = aug.augment(data)
        for k in range(6, 6 + aug.last_nodes):
            hits[_in_neighbours(out, WRITES, k)] += 1
            total += 1
    assert hits[2] / total == pytest.approx(p2, abs=0.06)
    assert hits[0] / total == pytest.approx(1 - p2, abs=0.06)   # inclusions sum to 2


def test_graphsha_synthesized_node_by_hand():
    proba = PROBA.clone()
    proba[:3] = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5]])
    aug, data = _fitted("graphsha")
    aug.on_epoch(1, proba)
    out = aug.augment(data)
    # mean count 2 -> one node of class 1, source 3; partner class 0 (only other),
    # partner node ∝ q[., class 1]: papers 0, 1 have 0 -> paper 2
    syn = aug.last_synthesis
    assert syn.src.tolist() == [3] and syn.dst.tolist() == [2]
    lam = float(syn.lam[0])
    assert 0 <= lam < 0.2   # Beta(1, 100)
    assert out["paper"].x[6].tolist() == pytest.approx([lam * 3 + (1 - lam) * 2,
                                                        lam * 30 + (1 - lam) * 20])
    assert aug.synthetic_rows()[1].tolist() == [1]
    # SemiMixup: neighbours from the source's 1-hop subgraph only, as many as the
    # in-degree of a training node (2 in writes, 1 in cites), capped at the source's
    assert _in_neighbours(out, WRITES, 6) == [2, 3]
    assert _in_neighbours(out, CITES, 6) == [5]


def test_featureless_target_reads_the_source_embedding():
    data = _graph()
    del data["paper"].x
    data["paper"].num_nodes = 6
    aug = build_augmenter("graphsha")
    aug.fit(data, TRAIN, data["paper"].y[TRAIN], seed=0)
    aug.on_epoch(1, PROBA)
    out = aug.augment(data)
    assert out["paper"].num_nodes == 7 and out["paper"].n_id.tolist()[-1] == 3


def test_warmup_plain_graph_and_sampler_refused():
    from hetero_imb.balancing.losses import build_loss
    from hetero_imb.balancing.samplers import SAMPLERS
    from hetero_imb.models import build_model
    from hetero_imb.training.engine import fit

    aug, data = _fitted("graphsha", warmup=2)
    assert aug.augment(data)["paper"].num_nodes == 6 and aug.synthetic_rows() is None
    _masks(data)
    with pytest.raises(ValueError, match="adds labelled nodes.*use sampler 'none'"):
        fit(build_model("gcn", data, hidden=4), data, loss=build_loss("ce", class_counts=[3, 1]),
            sampler=SAMPLERS.get("oversample-random")(), epochs=1, progress=False,
            augmenter=build_augmenter("graphens"))


def test_synthetic_rows_reach_the_loss():
    """The loss sees the real training rows then the synthetic ones (node id -1)."""
    from hetero_imb.balancing.losses import build_loss
    from hetero_imb.models import build_model
    from hetero_imb.training.engine import fit

    seen = []

    class Spy(torch.nn.Module):
        takes_index = True

        def __init__(self):
            super().__init__()
            self.ce = build_loss("ce", class_counts=[3, 1])

        def forward(self, logits, y, index=None, **kw):
            seen.append((y.tolist(), index.tolist()))
            return self.ce(logits, y, **kw)

    data = _graph()
    _masks(data)
    fit(build_model("rgcn", data, hidden=4), data, loss=Spy(), epochs=2, patience=0,
        progress=False, augmenter=build_augmenter("graphens"))
    assert seen[0] == ([0, 0, 0, 1], [0, 1, 2, 3])          # epoch 1: no predictions yet
    assert seen[1] == ([0, 0, 0, 1, 1, 1], [0, 1, 2, 3, -1, -1])


@pytest.mark.parametrize("augmenter", ["graphens", "graphsha"])
def test_loss_over_synthesis_is_built_from_the_real_training_counts(loss_counts, augmenter):
    """The synthetic minor nodes are not counted: balanced-softmax over graphens keeps the
    imbalanced prior (what lets its tau push past balance; docs/balancing.md), whereas a
    sampler's re-sampled rows are (oversample-random: equal counts)."""
    from hetero_imb.data.datasets.synthetic import make_synthetic
    from hetero_imb.data.splits import stratified_split

    data = make_synthetic(num_items=200, class_weights=(0.7, 0.25, 0.05), seed=0)
    data = stratified_split(data, train=0.5, val=0.25, test=0.25, seed=0)
    y, train = data["item"].y, data["item"].train_mask
    counts = torch.bincount(y[train], minlength=3).tolist()
    for aug, sampler in ((augmenter, "none"), ("none", "oversample-random")):
        config = RunConfig(dataset="synthetic", model="rgcn", model_params={"hidden": 4},
                           loss="balanced-softmax", augmenter=aug, sampler=sampler, epochs=2,
                           patience=0, split="given", seed=0)
        run(config, data=data)
    assert loss_counts == [counts, [max(counts)] * 3]


# ------------------------------------------------------------------ effect


@pytest.mark.parametrize("augmenter", ["graphens", "graphsha"])
def test_synthesis_raises_minority_recall_over_ce(augmenter):
    """800 items, classes 70/25/5 %, homophily 0.9, R-GCN, seeds 1-3: mean minority test
    recall 0.59 with ce, 0.92 with graphens, 0.77 with graphsha."""
    from hetero_imb.data.datasets.synthetic import make_synthetic
    from hetero_imb.data.splits import stratified_split

    data = make_synthetic(num_items=800, class_weights=(0.7, 0.25, 0.05), homophily=0.9, seed=0)
    data = stratified_split(data, train=0.5, val=0.25, test=0.25, seed=0)

    def recall(name: str) -> float:
        values = []
        for seed in (1, 2, 3):
            config = RunConfig(dataset="synthetic", model="rgcn", model_params={"hidden": 16},
                               augmenter=name, epochs=60, patience=0, split="given", seed=seed)
            per_class = run(config, data=data).metrics["test"]["per_class"]
            values.append(list(per_class.values())[-1]["recall"])
        return sum(values) / len(values)

    assert recall(augmenter) > recall("none") + 0.1


# ------------------------------------------------------------------ grid axis


def test_augmenters_grid_axis_labels_runs_and_resumes(tmp_path):
    import pandas as pd
    import yaml

    from hetero_imb.cli.compare import main, run_grid
    from hetero_imb.training.grid import Grid

    base = {"dataset": "synthetic", "epochs": 2, "patience": 0, "model_params": {"hidden": 8},
            "grid": {"models": ["gcn"], "losses": ["ce"], "seeds": [0],
                     "augmenters": ["none", "bat", {"name": "graphens", "params": {"keep_prob": 0.5}}],
                     "skip": [{"augmenter": "bat"}]}}
    grid = Grid.from_dict(base)
    keys = [spec.key for spec in grid.runs()]
    assert keys == ["gcn__ce__none__seed0", "gcn__ce__none+graphens[keep_prob=0.5]__seed0"]
    assert [s.config.augmenter_params for s in grid.runs()] == [{}, {"keep_prob": 0.5}]
    assert Grid.from_dict(yaml.safe_load(grid.to_yaml())).augmenters == grid.augmenters
    # no axis: the base augmenter applies and the names are the old ones
    plain = Grid.from_dict({**base, "augmenter": "bat", "grid": {"models": ["gcn"], "seeds": [0]}})
    assert [(s.key, s.config.augmenter) for s in plain.runs()] == [("gcn__ce__none__seed0", "bat")]

    out = run_grid(grid, tmp_path / "g", progress=False, echo=lambda line: None, plots=False)
    frame = pd.read_csv(out / "summary.csv")
    assert frame["sampler"].tolist() == ["none", "none+graphens[keep_prob=0.5]"]
    assert (frame["status"] == "ok").all()
    lines = []
    run_grid(grid, out, progress=False, echo=lines.append, plots=False)   # resume: nothing to do
    assert lines == []
    assert main(["--dataset", "synthetic", "--models", "gcn", "--augmenters", "none,graphsha",
                 "--epochs", "2", "--seeds", "0", "--no-plots", "--no-progress",
                 "--out", str(tmp_path / "cli")]) == 0
    assert sorted(p.name for p in (tmp_path / "cli" / "runs").iterdir()) == [
        "gcn__ce__none+graphsha__seed0", "gcn__ce__none__seed0"]
