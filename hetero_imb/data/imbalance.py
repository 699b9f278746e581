"""Induce class imbalance in a graph: drop labelled nodes, or mask training labels.

Two modes (``MODES``):

* ``"drop"`` removes labelled target nodes, with all their edges, until class ``c``
  has the requested number of labelled nodes (e.g. the Facebook Page-Page case study
  keeps 3,327 / 1,410 / 460 / 256 pages of classes 0..3). Unlabelled target nodes
  and every other node type stay.
* ``"mask"`` keeps the graph and removes nodes from ``train_mask`` until class ``c``
  has the requested number of training labels (the protocol of GraphSMOTE and
  GraphENS). The removed nodes stay in the graph, in no split; ``val_mask`` and
  ``test_mask`` are unchanged. This models a labelling bias: the reduced classes are
  labelled less often than the others, so an unlabelled neighbour hints at them, and
  models that read the training labels as inputs (``lp``, ``label-lr``, ``sehgnn`` with
  ``label_hops``, the ``cs`` smoother) can use that hint where a class that is simply
  rare gives none (on Freebase at step 10, up to 3 points of ``label-lr``'s balanced
  accuracy with one round and 4.5 with two, none measurable of ``lp``'s;
  docs/balancing.md, "Eighth pass"). ``"drop"`` has no such hint.

The targets are given either as explicit per-class ``counts`` or as an imbalance
``ratio`` with a profile (``PROFILES``), computed from the per-class sizes ``n_c``
(all labelled nodes for ``drop``, training nodes for ``mask``) with
``n_max = max_c n_c``:

* ``"step"``: the ``floor(C / 2)`` smallest classes (ties: lower class index counts
  as smaller) keep ``min(n_c, ceil(n_max / ratio))`` nodes; the others keep all.
* ``"longtail"``: the class of rank ``r`` (0-based, by size descending, ties by class
  index) keeps ``min(n_c, ceil(n_max * ratio ** (-r / (C - 1))))`` nodes, so the
  largest class keeps all and the smallest is capped at ``ceil(n_max / ratio)``.

``ceil`` ignores float noise below 1e-9 (``ceil(100 * 8 ** (-1/3))`` is 50, not 51).
The kept nodes of each class are a seeded random subset. Multi-label graphs are
capped per label (positives), removing nodes whole: see
:mod:`hetero_imb.data.multilabel_imbalance`.
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..registry import Registry
from .graph import class_counts, labelled_mask, select_rows
from .multilabel_imbalance import keep_multilabel
from .splits import _check_graph, _check_seed, _copy_graph
from .validate import GraphWarning

__all__ = ["MODES", "PROFILES", "make_imbalance", "parse_imbalance"]

log = logging.getLogger(__name__)

MODES = ("drop", "mask")

#: The ``--imbalance-mode`` help of the command lines.
MODE_HELP = ("drop target nodes (default), or mask training labels (a labelling bias: "
             "models that read training labels can use it; docs/balancing.md)")

#: Imbalance profiles: ``(sizes per class, ratio) -> target count per class``.
PROFILES: Registry[Callable[[Sequence[int], float], list[int]]] = Registry("imbalance profile")

_EPS = 1e-9


def _ceil(x: float) -> int:
    return math.ceil(x - _EPS)


@PROFILES.register("step")
def step_profile(sizes: Sequence[int], ratio: float) -> list[int]:
    """Minority half of the classes capped at ceil(n_max / ratio), the rest kept.

    Args:
        sizes: Nodes per class.
        ratio: Imbalance ratio (> 1).

    Returns:
        Target count per class: the ``floor(C/2)`` smallest classes (ties broken by
        class index) keep ``min(n_c, ceil(n_max / ratio))``, the others ``n_c``.

    Example:
        >>> step_profile([182, 74, 26, 18], 10)
        [182, 74, 19, 18]
    """
    sizes = [int(n) for n in sizes]
    if not sizes:
        return []
    cap = _ceil(max(sizes) / ratio)
    minority = set(sorted(range(len(sizes)), key=lambda c: (sizes[c], c))[: len(sizes) // 2])
    return [min(n, cap) if c in minority else n for c, n in enumerate(sizes)]


@PROFILES.register("longtail")
def longtail_profile(sizes: Sequence[int], ratio: float) -> list[int]:
    """Exponentially decaying caps from n_max (largest class) to ceil(n_max / ratio).

    Args:
        sizes: Nodes per class.
        ratio: Imbalance ratio (> 1) between the largest and the smallest cap.

    Returns:
        Target count per class: the class of rank ``r`` (by size descending, ties by
        class index) keeps ``min(n_c, ceil(n_max * ratio ** (-r / (C - 1))))``.

    Example:
        >>> longtail_profile([100, 50, 30, 20], 8)
        [100, 50, 25, 13]
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) <= 1:
        return sizes
    n_max = max(sizes)
    order = sorted(range(len(sizes)), key=lambda c: (-sizes[c], c))
    out = list(sizes)
    for rank, c in enumerate(order):
        out[c] = min(sizes[c], _ceil(n_max * ratio ** (-rank / (len(sizes) - 1))))
    return out


