"""Capped meta-path neighbours: exact when the cap is large, capped, bounded, seeded."""

import pytest
import torch

from hetero_imb.data.datasets.synthetic import make_synthetic
from hetero_imb.data.graph import metapath_edge_index
from hetero_imb.data.metapath import capped_metapath, capped_metapath_with_peak


@pytest.fixture
def graph():
    return make_synthetic(num_items=600, num_users=60, num_tags=12, seed=0)


def _pieces(data, path):
    return [data[e].edge_index for e in path], [data[path[0][0]].num_nodes] + [
        data[e[2]].num_nodes for e in path
    ]


def test_a_large_cap_gives_the_exact_product(graph):
    for path in graph.metapaths:
        exact = metapath_edge_index(graph, path)
        capped = metapath_edge_index(graph, path, max_neighbors=10_000)
        assert torch.equal(capped, exact)


def test_a_four_hop_path_with_small_chunks_is_exact_too(graph):
    (a, b), (c, d) = graph.metapaths
    path = [a, b, c, d]  # item-user-item-tag-item
    exact = metapath_edge_index(graph, path)
    edges, counts = _pieces(graph, path)
    capped = capped_metapath(edges, counts, 10_000, generator=torch.Generator().manual_seed(0),
                             drop_self_loops=True, chunk_size=7)
    assert torch.equal(capped, exact)


def test_the_cap_is_respected_and_pairs_are_real_meta_path_pairs(graph):
    for path in graph.metapaths:
        exact = set(map(tuple, metapath_edge_index(graph, path).t().tolist()))
        capped = metapath_edge_index(graph, path, max_neighbors=5)
        per_source = torch.bincount(capped[0], minlength=600)
        assert per_source.max() == 5
        assert set(map(tuple, capped.t().tolist())) <= exact
        assert (capped[0] != capped[1]).all()
        key = capped[0] * 600 + capped[1]
        assert torch.equal(key, key.unique())  # distinct, sorted


def test_the_pairs_held_at_once_are_bounded_by_chunk_times_cap_squared(graph):
    path = graph.metapaths[1]  # item-tag-item: ~100 items per tag, ~200 per item
    edges, counts = _pieces(graph, path)
    exact_walks = int(metapath_edge_index(graph, path, drop_self_loops=False).size(1))
    for k, chunk in ((3, 50), (8, 16)):
        out, peak = capped_metapath_with_peak(
            edges, counts, k, generator=torch.Generator().manual_seed(0), chunk_size=chunk
        )
        assert peak <= chunk * k * k
        assert peak < exact_walks / 10
        assert torch.bincount(out[0]).max() <= k


def test_the_same_generator_seed_gives_the_same_sample(graph):
    path = graph.metapaths[1]

    def sample(seed):
        return metapath_edge_index(graph, path, max_neighbors=4,
                                   generator=torch.Generator().manual_seed(seed))

    assert torch.equal(sample(1), sample(1))
    assert not torch.equal(sample(1), sample(2))


def test_every_neighbour_can_be_drawn_when_degrees_exceed_the_cap():
    # A0 links to B0..B9, each Bj links back to A(j+1): A0's 10 meta-path neighbours
    a_b = torch.stack([torch.zeros(10, dtype=torch.long), torch.arange(10)])
    b_a = torch.stack([torch.arange(10), torch.arange(1, 11)])
    seen = set()
    for seed in range(30):
        out = capped_metapath([a_b, b_a], [11, 10, 11], 3, generator=torch.Generator().manual_seed(seed))
        assert out.size(1) == 3
        seen |= set(out[1].tolist())
    assert seen == set(range(1, 11))


def test_bad_arguments():
    ei = torch.tensor([[0], [0]])
    with pytest.raises(ValueError, match="^max_neighbors must be an integer >= 1, got 0$"):
        capped_metapath([ei], [1, 1], 0, generator=torch.Generator())
    with pytest.raises(ValueError, match="^num_nodes must give one count per node type"):
        capped_metapath([ei], [1], 2, generator=torch.Generator())
