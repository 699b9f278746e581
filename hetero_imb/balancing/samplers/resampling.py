"""Random re-sampling of the rows: ``none``, ``oversample-random`` and ``undersample``."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from ...params import ParamSpec
from .base import TARGET_RATIO, EmbeddingSampler, SyntheticRows, draw_per_class, register_sampler

__all__ = ["IdentitySampler", "RandomOverSampler", "RandomUnderSampler"]


@register_sampler("none")
class IdentitySampler(EmbeddingSampler):
    """No re-sampling: the training rows as they are."""

    params: ClassVar[dict[str, ParamSpec]] = {}
    multilabel: ClassVar[bool | None] = None  # fits single- and multi-label runs

    def expected_counts(self, counts: list[int]) -> list[int]:
        """Per-class counts a loss sees after this sampler (see balancing/compose.py)."""
        return list(counts)

    def _resample(self, z, y, y_cpu, index, gen):
        return z, y, None


@register_sampler("oversample-random")
class RandomOverSampler(EmbeddingSampler):
    """Repeat rows of small classes (drawn with replacement) up to target_ratio x the largest.

    Every class ``c`` with ``0 < n_c < floor(target_ratio * max_c n_c)`` gets that many
    rows in total: its original rows plus copies of rows drawn uniformly with
    replacement. Copies are appended after the original rows.
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "target_ratio": TARGET_RATIO,
    }

    def expected_counts(self, counts: list[int]) -> list[int]:
        """Per-class counts a loss sees after this sampler (see balancing/compose.py)."""
        return self._filled_counts(list(counts))

    def _resample(self, z, y, y_cpu, index, gen):
        need = self._oversample_targets(self._counts(y_cpu))
        if not need:
            return z, y, None
        sources = draw_per_class(y_cpu, need, gen)
        self.last_synthetic = SyntheticRows(
            sources, sources.clone(), torch.zeros(sources.numel()), torch.zeros_like(sources, dtype=torch.bool)
        )
        rows = sources.to(z.device)
        return torch.cat([z, z[rows]]), torch.cat([y, y[rows]]), None


@register_sampler("undersample")
class RandomUnderSampler(EmbeddingSampler):
    """Drop rows of large classes at random down to target_ratio x the smallest class count.

    Each step keeps, per class, ``min(n_c, max(1, floor(target_ratio * min_c n_c)))``
    rows drawn without replacement (the minimum is over classes present among the
    rows); a fresh subset is drawn at every call.

    With ``reweight=True`` (default) every kept row of class ``c`` gets the weight
    ``n_c / kept_c``, so the weighted loss ``sum(w * l) / sum(w)`` is an unbiased
    estimate of the loss on all rows, computed from fewer rows: the model still
    learns the true class prior and its predicted probabilities keep it (each step
    sees every class in balanced numbers, but the decision rule is not shifted).
    With ``reweight=False`` the weights are
    ``None`` and the model learns the balanced prior of the kept rows (the classic
    random under-sampling, which shifts predictions towards the small classes).
    """

    params: ClassVar[dict[str, ParamSpec]] = {
        "target_ratio": ParamSpec(
            "float", 1.0, "large classes keep target_ratio x the smallest class count",
            low=0.0, low_open=True,
        ),
        "reweight": ParamSpec(
            "bool", True, "weight kept rows by n_c / kept_c to keep the true class prior"
        ),
    }

    #: Input-row positions kept by the last ``resample`` call (sorted).
    last_kept: Tensor

    def _undersampled_counts(self, counts: list[int]) -> list[int]:
        if self.get_params()["reweight"]:  # row weights n_c / kept_c restore the counts
            return counts
        keep = max(1, math.floor(self.get_params()["target_ratio"] * min(n for n in counts if n)))
        return [min(n, keep) for n in counts]

    def expected_counts(self, counts: list[int]) -> list[int]:
        """Per-class counts a loss sees after this sampler (see balancing/compose.py)."""
        return self._undersampled_counts(list(counts))

    def _resample(self, z, y, y_cpu, index, gen):
        counts = self._counts(y_cpu)
        present = counts[counts > 0]
        if present.numel() == 0:
            self.last_kept = torch.arange(0)
            return z, y, None
        keep_per_class = max(1, math.floor(self.params_["target_ratio"] * int(present.min())))
        kept_parts = []
        kept_counts = torch.zeros_like(counts)
        for c, n_c in enumerate(counts.tolist()):
            if n_c == 0:
                continue
            rows = torch.nonzero(y_cpu == c).flatten()
            if n_c > keep_per_class:
                rows = rows[torch.randperm(n_c, generator=gen)[:keep_per_class]]
            kept_parts.append(rows)
            kept_counts[c] = rows.numel()
        kept = torch.sort(torch.cat(kept_parts)).values
        self.last_kept = kept
        rows = kept.to(z.device)
        weight = None
        if self.params_["reweight"]:
            per_class = counts.double() / kept_counts.clamp_min(1).double()
            weight = per_class[y_cpu[kept]].to(device=z.device, dtype=z.dtype)
        return z[rows], y[rows], weight
