"""HeCo Freebase loader and the id-pair parser it shares: generated files, then the
real release from the local mirror."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DatasetFileError, load
from hetero_imb.data.datasets.freebase import build_freebase, read_id_pairs, unique_edges
from hetero_imb.data.graph import metapath_edge_index


# ------------------------------------------------------------------ read_id_pairs
def test_read_id_pairs_parses_and_skips_blank_lines(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("0\t5\n\n3\t1\n2\t2\n")
    assert read_id_pairs(path).tolist() == [[0, 5], [3, 1], [2, 2]]
    path.write_text("a,b\n1,2\n")
    pairs = read_id_pairs(path, sep=",", header=True)
    assert pairs.dtype == np.int64 and pairs.tolist() == [[1, 2]]
    path.write_text("")
    assert read_id_pairs(path).shape == (0, 2)


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("0\t1\n1\t2\t3\n", {}, r"pairs\.txt line 2: expected 2 tab-separated fields, got 3"),
        ("0\t1\n\n7\n", {}, r"pairs\.txt line 3: expected 2 tab-separated fields, got 1"),
        ("0\t1\nx\t2\n", {}, r"pairs\.txt line 2: expected two integer ids, got 'x\\t2'"),
        ("0\t-1\n", {}, r"pairs\.txt line 1: second id -1 is out of range"),
        (
            "0\t1\n4\t1\n",
            {"limits": (4, None), "names": ("movie", "actor")},
            r"pairs\.txt line 2: movie id 4 is out of range \(expected 0\.\.3\)",
        ),
        ("0\t99999999999999999999999\n", {}, r"pairs\.txt line 1: second id 9+ is out of range"),
    ],
)
def test_read_id_pairs_errors_name_file_and_line(tmp_path, text, kwargs, message):
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    with pytest.raises(DatasetFileError, match=message):
        read_id_pairs(path, **kwargs)


def test_unique_edges_sorts_and_deduplicates():
    ei = unique_edges(np.array([3, 1, 1, 3, 0]), np.array([0, 2, 2, 5, 9]))
    assert ei.tolist() == [[0, 1, 3, 3], [9, 2, 0, 5]]
    assert unique_edges(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (2, 0)


# ------------------------------------------------------------------ generated files
def write_heco(folder: Path, labels=(0, 2, 1, 0), ma="0\t0\n1\t2\n0\t0\n3\t1\n", md="0\t0\n2\t0\n", mw="1\t4\n") -> dict[str, Path]:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "labels.npy", np.asarray(labels))
    for name, text in (("ma.txt", ma), ("md.txt", md), ("mw.txt", mw)):
        (folder / name).write_text(text)
    return {n: folder / n for n in ("labels.npy", "ma.txt", "md.txt", "mw.txt")}


def test_build_small_graph(tmp_path):
    data = build_freebase(write_heco(tmp_path))
    assert data["movie"].y.tolist() == [0, 2, 1, 0]
    counts = {t: data[t].num_nodes for t in data.node_types}
    assert counts == {"movie": 4, "actor": 3, "director": 1, "writer": 5}  # max id + 1
    assert data["movie", "has_actor", "actor"].edge_index.tolist() == [[0, 1, 3], [0, 2, 1]]
    assert data["actor", "rev_has_actor", "movie"].edge_index.tolist() == [[0, 2, 1], [0, 1, 3]]
    assert data["movie", "has_writer", "writer"].edge_index.tolist() == [[1], [4]]
    assert data.class_names == ["class_0", "class_1", "class_2"]
    # movies 0 and 2 share director 0
    mdm = metapath_edge_index(data, data.metapaths[1])
    assert mdm.tolist() == [[0, 2], [2, 0]]


def test_movie_id_beyond_labels_names_file_and_line(tmp_path):
    raw = write_heco(tmp_path, md="0\t0\n\n4\t1\n")
    with pytest.raises(DatasetFileError, match=r"md\.txt line 3: movie id 4 is out of range \(expected 0\.\.3\)"):  # fmt: skip
        build_freebase(raw)


def test_bad_labels_file(tmp_path):
    raw = write_heco(tmp_path)
    np.save(raw["labels.npy"], np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(DatasetFileError, match=r"labels\.npy: expected a 1-D integer array"):
        build_freebase(raw)
    np.save(raw["labels.npy"], np.array([0, -1]))
    with pytest.raises(DatasetFileError, match=r"labels\.npy: label of movie 1 is -1"):
        build_freebase(raw)
    raw["labels.npy"].write_bytes(b"not numpy")
    with pytest.raises(DatasetFileError, match=r"labels\.npy: not a readable \.npy array"):
        build_freebase(raw)


def test_options_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"^dataset 'freebase' has no parameter 'features'; accepted parameters: \(none\)$"):
        load("freebase", root=tmp_path, features="svd")


# --------------------------------------------------------------- the real release
def _mirror_has_heco() -> bool:
    return any((m / "freebase_heco" / "labels.npy").is_file() for m in paths.mirror_dirs())


real = pytest.mark.skipif(not _mirror_has_heco(), reason="local mirror has no freebase_heco/")


@pytest.fixture(scope="module")
def freebase(tmp_path_factory):
    if not _mirror_has_heco():
        pytest.skip("local mirror has no freebase_heco/")
    return load("freebase", root=tmp_path_factory.mktemp("data"))


@real
def test_real_counts(freebase):
    counts = {t: freebase[t].num_nodes for t in freebase.node_types}
    assert counts == {"movie": 3492, "actor": 33401, "director": 2502, "writer": 4459}
    assert torch.bincount(freebase["movie"].y).tolist() == [1327, 618, 1547]
    assert freebase.target_node_type == "movie" and freebase.name == "freebase"
    assert freebase.class_names == ["class_0", "class_1", "class_2"]
    assert all("x" not in freebase[t] for t in freebase.node_types)


@real
def test_real_edges_and_reverses(freebase):
    expected = {"actor": 65341, "director": 3762, "writer": 6414}  # no duplicates upstream
    assert len(freebase.edge_types) == 6
    for node_type, count in expected.items():
        forward = freebase["movie", f"has_{node_type}", node_type].edge_index
        backward = freebase[node_type, f"rev_has_{node_type}", "movie"].edge_index
        assert forward.shape == (2, count)
        assert torch.equal(backward, forward.flip(0))
        keys = forward[0] * 100_000 + forward[1]
        assert keys.unique().numel() == count
        assert int(forward[1].max()) + 1 == freebase[node_type].num_nodes
        assert torch.unique(forward[0]).numel() == 3492  # every movie has one


@real
def test_real_metapaths(freebase):
    assert [[e[1] for e in p] for p in freebase.metapaths] == [
        ["has_actor", "rev_has_actor"],
        ["has_director", "rev_has_director"],
        ["has_writer", "rev_has_writer"],
    ]
    for path in freebase.metapaths:
        assert path[0][0] == "movie" and path[-1][2] == "movie"
        assert all(edge in freebase.edge_types for edge in path)
        ei = metapath_edge_index(freebase, path)
        assert ei.size(1) > 0 and int(ei.max()) < 3492
