"""HeCo's published splits: sizes on all four datasets, the imbalance combination,
and one clear error for every kind of bad input."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DATASETS, DatasetFileError, load
from hetero_imb.data.datasets.base import RawFile
from hetero_imb.data.graph import class_counts_by_split
from hetero_imb.data.heco_splits import heco_split, heco_split_sizes
from hetero_imb.training.config import RunConfig
from hetero_imb.training.runner import parse_split, prepare_data, validate_names

FOLDERS = {"acm": "heco/acm", "dblp": "heco/dblp", "aminer": "heco/aminer",
           "freebase": "freebase_heco"}
CLASSES = {"acm": 3, "dblp": 4, "aminer": 4, "freebase": 3}


def _mirror_has(folder: str) -> bool:
    return any((m / folder / "test_60.npy").is_file() for m in paths.mirror_dirs())


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.mark.parametrize("name", list(FOLDERS))
def test_published_split_sizes(root, name):
    if not _mirror_has(FOLDERS[name]):
        pytest.skip(f"local mirror has no {FOLDERS[name]}/")
    data = load(name, root=root)
    assert heco_split_sizes(name) == (20, 40, 60)
    for size in (20, 40, 60):
        split = heco_split(data, size, root=root)
        counts = class_counts_by_split(split)
        assert counts["train"] == [size] * CLASSES[name]
        assert sum(counts["val"]) == 1000 and sum(counts["test"]) == 1000
        store = split[split.target_node_type]
        assert not bool((store.train_mask & store.test_mask).any())
        assert split.split == {"kind": "heco", "size": size}


def test_step_mask_keeps_20_over_r_for_the_minority_classes(root):
    if not _mirror_has("freebase_heco"):
        pytest.skip("local mirror has no freebase_heco/")
    data = prepare_data(load("freebase", root=root), imbalance="step:10", imbalance_mode="mask",
                        split="heco:20", dataset="freebase", root=root)
    counts = class_counts_by_split(data)
    assert sorted(counts["train"]) == [2, 20, 20]
    assert sum(counts["val"]) == 1000 and sum(counts["test"]) == 1000


def test_parse_split_heco():
    assert parse_split("heco:40") == {"kind": "heco", "size": 40}
    with pytest.raises(ValueError, match="'heco:K'"):
        parse_split("heco:x")


@pytest.mark.parametrize("changes, message", [
    ({"dataset": "facebook"}, r"needs a dataset with HeCo's published splits .*got dataset 'facebook'"),
    ({"split": "heco:30"}, r"takes K in 20, 40, 60 for dataset 'acm', got 30"),
    ({"imbalance": "step:10"}, r"combine it with imbalance_mode 'mask'"),
])
def test_bad_configs_fail_before_loading(changes, message):
    config = dataclasses.replace(RunConfig(dataset="acm", split="heco:20"), **changes)
    with pytest.raises(ValueError, match=message):
        validate_names(config)


def test_corrupt_split_file_is_named(tmp_path):
    folder = tmp_path / "heco" / "acm"
    folder.mkdir(parents=True)
    (folder / "train_20.npy").write_bytes(b"garbage")  # the data root is searched first
    data = load("synthetic")
    with pytest.raises(DatasetFileError, match=r"train_20\.npy is corrupt or truncated"):
        heco_split(data, 20, dataset="acm", root=tmp_path)


def test_missing_split_file_is_named(tmp_path, monkeypatch):
    loader = DATASETS.get("acm")
    specs = dict(loader.published_splits)
    specs[20] = (RawFile("train_20_absent.npy", None, None), *specs[20][1:])
    monkeypatch.setattr(loader, "published_splits", specs)
    with pytest.raises(DatasetFileError, match=r"missing raw file\(s\) train_20_absent\.npy"):
        heco_split(load("synthetic"), 20, dataset="acm", root=tmp_path, download=False)


def test_split_ids_outside_the_graph_are_rejected(root):
    if not _mirror_has("heco/acm"):
        pytest.skip("local mirror has no heco/acm/")
    small = load("synthetic")  # 300 items: the ACM ids go up to 4,018
    with pytest.raises(DatasetFileError, match=r"node ids must be in 0\.\.299"):
        heco_split(small, 20, dataset="acm", root=root)
    assert torch.is_tensor(small["item"].y)


def test_train_and_val_files_that_share_nodes_are_rejected(root, monkeypatch):
    if not _mirror_has("heco/acm"):
        pytest.skip("local mirror has no heco/acm/")
    from hetero_imb.data import heco_splits

    real = heco_splits.heco_split_files

    def same_train_and_val(dataset, size, **kwargs):
        files = real(dataset, size, **kwargs)
        return {**files, "val": files["train"]}  # validation would score training nodes

    monkeypatch.setattr(heco_splits, "heco_split_files", same_train_and_val)
    with pytest.raises(DatasetFileError, match=r"acm heco:20: train and val share 60 nodes"):
        heco_split(load("acm", root=root), 20, dataset="acm", root=root)
