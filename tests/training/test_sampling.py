import pytest
import torch
from torch import nn
from torch_geometric.data import HeteroData

from hetero_imb.training.sampling import HeteroNeighborLoader, HeteroNeighborSampler


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _chain_graph() -> HeteroData:
    """Papers 0..4 where paper i+1 cites paper i (edge i+1 -> i); author 0 wrote papers 0, 3."""
    data = HeteroData()
    data["paper"].num_nodes = 5
    data["paper"].x = torch.arange(5.0).unsqueeze(1)
    data["paper"].y = torch.tensor([0, 1, 0, 1, 0])
    data["author"].num_nodes = 2
    data["paper", "cites", "paper"].edge_index = torch.tensor([[1, 2, 3, 4], [0, 1, 2, 3]])
    data["paper", "cites", "paper"].edge_attr = torch.tensor([10.0, 20.0, 30.0, 40.0])
    writes = torch.tensor([[0, 3], [0, 0]])
    data["paper", "written_by", "author"].edge_index = writes
    data["author", "writes", "paper"].edge_index = writes.flip(0)
    data.target_node_type = "paper"
    data.class_names = ["a", "b"]
    data.metapaths = [[("paper", "cites", "paper")]]
    return data


def _global_edges(batch, edge_type):
    src_type, _, dst_type = edge_type
    ei = batch[edge_type].edge_index
    return torch.stack([batch[src_type].n_id[ei[0]], batch[dst_type].n_id[ei[1]]])


def test_hand_checked_two_hop_subgraph():
    data = _chain_graph()
    batch = HeteroNeighborSampler(data, [-1, -1]).sample(torch.tensor([0]), _gen())
    # hop 1: paper 0 <- cites 1, <- author 0 (writes);
    # hop 2: paper 1 <- cites 2, author 0 <- papers 0 and 3 (written_by)
    assert batch["paper"].n_id.tolist() == [0, 1, 2, 3]
    assert batch["author"].n_id.tolist() == [0]
    assert batch["paper"].batch_size == 1
    assert batch["paper", "cites", "paper"].edge_index.tolist() == [[1, 2], [0, 1]]
    assert batch["paper", "cites", "paper"].edge_attr.tolist() == [10.0, 20.0]
    assert batch["author", "writes", "paper"].edge_index.tolist() == [[0], [0]]
    assert batch["paper", "written_by", "author"].edge_index.tolist() == [[0, 3], [0, 0]]
    assert batch["paper"].x.flatten().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert batch["author"].num_nodes == 1
    assert batch.target_node_type == "paper" and batch.class_names == ["a", "b"]
    assert batch.metapaths == data.metapaths
    # the full graph is untouched
    assert data["paper"].num_nodes == 5 and "n_id" not in data["paper"]


def test_zero_hops_and_zero_neighbours_give_the_seeds_alone():
    data = _chain_graph()
    for hops in ([], [0]):
        batch = HeteroNeighborSampler(data, hops).sample(torch.tensor([2, 4]), _gen())
        assert batch["paper"].n_id.tolist() == [2, 4]
        assert batch["author"].num_nodes == 0
        assert all(batch[et].edge_index.shape == (2, 0) for et in batch.edge_types)


def test_repeated_seed_rows_get_the_same_incoming_edges():
    data = _chain_graph()
    batch = HeteroNeighborSampler(data, [-1]).sample(torch.tensor([3, 1, 3]), _gen())
    assert batch["paper"].n_id[:3].tolist() == [3, 1, 3]
    assert batch["paper"].batch_size == 3
    for edge_type in batch.edge_types:
        if edge_type[2] != "paper":
            continue
        ei = batch[edge_type].edge_index
        src_global = batch[edge_type[0]].n_id
        into_0 = sorted(src_global[ei[0, ei[1] == 0]].tolist())
        into_2 = sorted(src_global[ei[0, ei[1] == 2]].tolist())
        assert into_0 == into_2
    ei = batch["paper", "cites", "paper"].edge_index
    assert batch["paper"].n_id[ei[0, ei[1] == 2]].tolist() == [4]


