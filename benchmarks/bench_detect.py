"""Time, peak memory and detection quality of ``acctgraph detect`` at several scales.

For each world size the synthetic world is generated once and cached as
parquet outside the repository. Then, each in a fresh process so that peak
memory is its own:

* ``floor``: read the events parquet with pandas and group it by
  ``(account_id, kind, value)``; the least any pipeline must do;
* ``acctgraph``: ``acctgraph.detect`` from the parquet files to scored
  clusters, then precision and recall against the planted truth.

The ratio ``acctgraph / floor`` is taken within the same run, so it holds on a
noisy shared machine where absolute seconds do not.

Usage::

    python benchmarks/bench_detect.py                      # 10k, 100k, 300k accounts
    python benchmarks/bench_detect.py --scales 2000 --json out.json

Prints a markdown table and writes JSON rows (parameters, wall time, peak
memory, quality, versions).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import metadata
from pathlib import Path

from common import RESULTS, machine, measure, peak_rss_mib, run_worker, write_results

CACHE = Path(os.environ.get("ACCTGRAPH_BENCH_CACHE", Path.home() / ".cache" / "acctgraph-bench"))
DEFAULT_JSON = RESULTS / "bench_detect.json"


def world_files(n_accounts: int, seed: int) -> Path:
    """Generate (once) and cache the world's parquet files; return their folder."""
    folder = CACHE / f"world-{n_accounts}-{seed}"
    if (folder / "truth.parquet").exists():
        return folder
    from acctgraph.synth import make_world

    world = make_world(n_accounts, seed=seed)
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    world.events.to_parquet(tmp / "events.parquet", index=False)
    world.accounts.to_parquet(tmp / "accounts.parquet", index=False)
    world.truth.to_parquet(tmp / "truth.parquet", index=False)
    tmp.rename(folder)
    return folder


def run_floor(folder: Path) -> dict[str, object]:
    import pandas as pd

    start = time.perf_counter()
    events = pd.read_parquet(folder / "events.parquet")
    grouped = events.groupby(["account_id", "kind", "value"], sort=False)["count"].sum()
    wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "peak_rss_mib": peak_rss_mib(),
        "n_rows": len(events),
        "n_links": int(len(grouped)),
    }


def run_acctgraph(folder: Path) -> dict[str, object]:
    import warnings

    import pandas as pd

    import acctgraph as ag

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ag.HubAttributesDropped)
        result = ag.detect(folder / "events.parquet", accounts=folder / "accounts.parquet")
    wall = time.perf_counter() - start
    quality = ag.evaluate(result, pd.read_parquet(folder / "truth.parquet"))
    innocent = {k: v for k, v in quality["flagged_by_role"].items() if k != "farm"}
    return {
        "wall_s": wall,
        "peak_rss_mib": peak_rss_mib(),
        "stage_s": result.provenance["timings_s"],
        "precision": quality["precision"],
        "recall": quality["recall"],
        "f1": quality["f1"],
        "average_precision": quality["average_precision"],
        "innocent_flagged": innocent,
        "n_clusters": len(result.clusters),
    }


WORKERS = {"floor": run_floor, "acctgraph": run_acctgraph}


def measure_or_fail(method: str, folder: Path) -> dict[str, object]:
    """One method in a fresh process; this benchmark has no time cap, so a
    failure stops it."""
    row = measure(__file__, method, folder)
    if "status" in row:
        raise RuntimeError(f"{method} on {folder}: {row['status']}")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if run_worker(args, WORKERS):
        return 0

    rows = []
    for n in args.scales:
        folder = world_files(n, args.seed)
        floor = measure_or_fail("floor", folder)
        ours = measure_or_fail("acctgraph", folder)
        rows.append(
            {
                "n_accounts": n,
                "seed": args.seed,
                "n_event_rows": floor["n_rows"],
                "floor": floor,
                "acctgraph": ours,
                "ratio_to_floor": ours["wall_s"] / floor["wall_s"],
            }
        )
        print(f"measured {n} accounts", file=sys.stderr)

    table = [
        "| accounts | event rows | floor s | acctgraph s | ratio | peak MiB | floor MiB "
        "| precision | recall | AP | innocent flagged |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ours = r["acctgraph"]
        table.append(
            f"| {r['n_accounts']:,} | {r['n_event_rows']:,} | {r['floor']['wall_s']:.2f} | "
            f"{ours['wall_s']:.2f} | {r['ratio_to_floor']:.1f}x | {ours['peak_rss_mib']:.0f} | "
            f"{r['floor']['peak_rss_mib']:.0f} | {ours['precision']:.4f} | {ours['recall']:.4f} | "
            f"{ours['average_precision']:.4f} | {sum(ours['innocent_flagged'].values())} |"
        )
    print("\n".join(table))
    report = {
        "benchmark": "bench_detect",
        "machine": machine(),
        "versions": {
            p: metadata.version(p) for p in ("acctgraph", "numpy", "pandas", "igraph", "leidenalg")
        },
        "rows": rows,
    }
    write_results(
        args.json,
        report,
        f"Generated by `python benchmarks/bench_detect.py` on {report['machine']['platform']}, "
        f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}; acctgraph "
        f"{report['versions']['acctgraph']}. Each cell is one run in a fresh process; "
        "`floor` reads the same parquet with pandas and groups it by account, kind and value.",
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
