"""The shape every dataset loader has, and the shared machinery behind ``load``.

A loader subclasses :class:`DatasetLoader`: it names its raw files (with sha256 and
upstream URL), declares its options in ``params`` (``{name: ParamSpec}``, checked by
``load`` through the registry before any work), stores them in ``__init__`` and turns
the raw files into a ``HeteroData`` in ``process``. Locating files (data root → local mirror → download),
verifying checksums and caching the processed graph happen here, once for all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pooch
import torch
from torch_geometric.data import HeteroData

from ... import paths
from ..._io import atomic_write, save_torch
from ...params import ParamSpec, validate_params

log = logging.getLogger(__name__)


class DatasetFileError(RuntimeError):
    """A raw file is missing, corrupt, truncated or malformed. The message names it."""


@dataclass(frozen=True)
class RawFile:
    """One raw file of a dataset.

    Args:
        name: File name inside the dataset's raw folder.
        sha256: Expected checksum, or ``None`` when the file varies upstream.
        url: Where to download it from, or ``None`` when it cannot be fetched alone.
        required: Whether ``process`` needs it.
    """

    name: str
    sha256: str | None = None
    url: str | None = None
    required: bool = True


class DatasetLoader:
    """Base class of the dataset loaders registered in ``DATASETS``.

    Subclasses set ``raw_folder`` (the folder name under the data root and under a
    mirror), ``raw_files``, ``params`` (their options; none by default), ``name`` (the
    registered name, for messages), optionally ``version`` (bump it when ``process``
    changes so caches rebuild), and implement ``process``. ``__init__`` only stores
    options; :meth:`resolved_options` checks them and fills in the defaults.
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, ParamSpec]] = {}
    raw_folder: ClassVar[str] = ""
    raw_files: ClassVar[tuple[RawFile, ...]] = ()
    version: ClassVar[int] = 1
    #: Where users get files that cannot be downloaded one by one (shown in errors).
    source_hint: ClassVar[str] = ""

    def __init__(self, **options: Any):
        self.options = options

    # ----------------------------------------------------------------- hooks
    def process(self, raw: dict[str, Path]) -> HeteroData:
        """Turn the located raw files (name → path) into a graph."""
        raise NotImplementedError

    def download(self, name: str, dest: Path) -> None:
        """Fetch raw file ``name`` from upstream into ``dest`` (default: its ``url``)."""
        spec = self._spec(name)
        if spec.url is None:
            raise DatasetFileError(
                f"{self.raw_folder}/{name} has no download URL" + self._hint_suffix()
            )
        download_file(spec.url, dest, spec.sha256)

    # ------------------------------------------------------------- machinery
    def resolved_options(self) -> dict[str, Any]:
        """The options checked against ``params``, with defaults filled in.

        Raises:
            ParamError: an unknown option or an invalid value.
        """
        owner = f"dataset {self.name or type(self).__name__!r}"
        return validate_params(self.options, self.params, owner=owner)

    def cache_options(self) -> dict[str, Any]:
        """Options that change the processed graph (default: all of them)."""
        return dict(self.options)

    def _spec(self, name: str) -> RawFile:
        for spec in self.raw_files:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def _hint_suffix(self) -> str:
        return f"; {self.source_hint}" if self.source_hint else ""

    def locate(
        self,
        root: str | os.PathLike | None = None,
        mirror: str | os.PathLike | None = None,
        download: bool = True,
        verify: bool = True,
    ) -> dict[str, Path]:
        """Find every raw file: the data root first, then local mirrors, then upstream.

        Returns:
            Name → path for every file found (optional files may be absent).

        Raises:
            DatasetFileError: a required file cannot be found or fails its checksum.
        """
        raw_dir = paths.data_root(root) / self.raw_folder
        mirrors = [m / self.raw_folder for m in paths.mirror_dirs(mirror)]
        found: dict[str, Path] = {}
        missing: list[str] = []
        for spec in self.raw_files:
            path = next(
                (d / spec.name for d in [raw_dir, *mirrors] if (d / spec.name).is_file()), None
            )
            if path is None and download and spec.required and spec.url is not None:
                path = raw_dir / spec.name
                try:
                    self.download(spec.name, path)
                except DatasetFileError as err:
                    log.warning("%s", err)
                    path = None
            if path is None:
                if spec.required:
                    missing.append(spec.name)
                continue
            if verify and spec.sha256 is not None:
                _verify(path, spec.sha256)
            found[spec.name] = path
        if missing:
            searched = ", ".join(str(d) for d in [raw_dir, *mirrors])
            raise DatasetFileError(
                f"dataset {self.raw_folder!r}: missing raw file(s) {', '.join(missing)} "
                f"(searched {searched})" + self._hint_suffix()
            )
        return found

    def cache_key(self, raw: dict[str, Path]) -> str:
        """Hash of the loader version, options and raw file identities."""
        ident = {
            "loader": type(self).__name__,
            "version": self.version,
            "options": self.cache_options(),
            "files": {n: _file_identity(p) for n, p in sorted(raw.items())},
        }
        blob = json.dumps(ident, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _file_identity(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


_VERIFIED: dict[tuple[str, int, int], str] = {}


def _verify(path: Path, expected: str) -> None:
    """Check ``path``'s sha256, memoised on (path, size, mtime) within a process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _VERIFIED.get(key)
    if digest is None:
        digest = pooch.file_hash(str(path), alg="sha256")
        _VERIFIED[key] = digest
    if digest != expected:
        raise DatasetFileError(
            f"raw file {path} is corrupt or truncated: sha256 {digest[:12]}… "
            f"({stat.st_size} bytes), expected {expected[:12]}…; delete it and load again "
            "to fetch a fresh copy"
        )


def download_file(
    url: str,
    dest: Path,
    sha256: str | None = None,
    *,
    downloader: Any = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` with :func:`pooch.retrieve`.

    Pooch streams into a temporary file beside ``dest`` and moves it into place only
    once the whole file has arrived and matches ``sha256``; an interrupted or corrupt
    download leaves nothing at ``dest``.

    Args:
        url: Where to fetch the file.
        dest: Destination path (its folder is created).
        sha256: Expected hex digest, or ``None`` to accept any content.
        downloader: A pooch downloader ``(url, output_file, pooch)``; default
            :class:`pooch.HTTPDownloader` without a progress bar.
        timeout: Seconds to wait for the server (default downloader only).

    Returns:
        ``dest``.

    Raises:
        DatasetFileError: the download failed or the checksum did not match; the
            message names the URL and the destination.
    """
    import requests  # pooch's own HTTP client; imported only when downloading

    dest = Path(dest)
    log.info("downloading %s -> %s", url, dest)
    if downloader is None:
        downloader = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
    try:
        fetched = pooch.retrieve(
            url,
            known_hash=None if sha256 is None else f"sha256:{sha256}",
            fname=dest.name,
            path=dest.parent,
            downloader=downloader,
            progressbar=False,
        )
    except (requests.RequestException, OSError, ValueError) as err:
        raise DatasetFileError(f"could not download {url} to {dest}: {err}") from err
    return Path(fetched)


def load_processed(
    loader: DatasetLoader,
    root: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    download: bool = True,
    force_reload: bool = False,
    cache: bool = True,
) -> HeteroData:
    """Locate, verify, process (or read from cache) and return the graph."""
    raw = loader.locate(root=root, mirror=mirror, download=download)
    if not cache or not loader.raw_files:
        return loader.process(raw)
    key = loader.cache_key(raw)
    cache_path = paths.processed_dir(root) / f"{loader.raw_folder}-{key}.pt"
    if cache_path.is_file() and not force_reload:
        try:
            cached = torch.load(cache_path, weights_only=False)
        except Exception as err:  # a damaged cache is rebuilt, never trusted
            log.warning("ignoring unreadable cache %s (%s)", cache_path, err)
        else:
            if isinstance(cached, HeteroData):
                return cached
            log.warning("ignoring cache %s: it holds a %s, not a graph", cache_path,
                        type(cached).__name__)
    data = loader.process(raw)
    try:
        atomic_write(cache_path, lambda tmp: save_torch(data, tmp))
    except OSError as err:  # read-only data roots still load, just uncached
        log.warning("could not write cache %s (%s)", cache_path, err)
    _remove_stale_partials(cache_path.parent, loader.raw_folder)
    return data


#: A partial cache file older than this is left by a killed process (writing one takes
#: seconds), and is removed.
STALE_SECONDS = 3600


def _remove_stale_partials(folder: Path, prefix: str) -> None:
    """Delete ``.<prefix>-*.tmp`` files of killed cache writes older than an hour."""
    now = time.time()
    for partial in folder.glob(f".{prefix}-*.tmp"):
        try:
            if now - partial.stat().st_mtime > STALE_SECONDS:
                partial.unlink()
        except OSError:  # gone already, or not ours to remove
            continue


def read_int_npy(path: str | os.PathLike, what: str, *, whole_floats: bool = False) -> np.ndarray:
    """A 1-D integer ``.npy`` array (labels, node ids) as ``int64``.

    Args:
        path: The file.
        what: What the entries are, for messages (e.g. ``"labels"``, ``"node ids"``).
        whole_floats: Also accept a float array of whole numbers (ACM's ``labels.npy``).

    Raises:
        DatasetFileError: unreadable, not 1-D, not integral; the message names the file.
    """
    path = Path(path)
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DatasetFileError(f"{path.name}: not a readable .npy array ({err})") from err
    floats = whole_floats and np.issubdtype(values.dtype, np.floating)
    if values.ndim != 1 or not (np.issubdtype(values.dtype, np.integer) or floats):
        raise DatasetFileError(
            f"{path.name}: expected a 1-D integer array of {what}, got dtype {values.dtype} "
            f"and shape {tuple(values.shape)}"
        )
    if floats and not np.all(np.mod(values, 1) == 0):
        raise DatasetFileError(f"{path.name}: float {what} must be whole numbers")
    return values.astype(np.int64)
