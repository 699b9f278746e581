"""Early stopping on the validation score, with the best weights kept.

:class:`EarlyStopping` is what the shared loop (:func:`hetero_imb.training.engine.fit`)
uses; it is importable from :mod:`hetero_imb.training.engine` too.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Keeps the best validation score, its epoch and a copy of its weights.

    Args:
        patience: Updates (evaluations) without improvement before
            :attr:`should_stop` turns true (``None`` or 0: never).
        floor: Patience is not counted while the best score is at or below ``floor``
            (the band of chance-level scores, see
            :func:`~hetero_imb.training.diagnostics.chance_floor`): an untrained
            model's validation score is noise, and an early lucky peak of it must not
            start the countdown (docs/benchmarks_hin.md, "stalls"). Best weights are
            kept as usual.

    Example:
        >>> stopper = EarlyStopping(patience=2)
        >>> model = nn.Linear(2, 2)
        >>> [stopper.update(score, epoch, model) for epoch, score in enumerate([0.5, 0.4, 0.3], 1)]
        [True, False, False]
        >>> stopper.best_epoch, stopper.should_stop
        (1, True)
    """

    def __init__(self, patience: int | None, floor: float = float("-inf")):
        self.patience = patience
        self.floor = floor
        self.best_score = -1.0
        self.best_epoch = 0
        self.best_state: dict[str, Tensor] | None = None
        self.since_best = 0

    def update(self, score: float, epoch: int, model: nn.Module) -> bool:
        """Record ``score`` of ``epoch``; return whether it is the best so far."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.since_best = score, epoch, 0
            self._keep(model.state_dict())
            return True
        if self.best_score > self.floor:
            self.since_best += 1
        return False

    def _keep(self, state: dict[str, Tensor]) -> None:
        """Copy ``state`` into the kept buffers (allocated once; a deepcopy of the state
        dict on every improving epoch cost ~3 ms on Freebase R-GCN, copy_ ~1.3 ms)."""
        best = self.best_state
        if best is None or best.keys() != state.keys() or any(
                best[k].shape != v.shape or best[k].dtype != v.dtype for k, v in state.items()):
            self.best_state = {k: v.detach().clone() for k, v in state.items()}
            return
        with torch.no_grad():
            for key, value in state.items():
                best[key].copy_(value)

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs have passed without improvement."""
        return bool(self.patience) and self.since_best >= self.patience
