"""The model zoo: every model is an encoder plus a linear head, registered in ``MODELS``.

Registered neural models: ``gcn``, ``gat`` (homogeneous projection), ``rgcn``,
``han``, ``hgt``, ``sehgnn``, ``metapath2vec``, ``mlp``; plus the feature baseline ``xgboost``
label propagation ``lp`` (no learning; :mod:`.label_propagation`) and ``label-lr``,
a logistic regression on meta-path label aggregates (:mod:`.label_aggregation`). Each declares
its settings as ``params`` on its :class:`ModelSpec`, and how it is fitted as hooks
there (the shared loop by default; :mod:`.estimator` for feature baselines).
"""

# Models register themselves on import (each hetero_imb.models.<name> module).
from . import han, hgt, homogeneous, label_aggregation, label_propagation, metapath2vec, mlp, rgcn, sehgnn, xgboost_baseline  # noqa: E402,F401,I001
from .base import (
    COMMON_DEFAULTS,
    COMMON_PARAMS,
    MODELS,
    Encoder,
    FitContext,
    FitOutput,
    ModelSpec,
    NodeClassifier,
    build_model,
    with_defaults,
)
from .inputs import NodeInput  # noqa: E402

__all__ = [
    "COMMON_DEFAULTS",
    "COMMON_PARAMS",
    "MODELS",
    "Encoder",
    "FitContext",
    "FitOutput",
    "ModelSpec",
    "NodeClassifier",
    "NodeInput",
    "build_model",
    "with_defaults",
]
