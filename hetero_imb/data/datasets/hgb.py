"""Freebase from the Heterogeneous Graph Benchmark (HGB; Lv et al., KDD 2021).

HGB ships every dataset as five text files (PyG's ``HGBDataset`` raw layout):
``info.dat`` (tables of node types ``TYPE MEANING``, link types
``LINK START END MEANING`` and classes ``TYPE CLASS MEANING``); ``node.dat``
(``id<TAB>name<TAB>type[<TAB>comma-separated features]``, global ids); ``link.dat``
(``src<TAB>dst<TAB>link_type<TAB>weight``); ``label.dat`` / ``label.dat.test``
(``id<TAB>name<TAB>type<TAB>class``; the class field may list several
comma-separated classes, as in HGB's IMDB: then ``y`` is multi-hot, see
:mod:`hetero_imb.data.datasets.hgb_labels`).

The graph built here:

* node types are ``info.dat``'s names in lower case (Freebase: 180,098 nodes of 8
  types, 40,402 books); local ids follow ascending global id within a type;
* one relation per link type, named from its ``MEANING`` (``BOOK-to-FILM`` →
  ``("book", "book_to_film", "film")``), each followed by its reverse
  ``rev_<relation>`` (36 + 36 for Freebase); duplicate ``(src, dst)`` pairs are kept
  once; ``edge_weight`` only when some weight differs from 1;
* ``x`` only on node types whose ``node.dat`` lines carry features (none for Freebase);
* target type ``book``: ``y`` from both label files (``-1`` for the other books), and
  HGB's split as ``official_train_mask`` (``label.dat``, 2,386 books) and
  ``official_test_mask`` (``label.dat.test``, 5,568). PyG notes that HGB's public
  test labels may be randomised to prevent leakage, so treat test scores with care;
* classes: ``info.dat`` lists 8 book classes, but no book carries class 7
  (``poem/poem_character``); classes past the largest label used are dropped,
  leaving 7 (train counts 138 / 1140 / 547 / 58 / 288 / 104 / 111);
* meta-paths: ``book-T-book`` through every non-empty link type joining books to
  another type ``T`` (in the direction leaving the book), and each book-book link
  type alone.

Why not PyG's ``HGBDataset``: it does read a local raw folder without network (five
files symlinked into ``<root>/freebase/raw/Freebase/`` skip its download), but on
files of Freebase's full size (180,098 nodes, 1,057,680 links, generated) it took
17.9 s against 5.3 s here (15.7 s with ``ToUndirected`` added), keeps duplicate
links, numbers nodes in file order, assumes link ids 0..L-1, names relations by their
middle word (``to``, ``and``) and fails on a malformed line with a bare ``KeyError``
or ``ValueError``; this parser names the file and line instead.

``node.dat`` and ``link.dat`` are too large for the local mirror; see
:attr:`HGBFreebaseLoader.source_hint` for where to get them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch_geometric.data import HeteroData

from . import DATASETS
from .base import DatasetLoader, RawFile
from .freebase import reject_options
from .hgb_format import EdgeType, HGBInfo, parse_info, read_links, read_nodes, unique_edges
from .hgb_labels import add_labels, read_labels

__all__ = ["HGBFreebaseLoader", "build_hgb", "parse_info", "read_labels"]

log = logging.getLogger(__name__)

HGB_FREEBASE_URL = (
    "https://drive.usercontent.google.com/download?id=1vw-uqbroJZfFsWpriC1CWbtHCJMGdWJ7&confirm=t"
)


def _add_relations(data: HeteroData, info: HGBInfo, links: dict) -> list[list[EdgeType]]:
    """Every link type and its reverse (next to it); returns the default meta-paths.

    The reverse is one ``flip`` here; ``ToUndirected(merge=False)`` gives the same edges
    but appends all reverses after all relations, which reorders the edge types.
    """
    metapaths: list[list[EdgeType]] = []
    for lid in sorted(info.link_types):
        s_type, d_type, rel = info.link_types[lid]
        forward = info.edge_type(lid)
        backward = (forward[2], f"rev_{rel}", forward[0])
        edge_index, weight = unique_edges(*links[lid])
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
    return metapaths


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
    nodes = read_nodes(raw["node.dat"], info)
    links = read_links(raw["link.dat"], info, nodes)
    data = HeteroData()
    for t, type_name in info.node_types.items():
        data[type_name].num_nodes = nodes.counts[t]
        if t in nodes.features:
            data[type_name].x = torch.from_numpy(nodes.features[t])
    used = add_labels(data, raw, info, nodes)
    metapaths = _add_relations(data, info, links)
    data.target_node_type = info.node_types[info.target_type]
    data.class_names = info.class_names[:used]
    data.metapaths = metapaths
    data.name = name
    return data


@DATASETS.register("freebase-hgb")
class HGBFreebaseLoader(DatasetLoader):
    """Freebase (HGB): 180,098 nodes of 8 types, 36 link types; 7 book classes.

    Takes no options. See the module docstring for the graph's layout.

    Example (skipped in doctests: it needs ``node.dat`` and ``link.dat``, which the
    local mirror lacks):
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
