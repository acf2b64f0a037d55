"""What every benchmark script shares: machine facts, peak memory, and
writing its results as JSON plus a generated markdown table."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
