"""Hostile graph shapes: time, peak memory and what acctgraph capped.

Cases (sizes are arguments; defaults are what this 2-core, 24 GiB machine
runs in minutes):

* ``hub``: one attribute shared by ``--hub-accounts`` accounts (default
  1,000,000), each also with a private IP. An account-account projection
  would hold ``d * (d - 1) / 2`` = 5e11 pairs; the bipartite graph holds ``d``
  links and the hub is dropped and reported.
* ``dense``: ``--dense-attributes`` attributes each shared by the same
  ``--dense-accounts`` accounts (default 10,000 x 1,000 = 10,000,000 links).
* ``dense_duckdb``: the same from a parquet file through the DuckDB engine.
  (100,000 x 1,000 = 100,000,000 links does not fit this 24 GiB machine: the
  kernel stopped it at 24 GiB in the graph stages, after DuckDB's ingest.)
* ``one_account_many_ips``: one account with ``--many-ips`` distinct IPs
  (default 1,000,000) among 10,000 ordinary accounts.
* ``spread_farm``: a 2,000-account farm that uses every proxy IP once, so it
  shares only ASNs and cards, inside a 50,000-account synthetic world.

Each case runs in a fresh process; the table gives wall time, peak resident
memory, links, hubs dropped, clusters and, where there is a planted farm,
precision and recall. Writes ``benchmarks/results/bench_adversarial.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from common import RESULTS, machine, peak_rss_mib, write_results

DEFAULT_JSON = RESULTS / "bench_adversarial.json"
CACHE = Path(os.environ.get("ACCTGRAPH_BENCH_CACHE", Path.home() / ".cache" / "acctgraph-bench"))


def _ids(prefix: str, n: int, offset: int = 0) -> np.ndarray:
    return np.char.add(prefix, np.arange(offset, offset + n).astype(str)).astype(object)


def case_hub(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    n = args.hub_accounts
    accounts = _ids("a", n)
    events = pd.DataFrame(
        {
            "account_id": np.concatenate([accounts, accounts]),
            "kind": np.repeat(np.array(["ip", "ip"], dtype=object), n),
            "value": np.concatenate([np.full(n, "hub", dtype=object), _ids("p", n)]),
        }
    )
    return events, None


def case_dense(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    n_attr, n_acc = args.dense_attributes, args.dense_accounts
    events = pd.DataFrame(
        {
            "account_id": np.tile(_ids("a", n_acc), n_attr),
            "kind": "device",
            "value": np.repeat(_ids("d", n_attr), n_acc),
        }
    )
    return events, None


def case_one_account_many_ips(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from acctgraph.synth import make_world

    world = make_world(10_000, seed=1)
    many = pd.DataFrame({"account_id": "spray", "kind": "ip", "value": _ids("10.", args.many_ips)})
    return pd.concat([world.events[["account_id", "kind", "value"]], many], ignore_index=True), None


def case_spread_farm(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from acctgraph.synth import make_world

    world = make_world(50_000, seed=2, farm_shares=(0.04,))
    events, truth = world.events, world.truth
    farm = set(truth.loc[truth["role"] == "farm", "account_id"])
    # Give every farm proxy observation an IP of its own: no IP is shared.
    is_farm_ip = events["account_id"].isin(farm) & (events["kind"] == "ip")
    events = events.astype({"value": object})  # new values go in below
    events.loc[is_farm_ip, "value"] = _ids("spread-", int(is_farm_ip.sum()))
    return events, truth


def case_dense_duckdb(args: argparse.Namespace) -> Path:
    """The dense case as a dictionary-encoded parquet file, read by DuckDB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_attr, n_acc = args.dense_attributes, args.dense_accounts
    path = CACHE / f"dense-{n_attr}x{n_acc}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    accounts = pa.array(_ids("a", n_acc).tolist())
    schema = pa.schema(
        [
            ("account_id", pa.dictionary(pa.int32(), pa.string())),
            ("kind", pa.string()),
            ("value", pa.string()),
        ]
    )
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, n_attr, 1_000):
            k = min(1_000, n_attr - start)
            codes = pa.array(np.tile(np.arange(n_acc, dtype=np.int32), k))
            writer.write_table(
                pa.table(
                    {
                        "account_id": pa.DictionaryArray.from_arrays(codes, accounts),
                        "kind": pa.array(["device"] * (k * n_acc)),
                        "value": pa.array(np.repeat(_ids("d", k, start), n_acc).tolist()),
                    },
                    schema=schema,
                )
            )
    tmp.rename(path)
    return path


