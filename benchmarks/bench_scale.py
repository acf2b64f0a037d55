"""Scale: from raw request-log files to scored clusters, against what a user
would write instead, and against the floor.

For each size the synthetic world is written once as a raw request log (one
parquet row per request, ``account_id, ts, ip, asn``, split into 7 files read
through one glob, plus ``accounts.parquet`` with two card columns), cached
outside the repository. Then, each in a fresh process so that its peak memory
is its own:

* ``floor``: DuckDB scans the glob and groups it by (account, IP) and
  (account, ASN), fetching the result; the least any pipeline must do;
* ``acctgraph``: ``acctgraph.detect(glob, engine="duckdb")`` end to end,
  with its per-stage wall times, then quality against the planted truth;
  its peak memory counts the worker processes that partition components
  and peel the dense blocks (sampled; see ``common.TreeMemory``);
* ``cli``: ``acctgraph detect GLOB ... --out DIR`` run as a command, as
  the target reads: its wall time from starting the interpreter to the
  results written as parquet (imports and writing included), its peak
  memory that of the command and its workers;
* ``acctgraph_pandas``: ``acctgraph`` with the pandas ingest engine;
* ``igraph``: a plain igraph pipeline a user would write: pandas reads the
  files, drops duplicate (account, IP) pairs, builds the bipartite graph and
  runs igraph's Leiden (no hub handling, no scoring);
* ``igraph_all``: the same plain pipeline over every attribute kind
  acctgraph is given (IP and ASN from the log, the two card columns from
  the accounts table), which is the graph acctgraph itself builds; the
  ``igraph`` row above, over IPs alone, does a third of that work;
* ``networkx``: the notebook version: pandas reads, networkx bipartite
  projection over IPs, ``louvain_communities``; killed after
  ``--baseline-timeout`` seconds (as is the pandas engine run).

Usage::

    python benchmarks/bench_scale.py                      # 10k, 100k, 1M accounts
    python benchmarks/bench_scale.py --scales 2000 --json out.json
    python benchmarks/bench_scale.py --scales 10000 100000 1000000 10000000
    python benchmarks/bench_scale.py --scales 10000000 --methods floor acctgraph \
        --reuse benchmarks/results/bench_scale.json      # one scale again, the rest kept
    python benchmarks/bench_scale.py --scales 1000000 --methods floor acctgraph \
        --repeat 3                                        # median of 3 runs a cell

Worlds above 1M accounts are tiles of the 1M world (regions with their own
accounts, IPs and cards; see ``_tiled_request_log``), and the baselines are
not run on them (``--baselines-up-to``): each was killed or took minutes at 1M.

Writes a markdown table, JSON, and a PNG of time and memory against size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import RESULTS, TreeMemory, machine, measure, peak_rss_mib, run_worker, write_results

CACHE = Path(os.environ.get("ACCTGRAPH_BENCH_CACHE", Path.home() / ".cache" / "acctgraph-bench"))
# Issue #4's bounds on acctgraph.detect: accounts -> (wall seconds, peak MiB).
TARGETS = {1_000_000: (30.0, 4 * 1024), 10_000_000: (600.0, 16 * 1024)}
# The pipelines a user would write instead, which acctgraph must beat at
# every scale where they finish (the pandas engine and the command are
# acctgraph's own).
ALTERNATIVES = ("igraph", "igraph_all", "networkx")
DEFAULT_JSON = RESULTS / "bench_scale.json"
METHODS = ("floor", "acctgraph", "cli", "acctgraph_pandas", "igraph", "igraph_all", "networkx")
ATTRIBUTES = ["ip", "asn"]
ACCOUNT_ATTRIBUTES = {"payment": "payment", "payment_2": "payment"}
# Worlds above this size are tiles of the world of this size (see _tiled_request_log).
TILE = 1_000_000


def request_log(n_accounts: int, seed: int) -> Path:
    """Generate (once) and cache the world's request log; return its folder."""
    folder = CACHE / f"requests-{n_accounts}-{seed}"
    if (folder / "truth.parquet").exists():
        return folder
    if n_accounts > TILE and n_accounts % TILE == 0:
        return _tiled_request_log(n_accounts // TILE, seed, folder)
    from acctgraph.synth import make_world, write_request_log

    world = make_world(n_accounts, seed=seed)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    info = write_request_log(world, tmp)
    world.truth.to_parquet(tmp / "truth.parquet", index=False)
    (tmp / "info.json").write_text(json.dumps(info | {"requests_glob": "requests-*.parquet"}))
    tmp.rename(folder)
    return folder


def _tiled_request_log(n_tiles: int, seed: int, folder: Path) -> Path:
    """``n_tiles`` copies of the 1M world as regions with their own accounts,
    IPs and cards (ids prefixed ``r<tile>-``), sharing the ASNs, each tile one
    parquet file: a log of 10M accounts that the generator, which builds a
    world in memory, could not write on this machine. Written by DuckDB,
    streaming."""
    import shutil

    import duckdb

    base = request_log(TILE, seed)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    con = duckdb.connect()
    for t in range(n_tiles):
        r = f"'r{t}-'"
        con.execute(
            f"COPY (SELECT {r} || account_id AS account_id, ts, {r} || ip AS ip, asn "
            f"FROM read_parquet('{base}/requests-*.parquet')) "
            f"TO '{tmp}/requests-{t:02d}.parquet' (FORMAT parquet)"
        )
    tiles = f"SELECT * FROM range({n_tiles}) AS t(t)"
    con.execute(
        f"COPY (SELECT 'r' || t || '-' || account_id AS account_id, created_at, "
        f"'r' || t || '-' || payment AS payment, 'r' || t || '-' || payment_2 AS payment_2 "
        f"FROM read_parquet('{base}/accounts.parquet'), ({tiles})) "
        f"TO '{tmp}/accounts.parquet' (FORMAT parquet)"
    )
    con.execute(
        f"COPY (SELECT * EXCLUDE (t) REPLACE ('r' || t || '-' || account_id AS account_id, "
        f"'r' || t || '-' || \"group\" AS \"group\") "
        f"FROM read_parquet('{base}/truth.parquet'), ({tiles})) "
        f"TO '{tmp}/truth.parquet' (FORMAT parquet)"
    )
    info = json.loads((base / "info.json").read_text())
    info["n_rows"] *= n_tiles
    info["n_files"] = n_tiles
    info["bytes"] = sum(f.stat().st_size for f in tmp.glob("requests-*.parquet"))
    info["tiles_of"] = base.name
    (tmp / "info.json").write_text(json.dumps(info))
    tmp.rename(folder)
    return folder


def run_floor(folder: Path) -> dict[str, object]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    glob = str(folder / "requests-*.parquet")
    n_links = 0
    for column in ATTRIBUTES:
        # A relation's Arrow output streams; a DB-API result's copies its
        # rows once more (DuckDB 2 warns), which would raise the floor.
        table = con.sql(
            f"SELECT account_id, {column}, count(*) AS n, min(ts) AS first_ts "
            f"FROM read_parquet('{glob}') GROUP BY ALL"
        ).to_arrow_table()
        n_links += table.num_rows
    n_rows = con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()[0][0]
    return {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "n_rows": int(n_rows),
        "n_links": n_links,
    }


def _detect(folder: Path, engine: str) -> dict[str, object]:
    import warnings

    import pandas as pd

    import acctgraph as ag

    start = time.perf_counter()
    with warnings.catch_warnings(), TreeMemory() as memory:
        warnings.simplefilter("ignore", ag.HubAttributesDropped)
        result = ag.detect(
            str(folder / "requests-*.parquet"),
            accounts=folder / "accounts.parquet",
            attributes=ATTRIBUTES,
            account_attributes=ACCOUNT_ATTRIBUTES,
            engine=engine,
        )
    wall = time.perf_counter() - start
    quality = ag.evaluate(result, pd.read_parquet(folder / "truth.parquet"))
    return {
        "wall_s": wall,
        # With the worker processes that partition components.
        "peak_rss_mib": memory.peak_mib,
        "stage_s": result.provenance["timings_s"],
        "precision": quality["precision"],
        "recall": quality["recall"],
        "average_precision": quality["average_precision"],
        "innocent_flagged": sum(v for k, v in quality["flagged_by_role"].items() if k != "farm"),
    }


def run_acctgraph(folder: Path) -> dict[str, object]:
    return _detect(folder, "duckdb")


def run_acctgraph_pandas(folder: Path) -> dict[str, object]:
    return _detect(folder, "pandas")


def run_cli(folder: Path) -> dict[str, object]:
    """``acctgraph detect`` as a shell runs it: the interpreter starting,
    the imports, every stage and the results written as parquet."""
    import subprocess
    import tempfile
    import warnings

    import pandas as pd

    import acctgraph as ag

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results"
        command = [
            *(sys.executable, "-m", "acctgraph", "detect", str(folder / "requests-*.parquet")),
            *("--accounts", str(folder / "accounts.parquet")),
            *("--attributes", ",".join(ATTRIBUTES)),
            *("--account-attributes", ",".join(f"{c}={k}" for c, k in ACCOUNT_ATTRIBUTES.items())),
            *("--engine", "duckdb", "--out", str(out), "--no-progress"),
        ]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with TreeMemory(pid=process.pid) as memory:
            _, stderr = process.communicate()
        wall = time.perf_counter() - start
        if process.returncode != 0:
            raise RuntimeError(f"acctgraph detect failed: {stderr.decode()[-500:]}")
        written = sum(f.stat().st_size for f in out.iterdir())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ag.HubAttributesDropped)
            result = ag.DetectionResult.from_dir(out)
        quality = ag.evaluate(result, pd.read_parquet(folder / "truth.parquet"))
    return {
        "wall_s": wall,
        "peak_rss_mib": memory.peak_mib,
        "stage_s": result.provenance["timings_s"],
        "written_mb": written / 1e6,
        "precision": quality["precision"],
        "recall": quality["recall"],
    }


