"""Facebook Page-Page network (MUSAE release; Rozemberczki, Allen & Sarkar, 2019).

Statistics: one node type ``page`` with 22,470 nodes; one symmetric relation
``("page", "likes", "page")`` with 341,646 directed edges (the 171,002 undirected
mutual-like pairs of ``musae_facebook_edges.csv``, minus its 179 self-loops, stored in
both directions, each pair once). Four classes, numbered as PyTorch Geometric's
``FacebookPagePage`` numbers them:

===  ============  ======
id   class         pages
===  ============  ======
0    tvshow        3,327
1    company       6,495
2    government    6,880
3    politician    5,768
===  ============  ======

Node features (option ``features``):

* ``"npz"``: the 128-d features of PyG's ``facebook.npz`` (keys ``features``,
  ``target``, ``edges``); its ``target`` must agree with the MUSAE labels.
* ``"svd"``: a seeded truncated SVD (``svd_dim`` components, ARPACK) of the sparse
  4,714-d binary description features in ``musae_facebook_features.json``, then
  standardised per column (zero mean, unit variance). Deterministic for a seed.
* ``"sparse"``: the raw binary description features as a sparse COO float tensor.
* ``"auto"`` (default): ``"npz"`` when ``facebook.npz`` is in the data root's or a
  mirror's ``facebook/`` folder, else ``"svd"``.

``data.feature_source`` records which one was used.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import HeteroData

from ... import paths
from ..._io import atomic_write
from ...params import ParamError, ParamSpec, validate_params
from ..features import sparse_tensor, svd_features
from . import DATASETS
from .base import DatasetFileError, DatasetLoader, RawFile, download_file
from .freebase import read_id_pairs, unique_edges

log = logging.getLogger(__name__)

EDGES = "musae_facebook_edges.csv"
TARGET = "musae_facebook_target.csv"
FEATURES = "musae_facebook_features.json"
NPZ = "facebook.npz"
MUSAE_FILES = (EDGES, TARGET, FEATURES)
SNAP_ZIP_URL = "https://snap.stanford.edu/data/facebook_large.zip"
SNAP_ZIP_FOLDER = "facebook_large"
NPZ_URL = "https://graphmining.ai/datasets/ptg/facebook.npz"

#: Class names in PyTorch Geometric's numbering.
CLASS_NAMES = ["tvshow", "company", "government", "politician"]
FEATURE_MODES = ("auto", "npz", "svd", "sparse")
#: The loader's options.
PARAMS: dict[str, ParamSpec] = {
    "features": ParamSpec(
        "str", "auto", "npz (PyG's 128-d), svd (128-d from the sparse ones) or sparse; "
        "auto: npz when found, else svd", choices=FEATURE_MODES,
    ),
    "svd_dim": ParamSpec("int", 128, "width of the SVD features", low=1),
    "seed": ParamSpec("int", 0, "seed of the SVD", low=0, high=2**63, high_open=True),
}
EDGE_TYPE = ("page", "likes", "page")


def validate_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check the Facebook loader's options (see :data:`PARAMS`) and fill in defaults.

    Raises:
        ParamError: an unknown option or an invalid value.
    """
    return validate_params(options, PARAMS, owner="dataset 'facebook'")


def read_targets(path: str | Path) -> np.ndarray:
    """Read ``musae_facebook_target.csv`` into class ids (PyG numbering).

    Returns:
        ``int64`` labels indexed by node id; ids must be exactly ``0..n-1``.

    Raises:
        DatasetFileError: a malformed line, an unknown page type, or missing/duplicate ids.
    """
    path = Path(path)
    index = {name: c for c, name in enumerate(CLASS_NAMES)}
    labels: dict[int, int] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or "id" not in header or "page_type" not in header:
            raise DatasetFileError(
                f"{path.name} line 1: expected a header with columns 'id' and 'page_type', "
                f"got {header!r}"
            )
        id_col, type_col = header.index("id"), header.index("page_type")
        for row in reader:
            lineno = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetFileError(
                    f"{path.name} line {lineno}: expected {len(header)} comma-separated "
                    f"fields, got {len(row)}"
                )
            try:
                node = int(row[id_col])
            except ValueError:
                raise DatasetFileError(
                    f"{path.name} line {lineno}: id must be an integer, got {row[id_col]!r}"
                ) from None
            page_type = row[type_col]
            if page_type not in index:
                raise DatasetFileError(
                    f"{path.name} line {lineno}: unknown page_type {page_type!r}; "
                    f"expected one of {', '.join(CLASS_NAMES)}"
                )
            if node < 0 or node in labels:
                what = "negative" if node < 0 else "duplicate"
                raise DatasetFileError(f"{path.name} line {lineno}: {what} id {node}")
            labels[node] = index[page_type]
    n = len(labels)
    if n and max(labels) != n - 1:
        missing = sorted(set(range(max(labels) + 1)) - set(labels))
        raise DatasetFileError(
            f"{path.name}: ids must run 0..{n - 1} without gaps; missing {missing[:5]}"
            + (" …" if len(missing) > 5 else "")
        )
    y = np.empty(n, dtype=np.int64)
    y[list(labels)] = list(labels.values())
    return y


