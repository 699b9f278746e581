"""hetero_imb: node classification on imbalanced heterogeneous graphs.

The public surface, in the order a user meets it::

    import hetero_imb as hi

    data = hi.load("freebase")                                  # or hi.from_pandas(...)
    data = hi.stratified_split(data, seed=0)
    data = hi.make_imbalance(data, ratio=10, profile="step", mode="mask", seed=0)
    result = hi.run(hi.RunConfig(model="rgcn", loss="focal", split="given"), data=data)
    print(result.metrics["test"]["macro_f1"])

Components are looked up by name in the registries ``DATASETS``, ``MODELS``,
``LOSSES``, ``SAMPLERS``, ``AUGMENTERS`` and ``SMOOTHERS``; registering a new one (``MODELS.register(name, ModelSpec(...))``,
``LOSSES.register(name)`` on a :class:`BalancedLoss` subclass, ``SAMPLERS.register(name)``
on an :class:`EmbeddingSampler` subclass, ``register_augmenter(name)`` on an
:class:`Augmenter` subclass, ``SMOOTHERS.register(name, cls)`` on a :class:`Smoother`
subclass, ``DATASETS.register(name)`` on a
:class:`DatasetLoader` subclass) makes it available to the CLI and the comparison
runner too.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .balancing.augmenters import AUGMENTERS, Augmenter
from .balancing.losses import LOSSES, BalancedLoss, build_loss
from .balancing.samplers import SAMPLERS, EmbeddingSampler
from .data.datasets import DATASETS, DatasetLoader, load
from .data.from_dgl import from_dgl
from .data.from_networkx import from_networkx
from .data.from_pandas import from_pandas
from .data.imbalance import make_imbalance
from .data.splits import official_split, stratified_kfold, stratified_split
from .data.validate import GraphValidationError, validate_graph
from .models import MODELS, Encoder, ModelSpec, NodeClassifier, build_model
from .models.smoothers import SMOOTHERS, Smoother
from .registry import Registry, UnknownComponentError
from .report.checkpoint import NotInductiveError, TrainedModel, load_run
from .report.metrics import compute_metrics, pr_curves
from .report.results import RunResult, save_run
from .training.config import RunConfig
from .training.engine import FitResult, fit
from .training.runner import prepare_data, run

__all__ = [
    "AUGMENTERS",
    "DATASETS",
    "LOSSES",
    "MODELS",
    "SAMPLERS",
    "SMOOTHERS",
    "Augmenter",
    "BalancedLoss",
    "DatasetLoader",
    "EmbeddingSampler",
    "Encoder",
    "FitResult",
    "GraphValidationError",
    "ModelSpec",
    "NotInductiveError",
    "NodeClassifier",
    "Registry",
    "RunConfig",
    "RunResult",
    "Smoother",
    "TrainedModel",
    "UnknownComponentError",
    "__version__",
    "build_loss",
    "build_model",
    "compute_metrics",
    "fit",
    "from_dgl",
    "from_networkx",
    "from_pandas",
    "load",
    "load_run",
    "make_imbalance",
    "official_split",
    "pr_curves",
    "prepare_data",
    "run",
    "save_run",
    "stratified_kfold",
    "stratified_split",
    "validate_graph",
]
