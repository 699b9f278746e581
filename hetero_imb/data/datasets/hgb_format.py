"""Readers of HGB's text format (``info.dat``, ``node.dat``, ``link.dat``, label files).

See :mod:`hetero_imb.data.datasets.hgb` for the format and why these readers are
hand-written rather than PyG's ``HGBDataset``. Every error is a
:class:`~hetero_imb.data.datasets.base.DatasetFileError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .base import DatasetFileError

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
        lineno = 0
        try:
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
        except UnicodeDecodeError as err:
            raise DatasetFileError(
                f"{path}: expected UTF-8 text, got byte {err.object[err.start]:#04x} "
                f"({err.reason}) after line {lineno}; re-download the file"
            ) from None


def _relation_name(meaning: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", meaning.lower()).strip("_")


class _InfoFile:
    """The lines of ``info.dat``, read as sections of tab-separated tables."""

    def __init__(self, path: Path):
        self.name = path.name
        with open(path, encoding="utf-8") as handle:
            self.lines = handle.read().splitlines()

    def table(self, section: str, header: str, width: int) -> list[tuple[int, list[str]]]:
        """``(line number, fields)`` of the rows of ``section`` (header row checked)."""
        lines, name = self.lines, self.name
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

    def integer(self, value: str, lineno: int, what: str) -> int:
        try:
            return int(value)
        except ValueError:
            raise DatasetFileError(
                f"{self.name} line {lineno}: {what} must be an integer, got {value!r}"
            ) from None

    def node_type(self, value: str, lineno: int, known: dict[int, str], what: str) -> int:
        """A node type id that ``known`` lists; ``what`` says where it was used."""
        t = self.integer(value, lineno, "node type" if what == "labels" else what)
        if t not in known:
            on = "labels on" if what == "labels" else f"{what} uses"
            raise DatasetFileError(
                f"{self.name} line {lineno}: {on} unknown node type {t}; known: {sorted(known)}"
            )
        return t


def _read_node_types(info_file: _InfoFile) -> dict[int, str]:
    node_types: dict[int, str] = {}
    for lineno, (tid, meaning) in info_file.table("node.dat", "TYPE MEANING", 2):
        t = info_file.integer(tid, lineno, "node type")
        if t in node_types:
            raise DatasetFileError(f"{info_file.name} line {lineno}: node type {t} listed twice")
        node_types[t] = meaning.lower()
    if len(set(node_types.values())) != len(node_types):
        raise DatasetFileError(
            f"{info_file.name}: node type names repeat: {list(node_types.values())}"
        )
    return node_types


def _read_link_types(info_file: _InfoFile, node_types: dict[int, str]) -> dict:
    link_types: dict[int, tuple[int, int, str]] = {}
    used: set[str] = set()
    for lineno, (lid, start, end, meaning) in info_file.table(
        "link.dat", "LINK START END MEANING", 4
    ):
        link = info_file.integer(lid, lineno, "link type")
        src, dst = (
            info_file.node_type(v, lineno, node_types, f"link type {link}") for v in (start, end)
        )
        if link in link_types:
            raise DatasetFileError(f"{info_file.name} line {lineno}: link type {link} listed twice")
        rel = _relation_name(meaning) or f"link_{link}"
        if rel in used:  # keep relation names unique per link type
            rel = f"{rel}_{link}"
        used.add(rel)
        link_types[link] = (src, dst, rel)
    return link_types


def _read_classes(info_file: _InfoFile, node_types: dict[int, str]) -> tuple[int, list[str]]:
    """The labelled node type and the class names."""
    classes: dict[int, str] = {}
    target_types: set[int] = set()
    for lineno, (tid, cid, meaning) in info_file.table("label.dat", "TYPE CLASS MEANING", 3):
        target_types.add(info_file.node_type(tid, lineno, node_types, "labels"))
        c = info_file.integer(cid, lineno, "class")
        if c in classes:
            raise DatasetFileError(f"{info_file.name} line {lineno}: class {c} listed twice")
        classes[c] = meaning
    if len(target_types) != 1:
        raise DatasetFileError(
            f"{info_file.name}: labels must be on one node type, got types {sorted(target_types)}"
        )
    if sorted(classes) != list(range(len(classes))):
        raise DatasetFileError(
            f"{info_file.name}: classes must be numbered 0..{len(classes) - 1}, got "
            f"{sorted(classes)}"
        )
    return target_types.pop(), [classes[c] for c in range(len(classes))]


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
    info_file = _InfoFile(Path(path))
    node_types = _read_node_types(info_file)
    link_types = _read_link_types(info_file, node_types)
    target, class_names = _read_classes(info_file, node_types)
    return HGBInfo(node_types, link_types, target, class_names)


@dataclass
class Nodes:
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


def read_nodes(path: Path, info: HGBInfo) -> Nodes:
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
    return Nodes(gid_sorted, type_sorted, local, counts, features)


def read_links(path: Path, info: HGBInfo, nodes: Nodes) -> dict[int, tuple[np.ndarray, ...]]:
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
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetFileError(
            f"{path.name} line {linenos[i]}: expected a finite weight >= 0, got {cols[3][i]!r}; "
            f"{int(bad.sum())} of {len(weight)} links have one"
        )
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


def unique_edges(
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


def line_of_entry(path: Path, index: int) -> int:
    """Line number of the ``index``-th non-blank line of ``path`` (for error messages)."""
    seen = -1
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.strip():
                seen += 1
                if seen == index:
                    return lineno
    return seen + 1
