"""Where data lives: the data root, the local mirror, and the processed cache.

Resolution order for the data root:

1. an explicit ``root`` argument;
2. the environment variable ``HETERO_IMB_DATA``;
3. the ``data/`` folder of a source checkout (the folder holding ``pyproject.toml``
   next to the package), or ``~/.cache/hetero_imb`` for an installed package.

Local mirrors of raw files (read, never copied into the repository) are, in order:
an explicit ``mirror`` argument, the environment variable ``HETERO_IMB_MIRROR``
(several paths separated by ``os.pathsep``), and ``../shared/datasets`` beside the
source checkout or beside the current working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA = "HETERO_IMB_DATA"
ENV_MIRROR = "HETERO_IMB_MIRROR"

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir() -> Path | None:
    """The source checkout holding this package, or ``None`` for an installed package."""
    candidate = _PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "hetero_imb").is_dir():
        return candidate
    return None


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root (see module docstring). The folder is not created here."""
    if root is not None:
        return Path(root).expanduser().resolve()
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser().resolve()
    project = project_dir()
    if project is not None:
        return project / "data"
    return Path.home() / ".cache" / "hetero_imb"


def mirror_dirs(mirror: str | os.PathLike | None = None) -> list[Path]:
    """Existing local mirror folders, most specific first."""
    candidates: list[Path] = []
    if mirror is not None:
        candidates.append(Path(mirror).expanduser())
    env = os.environ.get(ENV_MIRROR)
    if env:
        candidates.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    project = project_dir()
    if project is not None:
        candidates.append(project.parent / "shared" / "datasets")
    candidates.append(Path.cwd().parent / "shared" / "datasets")
    seen: set[Path] = set()
    found: list[Path] = []
    for path in candidates:
        resolved = path.resolve()
        if resolved not in seen and resolved.is_dir():
            seen.add(resolved)
            found.append(resolved)
    return found


def processed_dir(root: str | os.PathLike | None = None) -> Path:
    """Folder of cached processed graphs under the data root."""
    return data_root(root) / "processed"
