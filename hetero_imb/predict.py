"""``python -m hetero_imb.predict``: score nodes with a saved run (see :mod:`hetero_imb.cli.predict`)."""

from .cli.predict import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