def test_batches_are_real_subgraphs_with_seeds_first(toy_split):
    data = toy_split
    seeds_all = torch.nonzero(data["item"].train_mask).flatten()
    k = [4, 3]
    loader = HeteroNeighborLoader(data, seeds_all, k, batch_size=50, shuffle=False, seed=0)
    assert len(loader) == (len(seeds_all) + 49) // 50
    originals = {et: set(map(tuple, data[et].edge_index.t().tolist())) for et in data.edge_types}
    for b, batch in enumerate(loader):
        size = batch["item"].batch_size
        expected_seeds = seeds_all[b * 50 : (b + 1) * 50]
        assert size == len(expected_seeds)
        assert torch.equal(batch["item"].n_id[:size], expected_seeds)
        for node_type in data.node_types:
            n_id = batch[node_type].n_id
            assert n_id.unique().numel() == n_id.numel()  # no seed repeats here
            assert batch[node_type].num_nodes == n_id.numel()
        assert torch.equal(batch["item"].x, data["item"].x[batch["item"].n_id])
        assert torch.equal(batch["item"].y, data["item"].y[batch["item"].n_id])
        assert torch.equal(batch["item"].train_mask, data["item"].train_mask[batch["item"].n_id])
        assert torch.equal(batch["user"].x, data["user"].x[batch["user"].n_id])
        for edge_type in data.edge_types:
            glob = _global_edges(batch, edge_type)
            assert set(map(tuple, glob.t().tolist())) <= originals[edge_type]
            assert torch.equal(glob, data[edge_type].edge_index[:, batch[edge_type].e_id])
            assert batch[edge_type].e_id.unique().numel() == batch[edge_type].e_id.numel()
            # at most k incoming edges per node and edge type; seeds get min(degree, k[0])
            dst_type = edge_type[2]
            indeg = torch.bincount(batch[edge_type].edge_index[1], minlength=batch[dst_type].num_nodes)
            assert int(indeg.max()) <= max(k)
            if dst_type == "item":
                full = torch.bincount(data[edge_type].edge_index[1], minlength=300)
                assert indeg[:size].tolist() == full[expected_seeds].clamp(max=k[0]).tolist()


def test_all_neighbours_with_minus_one(toy_graph):
    loader = HeteroNeighborLoader(toy_graph, torch.arange(20), [-1], batch_size=20, seed=0)
    batch = next(iter(loader))
    for edge_type in (("user", "rev_bought_by", "item"), ("tag", "rev_tagged", "item")):
        ei = toy_graph[edge_type].edge_index
        expected = set(map(tuple, ei[:, ei[1] < 20].t().tolist()))
        assert set(map(tuple, _global_edges(batch, edge_type).t().tolist())) == expected


def test_neighbours_are_drawn_uniformly_without_replacement():
    data = HeteroData()
    data["p"].num_nodes = 1
    data["u"].num_nodes = 10
    data["u", "to", "p"].edge_index = torch.stack([torch.arange(10), torch.zeros(10, dtype=torch.long)])
    data.target_node_type = "p"
    sampler = HeteroNeighborSampler(data, [3])
    gen = _gen(0)
    hits = torch.zeros(10)
    for _ in range(600):
        batch = sampler.sample(torch.tensor([0]), gen)
        src = batch["u"].n_id[batch["u", "to", "p"].edge_index[0]]
        assert src.numel() == 3 and src.unique().numel() == 3
        hits[src] += 1
    # each neighbour is kept with probability 3/10: 180 of 600 draws, sd ~11.2
    assert bool(((hits - 180).abs() < 50).all()), hits


def test_same_seed_same_batches_different_seed_differs(toy_graph):
    def batches(seed):
        loader = HeteroNeighborLoader(toy_graph, torch.arange(300), [3, 2], 64, shuffle=True, seed=seed)
        return [(b["item"].n_id, b["user", "rev_bought_by", "item"].edge_index) for b in loader]

    first, again, other = batches(5), batches(5), batches(6)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0][0], other[0][0])


def test_shuffle_covers_every_seed_once_per_epoch(toy_graph):
    nodes = torch.arange(0, 300, 3)
    loader = HeteroNeighborLoader(toy_graph, nodes, [2], batch_size=32, shuffle=True, seed=0)
    epochs = []
    for _ in range(2):
        seen = torch.cat([b["item"].n_id[: b["item"].batch_size] for b in loader])
        assert sorted(seen.tolist()) == nodes.tolist()
        epochs.append(seen)
    assert not torch.equal(epochs[0], nodes) and not torch.equal(epochs[0], epochs[1])
    unshuffled = HeteroNeighborLoader(toy_graph, nodes, [2], batch_size=32, seed=0)
    assert torch.equal(torch.cat([b["item"].n_id[: b["item"].batch_size] for b in unshuffled]), nodes)


