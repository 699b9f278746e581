"""XGBoost on node features only: the feature baseline every graph model must beat.

It sees the target type's features, or — for featureless targets such as Freebase
movies — the structural features of :func:`hetero_imb.data.features.node_features`; the
result records which. Class-balanced sample weights come from ``--loss weighted``.
With ``--sampler smote|smote-tomek|adasyn`` the training rows are re-sampled first
(:func:`hetero_imb.balancing.samplers.feature_rows.resampled_graph`); class weights
then follow the re-sampled counts.

On multi-label graphs (multi-hot ``y`` ``[N, C]``) the booster fits the 0/1 matrix
natively: one ``binary:logistic`` output per label (XGBoost >= 2, ``tree_method="hist"``),
early stopping on the mean validation log-loss over the labels. Losses: ``bce`` (``ce``
reads as ``bce`` there) and ``weighted-bce``, which becomes per-row sample weights — the
mean of the row's per-label term weights, see
:func:`~hetero_imb.models.estimator.label_weight_sample_weights` (an approximation:
XGBoost takes one weight per row, not one per label).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from torch_geometric.data import HeteroData

from ..balancing.samplers import SAMPLERS, feature_row_samplers
from ..balancing.samplers.feature_rows import resampled_graph
from ..data.features import node_features
from ..data.graph import num_classes, target_type
from ..params import ParamSpec
from .base import COMMON_PARAMS, MODELS, FitContext, FitOutput, unused_params
from .estimator import (
    class_weight_sample_weights,
    estimator_spec,
    fit_on_features,
    label_weight_sample_weights,
    no_sample_weights,
)


class XGBoostBaseline:
    """A multi-class (or multi-label) ``xgboost.XGBClassifier`` with early stopping on the
    validation set.

    Args:
        num_classes: Number of classes (all columns of ``predict_proba`` are kept even
            when a class is absent from the training labels); for a multi-hot ``y``
            ``[N, C]`` the number of labels ``C``.
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
        """Fit on training rows; stop early on validation log-loss when given.

        ``y`` holds class ids ``[n]`` or, for multi-label, 0/1 rows ``[n, C]``.
        """
        if np.ndim(y) == 2:
            return self._fit_multilabel(x, y, sample_weight=sample_weight, x_val=x_val, y_val=y_val)
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

    def _fit_multilabel(self, x: np.ndarray, y: np.ndarray, *, sample_weight: np.ndarray | None,
                        x_val: np.ndarray | None, y_val: np.ndarray | None) -> XGBoostBaseline:
        """Multi-hot ``y``: one ``binary:logistic`` output per label, fitted together."""
        import xgboost

        if y.shape[1] != self.num_classes:
            raise ValueError(f"y has {y.shape[1]} label columns, expected num_classes={self.num_classes}")
        self._classes = None
        settings = dict(self.settings)
        early = settings.pop("early_stopping_rounds", None)
        eval_set = [(x_val, (y_val > 0.5).astype(int))] if x_val is not None and \
            y_val is not None and len(y_val) and early else None
        self._model = xgboost.XGBClassifier(
            objective="binary:logistic", tree_method="hist", random_state=self.seed,
            early_stopping_rounds=early if eval_set else None, eval_metric="logloss", **settings,
        )
        self._model.fit(x, (y > 0.5).astype(int), sample_weight=sample_weight, eval_set=eval_set,
                        verbose=False)
        best = getattr(self._model, "best_iteration", None)
        self.rounds = int(best + 1) if best is not None else int(settings.get("n_estimators", 0))
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities ``[N, num_classes]`` (0 for classes unseen in training); for
        multi-label, one independent probability per label."""
        part = self._model.predict_proba(x)
        if self._classes is None:
            return np.asarray(part, dtype=np.float64)
        out = np.zeros((len(x), self.num_classes), dtype=np.float64)
        out[:, self._classes] = part
        return out


def _build_xgboost(data: HeteroData, *, seed: int = 0, **settings: Any) -> XGBoostBaseline:
    own = {k: v for k, v in settings.items() if k in XGBOOST_OWN_PARAMS}
    return XGBoostBaseline(num_classes(data), seed=seed, **own)


_FRACTION = {"low": 0.0, "low_open": True, "high": 1.0}
#: XGBoost's own settings (passed to ``xgboost.XGBClassifier``).
XGBOOST_OWN_PARAMS: dict[str, ParamSpec] = {
    "n_estimators": ParamSpec("int", 400, "boosting rounds (at most)", low=1),
    "max_depth": ParamSpec("int", 6, "maximum tree depth", low=1),
    "learning_rate": ParamSpec("float", 0.1, "shrinkage per round", low=0.0, low_open=True),
    "subsample": ParamSpec("float", 0.8, "fraction of rows per tree", **_FRACTION),
    "colsample_bytree": ParamSpec("float", 0.8, "fraction of columns per tree", **_FRACTION),
    "early_stopping_rounds": ParamSpec(
        "int", 30, "stop after this many rounds without a better validation log-loss (0: off)",
        low=0,
    ),
    "n_jobs": ParamSpec("int", 2, "threads", low=1),
}

def _fit_xgboost(data: HeteroData, context: FitContext) -> FitOutput:
    """Fit on the node features, re-sampled first with a feature-row sampler."""
    config = context.config
    if config.sampler == "none":
        return fit_on_features(data, context)
    x, description = node_features(data)
    sampler = SAMPLERS.get(config.sampler)(**config.sampler_params)
    out = fit_on_features(resampled_graph(data, x, sampler, seed=config.seed), context)
    n = data[target_type(data)].num_nodes
    return dataclasses.replace(out, proba=out.proba[:n], features=description)


MODELS.register(
    "xgboost",
    dataclasses.replace(estimator_spec(
        _build_xgboost,
        {**XGBOOST_OWN_PARAMS, **unused_params(COMMON_PARAMS, "xgboost")},
        summary="XGBoost on node features only (structural features where none exist)",
        # class-balanced sample weights come from --loss weighted (weighted-bce: multi-label)
        sample_weights={"ce": no_sample_weights, "weighted": class_weight_sample_weights,
                        "bce": no_sample_weights, "weighted-bce": label_weight_sample_weights},
    ), fit=_fit_xgboost, samplers=("none", *feature_row_samplers()), resamples_features=True),
)
