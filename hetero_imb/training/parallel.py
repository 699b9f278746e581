"""Run independent jobs (the runs of a grid) in worker processes, N at once.

A thin layer over :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn``
context (no state inherited from the parent, the same on Linux, macOS and Windows):
each worker sets its own torch thread count before its first job, ignores SIGINT
(the parent decides), and results come back as jobs finish. Ctrl-C in the parent
cancels the jobs not started yet and stops the running workers; the run folders are
written atomically, so an interrupted grid resumes from what was finished.

Threads: torch uses as many threads as cores by default; N workers would then run
N x cores threads on `cores` cores. On a loaded 2-core machine one R-GCN run took
38 s with torch's default 2 threads and 9.4 s with one, so workers default to
:func:`default_threads` (``max(1, cores // jobs)``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one).

    Example:
        >>> available_cores() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads(jobs: int, cores: int | None = None) -> int:
    """Torch threads per worker when ``jobs`` workers share ``cores`` cores.

    Example:
        >>> default_threads(2, cores=8), default_threads(4, cores=2)
        (4, 1)
    """
    check_jobs(jobs)
    return max(1, (cores or available_cores()) // jobs)


def check_jobs(jobs: Any, name: str = "jobs") -> int:
    """Validate a worker count (an integer >= 1) and return it.

    Example:
        >>> check_jobs(2)
        2
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {jobs!r}")
    return jobs


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (``None``: leave torch's default).

    Example:
        >>> set_threads(None)
    """
    if threads is None:
        return
    check_jobs(threads, "threads")
    import torch

    torch.set_num_threads(threads)


def _init_worker(threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ["OMP_NUM_THREADS"] = str(threads)  # for libraries loaded later
    set_threads(threads)


def imap_unordered(
    fn: Callable[[T], Any], items: Sequence[T], *, jobs: int, threads: int | None = None,
) -> Iterator[tuple[T, Any, BaseException | None]]:
    """Call ``fn(item)`` for every item in ``jobs`` spawned worker processes.

    Args:
        fn: A module-level (picklable) function; its exceptions come back, not raised.
        items: Picklable arguments, submitted in order.
        jobs: Number of worker processes (>= 1).
        threads: Torch threads per worker (``None``: :func:`default_threads`).

    Yields:
        ``(item, result, None)`` or ``(item, None, error)`` as each job finishes;
        when a worker process dies (killed, out of memory), the jobs it took down
        come back with a :class:`~concurrent.futures.process.BrokenProcessPool` error.

    Raises:
        KeyboardInterrupt: after cancelling the pending jobs and stopping the workers.

    A consumer that can be interrupted between two items should close the generator
    (``with contextlib.closing(imap_unordered(...)) as results:``): closing it stops the
    workers too, where a generator left suspended would make the interpreter's exit
    wait for the jobs in flight.

    Example:
        >>> sorted(r for _, r, _ in imap_unordered(abs, [-2, 1], jobs=2, threads=1))
        [1, 2]
    """
    check_jobs(jobs)
    threads = default_threads(jobs) if threads is None else check_jobs(threads, "threads")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))
    try:
        futures: dict[Future, T] = {pool.submit(fn, item): item for item in items}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result(), None
            except (Exception, BrokenProcessPool) as err:  # noqa: PERF203 - one per job
                yield futures[future], None, err
    except BaseException:  # KeyboardInterrupt, or the consumer stopped early
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the running workers now."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # Python < 3.14 has no public way to stop running workers: take them before
    # shutdown() forgets them
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