def read_edges(path: str | Path, num_nodes: int) -> torch.Tensor:
    """Read ``musae_facebook_edges.csv`` as a symmetric, de-duplicated ``edge_index``.

    Self-loops are removed; every undirected pair appears once in each direction.

    Raises:
        DatasetFileError: a malformed line or an id outside ``0..num_nodes-1``.
    """
    pairs = read_id_pairs(
        path, sep=",", header=True, limits=(num_nodes, num_nodes), names=("page", "page")
    )
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return unique_edges(src, dst)


def read_sparse_features(path: str | Path, num_nodes: int) -> sp.csr_matrix:
    """Read ``musae_facebook_features.json`` (``{node_id: [feature ids]}``) as a binary CSR.

    The width is the largest feature id + 1 (4,714 for the MUSAE release); nodes absent
    from the file get an all-zero row.

    Raises:
        DatasetFileError: invalid JSON, a node id outside ``0..num_nodes-1``, or a
        feature id that is not a non-negative integer.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except json.JSONDecodeError as err:
        raise DatasetFileError(f"{path.name} line {err.lineno}: invalid JSON ({err.msg})") from err
    if not isinstance(content, dict):
        raise DatasetFileError(
            f"{path.name}: expected an object {{node_id: [feature ids]}}, got {type(content).__name__}"
        )
    rows: list[int] = []
    cols: list[int] = []
    for key, feats in content.items():
        try:
            node = int(key)
        except ValueError:
            raise DatasetFileError(f"{path.name}: node id {key!r} is not an integer") from None
        if not 0 <= node < num_nodes:
            raise DatasetFileError(
                f"{path.name}: node id {node} is out of range (expected 0..{num_nodes - 1})"
            )
        if not isinstance(feats, list) or not all(
            isinstance(f, int) and not isinstance(f, bool) and f >= 0 for f in feats
        ):
            raise DatasetFileError(
                f"{path.name}: node {node}: expected a list of non-negative integer "
                f"feature ids, got {str(feats)[:60]}"
            )
        rows.extend([node] * len(feats))
        cols.extend(feats)
    width = max(cols) + 1 if cols else 0
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(num_nodes, width)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a repeated feature id is still one binary feature
    return matrix


def read_npz_features(path: str | Path, y: np.ndarray) -> torch.Tensor:
    """Read the ``features`` of PyG's ``facebook.npz``, checking ``target`` against ``y``.

    Raises:
        DatasetFileError: unreadable file, missing keys, wrong shape, or labels that
        disagree with ``musae_facebook_target.csv``.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in ("features", "target") if k not in npz.files]
            if missing:
                raise DatasetFileError(
                    f"{path.name}: missing key(s) {', '.join(missing)} (has {', '.join(npz.files)})"
                )
            features, target = npz["features"], npz["target"]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetFileError(f"{path.name}: not a readable .npz archive ({err})") from err
    if features.ndim != 2 or features.shape[0] != len(y):
        raise DatasetFileError(
            f"{path.name}: features have shape {tuple(features.shape)}, expected [{len(y)}, dim]"
        )
    target = np.asarray(target).reshape(-1)
    if target.shape != y.shape or (target != y).any():
        bad = int((target != y).sum()) if target.shape == y.shape else len(y)
        raise DatasetFileError(
            f"{path.name}: 'target' disagrees with {TARGET} on {bad} of {len(y)} nodes; "
            "the file is not PyG's facebook.npz for this release"
        )
    return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))


