"""Freebase from the Heterogeneous Graph Benchmark (HGB; Lv et al., KDD 2021).

HGB ships every dataset as five text files (PyG's ``HGBDataset`` raw layout):

* ``info.dat``: tables describing node types (``TYPE  MEANING``), link types
  (``LINK  START  END  MEANING``) and classes (``TYPE  CLASS  MEANING``);
* ``node.dat``: ``id<TAB>name<TAB>type[<TAB>comma-separated features]``, global ids;
* ``link.dat``: ``src<TAB>dst<TAB>link_type<TAB>weight``;
* ``label.dat`` / ``label.dat.test``: ``id<TAB>name<TAB>type<TAB>class``.

The graph built here:

* node types are ``info.dat``'s names in lower case (``book``, ``film``, ``music``,
  ``sports``, ``people``, ``location``, ``organization``, ``business`` for Freebase:
  180,098 nodes, 40,402 books); local ids follow ascending global id within a type;
* one relation per link type, named from its ``MEANING`` in lower case with
  ``-`` → ``_`` (``BOOK-to-FILM`` → ``("book", "book_to_film", "film")``), plus a
  reverse ``rev_<relation>`` for every link type (36 + 36 for Freebase); duplicate
  ``(src, dst)`` pairs are kept once; ``edge_weight`` is stored only when some
  weight differs from 1;
* ``x`` only on node types whose ``node.dat`` lines carry features (none for Freebase);
* target type ``book``: ``y`` from ``label.dat`` and ``label.dat.test`` (``-1`` for
  the other books), and HGB's official split as boolean ``official_train_mask``
  (``label.dat``, 2,386 books) and ``official_test_mask`` (``label.dat.test``,
  5,568 books). PyG notes that HGB's public test labels may be randomised to
  prevent leakage (official scores come from HGB's leaderboard), so treat results
  on ``official_test_mask`` with care;
* classes: ``info.dat`` lists 8 book classes, but no book in either label file
  carries class 7 (``poem/poem_character``); classes past the largest label used
  are dropped, leaving 7 (train counts 138 / 1140 / 547 / 58 / 288 / 104 / 111);
* meta-paths: ``book-T-book`` through every link type joining books to another type
  ``T`` (in the direction leaving the book), and each book-book link type as a
  length-1 meta-path; relations without edges are left out.

``node.dat`` and ``link.dat`` are too large for the local mirror; see
:attr:`HGBFreebaseLoader.source_hint` for where to get them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import HeteroData

from . import DATASETS
from .base import DatasetFileError, DatasetLoader, RawFile
from .freebase import reject_options

log = logging.getLogger(__name__)

HGB_FREEBASE_URL = (
    "https://drive.usercontent.google.com/download?id=1vw-uqbroJZfFsWpriC1CWbtHCJMGdWJ7&confirm=t"
)

EdgeType = tuple[str, str, str]


@dataclass
class HGBInfo:
    """What ``info.dat`` says about a dataset.

    Attributes:
        node_types: Type id → readable name (lower case, e.g. ``"book"``).
        link_types: Link id → ``(src type id, dst type id, relation name)``.
        target_type: Type id of the labelled node type.
        class_names: Class id → name, as listed (before unused classes are dropped).
    """

    node_types: dict[int, str] = field(default_factory=dict)
    link_types: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    target_type: int = 0
    class_names: list[str] = field(default_factory=list)

    def edge_type(self, link: int) -> EdgeType:
        """The ``(src, relation, dst)`` triple of link type ``link``."""
        src, dst, rel = self.link_types[link]
        return (self.node_types[src], rel, self.node_types[dst])


def _tab_rows(path: Path, widths: tuple[int, ...]) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-blank tab-separated line of ``path``.

    Raises:
        DatasetFileError: a line whose number of fields is not in ``widths``.
    """
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) not in widths:
                expected = " or ".join(str(w) for w in widths)
                raise DatasetFileError(
                    f"{path.name} line {lineno}: expected {expected} tab-separated fields, "
                    f"got {len(parts)}"
                )
            yield lineno, parts


def _relation_name(meaning: str) -> str:
    name = re.sub(r"[^0-9a-z]+", "_", meaning.lower()).strip("_")
    return name


