"""A small seeded heterograph with imbalanced, structure-dependent classes.

Useful for tests, demos and smoke runs: it needs no files, and models that use the
graph beat models that do not (labels follow the communities of the neighbours).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch_geometric.data import HeteroData

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
    if num_items < len(class_weights):
        raise ValueError(
            f"num_items must be at least the number of classes ({len(class_weights)}), "
            f"got {num_items}"
        )
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}")
    gen = torch.Generator().manual_seed(seed)
    probs = torch.tensor(class_weights, dtype=torch.float)
    if (probs <= 0).any():
        raise ValueError(f"class_weights must all be positive, got {list(class_weights)}")
    probs = probs / probs.sum()
    num_classes = len(probs)
    y = torch.multinomial(probs, num_items, replacement=True, generator=gen)
    # guarantee every class a few members so splits are possible
    for c in range(num_classes):
        need = max(0, 5 - int((y == c).sum()))
        if need:
            idx = torch.randperm(num_items, generator=gen)[:need]
            y[idx] = c
    user_comm = torch.arange(num_users) % num_classes
    tag_comm = torch.arange(num_tags) % num_classes

    def link(comm: torch.Tensor, per_item: int) -> torch.Tensor:
        src, dst = [], []
        members = [torch.nonzero(comm == c).flatten() for c in range(num_classes)]
        for i in range(num_items):
            for _ in range(per_item):
                if torch.rand(1, generator=gen).item() < homophily and len(members[y[i]]):
                    pool = members[int(y[i])]
                    j = pool[torch.randint(len(pool), (1,), generator=gen)].item()
                else:
                    j = torch.randint(len(comm), (1,), generator=gen).item()
                src.append(i)
                dst.append(j)
        edge_index = torch.tensor([src, dst], dtype=torch.long)
        return torch.unique(edge_index, dim=1)

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
    bought = link(user_comm, 3)
    tagged = link(tag_comm, 2)
    data["item", "bought_by", "user"].edge_index = bought
    data["user", "rev_bought_by", "item"].edge_index = bought.flip(0)
    data["item", "tagged", "tag"].edge_index = tagged
    data["tag", "rev_tagged", "item"].edge_index = tagged.flip(0)
    data.target_node_type = "item"
    data.class_names = [f"class_{c}" for c in range(num_classes)]
    data.metapaths = [
        [("item", "bought_by", "user"), ("user", "rev_bought_by", "item")],
        [("item", "tagged", "tag"), ("tag", "rev_tagged", "item")],
    ]
    data.name = "synthetic"
    return data


@DATASETS.register("synthetic")
class SyntheticLoader(DatasetLoader):
    """Seeded toy heterograph (item/user/tag), imbalanced 4 classes; no files needed."""

    raw_folder = "synthetic"
    raw_files = ()

    def cache_options(self) -> dict:
        from .freebase import reject_options  # unknown options: an error listing the accepted

        reject_options("synthetic", self.options, tuple(inspect.signature(make_synthetic).parameters))
        return dict(self.options)

    def process(self, raw: dict) -> HeteroData:
        return make_synthetic(**self.options)