def build_facebook(
    raw: dict[str, Path], features: str = "auto", svd_dim: int = 128, seed: int = 0
) -> HeteroData:
    """Build the Facebook page graph from the located raw files.

    Args:
        raw: File name → path; the three MUSAE files, and ``facebook.npz`` if found.
        features: ``"auto"``, ``"npz"``, ``"svd"`` or ``"sparse"`` (see module docstring).
        svd_dim: Width of the SVD features.
        seed: Seed of the SVD.

    Returns:
        The graph (see the module docstring), with ``data.feature_source`` set.
    """
    opts = validate_options({"features": features, "svd_dim": svd_dim, "seed": seed})
    mode = opts["features"]
    if mode == "auto":
        mode = "npz" if NPZ in raw else "svd"
    y = read_targets(raw[TARGET])
    num_nodes = len(y)
    data = HeteroData()
    data["page"].num_nodes = num_nodes
    data["page"].y = torch.from_numpy(y)
    data[EDGE_TYPE].edge_index = read_edges(raw[EDGES], num_nodes)
    if mode == "npz":
        if NPZ not in raw:
            raise DatasetFileError(
                f"features='npz' needs {NPZ} in the data root's or a mirror's facebook/ "
                f"folder (download it from {NPZ_URL}), or use features='svd'"
            )
        data["page"].x = read_npz_features(raw[NPZ], y)
        data.feature_source = NPZ
    else:
        matrix = read_sparse_features(raw[FEATURES], num_nodes)
        if mode == "svd":
            if not opts["svd_dim"] < min(matrix.shape):  # a usage error, not the data's
                raise ParamError(f"dataset 'facebook': svd_dim must be an integer in [1, "
                                 f"{min(matrix.shape) - 1}] (the description features' rank "
                                 f"bound), got {opts['svd_dim']}")
            data["page"].x = svd_features(matrix, opts["svd_dim"], opts["seed"])
            data.feature_source = f"svd{opts['svd_dim']} of {FEATURES}"
        else:
            data["page"].x = sparse_tensor(matrix)
            data.feature_source = f"sparse {FEATURES}"
    data.target_node_type = "page"
    data.class_names = list(CLASS_NAMES)
    data.metapaths = [[EDGE_TYPE]]
    data.name = "facebook"
    return data


@DATASETS.register("facebook")
class FacebookLoader(DatasetLoader):
    """Facebook Page-Page (MUSAE): 22,470 pages in 4 classes, one symmetric relation.

    Options: ``features`` (``"auto"`` | ``"npz"`` | ``"svd"`` | ``"sparse"``, default
    ``"auto"``), ``svd_dim`` (default 128), ``seed`` (default 0). See the module
    docstring for statistics and feature modes.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("facebook", features="svd")  # doctest: +SKIP
        >>> data["page"].x.shape, data.feature_source  # doctest: +SKIP
        (torch.Size([22470, 128]), 'svd128 of musae_facebook_features.json')
    """

    name = "facebook"
    params = PARAMS
    raw_folder = "facebook"
    raw_files = (
        RawFile(
            EDGES, "7c50d8f02a75cc0829577814a1fc14535164daa38d79c3612340c9e9cdbd4022", SNAP_ZIP_URL
        ),
        RawFile(
            TARGET, "7bd96eafea3c2ca40f44bfa9e73642194696c21e38c7b29ed409c32ad14075cd", SNAP_ZIP_URL
        ),
        RawFile(
            FEATURES,
            "ea870537646a93642a0008d38aa9bfeff02018070ba97b1f3f469d9622626436",
            SNAP_ZIP_URL,
        ),
        RawFile(NPZ, None, NPZ_URL, required=False),
    )
    version = 1
    source_hint = (
        f"the MUSAE files are in {SNAP_ZIP_URL} (folder {SNAP_ZIP_FOLDER}/); "
        f"PyG's 128-d features are at {NPZ_URL}"
    )

    def cache_options(self) -> dict[str, Any]:
        return validate_options(self.options)

    def locate(
        self,
        root: str | os.PathLike | None = None,
        mirror: str | os.PathLike | None = None,
        download: bool = True,
        verify: bool = True,
    ) -> dict[str, Path]:
        """As :meth:`DatasetLoader.locate`; also fetches ``facebook.npz`` when
        ``features="npz"`` asks for it and it is nowhere local."""
        opts = validate_options(self.options)  # fail before any download
        found = super().locate(root=root, mirror=mirror, download=download, verify=verify)
        if opts["features"] == "npz" and NPZ not in found and download:
            dest = paths.data_root(root) / self.raw_folder / NPZ
            try:
                self.download(NPZ, dest)
                found[NPZ] = dest
            except DatasetFileError as err:
                log.warning("%s", err)
        return found

    def download(self, name: str, dest: Path) -> None:
        """Fetch ``name``: the MUSAE files come out of SNAP's zip, fetched once."""
        if name not in MUSAE_FILES:
            super().download(name, dest)
            return
        dest = Path(dest)
        archive = dest.parent / "facebook_large.zip"
        if not archive.is_file():
            download_file(SNAP_ZIP_URL, archive)
        member = f"{SNAP_ZIP_FOLDER}/{name}"
        try:
            with zipfile.ZipFile(archive) as zf:

                def extract(tmp: Path) -> None:
                    with zf.open(member) as src, open(tmp, "wb") as out:
                        shutil.copyfileobj(src, out)

                atomic_write(dest, extract)
        except (zipfile.BadZipFile, KeyError) as err:
            archive.unlink(missing_ok=True)  # a damaged archive is fetched afresh next time
            raise DatasetFileError(f"{archive}: cannot extract {member} ({err})") from err
        if all((dest.parent / n).is_file() for n in MUSAE_FILES):
            archive.unlink(missing_ok=True)

    def process(self, raw: dict[str, Path]) -> HeteroData:
        return build_facebook(raw, **validate_options(self.options))