def _read_log(folder: Path, columns: list[str]):
    """The request log's ``columns``, every file, read with pandas."""
    import pandas as pd

    files = sorted(folder.glob("requests-*.parquet"))
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _read_pairs(folder: Path):
    return _read_log(folder, ["account_id", "ip"]).drop_duplicates()


def _plain_leiden(account_ids, attribute_keys) -> list[int]:
    """What a user's plain igraph pipeline does with (account, attribute)
    pairs: number both sides, build the bipartite graph, run Leiden."""
    import igraph as ig
    import numpy as np
    import pandas as pd

    account, accounts = pd.factorize(account_ids)
    attribute, _ = pd.factorize(attribute_keys)
    graph = ig.Graph(
        n=len(accounts) + int(attribute.max()) + 1,
        edges=np.column_stack([account, attribute + len(accounts)]),
    )
    return graph.community_leiden(objective_function="modularity").membership


def run_igraph(folder: Path) -> dict[str, object]:
    # Imported before the clock starts, as acctgraph is.
    import igraph  # noqa: F401
    import pandas  # noqa: F401

    start = time.perf_counter()
    pairs = _read_pairs(folder)
    membership = _plain_leiden(pairs["account_id"], pairs["ip"])
    return {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "n_communities": len(set(membership)),
    }


