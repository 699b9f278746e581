"""Declared, validated options for registered components (losses, samplers, ...).

A component declares its options once, as a ``dict[str, ParamSpec]``; from that one
declaration the command line converts ``name=value`` strings (:func:`parse_params`),
Python/YAML callers are validated and completed with defaults (:func:`validate_params`)
and ``--help``-style listings are written (:func:`describe_params`).

Value kinds (``ParamSpec.kind``):

* ``"float"``, ``"int"``, ``"bool"`` (``true/false/yes/no/on/off/1/0``), ``"str"``;
* ``"floats"``: a list of floats, written ``1,2.5,3``;
* ``"strs"``: a list of strings, written ``politician,tvshow``;
* ``"weights"``: per-class weights, written as a scheme name (``balanced``), a list
  of per-class floats (``1,2,3,4``) or ``class:weight`` pairs
  (``politician:4,tvshow:1``; a key is a class name or a class index). Parsed to a
  ``str``, a ``list[float]`` or a ``dict[str, float]``; the owner resolves names.

A parameter is *nullable* when its default is ``None`` (or ``nullable=True``); then
``none``/``null`` on the command line gives ``None``.

Example:
    >>> spec = {"gamma": ParamSpec("float", 2.0, "focusing parameter", low=0.0)}
    >>> parse_params(["gamma=1.5"], spec, owner="loss 'focal'")
    {'gamma': 1.5}
    >>> validate_params({}, spec, owner="loss 'focal'")
    {'gamma': 2.0}
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARAM_KINDS = ("float", "int", "bool", "str", "floats", "strs", "weights")

_TYPE_WORDS = {
    "float": "a float",
    "int": "an integer",
    "bool": "a boolean (true/false)",
    "str": "a string",
    "floats": "a comma-separated list of floats",
    "strs": "a comma-separated list of names",
    "weights": "a weighting scheme, per-class floats or class:weight pairs",
}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NULL = {"none", "null"}


class ParamError(ValueError):
    """A component option has an unknown name or an invalid value."""


@dataclass(frozen=True)
class ParamSpec:
    """Declaration of one option of a component.

    Args:
        kind: One of :data:`PARAM_KINDS`.
        default: The value used when the option is not given.
        help: One line for listings and ``--help``.
        choices: Accepted strings (kind ``"str"``; for ``"weights"``, the scheme names).
        low: Smallest accepted value (kinds ``"float"``/``"int"``), inclusive unless
            ``low_open``.
        high: Largest accepted value, inclusive unless ``high_open``.
        low_open: Exclude ``low`` itself.
        high_open: Exclude ``high`` itself.
        nullable: Whether ``None`` is accepted (default: when ``default`` is ``None``).
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
            raise ValueError(
                f"ParamSpec kind must be one of {', '.join(PARAM_KINDS)}, got {self.kind!r}"
            )

    @property
    def accepts_none(self) -> bool:
        """Whether ``None`` is a valid value."""
        return self.default is None if self.nullable is None else self.nullable

    def describe(self) -> str:
        """E.g. ``"float >= 0, default 2.0: focusing parameter"``."""
        kind = self.kind
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        if bounds:
            kind += " " + " and ".join(bounds)
        if self.choices:
            kind += " (" + "|".join(self.choices) + ")"
        return f"{kind}, default {self.default!r}: {self.help}"


def describe_params(spec: Mapping[str, ParamSpec], indent: str = "  ") -> str:
    """One line per option: ``name (kind, default ...): help``; ``"(no parameters)"`` if none."""
    if not spec:
        return f"{indent}(no parameters)"
    return "\n".join(f"{indent}{name}: {p.describe()}" for name, p in spec.items())


