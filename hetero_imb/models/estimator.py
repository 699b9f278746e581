"""Feature-only estimators (XGBoost, ...): fitted on node features outside the loop.

An estimator model registers a :class:`~hetero_imb.models.base.ModelSpec` made by
:func:`estimator_spec`: its builder returns an object with
``fit(x, y, *, sample_weight, x_val, y_val)``, ``predict_proba(x)`` and optionally
``rounds`` (boosting rounds run); its fit hook, :func:`fit_on_features`, gives it the
target's node features (structural ones where the target has none, see
:func:`hetero_imb.data.features.node_features`) and returns the same
:class:`~hetero_imb.models.base.FitOutput` as the loop, so every row of a comparison
is computed the same way. The spec declares the losses it honours and how each
becomes per-row sample weights; the runner refuses the others before any work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric.data import HeteroData

from ..data.features import node_features
from ..data.graph import SPLITS, class_counts, class_names, labelled_mask, labels, split_mask
from ..params import ParamSpec
from .base import FitContext, FitOutput, ModelSpec

#: ``weights(loss_params, y_train, train_counts, class_names) -> per-row weights or None``.
SampleWeights = Callable[[Mapping[str, Any], np.ndarray, list[int], list[str]], "np.ndarray | None"]


def no_sample_weights(
    loss_params: Mapping[str, Any], y_train: np.ndarray, counts: Sequence[int], names: Sequence[str]
) -> None:
    """Plain cross-entropy: every training row counts once."""
    return None


def class_weight_sample_weights(
    loss_params: Mapping[str, Any], y_train: np.ndarray, counts: Sequence[int], names: Sequence[str]
) -> np.ndarray:
    """The class weights of the ``weighted`` loss (its ``weights`` and ``beta``), per row."""
    from ..balancing.losses import LOSSES
    from ..balancing.weights import resolve_class_weights

    params = LOSSES.validate("weighted", loss_params)
    weights = resolve_class_weights(params["weights"], names, counts, beta=params["beta"]).numpy()
    return weights[y_train]


def label_weight_sample_weights(
    loss_params: Mapping[str, Any], y_train: np.ndarray, counts: Sequence[int], names: Sequence[str]
) -> np.ndarray:
    """``weighted-bce`` for a per-row weight: the mean of the row's per-label term weights.

    ``weighted-bce`` weighs the term of label ``c`` by ``pos_weight_c`` where the row carries
    ``c`` and by 1 elsewhere. A booster fitting all labels at once takes one weight per row,
    so each row gets the mean of its ``C`` term weights (the same total weight as in the
    loss, spread evenly over the row's labels), scaled to mean 1 over the training rows.
    Exact per-label weighting would need one booster per label.

    Example:
        >>> y = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        >>> label_weight_sample_weights({}, y, [3, 1], ["a", "b"]).round(3).tolist()
        [0.667, 0.667, 1.667, 1.0]
    """
    from ..balancing.losses.multilabel import build_multilabel_loss

    loss = build_multilabel_loss("weighted-bce", class_counts=list(counts),
                                 num_samples=len(y_train), class_names=list(names), **loss_params)
    pos_weight = loss.pos_weight.numpy().astype(np.float64)
    hot = y_train > 0.5
    row = np.where(hot, pos_weight, 1.0).mean(axis=1)
    return row / row.mean()


def fit_on_features(data: HeteroData, context: FitContext) -> FitOutput:
    """Fit hook of estimator models: node features in, the same output as the loop."""
    config = context.config
    x_tensor, description = node_features(data)
    x = x_tensor.numpy()
    y = labels(data).numpy()
    labelled = labelled_mask(labels(data)).numpy()  # multi-hot rows [N, C] too
    masks = {s: split_mask(data, s).numpy() & labelled for s in SPLITS}
    counts = class_counts(data, split_mask(data, "train"))
    weights_of: SampleWeights = context.spec.losses[config.loss]
    sample_weight = weights_of(config.loss_params, y[masks["train"]], counts, class_names(data))
    estimator = context.spec.builder(data, seed=config.seed, **context.settings)
    start = time.perf_counter()
    estimator.fit(
        x[masks["train"]], y[masks["train"]], sample_weight=sample_weight,
        x_val=x[masks["val"]], y_val=y[masks["val"]],
    )
    seconds = time.perf_counter() - start
    proba = torch.as_tensor(estimator.predict_proba(x), dtype=torch.float)
    rounds = int(getattr(estimator, "rounds", 1))
    return FitOutput(proba=proba, history=[], best_epoch=0, fit_seconds=seconds, epochs=rounds,
                     features=description, model=estimator)


def estimator_spec(
    builder: Callable[..., Any],
    params: Mapping[str, ParamSpec],
    summary: str,
    sample_weights: Mapping[str, SampleWeights],
) -> ModelSpec:
    """A :class:`ModelSpec` for an estimator fitted on node features.

    Args:
        builder: ``builder(data, *, seed, **settings)`` returning the estimator.
        params: Its declared settings.
        summary: One line for ``--help`` and the README.
        sample_weights: The accepted losses, each with how it becomes sample weights
            (e.g. ``{"ce": no_sample_weights, "weighted": class_weight_sample_weights}``).

    Returns:
        The spec: fitted by :func:`fit_on_features`, no re-sampling (sampler ``none``)
        and no graph augmentation (augmenter ``none``).
    """
    return ModelSpec(builder=builder, params=params, summary=summary, fit=fit_on_features,
                     losses=dict(sample_weights), samplers=("none",), augmenters=("none",),
                     kind="features")
