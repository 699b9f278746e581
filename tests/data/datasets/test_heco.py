"""HeCo ACM, DBLP and AMiner loaders against the facts of the shared README, and their
file readers on generated files."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DatasetFileError, load
from hetero_imb.data.datasets.heco import read_features, read_labels
from hetero_imb.data.graph import metapath_edge_index
from hetero_imb.params import ParamError


# ----------------------------------------------------------------- file readers
def test_read_labels_accepts_integral_floats_and_rejects_others(tmp_path):
    path = tmp_path / "labels.npy"
    np.save(path, np.array([0.0, 2.0, 1.0]))
    labels = read_labels(path)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2, 1]
    np.save(path, np.array([0.5, 1.0]))
    with pytest.raises(DatasetFileError, match="whole numbers"):
        read_labels(path)
    np.save(path, np.array([[0, 1]]))
    with pytest.raises(DatasetFileError, match="1-D"):
        read_labels(path)


def test_read_features_sparse_npz_and_plain_npy_under_npz_name(tmp_path):
    sp.save_npz(tmp_path / "a.npz", sp.csr_matrix(np.array([[0, 1.0], [2.0, 0]])))
    x = read_features(tmp_path / "a.npz", rows=2)
    assert x.is_sparse and x.to_dense().tolist() == [[0, 1.0], [2.0, 0]]
    with open(tmp_path / "t.npz", "wb") as handle:  # DBLP's t_feat.npz is a .npy
        np.save(handle, np.ones((3, 2)))
    x = read_features(tmp_path / "t.npz")
    assert not x.is_sparse and x.dtype == torch.float32 and x.shape == (3, 2)
    with pytest.raises(DatasetFileError, match="expected a 2-D feature matrix with 5 rows"):
        read_features(tmp_path / "t.npz", rows=5)
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(DatasetFileError, match="bad.npz: neither"):
        read_features(tmp_path / "bad.npz")


# --------------------------------------------------------------- the real release
def _mirror_has(name: str) -> bool:
    return any((m / "heco" / name / "labels.npy").is_file() for m in paths.mirror_dirs())


FACTS = {
    "acm": {
        "target": "paper",
        "nodes": {"paper": 4019, "author": 7167, "subject": 60},
        "classes": [1993, 965, 1061],
        "features": {"paper": (4019, 1902), "author": (7167, 1902)},
        "edges": {("paper", "has_author", "author"): 13407,
                  ("paper", "has_subject", "subject"): 4019},
        "metapaths": ["paper-author-paper", "paper-subject-paper"],
    },
    "dblp": {
        "target": "author",
        "nodes": {"author": 4057, "paper": 14328, "conference": 20, "term": 7723},
        "classes": [1197, 745, 1109, 1006],
        "features": {"author": (4057, 334), "paper": (14328, 4231), "term": (7723, 50)},
        "edges": {("paper", "has_author", "author"): 19645,
                  ("paper", "in_conference", "conference"): 14328,
                  ("paper", "has_term", "term"): 85810},
        "metapaths": ["author-paper-author", "author-paper-conference-paper-author",
                      "author-paper-term-paper-author"],
    },
    "aminer": {
        "target": "paper",
        "nodes": {"paper": 6564, "author": 13329, "reference": 35890},
        "classes": [1333, 1114, 526, 3591],
        "features": {},
        "edges": {("paper", "has_author", "author"): 18007,
                  ("paper", "cites", "reference"): 58831},
        "metapaths": ["paper-author-paper", "paper-reference-paper"],
    },
}


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return {n: load(n, root=root) for n in FACTS if _mirror_has(n)}


@pytest.mark.parametrize("name", list(FACTS))
def test_real_release_matches_the_readme(graphs, name):
    if name not in graphs:
        pytest.skip(f"local mirror has no heco/{name}/")
    data, facts = graphs[name], FACTS[name]
    assert data.name == name and data.target_node_type == facts["target"]
    assert {t: data[t].num_nodes for t in data.node_types} == facts["nodes"]
    assert torch.bincount(data[facts["target"]].y).tolist() == facts["classes"]
    assert data.class_names == [f"class_{c}" for c in range(len(facts["classes"]))]
    shapes = {t: tuple(data[t].x.shape) for t in data.node_types if "x" in data[t]}
    assert shapes == facts["features"]
    for (src, rel, dst), count in facts["edges"].items():
        forward = data[(src, rel, dst)].edge_index
        assert forward.size(1) == count
        assert torch.equal(data[(dst, f"rev_{rel}", src)].edge_index, forward.flip(0))
    assert len(data.edge_types) == 2 * len(facts["edges"])  # every relation both ways
    names = ["-".join([p[0][0]] + [e[2] for e in p]) for p in data.metapaths]
    assert names == facts["metapaths"]


def test_real_metapath_acm_pap(graphs):
    if "acm" not in graphs:
        pytest.skip("local mirror has no heco/acm/")
    data = graphs["acm"]
    edge_index = metapath_edge_index(data, data.metapaths[0])
    assert edge_index.size(1) > 0 and int(edge_index.max()) < 4019
    assert not bool((edge_index[0] == edge_index[1]).any())


def test_options_are_rejected(tmp_path):
    with pytest.raises(ParamError, match="dataset 'acm' has no parameter 'features'; accepted parameters: \\(none\\)"):
        load("acm", root=tmp_path, features="svd")
