"""The quality sweep: acctgraph alone over many small worlds, and a comparison
of two sweeps, the check every scoring change is measured by.

The default plan is the sweep that the commit messages and the README quote
as the 145-world sweep since session 33 (139 distinct worlds): every world
of ``bench_quality.WORLDS`` at 5,000 and 10,000 accounts (seeds 1-3),
``few_proxies`` at 3,000 to 10,000 accounts in steps of 1,000 (seeds 1-8)
and the combined worlds at 10,000 (seeds 1-3). Each world is generated and
scored as ``bench_quality.py`` does (``run_world``, no peers); the sweep
keeps per world the account-level metrics, the innocent accounts flagged by
crowd, and the highest score of a cluster of innocents and the lowest of a
farm cluster.

Usage::

    python benchmarks/sweep_quality.py run /tmp/before.json    # 26 s on 2 cores (session 47)
    # ... change the scoring ...
    python benchmarks/sweep_quality.py run /tmp/after.json
    python benchmarks/sweep_quality.py compare /tmp/before.json /tmp/after.json

    # a plan of your own: the product of worlds, sizes and seeds
    python benchmarks/sweep_quality.py run /tmp/x.json --worlds unique_cards \
        --accounts 5000 10000 --seeds 1 2 3

``compare`` prints the worlds whose F1 or AP moved, how many went up and
down, and the innocent accounts flagged in each sweep; it exits 1 when the
two sweeps did not run the same worlds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench_quality import COMBINED_WORLDS, KNOBS, WORLDS, run_world
from common import machine

# Changes smaller than this are rounding, not a change.
TOLERANCE = 1e-9


def default_plan() -> list[tuple[str, int, int]]:
    """The (world, accounts, seed) runs of the sweep quoted since session 33:
    139 worlds. Its earlier count, 145, ran ``few_proxies`` at 5,000 and
    10,000 accounts (seeds 1-3) twice, once in each of its first two parts."""
    plan = [(w, n, s) for w in WORLDS for n in (5_000, 10_000) for s in (1, 2, 3)]
    plan += [("few_proxies", n, s) for n in range(3_000, 10_001, 1_000) for s in range(1, 9)]
    plan += [(w, 10_000, s) for w in COMBINED_WORLDS for s in (1, 2, 3)]
    return list(dict.fromkeys(plan))


def run_one(world: str, n_accounts: int, seed: int) -> dict[str, object]:
    """acctgraph's verdict on one world, as ``bench_quality`` measures it."""
    with contextlib.redirect_stdout(io.StringIO()):
        (row,), clusters = run_world(world, seed, n_accounts, peer_timeout=0.0, peers=[])
    innocent = clusters.loc[~clusters["is_farm"], "score"]
    farm = clusters.loc[clusters["is_farm"], "score"]
    return {
        "world": world,
        "accounts": n_accounts,
        "seed": seed,
        **{k: row[k] for k in ("precision", "recall", "f1", "best_f1", "average_precision")},
        "flagged_by_crowd": row["flagged_by_crowd"],
        "innocent_cluster_max": float(innocent.max()) if len(innocent) else None,
        "farm_cluster_min": float(farm.min()) if len(farm) else None,
    }


def run(out: Path, plan: list[tuple[str, int, int]], jobs: int) -> None:
    # Worlds are independent; each detect also uses both cores, so more
    # than two at once gains little on this machine.
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(run_one, *zip(*plan, strict=True)))
    for row in rows:
        print(
            f"{row['world']:>26} {row['accounts']:>6,} seed {row['seed']}: "
            f"F1 {row['f1']:.3f} AP {row['average_precision']:.3f} "
            f"innocent flagged {sum(row['flagged_by_crowd'].values())}",
            file=sys.stderr,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "sweep_quality", "machine": machine(), "rows": rows}))
    print(f"wrote {out} ({len(rows)} worlds)", file=sys.stderr)


def compare(before: Path, after: Path) -> int:
    """Print what moved between two sweeps; 1 where they ran different worlds."""

    def keyed(path: Path) -> dict[tuple, dict]:
        return {
            (r["world"], r["accounts"], r["seed"]): r for r in json.loads(path.read_text())["rows"]
        }

    a, b = keyed(before), keyed(after)
    if a.keys() != b.keys():
        print(
            f"the sweeps ran different worlds: {len(a.keys() - b.keys())} only in {before}, "
            f"{len(b.keys() - a.keys())} only in {after}"
        )
        return 1
    moved = []
    for key in sorted(a):
        df1 = b[key]["f1"] - a[key]["f1"]
        dap = b[key]["average_precision"] - a[key]["average_precision"]
        if abs(df1) > TOLERANCE or abs(dap) > TOLERANCE:
            moved.append((key, a[key], b[key]))
    print("| world | accounts | seed | F1 before | F1 after | AP before | AP after |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (world, n, seed), x, y in moved:
        print(
            f"| {world} | {n:,} | {seed} | {x['f1']:.3f} | {y['f1']:.3f} | "
            f"{x['average_precision']:.3f} | {y['average_precision']:.3f} |"
        )
    up = sum(y["f1"] - x["f1"] > TOLERANCE for _, x, y in moved)
    down = sum(x["f1"] - y["f1"] > TOLERANCE for _, x, y in moved)
    ap_up = sum(y["average_precision"] - x["average_precision"] > TOLERANCE for _, x, y in moved)
    ap_down = sum(x["average_precision"] - y["average_precision"] > TOLERANCE for _, x, y in moved)

    def innocents(rows: dict) -> int:
        return sum(sum(r["flagged_by_crowd"].values()) for r in rows.values())

    def extreme(rows: dict, field: str, pick) -> str:
        values = [r[field] for r in rows.values() if r[field] is not None]
        return f"{pick(values):.3f}" if values else "-"

    print()
    print(f"{len(a)} worlds: F1 up in {up}, down in {down}; AP up in {ap_up}, down in {ap_down}")
    print(f"innocent accounts flagged: {innocents(a)} -> {innocents(b)}")
    print(
        "highest innocent cluster score: "
        f"{extreme(a, 'innocent_cluster_max', max)} -> {extreme(b, 'innocent_cluster_max', max)}; "
        f"lowest farm cluster score: {extreme(a, 'farm_cluster_min', min)} -> "
        f"{extreme(b, 'farm_cluster_min', min)}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run a sweep and write its JSON")
    run_parser.add_argument("out", type=Path)
    run_parser.add_argument("--worlds", nargs="+", choices=list(KNOBS))
    run_parser.add_argument("--accounts", nargs="+", type=int)
    run_parser.add_argument("--seeds", nargs="+", type=int)
    run_parser.add_argument("--jobs", type=int, default=2, help="worlds run at once")
    compare_parser = commands.add_parser("compare", help="what moved between two sweeps")
    compare_parser.add_argument("before", type=Path)
    compare_parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)

    if args.command == "compare":
        return compare(args.before, args.after)
    custom = (args.worlds, args.accounts, args.seeds)
    if any(custom) and not all(custom):
        parser.error("a plan of your own needs --worlds, --accounts and --seeds together")
    plan = (
        [(w, n, s) for w in args.worlds for n in args.accounts for s in args.seeds]
        if all(custom)
        else default_plan()
    )
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    run(args.out, plan, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
