"""ACM, DBLP and AMiner heterographs as released with HeCo (Wang et al., KDD 2021).

Statistics (HeCo release, ``heco/<name>/``; ids 0-based within each node type):

==========  ==============  ===============================================  =====================
dataset     target (labels) other node types                                 classes
==========  ==============  ===============================================  =====================
``acm``     paper 4,019     author 7,167, subject 60                         3: 1,993 / 965 / 1,061
``dblp``    author 4,057    paper 14,328, conference 20, term 7,723          4: 1,197 / 745 / 1,109 / 1,006
``aminer``  paper 6,564     author 13,329, reference 35,890                  4: 1,333 / 1,114 / 526 / 3,591
==========  ==============  ===============================================  =====================

Every relation file (``src<TAB>dst`` lines) becomes one edge type and its reverse
(``rev_<relation>``), duplicate pairs removed. Features (``float32``): ACM paper and
author (1,902-d binary bag of words), DBLP author (334-d) and term (50-d) are dense —
a sparse input layer is several times slower per epoch than a dense product at these
sizes; DBLP paper (14,328 x 4,231, 0.2 % non-zero) stays a torch sparse COO matrix
(files whose dense form exceeds :data:`DENSE_LIMIT` entries stay sparse). DBLP
conference and every AMiner type carry no ``x`` (models give them learnable
embeddings). The graph's
``metapaths`` are the ones HeCo uses: ACM PAP, PSP; DBLP APA, APCPA, APTPA; AMiner
PAP, PRP. HeCo does not publish class names, so classes are ``class_0`` ...

The published splits (``train_K`` = K labelled nodes per class, 1,000 validation and
1,000 test nodes, K = 20, 40, 60) are not part of the graph; they are read on demand
by :func:`hetero_imb.data.heco_splits.heco_split` (``--split heco:20``), from the
files listed in each loader's ``published_splits``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import HeteroData

from . import DATASETS
from .base import DatasetFileError, DatasetLoader, RawFile, read_int_npy
from .facebook import sparse_tensor
from .freebase import read_id_pairs, reject_options, unique_edges

log = logging.getLogger(__name__)

#: Sparse feature files with at most this many entries (rows x columns) are densified.
DENSE_LIMIT = 2**24

HECO_DATA_URL = "https://raw.githubusercontent.com/liun-online/HeCo/main/data/"
SPLIT_SIZES = (20, 40, 60)

#: Relation: (file, source type, relation name, destination type).
Relation = tuple[str, str, str, str]


def split_files(url: str, sums: dict[str, str]) -> dict[int, tuple[RawFile, ...]]:
    """``{K: (train_K, val_K, test_K)}`` as :class:`RawFile` records from a name → sha256 map."""
    return {
        k: tuple(RawFile(f"{part}_{k}.npy", sums[f"{part}_{k}.npy"], url + f"{part}_{k}.npy")
                 for part in ("train", "val", "test"))
        for k in SPLIT_SIZES
    }


def read_labels(path: str | Path) -> np.ndarray:
    """HeCo's ``labels.npy`` as ``int64`` (ACM's is stored as integral ``float64``).

    Raises:
        DatasetFileError: unreadable, not 1-D, negative or non-integral labels.
    """
    path = Path(path)
    labels = read_int_npy(path, "labels", whole_floats=True)
    if len(labels) and labels.min() < 0:
        raise DatasetFileError(f"{path.name}: labels must be >= 0, found {labels.min()}")
    return labels


def read_features(path: str | Path, rows: int | None = None) -> torch.Tensor:
    """A HeCo feature file: a scipy sparse ``.npz`` (sparse COO tensor) or a plain ``.npy``
    array saved under an ``.npz`` name (DBLP's ``t_feat.npz``; dense ``float32``).

    Raises:
        DatasetFileError: unreadable, or ``rows`` given and the row count differs.
    """
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            x = torch.from_numpy(np.asarray(loaded, dtype=np.float32))
        else:
            loaded.close()
            x = sparse_tensor(sp.load_npz(path).tocsr())
    except (ValueError, OSError, EOFError, KeyError) as err:
        raise DatasetFileError(f"{path.name}: neither a scipy sparse .npz nor a .npy ({err})") from err
    if x.dim() != 2 or (rows is not None and x.size(0) != rows):
        raise DatasetFileError(
            f"{path.name}: expected a 2-D feature matrix with {rows} rows, got shape {tuple(x.shape)}"
        )
    return x


def build_heco(
    name: str,
    raw: dict[str, Path],
    target: str,
    relations: tuple[Relation, ...],
    features: dict[str, str],
    metapaths: tuple[tuple[str, ...], ...],
) -> HeteroData:
    """Build one HeCo graph from its raw files.

    Args:
        name: Dataset name (stored as ``data.name``).
        raw: File name → path.
        target: The labelled node type (one row per entry of ``labels.npy``).
        relations: ``(file, src type, relation, dst type)`` of every relation file.
        features: Node type → feature file.
        metapaths: Each meta-path as a sequence of relation names; a name ``rev_<r>``
            walks relation ``r`` backwards.

    Returns:
        The graph with ``target_node_type``, ``class_names`` and ``metapaths``.

    Raises:
        DatasetFileError: a file is malformed or an id is out of range.
    """
    y = read_labels(raw["labels.npy"])
    data = HeteroData()
    data[target].num_nodes = len(y)
    data[target].y = torch.from_numpy(y)
    for node_type, file_name in features.items():
        rows = len(y) if node_type == target else None
        x = read_features(raw[file_name], rows)
        if x.is_sparse and x.size(0) * x.size(1) <= DENSE_LIMIT:
            x = x.to_dense()
        data[node_type].x = x
        data[node_type].num_nodes = int(x.size(0))
    edge_types = {}
    for file_name, src, rel, dst in relations:
        limits = tuple(data[t].num_nodes if "num_nodes" in data[t] else None for t in (src, dst))
        pairs = read_id_pairs(raw[file_name], limits=limits, names=(src, dst))
        for i, node_type in ((0, src), (1, dst)):
            if "num_nodes" not in data[node_type]:  # featureless: the largest id fixes the count
                data[node_type].num_nodes = int(pairs[:, i].max()) + 1 if len(pairs) else 0
        edge_index = unique_edges(pairs[:, 0], pairs[:, 1])
        if edge_index.size(1) < len(pairs):
            log.info("%s: dropped %d duplicate pairs", file_name, len(pairs) - edge_index.size(1))
        data[(src, rel, dst)].edge_index = edge_index
        data[(dst, f"rev_{rel}", src)].edge_index = edge_index.flip(0)
        edge_types[rel] = (src, rel, dst)
        edge_types[f"rev_{rel}"] = (dst, f"rev_{rel}", src)
    data.target_node_type = target
    data.class_names = [f"class_{c}" for c in range(int(y.max()) + 1 if len(y) else 0)]
    data.metapaths = [[edge_types[r] for r in path] for path in metapaths]
    data.name = name
    return data


class HecoLoader(DatasetLoader):
    """Shared shape of the three HeCo loaders; subclasses only state their files."""

    target: ClassVar[str] = ""
    relations: ClassVar[tuple[Relation, ...]] = ()
    features: ClassVar[dict[str, str]] = {}
    metapath_relations: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: ``{K: (train_K, val_K, test_K)}``, read by ``heco_split`` (not by ``process``).
    published_splits: ClassVar[dict[int, tuple[RawFile, ...]]] = {}
    version = 2

    def process(self, raw: dict[str, Path]) -> HeteroData:
        name = self.raw_folder.split("/")[-1]
        reject_options(name, self.options)
        return build_heco(name, raw, self.target, self.relations,
                          self.features, self.metapath_relations)


def _files(url: str, sums: dict[str, str]) -> tuple[RawFile, ...]:
    return tuple(RawFile(n, s, url + n) for n, s in sums.items())


_ACM = HECO_DATA_URL + "acm/"
_DBLP = HECO_DATA_URL + "dblp/"
_AMINER = HECO_DATA_URL + "aminer/"


@DATASETS.register("acm")
class AcmLoader(HecoLoader):
    """ACM (HeCo): 4,019 papers in 3 classes; authors, subjects; bag-of-words features.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("acm")
        >>> data["paper"].num_nodes, data["author"].num_nodes, data["subject"].num_nodes
        (4019, 7167, 60)
    """

    raw_folder = "heco/acm"
    target = "paper"
    relations = (("pa.txt", "paper", "has_author", "author"),
                 ("ps.txt", "paper", "has_subject", "subject"))
    features = {"paper": "p_feat.npz", "author": "a_feat.npz"}
    metapath_relations = (("has_author", "rev_has_author"), ("has_subject", "rev_has_subject"))
    source_hint = f"HeCo's ACM files are at {_ACM}<file>"
    raw_files = _files(_ACM, {
        "labels.npy": "019284b3e6a58fc8ebd432fb99aaaf183ad41dbf56b8ca7af0b56dca9dd844b5",
        "pa.txt": "e67385fc13c3b3b624d81de7eb6e4245d9aeafa063c5466c6fab0f151bcb84d6",
        "ps.txt": "3da7615ef5567c5f7f1ab9ec770c4b4b8b6a54790baa1cda3d4499329dfc22d5",
        "p_feat.npz": "9e1019dfceaaabb19ee5b5f09de3147ffbaa818b43c3fc3f92bdfaf4ed5f02f4",
        "a_feat.npz": "e2f2ac8d357310149fc7badbf32ea0b171dec25aad6c37ec45de592666c65555",
    })
    published_splits = split_files(_ACM, {
        "train_20.npy": "6bf4c1cef638f3ffe1826091b9be7fbff23a4935dfbde03c24b492d264d67684",
        "val_20.npy": "4280dccb661a50196502a39973a462919399fcfcd97b1d43581dfa9ca02d1b5d",
        "test_20.npy": "eb90e38c882009c6439d749d160d39ed64f8813e9f672c02be54993914934afa",
        "train_40.npy": "98239282e69e9775a9b13bc54598cc780eca31dcaeb81963efbbd4c6c3e51435",
        "val_40.npy": "19fb1e72b76bc24da95423d1a83583a42fe5b62d69b2b197312f630ff5096202",
        "test_40.npy": "f73d7e23459dd654a7567ee8bf123849f400096f8fac558dc37033d3fdc11aa6",
        "train_60.npy": "5b86f56415b84d1faa8c8f864cd37272589ec4ffff1b0ca347d4c39ee38dcc02",
        "val_60.npy": "e234b6c1e19445ed6cc3694a273b943bbded8e847a9d0246f18d59f76fb8cd5d",
        "test_60.npy": "5181ccdeacc54b88ed53681ba9f2c789cc6d67a499f40a68ac6827a96932b976",
    })


@DATASETS.register("dblp")
class DblpLoader(HecoLoader):
    """DBLP (HeCo): 4,057 authors in 4 classes; papers, conferences, terms; features.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("dblp")
        >>> data["author"].num_nodes, data["paper"].num_nodes, data["term"].x.shape
        (4057, 14328, torch.Size([7723, 50]))
    """

    raw_folder = "heco/dblp"
    target = "author"
    relations = (("pa.txt", "paper", "has_author", "author"),
                 ("pc.txt", "paper", "in_conference", "conference"),
                 ("pt.txt", "paper", "has_term", "term"))
    features = {"author": "a_feat.npz", "paper": "p_feat.npz", "term": "t_feat.npz"}
    metapath_relations = (
        ("rev_has_author", "has_author"),
        ("rev_has_author", "in_conference", "rev_in_conference", "has_author"),
        ("rev_has_author", "has_term", "rev_has_term", "has_author"),
    )
    source_hint = f"HeCo's DBLP files are at {_DBLP}<file>"
    raw_files = _files(_DBLP, {
        "labels.npy": "817efdc3ebb9e96067b8770dad5894b06ecabde2ac95d4b17443985f0439fda7",
        "pa.txt": "94cf38a92733d21664f55907305773bb6fb90dd9d1579392517596488f061382",
        "pc.txt": "316182e11f19fddfc3a01ebd6541134a7c3931ee62262e638be607bb3f9768e4",
        "pt.txt": "78f3d6f9a528ed112a2d29bd2a672cdf13a03779a87ce89856e6a622eda280b8",
        "a_feat.npz": "997876bf8d90d29fdb90bf4801a9909893a9ee5646a85aeca079ce167595ec41",
        "p_feat.npz": "99c3d1836c44cda016f790d1cdbcc76fed729e48b9e2a9332eac145960716d9f",
        "t_feat.npz": "462ea84b5eebfd4883910d0d15afff53e960ae8a80d7d62591f86a8d61fb5467",
    })
    published_splits = split_files(_DBLP, {
        "train_20.npy": "85f0e91265931c8b1433ed7bd04e7e8f4c8c4246784d4443c147d6f24cccc709",
        "val_20.npy": "6c06b017a4c45c7cd9d01c67fb409336ddcd5c076edb9c90792cc2d027565d38",
        "test_20.npy": "a7fc6b67e477df8301915065b116fb7742d99f28323a2bf8bcb57663a2d5c490",
        "train_40.npy": "82cead2b36410b52729e2034c0e75de55779e718e4a35f7cc0a31b25526d8c2b",
        "val_40.npy": "b4c0b94ed81eeb28fe9bf6dd4a057de9093aa512caf4197165a2634568e7b2d5",
        "test_40.npy": "9af7116d1d11e656e4fc64dc11601353a3f37cad8fb9ffe8d71cf16d7e2a7ca6",
        "train_60.npy": "47086d378beda443b1a2aa1bb2d681e5a6d2b3e819a3e9850e365ea1f8f9b819",
        "val_60.npy": "7ba309a9daec8bd5d92e217cecc6a22d8547b7b0193a8a30855fffd41636cec6",
        "test_60.npy": "52122be025ae02256f82376bc62d1ba74083a4473a211e89a1389d67ca6e68bb",
    })


@DATASETS.register("aminer")
class AminerLoader(HecoLoader):
    """AMiner (HeCo): 6,564 papers in 4 classes (ratio 6.8); authors, references; featureless.

    Example:
        >>> from hetero_imb.data.datasets import load
        >>> data = load("aminer")
        >>> data["paper"].num_nodes, data["author"].num_nodes, data["reference"].num_nodes
        (6564, 13329, 35890)
    """

    raw_folder = "heco/aminer"
    target = "paper"
    relations = (("pa.txt", "paper", "has_author", "author"),
                 ("pr.txt", "paper", "cites", "reference"))
    features = {}
    metapath_relations = (("has_author", "rev_has_author"), ("cites", "rev_cites"))
    source_hint = f"HeCo's AMiner files are at {_AMINER}<file>"
    raw_files = _files(_AMINER, {
        "labels.npy": "51a0500d6f74ee8745fc2d0f85c38dcdba064878980b890d5a347f29d68b531d",
        "pa.txt": "6e644c162db67840a414483890fe052fafa4deb4a3c5fa5a31e9bf7d87236885",
        "pr.txt": "04238431ee02107b88883b689c9920d77a5a718aca39b85cf7aa77f77aad1e5f",
    })
    published_splits = split_files(_AMINER, {
        "train_20.npy": "609d9d70352f3a3db56a6c3e0ea97a2a5b8d943494b284fc61e747e00cc3c04e",
        "val_20.npy": "5ac76f040e62102026bc4202328b708fe8a6a1b8c99119d78eadbe7494db5eb8",
        "test_20.npy": "78a07809ebe756e471ad076b09847fbc87baf2813afab5d5a7888f1d7fa5edbd",
        "train_40.npy": "8c96436b60a5b43cbda238a8c3bea7ace6d43e17652f3d8d81bf4effcfe15e36",
        "val_40.npy": "b91f42687b34b6d306dcbb94b7cd5b9428dceaf2e4fe391d9b86a92ba2a94b4d",
        "test_40.npy": "6317d3a093fccec5c5daa3c4dd196c2281c9735d0d8204d38069bb5588415d79",
        "train_60.npy": "99a1d9510d177e6f68b68c7ffc4e69d7cb6118c53e8d343ac48ef4eeb2ae6ed5",
        "val_60.npy": "74fa03079f8117223a845764de01d66139ea9767385f8cfc58cc6d9b0d7cc65c",
        "test_60.npy": "0849876c17c16b23b64d7a7bf044ab7ae1012f5d18832583bd854af5d9dd5705",
    })