def run_igraph_all(folder: Path) -> dict[str, object]:
    # Imported before the clock starts, as acctgraph is.
    import igraph  # noqa: F401
    import pandas as pd

    start = time.perf_counter()
    log = _read_log(folder, ["account_id", *ATTRIBUTES])
    table = pd.read_parquet(
        folder / "accounts.parquet", columns=["account_id", *ACCOUNT_ATTRIBUTES]
    )
    # One (account, kind, value) row per link: each log column and card column.
    parts = [
        log[["account_id", column]]
        .drop_duplicates()
        .set_axis(["account_id", "value"], axis=1)
        .astype({"value": str})
        .assign(kind=column)
        for column in ATTRIBUTES
    ] + [
        table[["account_id", column]]
        .dropna()
        .set_axis(["account_id", "value"], axis=1)
        .assign(kind=kind)
        for column, kind in ACCOUNT_ATTRIBUTES.items()
    ]
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates()
    membership = _plain_leiden(pairs["account_id"], pairs["kind"] + ":" + pairs["value"])
    return {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "n_communities": len(set(membership)),
        "n_links": len(pairs),
    }


def run_networkx(folder: Path) -> dict[str, object]:
    import networkx as nx
    from networkx.algorithms import bipartite

    start = time.perf_counter()
    pairs = _read_pairs(folder)
    graph = nx.Graph()
    accounts = pairs["account_id"].astype(str).unique()
    graph.add_nodes_from(accounts, bipartite=0)
    graph.add_edges_from(
        zip(pairs["account_id"].astype(str), "ip:" + pairs["ip"].astype(str), strict=True)
    )
    projected = bipartite.weighted_projected_graph(graph, accounts)
    communities = nx.community.louvain_communities(projected, weight="weight", seed=0)
    return {
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "n_communities": len(communities),
        "projected_edges": projected.number_of_edges(),
    }


WORKERS = {
    "floor": run_floor,
    "acctgraph": run_acctgraph,
    "acctgraph_pandas": run_acctgraph_pandas,
    "cli": run_cli,
    "igraph": run_igraph,
    "igraph_all": run_igraph_all,
    "networkx": run_networkx,
}


def plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for method in METHODS:
        points = [(r["n_accounts"], r[method]) for r in rows if "wall_s" in r.get(method, {})]
        if not points:
            continue
        x = [n for n, _ in points]
        left.plot(x, [m["wall_s"] for _, m in points], "o-", label=method)
        right.plot(x, [m["peak_rss_mib"] / 1024 for _, m in points], "o-", label=method)
    for ax, label in ((left, "wall time (s)"), (right, "peak memory (GiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("accounts")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle("From request-log files to results (each point a fresh process)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def median_run(results: list[dict[str, object]]) -> dict[str, object]:
    """The run of median wall time among ``results`` (the lower middle of an
    even count), with every run's wall time in ``wall_s_runs`` where there
    were several; the first failed run's status row where any run failed."""
    failed = [r for r in results if "wall_s" not in r]
    if failed:
        return failed[0]
    ordered = sorted(results, key=lambda r: r["wall_s"])
    median = dict(ordered[(len(ordered) - 1) // 2])
    if len(results) > 1:
        median["wall_s_runs"] = [r["wall_s"] for r in results]
    return median


def _against_targets(rows: list[dict[str, object]]) -> list[str]:
    """Issue #4's targets, scale by scale: acctgraph's time and memory where
    the issue bounds them (:data:`TARGETS`), and whether it is the fastest
    of the pipelines in :data:`ALTERNATIVES` that finished. A cell kept from
    an earlier run (``--reuse``) is named as such."""

    def timed(method: str, cell: dict[str, object]) -> str:
        kept = " (an earlier run's)" if "floor_wall_s" in cell else ""
        return f"{method} {cell['wall_s']:.2f} s{kept}"

    lines = []
    for r in rows:
        ours = r.get("acctgraph", {})
        if "wall_s" not in ours:
            continue
        n = r["n_accounts"]
        if n in TARGETS:
            seconds, mib = TARGETS[n]
            met = ours["wall_s"] <= seconds and ours["peak_rss_mib"] <= mib
            lines.append(
                f"- {n:,} accounts in <= {seconds:.0f} s and <= {mib:,} MiB: "
                f"{ours['wall_s']:.2f} s at {ours['peak_rss_mib']:,.0f} MiB: "
                + ("met" if met else "not met")
            )
        finished = [m for m in ALTERNATIVES if "wall_s" in r.get(m, {})]
        if finished:
            faster = [m for m in finished if r[m]["wall_s"] < ours["wall_s"]]
            others = ", ".join(timed(m, r[m]) for m in finished)
            lines.append(
                f"- fastest at {n:,} accounts: "
                + ("yes" if not faster else f"no, behind {', '.join(faster)}")
                + f" ({timed('acctgraph', ours)} against {others})"
            )
    return ["", "## Against the targets", "", *lines] if lines else []


def _machine_text(described: dict[str, object] | None) -> str:
    """How the table names a run's machine, from ``common.machine()``'s record."""
    if not described:
        return "a machine it does not record"
    return f"{described['platform']}, {described['cpus']} CPUs, Python {described['python']}"


def _cell(result: dict[str, object], key: str, fmt: str) -> str:
    return format(result[key], fmt) if key in result else result.get("status", "-")


def _wall_cell(result: dict[str, object]) -> str:
    """The wall time, with the range of the runs where there were several."""
    runs = result.get("wall_s_runs")
    if not runs:
        return _cell(result, "wall_s", ".2f")
    return f"{result['wall_s']:.2f} ({min(runs):.2f}-{max(runs):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--baseline-timeout", type=float, default=600.0)
    parser.add_argument(
        "--baselines-up-to",
        type=int,
        default=TILE,
        help="run the pandas engine, igraph and networkx only up to this many accounts",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every cell this many times, the methods taking turns round by round, "
        "and report each cell's median run (this machine is shared and its speed drifts)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument(
        "--reuse",
        type=Path,
        help="an earlier run's JSON: its cells this run does not measure are kept",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}")

    if run_worker(args, WORKERS):
        return 0

    earlier = json.loads(args.reuse.read_text()) if args.reuse else {"rows": []}
    previous = {r["n_accounts"]: r for r in earlier["rows"]}
    rows = []
    for n in sorted(set(args.scales) | set(previous)):
        if n not in args.scales:
            rows.append(previous[n])
            continue
        folder = request_log(n, args.seed)
        info = json.loads((folder / "info.json").read_text())
        row: dict[str, object] = dict(previous.get(n, {}))
        row |= {"n_accounts": n, "n_rows": info["n_rows"], "bytes": info["bytes"]}
        # acctgraph's own DuckDB path runs to the end; everything else is capped.
        own = ("floor", "acctgraph", "cli")
        to_run = [m for m in args.methods if m in own or n <= args.baselines_up_to]
        for method in set(args.methods) - set(to_run):
            row[method] = {"status": f"not run above {args.baselines_up_to:,} accounts"}
        runs: dict[str, list[dict[str, object]]] = {}
        # Round by round, each method in turn: a drift in the machine's speed
        # then reaches every method's runs alike, floor included.
        for _ in range(args.repeat):
            for method in to_run:
                timeout = None if method in own else args.baseline_timeout
                result = measure(__file__, method, folder, timeout)
                runs.setdefault(method, []).append(result)
                print(f"{n:>10,} {method:>17}: {json.dumps(result)}", file=sys.stderr)
        row |= {method: median_run(results) for method, results in runs.items()}
        earlier_floor = previous.get(n, {}).get("floor", {}).get("wall_s")
        if "floor" in runs and earlier_floor is not None:
            # A cell kept from the earlier run keeps the floor measured beside
            # it: divided by this run's floor, its ratio would mix two runs'
            # machine speeds.
            for method in set(METHODS) - set(runs):
                cell = row.get(method)
                if isinstance(cell, dict) and "wall_s" in cell:
                    row[method] = {"floor_wall_s": earlier_floor} | cell
        rows.append(row)

    table = [
        "| accounts | request rows | parquet MB | method | wall s | x floor | peak MiB | stages (s) |",
        "|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        floor = r.get("floor", {}).get("wall_s")
        for method in (m for m in METHODS if m in r):
            m = r[method]
            ratio = f"{m['wall_s'] / floor:.1f}" if floor and "wall_s" in m else "-"
            if "floor_wall_s" in m:
                ratio = f"{m['wall_s'] / m['floor_wall_s']:.1f} (its run's floor)"
            stages = ", ".join(f"{k} {v:.1f}" for k, v in m.get("stage_s", {}).items())
            table.append(
                f"| {r['n_accounts']:,} | {r['n_rows']:,} | {r['bytes'] / 1e6:.0f} | {method} | "
                f"{_wall_cell(m)} | {ratio} | {_cell(m, 'peak_rss_mib', '.0f')} | "
                f"{stages} |"
            )
    quality = [
        f"| {r['n_accounts']:,} | {m['precision']:.4f} | {m['recall']:.4f} | "
        f"{m['average_precision']:.4f} | {m['innocent_flagged']} |"
        for r in rows
        for m in [r.get("acctgraph", {})]
        if "precision" in m
    ]
    if quality:
        table += [
            "",
            "acctgraph (DuckDB engine) quality against the planted truth:",
            "",
            "| accounts | precision | recall | AP | innocent accounts flagged |",
            "|---:|---:|---:|---:|---:|",
            *quality,
        ]
    table += _against_targets(rows)
    png = args.json.with_suffix(".png")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, png)
    table += ["", f"![time and memory against size]({png.name})"]
    print("\n".join(table))
    report = {"benchmark": "bench_scale", "machine": machine(), "rows": rows}
    reused = ""
    if args.reuse:
        measured = ", ".join(f"{n:,}" for n in args.scales)
        report["measured_in_this_run"] = {"scales": args.scales, "methods": args.methods}
        # A reused run may come from another machine, or the same one after
        # an update: say which, rather than assume.
        where = (
            "on the same machine"
            if earlier.get("machine") == machine()
            else f"on {_machine_text(earlier.get('machine'))}"
        )
        reused = (
            f" This run measured {', '.join(args.methods)} at {measured} accounts; the other "
            f"cells come from the earlier run in `{args.reuse.name}`, {where}."
        )
    runs_text = (
        "Each cell is one run in a fresh process."
        if args.repeat == 1
        else f"Each cell measured here is the median of {args.repeat} runs, each in a fresh "
        "process, the methods taking turns round by round; the range of the runs is in "
        "brackets."
    )
    write_results(
        args.json,
        report,
        f"Generated by `python benchmarks/bench_scale.py` on "
        f"{_machine_text(report['machine'])}. {runs_text} "
        "`x floor` divides by DuckDB's scan-and-group of the same files, measured in the same "
        f"run.{reused}",
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
