"""Multi-label re-sampling of the rows: ``ml-ros`` (label-set-aware random oversampling).

ML-ROS (Charte, Rivera, del Jesus & Herrera, "Addressing imbalance in multilabel
classification: Measures and random resampling algorithms", Neurocomputing 163,
2015): the imbalance ratio of label ``l`` is ``IRLbl(l) = max_k n_k / n_l`` and
``MeanIR`` its mean over the labels. Every label with ``IRLbl > MeanIR`` is a minority
label with a *bag*: the rows that carry it. Until ``percentage`` % of the rows have
been added, the bags take turns cloning one of their rows drawn at random (the row
keeps its whole label set, so co-occurring labels grow too); a bag leaves once its
label's ``IRLbl`` falls to ``MeanIR`` (``MeanIR`` is fixed at the start).

Here the rows are target-node embeddings and the clones are appended after them, as
for the single-label over-samplers; the plan is drawn afresh at every step from the
rows given (all training nodes in full-batch training, the seed nodes of a batch).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ...params import ParamSpec
from .base import EmbeddingSampler, SyntheticRows, register_sampler

__all__ = ["MLROSSampler", "MultiLabelSampler", "ml_ros_plan"]


def ml_ros_plan(hot: np.ndarray, budget: int, draws: np.ndarray) -> np.ndarray:
    """Rows to clone by ML-ROS.

    Args:
        hot: Multi-hot labels of the rows ``[n, C]`` (bool or 0/1).
        budget: Number of clones to add.
        draws: Uniform numbers in ``[0, 1)``, at least ``budget`` of them (one per clone).

    Returns:
        Row positions of the clones ``[<= budget]`` (fewer once no label is a minority).

    Example:
        >>> hot = np.array([[1, 0], [1, 0], [1, 0], [1, 1]])
        >>> ml_ros_plan(hot, 2, np.array([0.5, 0.5])).tolist()  # one clone of row 3 balances
        [3]
    """
    hot = np.asarray(hot).astype(bool)
    counts = hot.sum(axis=0).astype(np.float64)
    present = counts > 0
    if budget <= 0 or present.sum() < 2:
        return np.zeros(0, dtype=np.int64)
    ir = np.where(present, counts.max() / np.maximum(counts, 1), 0.0)
    mean_ir = ir[present].mean()
    bags = [int(k) for k in np.flatnonzero(present & (ir > mean_ir))]
    rows = {k: np.flatnonzero(hot[:, k]) for k in bags}
    plan: list[int] = []
    while bags and len(plan) < budget:
        for k in list(bags):
            if len(plan) >= budget:
                break
            row = int(rows[k][min(int(draws[len(plan)] * len(rows[k])), len(rows[k]) - 1)])
            plan.append(row)
            counts += hot[row]
            if counts.max() / counts[k] <= mean_ir:
                bags.remove(k)
    return np.asarray(plan, dtype=np.int64)


class MultiLabelSampler(EmbeddingSampler):
    """Base of the multi-label samplers: rows carry multi-hot labels ``[n, C]`` of 0/1.

    ``fit`` and ``resample`` check the multi-hot labels instead of class ids; a
    subclass implements ``_resample(z, y, hot, index, gen)`` (``hot``: a bool CPU copy)
    and ``expected_label_counts``.
    """

    multilabel: ClassVar[bool] = True

    def _check_rows(self, y: Any, n: int, what: str) -> Tensor:
        if not isinstance(y, Tensor) or y.dim() != 2 or y.size(0) != n:
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"{self.owner}: {what} must be multi-hot [{n}, C] (a multi-label "
                             f"sampler), got {shape}")
        y_cpu = y.detach().cpu()
        if not bool(((y_cpu == 0) | (y_cpu == 1)).all()):
            raise ValueError(f"{self.owner}: {what} entries must be 0 or 1 (pass labelled rows only)")
        return y_cpu > 0.5

    def fit(self, data: HeteroData, train_index: Tensor, y_train: Tensor, *,
            seed: int = 0) -> MultiLabelSampler:
        """Validate the options and the training rows (see :meth:`EmbeddingSampler.fit`)."""
        self.params_ = self.get_params()
        train_index = torch.as_tensor(train_index).reshape(-1).long().cpu()
        if train_index.numel() == 0:
            raise ValueError(f"{self.owner}: there are no training nodes to re-sample")
        hot = self._check_rows(y_train, train_index.numel(), "y_train")
        self.num_classes_ = hot.size(1)
        self.train_index_ = train_index
        self.generator_ = torch.Generator().manual_seed(int(seed))
        return self

    def resample(self, z: Tensor, y: Tensor, *, index: Tensor | None = None,
                 generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
        """Re-sample the rows of one step (see :meth:`EmbeddingSampler.resample`)."""
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{self.owner} is not fitted; call fit(data, train_index, y_train) first")
        if not isinstance(z, Tensor) or z.dim() != 2:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"{self.owner}: z must be a 2-D tensor [rows, dim], got {shape}")
        hot = self._check_rows(y, z.size(0), "y")
        if hot.size(1) != self.num_classes_:
            raise ValueError(f"{self.owner}: y has {hot.size(1)} labels but fit saw {self.num_classes_}")
        index = self.train_index_ if index is None else torch.as_tensor(index).reshape(-1).long().cpu()
        self.last_synthetic = SyntheticRows.empty()
        return self._resample(z, y, hot, index, generator or self.generator_)

    def expected_label_counts(self, hot: Tensor, *, seed: int = 0) -> tuple[list[int], int]:
        """Per-label positives and rows the loss sees after re-sampling ``hot`` ``[n, C]``."""
        raise NotImplementedError


@register_sampler("ml-ros")
class MLROSSampler(MultiLabelSampler):
    """ML-ROS (Charte et al. 2015): clone rows of minority labels' bags, whole label sets kept (multi-label)."""

    params: ClassVar[dict[str, ParamSpec]] = {
        "percentage": ParamSpec("float", 25.0, "rows added, in % of the rows given", low=0.0,
                                low_open=True),
    }

    def _plan(self, hot: Tensor, gen: torch.Generator) -> Tensor:
        budget = int(hot.size(0) * self.get_params()["percentage"] / 100)
        draws = torch.rand(max(budget, 1), generator=gen, dtype=torch.float64).numpy()
        return torch.from_numpy(ml_ros_plan(hot.numpy(), budget, draws))

    def expected_label_counts(self, hot: Tensor, *, seed: int = 0) -> tuple[list[int], int]:
        """Counts after one ML-ROS plan on ``hot`` (a seeded draw; the plan is nearly fixed).

        Example:
            >>> hot = torch.tensor([[1, 0], [1, 0], [1, 0], [1, 1]]).bool()
            >>> MLROSSampler(percentage=50).expected_label_counts(hot)
            ([5, 2], 5)
        """
        plan = self._plan(hot.bool().cpu(), torch.Generator().manual_seed(int(seed)))
        hot = hot.bool().cpu()
        rows = torch.cat([hot, hot[plan]])
        return rows.sum(dim=0).tolist(), int(rows.size(0))

    def _resample(self, z, y, hot, index, gen):
        plan = self._plan(hot, gen)
        if plan.numel() == 0:
            return z, y, None
        self.last_synthetic = SyntheticRows(plan, plan.clone(), torch.zeros(plan.numel()),
                                            torch.zeros(plan.numel(), dtype=torch.bool))
        rows = plan.to(z.device)
        return torch.cat([z, z[rows]]), torch.cat([y, y[rows]]), None
