"""``python -m hetero_imb.train``: train one model (see :mod:`hetero_imb.cli.train`)."""

from .cli.train import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
