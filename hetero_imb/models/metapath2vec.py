"""metapath2vec: skip-gram node embeddings from meta-path-guided random walks.

``preprocess`` learns the embeddings with PyG's
:class:`~torch_geometric.nn.MetaPath2Vec` (pure torch: it needs neither
torch-cluster nor pyg-lib). All of the dataset's meta-paths are chained into one
cyclic walk scheme, e.g. on Freebase movie→actor→movie→director→movie→writer→movie,
so one walk visits every meta-path in turn. The encoder is then the frozen
embeddings of the target nodes followed by ``num_layers`` Linear-ReLU-Dropout layers
to ``hidden``; only that MLP (and the head) is trained by the loop.

Determinism: PyG's walk sampler draws from the global torch RNG and its loader
shuffles with it, so training runs inside ``torch.random.fork_rng`` after
``torch.manual_seed(seed)`` (the caller's global RNG state is left untouched), and
the loader shuffles with its own seeded ``torch.Generator``. Same seed, same
embeddings.

Cache: embeddings are saved to ``<cache_dir>/metapath2vec-<key>.pt`` (default
``cache_dir``: ``hetero_imb.paths.processed_dir() / "embeddings"``), where the key
hashes the graph fingerprint (every node type's node count and the ``edge_index``
bytes of the meta-path edge types), the meta-paths, the walk/training settings and
the seed. A later build with the same key loads them instead of training;
``cache=False`` neither reads nor writes. Files are written atomically.

Defaults, measured on Freebase (3,492 movies; 5 epochs of 55 batches): 6-10 s on
the shared 2-core machine, and the movie embeddings alone reach 0.63 accuracy with a
3-fold logistic regression (majority class: 0.44). Two choices made by measurement:

* the embeddings start from N(0, 0.1²) instead of PyG's N(0, 1): from N(0, 1) the
  skip-gram loss is still ~8 after an epoch and the embeddings score below the
  majority class (0.41);
* training runs on one torch thread (restored afterwards): its ops are small, and
  with 2 threads on busy cores the same run took 85 s instead of 9 s. More walks
  and negatives (5 and 5) gain ~0.03 accuracy for ~3x the time.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import MetaPath2Vec
from tqdm.auto import tqdm

from .. import paths
from .._io import atomic_write
from ..data.graph import EdgeType, target_type
from ..params import ParamError, ParamSpec
from .base import COMMON_PARAMS, MODELS, Encoder, ModelSpec, with_defaults
from .inputs import check_settings, graph_metapaths, precomputed_rows, seeded

log = logging.getLogger(__name__)

#: Node attribute of the target store holding the frozen embeddings after ``preprocess``.
EMBEDDING_KEY = "metapath2vec_emb"
#: Std of the initial embeddings (PyG's default is 1, which with few steps leaves the
#: skip-gram loss near 8 and the embeddings uninformative; see the module docstring).
INIT_STD = 0.1
#: Bump when training changes in a way that invalidates cached embeddings.
CACHE_VERSION = 1


def walk_scheme(data: HeteroData) -> list[EdgeType]:
    """All meta-paths of ``data`` chained into one cyclic list of edge types.

    Raises:
        ValueError: No meta-paths, or one does not start and end at the target type.
    """
    target = target_type(data)
    paths_ = graph_metapaths(data)
    if not paths_:
        raise ValueError("graph has no 'metapaths'; metapath2vec needs at least one meta-path")
    chain: list[EdgeType] = []
    for i, path in enumerate(paths_):
        if not path or path[0][0] != target or path[-1][2] != target:
            raise ValueError(
                f"meta-path {i} must start and end at the target type {target!r}, got {path}"
            )
        chain.extend(path)
    missing = sorted({e for e in chain if e not in data.edge_types})
    if missing:
        raise ValueError(f"meta-path edge types {missing} are not in the graph")
    return chain


def graph_fingerprint(data: HeteroData, edge_types: list[EdgeType]) -> str:
    """sha256 of every node type's node count and the ``edge_index`` of ``edge_types``."""
    digest = hashlib.sha256()
    for node_type in sorted(data.node_types):
        digest.update(f"{node_type}:{int(data[node_type].num_nodes)};".encode())
    for edge_type in sorted(set(edge_types)):
        edge_index = data[edge_type].edge_index
        digest.update(repr(edge_type).encode())
        digest.update(np.ascontiguousarray(edge_index.cpu().numpy().astype(np.int64)).tobytes())
    return digest.hexdigest()


