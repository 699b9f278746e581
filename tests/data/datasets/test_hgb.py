"""HGB-format loader (freebase-hgb): generated small files in HGB's exact layout, plus
the parts of the real release that the local mirror holds (info.dat, label files)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from hetero_imb import paths
from hetero_imb.data.datasets import DatasetFileError, load
from hetero_imb.data.datasets.hgb import HGBFreebaseLoader, build_hgb, parse_info, read_labels
from hetero_imb.data.datasets.hgb_labels import read_label_rows
from hetero_imb.data.graph import class_counts, is_multilabel, metapath_edge_index
from hetero_imb.data.splits import official_split
from hetero_imb.data.validate import validate_graph

TYPES = ["BOOK", "FILM", "MUSIC", "SPORTS", "PEOPLE", "LOCATION", "ORGANIZATION", "BUSINESS"]
LINKS = [  # (id, start, end, meaning): a few of the 36, ids deliberately not contiguous
    (0, 0, 0, "BOOK-and-BOOK"),
    (1, 0, 1, "BOOK-to-FILM"),
    (5, 1, 1, "FILM-and-FILM"),
    (14, 4, 0, "PEOPLE-to-BOOK"),
    (20, 4, 6, "PEOPLE-in-ORGANIZATION"),
]
CLASSES = [
    "scholarly_work",
    "book_character/book_subject",
    "publication/published_work",
    "short_story",
    "magazine/magazine_issue/magazine_genre",
    "newspaper",
    "journal_article/journal/journal_publication",
    "poem/poem_character",
]

# global id -> type; books 0..8 and 30 (a gap), films 10..13 carry 2 features
NODE_TYPES = {
    **{i: 0 for i in range(9)},
    30: 0,
    **{i: 1 for i in range(10, 14)},
    14: 2, 15: 2, 16: 3,
    **{i: 4 for i in range(17, 22)},
    22: 5, 23: 5, 24: 6, 25: 6, 26: 7,
}  # fmt: skip
FILM_X = {10: "0.5,1", 11: "1,2", 12: "-1,0", 13: "3,3"}
LINK_ROWS = [
    (0, 1, 0, 1.0), (1, 2, 0, 1.0), (0, 1, 0, 1.0),  # duplicate book-book pair
    (0, 10, 1, 1.0), (3, 11, 1, 1.0), (30, 13, 1, 1.0),
    (10, 11, 5, 0.5), (11, 12, 5, 2.0),
    (17, 0, 14, 1.0), (18, 3, 14, 1.0), (21, 30, 14, 1.0),
    (17, 24, 20, 1.0), (19, 25, 20, 1.0),
]  # fmt: skip
TRAIN_LABELS = {0: 1, 1: 2, 2: 1, 3: 0}
TEST_LABELS = {4: 6, 5: 1, 30: 3}


def info_text(links=LINKS, classes=CLASSES) -> str:
    """An info.dat laid out like HGB's Freebase one (double tabs and all)."""
    lines = ["node.dat", "", "TYPE\tMEANING"]
    lines += [f"{i}\t\t{name}" for i, name in enumerate(TYPES)]
    lines += ["", "Attribute Dimension: 0", "", "-" * 47, "", "link.dat", ""]
    lines += ["LINK\tSTART\tEND\tMEANING"]
    lines += [f"{i}\t\t{s}\t\t{e}\t{m}" for i, s, e, m in links]
    lines += ["", "Targeting: Link Type (0,0,0)", "", "-" * 47 + " ", "", "label.dat", ""]
    lines += ["TYPE\tCLASS\tMEANING"]
    lines += [f"0\t\t{c}\t\t{m}" for c, m in enumerate(classes)]
    lines += ["", "Targeting: Label Type 0"]
    return "\n".join(lines)


def node_lines() -> list[str]:
    lines = []
    for gid, t in NODE_TYPES.items():
        line = f"{gid}\tnode_{gid}\t{t}"
        if gid in FILM_X:
            line += "\t" + FILM_X[gid]
        lines.append(line)
    random.Random(0).shuffle(lines)  # local ids must not depend on file order
    return lines


