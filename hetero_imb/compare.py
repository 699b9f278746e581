"""``python -m hetero_imb.compare``: run a comparison grid (see :mod:`hetero_imb.cli.compare`)."""

from .cli.compare import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
