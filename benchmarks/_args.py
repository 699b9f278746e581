"""Argument checks shared by the benchmark scripts (not a benchmark itself).

Every script parses its flags with :class:`hetero_imb.cli.errors.Parser`, so a bad
argument is one line, ``<prog>: error: <message>``, exit status 2, no usage block;
the argparse types here say what was expected and what was given, and
:func:`validated` turns a ``ValueError`` of a check run after parsing (a registry
look-up, a split or imbalance spec, an output path) into the same one line, naming
the flag. Checks run before any expensive work and before anything is written.

The scripts are run as ``python benchmarks/NAME.py`` (this folder is then on
``sys.path``) or loaded from their file by the tests, so each puts its own folder on
``sys.path`` before ``from _args import ...``.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from hetero_imb.cli.errors import Parser, one_line

__all__ = [
    "Parser", "child_error", "component", "fail", "int_at_least", "int_list", "neighbors",
    "non_negative_float", "non_negative_int", "positive_float", "positive_int", "validated",
    "warn",
]

T = TypeVar("T")


def _int(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def int_at_least(low: int) -> Callable[[str], int]:
    """argparse type of an integer >= ``low``."""
    expected = f"an integer >= {low}"

    def convert(text: str) -> int:
        value = _int(text, expected)
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    convert.__name__ = f"int_at_least_{low}"
    return convert


#: argparse types: ``--epochs 0`` -> ``argument --epochs: expected an integer >= 1, got '0'``.
positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def _float(low: float, *, open_low: bool) -> Callable[[str], float]:
    expected = f"a finite number {'>' if open_low else '>='} {low:g}"

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low or (open_low and value == low):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return convert


positive_float = _float(0.0, open_low=True)
non_negative_float = _float(0.0, open_low=False)


def int_list(low: int = 0) -> Callable[[str], list[int]]:
    """argparse type of a comma-separated list of integers >= ``low`` (e.g. seeds ``0,1,2``).

    Example:
        >>> int_list()("0,1, 2")
        [0, 1, 2]
    """
    expected = f"comma-separated integers >= {low} (e.g. {low},{low + 1},{low + 2})"

    def convert(text: str) -> list[int]:
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if not values or any(v < low for v in values):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return values

    return convert


def neighbors(text: str) -> str:
    """argparse type of a mini-batch fan-out, ``10,10``: integers >= 1 or -1 (all), one per
    hop; returned as given (the scripts pass it on to a child process).

    Example:
        >>> neighbors("15,-1")
        '15,-1'
    """
    expected = "comma-separated integers >= 1 or -1 (all), one per hop, e.g. 10,10"
    try:
        values = [int(p) for p in text.split(",")]
    except ValueError:
        values = []
    if not values or not all(v >= 1 or v == -1 for v in values):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return text


def validated(parser: Parser, flag: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``check(*args, **kwargs)``; when it raises ``ValueError`` or ``TypeError``, exit 2
    with one line naming ``flag`` (prefixed to the message unless it names it already)."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as err:
        fail(parser, flag, err)


def fail(parser: Parser, flag: str, err: BaseException | str) -> NoReturn:
    """Exit 2 with ``<prog>: error: <flag>: <message>`` (one line; the flag is not
    repeated when the message names it)."""
    text = one_line(err)
    parser.fail(text if flag in text else f"{flag}: {text}")


def component(registry: Any, text: str, flag: str) -> Any:
    """``NAME`` or ``NAME[key=value,...]`` (a run folder's label, read as ``compare``
    reads it) as a :class:`~hetero_imb.training.grid.Component`, after checking the name
    and its parameters against ``registry``.

    Raises:
        ValueError: a malformed entry, an unknown name (the message names ``flag`` and
            the choices) or an invalid parameter.
    """
    from hetero_imb.training.grid import parse_component

    parsed = parse_component(text, registry.kind)
    registry.validate(parsed.name, parsed.params, parameter=flag)
    return parsed


def warn(prog: str, message: str) -> None:
    """One ``<prog>: warning: <message>`` line on stderr."""
    print(f"{prog}: warning: {one_line(message)}", file=sys.stderr)


#: The first line of the report GNU ``time -v`` appends to a child's stderr.
_GNU_TIME = re.compile(r"^\s*(Command being timed:|Command exited with non-zero status)", re.M)
#: The ``<prog>: error: `` prefix of a one-line error.
_PROG_ERROR = re.compile(r"^.*?: error: ")


def child_error(stderr: str) -> str:
    """The last line a failed child process wrote to ``stderr`` before the report that
    ``/usr/bin/time -v`` appends (its error line without the ``<prog>: error:`` prefix,
    or a traceback's last line).

    Example:
        >>> child_error("x.py: error: bad\\nCommand exited with non-zero status 2\\n"
        ...             "\\tCommand being timed: \\"python x.py\\"\\n\\tExit status: 2\\n")
        'bad'
    """
    match = _GNU_TIME.search(stderr)
    own = stderr[:match.start()] if match else stderr
    lines = [line.strip() for line in own.splitlines() if line.strip()]
    return _PROG_ERROR.sub("", lines[-1], count=1) if lines else "(no message)"
