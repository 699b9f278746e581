"""The base of the embedding samplers: ``SAMPLERS``, :class:`EmbeddingSampler`, registration.

A sampler is an :class:`EmbeddingSampler` subclass that declares its options in
``params``, implements ``_resample`` (and ``_fit`` when it needs the graph) and is
registered with :func:`register_sampler`; the built-in ones live beside this module
(see :mod:`hetero_imb.balancing.samplers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...params import ParamSpec, validate_params
from ...registry import Registry

__all__ = [
    "SAMPLERS",
    "TARGET_RATIO",
    "EmbeddingSampler",
    "SyntheticRows",
    "draw_per_class",
    "register_sampler",
]

SAMPLERS: Registry[type[Any]] = Registry("sampler")  # EmbeddingSampler or feature-row classes

#: ``target_ratio`` of the over-samplers: the fill level relative to the largest class.
TARGET_RATIO = ParamSpec(
    "float",
    1.0,
    "each class below target_ratio x the largest class count is filled up to it",
    low=0.0,
    low_open=True,
)


@dataclass(frozen=True)
class SyntheticRows:
    """How the rows appended by the last :meth:`EmbeddingSampler.resample` call were made.

    Appended row ``i`` (output row ``n + i``, with ``n`` input rows) is
    ``z[anchors[i]] + lambdas[i] * (z[partners[i]] - z[anchors[i]])``.

    Attributes:
        anchors: Input-row positions of the anchors ``[k]`` (long, CPU).
        partners: Input-row positions of the partners ``[k]`` (equal to ``anchors``
            for plain copies).
        lambdas: Interpolation factors ``[k]`` in ``[0, 1)`` (0 for copies).
        graph_partner: ``[k]`` bool, whether the partner is a graph (meta-path)
            neighbour of the anchor rather than its nearest row in embedding space.
    """

    anchors: Tensor
    partners: Tensor
    lambdas: Tensor
    graph_partner: Tensor

    @classmethod
    def empty(cls) -> SyntheticRows:
        """No appended rows."""
        long = torch.empty(0, dtype=torch.long)
        return cls(long, long.clone(), torch.empty(0), torch.empty(0, dtype=torch.bool))

    def __len__(self) -> int:
        return int(self.anchors.numel())


class EmbeddingSampler:
    """Base class: re-sample training rows (embeddings + labels) at every step.

    Subclasses declare ``params``, implement :meth:`_resample` (and :meth:`_fit` when
    they need the graph) and are registered with :func:`register_sampler`, which sets
    ``name`` (the registry name, used in messages).

    Args:
        **params: Options declared in ``params``; stored as given and validated by
            :meth:`fit` (unknown names or bad values raise
            :class:`~hetero_imb.params.ParamError`, a ``ValueError``).

    Attributes (after ``fit``):
        params_: The validated options, defaults filled in.
        num_classes_: Number of classes.
        last_synthetic: :class:`SyntheticRows` describing the rows appended by the
            last ``resample`` call (empty when none were appended).
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, ParamSpec]] = {}
    #: What the sampler re-samples: embeddings, inside the loop (the samplers of
    #: :mod:`.feature_rows` re-sample node-feature rows, before fitting).
    rows: ClassVar[str] = "embeddings"

    def __init__(self, **params: Any):
        self._given = dict(params)
        self.last_synthetic = SyntheticRows.empty()

    @property
    def owner(self) -> str:
        """``"sampler '<name>'"``: the registered name, else the class name, for messages."""
        cls = type(self)
        return f"sampler {cls.name or SAMPLERS.name_of(cls) or cls.__name__!r}"

    def get_params(self) -> dict[str, Any]:
        """The options, validated, with defaults filled in."""
        return validate_params(self._given, self.params, owner=self.owner)

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({given})"

    def fit(
        self, data: HeteroData, train_index: Tensor, y_train: Tensor, *, seed: int = 0
    ) -> EmbeddingSampler:
        """Validate the options and precompute what :meth:`resample` needs.

        Args:
            data: The full graph (after the encoder's ``preprocess``).
            train_index: Global ids of the labelled training target nodes ``[n]``.
            y_train: Their labels ``[n]`` (``>= 0``).
            seed: Seeds the generator used when ``resample`` gets none.

        Returns:
            ``self``.
        """
        self.params_ = self.get_params()
        train_index = torch.as_tensor(train_index).reshape(-1).long().cpu()
        y_train = torch.as_tensor(y_train).reshape(-1).long().cpu()
        if train_index.numel() != y_train.numel():
            raise ValueError(
                f"{self.owner}: train_index has {train_index.numel()} entries but y_train has "
                f"{y_train.numel()}"
            )
        if y_train.numel() == 0:
            raise ValueError(f"{self.owner}: there are no training nodes to re-sample")
        if bool((y_train < 0).any()):
            raise ValueError(
                f"{self.owner}: y_train holds {int((y_train < 0).sum())} unlabelled (-1) nodes; "
                "pass labelled training nodes only"
            )
        names = getattr(data, "class_names", None)
        self.num_classes_ = len(names) if names is not None else int(y_train.max()) + 1
        if int(y_train.max()) >= self.num_classes_:
            raise ValueError(
                f"{self.owner}: y_train holds class {int(y_train.max())} but the graph has "
                f"{self.num_classes_} classes"
            )
        self.train_index_ = train_index
        self.generator_ = torch.Generator().manual_seed(int(seed))
        self._fit(data, train_index, y_train)
        return self

    def _fit(self, data: HeteroData, train_index: Tensor, y_train: Tensor) -> None:
        """Hook for subclasses (default: nothing to precompute)."""

    def resample(
        self,
        z: Tensor,
        y: Tensor,
        *,
        index: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Re-sample the training rows of one step.

        Args:
            z: Embeddings of the training rows ``[n, d]``.
            y: Their labels ``[n]``.
            index: Global target-node ids of the rows ``[n]`` (``None``: the rows are
                the ``train_index`` given to :meth:`fit`, in that order).
            generator: A CPU ``torch.Generator`` for every random draw (``None``: the
                sampler's own, seeded by ``fit``).

        Returns:
            ``(embeddings [m, d], labels [m], sample weights [m] or None)``.
        """
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{self.owner} is not fitted; call fit(data, train_index, y_train) first")
        if not isinstance(z, Tensor) or z.dim() != 2:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"{self.owner}: z must be a 2-D tensor [rows, dim], got {shape}")
        n = z.size(0)
        if not isinstance(y, Tensor) or y.shape != (n,):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"{self.owner}: y must be a tensor [{n}] (one label per row of z), got {shape}")
        if index is None:
            if self.train_index_.numel() != n:
                raise ValueError(
                    f"{self.owner}: index is required when z has {n} rows but fit saw "
                    f"{self.train_index_.numel()} training nodes"
                )
            index = self.train_index_
        index = torch.as_tensor(index).reshape(-1).long().cpu()
        if index.numel() != n:
            raise ValueError(f"{self.owner}: index has {index.numel()} entries but z has {n} rows")
        y_cpu = y.detach().long().cpu()
        if n and (int(y_cpu.min()) < 0 or int(y_cpu.max()) >= self.num_classes_):
            raise ValueError(
                f"{self.owner}: labels must lie in [0, {self.num_classes_ - 1}], got "
                f"[{int(y_cpu.min())}, {int(y_cpu.max())}]"
            )
        self.last_synthetic = SyntheticRows.empty()
        return self._resample(z, y, y_cpu, index, generator or self.generator_)

    def _resample(
        self, z: Tensor, y: Tensor, y_cpu: Tensor, index: Tensor, gen: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    # helpers -----------------------------------------------------------------------

    def _counts(self, y_cpu: Tensor) -> Tensor:
        return torch.bincount(y_cpu, minlength=self.num_classes_)

    def _filled_counts(self, counts: list[int], cap: int | None = None) -> list[int]:
        """Per-class counts after filling every class up to ``target_ratio`` x the largest
        (what an over-sampler's ``expected_counts`` returns)."""
        params = self.get_params()
        target = math.floor(params["target_ratio"] * max(counts))
        extra = [min(target - n, cap if cap is not None else target) if 0 < n < target else 0
                 for n in counts]
        return [n + e for n, e in zip(counts, extra, strict=True)]

    def _oversample_targets(self, counts: Tensor, cap: int | None = None) -> dict[int, int]:
        """``{class: rows to add}`` for every present class below the target count."""
        target = math.floor(self.params_["target_ratio"] * int(counts.max()))
        need = {}
        for c, n_c in enumerate(counts.tolist()):
            extra = target - n_c if 0 < n_c < target else 0
            if cap is not None:
                extra = min(extra, cap)
            if extra > 0:
                need[c] = extra
        return need


def draw_per_class(y: Tensor, need: dict[int, int], gen: torch.Generator) -> Tensor:
    """Row positions: ``need[c]`` rows of class ``c`` drawn uniformly with replacement.

    Args:
        y: Labels of the rows ``[n]`` (CPU, long).
        need: ``{class: number of rows to draw}``, e.g. from ``_oversample_targets``.
        gen: The generator of every draw.

    Returns:
        A long tensor ``[sum(need.values())]``, class by class in ``need``'s order.

    Example:
        >>> y = torch.tensor([0, 0, 1, 2])
        >>> rows = draw_per_class(y, {1: 2, 2: 1}, torch.Generator().manual_seed(0))
        >>> rows.tolist()
        [2, 2, 3]
    """
    parts = []
    for c, k in need.items():
        rows = torch.nonzero(y == c).flatten()
        parts.append(rows[torch.randint(rows.numel(), (k,), generator=gen)])
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.long)


def register_sampler(
    name: str, *, overwrite: bool = False
) -> Callable[[type[EmbeddingSampler]], type[EmbeddingSampler]]:
    """Class decorator: register a sampler class in ``SAMPLERS`` as ``name``.

    The class is an :class:`EmbeddingSampler` subclass, or a class that re-samples
    node-feature rows (``rows = "features"``, e.g.
    :class:`~hetero_imb.balancing.samplers.feature_rows.FeatureRowSampler`).

    The class's ``name`` is set to ``name`` (used in its error messages), and the
    sampler appears in ``--sampler``, ``--help``, the comparison runner and the README
    table.

    Args:
        name: The public name (as typed after ``--sampler``).
        overwrite: Replace an existing entry of that name (otherwise ``ValueError``).

    Returns:
        The decorator; it returns the class unchanged.

    Raises:
        TypeError: the decorated object is neither an :class:`EmbeddingSampler` subclass
            nor a class with ``rows = "features"``.

    Example:
        >>> @register_sampler("first-half")
        ... class FirstHalf(EmbeddingSampler):
        ...     summary = "train on the first half of the rows"
        ...     def _resample(self, z, y, y_cpu, index, gen):
        ...         half = max(1, z.size(0) // 2)
        ...         return z[:half], y[:half], None
        >>> "first-half" in SAMPLERS, FirstHalf().owner
        (True, "sampler 'first-half'")
        >>> _ = SAMPLERS.unregister("first-half")
    """

    def decorator(cls: type[EmbeddingSampler]) -> type[EmbeddingSampler]:
        if not (isinstance(cls, type) and (issubclass(cls, EmbeddingSampler)
                                           or getattr(cls, "rows", None) == "features")):
            raise TypeError(
                f"register_sampler({name!r}) decorates an EmbeddingSampler subclass or a "
                f"feature-row sampler class, got {cls!r}"
            )
        SAMPLERS.register(name, overwrite=overwrite)(cls)
        cls.name = name
        return cls

    return decorator
