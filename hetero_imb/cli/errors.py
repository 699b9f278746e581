"""Exit codes and one-line errors of the command lines.

* ``2`` (:data:`EXIT_USAGE`): a usage or configuration error — an unknown flag or
  name, a malformed or out-of-range value, an unusable ``--out`` / ``--root``;
  reported before any work, nothing written.
* ``1`` (:data:`EXIT_DATA`): a data error — a graph that breaks a convention, a
  corrupt or missing raw file, a class too small to split, a failed run.

Each error is one line on stderr, ``<prog>: error: <message>``, naming the parameter,
what was expected and what was given; no usage dump.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from .._io import OutputPathError
from ..params import ParamError
from ..registry import UnknownComponentError
from ..training.checks import ConfigError

EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Errors that are the user's configuration, wherever they surface (exit 2).
USAGE_ERRORS: tuple[type[BaseException], ...] = (
    UnknownComponentError, ParamError, ConfigError, OutputPathError,
)
#: Errors a run can end with on bad data or a bad environment (exit 1).
DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, OSError, RuntimeError, FloatingPointError, KeyError,
)


def one_line(err: BaseException | str) -> str:
    """The message of ``err`` on one line (inner newlines become ``; ``)."""
    text = str(err).strip() or type(err).__name__
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def exit_code(err: BaseException) -> int:
    """:data:`EXIT_USAGE` for configuration errors, :data:`EXIT_DATA` otherwise."""
    return EXIT_USAGE if isinstance(err, USAGE_ERRORS) else EXIT_DATA


def report(prog: str, err: BaseException | str) -> None:
    """Print ``<prog>: error: <message>`` as one line on stderr."""
    print(f"{prog}: error: {one_line(err)}", file=sys.stderr)


class Parser(argparse.ArgumentParser):
    """An argument parser without prefix matching whose errors are one line, exit 2.

    ``--epoch 1`` is an error (not ``--epochs``), and a bad flag prints
    ``<prog>: error: <message> (see --help)`` instead of the usage block.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # under torchrun every process parses the same arguments: rank 0 alone says why
        quiet = os.environ.get("RANK", "0") != "0"
        self.exit(EXIT_USAGE, None if quiet else f"{self.prog}: error: {one_line(message)} (see --help)\n")

    def fail(self, err: BaseException | str) -> NoReturn:
        """Exit with status 2 and one line naming the problem."""
        self.error(one_line(err))
