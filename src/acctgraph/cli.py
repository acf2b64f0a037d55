"""Command line: ``acctgraph detect``, ``demo``, ``report`` and ``synth``.

Exit codes: 0 success, 2 bad input or arguments (a one-paragraph message on
stderr, no output written), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from .evaluation import evaluate
from .exceptions import AcctGraphError, AcctGraphWarning, SchemaError
from .ingest import ENGINES
from .pipeline import detect
from .privacy import Pseudonymizer
from .results import DetectionResult, check_output_dir, write_atomically

__all__ = ["main"]

logger = logging.getLogger("acctgraph")


def _attribute_spec(text: str | None) -> list[str] | dict[str, str] | None:
    """``"ip,asn"`` -> list; ``"client_ip=ip,asn"`` -> {column: kind}."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("names no column")
    if not any("=" in item for item in items):
        return items
    spec: dict[str, str] = {}
    for item in items:
        column, _, kind = item.partition("=")
        spec[column.strip()] = (kind or column).strip()
    return spec


def _add_detect_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the community search (default 0)"
    )
    parser.add_argument(
        "--resolution", type=float, default=1.0, help="Leiden resolution (default 1.0)"
    )
    parser.add_argument(
        "--threshold", type=float, default=0.5, help="flagging threshold (default 0.5)"
    )
    parser.add_argument(
        "--dense-blocks",
        type=int,
        default=1,
        help="dense blocks peeled off as further candidate clusters; 0 turns it off (default 1)",
    )
    parser.add_argument(
        "--no-split-blocks",
        dest="split_blocks",
        action="store_false",
        help="do not carve a community's densest block out as a cluster of its own",
    )
    parser.add_argument(
        "--no-card-groups",
        dest="card_groups",
        action="store_false",
        help="do not weigh the accounts linked by shared cards as one cluster",
    )
    parser.add_argument(
        "--no-evidence-groups",
        dest="evidence_groups",
        action="store_false",
        help="do not weigh the accounts that show a farm's behaviour themselves, linked "
        "through what mostly they hold, as one cluster",
    )
    parser.add_argument(
        "--no-attach-accounts",
        dest="attach_accounts",
        action="store_false",
        help="do not move accounts into a flagged cluster whose cards or IPs and behaviour "
        "they share",
    )
    parser.add_argument(
        "--max-attribute-degree",
        type=int,
        default=10_000,
        help="leave out attributes shared by more accounts (default 10000)",
    )
    parser.add_argument("--min-cluster-size", type=int, default=3, help="default 3")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="processes partitioning large components and scoring clusters at once, "
        "same result for any number (default: every CPU)",
    )
    parser.add_argument(
        "--top", type=int, default=10, help="clusters shown in the summary (default 10)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only on a terminal, or $ACCTGRAPH_PROGRESS)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acctgraph", description="Find coordinated account farms in shared attributes."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("detect", help="detect farms in event logs and write results")
    p.add_argument("events", nargs="+", help="parquet/CSV file(s), glob or folder of events")
    p.add_argument("--accounts", help="parquet/CSV accounts table")
    p.add_argument(
        "--attributes",
        type=_attribute_spec,
        help="wide log: attribute columns, e.g. 'ip,asn' or 'client_ip=ip,asn'",
    )
    p.add_argument(
        "--account-attributes",
        type=_attribute_spec,
        help="attribute columns of the accounts table, e.g. 'payment_fp=payment'",
    )
    p.add_argument(
        "--ip-networks",
        help="parquet/CSV IP-to-ASN table (columns named as the IP and ASN kinds), "
        "e.g. the lookup the log's ASNs came from; a wide log with IP and ASN columns "
        "needs none",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="ingest engine; duckdb reads the files out of core (default auto: duckdb "
        "where it is installed)",
    )
    p.add_argument(
        "--memory-limit",
        help="where DuckDB reads: its memory limit, e.g. 8GB "
        "(default: 40%% of RAM, 60%% while it groups the log)",
    )
    p.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    p.add_argument(
        "--pseudonymize-key-env",
        metavar="VAR",
        help="replace ids and values by HMAC-SHA256 tokens keyed by environment variable VAR",
    )
    p.add_argument(
        "--clear-kinds",
        default="",
        help="with --pseudonymize-key-env: kinds kept in clear, e.g. 'asn'",
    )
    _add_detect_options(p)

    p = sub.add_parser("demo", help="generate a synthetic world, detect, compare with truth")
    p.add_argument("--accounts", type=int, default=100_000, help="world size (default 100000)")
    p.add_argument("--world-seed", type=int, default=1, help="seed of the world (default 1)")
    _add_detect_options(p)

    p = sub.add_parser("report", help="write a self-contained HTML report of a results folder")
    p.add_argument("results", help="folder written by 'acctgraph detect'")
    p.add_argument("--out", required=True, help="HTML file to write")
    p.add_argument("--top", type=int, default=5, help="clusters with a section (default 5)")
    p.add_argument("--force", action="store_true", help="replace the HTML file if it exists")

    p = sub.add_parser("synth", help="write a synthetic world as parquet files")
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--world-seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--force", action="store_true")
    return parser


def _detect_kwargs(args: argparse.Namespace) -> dict[str, object]:
    return {
        "random_state": args.seed,
        "resolution": args.resolution,
        "threshold": args.threshold,
        "dense_blocks": args.dense_blocks,
        "split_blocks": args.split_blocks,
        "card_groups": args.card_groups,
        "evidence_groups": args.evidence_groups,
        "attach_accounts": args.attach_accounts,
        "max_attribute_degree": args.max_attribute_degree,
        "min_cluster_size": args.min_cluster_size,
        "n_jobs": args.jobs,
        "progress": args.progress,
    }


def _run_detect(args: argparse.Namespace) -> int:
    out = Path(args.out)
    check_output_dir(out, force=args.force)  # fail before the work, not after
    pseudonymizer = None
    if args.pseudonymize_key_env:
        clear = [k for k in args.clear_kinds.split(",") if k.strip()]
        pseudonymizer = Pseudonymizer.from_env(args.pseudonymize_key_env, clear_kinds=clear)
    start = time.perf_counter()
    result = detect(
        args.events if len(args.events) > 1 else args.events[0],
        accounts=args.accounts,
        attributes=args.attributes,
        account_attributes=args.account_attributes,
        ip_networks=args.ip_networks,
        pseudonymizer=pseudonymizer,
        engine=args.engine,
        memory_limit=args.memory_limit,
        **_detect_kwargs(args),
    )
    result.to_dir(out, fmt=args.format, force=args.force)
    print(result.summary(top=args.top))
    print(f"results written to {out}/ in {time.perf_counter() - start:.1f} s")
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from .synth import make_world

    start = time.perf_counter()
    world = make_world(args.accounts, seed=args.world_seed)
    made = time.perf_counter()
    result = detect(
        world.events, accounts=world.accounts, ip_networks=world.ip_asn, **_detect_kwargs(args)
    )
    done = time.perf_counter()
    quality = evaluate(result, world.truth)
    print(
        f"synthetic world: {len(world.accounts)} accounts, {len(world.events)} event rows, "
        f"{quality['n_farm']} planted farm accounts (generated in {made - start:.1f} s)"
    )
    print(result.summary(top=args.top))
    print()
    print(
        f"detect: {done - made:.1f} s   precision {quality['precision']:.4f}   "
        f"recall {quality['recall']:.4f}   F1 {quality['f1']:.4f}   "
        f"average precision {quality['average_precision']:.4f}"
    )
    print(
        "flagged accounts by planted role: "
        + ", ".join(f"{role}={n}" for role, n in quality["flagged_by_role"].items())
    )
    for c in quality["campaigns"]:
        print(
            f"  {c['campaign']}: {c['n_accounts']} accounts, {c['share_found']:.1%} flagged, "
            f"90% of it in {c['clusters_holding_90pct']} cluster(s)"
        )
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    from .synth import make_world

    out = Path(args.out)
    check_output_dir(out, force=args.force)
    world = make_world(args.accounts, seed=args.world_seed)

    def write(tmp: Path) -> None:
        world.events.to_parquet(tmp / "events.parquet", index=False)
        world.accounts.to_parquet(tmp / "accounts.parquet", index=False)
        world.truth.to_parquet(tmp / "truth.parquet", index=False)
        world.ip_asn.reset_index().to_parquet(tmp / "ip_networks.parquet", index=False)

    write_atomically(out, write)
    print(
        f"wrote {len(world.events)} events, {len(world.accounts)} accounts, "
        f"the IPs' networks and truth to {out}/"
    )
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from .report import write_report

    result = DetectionResult.from_dir(args.results)
    out = write_report(result, args.out, top=args.top, force=args.force)
    print(f"report on the top {min(args.top, len(result.clusters))} clusters written to {out}")
    return 0


def _one_line(exc: AcctGraphError) -> str:
    """Pipelines grep stderr line by line: keep every problem on one line."""
    if isinstance(exc, SchemaError):
        return f"{len(exc.problems)} problem(s) in {exc.source}: " + "; ".join(exc.problems)
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    handlers = {
        "detect": _run_detect,
        "demo": _run_demo,
        "report": _run_report,
        "synth": _run_synth,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AcctGraphWarning)
        try:
            code = handlers[args.command](args)
        except AcctGraphError as exc:
            print(f"acctgraph: error: {_one_line(exc)}", file=sys.stderr)
            code = 2
    for w in caught:
        if issubclass(w.category, AcctGraphWarning):
            print(f"acctgraph: warning: {w.message}", file=sys.stderr)
        else:  # not ours: show it as Python would have
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return code
