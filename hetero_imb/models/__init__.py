"""The model zoo: every model is an encoder plus a linear head, registered in ``MODELS``.

Registered neural models: ``gcn``, ``gat`` (homogeneous projection), ``rgcn``,
``han``, ``hgt``, ``sehgnn``, ``metapath2vec``, ``mlp``; plus the feature baseline ``xgboost``.
"""

# Models register themselves on import (each hetero_imb.models.<name> module).
from . import han, hgt, homogeneous, metapath2vec, mlp, rgcn, sehgnn, xgboost_baseline  # noqa: E402,F401,I001
from .base import COMMON_DEFAULTS, MODELS, Encoder, ModelSpec, NodeClassifier, build_model
from .inputs import NodeInput  # noqa: E402

__all__ = [
    "COMMON_DEFAULTS",
    "MODELS",
    "Encoder",
    "ModelSpec",
    "NodeClassifier",
    "NodeInput",
    "build_model",
]
