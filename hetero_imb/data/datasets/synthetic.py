"""A small seeded heterograph with imbalanced, structure-dependent classes.

Useful for tests, demos and smoke runs: it needs no files, and models that use the
graph beat models that do not (labels follow the communities of the neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...params import ParamError, ParamSpec
from . import DATASETS
from .base import DatasetLoader

#: The class frequencies used when neither ``class_weights`` nor a class count or
#: imbalance ratio is given.
DEFAULT_CLASS_WEIGHTS = (0.6, 0.25, 0.1, 0.05)


def make_synthetic(
    num_items: int = 300,
    class_weights: Sequence[float] | None = None,
    num_users: int = 120,
    num_tags: int = 30,
    item_features: int | None = 8,
    homophily: float = 0.8,
    seed: int = 0,
    *,
    num_classes: int | None = None,
    imbalance_ratio: float | None = None,
    user_degree: int = 3,
    tag_degree: int = 2,
    extra_types: int = 0,
) -> HeteroData:
    """Build an ``item``/``user``/``tag`` heterograph with ``item`` as the target type.

    Each user and tag belongs to a class community (node ``j`` to class ``j % C``); an
    item links to users and tags of its own class with probability ``homophily``, else
    to random ones. Item features (if any) are weakly informative Gaussian noise around
    a class centre. Everything is drawn with vectorised torch ops from one seeded
    generator: 1M items, 100k users and 10k tags (10M edges with the reverses) take a
    few seconds.

    Args:
        num_items: Number of target nodes.
        class_weights: Relative class frequencies (normalised); their length is the
            number of classes. ``None``: :data:`DEFAULT_CLASS_WEIGHTS`, or geometric
            frequencies when ``num_classes`` or ``imbalance_ratio`` is set.
        num_users: Number of ``user`` nodes.
        num_tags: Number of ``tag`` nodes (featureless).
        item_features: Width of item features, or ``None`` for featureless items.
        homophily: Probability that an edge goes to the item's own community.
        seed: Seed of the generator; the same seed gives the same graph.
        num_classes: Number of classes of geometric frequencies (default 4).
        imbalance_ratio: Largest over smallest class frequency of the geometric
            frequencies (default 12, as the default weights).
        user_degree: ``user`` edges drawn per item (duplicates are then removed).
        tag_degree: ``tag`` edges drawn per item, and per item for each extra type.
        extra_types: Extra featureless context types ``ctx0``, ``ctx1``, ... of
            ``num_tags`` nodes each, linked like ``tag`` (with a meta-path each).

    Returns:
        The graph with ``y`` on ``item``, reverse relations, and meta-paths
        item-user-item, item-tag-item (and item-ctx<k>-item).

    Example:
        >>> data = make_synthetic(num_items=1000, num_users=50, num_tags=10, seed=1)
        >>> data["item"].y.bincount().tolist()
        [592, 256, 101, 51]
        >>> data["item", "bought_by", "user"].num_edges <= 3 * 1000
        True
    """
    probs = _class_probs(num_items, class_weights, homophily, num_classes, imbalance_ratio)
    for name, value in (("user_degree", user_degree), ("tag_degree", tag_degree),
                        ("extra_types", extra_types)):
        if value < 0:
            raise ParamError(f"dataset 'synthetic': {name} must be an integer >= 0, got {value}")
    gen = torch.Generator().manual_seed(seed)
    y = _draw_labels(probs, num_items, gen)
    n_classes = len(probs)
    data = HeteroData()
    data["item"].num_nodes = num_items
    data["item"].y = y
    if item_features:
        centres = torch.randn(n_classes, item_features, generator=gen)
        noise = torch.randn(num_items, item_features, generator=gen) * 2.0
        data["item"].x = centres[y] + noise
    data["user"].num_nodes = num_users
    data["user"].x = torch.randn(num_users, 4, generator=gen)
    data["tag"].num_nodes = num_tags
    relations = [("bought_by", "user", num_users, user_degree), ("tagged", "tag", num_tags, tag_degree)]
    for k in range(extra_types):
        data[f"ctx{k}"].num_nodes = num_tags
        relations.append((f"in_ctx{k}", f"ctx{k}", num_tags, tag_degree))
    _add_relations(data, relations, n_classes, homophily, gen)
    data.target_node_type = "item"
    data.class_names = [f"class_{c}" for c in range(n_classes)]
    data.name = "synthetic"
    return data


def _add_relations(data: HeteroData, relations: list[tuple[str, str, int, int]],
                   n_classes: int, homophily: float, gen: torch.Generator) -> None:
    """Each ``(relation, node type, count, edges per item)`` from ``item``, its reverse
    beside it, and the meta-path item-type-item."""
    y = data["item"].y
    # reverses written beside each relation: ToUndirected would append them after all
    # relations, changing the edge-type order that seeds per-relation parameters
    for rel, dst, num, per_item in relations:
        edge_index = _link(y, n_classes, num, per_item, homophily, gen)
        data["item", rel, dst].edge_index = edge_index
        data[dst, f"rev_{rel}", "item"].edge_index = edge_index.flip(0)
    data.metapaths = [
        [("item", rel, dst), (dst, f"rev_{rel}", "item")] for rel, dst, _, _ in relations
    ]


def _class_probs(
    num_items: int, class_weights: Sequence[float] | None, homophily: float,
    num_classes: int | None = None, imbalance_ratio: float | None = None,
) -> Tensor:
    """The normalised class frequencies, after checking the arguments."""
    if class_weights is not None and (num_classes is not None or imbalance_ratio is not None):
        raise ParamError(
            "dataset 'synthetic': class_weights cannot be combined with num_classes or "
            f"imbalance_ratio (both define the class weights), got {list(class_weights)}"
        )
    if num_classes is not None and num_classes < 2:
        raise ParamError(f"dataset 'synthetic': num_classes must be an integer >= 2, got {num_classes}")
    if imbalance_ratio is not None and imbalance_ratio < 1:
        raise ParamError(f"dataset 'synthetic': imbalance_ratio must be a float >= 1, got {imbalance_ratio}")
    if class_weights is None and num_classes is None and imbalance_ratio is None:
        class_weights = DEFAULT_CLASS_WEIGHTS
    if class_weights is None:  # geometric: 1, r^(-1/(C-1)), ..., 1/r
        c = 4 if num_classes is None else num_classes
        ratio = 12.0 if imbalance_ratio is None else float(imbalance_ratio)
        class_weights = (ratio ** (-torch.arange(c, dtype=torch.float64) / (c - 1))).tolist()
    if num_items < len(class_weights):
        raise ParamError(
            f"dataset 'synthetic': num_items must be at least the number of classes ({len(class_weights)}), "
            f"got {num_items}"
        )
    if not 0.0 <= homophily <= 1.0:
        raise ParamError(f"dataset 'synthetic': homophily must be in [0, 1], got {homophily}")
    probs = torch.tensor(class_weights, dtype=torch.float)
    if (probs <= 0).any():
        raise ParamError(f"dataset 'synthetic': class_weights must all be positive, got {list(class_weights)}")
    return probs / probs.sum()


def _draw_labels(probs: Tensor, num_items: int, gen: torch.Generator) -> Tensor:
    """Item labels drawn from ``probs``; every class gets at least 5 items (for splits)."""
    y = torch.multinomial(probs, num_items, replacement=True, generator=gen)
    for c in range(len(probs)):  # a loop over classes, not nodes
        need = max(0, 5 - int((y == c).sum()))
        if need:
            idx = torch.randperm(num_items, generator=gen)[:need]
            y[idx] = c
    return y


def _link(y: Tensor, n_classes: int, num: int, per_item: int, homophily: float,
          gen: torch.Generator) -> Tensor:
    """``per_item`` edges from each item to ``num`` nodes (node ``j`` in community
    ``j % n_classes``), to its own community with prob. ``homophily``; distinct pairs,
    sorted by item then node."""
    src = torch.arange(len(y)).repeat_interleave(per_item)
    cls = y[src]
    # community c holds the nodes c, c + C, c + 2C, ...: ceil((num - c) / C) of them
    size = ((num - cls + n_classes - 1) // n_classes).clamp(min=0)
    own = (torch.rand(src.numel(), generator=gen) < homophily) & (size > 0)
    u = torch.rand(src.numel(), generator=gen, dtype=torch.float64)
    in_community = cls + n_classes * (u * size).long().clamp(max=(size - 1).clamp(min=0))
    anywhere = (u * num).long().clamp(max=num - 1)
    dst = torch.where(own, in_community, anywhere)
    pairs = torch.unique(src * num + dst)  # sorted: by item, then node
    return torch.stack([pairs // num, pairs % num])


@DATASETS.register("synthetic")
class SyntheticLoader(DatasetLoader):
    """Seeded item/user/tag heterograph, imbalanced classes, no files; scales to 10M edges.

    ``num_items=1000000 num_users=100000 num_tags=10000`` gives about 10M edges in seconds."""

    name = "synthetic"
    params = {
        "num_items": ParamSpec("int", 300, "number of target (item) nodes", low=1),
        "class_weights": ParamSpec(
            "floats", None, "relative class frequencies, one per class (none: 0.6,0.25,0.1,0.05, "
            "or geometric when num_classes/imbalance_ratio is set)", low=0.0, low_open=True,
        ),
        "num_users": ParamSpec("int", 120, "number of user nodes", low=1),
        "num_tags": ParamSpec("int", 30, "number of (featureless) tag nodes", low=1),
        "item_features": ParamSpec(
            "int", 8, "width of the item features (0 or none: featureless items)", low=0,
            nullable=True,
        ),
        "homophily": ParamSpec(
            "float", 0.8, "probability that an edge stays in the item's community",
            low=0.0, high=1.0,
        ),
        "seed": ParamSpec("int", 0, "seed of the generator", low=0, high=2**63, high_open=True),
        "num_classes": ParamSpec(
            "int", None, "number of classes with geometric frequencies (none: 4 when "
            "imbalance_ratio is set); excludes class_weights", low=2,
        ),
        "imbalance_ratio": ParamSpec(
            "float", None, "largest/smallest class frequency of the geometric frequencies "
            "(none: 12 when num_classes is set); excludes class_weights", low=1.0,
        ),
        "user_degree": ParamSpec("int", 3, "user edges drawn per item (duplicates removed)", low=0),
        "tag_degree": ParamSpec(
            "int", 2, "tag edges drawn per item (and per extra type)", low=0,
        ),
        "extra_types": ParamSpec(
            "int", 0, "extra featureless context types ctx0, ctx1, ... (num_tags nodes each, "
            "linked like tags, one meta-path each)", low=0,
        ),
    }
    raw_folder = "synthetic"
    raw_files = ()

    def process(self, raw: dict) -> HeteroData:
        return make_synthetic(**self.resolved_options())