def _unknown(name: str, spec: Mapping[str, ParamSpec], owner: str) -> ParamError:
    accepted = ", ".join(spec) if spec else "(none)"
    close = difflib.get_close_matches(name, list(spec), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ParamError(f"{owner} has no parameter {name!r}{hint}; accepted parameters: {accepted}")


def _split_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not items or any(not item for item in items):
        raise ValueError("empty item")
    return items


def _parse_string(name: str, text: str, p: ParamSpec) -> Any:
    """Convert the command-line string ``text``; raise ``ValueError(reason)`` on failure."""
    stripped = text.strip()
    if p.accepts_none and stripped.lower() in _NULL:
        return None
    must = f"{name} must be {_TYPE_WORDS[p.kind]}"
    try:
        if p.kind == "float":
            return float(stripped)
        if p.kind == "int":
            return int(stripped)
        if p.kind == "bool":
            low = stripped.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(stripped)
        if p.kind == "str":
            return stripped
        if p.kind == "floats":
            return [float(v) for v in _split_list(stripped)]
        if p.kind == "strs":
            return _split_list(stripped)
    except ValueError:
        raise ValueError(must) from None
    # weights
    return _parse_weights(name, stripped, p)


def _parse_weights(name: str, text: str, p: ParamSpec) -> Any:
    schemes = ", ".join(p.choices or ())
    usage = (
        f"{name} must be "
        + (f"one of {schemes}, " if schemes else "")
        + "a comma-separated list of per-class floats (e.g. 1,2,3) or class:weight pairs "
        "(e.g. politician:4,tvshow:1)"
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
                raise ValueError(f"{name} lists class {key!r} twice")
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


def _check_value(name: str, value: Any, p: ParamSpec) -> Any:
    """Type-check (and normalise) an already-typed value; ``ValueError(reason)`` on failure."""
    if value is None:
        if p.accepts_none:
            return None
        raise ValueError(f"{name} must be {_TYPE_WORDS[p.kind]}, not None")
    if isinstance(value, str) and p.kind != "str":
        value = _parse_string(name, value, p)
        if value is None:
            return None
    must = f"{name} must be {_TYPE_WORDS[p.kind]}, got {value!r}"
    if p.kind == "float":
        if not _is_real(value):
            raise ValueError(must)
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    elif p.kind == "int":
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise ValueError(must)
        value = int(value)
    elif p.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(must)
    elif p.kind == "str":
        if not isinstance(value, str):
            raise ValueError(must)
        if p.choices and value not in p.choices:
            raise ValueError(f"{name} must be one of {', '.join(p.choices)}, got {value!r}")
    elif p.kind == "floats":
        value = _as_float_list(value, must)
    elif p.kind == "strs":
        if not isinstance(value, Sequence) or not value:
            raise ValueError(must)
        if not all(
            isinstance(v, (str, numbers.Integral)) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(must)
        value = [str(v) for v in value]
    else:  # weights
        value = _check_weights(name, value, p, must)
    if p.kind in ("float", "int"):
        _check_bounds(name, value, p)
    return value


def _as_float_list(value: Any, must: str) -> list[float]:
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()  # numpy array / torch tensor
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise ValueError(must)
    if not all(_is_real(v) for v in value):
        raise ValueError(must)
    out = [float(v) for v in value]
    if not all(math.isfinite(v) for v in out):
        raise ValueError(must)
    return out


def _check_weights(name: str, value: Any, p: ParamSpec, must: str) -> Any:
    if isinstance(value, str):  # a parsed scheme name
        return value
    if isinstance(value, Mapping):
        out: dict[Any, float] = {}
        for key, weight in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise ValueError(f"{name}: class keys must be names or indices, got {key!r}")
            if not _is_real(weight) or not math.isfinite(float(weight)):
                raise ValueError(
                    f"{name}: weight of class {key!r} must be a finite float, got {weight!r}"
                )
            out[key if isinstance(key, str) else int(key)] = float(weight)
        return out
    return _as_float_list(value, must)


def _check_bounds(name: str, value: float, p: ParamSpec) -> None:
    if p.low is not None and (value <= p.low if p.low_open else value < p.low):
        raise ValueError(f"{name} must be {'>' if p.low_open else '>='} {p.low:g}, got {value!r}")
    if p.high is not None and (value >= p.high if p.high_open else value > p.high):
        raise ValueError(f"{name} must be {'<' if p.high_open else '<='} {p.high:g}, got {value!r}")


def parse_params(
    pairs: Sequence[str],
    spec: Mapping[str, ParamSpec],
    *,
    owner: str,
    flag: str | None = None,
) -> dict[str, Any]:
    """Convert command-line ``name=value`` strings into typed values.

    Only the given options are returned (defaults are filled by :func:`validate_params`).

    Args:
        pairs: Strings such as ``["gamma=2", "alpha=balanced"]``.
        spec: The component's declared options.
        owner: The component, for messages (e.g. ``"loss 'focal'"``).
        flag: The command-line flag, for messages (e.g. ``"--loss-param"``); when
            ``None`` the messages start with the quoted pair alone.

    Returns:
        ``{name: value}`` with values converted to the declared kinds.

    Raises:
        ParamError: A string without ``=``, an option given twice, an unknown option
            (the message lists the accepted ones) or a value of the wrong kind, e.g.
            ``"--loss-param 'gamma=abc': gamma must be a float (loss 'focal')"``.
    """
    if isinstance(pairs, str):
        raise TypeError(
            f"pairs must be a sequence of 'name=value' strings, got the string {pairs!r}"
        )
    out: dict[str, Any] = {}
    for pair in pairs:
        where = f"{flag} {str(pair)!r}" if flag else repr(str(pair))
        name, sep, text = str(pair).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParamError(f"{where}: expected name=value ({owner})")
        if name not in spec:
            raise ParamError(f"{where}: {_unknown(name, spec, owner)}")
        if name in out:
            raise ParamError(f"{where}: {name} is given more than once ({owner})")
        try:
            out[name] = _check_value(name, _parse_string(name, text, spec[name]), spec[name])
        except ValueError as err:
            raise ParamError(f"{where}: {err} ({owner})") from None
    return out


def validate_params(
    params: Mapping[str, Any], spec: Mapping[str, ParamSpec], *, owner: str
) -> dict[str, Any]:
    """Check keyword options against ``spec`` and fill in the defaults.

    Strings are accepted for every kind and converted as on the command line, so
    values read from YAML or typed by hand both work.

    Args:
        params: ``{name: value}`` (e.g. the ``**params`` of a constructor).
        spec: The component's declared options.
        owner: The component, for messages (e.g. ``"loss 'focal'"``).

    Returns:
        A new dict with every declared option, given values checked and normalised
        (ints given for floats become floats, tensors become lists, ...).

    Raises:
        ParamError: Unknown option (the message names ``owner``, the option and the
            accepted options) or invalid value.
    """
    for name in params:
        if name not in spec:
            raise _unknown(name, spec, owner)
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
