"""``hetero_imb.data.datasets.load``: data-root resolution, raw-file precedence and
checksums, and the processed cache. Every test uses a temporary data root, so
nothing is written into the repository's ``data/`` folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DATASETS, DatasetFileError, load
from hetero_imb.data.datasets.facebook import FacebookLoader
from hetero_imb.data.datasets.freebase import FreebaseLoader
from hetero_imb.registry import UnknownComponentError


def _mirror(folder: str) -> Path:
    for mirror in paths.mirror_dirs():
        if (mirror / folder).is_dir():
            return mirror / folder
    pytest.skip(f"local mirror has no {folder}/")


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(paths.ENV_DATA, raising=False)


def _boom(self, raw):
    raise RuntimeError("process must not run")


def _cache_files(root: Path, folder: str = "freebase_heco") -> list[Path]:
    return sorted((root / "processed").glob(f"{folder}-*.pt"))


# ------------------------------------------------------------------ the data root
def test_data_root_order(tmp_path, monkeypatch, no_env):
    project = paths.project_dir()
    assert project is not None  # tests run from a source checkout
    assert paths.data_root() == project / "data"
    tmp = tmp_path.resolve()
    monkeypatch.setenv(paths.ENV_DATA, str(tmp / "env"))
    assert paths.data_root() == tmp / "env"
    assert paths.data_root(tmp / "explicit") == tmp / "explicit"  # beats the env
    assert paths.processed_dir(tmp / "explicit") == tmp / "explicit" / "processed"


def test_env_root_receives_the_cache(tmp_path, monkeypatch):
    _mirror("freebase_heco")
    monkeypatch.setenv(paths.ENV_DATA, str(tmp_path / "env"))
    load("freebase")
    assert len(_cache_files(tmp_path / "env")) == 1
    load("freebase", root=tmp_path / "explicit")
    assert len(_cache_files(tmp_path / "explicit")) == 1


# ------------------------------------------------------------------ raw files
def test_raw_files_in_the_root_take_precedence(tmp_path):
    mirror = _mirror("freebase_heco")
    (tmp_path / "freebase_heco").mkdir()
    shutil.copy(mirror / "md.txt", tmp_path / "freebase_heco" / "md.txt")
    found = FreebaseLoader().locate(root=tmp_path)
    assert found["md.txt"] == tmp_path.resolve() / "freebase_heco" / "md.txt"
    assert found["ma.txt"] == mirror / "ma.txt"
    assert sorted(found) == ["labels.npy", "ma.txt", "md.txt", "mw.txt"]


def test_truncated_copy_in_the_root_is_refused(tmp_path):
    mirror = _mirror("freebase_heco")
    (tmp_path / "freebase_heco").mkdir()
    content = (mirror / "md.txt").read_bytes()
    (tmp_path / "freebase_heco" / "md.txt").write_bytes(content[: len(content) // 2])
    with pytest.raises(DatasetFileError, match=r"md\.txt is corrupt or truncated"):
        load("freebase", root=tmp_path, download=False)
    assert _cache_files(tmp_path) == []


def test_missing_files_are_named_with_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "mirror_dirs", lambda mirror=None: [])  # no mirror at all
    with pytest.raises(DatasetFileError) as err:
        load("freebase", root=tmp_path, download=False)
    message = str(err.value)
    assert "missing raw file(s) labels.npy, ma.txt, md.txt, mw.txt" in message
    assert "liun-online/HeCo" in message


# ------------------------------------------------------------------ the cache
def test_cache_written_then_reused(tmp_path, monkeypatch):
    _mirror("freebase_heco")
    first = load("freebase", root=tmp_path)
    assert len(_cache_files(tmp_path)) == 1
    monkeypatch.setattr(FreebaseLoader, "process", _boom)
    second = load("freebase", root=tmp_path)  # from the cache: process is not called
    assert second.node_types == first.node_types
    assert torch.equal(second["movie"].y, first["movie"].y)
    for edge_type in first.edge_types:
        assert torch.equal(second[edge_type].edge_index, first[edge_type].edge_index)
    assert second.metapaths == first.metapaths
    with pytest.raises(RuntimeError, match="process must not run"):
        load("freebase", root=tmp_path, force_reload=True)


def test_cache_rebuilt_when_an_option_changes(tmp_path, monkeypatch):
    _mirror("facebook")
    load("facebook", root=tmp_path, features="sparse")
    assert len(_cache_files(tmp_path, "facebook")) == 1
    monkeypatch.setattr(FacebookLoader, "process", _boom)
    assert load("facebook", root=tmp_path, features="sparse")["page"].x.is_sparse
    with pytest.raises(RuntimeError, match="process must not run"):
        load("facebook", root=tmp_path, features="svd", svd_dim=16)
    assert len(_cache_files(tmp_path, "facebook")) == 1


def test_no_cache_left_when_processing_fails(tmp_path, monkeypatch):
    _mirror("freebase_heco")
    monkeypatch.setattr(FreebaseLoader, "process", _boom)
    with pytest.raises(RuntimeError):
        load("freebase", root=tmp_path)
    processed = tmp_path / "processed"
    assert not processed.exists() or list(processed.iterdir()) == []


def test_damaged_cache_is_rebuilt(tmp_path):
    _mirror("freebase_heco")
    load("freebase", root=tmp_path)
    (cache,) = _cache_files(tmp_path)
    cache.write_bytes(b"garbage")
    data = load("freebase", root=tmp_path)
    assert data["movie"].num_nodes == 3492
    assert cache.stat().st_size > 1000
    torch.save({"a": 1}, cache)  # readable, but not a graph: rebuilt too
    data = load("freebase", root=tmp_path)
    assert data["movie"].num_nodes == 3492
    assert cache.stat().st_size > 1000


# ------------------------------------------------------------------ the registry
def test_every_real_loader_is_registered():
    assert {"facebook", "freebase", "freebase-hgb", "synthetic"} <= set(DATASETS.names())


def test_unknown_dataset_lists_the_choices(tmp_path):
    with pytest.raises(UnknownComponentError) as err:
        load("cora", root=tmp_path)
    message = str(err.value)
    assert "'cora'" in message
    for name in ("facebook", "freebase", "freebase-hgb", "synthetic"):
        assert name in message


def test_partial_cache_files_of_killed_loads_are_removed_when_stale(tmp_path):
    import os
    import time

    _mirror("freebase_heco")
    processed = tmp_path / "processed"
    processed.mkdir()
    stale, fresh = processed / ".freebase_heco-0.pt.a.tmp", processed / ".freebase_heco-0.pt.b.tmp"
    other = processed / ".facebook-0.pt.c.tmp"  # another dataset's: not this load's to judge
    for partial in (stale, fresh, other):
        partial.write_bytes(b"half a cache")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    load("freebase", root=tmp_path)
    assert not stale.exists() and fresh.exists() and other.exists()


def test_a_full_disk_while_caching_still_loads_uncached(tmp_path, monkeypatch, caplog):
    # torch's zip writer says "disk full" as a RuntimeError; the loader takes it as the
    # OSError it is (a read-only or full data root loads, uncached), not as a failed load
    _mirror("freebase_heco")
    real_save = torch.save

    def full_disk(obj, path, *args, **kwargs):
        if "processed" in str(path):
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 7104")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    data = load("freebase", root=tmp_path)
    assert data["movie"].num_nodes == 3492
    assert "could not write cache" in caplog.text and "is the disk full" in caplog.text
    assert _cache_files(tmp_path) == []
