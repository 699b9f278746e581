"""Facebook Page-Page loader: tiny generated MUSAE files, then the real release."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DatasetFileError, facebook, load
from hetero_imb.data.datasets.facebook import (
    EDGES,
    FEATURES,
    NPZ,
    TARGET,
    FacebookLoader,
    build_facebook,
    read_targets,
)
from hetero_imb.params import ParamError

TARGET_CSV = (
    "id,facebook_id,page_name,page_type\n"
    '0,111,"Page, with a comma",tvshow\n'
    "1,222,B,company\n"
    "2,333,C,government\n"
    "3,444,D,politician\n"
    "4,555,E,company\n"
)
EDGES_CSV = "id_1,id_2\n0,1\n1,0\n2,2\n1,3\n3,4\n0,1\n"
FEATURES_JSON = '{"0": [0, 2], "1": [1], "2": [2, 2], "3": [], "4": [0, 1, 2, 3]}'
DENSE = [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]


@pytest.fixture
def tiny(tmp_path) -> dict[str, Path]:
    raw = {}
    for name, text in ((TARGET, TARGET_CSV), (EDGES, EDGES_CSV), (FEATURES, FEATURES_JSON)):
        raw[name] = tmp_path / name
        raw[name].write_text(text, encoding="utf-8")
    return raw


def test_tiny_graph_structure(tiny):
    data = build_facebook(tiny, features="sparse")
    assert data.node_types == ["page"] and data.edge_types == [("page", "likes", "page")]
    assert data["page"].y.tolist() == [0, 1, 2, 3, 1]
    # 0-1 (given three times), 1-3, 3-4; the self-loop 2-2 is dropped
    assert data["page", "likes", "page"].edge_index.tolist() == [
        [0, 1, 1, 3, 3, 4],
        [1, 0, 3, 1, 4, 3],
    ]
    assert data.class_names == ["tvshow", "company", "government", "politician"]
    assert data.metapaths == [[("page", "likes", "page")]]
    assert data.target_node_type == "page" and data.name == "facebook"


def test_tiny_sparse_features(tiny):
    data = build_facebook(tiny, features="sparse")
    x = data["page"].x
    assert x.is_sparse and x.dtype == torch.float32
    assert x.to_dense().tolist() == DENSE  # the repeated id of node 2 counts once
    assert data.feature_source == "sparse musae_facebook_features.json"


def test_tiny_svd_features_are_standardised_and_deterministic(tiny):
    a = build_facebook(tiny, features="svd", svd_dim=2, seed=3)
    b = build_facebook(tiny, features="auto", svd_dim=2, seed=3)  # no npz: auto = svd
    x = a["page"].x
    assert x.shape == (5, 2) and x.dtype == torch.float32
    assert torch.allclose(x.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(2), atol=1e-5)
    assert torch.equal(x, b["page"].x)
    assert a.feature_source == "svd2 of musae_facebook_features.json"
    # the leading component separates the all-ones page 4 from the empty page 3
    assert abs(x[4, 0] - x[3, 0]) > 1.0
    with pytest.raises(ParamError, match=r"^dataset 'facebook': svd_dim must be an integer in \[1, 3\].*got 4$"):
        build_facebook(tiny, features="svd", svd_dim=4)


def test_npz_features_used_when_present(tiny, tmp_path):
    feats = np.arange(15, dtype=np.float64).reshape(5, 3)
    np.savez(
        tmp_path / NPZ, features=feats, target=np.array([0, 1, 2, 3, 1]), edges=np.zeros((2, 0))
    )
    raw = {**tiny, NPZ: tmp_path / NPZ}
    data = build_facebook(raw)  # auto
    assert data.feature_source == "facebook.npz"
    assert torch.equal(data["page"].x, torch.from_numpy(feats).float())
    assert build_facebook(raw, features="sparse")["page"].x.is_sparse  # explicit mode wins


def test_npz_with_other_labels_is_rejected(tiny, tmp_path):
    np.savez(tmp_path / NPZ, features=np.zeros((5, 3)), target=np.array([0, 1, 2, 3, 3]))
    with pytest.raises(DatasetFileError, match="facebook.npz: 'target' disagrees .* on 1 of 5"):
        build_facebook({**tiny, NPZ: tmp_path / NPZ})
    with pytest.raises(DatasetFileError, match="features='npz' needs facebook.npz"):
        build_facebook(tiny, features="npz")


@pytest.mark.parametrize(
    "name, text, message",
    [
        (TARGET, TARGET_CSV.replace("D,politician", "D,band"), r"target\.csv line 5: unknown page_type 'band'"),
        (TARGET, TARGET_CSV.replace("4,555,E,company", "3,555,E,company"), r"target\.csv line 6: duplicate id 3"),
        (TARGET, TARGET_CSV.replace("4,555,E,company", "7,555,E,company"), r"ids must run 0\.\.4 without gaps; missing \[4, 5, 6\]"),
        (TARGET, TARGET_CSV.replace("1,222,B,company", "1,222,company"), r"target\.csv line 3: expected 4 comma-separated fields, got 3"),
        (TARGET, "id,name\n", r"target\.csv line 1: expected a header"),
        (EDGES, "id_1,id_2\n0,1\n1,9\n", r"edges\.csv line 3: page id 9 is out of range \(expected 0\.\.4\)"),
        (EDGES, "id_1,id_2\n0,1\n1;2\n", r"edges\.csv line 3: expected 2 comma-separated fields, got 1"),
        (FEATURES, '{"0": [1],\n "1": [2,]}', r"features\.json line 2: invalid JSON"),
        (FEATURES, '{"0": [1], "7": [2]}', r"features\.json: node id 7 is out of range"),
        (FEATURES, '{"0": [1, -2]}', r"features\.json: node 0: expected a list of non-negative"),
    ],
)  # fmt: skip
def test_malformed_files(tiny, name, text, message):
    tiny[name].write_text(text, encoding="utf-8")
    with pytest.raises(DatasetFileError, match=message):
        build_facebook(tiny, features="sparse")


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"features": "dense"}, ParamError, "^dataset 'facebook': features must be one of auto, npz, svd, sparse, got 'dense'$"),
        ({"svd_dim": 0}, ParamError, "^dataset 'facebook': svd_dim must be an integer >= 1, got 0$"),
        ({"svd_dim": 2.5}, ParamError, "svd_dim must be an integer >= 1, got 2.5"),
        ({"seed": True}, ParamError, "seed must be an integer >= 0 and < 2\\*\\*63, got True"),
        ({"dims": 3}, ParamError, "dataset 'facebook' has no parameter 'dims'; accepted parameters: features, svd_dim, seed"),
    ],
)  # fmt: skip
def test_options_validated_before_any_work(tmp_path, options, error, message):
    loader = FacebookLoader(**options)  # storing is fine
    assert loader.options == options
    with pytest.raises(error, match=message):
        load("facebook", root=tmp_path, **options)
    assert not (tmp_path / "processed").exists()


def test_cache_key_ignores_spelled_out_defaults():
    raw = {TARGET: Path(__file__)}
    assert FacebookLoader().cache_key(raw) == FacebookLoader(features="auto", seed=0).cache_key(raw)
    assert FacebookLoader().cache_key(raw) != FacebookLoader(seed=1).cache_key(raw)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(f"facebook_large/{name}", content)
    return buffer.getvalue()


def test_download_fetches_the_snap_zip_once(tmp_path, monkeypatch):
    calls = []
    members = {EDGES: b"edges", TARGET: b"target", FEATURES: b"features", "README.txt": b"x"}

    def fake_download(url, dest):
        calls.append(url)
        Path(dest).write_bytes(_zip_bytes(members))

    monkeypatch.setattr(facebook, "download_file", fake_download)
    folder = tmp_path / "facebook"
    folder.mkdir()
    loader = FacebookLoader()
    for name in (EDGES, TARGET, FEATURES):
        loader.download(name, folder / name)
    assert calls == ["https://snap.stanford.edu/data/facebook_large.zip"]
    assert (folder / TARGET).read_bytes() == b"target"
    assert sorted(p.name for p in folder.iterdir()) == sorted([EDGES, TARGET, FEATURES])


def test_download_of_a_bad_zip_fails_and_forgets_it(tmp_path, monkeypatch):
    monkeypatch.setattr(
        facebook, "download_file", lambda url, dest: Path(dest).write_bytes(_zip_bytes({}))
    )
    folder = tmp_path / "facebook"
    folder.mkdir()
    with pytest.raises(
        DatasetFileError, match="cannot extract facebook_large/musae_facebook_edges.csv"
    ):
        FacebookLoader().download(EDGES, folder / EDGES)
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------- the real release
def _mirror_has_facebook() -> bool:
    return any((m / "facebook" / TARGET).is_file() for m in paths.mirror_dirs())


real = pytest.mark.skipif(not _mirror_has_facebook(), reason="local mirror has no facebook/")


@real
def test_real_counts_and_edges(tmp_path):
    data = load("facebook", root=tmp_path, features="sparse")
    assert data["page"].num_nodes == 22470
    assert torch.bincount(data["page"].y).tolist() == [3327, 6495, 6880, 5768]
    ei = data["page", "likes", "page"].edge_index
    assert ei.shape == (2, 2 * (171002 - 179))
    assert not (ei[0] == ei[1]).any()
    keys = ei[0] * 22470 + ei[1]
    assert keys.unique().numel() == ei.size(1)  # no duplicates
    assert torch.equal(keys.sort().values, (ei[1] * 22470 + ei[0]).sort().values)  # symmetric
    x = data["page"].x
    assert x.is_sparse and x.shape == (22470, 4714) and x._nnz() == 314583


@real
def test_real_auto_prefers_npz_in_the_data_root(tmp_path):
    y = read_targets(next(m / "facebook" / TARGET for m in paths.mirror_dirs()))
    feats = np.random.default_rng(0).normal(size=(22470, 128)).astype(np.float32)
    (tmp_path / "facebook").mkdir()
    np.savez(tmp_path / "facebook" / NPZ, features=feats, target=y, edges=np.zeros((2, 1)))
    data = load("facebook", root=tmp_path)
    assert data.feature_source == "facebook.npz"
    assert torch.equal(data["page"].x, torch.from_numpy(feats))


@real
@pytest.mark.slow
def test_real_svd_features_deterministic_and_cached(tmp_path, monkeypatch):
    data = load("facebook", root=tmp_path)
    x = data["page"].x
    assert x.shape == (22470, 128) and x.dtype == torch.float32
    assert data.feature_source == "svd128 of musae_facebook_features.json"
    assert torch.allclose(x.mean(0), torch.zeros(128), atol=1e-4)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(128), atol=1e-3)
    with monkeypatch.context() as patched:  # the cached load must not process again
        patched.setattr(facebook, "svd_features", _no_svd)
        patched.setattr(FacebookLoader, "process", _no_svd)
        cached = load("facebook", root=tmp_path)
    assert torch.equal(cached["page"].x, x)
    again = load("facebook", root=tmp_path, force_reload=True)  # a second SVD run
    assert torch.equal(again["page"].x, x)


def _no_svd(*args, **kwargs):
    raise AssertionError("the cached graph must be read, not processed again")