# --------------------------------------------------------------------- checks
def _check_ratio(ratio: object, parameter: str = "ratio") -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise TypeError(f"parameter {parameter!r} must be a number > 1, got {ratio!r}")
    value = float(ratio)
    if not (value > 1 and math.isfinite(value)):
        raise ValueError(f"parameter {parameter!r} must be a finite number > 1, got {ratio!r}")
    return value


def _check_count(value: object, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"parameter 'counts' must hold ints, got {value!r} for {what}")
    if value < 0:
        raise ValueError(f"parameter 'counts' must be >= 0, got {int(value)} for {what}")
    return int(value)


def _resolve_counts(counts: object, names: list[str], sizes: list[int]) -> list[int]:
    """Per-class target counts from a sequence or a ``{name or index: count}`` mapping."""
    num = len(names)
    if isinstance(counts, Tensor | np.ndarray):
        counts = counts.tolist()
    if isinstance(counts, Mapping):
        out = list(sizes)
        seen: dict[int, object] = {}
        for key, value in counts.items():
            if isinstance(key, str) and key in names:
                c = names.index(key)
            elif isinstance(key, numbers.Integral) and not isinstance(key, bool) and 0 <= key < num:
                c = int(key)
            else:
                raise ValueError(
                    f"parameter 'counts' names an unknown class {key!r}; expected a class "
                    f"name {names} or an index 0..{num - 1}"
                )
            if c in seen:
                raise ValueError(
                    f"parameter 'counts' gives class {names[c]!r} ({c}) twice "
                    f"(as {seen[c]!r} and {key!r})"
                )
            seen[c] = key
            out[c] = _check_count(value, f"class {names[c]!r} ({c})")
        return out
    if isinstance(counts, str) or not isinstance(counts, Sequence):
        raise TypeError(
            "parameter 'counts' must be a sequence of ints (one per class) or a dict "
            f"class name/index -> count, got {type(counts).__name__}"
        )
    if len(counts) != num:
        raise ValueError(
            f"parameter 'counts' must have one entry per class ({num}), got {len(counts)}"
        )
    return [_check_count(v, f"class {names[c]!r} ({c})") for c, v in enumerate(counts)]


def _subgraph(data: HeteroData, target: str, keep: Tensor) -> HeteroData:
    """Induced subgraph on ``keep`` (sorted indices) of the target type, others whole.

    ``HeteroData.subgraph`` slices every dense tensor node attribute (``y``, ``x``,
    masks, official masks) and relabels the edges; list-valued node attributes (e.g.
    names) and sparse feature matrices cannot be indexed by a tensor, so they are
    sliced here.
    """
    out = _copy_graph(data)
    store = out[target]
    num_nodes = store.num_nodes
    special = {
        key: value
        for key, value in store.items()
        if (isinstance(value, list | tuple) and len(value) == num_nodes)
        or (
            isinstance(value, Tensor)
            and value.layout != torch.strided
            and value.dim() > 0
            and value.size(0) == num_nodes
        )
    }
    for key in special:
        del store[key]
    out = out.subgraph({target: keep})
    for key, value in special.items():
        out[target][key] = select_rows(value, keep)
    node_ids = getattr(data, "node_ids", None)  # graph-level: subgraph() leaves it whole
    if isinstance(node_ids, dict) and target in node_ids:
        out.node_ids = {**node_ids, target: select_rows(node_ids[target], keep)}
    return out


