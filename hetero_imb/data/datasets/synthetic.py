"""A small seeded heterograph with imbalanced, structure-dependent classes.

Useful for tests, demos and smoke runs: it needs no files, and models that use the
graph beat models that do not (labels follow the communities of the neighbours).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...params import ParamSpec
from . import DATASETS
from .base import DatasetLoader


def make_synthetic(
    num_items: int = 300,
    class_weights: Sequence[float] = (0.6, 0.25, 0.1, 0.05),
    num_users: int = 120,
    num_tags: int = 30,
    item_features: int | None = 8,
    homophily: float = 0.8,
    seed: int = 0,
) -> HeteroData:
    """Build an ``item``/``user``/``tag`` heterograph with ``item`` as the target type.

    Each user and tag belongs to a class community; an item links to users and tags
    of its own class with probability ``homophily``, else to random ones. Item
    features (if any) are weakly informative Gaussian noise around a class centre.

    Args:
        num_items: Number of target nodes.
        class_weights: Relative class frequencies (normalised); their length is the
            number of classes.
        num_users: Number of ``user`` nodes.
        num_tags: Number of ``tag`` nodes (featureless).
        item_features: Width of item features, or ``None`` for featureless items.
        homophily: Probability that an edge goes to the item's own community.
        seed: Seed of the generator; the same seed gives the same graph.

    Returns:
        The graph with ``y`` on ``item``, reverse relations, and meta-paths
        item-user-item and item-tag-item.
    """
    probs = _class_probs(num_items, class_weights, homophily)
    gen = torch.Generator().manual_seed(seed)
    y = _draw_labels(probs, num_items, gen)
    num_classes = len(probs)
    data = HeteroData()
    data["item"].num_nodes = num_items
    data["item"].y = y
    if item_features:
        centres = torch.randn(num_classes, item_features, generator=gen)
        noise = torch.randn(num_items, item_features, generator=gen) * 2.0
        data["item"].x = centres[y] + noise
    data["user"].num_nodes = num_users
    data["user"].x = torch.randn(num_users, 4, generator=gen)
    data["tag"].num_nodes = num_tags
    # reverses written beside each relation: ToUndirected would append them after all
    # relations, changing the edge-type order that seeds per-relation parameters
    for rel, dst, num, per_item in (
        ("bought_by", "user", num_users, 3),
        ("tagged", "tag", num_tags, 2),
    ):
        edge_index = _link(y, torch.arange(num) % num_classes, per_item, homophily, gen)
        data["item", rel, dst].edge_index = edge_index
        data[dst, f"rev_{rel}", "item"].edge_index = edge_index.flip(0)
    data.target_node_type = "item"
    data.class_names = [f"class_{c}" for c in range(num_classes)]
    data.metapaths = [
        [("item", "bought_by", "user"), ("user", "rev_bought_by", "item")],
        [("item", "tagged", "tag"), ("tag", "rev_tagged", "item")],
    ]
    data.name = "synthetic"
    return data


def _class_probs(num_items: int, class_weights: Sequence[float], homophily: float) -> Tensor:
    """The normalised class frequencies, after checking the arguments."""
    if num_items < len(class_weights):
        raise ValueError(
            f"num_items must be at least the number of classes ({len(class_weights)}), "
            f"got {num_items}"
        )
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}")
    probs = torch.tensor(class_weights, dtype=torch.float)
    if (probs <= 0).any():
        raise ValueError(f"class_weights must all be positive, got {list(class_weights)}")
    return probs / probs.sum()


def _draw_labels(probs: Tensor, num_items: int, gen: torch.Generator) -> Tensor:
    """Item labels drawn from ``probs``; every class gets at least 5 items (for splits)."""
    y = torch.multinomial(probs, num_items, replacement=True, generator=gen)
    for c in range(len(probs)):
        need = max(0, 5 - int((y == c).sum()))
        if need:
            idx = torch.randperm(num_items, generator=gen)[:need]
            y[idx] = c
    return y


def _link(y: Tensor, comm: Tensor, per_item: int, homophily: float, gen: torch.Generator) -> Tensor:
    """``per_item`` edges from each item, to its own community with prob. ``homophily``."""
    src, dst = [], []
    members = [torch.nonzero(comm == c).flatten() for c in range(int(y.max()) + 1)]
    for i in range(len(y)):
        for _ in range(per_item):
            if torch.rand(1, generator=gen).item() < homophily and len(members[y[i]]):
                pool = members[int(y[i])]
                j = pool[torch.randint(len(pool), (1,), generator=gen)].item()
            else:
                j = torch.randint(len(comm), (1,), generator=gen).item()
            src.append(i)
            dst.append(j)
    return torch.unique(torch.tensor([src, dst], dtype=torch.long), dim=1)


@DATASETS.register("synthetic")
class SyntheticLoader(DatasetLoader):
    """Seeded toy heterograph (item/user/tag), imbalanced 4 classes; no files needed."""

    name = "synthetic"
    params = {
        "num_items": ParamSpec("int", 300, "number of target (item) nodes", low=1),
        "class_weights": ParamSpec(
            "floats", (0.6, 0.25, 0.1, 0.05), "relative class frequencies (one per class)",
            low=0.0, low_open=True,
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
        "seed": ParamSpec("int", 0, "seed of the generator", low=0),
    }
    raw_folder = "synthetic"
    raw_files = ()

    def process(self, raw: dict) -> HeteroData:
        return make_synthetic(**self.resolved_options())
