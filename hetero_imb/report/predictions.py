"""Readable predictions: one row per target node with the user's own node id.

The same table is written by every training run (``predictions.csv``, validation and
test nodes) and by ``python -m hetero_imb.predict`` (every target node of the graph
it is given). Columns: ``node_id`` (the id given to ``from_pandas`` /
``from_networkx`` / ``from_dgl``, or the dataset's raw id), ``split`` (``train``,
``val``, ``test`` or empty), ``label`` (the true class name, empty when unknown),
``predicted`` (the predicted class name, with tuned decision offsets applied when the
run has them) and ``proba_<class>`` for every class (the model's probabilities,
summing to 1 per row). A per-epoch ``history.csv`` is written beside it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..data.graph import SPLITS, target_type

__all__ = ["node_ids", "predictions_frame", "split_column", "with_node_ids", "history_csv"]


def with_node_ids(data: HeteroData) -> HeteroData:
    """``data`` itself when it carries ``node_ids`` for every node type, else a shallow
    copy whose missing types get their positions ``0..n-1`` (the raw ids of the
    built-in datasets), so that later node removals keep track of the original ids."""
    have = getattr(data, "node_ids", None) or {}
    if all(t in have for t in data.node_types):
        return data
    import copy

    out = copy.copy(data)
    out.node_ids = {
        t: list(have[t]) if t in have else list(range(int(data[t].num_nodes)))
        for t in data.node_types
    }
    return out


def node_ids(data: HeteroData, node_type: str | None = None) -> list[Any]:
    """The user's ids of ``node_type``'s nodes (default the target type); positions when
    the graph carries none.

    Example:
        >>> from hetero_imb.data.datasets.synthetic import make_synthetic
        >>> node_ids(make_synthetic())[:3]
        [0, 1, 2]
    """
    node_type = node_type or target_type(data)
    ids = (getattr(data, "node_ids", None) or {}).get(node_type)
    n = int(data[node_type].num_nodes)
    if ids is None:
        return list(range(n))
    if len(ids) != n:
        raise ValueError(
            f"data.node_ids[{node_type!r}] has {len(ids)} ids but the type has {n} nodes"
        )
    return list(ids)


def split_column(data: HeteroData) -> list[str]:
    """``"train"``/``"val"``/``"test"`` per target node from the graph's masks ("" elsewhere)."""
    store = data[target_type(data)]
    out = [""] * int(store.num_nodes)
    for split in SPLITS:
        mask = store.get(f"{split}_mask")
        if mask is not None:
            for i in torch.nonzero(mask).flatten().tolist():
                out[i] = split
    return out


def predictions_frame(
    ids: Sequence[Any], proba: Tensor | np.ndarray, predicted: Tensor | np.ndarray,
    class_names: Sequence[str], *, split: Sequence[str] | None = None,
    y: Tensor | np.ndarray | None = None,
) -> pd.DataFrame:
    """The predictions table (see the module docstring).

    Args:
        ids: Node id of each row.
        proba: Class probabilities ``[N, C]``.
        predicted: Predicted class id of each row.
        class_names: Class names, index = class id.
        split: Split name of each row (default: empty).
        y: True class ids (``-1`` = unknown; default: all unknown).

    Example:
        >>> predictions_frame(["a", "b"], np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([0, 1]),
        ...                   ["x", "y"]).columns.tolist()
        ['node_id', 'split', 'label', 'predicted', 'proba_x', 'proba_y']
    """
    proba = np.asarray(proba.detach().cpu() if isinstance(proba, Tensor) else proba, dtype=float)
    predicted = np.asarray(predicted.cpu() if isinstance(predicted, Tensor) else predicted)
    names = [str(n) for n in class_names]
    n = len(ids)
    labels = [""] * n
    if y is not None:
        y_arr = np.asarray(y.cpu() if isinstance(y, Tensor) else y)
        labels = [names[v] if v >= 0 else "" for v in y_arr.tolist()]
    frame = pd.DataFrame({
        "node_id": list(ids),
        "split": list(split) if split is not None else [""] * n,
        "label": labels,
        "predicted": [names[v] for v in predicted.tolist()],
    })
    for c, name in enumerate(names):
        frame[f"proba_{name}"] = proba[:, c]
    return frame


def history_csv(history: Sequence[dict[str, Any]]) -> str:
    """Per-epoch records as CSV text (columns: the union of the records' keys, in order).

    Example:
        >>> print(history_csv([{"epoch": 1, "loss": 0.5}]).strip())
        epoch,loss
        1,0.5
    """
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()