def test_balanced_seeds_have_near_uniform_class_frequencies(toy_split):
    data = toy_split
    train = torch.nonzero(data["item"].train_mask).flatten()
    y = data["item"].y
    counts = torch.bincount(y[train])
    assert counts.max() > 5 * counts.min()  # the toy graph is imbalanced
    loader = HeteroNeighborLoader(data, train, [2], batch_size=64, seed=0, balanced=True)
    draws = torch.cat([loader.epoch_seeds() for _ in range(30)])  # 30 epochs x 178 seeds
    assert draws.numel() == 30 * train.numel()
    assert bool(torch.isin(draws, train).all())
    freq = torch.bincount(y[draws], minlength=4).float() / draws.numel()
    assert bool(((freq - 0.25).abs() < 0.03).all()), freq  # sd of each ~0.006
    # within a class, nodes are drawn uniformly: the rarest class's nodes all appear
    rare = train[y[train] == int(counts.argmin())]
    assert bool(torch.isin(rare, draws).all())
    batch = next(iter(loader))
    assert batch["item"].batch_size == 64
    assert len(loader) == (train.numel() + 63) // 64


def test_loader_argument_errors(toy_graph):
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        HeteroNeighborLoader(toy_graph, torch.arange(5), [2], batch_size=0)
    with pytest.raises(ValueError, match=r"num_neighbors\[1\] must be an integer >= 0 or -1 \(all\), got -3"):
        HeteroNeighborLoader(toy_graph, torch.arange(5), [2, -3], batch_size=4)
    with pytest.raises(ValueError, match=r"input_nodes must hold ids in \[0, 299\] of node type 'item', got \[0, 300\]"):
        HeteroNeighborLoader(toy_graph, torch.tensor([0, 300]), [2], batch_size=4)
    mask = torch.zeros(300, dtype=torch.bool)
    mask[[3, 7]] = True
    loader = HeteroNeighborLoader(toy_graph, mask, [2], batch_size=4)
    assert loader.input_nodes.tolist() == [3, 7]
    toy_graph["item"].y[7] = -1
    with pytest.raises(ValueError, match="1 of 2 have label -1"):
        HeteroNeighborLoader(toy_graph, mask, [2], batch_size=4, balanced=True)


class _ItemMean(nn.Module):
    """Test encoder: item features plus the mean of incoming user features (one hop)."""

    out_channels = 8
    supports_minibatch = True

    def __init__(self):
        super().__init__()
        self.item = nn.Linear(8, 8)
        self.user = nn.Linear(4, 8)

    def preprocess(self, data):
        return data

    def forward(self, data):
        ei = data["user", "rev_bought_by", "item"].edge_index
        msg = self.user(data["user"].x)[ei[0]]
        n = data["item"].num_nodes
        agg = torch.zeros(n, 8).index_add_(0, ei[1], msg)
        deg = torch.bincount(ei[1], minlength=n).clamp(min=1).unsqueeze(1)
        return torch.relu(self.item(data["item"].x) + agg / deg)


def test_training_loop_runs_minibatches_with_a_sampler(toy_split):
    from hetero_imb.balancing.losses import build_loss
    from hetero_imb.balancing.samplers import SAMPLERS
    from hetero_imb.data.graph import class_counts, split_mask
    from hetero_imb.models.base import NodeClassifier
    from hetero_imb.training.engine import fit

    torch.manual_seed(0)
    model = NodeClassifier(_ItemMean(), num_classes=4)
    sampler = SAMPLERS.get("oversample-neighbors")()
    out = fit(
        model, toy_split, loss=build_loss("ce", class_counts=class_counts(toy_split, split_mask(toy_split, "train"))),
        sampler=sampler, epochs=3, batch_size=64,
        num_neighbors=[5], balanced_batches=True, progress=False, device="cpu",
    )
    assert out.epochs == 3 and out.proba.shape == (300, 4)
    assert len(sampler.last_synthetic) > 0


def test_sparse_features_are_sliced_like_dense(toy_split):
    from hetero_imb.training.sampling import HeteroNeighborLoader

    dense = toy_split["item"].x.clone()
    toy_split["item"].x = dense.to_sparse()
    loader = HeteroNeighborLoader(toy_split, input_nodes=torch.arange(20), num_neighbors=[3],
                                  batch_size=10, seed=0)
    for batch in loader:
        x = batch["item"].x
        assert x.is_sparse
        assert torch.equal(x.to_dense(), dense[batch["item"].n_id])


def test_metapaths_survive_pyg_list_conversion(toy_graph):
    from hetero_imb.data.graph import metapath_edge_index

    as_lists = [[list(e) for e in path] for path in toy_graph.metapaths]
    expected = metapath_edge_index(toy_graph, toy_graph.metapaths[0])
    assert torch.equal(metapath_edge_index(toy_graph, as_lists[0]), expected)
