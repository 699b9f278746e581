"""hetero_imb: node classification on imbalanced heterogeneous graphs."""

from __future__ import annotations

__version__ = "0.1.0"

from .datasets import DATASETS, load
from .registry import Registry, UnknownComponentError

__all__ = ["DATASETS", "Registry", "UnknownComponentError", "__version__", "load"]
