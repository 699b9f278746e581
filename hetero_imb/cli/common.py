"""Argument-parsing pieces shared by the ``train`` and ``compare`` command lines."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ..balancing.losses import LOSSES
from ..balancing.samplers import SAMPLERS
from ..data.datasets import DATASETS
from ..models import MODELS
from ..params import parse_params
from ..registry import Registry


def choices_help(registry: Registry[Any]) -> str:
    """``name: summary`` lines of a registry for ``--help``."""
    return "; ".join(f"{n} ({registry.summary(n)})" if registry.summary(n) else n for n in registry)


def component_params(registry: Registry[Any], name: str, pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """Parse ``name=value`` pairs against the parameters a component declares."""
    if not pairs:
        return {}
    component = registry.get(name)
    spec = getattr(component, "params", {}) or {}
    return parse_params(list(pairs), spec, owner=f"{registry.kind} {name!r}", flag=flag)


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


def add_component_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags naming registered components, with their choices in ``--help``."""
    parser.add_argument("--dataset", metavar="NAME", help="one of: " + choices_help(DATASETS))
    parser.add_argument("--model", metavar="NAME", help="one of: " + choices_help(MODELS))
    parser.add_argument("--loss", metavar="NAME", help="one of: " + choices_help(LOSSES))
    parser.add_argument("--sampler", metavar="NAME", help="one of: " + choices_help(SAMPLERS))
