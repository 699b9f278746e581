"""imbalanced-learn's re-samplers on node-feature rows: ``smote``, ``smote-tomek``, ``adasyn``.

These samplers do not act on embeddings inside the training loop: they re-sample the
feature rows of the labelled training nodes ONCE, before a feature baseline (a model
whose spec sets ``resamples_features``: ``mlp``, ``xgboost``) is fitted, with
imbalanced-learn's own classes (:class:`imblearn.over_sampling.SMOTE`,
:class:`imblearn.over_sampling.ADASYN`, :class:`imblearn.combine.SMOTETomek`) seeded by
the run's seed. A synthetic row has features but no edges, so graph models refuse
them (use ``oversample-neighbors`` there).

The rows are the model's input (after the package's per-type standardisation,
:mod:`hetero_imb.data.scaling`). Dense rows are re-sampled on columns standardised
over the training rows, and synthetic rows are returned in the input's units (an
interpolation commutes with that scaling, so only the neighbour search changes); sparse
rows are used as they are.

Targets: ``sampling_strategy`` is imbalanced-learn's (``auto`` = ``not-majority``: every
class but the largest is filled up to the largest; ``minority``: the smallest only;
``not-minority``; ``all``), written with a hyphen for the space. A class to be filled
needs more than ``k_neighbors`` training rows; otherwise :class:`FeatureSamplerError`
names the class and the largest ``k_neighbors`` that would work (``k`` is not adapted
silently). When no class needs rows, the rows are returned as they are.

Multi-label targets (multi-hot ``[n, C]``, see :func:`hetero_imb.data.graph.is_multilabel`)
use a label-powerset encoding: each distinct label set is one class, re-sampled as
above and decoded back to its multi-hot row. Limit: a label set with at most
``k_neighbors`` members (e.g. a set seen once) is kept as it is, never synthesised
from, and with ``auto`` every other set is filled up to the most frequent set, which
can multiply the rows on a long tail of label sets (``minority`` fills one set only).

Example:
    >>> import numpy as np
    >>> x = np.arange(24, dtype=float).reshape(12, 2)
    >>> y = np.array([0] * 9 + [1] * 3)
    >>> rows = SAMPLERS.get("smote")(k_neighbors=2).fit_resample(x, y, seed=0)
    >>> np.bincount(rows.y).tolist(), int(rows.kept.sum())
    ([9, 9], 12)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...data.graph import class_names, labelled_mask, labels, split_mask, target_type
from ...params import ParamSpec, validate_params
from .base import SAMPLERS, register_sampler

__all__ = [
    "ADASYNSampler",
    "FeatureRowSampler",
    "FeatureSamplerError",
    "ResampledRows",
    "SMOTESampler",
    "SMOTETomekSampler",
    "feature_row_samplers",
    "resampled_graph",
]

log = logging.getLogger(__name__)

_STRATEGIES = ("auto", "minority", "not-minority", "not-majority", "all")


class FeatureSamplerError(ValueError):
    """The training rows cannot be re-sampled as asked (e.g. a class smaller than
    ``k_neighbors + 1``); the message names the parameter and the counts."""


@dataclass(frozen=True)
class ResampledRows:
    """The outcome of :meth:`FeatureRowSampler.fit_resample`.

    The re-sampled rows are the input rows where ``kept`` is true (in input order),
    followed by ``new_x``.

    Attributes:
        kept: ``[n]`` bool, input rows kept (all but those a cleaning step removed).
        new_x: Synthetic rows ``[k, d]`` (numpy, or scipy CSR for sparse input).
        new_y: Their labels ``[k]`` (class ids) or ``[k, C]`` (multi-hot rows).
        x: All re-sampled rows (``input[kept]`` then ``new_x``).
        y: Their labels.
    """

    kept: np.ndarray
    new_x: Any
    new_y: np.ndarray
    x: Any
    y: np.ndarray


class FeatureRowSampler:
    """Base class: re-sample node-feature rows once, before a feature baseline is fitted.

    Subclasses declare ``params`` (validated when work starts), implement
    :meth:`_estimator` (the imbalanced-learn object) and, when a cleaning step drops
    rows, :meth:`_sample_positions`; :func:`register_sampler` registers them in
    ``SAMPLERS``. The training loop's interface (``fit``/``resample``) refuses with one
    line, so a graph model can never use them by accident.

    Args:
        **params: Options declared in ``params``.
    """

    name: ClassVar[str] = ""
    #: What the sampler re-samples: node-feature rows, before fitting (the embedding
    #: samplers re-sample ``"embeddings"`` inside the loop).
    rows: ClassVar[str] = "features"
    #: Why models trained in the loop on the graph cannot take it.
    loop_refusal: ClassVar[str] = (
        "it re-samples node-feature rows before fitting, and its synthetic rows have no edges "
        "for a graph model to use"
    )
    params: ClassVar[dict[str, ParamSpec]] = {
        "k_neighbors": ParamSpec(
            "int", 5, "nearest same-class rows a synthetic row may be drawn towards", low=1
        ),
        "sampling_strategy": ParamSpec(
            "str", "auto", "imbalanced-learn's classes to fill (auto: all but the largest, "
            "up to the largest)", choices=_STRATEGIES,
        ),
    }

    def __init__(self, **params: Any):
        self._given = dict(params)

    @property
    def owner(self) -> str:
        """``"sampler '<name>'"`` for messages."""
        return f"sampler {self.name or type(self).__name__!r}"

    def get_params(self) -> dict[str, Any]:
        """The options, validated, with defaults filled in."""
        return validate_params(self._given, self.params, owner=self.owner)

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({given})"

    def fit(self, *args: Any, **kwargs: Any) -> None:
        """The training loop's interface: always refused (see ``loop_refusal``)."""
        raise ValueError(f"{self.owner} cannot run in the training loop: {self.loop_refusal}")

    resample = fit

    def fit_resample(self, x: Any, y: Any, *, seed: int = 0,
                     names: Sequence[str] | None = None) -> ResampledRows:
        """Re-sample labelled training rows with imbalanced-learn.

        Args:
            x: Rows ``[n, d]`` (numpy, torch, or scipy sparse).
            y: Class ids ``[n]`` (``>= 0``) or multi-hot rows ``[n, C]`` (0/1).
            seed: ``random_state`` of the imbalanced-learn object.
            names: Class names, for messages (single-label).

        Returns:
            A :class:`ResampledRows`.

        Raises:
            ParamError: an invalid option.
            FeatureSamplerError: a class to fill has at most ``k_neighbors`` rows
                (single-label), or imbalanced-learn refuses the rows.
        """
        params = self.get_params()
        x = x.numpy() if isinstance(x, Tensor) else x
        y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
        multilabel = y.ndim == 2
        if len(y) != x.shape[0]:
            raise ValueError(f"{self.owner}: x has {x.shape[0]} rows but y has {len(y)} labels")
        if (y.ndim == 1 and (y < 0).any()) or (multilabel and not np.isin(y, (0, 1)).all()):
            raise ValueError(f"{self.owner}: y must hold class ids >= 0 or 0/1 multi-hot rows "
                             "of labelled rows only, got values outside that")
        if multilabel:
            sets, codes = np.unique(y.astype(np.int8), axis=0, return_inverse=True)
            codes = codes.reshape(-1)
        else:
            sets, codes = None, y.astype(np.int64)
        targets = self._targets(codes, params, multilabel, names)
        n = len(codes)
        if not targets:
            return ResampledRows(np.ones(n, dtype=bool), x[:0], y[:0], x, y)
        x_fit, mean, std = _scaled(x)
        estimator = self._estimator(targets, params["k_neighbors"], int(seed))
        try:
            x_out, code_out = estimator.fit_resample(x_fit, codes)
        except (ValueError, RuntimeError) as err:
            raise FeatureSamplerError(f"{self.owner}: imbalanced-learn refused the "
                                      f"{n} training rows: {err}") from err
        positions = self._sample_positions(estimator, len(code_out))
        new = positions >= n
        kept = np.zeros(n, dtype=bool)
        kept[positions[~new]] = True
        new_x = x_out[new]
        new_x = new_x if mean is None else new_x * std + mean
        new_codes = code_out[new]
        new_y = sets[new_codes].astype(y.dtype) if multilabel else new_codes.astype(y.dtype)
        all_x = sp.vstack([x[kept], new_x]).tocsr() if sp.issparse(x) else np.concatenate([x[kept], new_x])
        return ResampledRows(kept, new_x, new_y, all_x, np.concatenate([y[kept], new_y]))

    def _targets(self, codes: np.ndarray, params: dict[str, Any], multilabel: bool,
                 names: Sequence[str] | None) -> dict[int, int]:
        """``{class: rows after re-sampling}`` for every class to fill (imbalanced-learn's
        dict form); too-small classes raise (single-label) or are left out (label sets)."""
        from imblearn.utils import check_sampling_strategy

        strategy = params["sampling_strategy"].replace("-", " ")
        counts = np.bincount(codes)
        if len(np.unique(codes)) < 2:
            return {}
        add = check_sampling_strategy(strategy, codes, "over-sampling")
        k = params["k_neighbors"]
        targets, small = {}, []
        for c, extra in add.items():
            if extra <= 0:
                continue
            if counts[c] <= k:
                small.append(int(c))
                continue
            targets[int(c)] = int(counts[c] + extra)
        if small and not multilabel:
            c = min(small, key=lambda i: counts[i])
            name = repr(names[c]) if names is not None else str(c)
            fits = int(counts[c]) - 1
            hint = (f"pass k_neighbors={fits} or less" if fits >= 1 else
                    "a class with 1 row has no neighbour to interpolate towards; use sampler "
                    "oversample-random or none")
            raise FeatureSamplerError(
                f"{self.owner}: k_neighbors must be below the training rows of every class it "
                f"fills; class {name} has {counts[c]} training rows, k_neighbors={k} needs at "
                f"least {k + 1} ({hint})"
            )
        if small:
            log.info("%s: %d label sets with at most %d rows kept as they are", self.owner,
                     len(small), k)
        return targets

    def _estimator(self, targets: dict[int, int], k: int, seed: int) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _sample_positions(self, estimator: Any, rows: int) -> np.ndarray:
        """Per output row, its position in ``[input rows; synthetic rows]`` (default: the
        output is exactly that, as for SMOTE and ADASYN)."""
        return np.arange(rows)


