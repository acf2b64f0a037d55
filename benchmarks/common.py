"""What every benchmark script shares: machine facts, peak memory, and
writing its results as JSON plus a generated markdown table."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process.

    On Linux this is ``VmHWM`` of /proc/self/status, the high-water mark of
    this process's own memory since it started its program. ``ru_maxrss`` is
    not: Linux keeps it across ``execve``, so a worker started by a benchmark
    that had just generated a 1M world in memory reported that world's
    2.8 GiB as its own peak (and at 10k every worker reported its parent's
    285 MiB). Elsewhere ``ru_maxrss`` stands (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


class TreeMemory:
    """Peak resident memory of this process and its children together.

    acctgraph partitions large components in forked worker processes, whose
    memory ``ru_maxrss`` of this process does not count. A thread samples,
    every ``interval`` seconds, this process's RSS plus its children's
    private memory (``Private_Clean + Private_Dirty`` of
    /proc/PID/smaps_rollup): a forked child's RSS also counts every page it
    still shares with this process, which summed RSS would count twice.
    Linux only; elsewhere only this process's peak is reported. Reading a
    child's smaps_rollup walks its page tables (the parent's 9 GiB at 10M
    accounts), which at 5 reads a second took a core from the workers and
    slowed the 10M communities stage from 93 to 139 s; children are read
    every ``child_interval`` seconds, their last reading standing between.

    ``pid`` watches another process instead, a child of this one such as a
    command run with :mod:`subprocess`, with its own children: its peak is
    then also its ``ru_maxrss`` once it has been waited for.
    """

    def __init__(
        self, interval: float = 0.2, child_interval: float = 2.0, pid: int | None = None
    ) -> None:
        self.interval = interval
        self.child_interval = child_interval
        self.pid = pid
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        own_peak = (
            peak_rss_mib()
            if self.pid is None
            else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        )
        self.peak_mib = max(self.peak_mib, own_peak)

    def _sample(self) -> None:
        page_mib = os.sysconf("SC_PAGE_SIZE") / 2**20
        me = os.getpid() if self.pid is None else self.pid
        children_mib, next_children = 0.0, 0.0
        while not self._stop.wait(self.interval):
            try:
                if time.monotonic() >= next_children:
                    children = [
                        int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(p) == me
                    ]
                    children_mib = sum(_private_mib(c) for c in children)
                    next_children = time.monotonic() + self.child_interval
                mib = _resident_pages(me) * page_mib + children_mib
            except OSError:
                return  # no /proc: the process's own peak stands
            self.peak_mib = max(self.peak_mib, mib)


def _parent(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name, field 2, may hold spaces; the ppid follows it.
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _private_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) / 1024
    except (OSError, KeyError, ValueError):
        return 0.0  # the child ended between listing and reading


def _resident_pages(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0  # the child ended between listing and reading


def write_results(json_path: Path, report: dict[str, object], intro: str, table: list[str]) -> None:
    """Write ``report`` as JSON and, beside it, a markdown page with the table."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2))
    markdown = [f"# {report['benchmark']}", "", intro, "", *table, ""]
    json_path.with_suffix(".md").write_text("\n".join(markdown))
    print(f"wrote {json_path} and {json_path.with_suffix('.md')}", file=sys.stderr)


def measure(
    script: str, method: str, folder: Path, timeout: float | None = None
) -> dict[str, object]:
    """Run ``script --worker METHOD FOLDER`` in a fresh Python process (so its
    peak memory is its own) and return the JSON row it prints; a status row
    instead if it ran past ``timeout`` seconds or failed."""
    try:
        out = subprocess.run(
            [sys.executable, script, "--worker", method, str(folder)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"killed after {timeout:.0f} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or [""])[-1]
        return {"status": f"failed (exit {out.returncode}): {last[:200]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_worker(args, workers: dict) -> bool:
    """If the command line asked for a worker, run it, print its row, return True."""
    if not args.worker:
        return False
    method, folder = args.worker
    print(json.dumps(workers[method](Path(folder))))
    return True
