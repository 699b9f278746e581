"""Execute every notebook headless with the fast parameters and store it with its outputs.

Run from the repository root after changing a notebook (needs the ``notebooks`` extra):

    python notebooks/execute.py            # all notebooks
    python notebooks/execute.py 01_quickstart.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> None:
    """Run ``path`` top to bottom (HETERO_IMB_FAST=1) and write it back with outputs."""
    os.environ["HETERO_IMB_FAST"] = "1"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.name for p in HERE.glob("*.ipynb"))
    for name in names:
        execute(HERE / name)
        print(f"executed {name}")