CASES = {
    "hub": case_hub,
    "dense": case_dense,
    "dense_duckdb": case_dense_duckdb,
    "one_account_many_ips": case_one_account_many_ips,
    "spread_farm": case_spread_farm,
}


def run_case(name: str, args: argparse.Namespace) -> dict[str, object]:
    import acctgraph as ag

    made = CASES[name](args)
    if isinstance(made, Path):  # a file for the DuckDB engine
        events, truth, kwargs = made, None, {"engine": "duckdb", "memory_limit": "8GB"}
    else:
        (events, truth), kwargs = made, {}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ag.AcctGraphWarning)
        result = ag.detect(events, **kwargs)
    wall = time.perf_counter() - start
    row: dict[str, object] = {
        "case": name,
        "n_event_rows": result.provenance["input"]["n_event_rows"],
        "n_links": result.provenance["input"]["n_links"],
        "wall_s": wall,
        "peak_rss_mib": peak_rss_mib(),
        "hubs_dropped": result.hubs_dropped.to_dict("records"),
        "warnings": [str(w.message) for w in caught],
        "n_clusters": len(result.clusters),
        "n_flagged": int(result.accounts["flagged"].sum()),
        "cluster_links_left_out": result.provenance["cluster_links_left_out"],
        "largest_cluster": int(result.clusters["n_accounts"].max()) if len(result.clusters) else 0,
        "stage_s": result.provenance["timings_s"],
    }
    if truth is not None:
        quality = ag.evaluate(result, truth)
        row.update(precision=quality["precision"], recall=quality["recall"])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--hub-accounts", type=int, default=1_000_000)
    parser.add_argument("--dense-attributes", type=int, default=10_000)
    parser.add_argument("--dense-accounts", type=int, default=1_000)
    parser.add_argument("--many-ips", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(run_case(args.worker, args)))
        return 0

    passthrough = [
        f"--hub-accounts={args.hub_accounts}",
        f"--dense-attributes={args.dense_attributes}",
        f"--dense-accounts={args.dense_accounts}",
        f"--many-ips={args.many_ips}",
    ]
    rows = []
    for name in args.cases:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", name, *passthrough],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"measured {name}", file=sys.stderr)

    table = [
        "| case | event rows | links | wall s | peak MiB | hubs dropped | clusters | largest "
        "| flagged | precision | recall |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        hubs = (
            ", ".join(
                f"{h['n_dropped']} {h['kind']} (deg {h['max_degree']:,})" for h in r["hubs_dropped"]
            )
            or "-"
        )
        quality = f"{r['precision']:.4f} | {r['recall']:.4f}" if "precision" in r else "- | -"
        table.append(
            f"| {r['case']} | {r['n_event_rows']:,} | {r['n_links']:,} | {r['wall_s']:.2f} | "
            f"{r['peak_rss_mib']:.0f} | {hubs} | {r['n_clusters']:,} | {r['largest_cluster']:,} | "
            f"{r['n_flagged']:,} | {quality} |"
        )
    print("\n".join(table))
    report = {
        "benchmark": "bench_adversarial",
        "machine": machine(),
        "arguments": passthrough,
        "rows": rows,
    }
    write_results(
        args.json,
        report,
        f"Generated by `python benchmarks/bench_adversarial.py {' '.join(passthrough)}` on "
        f"{report['machine']['platform']}, {report['machine']['cpus']} CPUs. "
        "Each case is one `acctgraph.detect` run in a fresh process (peak memory includes "
        "building the input frame).",
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
