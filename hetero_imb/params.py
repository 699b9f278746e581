"""Declared, validated options for every registered component (dataset, model, loss,
sampler, ...).

A component declares its options once, as a ``dict[str, ParamSpec]``; from that one
declaration the command line converts ``name=value`` strings (:func:`parse_params`),
Python/YAML callers are validated and completed with defaults (:func:`validate_params`,
the one place where options are checked) and ``--help`` and the README list them
(:meth:`ParamSpec.describe`).

Value kinds (``ParamSpec.kind``): ``"float"``, ``"int"``, ``"bool"``
(``true/false/yes/no/on/off/1/0``), ``"str"``, ``"path"`` (kept as a string);
``"floats"``/``"ints"``/``"strs"``: lists, written ``1,2.5,3``; ``"weights"``: per-class
weights, written as a scheme name (``balanced``), per-class floats (``1,2,3,4``) or
``class:weight`` pairs (``politician:4,tvshow:1``), parsed to a ``str``, a
``list[float]`` or a ``dict[str, float]`` (the owner resolves class names).
A parameter is *nullable* when its default is ``None`` (or ``nullable=True``); then
``none``/``null`` on the command line gives ``None``.

Example:
    >>> spec = {"gamma": ParamSpec("float", 2.0, "focusing parameter", low=0.0)}
    >>> parse_params(["gamma=1.5"], spec, owner="loss 'focal'")
    {'gamma': 1.5}
    >>> validate_params({}, spec, owner="loss 'focal'")
    {'gamma': 2.0}
    >>> validate_params({"gamma": -1}, spec, owner="loss 'focal'")
    Traceback (most recent call last):
    ...
    hetero_imb.params.ParamError: loss 'focal': gamma must be a float >= 0, got -1
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARAM_KINDS = ("float", "int", "bool", "str", "path", "floats", "ints", "strs", "weights")

_TYPE_WORDS = {
    "float": "a float",
    "int": "an integer",
    "bool": "a boolean (true/false)",
    "str": "a string",
    "path": "a file or folder path",
    "floats": "a comma-separated list of floats",
    "ints": "a comma-separated list of integers",
    "strs": "a comma-separated list of names",
    "weights": "a weighting scheme, per-class floats or class:weight pairs",
}
_NUMERIC = ("float", "int", "floats", "ints")
_TRUE, _FALSE, _NULL = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}, {"none", "null"}


class ParamError(ValueError):
    """A component option has an unknown name or an invalid value; one message form for
    every kind: ``"<kind> '<name>': <parameter> must be <expected>, got <given>"``, or
    ``"<kind> '<name>' has no parameter ... accepted parameters: ..."``."""


@dataclass(frozen=True)
class ParamSpec:
    """Declaration of one option of a component.

    Args:
        kind: One of :data:`PARAM_KINDS`.
        default: The value used when the option is not given.
        help: One line for listings and ``--help``.
        choices: Accepted strings (kind ``"str"``; for ``"weights"``, the scheme names).
        low: Smallest accepted value (kinds ``"float"``/``"int"``, and every item of
            ``"floats"``/``"ints"``), inclusive unless ``low_open``.
        high: Largest accepted value, inclusive unless ``high_open``.
        low_open: Exclude ``low`` itself.
        high_open: Exclude ``high`` itself.
        nullable: Whether ``None`` is accepted (default: when ``default`` is ``None``).

    Example:
        >>> ParamSpec("int", 64, "width of every layer", low=1).describe()
        'int >= 1, default 64: width of every layer'
        >>> ParamSpec("float", 0.5, "dropout rate", low=0.0, high=1.0, high_open=True).expected()
        'a float >= 0 and < 1'
    """

    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"ParamSpec kind must be one of {', '.join(PARAM_KINDS)}, got {self.kind!r}")

    @property
    def accepts_none(self) -> bool:
        """Whether ``None`` is a valid value."""
        return self.default is None if self.nullable is None else self.nullable

    def bounds(self) -> str:
        """The range as text, e.g. ``">= 0 and < 1"`` (``""`` when unbounded)."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_bound(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_bound(self.high)}")
        return " and ".join(parts)

    def expected(self) -> str:
        """What a valid value is, for messages (e.g. ``"an integer >= 1"``)."""
        if self.kind == "str" and self.choices:
            text = "one of " + ", ".join(self.choices)
        else:
            text = _TYPE_WORDS[self.kind]
            if self.bounds():
                text += (", each " if self.kind in ("floats", "ints") else " ") + self.bounds()
        return text + (" or none" if self.accepts_none else "")

    def describe(self) -> str:
        """Type, range, default (as typed on a command line) and help, e.g.
        ``"float >= 0, default 2.0: focusing parameter"``."""
        kind = self.kind
        if self.bounds():
            kind += " " + self.bounds()
        if self.choices:
            kind += " (" + "|".join(self.choices) + ")"
        if self.accepts_none:
            kind += " or none"
        return f"{kind}, default {format_value(self.default)}: {self.help}"


