"""Freebase movie heterograph as released with HeCo (Wang et al., KDD 2021).

Statistics (HeCo release, ``freebase_heco/``):

============  =======  ========================================
node type     nodes    notes
============  =======  ========================================
``movie``     3,492    target; 3 classes: 1,327 / 618 / 1,547
``actor``     33,401   65,341 movie-actor edges
``director``  2,502    3,762 movie-director edges
``writer``    4,459    6,414 movie-writer edges
============  =======  ========================================

No node carries features (models use learnable embeddings; feature-based baselines
use :func:`hetero_imb.data.features.structural_features`). HeCo does not publish what the
three movie classes mean, so they are named ``class_0`` .. ``class_2``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from ...params import unknown_param_error
from . import DATASETS
from .base import DatasetFileError, DatasetLoader, RawFile, read_int_npy

log = logging.getLogger(__name__)

HECO_URL = "https://raw.githubusercontent.com/liun-online/HeCo/main/data/freebase/"

#: (file, node type, relation) of the three movie-centred relations.
RELATIONS = (
    ("ma.txt", "actor", "has_actor"),
    ("md.txt", "director", "has_director"),
    ("mw.txt", "writer", "has_writer"),
)


def read_id_pairs(
    path: str | Path,
    sep: str = "\t",
    header: bool = False,
    limits: tuple[int | None, int | None] = (None, None),
    names: tuple[str, str] = ("first", "second"),
) -> np.ndarray:
    """Read a text file of integer id pairs, one pair per line.

    Blank lines are skipped. Every other line must hold exactly two non-negative
    integers separated by ``sep``.

    Args:
        path: The file.
        sep: Field separator (``"\\t"`` for HeCo files, ``","`` for CSV files).
        header: Skip the first line (a column header).
        limits: Exclusive upper bound of each column's ids (``None``: no bound).
        names: What each column holds, for error messages (e.g. ``("movie", "actor")``).

    Returns:
        ``int64`` array of shape ``[num_lines, 2]``.

    Raises:
        DatasetFileError: a line is malformed; the message names the file and line.

    Example:
        >>> read_id_pairs("ma.txt")[:2]  # doctest: +SKIP
        array([[0, 0], [0, 1]])
    """
    path = Path(path)
    pairs = _fast_id_pairs(path, sep, header)
    if pairs is not None and all(
        limit is None or not len(pairs) or pairs[:, i].max() < limit
        for i, limit in enumerate(limits)
    ):
        return pairs
    # slow path: find the offending line (or parse what pandas could not)
    values: list[int] = []
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if header and lineno == 1:
                continue
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split(sep)
            if len(parts) != 2:
                raise DatasetFileError(
                    f"{path.name} line {lineno}: expected 2 {_sep_name(sep)}-separated "
                    f"fields, got {len(parts)}"
                )
            try:
                a, b = int(parts[0]), int(parts[1])
            except ValueError:
                raise DatasetFileError(
                    f"{path.name} line {lineno}: expected two integer ids, got {line!r}"
                ) from None
            for value, limit, name in zip((a, b), limits, names, strict=True):
                if value < 0 or value >= (limit if limit is not None else _MAX_ID):
                    bound = f"0..{limit - 1}" if limit is not None else f"0..{_MAX_ID - 1}"
                    raise DatasetFileError(
                        f"{path.name} line {lineno}: {name} id {value} is out of range "
                        f"(expected {bound})"
                    )
            values.append(a)
            values.append(b)
    return np.asarray(values, dtype=np.int64).reshape(-1, 2)


_MAX_ID = 2**62  # ids beyond this cannot be real and would overflow int64 arithmetic


def _fast_id_pairs(path: Path, sep: str, header: bool) -> np.ndarray | None:
    """Parse a well-formed pair file with pandas; ``None`` when anything looks off."""
    try:
        frame = pd.read_csv(
            path, sep=sep, header=None, skiprows=1 if header else 0, dtype=np.int64, engine="c"
        )
    except (ValueError, OverflowError, pd.errors.EmptyDataError):
        return None
    if frame.shape[1] != 2:
        return None
    pairs = frame.to_numpy(dtype=np.int64)
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= _MAX_ID):
        return None
    return pairs


def _sep_name(sep: str) -> str:
    return {"\t": "tab", ",": "comma", " ": "space"}.get(sep, repr(sep))


def unique_edges(src: np.ndarray, dst: np.ndarray) -> torch.Tensor:
    """Distinct ``(src, dst)`` pairs as a ``[2, E]`` long tensor, sorted by src then dst."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if len(src) == 0:
        return torch.zeros(2, 0, dtype=torch.long)
    width = int(dst.max()) + 1
    if int(src.max()) < np.iinfo(np.int64).max // width:  # one sortable int64 key per pair
        keys = np.sort(src * width + dst)  # sort + diff: faster than np.unique here
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        pairs = np.stack([keys // width, keys % width])
    else:
        pairs = np.unique(np.stack([src, dst], axis=1), axis=0).T
    return torch.from_numpy(np.ascontiguousarray(pairs))


def read_labels_npy(path: str | Path) -> np.ndarray:
    """Read HeCo's ``labels.npy``: a 1-D array of non-negative integer class ids.

    Raises:
        DatasetFileError: the file is not a 1-D non-negative integer array.
    """
    path = Path(path)
    labels = read_int_npy(path, "labels")
    if len(labels) and labels.min() < 0:
        bad = int(np.flatnonzero(labels < 0)[0])
        raise DatasetFileError(f"{path.name}: label of movie {bad} is {labels[bad]}, expected >= 0")
    return labels.astype(np.int64)


def build_freebase(raw: dict[str, Path]) -> HeteroData:
    """Build the HeCo Freebase graph from its four raw files.

    Args:
        raw: File name → path for ``labels.npy``, ``ma.txt``, ``md.txt``, ``mw.txt``.

    Returns:
        The graph: ``movie`` (target, ``y``) linked to ``actor``, ``director`` and
        ``writer`` by ``has_*`` relations and their ``rev_has_*`` reverses (duplicate
        pairs removed), meta-paths movie-actor-movie, movie-director-movie,
        movie-writer-movie, and no ``x`` on any node type.

    Raises:
        DatasetFileError: a file is malformed or a movie id is out of range.
    """
    y = read_labels_npy(raw["labels.npy"])
    num_movies = len(y)
    num_classes = int(y.max()) + 1 if num_movies else 0
    data = HeteroData()
    data["movie"].num_nodes = num_movies
    data["movie"].y = torch.from_numpy(y)
    metapaths = []
    for file_name, node_type, rel in RELATIONS:
        # labels.npy fixes the number of movies; other ids are bounded by nothing
        pairs = read_id_pairs(raw[file_name], limits=(num_movies, None), names=("movie", node_type))
        # ids are 0-based within each type; the largest one fixes the count
        data[node_type].num_nodes = int(pairs[:, 1].max()) + 1 if len(pairs) else 0
        edge_index = unique_edges(pairs[:, 0], pairs[:, 1])
        if edge_index.size(1) < len(pairs):
            log.info("%s: dropped %d duplicate pairs", file_name, len(pairs) - edge_index.size(1))
        forward = ("movie", rel, node_type)
        backward = (node_type, f"rev_{rel}", "movie")
        data[forward].edge_index = edge_index
        # the reverse right after its relation; ToUndirected(merge=False) gives the same
        # edges but appends every reverse at the end, renumbering R-GCN's relations
        data[backward].edge_index = edge_index.flip(0)
        metapaths.append([forward, backward])
    data.target_node_type = "movie"
    data.class_names = [f"class_{c}" for c in range(num_classes)]
    data.metapaths = metapaths
    data.name = "freebase"
    return data


@DATASETS.register("freebase")
class FreebaseLoader(DatasetLoader):
    """Freebase movie HIN (HeCo): 3,492 movies in 3 classes; actors, directors, writers.

    Takes no options. See the module docstring for statistics.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("freebase")  # doctest: +SKIP
        >>> data["movie"].num_nodes, data["actor"].num_nodes  # doctest: +SKIP
        (3492, 33401)
    """

    name = "freebase"
    raw_folder = "freebase_heco"
    raw_files = (
        RawFile(
            "labels.npy",
            "2410a09263b9d82e4bc58c36e4499ae8c5e2aa09011f71f5bbb73fda43bcf1fe",
            HECO_URL + "labels.npy",
        ),
        RawFile(
            "ma.txt",
            "058903c3ad171bbe4d9cf15d93f2aa5b3d2086ae0d2e0fd7b99e3e81632d1c5e",
            HECO_URL + "ma.txt",
        ),
        RawFile(
            "md.txt",
            "dbe17829c81248a4103f5e9cb7b1cab8aa1308ee28f1465b10ac893a897d772f",
            HECO_URL + "md.txt",
        ),
        RawFile(
            "mw.txt",
            "866ff0bc4e263885f593ee72e4393445eb0d9f471db9eb2932780374b4467c9b",
            HECO_URL + "mw.txt",
        ),
    )
    version = 1
    source_hint = f"HeCo's Freebase files are at {HECO_URL}<file>"
    #: HeCo's published splits ``{K: (train_K, val_K, test_K)}`` (read by ``heco_split``).
    published_splits = {
        k: tuple(RawFile(f"{part}_{k}.npy", sha, HECO_URL + f"{part}_{k}.npy")
                 for part, sha in zip(("train", "val", "test"), sums, strict=True))
        for k, sums in {
            20: ("55a5d0bca0420b29fa429b1df7651e0d9db52e6162b91ab7060a172cea0140de",
                 "d97aef24309f9abfa47d7d969f0a4f9b677ef2e79959f618a7a2276f9b2caaf3",
                 "a9db7585f6b3090e73560a166a1e2f6e65fc031ac41431d82e51d7a550e08aed"),
            40: ("83ee2b96cde50c8089af998b3b460adb3f876db49a75cb2c4801ba796788568e",
                 "a0e069572440c844438b4a9f3c82faaee501a49b429875d525a0368f4b71aac1",
                 "7a2527b316fb8c1e9271ab0a23e54a55d345b00c9563a71fa57d55516eb8af40"),
            60: ("c602957fafcbcceaafc0ed679aa2677a9d96e401cb678b51e87617304c271c6d",
                 "49cd65ed8465889ed8d99cbb5af44d86ba580722d2ed33e4485b7600bf3a3071",
                 "ac1dc9e45d960b1410bc29eae0de3f2cc617b714906644100abc5e1cba80c92a"),
        }.items()
    }

    def process(self, raw: dict[str, Path]) -> HeteroData:
        self.resolved_options()  # takes none: any option is an error naming the accepted ones
        return build_freebase(raw)


def reject_options(dataset: str, options: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """Raise :class:`~hetero_imb.params.ParamError` for the first option not in ``allowed``
    (the message lists the accepted ones)."""
    for name in options:
        if name not in allowed:
            raise unknown_param_error(name, allowed, f"dataset {dataset!r}")