def parse_info(path: str | Path) -> HGBInfo:
    """Parse HGB's plain-text ``info.dat`` (the Freebase style).

    The file holds sections introduced by a line ``node.dat``, ``link.dat`` or
    ``label.dat``; each has a header row (``TYPE<TAB>MEANING``,
    ``LINK<TAB>START<TAB>END<TAB>MEANING``, ``TYPE<TAB>CLASS<TAB>MEANING``) followed by
    rows (fields separated by one or more tabs) up to the next blank line.

    Returns:
        The parsed :class:`HGBInfo`.

    Raises:
        DatasetFileError: a section or row is missing or malformed (file and line named).
    """
    path = Path(path)
    name = path.name
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()

    def table(section: str, header: str, width: int) -> list[tuple[int, list[str]]]:
        start = next((i for i, ln in enumerate(lines) if ln.strip() == section), None)
        if start is None:
            raise DatasetFileError(f"{name}: no {section!r} section")
        head = next((i for i in range(start + 1, len(lines)) if lines[i].strip()), None)
        if head is None or lines[head].split() != header.split():
            got = lines[head].strip() if head is not None else "end of file"
            raise DatasetFileError(
                f"{name} line {(head or start) + 1}: expected the header {header!r} of the "
                f"{section} section, got {got!r}"
            )
        rows = []
        for i in range(head + 1, len(lines)):
            if not lines[i].strip():
                break
            fields = [f.strip() for f in lines[i].split("\t") if f.strip()]
            if len(fields) != width:
                raise DatasetFileError(
                    f"{name} line {i + 1}: expected {width} tab-separated fields, got {len(fields)}"
                )
            rows.append((i + 1, fields))
        if not rows:
            raise DatasetFileError(f"{name} line {head + 1}: the {section} table is empty")
        return rows

    def integer(value: str, lineno: int, what: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise DatasetFileError(
                f"{name} line {lineno}: {what} must be an integer, got {value!r}"
            ) from None

    info = HGBInfo()
    for lineno, (tid, meaning) in table("node.dat", "TYPE MEANING", 2):
        t = integer(tid, lineno, "node type")
        if t in info.node_types:
            raise DatasetFileError(f"{name} line {lineno}: node type {t} listed twice")
        info.node_types[t] = meaning.lower()
    if len(set(info.node_types.values())) != len(info.node_types):
        raise DatasetFileError(f"{name}: node type names repeat: {list(info.node_types.values())}")

    used: set[str] = set()
    for lineno, (lid, start, end, meaning) in table("link.dat", "LINK START END MEANING", 4):
        link = integer(lid, lineno, "link type")
        src, dst = integer(start, lineno, "START"), integer(end, lineno, "END")
        for t in (src, dst):
            if t not in info.node_types:
                raise DatasetFileError(
                    f"{name} line {lineno}: link type {link} uses unknown node type {t}; "
                    f"known: {sorted(info.node_types)}"
                )
        if link in info.link_types:
            raise DatasetFileError(f"{name} line {lineno}: link type {link} listed twice")
        rel = _relation_name(meaning) or f"link_{link}"
        if rel in used:  # keep relation names unique per link type
            rel = f"{rel}_{link}"
        used.add(rel)
        info.link_types[link] = (src, dst, rel)

    classes: dict[int, str] = {}
    target_types: set[int] = set()
    for lineno, (tid, cid, meaning) in table("label.dat", "TYPE CLASS MEANING", 3):
        t, c = integer(tid, lineno, "node type"), integer(cid, lineno, "class")
        if t not in info.node_types:
            raise DatasetFileError(
                f"{name} line {lineno}: labels on unknown node type {t}; "
                f"known: {sorted(info.node_types)}"
            )
        target_types.add(t)
        if c in classes:
            raise DatasetFileError(f"{name} line {lineno}: class {c} listed twice")
        classes[c] = meaning
    if len(target_types) != 1:
        raise DatasetFileError(
            f"{name}: labels must be on one node type, got types {sorted(target_types)}"
        )
    if sorted(classes) != list(range(len(classes))):
        raise DatasetFileError(
            f"{name}: classes must be numbered 0..{len(classes) - 1}, got {sorted(classes)}"
        )
    info.target_type = target_types.pop()
    info.class_names = [classes[c] for c in range(len(classes))]
    return info


def read_labels(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read ``label.dat`` / ``label.dat.test`` (``id<TAB>name<TAB>type<TAB>class``).

    Returns:
        ``(ids, types, classes)``, three ``int64`` arrays (global node ids).

    Raises:
        DatasetFileError: a malformed line or a multi-label entry (file and line named).
    """
    path = Path(path)
    rows: list[tuple[int, int, int]] = []
    for lineno, parts in _tab_rows(path, (4,)):
        if "," in parts[3]:
            raise DatasetFileError(
                f"{path.name} line {lineno}: multi-label entries ({parts[3]!r}) are not "
                "supported; expected one class"
            )
        try:
            rows.append((int(parts[0]), int(parts[2]), int(parts[3])))
        except ValueError:
            raise DatasetFileError(
                f"{path.name} line {lineno}: id, type and class must be integers, got "
                f"{parts[0]!r}, {parts[2]!r}, {parts[3]!r}"
            ) from None
    table = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


@dataclass
class _Nodes:
    """Parsed ``node.dat``: global ids sorted, their types, and per-type features."""

    ids: np.ndarray  # sorted global ids
    types: np.ndarray  # type id of each sorted id
    local: np.ndarray  # local id of each sorted id within its type
    counts: dict[int, int]
    features: dict[int, np.ndarray]

    def lookup(self, gids: np.ndarray) -> np.ndarray:
        """Positions of ``gids`` in ``ids``; -1 where absent."""
        if len(self.ids) == 0:
            return np.full(len(gids), -1, dtype=np.int64)
        pos = np.searchsorted(self.ids, gids).clip(max=len(self.ids) - 1)
        return np.where(self.ids[pos] == gids, pos, -1)


def _says(width: int | None) -> str:
    return "no features" if width is None else f"{width} features"


def _read_nodes(path: Path, info: HGBInfo) -> _Nodes:
    """Parse ``node.dat`` against ``info``; local ids follow ascending global id."""
    ids: list[int] = []
    linenos: list[int] = []
    types: list[int] = []
    feats: dict[int, list[tuple[int, list[float]]]] = {}
    first: dict[int, tuple[int, int | None]] = {}  # type -> (first line, feature width)
    for lineno, parts in _tab_rows(path, (3, 4)):
        try:
            gid, t = int(parts[0]), int(parts[2])
        except ValueError:
            raise DatasetFileError(
                f"{path.name} line {lineno}: id and type must be integers, got "
                f"{parts[0]!r}, {parts[2]!r}"
            ) from None
        if t not in info.node_types:
            raise DatasetFileError(
                f"{path.name} line {lineno}: unknown node type {t}; info.dat lists "
                f"{sorted(info.node_types)}"
            )
        vec = None
        if len(parts) == 4 and parts[3].strip():
            try:
                vec = [float(v) for v in parts[3].split(",")]
            except ValueError:
                raise DatasetFileError(
                    f"{path.name} line {lineno}: features must be comma-separated numbers"
                ) from None
            feats.setdefault(t, []).append((gid, vec))
        width = None if vec is None else len(vec)
        first_line, first_width = first.setdefault(t, (lineno, width))
        if width != first_width:
            raise DatasetFileError(
                f"{path.name} line {lineno}: {info.node_types[t]} node with "
                f"{_says(width)}, but the {info.node_types[t]} node on line {first_line} "
                f"has {_says(first_width)}"
            )
        if gid < 0:
            raise DatasetFileError(f"{path.name} line {lineno}: negative node id {gid}")
        ids.append(gid)
        types.append(t)
        linenos.append(lineno)
    gid_arr = np.asarray(ids, dtype=np.int64)
    type_arr = np.asarray(types, dtype=np.int64)
    order = np.argsort(gid_arr, kind="stable")
    gid_sorted, type_sorted = gid_arr[order], type_arr[order]
    dup = np.flatnonzero(gid_sorted[1:] == gid_sorted[:-1])
    if len(dup):
        a, b = sorted((linenos[order[dup[0]]], linenos[order[dup[0] + 1]]))
        raise DatasetFileError(
            f"{path.name} line {b}: node id {gid_sorted[dup[0]]} already appears on line {a}"
        )
    local = np.zeros(len(gid_sorted), dtype=np.int64)
    counts: dict[int, int] = {}
    for t in info.node_types:
        members = type_sorted == t
        counts[t] = int(members.sum())
        local[members] = np.arange(counts[t])
    features: dict[int, np.ndarray] = {}
    for t, entries in feats.items():
        entries.sort(key=lambda e: e[0])  # ascending global id = local order
        features[t] = np.asarray([vec for _, vec in entries], dtype=np.float32)
    return _Nodes(gid_sorted, type_sorted, local, counts, features)


def _read_links(path: Path, info: HGBInfo, nodes: _Nodes) -> dict[int, tuple[np.ndarray, ...]]:
    """Link type → (local src, local dst, weight), checked against ``info`` and ``nodes``."""
    cols: list[list[int | float]] = [[], [], [], []]
    linenos: list[int] = []
    for lineno, parts in _tab_rows(path, (4,)):
        try:
            cols[0].append(int(parts[0]))
            cols[1].append(int(parts[1]))
            cols[2].append(int(parts[2]))
            cols[3].append(float(parts[3]))
        except ValueError:
            raw = "\t".join(parts)
            raise DatasetFileError(
                f"{path.name} line {lineno}: expected integer src, dst, link type and a "
                f"numeric weight, got {raw!r}"
            ) from None
        linenos.append(lineno)
    src = np.asarray(cols[0], dtype=np.int64)
    dst = np.asarray(cols[1], dtype=np.int64)
    link = np.asarray(cols[2], dtype=np.int64)
    weight = np.asarray(cols[3], dtype=np.float32)
    known = np.isin(link, list(info.link_types))
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DatasetFileError(
            f"{path.name} line {linenos[i]}: unknown link type {link[i]}; info.dat lists "
            f"{sorted(info.link_types)}"
        )
    src_pos, dst_pos = nodes.lookup(src), nodes.lookup(dst)
    for pos, ends, what in ((src_pos, src, "source"), (dst_pos, dst, "target")):
        if (pos < 0).any():
            i = int(np.flatnonzero(pos < 0)[0])
            raise DatasetFileError(
                f"{path.name} line {linenos[i]}: {what} node {ends[i]} is not in node.dat"
            )
    out: dict[int, tuple[np.ndarray, ...]] = {}
    for lid, (s_type, d_type, _) in info.link_types.items():
        rows = np.flatnonzero(link == lid)
        for pos, ends, expected, what in (
            (src_pos, src, s_type, "source"),
            (dst_pos, dst, d_type, "target"),
        ):
            wrong = rows[nodes.types[pos[rows]] != expected]
            if len(wrong):
                i = int(wrong[0])
                got = info.node_types[int(nodes.types[pos[i]])]
                raise DatasetFileError(
                    f"{path.name} line {linenos[i]}: link type {lid} needs a "
                    f"{info.node_types[expected]} {what}, got node {ends[i]} of type {got}"
                )
        out[lid] = (nodes.local[src_pos[rows]], nodes.local[dst_pos[rows]], weight[rows])
    return out


def _edges(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct pairs sorted by (src, dst), with the weight of each pair's first line."""
    if len(src) == 0:
        return torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, dtype=torch.float32)
    width = int(dst.max()) + 1  # local ids are < 2**31, so the key cannot overflow
    keys = src * width + dst
    order = np.argsort(keys, kind="stable")  # stable: the first line of a pair leads
    sorted_keys = keys[order]
    first = order[np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]])]
    edge_index = np.stack([src[first], dst[first]])
    return torch.from_numpy(np.ascontiguousarray(edge_index)), torch.from_numpy(weight[first])