def train_metapath2vec(
    data: HeteroData,
    *,
    embedding_dim: int = 128,
    walk_length: int = 12,
    context_size: int = 5,
    walks_per_node: int = 3,
    num_negative_samples: int = 2,
    epochs: int = 5,
    lr: float = 0.025,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool | None = None,
) -> Tensor:
    """Train metapath2vec on ``data``'s chained meta-paths; return target embeddings.

    Args:
        data: The graph (``metapaths`` start and end at the target type).
        embedding_dim: Embedding width.
        walk_length: Steps per walk (edges traversed).
        context_size: Skip-gram window (nodes), at most ``walk_length + 1``.
        walks_per_node: Walks started from every target node per epoch.
        num_negative_samples: Negative walks per positive walk.
        epochs: Passes over the target nodes.
        lr: Learning rate of ``SparseAdam``.
        batch_size: Start nodes per optimisation step.
        seed: Seeds initialisation, walks, negatives and shuffling.
        progress: Show a progress bar (``None``: only when stderr is a terminal).

    Returns:
        A float tensor ``[num_target_nodes, embedding_dim]`` (detached).
    """
    if context_size > walk_length + 1:
        raise ValueError(
            f"parameter 'context_size' must be <= walk_length + 1 ({walk_length + 1}), "
            f"got {context_size}"
        )
    chain = walk_scheme(data)
    target = target_type(data)
    edge_index_dict = {e: data[e].edge_index.cpu() for e in set(chain)}
    num_nodes_dict = {t: int(data[t].num_nodes) for t in data.node_types}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: one thread is as fast, and far faster when cores are busy
    try:
        with seeded(seed):
            return _train(
                edge_index_dict,
                num_nodes_dict,
                chain,
                target,
                embedding_dim=embedding_dim,
                walk_length=walk_length,
                context_size=context_size,
                walks_per_node=walks_per_node,
                num_negative_samples=num_negative_samples,
                epochs=epochs,
                lr=lr,
                batch_size=batch_size,
                seed=seed,
                progress=progress,
            )
    finally:
        torch.set_num_threads(threads)


