"""Argument-parsing pieces shared by the ``train`` and ``compare`` command lines.

``--help`` lists every registered component of every kind with its parameters (type,
range, default, help), rendered from the same ``ParamSpec`` declarations that
validate them, so the listing cannot drift from what is accepted.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Sequence
from typing import Any

from .._io import check_data_root
from ..balancing.augmenters import AUGMENTERS
from ..balancing.losses import LOSSES
from ..balancing.samplers import SAMPLERS
from ..data.datasets import DATASETS
from ..models import MODELS
from ..models.smoothers import SMOOTHERS
from ..paths import ENV_DATA
from ..registry import Registry

#: Every kind of component, in the order of the data flow, with the flag that names
#: one and the flag that sets its parameters. A new kind is one more line here.
COMPONENT_KINDS: tuple[tuple[Registry[Any], str, str], ...] = (
    (DATASETS, "--dataset", "--dataset-option"),
    (MODELS, "--model", "--model-param"),
    (LOSSES, "--loss", "--loss-param"),
    (SAMPLERS, "--sampler", "--sampler-param"),
    (AUGMENTERS, "--augmenter", "--augmenter-param"),
    (SMOOTHERS, "--smoother", "--smoother-param"),
)


def check_roots(roots: Sequence[str | None], *, create: bool = False,
                create_flag: str | None = "--create-root") -> None:
    """Check each data root a command will use before any work: the given ones
    (``--root`` or a config's ``root``), else ``$HETERO_IMB_DATA`` when set, which a typo
    would otherwise turn into a new, empty data root. A missing folder is refused
    unless ``create``.

    Raises:
        OutputPathError: a root cannot be used; the message names ``--root`` or the
            environment variable.
    """
    given = [r for r in roots if r is not None]
    for root in sorted(set(given)):
        check_data_root(root, create=create, create_flag=create_flag)
    env = os.environ.get(ENV_DATA)
    if len(given) < len(roots) and env:  # some run falls back to the environment
        check_data_root(env, parameter=f"${ENV_DATA}", create=create, create_flag=create_flag)


def choices_help(registry: Registry[Any]) -> str:
    """``name (summary)`` entries of a registry, for one-line help."""
    return "; ".join(f"{n} ({registry.summary(n)})" if registry.summary(n) else n for n in registry)


def component_params(registry: Registry[Any], name: str, pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """Parse ``name=value`` pairs against the parameters a component declares."""
    if not pairs:
        return {}
    return registry.parse(name, list(pairs), flag=flag)


def parse_key_values(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``key=value`` pairs with YAML-typed values (ints, floats, bools, lists)."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} expects NAME=VALUE, got {pair!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


#: How the ``compare`` command line sets a component's parameters, per kind (it has no
#: ``--model-param``-style flag for the grid's axes).
GRID_PARAMETERS = {
    "dataset": "parameters in the grid file's dataset_options",
    "model": "parameters as --models NAME[key=value,...]",
    "loss": "parameters as --losses NAME[key=value,...]",
    "sampler": "parameters as --samplers NAME[key=value,...]",
    "augmenter": "parameters with --augmenter-param NAME=VALUE or --augmenters NAME[key=value,...]",
    "smoother": "parameters with --smoother-param NAME=VALUE",
}


def components_help(parameters: dict[str, str] | None = None) -> str:
    """Every registered component of every kind, each with its parameters.

    Args:
        parameters: Per kind, how the command sets parameters (default: the ``train``
            flags, e.g. ``--loss-param NAME=VALUE``).

    Example:
        >>> "  rgcn: R-GCN" in components_help()
        True
        >>> "    hidden: int >= 1, default 64: width of the hidden layers" in components_help()
        True
    """
    blocks = ["components and their parameters (type range, default: meaning):"]
    for registry, flag, param_flag in COMPONENT_KINDS:
        how = (parameters or {}).get(registry.kind, f"parameters with {param_flag} NAME=VALUE")
        lines = [f"{registry.kind} ({flag} NAME; {how}):"]
        for name in registry:
            summary = registry.summary(name)
            lines.append(f"  {name}: {summary}" if summary else f"  {name}")
            lines.append(registry.describe(name, indent="    "))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions and flag help as usual; keeps multi-line text (the component
    listing) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" not in text:
            return super()._fill_text(text, width, indent)
        out = []
        for line in text.splitlines():
            lead = indent + " " * (len(line) - len(line.lstrip()))
            out.append(textwrap.fill(line.strip(), width, initial_indent=lead,
                                     subsequent_indent=lead + "    ") if line.strip() else "")
        return "\n".join(out)


def add_component_arguments(parser: argparse.ArgumentParser,
                            parameters: dict[str, str] | None = None) -> None:
    """Flags naming registered components; ``--help`` lists each with its parameters
    (``parameters``: see :func:`components_help`)."""
    for registry, flag, _ in COMPONENT_KINDS:
        parser.add_argument(flag, metavar="NAME",
                            help=f"one of: {', '.join(registry)} (see below)")
    parser.formatter_class = _HelpFormatter
    parser.epilog = "\n\n".join(filter(None, [parser.epilog, components_help(parameters)]))
