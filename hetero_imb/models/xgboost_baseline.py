"""XGBoost on node features only: the feature baseline every graph model must beat.

It sees the target type's features, or — for featureless targets such as Freebase
movies — the structural features of :func:`hetero_imb.data.features.node_features`; the
result records which. Class-balanced sample weights come from ``--loss weighted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch_geometric.data import HeteroData

from ..data.graph import num_classes
from .base import MODELS, ModelSpec


class XGBoostBaseline:
    """A multi-class ``xgboost.XGBClassifier`` with early stopping on the validation set.

    Args:
        num_classes: Number of classes (all columns of ``predict_proba`` are kept even
            when a class is absent from the training labels).
        seed: ``random_state`` of the booster.
        n_estimators, max_depth, learning_rate, subsample, colsample_bytree,
        early_stopping_rounds, n_jobs: Booster settings.
    """

    def __init__(self, num_classes: int, seed: int = 0, **settings: Any):
        self.num_classes = num_classes
        self.seed = seed
        self.settings = settings
        self.rounds = 0

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        sample_weight: np.ndarray | None = None,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
    ) -> XGBoostBaseline:
        """Fit on training rows; stop early on validation log-loss when given."""
        import xgboost

        present = np.unique(y)
        if len(present) < 2:
            raise ValueError(f"XGBoost needs at least 2 classes in the training labels, got {present.tolist()}")
        # XGBoost wants labels 0..K-1: map the present classes, and expand back later.
        self._classes = present
        remap = {c: i for i, c in enumerate(present)}
        y_fit = np.array([remap[c] for c in y])
        settings = dict(self.settings)
        early = settings.pop("early_stopping_rounds", None)
        eval_set = None
        if x_val is not None and y_val is not None and early:
            keep = np.isin(y_val, present)
            eval_set = [(x_val[keep], np.array([remap[c] for c in y_val[keep]]))]
        binary = len(present) == 2
        self._model = xgboost.XGBClassifier(
            objective="binary:logistic" if binary else "multi:softprob",
            tree_method="hist",
            random_state=self.seed,
            early_stopping_rounds=early if eval_set else None,
            eval_metric="logloss" if binary else "mlogloss",
            **settings,
        )
        self._model.fit(x, y_fit, sample_weight=sample_weight, eval_set=eval_set, verbose=False)
        best = getattr(self._model, "best_iteration", None)
        self.rounds = int(best + 1) if best is not None else int(settings.get("n_estimators", 0))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities ``[N, num_classes]`` (0 for classes unseen in training)."""
        part = self._model.predict_proba(x)
        out = np.zeros((len(x), self.num_classes), dtype=np.float64)
        out[:, self._classes] = part
        return out


def _build_xgboost(data: HeteroData, *, seed: int = 0, **settings: Any) -> XGBoostBaseline:
    for key in ("hidden", "num_layers", "dropout", "lr", "weight_decay"):
        settings.pop(key, None)
    return XGBoostBaseline(num_classes(data), seed=seed, **settings)


MODELS.register(
    "xgboost",
    ModelSpec(
        builder=_build_xgboost,
        defaults={
            "n_estimators": 400,
            "max_depth": 6,
            "learning_rate": 0.1,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "early_stopping_rounds": 30,
            "n_jobs": 2,
        },
        summary="XGBoost on node features only (structural features where none exist)",
        kind="features",
    ),
)
