"""Downloads go through pooch: a file reaches its place only whole and with the right
checksum. Failures are injected with fake downloaders; nothing touches the network."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pooch
import pytest
from torch_geometric.data import HeteroData

from hetero_imb import paths
from hetero_imb.data.datasets import DatasetFileError, DatasetLoader, RawFile
from hetero_imb.data.datasets.base import download_file, load_processed

CONTENT = b"0\t1\n1\t2\n" * 1000
SHA = hashlib.sha256(CONTENT).hexdigest()
URL = "https://example.invalid/edges.txt"


def half_then_fail(url, output_file, pooch_obj):
    """Writes the first half of the file, then the connection drops."""
    with open(output_file, "wb") as out:
        out.write(CONTENT[: len(CONTENT) // 2])
    raise OSError("connection reset by peer")


def whole(content: bytes):
    def downloader(url, output_file, pooch_obj):
        with open(output_file, "wb") as out:
            out.write(content)

    return downloader


class _EdgesLoader(DatasetLoader):
    raw_folder = "edges_test"
    raw_files = (RawFile("edges.txt", SHA, URL),)

    def process(self, raw: dict[str, Path]) -> HeteroData:
        data = HeteroData()
        data.text = raw["edges.txt"].read_bytes()
        return data


@pytest.fixture
def no_mirror(monkeypatch):
    monkeypatch.setattr(paths, "mirror_dirs", lambda mirror=None: [])


def test_download_writes_the_file(tmp_path):
    dest = tmp_path / "raw" / "edges.txt"
    assert download_file(URL, dest, SHA, downloader=whole(CONTENT)) == dest
    assert dest.read_bytes() == CONTENT


def test_interrupted_download_leaves_nothing(tmp_path):
    dest = tmp_path / "raw" / "edges.txt"
    with pytest.raises(DatasetFileError, match=r"could not download .*edges\.txt.*connection reset"):
        download_file(URL, dest, SHA, downloader=half_then_fail)
    assert list(dest.parent.iterdir()) == []  # no partial file, no temporary file


def test_interrupted_download_without_checksum_leaves_nothing(tmp_path):
    dest = tmp_path / "edges.txt"
    with pytest.raises(DatasetFileError):
        download_file(URL, dest, None, downloader=half_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_download_is_refused(tmp_path):
    dest = tmp_path / "edges.txt"
    with pytest.raises(DatasetFileError, match=r"could not download .*edges\.txt.*hash"):
        download_file(URL, dest, SHA, downloader=whole(CONTENT[:-1] + b"x"))
    assert list(tmp_path.iterdir()) == []


def test_loader_after_an_interrupted_download(tmp_path, monkeypatch, no_mirror):
    monkeypatch.setattr(pooch, "HTTPDownloader", lambda **kwargs: half_then_fail)
    with pytest.raises(DatasetFileError, match=r"missing raw file\(s\) edges\.txt"):
        load_processed(_EdgesLoader(), root=tmp_path)
    assert list((tmp_path / "edges_test").iterdir()) == []
    with pytest.raises(DatasetFileError, match=r"missing raw file\(s\) edges\.txt"):
        load_processed(_EdgesLoader(), root=tmp_path, download=False)
    # the next load that can download gets the whole file
    monkeypatch.setattr(pooch, "HTTPDownloader", lambda **kwargs: whole(CONTENT))
    assert load_processed(_EdgesLoader(), root=tmp_path).text == CONTENT


def test_mirror_comes_before_download(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "edges_test").mkdir(parents=True)
    (mirror / "edges_test" / "edges.txt").write_bytes(CONTENT)
    monkeypatch.setattr(pooch, "HTTPDownloader", lambda **kwargs: half_then_fail)
    found = _EdgesLoader().locate(root=tmp_path / "root", mirror=mirror)
    assert found["edges.txt"] == (mirror / "edges_test" / "edges.txt").resolve()