# ----------------------------------------------------------------- public API
def make_imbalance(
    data: HeteroData,
    *,
    counts: Sequence[int] | Mapping[str | int, int] | None = None,
    ratio: float | None = None,
    profile: str = "step",
    mode: str = "drop",
    seed: int = 0,
) -> HeteroData:
    """Return a new graph whose classes are imbalanced as requested (input untouched).

    Args:
        data: The graph (for ``mode="mask"`` with a ``train_mask``).
        counts: Target count per class: one int per class, or a dict class name or
            index → count (classes not in the dict keep all their nodes). Exclusive
            with ``ratio``.
        ratio: Imbalance ratio (> 1) applied with ``profile``. Exclusive with ``counts``.
        profile: A name in ``PROFILES`` ("step" or "longtail"; see the module
            docstring). Only used with ``ratio``.
        mode: ``"drop"`` (remove labelled nodes and their edges; existing masks and
            every other node attribute are sliced with the nodes) or ``"mask"``
            (remove training labels from ``train_mask``).
        seed: Seed of the random choice of the kept nodes.

    Returns:
        A new graph (unchanged tensors shared with the input) with the graph attribute
        ``imbalance = {"mode", "profile", "ratio", "counts_requested", "counts_before",
        "counts_after", "seed"}`` (plain Python values; ``profile`` and ``ratio`` are
        ``None`` when ``counts`` was given; the counts are over all labelled target
        nodes for ``drop``, over ``train_mask`` for ``mask``).

    Raises:
        ValueError: both or neither of ``counts``/``ratio``, an invalid value, a count
            larger than what a class has, or ``mode="mask"`` without a ``train_mask``.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> out = make_imbalance(make_synthetic(seed=0), ratio=10, profile="step")
        >>> out.imbalance["counts_before"], out.imbalance["counts_after"]
        ([182, 74, 26, 18], [182, 74, 19, 18])
    """
    if (counts is None) == (ratio is None):
        raise ValueError(
            "give exactly one of parameters 'counts' and 'ratio', got "
            + ("both" if counts is not None else "neither")
        )
    profile_fn = PROFILES.get(profile, parameter="profile")
    if mode not in MODES:
        raise ValueError(
            f"parameter 'mode' must be one of {', '.join(map(repr, MODES))}, got {mode!r}"
        )
    seed = _check_seed(seed)
    if ratio is not None:
        ratio = _check_ratio(ratio)
    target, y, names = _check_graph(data)
    pool, where = _pool(data, target, y, mode)
    if y.dim() == 2:  # multi-label: counts are positives per label
        where = f"positive {where}"
    before = class_counts(data, pool)
    if ratio is not None:
        requested = [int(n) for n in profile_fn(before, ratio)]
    else:
        requested = _resolve_counts(counts, names, before)
    for c, (want, have) in enumerate(zip(requested, before, strict=True)):
        if want > have:
            raise ValueError(
                f"class {names[c]!r} ({c}): requested {want} {where} but only {have} are available"
            )
    chosen = _choose(pool, y, requested, seed)
    out, after = _apply(data, target, pool, chosen, mode)
    out.imbalance = {
        "mode": mode,
        "profile": profile if ratio is not None else None,
        "ratio": ratio,
        "counts_requested": list(requested),
        "counts_before": list(before),
        "counts_after": list(after),
        "seed": seed,
    }
    log.info("imbalance (%s): %s -> %s %s", mode, before, after, where)
    if ratio is not None and list(after) == list(before):
        warnings.warn(
            f"imbalance {profile}:{ratio:g} changed no class count ({list(before)} {where}): "
            f"the graph is already at least that imbalanced; a larger ratio reduces more",
            GraphWarning, stacklevel=2,
        )
    return out


