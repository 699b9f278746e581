"""Execute every notebook headless with the fast parameters and store it with its outputs.

Run from the repository root after changing a notebook (needs the ``notebooks`` extra):

    python notebooks/execute.py            # all notebooks
    python notebooks/execute.py 01_quickstart.ipynb
    python notebooks/execute.py --out-dir /tmp/nb   # leave the repository's copies as they are
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path, out: Path | None = None) -> None:
    """Run ``path`` top to bottom (HETERO_IMB_FAST=1) and write it, with its outputs,
    back to ``path`` (or to ``out``)."""
    os.environ["HETERO_IMB_FAST"] = "1"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, out or path)


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 when every notebook ran, 2 for an unknown notebook or folder."""
    from hetero_imb.cli.errors import Parser

    parser = Parser(prog="python notebooks/execute.py", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NOTEBOOK",
                        help="notebook file names in notebooks/ (default: all)")
    parser.add_argument("--out-dir", type=Path, metavar="DIR",
                        help="write the executed notebooks here instead of over the "
                        "repository's copies")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.name for p in HERE.glob("*.ipynb"))
    missing = [n for n in names if not (HERE / n).is_file()]
    if missing:
        parser.fail(f"NOTEBOOK: {missing[0]!r} is not a notebook in {HERE.name}/; expected "
                    f"one of {', '.join(sorted(p.name for p in HERE.glob('*.ipynb')))}")
    if args.out_dir is not None and not args.out_dir.is_dir():
        parser.fail(f"--out-dir: {args.out_dir} is not an existing folder")
    for name in names:
        execute(HERE / name, None if args.out_dir is None else args.out_dir / name)
        print(f"executed {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
