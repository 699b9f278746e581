"""Small file helpers: atomic writes, atomic folder replacement, checksums, and the
checks of output folders made before any work. Nothing half-written is ever left,
and what is written gets the user's normal permissions (``umask``), not the private
ones of a temporary file."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


class OutputPathError(ValueError):
    """An output or data folder given by the user cannot be used; the message says why."""


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-and-restore
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """Mode a new file (``0o666``) or folder (``0o777``) gets under the current umask."""
    return (0o777 if directory else 0o666) & ~current_umask()


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    """Write a file atomically: ``writer`` fills a temporary file beside ``path``,
    which is then renamed over ``path``. On error the temporary file is removed.

    Args:
        path: Destination file.
        writer: Called with the temporary path; must write the whole content there.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, default_mode())  # mkstemp made it 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save``, raising its failed writes (a full disk), which surface as a
    RuntimeError from its zip writer, as the ``OSError`` they are."""
    import torch

    try:
        torch.save(obj, path)
    except RuntimeError as err:
        raise OSError(f"could not write {Path(path).name} ({' '.join(str(err).split())}); "
                      "is the disk full?") from err


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` when
    the platform or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_dir(staging: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Put the complete folder ``staging`` at ``target``, replacing any folder there.

    The swap is one atomic ``renameat2`` exchange where available, so ``target`` is at
    every instant either the old folder or the new one; the old one is then removed.
    Elsewhere the old folder is first renamed aside (a process killed between the two
    renames leaves it beside ``target`` as ``.<name>.*.old``).

    Args:
        staging: A finished folder on the same file system as ``target``.
        target: Where it should be.

    Returns:
        ``target``.
    """
    staging, target = Path(staging), Path(target)
    if not target.exists():
        os.rename(staging, target)
        return target
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
        return target
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _probe_writable(folder: Path, parameter: str) -> None:
    """Create and remove a file in ``folder`` (``os.access`` says yes to root even on a
    read-only file system)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".hetero_imb-probe-", dir=folder)
    except OSError as err:
        raise OutputPathError(
            f"{parameter}: cannot write in {folder} ({err.strerror or err}); "
            "expected a writable folder"
        ) from None
    os.close(fd)
    os.unlink(name)


def _nearest_existing(path: Path, parameter: str) -> Path:
    """The closest existing ancestor of ``path`` (``path`` itself if it exists); it
    must be a folder, or nothing can be created below it."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "is an existing file" if candidate == path else f"lies under the file {candidate}"
                raise OutputPathError(f"{parameter}: {path} {where}; expected a folder path")
            return candidate
    return Path(path.anchor or ".")


def check_output_dir(
    path: str | os.PathLike,
    *,
    parameter: str = "--out",
    overwrite: bool = False,
    resume: bool = False,
) -> Path:
    """Check, before any work, that a run folder can be written at ``path``.

    Nothing is created. ``path`` must not be a file nor lie under a file, and the
    closest existing folder must be writable. An existing non-empty folder is refused
    unless ``overwrite`` (it is then replaced when the results are saved) or ``resume``
    (a comparison grid continues in it).

    Args:
        path: The folder.
        parameter: The option name used in messages.
        overwrite: Accept an existing folder (it will be replaced).
        resume: Accept an existing folder (it will be added to).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputPathError: the folder cannot be used; the message names ``parameter``.
    """
    path = Path(path).expanduser()
    folder = _nearest_existing(path, parameter)
    if folder == path and any(path.iterdir()) and not (overwrite or resume):
        raise OutputPathError(
            f"{parameter}: {path} already exists and is not empty; expected a new folder "
            "(pass --overwrite to replace it)"
        )
    _probe_writable(folder, parameter)
    if folder == path and path.parent != path:
        _probe_writable(path.parent, parameter)  # the new folder is renamed in beside it
    return path


def check_output_file(path: str | os.PathLike, *, parameter: str = "--out") -> Path:
    """Check, before any work, that a file can be written at ``path`` (nothing is created).

    ``path`` must name a file (not an existing folder, not empty) whose closest existing
    folder is writable; an existing file will be replaced.

    Raises:
        OutputPathError: the file cannot be written; the message names ``parameter``.

    Example:
        >>> import tempfile
        >>> check_output_file(Path(tempfile.gettempdir()) / "new-dir" / "p.csv").name
        'p.csv'
        >>> check_output_file(tempfile.gettempdir())
        Traceback (most recent call last):
        ...
        hetero_imb._io.OutputPathError: --out: ... is an existing folder; expected a file path
    """
    if not str(path).strip():
        raise OutputPathError(f"{parameter}: expected a file path, got {str(path)!r}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputPathError(f"{parameter}: {path} is an existing folder; expected a file path")
    _probe_writable(_nearest_existing(path.parent, parameter), parameter)
    return path


def check_data_root(
    path: str | os.PathLike, *, parameter: str = "--root", create: bool = False,
    create_flag: str | None = "--create-root",
) -> Path:
    """Check a data root before any work: an existing, writable folder (for the cache).

    A missing folder is an error unless ``create`` (then it is created now), so a typo
    does not silently start a new data root with its own downloads and caches.

    Args:
        path: The folder.
        parameter: The option name used in messages.
        create: Create the folder when it does not exist.
        create_flag: The option that sets ``create``, named in the message (``None``:
            the command has none).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OutputPathError: the folder cannot be used; the message names ``parameter``.
    """
    path = Path(path).expanduser()
    folder = _nearest_existing(path, parameter)
    if folder != path:
        if not create:
            hint = f" (pass {create_flag} to create it)" if create_flag else ""
            raise OutputPathError(
                f"{parameter}: {path} does not exist; expected an existing data folder{hint}"
            )
        _probe_writable(folder, parameter)
        path.mkdir(parents=True, mode=0o777)
    _probe_writable(path, parameter)
    return path