def label_lines(labels: dict) -> list[str]:
    """One line per node; a tuple of classes is written comma-separated (HGB IMDB style)."""
    return [
        f"{gid}\tname of {gid}\t0\t{','.join(map(str, c)) if isinstance(c, tuple) else c}"
        for gid, c in labels.items()
    ]


def write_hgb(folder: Path) -> dict[str, Path]:
    """Write the five HGB files into ``folder``; return name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "info.dat": info_text(),
        "node.dat": "\n".join(node_lines()) + "\n",
        "link.dat": "\n".join(f"{s}\t{d}\t{t}\t{w}" for s, d, t, w in LINK_ROWS) + "\n",
        "label.dat": "\n".join(label_lines(TRAIN_LABELS)) + "\n",
        "label.dat.test": "\n".join(label_lines(TEST_LABELS)) + "\n",
    }
    raw = {}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        raw[name] = folder / name
    return raw


@pytest.fixture
def hgb_raw(tmp_path) -> dict[str, Path]:
    return write_hgb(tmp_path / "freebase_hgb")


def test_node_counts_types_and_features(hgb_raw):
    data = build_hgb(hgb_raw)
    assert data.node_types == [t.lower() for t in TYPES]
    counts = {t: data[t].num_nodes for t in data.node_types}
    assert counts == {
        "book": 10, "film": 4, "music": 2, "sports": 1, "people": 5,
        "location": 2, "organization": 2, "business": 1,
    }  # fmt: skip
    assert torch.equal(data["film"].x, torch.tensor([[0.5, 1], [1, 2], [-1, 0], [3, 3]]))
    assert [t for t in data.node_types if "x" in data[t]] == ["film"]
    assert data.name == "freebase-hgb"


def test_relations_reverse_dedup_and_local_ids(hgb_raw):
    data = build_hgb(hgb_raw)
    assert len(data.edge_types) == 2 * len(LINKS)
    bb = data["book", "book_and_book", "book"].edge_index
    assert bb.tolist() == [[0, 1], [1, 2]]  # the repeated 0->1 line is kept once
    assert data["book", "rev_book_and_book", "book"].edge_index.tolist() == [[1, 2], [0, 1]]
    # book 30 is the 10th book (local 9), film 13 the 4th film (local 3)
    assert data["book", "book_to_film", "film"].edge_index.tolist() == [[0, 3, 9], [0, 1, 3]]
    assert data["film", "rev_book_to_film", "book"].edge_index.tolist() == [[0, 1, 3], [0, 3, 9]]
    assert data["people", "people_to_book", "book"].edge_index.tolist() == [[0, 1, 4], [0, 3, 9]]
    assert data["people", "people_in_organization", "organization"].edge_index.tolist() == [
        [0, 2],
        [0, 1],
    ]
    # weights only where some differ from 1
    assert data["film", "film_and_film", "film"].edge_weight.tolist() == [0.5, 2.0]
    assert data["film", "rev_film_and_film", "film"].edge_weight.tolist() == [0.5, 2.0]
    assert "edge_weight" not in data["book", "book_to_film", "film"]


def test_labels_masks_and_class_names(hgb_raw):
    data = build_hgb(hgb_raw)
    assert data.target_node_type == "book"
    store = data["book"]
    assert store.y.tolist() == [1, 2, 1, 0, 6, 1, -1, -1, -1, 3]
    assert torch.nonzero(store.official_train_mask).flatten().tolist() == [0, 1, 2, 3]
    assert torch.nonzero(store.official_test_mask).flatten().tolist() == [4, 5, 9]
    # class 7 (poem) is listed in info.dat but never used: dropped
    assert data.class_names == CLASSES[:7]


def test_metapaths(hgb_raw):
    data = build_hgb(hgb_raw)
    assert data.metapaths == [
        [("book", "book_and_book", "book")],
        [("book", "book_to_film", "film"), ("film", "rev_book_to_film", "book")],
        [("book", "rev_people_to_book", "people"), ("people", "people_to_book", "book")],
    ]
    # no person links two different books (17->0, 18->3, 21->30)
    assert metapath_edge_index(data, data.metapaths[2]).shape == (2, 0)
    bb = metapath_edge_index(data, data.metapaths[0])
    assert bb.tolist() == [[0, 1], [1, 2]]


def test_load_through_registry_and_cache(tmp_path, monkeypatch):
    write_hgb(tmp_path / "freebase_hgb")
    # generated files cannot match the real checksums: drop them for this test
    unverified = tuple(dataclasses.replace(f, sha256=None) for f in HGBFreebaseLoader.raw_files)
    monkeypatch.setattr(HGBFreebaseLoader, "raw_files", unverified)
    data = load("freebase-hgb", root=tmp_path)
    assert data["book"].num_nodes == 10
    assert len(list((tmp_path / "processed").glob("freebase_hgb-*.pt"))) == 1
    with pytest.raises(ValueError, match="dataset 'freebase-hgb' has no parameter 'bogus'"):
        load("freebase-hgb", root=tmp_path, bogus=1)


def test_generated_files_fail_the_real_checksums(tmp_path):
    write_hgb(tmp_path / "freebase_hgb")
    with pytest.raises(DatasetFileError, match=r"info\.dat is corrupt or truncated"):
        load("freebase-hgb", root=tmp_path)


# ------------------------------------------------------------------ malformed files
BAD_CASES = [
    ("link.dat", "0\t1\t0\t1\n1\t2\n", r"link\.dat line 2: expected 4 tab-separated fields, got 2"),
    ("link.dat", "0\t1\t7\t1\n", r"link\.dat line 1: unknown link type 7"),
    ("link.dat", "0\t1\t0\t1\n0\t99\t0\t1\n", r"link\.dat line 2: target node 99 is not in node\.dat"),
    ("link.dat", "\n0\t10\t0\t1\n", r"link\.dat line 2: link type 0 needs a book target, got node 10 of type film"),
    ("link.dat", "0\tx\t0\t1\n", r"link\.dat line 1: expected integer src"),
    ("link.dat", "0\t1\t0\t1\n0\t2\t0\tnan\n", r"link\.dat line 2: expected a finite weight >= 0, got nan; 1 of 2"),
    ("link.dat", "0\t1\t0\t-5\n", r"link\.dat line 1: expected a finite weight >= 0, got -5\.0"),
    ("node.dat", "0\tb\t0\n1\tb\t9\n", r"node\.dat line 2: unknown node type 9"),
    ("node.dat", "0\tb\n", r"node\.dat line 1: expected 3 or 4 tab-separated fields, got 2"),
    ("node.dat", "0\tb\t0\n0\tc\t0\n", r"node\.dat line 2: node id 0 already appears on line 1"),
    ("node.dat", "10\tf\t1\t1,2\n11\tf\t1\t1\n", r"node\.dat line 2: film node with 1 features, but the film node on line 1 has 2"),
    ("node.dat", "10\tf\t1\t1,2\n11\tf\t1\n", r"node\.dat line 2: film node with no features"),
    ("node.dat", "10\tf\t1\t1,a\n", r"node\.dat line 1: features must be comma-separated numbers"),
    ("label.dat", "0\tb\t0\t1\n1\tb\t0\t8\n", r"label\.dat line 2: class 8 is out of range 0\.\.7"),
    ("label.dat", "0\tb\t0\t1\n\n10\tf\t1\t1\n", r"label\.dat line 3: node type 1, but labels belong to type 0"),
    ("label.dat", "10\tf\t0\t1\n", r"label\.dat line 1: node 10 is a film in node\.dat, not a book"),
    ("label.dat", "99\tb\t0\t1\n", r"label\.dat line 1: node 99 is not in node\.dat"),
    ("label.dat", "0\tb\t0\t1\n1\tb\t0\t1\n0\tb\t0\t2\n", r"label\.dat line 3: node 0 is labelled again \(first on line 1\)"),
    ("label.dat", "0\tb\t0\t1,\n", r"label\.dat line 1: id and type must be integers and the class field one integer or comma-separated integers, got '0', '0', '1,'"),
    ("label.dat", "0\tb\t0\t1\n1\tb\t0\t2,9\n", r"label\.dat line 2: class 9 is out of range 0\.\.7"),
    ("label.dat.test", "0\tb\t0\n", r"label\.dat\.test line 1: expected 4 tab-separated fields, got 3"),
    ("label.dat.test", "0\tb\t0\t1\n", r"labelled in both label\.dat and label\.dat\.test"),
    ("info.dat", info_text().replace("1\t\t0\t\t1\tBOOK-to-FILM", "1\t\t0\t\t11\tBOOK-to-FILM"), r"info\.dat line 21: link type 1 uses unknown node type 11"),
    ("info.dat", info_text().replace("LINK\tSTART", "LNK\tSTART"), r"info\.dat line 19: expected the header"),
    ("info.dat", info_text().replace("3\t\tSPORTS", "3\t\tSPORTS\textra"), r"info\.dat line 7: expected 2 tab-separated fields, got 3"),
    ("info.dat", "nothing here\n", r"info\.dat: no 'node\.dat' section"),
]  # fmt: skip


@pytest.mark.parametrize("file_name, text, message", BAD_CASES)
def test_malformed_files_name_file_and_line(tmp_path, file_name, text, message):
    raw = write_hgb(tmp_path)
    raw[file_name].write_text(text, encoding="utf-8")
    with pytest.raises(DatasetFileError, match=message):
        build_hgb(raw)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    raw = write_hgb(tmp_path)
    raw["node.dat"].write_bytes(raw["node.dat"].read_bytes().replace(b"\t", b"\t\xe9", 1))
    with pytest.raises(DatasetFileError, match=r"node\.dat: expected UTF-8 text, got byte 0xe9"):
        build_hgb(raw)


def test_duplicate_relation_names_get_link_id(tmp_path):
    links = [*LINKS, (21, 0, 1, "BOOK-to-FILM")]
    raw = write_hgb(tmp_path)
    raw["info.dat"].write_text(info_text(links=links), encoding="utf-8")
    info = parse_info(raw["info.dat"])
    assert info.edge_type(1) == ("book", "book_to_film", "film")
    assert info.edge_type(21) == ("book", "book_to_film_21", "film")


# --------------------------------------------------------------- the real release
def _mirror_file(name: str) -> Path:
    for mirror in paths.mirror_dirs():
        if (mirror / "freebase_hgb" / name).is_file():
            return mirror / "freebase_hgb" / name
    pytest.skip(f"local mirror has no freebase_hgb/{name}")


def test_real_info_dat_parses():
    info = parse_info(_mirror_file("info.dat"))
    assert list(info.node_types.values()) == [t.lower() for t in TYPES]
    assert sorted(info.link_types) == list(range(36))
    assert info.edge_type(1) == ("book", "book_to_film", "film")
    assert info.edge_type(6) == ("music", "music_in_book", "book")
    assert info.edge_type(35) == ("business", "business_and_business", "business")
    assert len({rel for _, _, rel in info.link_types.values()}) == 36
    assert info.node_types[info.target_type] == "book"
    assert info.class_names == CLASSES


def test_real_label_files_parse():
    ids, types, classes = read_labels(_mirror_file("label.dat"))
    assert len(ids) == 2386 and set(types.tolist()) == {0}
    assert np.bincount(classes).tolist() == [138, 1140, 547, 58, 288, 104, 111]
    ids_t, _, classes_t = read_labels(_mirror_file("label.dat.test"))
    assert np.bincount(classes_t).tolist() == [291, 2746, 1201, 127, 674, 255, 274]
    assert not set(ids.tolist()) & set(ids_t.tolist())
    assert max(ids.max(), ids_t.max()) < 40402  # books come first in HGB's global ids


def test_real_release_without_node_and_link_dat_names_them(tmp_path):
    _mirror_file("info.dat")
    with pytest.raises(DatasetFileError) as err:
        load("freebase-hgb", root=tmp_path)
    message = str(err.value)
    assert "node.dat, link.dat" in message
    assert "info.dat" not in message.split("(searched")[0]  # the mirror supplies the rest
    assert "drive.usercontent.google.com" in message and "HGBDataset" in message


# ------------------------------------------------------------- multi-label (HGB IMDB style)
MULTI_TRAIN = {0: (1, 2), 1: (2,), 2: (0, 1, 2), 3: (1,), 6: (0, 2), 7: (1, 2)}
MULTI_TEST = {4: (0, 1), 5: (2,), 30: (1, 2), 8: (0,)}


def write_multilabel(folder: Path) -> dict[str, Path]:
    """The small HGB files, with label files whose class field lists several classes."""
    raw = write_hgb(folder)
    for name, labels in (("label.dat", MULTI_TRAIN), ("label.dat.test", MULTI_TEST)):
        lines = label_lines(labels)
        random.Random(1).shuffle(lines)
        raw[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return raw


def test_read_label_rows_keeps_every_listed_class(tmp_path):
    raw = write_multilabel(tmp_path)
    ids, types, classes = read_label_rows(raw["label.dat"])
    assert {int(i): tuple(c.tolist()) for i, c in zip(ids, classes, strict=True)} == MULTI_TRAIN
    assert set(types.tolist()) == {0}
    with pytest.raises(DatasetFileError, match=r"label\.dat line \d: multi-label entry '\d(,\d)+'"):
        read_labels(raw["label.dat"])


def test_multilabel_files_give_multi_hot_y_and_official_masks(tmp_path):
    data = build_hgb(write_multilabel(tmp_path))
    assert is_multilabel(data)
    y = data["book"].y
    assert y.dtype == torch.float32 and y.shape == (10, 3)  # classes past the largest used dropped
    assert data.class_names == CLASSES[:3]
    books = sorted(g for g, t in NODE_TYPES.items() if t == 0)  # local id = rank of global id
    expected = torch.full((10, 3), -1.0)
    for gid, classes in {**MULTI_TRAIN, **MULTI_TEST}.items():
        expected[books.index(gid)] = 0.0
        expected[books.index(gid), list(classes)] = 1.0
    assert torch.equal(y, expected)  # book 9 is in neither file: all -1
    assert data["book"].official_train_mask.sum() == 6 and data["book"].official_test_mask.sum() == 4
    assert class_counts(data) == [4, 6, 7]
    assert class_counts(data, data["book"].official_test_mask) == [2, 2, 2]
    validate_graph(data)


def test_one_multilabel_line_makes_the_whole_dataset_multilabel(tmp_path):
    raw = write_hgb(tmp_path)
    raw["label.dat.test"].write_text("4\tb\t0\t6,1\n5\tb\t0\t1\n", encoding="utf-8")
    data = build_hgb(raw)
    y = data["book"].y
    assert y.shape == (10, 7)
    assert y[0].tolist() == [0, 1, 0, 0, 0, 0, 0]  # single-label training line: one positive
    assert y[4].tolist() == [0, 1, 0, 0, 0, 0, 1]


def test_official_split_of_a_multilabel_hgb_graph(tmp_path):
    raw = write_multilabel(tmp_path)
    data = official_split(build_hgb(raw), val=0.3, seed=0)
    store = data["book"]
    assert torch.equal(store.test_mask, store.official_test_mask)
    assert torch.equal(store.train_mask | store.val_mask, store.official_train_mask)
    assert not (store.train_mask & store.val_mask).any()
    assert store.val_mask.sum() >= 1