def build_hgb(raw: dict[str, Path], name: str = "freebase-hgb") -> HeteroData:
    """Build a heterograph from HGB's five raw files.

    Args:
        raw: File name → path for ``info.dat``, ``node.dat``, ``link.dat``,
            ``label.dat`` and ``label.dat.test``.
        name: Stored as ``data.name``.

    Returns:
        The graph described in the module docstring.

    Raises:
        DatasetFileError: a file is malformed, or ids, types or classes are out of
        range (the message names the file and, where there is one, the line).
    """
    info = parse_info(raw["info.dat"])
    nodes = _read_nodes(raw["node.dat"], info)
    links = _read_links(raw["link.dat"], info, nodes)
    data = HeteroData()
    for t, type_name in info.node_types.items():
        data[type_name].num_nodes = nodes.counts[t]
        if t in nodes.features:
            data[type_name].x = torch.from_numpy(nodes.features[t])

    target = info.node_types[info.target_type]
    num_target = nodes.counts[info.target_type]
    y = torch.full((num_target,), -1, dtype=torch.long)
    masks = {}
    label_sets = []
    for file_name, split in (("label.dat", "train"), ("label.dat.test", "test")):
        ids, types, classes = read_labels(raw[file_name])
        where = f"{file_name} line"
        pos = nodes.lookup(ids)
        bad = np.flatnonzero(
            (pos < 0)
            | (types != info.target_type)
            | (classes < 0)
            | (classes >= len(info.class_names))
        )
        if len(bad):
            i = int(bad[0])
            lineno = _line_of_entry(raw[file_name], i)
            if pos[i] < 0:
                problem = f"node {ids[i]} is not in node.dat"
            elif types[i] != info.target_type:
                problem = (
                    f"node type {types[i]}, but labels belong to type {info.target_type} ({target})"
                )
            else:
                problem = f"class {classes[i]} is out of range 0..{len(info.class_names) - 1}"
            raise DatasetFileError(f"{where} {lineno}: {problem}")
        if (nodes.types[pos] != info.target_type).any():
            i = int(np.flatnonzero(nodes.types[pos] != info.target_type)[0])
            raise DatasetFileError(
                f"{where} {_line_of_entry(raw[file_name], i)}: node {ids[i]} is a "
                f"{info.node_types[int(nodes.types[pos[i]])]} in node.dat, not a {target}"
            )
        order = np.argsort(ids, kind="stable")
        repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1])
        if len(repeated):
            i = int(order[repeated[0] + 1])
            raise DatasetFileError(
                f"{where} {_line_of_entry(raw[file_name], i)}: node {ids[i]} is labelled "
                f"again (first on line {_line_of_entry(raw[file_name], int(order[repeated[0]]))})"
            )
        local = torch.from_numpy(nodes.local[pos])
        mask = torch.zeros(num_target, dtype=torch.bool)
        mask[local] = True
        masks[split] = mask
        y[local] = torch.from_numpy(classes)
        label_sets.append(classes)
    overlap = masks["train"] & masks["test"]
    if overlap.any():
        raise DatasetFileError(
            f"{int(overlap.sum())} {target} node(s) are labelled in both label.dat and "
            "label.dat.test"
        )
    used = max((int(c.max()) for c in label_sets if len(c)), default=-1) + 1
    if used < len(info.class_names):
        log.info(
            "info.dat lists %d classes but labels use %d; dropping %s",
            len(info.class_names),
            used,
            info.class_names[used:],
        )
    data[target].y = y
    data[target].official_train_mask = masks["train"]
    data[target].official_test_mask = masks["test"]

    metapaths: list[list[EdgeType]] = []
    for lid in sorted(info.link_types):
        s_type, d_type, rel = info.link_types[lid]
        forward = info.edge_type(lid)
        backward = (forward[2], f"rev_{rel}", forward[0])
        edge_index, weight = _edges(*links[lid])
        data[forward].edge_index = edge_index
        data[backward].edge_index = edge_index.flip(0)
        if len(weight) and not torch.all(weight == 1):
            data[forward].edge_weight = weight
            data[backward].edge_weight = weight
        if edge_index.size(1) == 0:
            continue
        if s_type == info.target_type and d_type == info.target_type:
            metapaths.append([forward])
        elif s_type == info.target_type:
            metapaths.append([forward, backward])
        elif d_type == info.target_type:
            metapaths.append([backward, forward])
    data.target_node_type = target
    data.class_names = info.class_names[:used]
    data.metapaths = metapaths
    data.name = name
    return data