def _scaled(x: Any) -> tuple[Any, np.ndarray | None, np.ndarray | None]:
    """Dense ``x`` standardised column-wise (constant columns centred) with its mean and
    std; sparse ``x`` as is."""
    if sp.issparse(x):
        return x.tocsr(), None, None
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0, keepdims=True)
    std = x.std(axis=0, keepdims=True)
    std = np.where(std > 1e-12, std, 1.0)
    return (x - mean) / std, mean, std


@register_sampler("smote")
class SMOTESampler(FeatureRowSampler):
    """imbalanced-learn's SMOTE on the feature rows of the feature baselines (mlp, xgboost).

    A synthetic row is a random point between a row and one of its ``k_neighbors``
    nearest same-class rows."""

    def _estimator(self, targets, k, seed):
        from imblearn.over_sampling import SMOTE

        return SMOTE(sampling_strategy=targets, k_neighbors=k, random_state=seed)


@register_sampler("smote-tomek")
class SMOTETomekSampler(FeatureRowSampler):
    """imbalanced-learn's SMOTETomek (SMOTE, then Tomek-link cleaning) on feature rows (mlp, xgboost).

    After SMOTE, both rows of every Tomek link (mutual nearest rows of different
    classes) are removed; removed real training rows leave the training set."""

    def _estimator(self, targets, k, seed):
        from imblearn.combine import SMOTETomek
        from imblearn.over_sampling import SMOTE

        smote = SMOTE(sampling_strategy=targets, k_neighbors=k, random_state=seed)
        return SMOTETomek(smote=smote, random_state=seed)

    def _sample_positions(self, estimator, rows):
        return np.asarray(estimator.tomek_.sample_indices_)


