"""Work split between processes: how many there may be, and parts of one
step run at once in forked workers.

The steps that use both cores (partitioning components, scoring clusters,
peeling each community for a block) split work into numbered parts that do
not depend on each other, so their result is the same for any number of
processes. :func:`run_in_parts` forks its workers: they see the caller's
arrays (a graph of several gigabytes) as they are, and only each part's
result is pickled back. Where the platform cannot fork (:func:`can_fork`),
callers run their work in one process instead: a spawned worker would need
the graph pickled to it, and would re-run the caller's main script.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .exceptions import ConfigError

__all__ = [
    "available_cpus",
    "can_fork",
    "check_n_jobs",
    "forked_processes",
    "processes",
    "run_in_parts",
    "start_in_worker",
]

# The work of the forked workers of the running run_in_parts: set just before
# they are forked, read by them, cleared after.
_WORK: tuple[Callable[..., Any], tuple] | None = None


def check_n_jobs(n_jobs: object) -> None:
    """Raise ConfigError unless ``n_jobs`` is None or an int >= 1."""
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1
    ):
        raise ConfigError(f"n_jobs must be None or an int >= 1; got {n_jobs!r}")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this platform starts processes by fork."""
    return "fork" in multiprocessing.get_all_start_methods()


def processes(n_jobs: int | None) -> int:
    """The processes ``n_jobs`` asks for: every CPU this process may use
    where it is None."""
    return available_cpus() if n_jobs is None else n_jobs


def forked_processes(n_jobs: int | None) -> int:
    """The processes :func:`run_in_parts` may use for ``n_jobs``: one where
    the platform cannot fork."""
    return processes(n_jobs) if can_fork() else 1


def run_in_parts(function: Callable[..., Any], n_parts: int, *args: Any) -> list[Any]:
    """``[function(i, *args) for i in range(n_parts)]``, part 0 in this
    process and every other part in a forked worker at the same time.

    ``args`` reach the workers with the fork, not pickled; each part's
    result is pickled back, so it should be small beside ``args``. Needs
    :func:`can_fork`. The workers only run numpy, pandas and igraph, never
    DuckDB or Arrow, whose idle threads a fork leaves behind.
    """
    global _WORK
    if n_parts < 2:
        return [function(i, *args) for i in range(n_parts)]
    _WORK = (function, args)
    try:
        with ProcessPoolExecutor(
            max_workers=n_parts - 1, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            # Every worker is forked at the first submit, after _WORK is set.
            futures = [pool.submit(_run_part, i) for i in range(1, n_parts)]
            results = [function(0, *args)]
            results += [future.result() for future in futures]
    finally:
        _WORK = None
    return results


def _run_part(i: int) -> Any:
    """In a forked worker: part ``i`` of the work set by :func:`run_in_parts`."""
    function, args = _WORK
    return function(i, *args)


def start_in_worker(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start ``function(*args)`` in a forked worker; returns a function that
    waits for its result (raising what it raised).

    As with :func:`run_in_parts`, ``args`` reach the worker with the fork and
    only the result is pickled back. The worker is a bare process writing to
    a pipe, with no helper thread in this process, so that work started
    meanwhile may fork workers of its own. Needs :func:`can_fork`.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_send_result, args=(sender, function, args), daemon=True)
    worker.start()
    sender.close()

    def result() -> Any:
        try:
            failed, value = receiver.recv()
        except EOFError:
            worker.join()
            raise RuntimeError(
                f"{function.__name__}'s worker process ended without a result "
                f"(exit code {worker.exitcode})"
            ) from None
        finally:
            receiver.close()
        worker.join()
        if failed:
            raise value
        return value

    return result


def _send_result(sender: Any, function: Callable[..., Any], args: tuple) -> None:
    """In a forked worker: send ``(failed, result or exception)`` of
    ``function(*args)``."""
    try:
        outcome = (False, function(*args))
    except BaseException as exc:  # sent to the caller, who raises it
        outcome = (True, exc)
    sender.send(outcome)
    sender.close()