def _pool(data: HeteroData, target: str, y: Tensor, mode: str) -> tuple[Tensor, str]:
    """The nodes ``make_imbalance`` draws from, and how messages call them."""
    if mode == "drop":
        return labelled_mask(y), "labelled nodes"
    train_mask = data[target].get("train_mask")
    if train_mask is None:
        raise ValueError(
            f"make_imbalance(mode='mask') needs a 'train_mask' on node type {target!r}; "
            "call hetero_imb.stratified_split(data) first"
        )
    return train_mask.bool() & labelled_mask(y), "training nodes (train_mask)"


def _choose(pool: Tensor, y: Tensor, requested: list[int], seed: int) -> Tensor:
    """Indices of ``requested[c]`` random pool nodes of each class ``c`` (seeded)."""
    if y.dim() == 2:
        return keep_multilabel(pool, y, requested, seed)
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for c, want in enumerate(requested):
        index = torch.nonzero(pool & (y == c)).flatten()
        perm = torch.randperm(index.numel(), generator=gen)
        chosen.append(index[perm[:want]])
    return torch.cat(chosen) if chosen else torch.empty(0, dtype=torch.long)


def _apply(
    data: HeteroData, target: str, pool: Tensor, chosen: Tensor, mode: str
) -> tuple[HeteroData, list[int]]:
    """The new graph keeping only ``chosen`` of the ``pool``, and its class counts."""
    if mode == "drop":
        keep = ~pool
        keep[chosen] = True
        out = _subgraph(data, target, torch.nonzero(keep).flatten())
        return out, class_counts(out)
    new_train = data[target].train_mask.bool().clone()
    new_train[pool] = False
    new_train[chosen] = True
    out = _copy_graph(data)
    out[target].train_mask = new_train
    return out, class_counts(out, new_train)


def _forms() -> str:
    profiles = ", ".join(f"'{p}:RATIO'" for p in PROFILES.names())
    return f"'none', 'counts:N0,N1,...' (one int >= 0 per class), {profiles} (RATIO > 1)"


def parse_imbalance(spec: str) -> dict[str, Any] | None:
    """Parse the command-line form of an imbalance request.

    Args:
        spec: ``"none"``, ``"counts:3327,1410,460,256"``, or ``"<profile>:<ratio>"``
            with a profile registered in ``PROFILES`` (``"step:10"``, ``"longtail:100"``).

    Returns:
        ``None`` for ``"none"``, else keyword arguments for :func:`make_imbalance`
        (``{"counts": [...]}`` or ``{"ratio": 10.0, "profile": "step"}``); the mode is
        a separate option.

    Raises:
        ValueError: a malformed spec; the message names '--imbalance', the accepted
            forms and what was given.

    Example:
        >>> parse_imbalance("step:10")
        {'ratio': 10.0, 'profile': 'step'}
    """

    def bad(reason: str = "") -> ValueError:
        extra = f" ({reason})" if reason else ""
        return ValueError(f"parameter '--imbalance' must be one of {_forms()}, got {spec!r}{extra}")

    if not isinstance(spec, str):
        raise bad("not a string")
    text = spec.strip()
    if text.lower() == "none":
        return None
    kind, sep, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep or not value:
        raise bad()
    if kind == "counts":
        parts = [p.strip() for p in value.split(",")]
        if not all(p.isdigit() for p in parts):
            raise bad("counts must be non-negative integers separated by commas")
        return {"counts": [int(p) for p in parts]}
    if kind in PROFILES:
        try:
            ratio = float(value)
        except ValueError:
            raise bad("the ratio is not a number") from None
        if not (ratio > 1 and math.isfinite(ratio)):
            raise bad("the ratio must be a finite number > 1")
        return {"ratio": ratio, "profile": kind}
    raise bad()