def _line_of_entry(path: Path, index: int) -> int:
    """Line number of the ``index``-th non-blank line of ``path`` (for error messages)."""
    seen = -1
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.strip():
                seen += 1
                if seen == index:
                    return lineno
    return seen + 1


@DATASETS.register("freebase-hgb")
class HGBFreebaseLoader(DatasetLoader):
    """Freebase (HGB): 180,098 nodes of 8 types, 36 link types; 7 book classes.

    Takes no options. See the module docstring for the graph's layout.

    Example (skipped: it needs node.dat and link.dat, see the module docstring):
        >>> from hetero_imb.data.datasets import load
        >>> data = load("freebase-hgb")  # doctest: +SKIP
        >>> data["book"].num_nodes  # doctest: +SKIP
        40402
    """

    raw_folder = "freebase_hgb"
    raw_files = (
        RawFile("info.dat", "920bcb0cb939d76146346000846349d22667c7880dd031b3afbdfc0c74b3a839"),
        RawFile("node.dat"),
        RawFile("link.dat"),
        RawFile("label.dat", "acf1dc99228c3558498f43ebc7838f05678cce93901d4361459111ddd3505eb1"),
        RawFile(
            "label.dat.test", "3243f249fa985cc86feab01aa05709f7810615120ec973722c0d55cf22aa290d"
        ),
    )
    version = 1
    source_hint = (
        "node.dat and link.dat come in HGB's Freebase node-classification archive "
        f"(the zip PyG's HGBDataset(root, 'freebase') downloads: {HGB_FREEBASE_URL}); "
        "unzip it and put its five .dat files in <data root>/freebase_hgb/"
    )

    def process(self, raw: dict[str, Path]) -> HeteroData:
        reject_options("freebase-hgb", self.options)
        return build_hgb(raw)
