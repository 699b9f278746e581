"""``--plugin MODULE``: import user modules that register components, before anything
else is resolved, so that custom models, losses, samplers and datasets appear in
``--help``, pass validation and run in grids.

A plugin is any importable module (on ``PYTHONPATH`` or installed) whose import
registers components, e.g.::

    # my_plugin.py
    from hetero_imb.balancing.losses import register_loss
    ...

    python -m hetero_imb.train --plugin my_plugin --loss label-smoothing

The module names are saved in the run's config (``plugins``), so comparison workers
and :func:`hetero_imb.load_run` import them again.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..registry import import_plugins

__all__ = ["add_plugin_argument", "preload_plugins"]


def add_plugin_argument(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--plugin MODULE`` flag (shown in ``--help``)."""
    parser.add_argument(
        "--plugin", action="append", metavar="MODULE", default=None,
        help="import MODULE first (it registers custom components); repeatable",
    )


def preload_plugins(argv: Sequence[str]) -> list[str]:
    """Import the ``--plugin`` modules named in ``argv`` and return their names.

    Raises:
        ValueError: a module cannot be imported (the message names it).

    Example:
        >>> preload_plugins(["--plugin", "json", "--model", "gcn"])
        ['json']
    """
    parser = argparse.ArgumentParser(add_help=False)
    add_plugin_argument(parser)
    known, _ = parser.parse_known_args(list(argv))
    modules = list(known.plugin or [])
    import_plugins(modules)
    return modules