def _bound(value: float) -> str:
    """A range bound as text: ``0.5``, ``1``, and ``2**63`` rather than ``9.22337e+18``.

    Example:
        >>> _bound(0.5), _bound(1), _bound(2**63)
        ('0.5', '1', '2**63')
    """
    if isinstance(value, int) and value >= 2**20 and value & (value - 1) == 0:
        return f"2**{value.bit_length() - 1}"
    return f"{value:g}"


def format_value(value: Any) -> str:
    """``value`` as it is written on the command line (``none``, ``true``, ``1,2``).

    Example:
        >>> format_value((0.6, 0.4)), format_value(None), format_value(False)
        ('0.6,0.4', 'none', 'false')
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{format_value(v)}" for k, v in value.items())
    return str(value)


def describe_params(spec: Mapping[str, ParamSpec], indent: str = "  ") -> str:
    """One line per option: ``name: kind range, default ...: help``; ``"(no parameters)"`` if none.

    Example:
        >>> print(describe_params({"k": ParamSpec("int", 3, "neighbours", low=1)}))
          k: int >= 1, default 3: neighbours
    """
    if not spec:
        return f"{indent}(no parameters)"
    return "\n".join(f"{indent}{name}: {p.describe()}" for name, p in spec.items())


def unknown_param_error(name: str, accepted: Iterable[str], owner: str) -> ParamError:
    """The error for an option ``owner`` does not declare: lists every ``accepted`` one.

    Example:
        >>> print(unknown_param_error("gama", ["gamma", "alpha"], "loss 'focal'"))
        loss 'focal' has no parameter 'gama' (did you mean 'gamma'?); accepted parameters: gamma, alpha
    """
    accepted = list(accepted)
    close = difflib.get_close_matches(name, accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(accepted) if accepted else "(none)"
    return ParamError(f"{owner} has no parameter {name!r}{hint}; accepted parameters: {listed}")


def _split_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not items or any(not item for item in items):
        raise ValueError("empty item")
    return items


def _must(name: str, p: ParamSpec, given: Any) -> ValueError:
    return ValueError(f"{name} must be {p.expected()}, got {given!r}")


def _parse_string(name: str, text: str, p: ParamSpec) -> Any:
    """Convert the command-line string ``text``; raise ``ValueError(reason)`` on failure."""
    stripped = text.strip()
    if p.accepts_none and stripped.lower() in _NULL:
        return None
    if p.kind == "weights":
        return _parse_weights(name, stripped, p)
    try:
        if p.kind == "float":
            return float(stripped)
        if p.kind == "int":
            return int(stripped)
        if p.kind == "bool":
            if stripped.lower() in _TRUE | _FALSE:
                return stripped.lower() in _TRUE
            raise ValueError(stripped)
        if p.kind in ("str", "path"):
            return stripped
        convert = {"floats": float, "ints": int, "strs": str}[p.kind]
        return [convert(v) for v in _split_list(stripped)]
    except ValueError:
        raise _must(name, p, stripped) from None


def _parse_weights(name: str, text: str, p: ParamSpec) -> Any:
    schemes = ", ".join(p.choices or ())
    usage = (
        f"{name} must be "
        + (f"one of {schemes}, " if schemes else "")
        + "a comma-separated list of per-class floats (e.g. 1,2,3) or class:weight pairs "
        f"(e.g. politician:4,tvshow:1), got {text!r}"
    )
    try:
        items = _split_list(text)
    except ValueError:
        raise ValueError(usage) from None
    if any(":" in item for item in items):
        mapping: dict[str, float] = {}
        for item in items:
            key, sep, value = item.rpartition(":")
            key = key.strip()
            if not sep or not key:
                raise ValueError(f"{usage}; bad pair {item!r}")
            if key in mapping:
                raise ValueError(f"{name} lists class {key!r} twice, got {text!r}")
            try:
                mapping[key] = float(value)
            except ValueError:
                raise ValueError(f"{usage}; {value.strip()!r} in {item!r} is not a float") from None
        return mapping
    try:
        return [float(item) for item in items]
    except ValueError:
        pass
    if len(items) == 1 and p.choices and items[0] in p.choices:
        return items[0]
    raise ValueError(usage)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


_BAD = object()
#: Per scalar kind: the normalised value, or ``_BAD``.
_CONVERT = {
    "float": lambda v: float(v) if _is_real(v) and math.isfinite(float(v)) else _BAD,
    "int": lambda v: int(v) if _is_int(v) else _BAD,
    "bool": lambda v: v if isinstance(v, bool) else _BAD,
    "str": lambda v: v if isinstance(v, str) else _BAD,
    "path": lambda v: str(v) if isinstance(v, (str, os.PathLike)) and str(v) else _BAD,
    "name": lambda v: str(v) if isinstance(v, str) or _is_int(v) else _BAD,
}
_ITEM_KIND = {"floats": "float", "ints": "int", "strs": "name", "weights": "float"}


def _check_value(name: str, value: Any, p: ParamSpec) -> Any:
    """Type-check (and normalise) an already-typed value; ``ValueError(reason)`` on failure."""
    if value is None:
        if p.accepts_none:
            return None
        raise _must(name, p, None)
    if isinstance(value, str) and p.kind not in ("str", "path"):
        value = _parse_string(name, value, p)
        if value is None:
            return None
    if p.kind == "weights" and (isinstance(value, str) or isinstance(value, Mapping)):
        return _check_weights(name, value)
    if p.kind in _ITEM_KIND:
        if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
            value = value.tolist()  # numpy array / torch tensor
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise _must(name, p, value)
        out = [_CONVERT[_ITEM_KIND[p.kind]](v) for v in value]
    else:
        out = _CONVERT[p.kind](value)
    items = out if isinstance(out, list) else [out]
    if (
        any(v is _BAD for v in items)
        or (p.kind == "str" and p.choices and out not in p.choices)
        or (p.kind in _NUMERIC and not all(_within(v, p) for v in items))
    ):
        raise _must(name, p, value)
    return out


def _within(value: float, p: ParamSpec) -> bool:
    if p.low is not None and (value <= p.low if p.low_open else value < p.low):
        return False
    return p.high is None or (value < p.high if p.high_open else value <= p.high)


def _check_weights(name: str, value: str | Mapping[Any, Any]) -> Any:
    if isinstance(value, str):  # a parsed scheme name
        return value
    out: dict[Any, float] = {}
    for key, weight in value.items():
        if _CONVERT["name"](key) is _BAD:
            raise ValueError(f"{name}: class keys must be names or indices, got {key!r}")
        if _CONVERT["float"](weight) is _BAD:
            raise ValueError(f"{name}: weight of class {key!r} must be a finite float, got {weight!r}")
        out[key if isinstance(key, str) else int(key)] = float(weight)
    return out


def parse_params(
    pairs: Sequence[str],
    spec: Mapping[str, ParamSpec],
    *,
    owner: str,
    flag: str | None = None,
) -> dict[str, Any]:
    """Convert command-line ``name=value`` strings into typed values (only those given;
    :func:`validate_params` fills in defaults).

    Args:
        pairs: Strings such as ``["gamma=2", "alpha=balanced"]``.
        spec: The component's declared options.
        owner: The component, for messages (e.g. ``"loss 'focal'"``).
        flag: The command-line flag, for messages (e.g. ``"--loss-param"``).

    Raises:
        ParamError: no ``=``, an option given twice, an unknown option (the message
            lists the accepted ones) or a bad value, e.g. ``"loss 'focal': gamma must
            be a float >= 0, got 'abc' (--loss-param 'gamma=abc')"``.
    """
    if isinstance(pairs, str):
        raise TypeError(
            f"pairs must be a sequence of 'name=value' strings, got the string {pairs!r}"
        )
    out: dict[str, Any] = {}
    for pair in pairs:
        where = f" ({flag} {str(pair)!r})" if flag else f" (from {str(pair)!r})"
        name, sep, text = str(pair).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParamError(f"{owner}: expected name=value, got {str(pair)!r}{where}")
        if name not in spec:
            raise ParamError(f"{unknown_param_error(name, spec, owner)}{where}")
        if name in out:
            raise ParamError(f"{owner}: {name} is given more than once{where}")
        try:
            out[name] = _check_value(name, _parse_string(name, text, spec[name]), spec[name])
        except ValueError as err:
            raise ParamError(f"{owner}: {err}{where}") from None
    return out


def validate_params(
    params: Mapping[str, Any], spec: Mapping[str, ParamSpec], *, owner: str
) -> dict[str, Any]:
    """Check keyword options against ``spec`` and fill in the defaults.

    The one place where a component's options are checked. Strings are accepted for
    every kind and converted as on the command line, so values read from YAML or typed
    by hand both work.

    Args:
        params: ``{name: value}`` (e.g. the ``**params`` of a constructor).
        spec: The component's declared options.
        owner: The component, for messages (e.g. ``"loss 'focal'"``).

    Returns:
        A new dict with every declared option, given values checked and normalised
        (ints given for floats become floats, tensors become lists, ...).

    Raises:
        ParamError: Unknown option (the message names ``owner``, the option and the
            accepted options) or invalid value
            (``"model 'rgcn': hidden must be an integer >= 1, got 0"``).
    """
    for name in params:
        if name not in spec:
            raise unknown_param_error(name, spec, owner)
    out: dict[str, Any] = {}
    for name, p in spec.items():
        if name not in params:
            out[name] = p.default
            continue
        try:
            out[name] = _check_value(name, params[name], p)
        except ValueError as err:
            raise ParamError(f"{owner}: {err}") from None
    return out