def _train(
    edge_index_dict: dict[EdgeType, Tensor],
    num_nodes_dict: dict[str, int],
    chain: list[EdgeType],
    target: str,
    *,
    embedding_dim: int,
    walk_length: int,
    context_size: int,
    walks_per_node: int,
    num_negative_samples: int,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    progress: bool | None,
) -> Tensor:
    """The training loop of :func:`train_metapath2vec` (run under its seeded RNG)."""
    model = MetaPath2Vec(
        edge_index_dict,
        embedding_dim=embedding_dim,
        metapath=chain,
        walk_length=walk_length,
        context_size=context_size,
        walks_per_node=walks_per_node,
        num_negative_samples=num_negative_samples,
        num_nodes_dict=num_nodes_dict,
        sparse=True,
    )
    nn.init.normal_(model.embedding.weight, std=INIT_STD)
    loader = model.loader(
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimiser = torch.optim.SparseAdam(list(model.parameters()), lr=lr)
    model.train()
    bar = tqdm(
        total=epochs * len(loader),
        desc="metapath2vec",
        disable=None if progress is None else not progress,
        leave=False,
    )
    for epoch in range(epochs):
        total = 0.0
        for pos_rw, neg_rw in loader:
            optimiser.zero_grad()
            loss = model.loss(pos_rw, neg_rw)
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
            bar.update(1)
        log.debug("metapath2vec epoch %d: mean loss %.4f", epoch + 1, total / len(loader))
    bar.close()
    return model(target).detach().clone()


def _positive(help: str, default: int) -> ParamSpec:
    return ParamSpec("int", default, help, low=1)


#: The settings of ``"metapath2vec"`` (defaults measured on Freebase, see above).
METAPATH2VEC_PARAMS: dict[str, ParamSpec] = {
    **with_defaults(COMMON_PARAMS, num_layers=1),
    "embedding_dim": _positive("embedding width", 128),
    "walk_length": _positive("steps per walk", 12),
    "context_size": ParamSpec("int", 5, "skip-gram window, at most walk_length + 1", low=2),
    "walks_per_node": _positive("walks started from every target node per epoch", 3),
    "num_negative_samples": _positive("negative walks per positive walk", 2),
    "embedding_epochs": _positive("training epochs of the embeddings", 5),
    "embedding_lr": ParamSpec(
        "float", 0.025, "learning rate of the embeddings (SparseAdam)", low=0.0, low_open=True
    ),
    "embedding_batch_size": _positive("start nodes per embedding step", 64),
    "cache_dir": ParamSpec(
        "path", None, "folder of cached embeddings (none: <data root>/processed/embeddings)"
    ),
    "cache": ParamSpec("bool", True, "read and write the embedding cache"),
    "progress": ParamSpec(
        "bool", None, "progress bar while training the embeddings (none: on a terminal)"
    ),
}


class MetaPath2VecEncoder(Encoder):
    """Frozen metapath2vec embeddings of the target nodes, then an MLP to ``hidden``.

    Args:
        data: The graph (its meta-paths define the walks).
        hidden: Output width.
        num_layers: Linear-ReLU-Dropout layers after the embeddings.
        dropout: Dropout after each layer.
        embedding_dim, walk_length, context_size, walks_per_node, num_negative_samples:
            Walk and skip-gram settings (see :func:`train_metapath2vec`).
        embedding_epochs: Training epochs of the embeddings.
        embedding_lr: Learning rate of the embeddings (``SparseAdam``).
        embedding_batch_size: Start nodes per embedding step.
        cache_dir: Folder of cached embeddings (``None``: ``processed_dir()/embeddings``).
        cache: Read and write the cache.
        progress: Progress bar while training the embeddings (``None``: on a terminal).
        seed: Seeds the MLP (through ``build_model``) and the embedding training.
    """

    inductive = False
    not_inductive_reason = (
        "metapath2vec learns one embedding per node from random walks on the training graph, "
        "so nodes added later have none"
    )

    def __init__(
        self,
        data: HeteroData,
        hidden: int = 64,
        num_layers: int = 1,
        dropout: float = 0.5,
        embedding_dim: int = 128,
        walk_length: int = 12,
        context_size: int = 5,
        walks_per_node: int = 3,
        num_negative_samples: int = 2,
        embedding_epochs: int = 5,
        embedding_lr: float = 0.025,
        embedding_batch_size: int = 64,
        cache_dir: str | os.PathLike | None = None,
        cache: bool = True,
        progress: bool | None = None,
        seed: int | None = None,
    ):
        super().__init__()
        check_settings(
            "model 'metapath2vec'", METAPATH2VEC_PARAMS, hidden=hidden, num_layers=num_layers,
            dropout=dropout, embedding_dim=embedding_dim, walk_length=walk_length,
            context_size=context_size, walks_per_node=walks_per_node,
            num_negative_samples=num_negative_samples, embedding_epochs=embedding_epochs,
            embedding_lr=embedding_lr, embedding_batch_size=embedding_batch_size,
            cache_dir=cache_dir, cache=cache, progress=progress,
        )
        if context_size > walk_length + 1:
            raise ParamError(
                f"model 'metapath2vec': context_size must be <= walk_length + 1 "
                f"({walk_length + 1}), got {context_size}"
            )
        self.train_settings: dict[str, Any] = {
            "embedding_dim": embedding_dim,
            "walk_length": walk_length,
            "context_size": context_size,
            "walks_per_node": walks_per_node,
            "num_negative_samples": num_negative_samples,
            "epochs": embedding_epochs,
            "lr": float(embedding_lr),
            "batch_size": embedding_batch_size,
        }
        self.target = target_type(data)
        walk_scheme(data)  # validate the meta-paths now, not at preprocess time
        self.seed = 0 if seed is None else seed
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.cache = bool(cache)
        self.progress = progress
        layers: list[nn.Module] = []
        width = embedding_dim
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.mlp = nn.Sequential(*layers)
        self.out_channels = hidden

    def cache_path(self, data: HeteroData) -> Path:
        """Where the embeddings for ``data`` and these settings are (or would be) cached."""
        chain = walk_scheme(data)
        ident = {
            "version": CACHE_VERSION,
            "graph": graph_fingerprint(data, chain),
            "metapaths": [[list(e) for e in p] for p in graph_metapaths(data)],
            "settings": self.train_settings,
            "seed": self.seed,
        }
        key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]
        folder = self.cache_dir or paths.processed_dir(None) / "embeddings"
        return folder / f"metapath2vec-{key}.pt"

    def embeddings(self, data: HeteroData) -> Tensor:
        """Target-node embeddings for ``data``: from the cache, else trained (and cached)."""
        path = self.cache_path(data) if self.cache else None
        num_target = int(data[self.target].num_nodes)
        if path is not None and path.is_file():
            try:
                stored = torch.load(path, weights_only=True)
                emb = stored["embedding"]
                if emb.shape == (num_target, self.train_settings["embedding_dim"]):
                    log.info("metapath2vec: loaded cached embeddings %s", path)
                    return emb
                log.warning("ignoring cached embeddings %s of shape %s", path, tuple(emb.shape))
            except Exception as err:  # a damaged cache is retrained, never trusted
                log.warning("ignoring unreadable cached embeddings %s (%s)", path, err)
        emb = train_metapath2vec(
            data, seed=self.seed, progress=self.progress, **self.train_settings
        )
        if path is not None:
            payload = {"embedding": emb, "settings": json.dumps(self.train_settings)}
            try:
                atomic_write(path, lambda tmp: torch.save(payload, tmp))
            except OSError as err:  # read-only data roots still work, just uncached
                log.warning("could not write cached embeddings %s (%s)", path, err)
        return emb

    def preprocess(self, data: HeteroData) -> HeteroData:
        """A shallow copy of ``data`` whose target store holds the embeddings
        (``data[target].metapath2vec_emb``, sliced like any node attribute by loaders)."""
        emb = self.embeddings(data)
        data = copy.copy(data)
        data[self.target][EMBEDDING_KEY] = emb
        return data

    def forward(self, data: HeteroData) -> Tensor:
        """Embeddings ``[num_target_nodes, hidden]`` of the target nodes."""
        emb = precomputed_rows(data, self.target, EMBEDDING_KEY, "embeddings")
        return self.mlp(emb)


def build_metapath2vec(
    data: HeteroData, *, hidden: int, num_layers: int, dropout: float, seed: int, **settings: Any
) -> MetaPath2VecEncoder:
    """Builder registered as ``"metapath2vec"``."""
    return MetaPath2VecEncoder(
        data, hidden=hidden, num_layers=num_layers, dropout=dropout, seed=seed, **settings
    )


def cache_under_data_root(settings: dict[str, Any], config: Any) -> dict[str, Any]:
    """``prepare_params`` hook: without a ``cache_dir``, embeddings are cached under the
    run's data root (``processed_dir(config.root) / "embeddings"``)."""
    if settings["cache_dir"] is not None:
        return settings
    return {**settings, "cache_dir": str(paths.processed_dir(config.root) / "embeddings")}


_SUMMARY = "metapath2vec skip-gram embeddings (frozen, cached) + MLP"
MODELS.register(
    "metapath2vec",
    ModelSpec(
        builder=build_metapath2vec,
        params=METAPATH2VEC_PARAMS,
        summary=_SUMMARY,
        prepare_params=cache_under_data_root,
        static_graph="its node embeddings are learned from random walks once, before training",
    ),
)
