"""Graph augmenters: methods that change the training graph, registered in ``AUGMENTERS``.

* ``"none"``: train on the graph as it is (the default);
* ``"bat"``: balanced topological augmentation (:mod:`.bat`, full-batch only);
* ``"graphens"``: ego-network synthesis of minor nodes (:mod:`.graphens`, full-batch only);
* ``"graphsha"``: harder minor samples with SemiMixup (:mod:`.graphsha`, full-batch only).

The two synthesis methods append labelled target nodes (:mod:`.synthesis`).

:mod:`.base` holds :class:`Augmenter` (the hooks the training loop calls:
``prepare``, ``fit``, ``on_epoch``, ``augment``), ``AUGMENTERS`` and
:func:`register_augmenter`. A new augmenter is one module here (or anywhere) with one
:func:`register_augmenter` decorator; every module of this package is imported with it.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import AUGMENTERS, Augmenter, NoAugmenter, build_augmenter, register_augmenter

# The built-in augmenters register in this order: ``--help``, README table.
from .bat import BATAugmenter
from .graphens import GraphENSAugmenter
from .graphsha import GraphSHAAugmenter

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
del _module

__all__ = [
    "AUGMENTERS",
    "Augmenter",
    "BATAugmenter",
    "GraphENSAugmenter",
    "GraphSHAAugmenter",
    "NoAugmenter",
    "build_augmenter",
    "register_augmenter",
]