@register_sampler("adasyn")
class ADASYNSampler(FeatureRowSampler):
    """imbalanced-learn's ADASYN on the feature rows of the feature baselines (mlp, xgboost).

    Like SMOTE, with more synthetic rows near rows whose ``k_neighbors`` (imbalanced-learn's
    ``n_neighbors``) are mostly of other classes; the counts reached are approximate."""

    def _estimator(self, targets, k, seed):
        from imblearn.over_sampling import ADASYN

        return ADASYN(sampling_strategy=targets, n_neighbors=k, random_state=seed)


def feature_row_samplers() -> tuple[str, ...]:
    """Names of the registered samplers that re-sample node-feature rows.

    Example:
        >>> feature_row_samplers()
        ('smote', 'smote-tomek', 'adasyn')
    """
    return tuple(n for n in SAMPLERS.names() if getattr(SAMPLERS.get(n), "rows", "") == "features")


def _to_scipy(x: Tensor) -> sp.csr_matrix:
    x = x.coalesce() if x.layout == torch.sparse_coo else x.to_sparse_coo().coalesce()
    row, col = x.indices().numpy()
    return sp.csr_matrix((x.values().numpy(), (row, col)), shape=tuple(x.shape))


def resampled_graph(data: HeteroData, x: Tensor, sampler: FeatureRowSampler, *,
                    seed: int) -> HeteroData:
    """A graph of the target type alone whose rows are ``x`` plus synthetic training rows.

    The first ``N`` target nodes are ``data``'s (features ``x``, labels and masks as in
    ``data``, except training rows a cleaning step removed, which leave the train
    mask); the synthetic rows follow, in the train mask only. There are no edges:
    only models that ignore them (the feature baselines) are fitted on it.

    Args:
        data: A split graph.
        x: The model's input rows for every target node ``[N, d]`` (dense or sparse).
        sampler: A :class:`FeatureRowSampler`.
        seed: The run's seed.

    Returns:
        The graph (``target_node_type`` and ``class_names`` as in ``data``).
    """
    target = target_type(data)
    y = labels(data)
    train = split_mask(data, "train") & labelled_mask(y)
    index = torch.nonzero(train).flatten()
    sparse = x.is_sparse or x.layout != torch.strided
    rows_x = _to_scipy(x)[index.numpy()] if sparse else x[index].double().numpy()
    rows = sampler.fit_resample(rows_x, y[index], seed=seed, names=class_names(data))
    if sparse:
        from ...data.features import sparse_tensor

        new_x = sparse_tensor(sp.vstack([_to_scipy(x), rows.new_x]).tocsr()).to(x.dtype)
    else:
        new_x = torch.cat([x, torch.as_tensor(rows.new_x, dtype=x.dtype)])
    k = len(rows.new_y)
    graph = HeteroData()
    graph.target_node_type, graph.class_names = target, class_names(data)
    store = graph[target]
    store.x = new_x
    store.num_nodes = int(new_x.size(0))
    store.y = torch.cat([y, torch.as_tensor(rows.new_y, dtype=y.dtype)])
    train_mask = split_mask(data, "train").clone()
    train_mask[index[torch.as_tensor(~rows.kept)]] = False
    store.train_mask = torch.cat([train_mask, torch.ones(k, dtype=torch.bool)])
    for split in ("val", "test"):
        mask = split_mask(data, split)
        store[f"{split}_mask"] = torch.cat([mask, torch.zeros(k, dtype=torch.bool)])
    log.info("%s: %d synthetic training rows, %d removed (seed %d)", sampler.owner, k,
             int((~rows.kept).sum()), seed)
    return graph
