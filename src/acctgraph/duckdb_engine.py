"""DuckDB ingest engine: event files bigger than memory, never held in pandas.

``load_links(paths, engine="duckdb")`` validates, normalises and aggregates
parquet or CSV files (a list, a glob of daily files, a folder) inside an
embedded DuckDB database, which spills to a temporary folder instead of
running out of memory. Only the aggregated, integer-coded links come back to
numpy. It follows the pandas engine's contract exactly (same codes, counts,
first/last seen, duplicate rule, report and error wording) and
``tests/test_duckdb_engine.py`` checks the two agree.

Row numbers in errors are positions within each file (``file_row_number``),
named with their file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .csvfiles import csv_delimiter, csv_header, faulty_csv_error
from .exceptions import ConfigError, InputFileError, SchemaError
from .ingest import (
    _MAX_ROWS_SHOWN,
    ACCOUNT_ID,
    COUNT,
    ISO_TIME,
    KIND,
    MAX_COUNT,
    MAX_EPOCH_US,
    NOT_A_TIMESTAMP,
    NOT_TEXT,
    TS,
    VALUE,
    IngestReport,
    Links,
    _accounts_to_long,
    _delimiter_hint,
    _expand_paths,
    _is_parquet,
    _normalise_attribute_spec,
    _raise_together,
    network_columns,
    read_table,
    stored_apart,
)
from .parallel import available_cpus
from .privacy import Pseudonymizer

__all__ = ["load_links_duckdb"]

logger = logging.getLogger(__name__)


# DuckDB's share of the machine's memory when no memory_limit is given. Its
# own default, 80%, leaves too little for the arrays the ingest fetches and
# the later stages hold: a 10M-account log peaked at 19.8 GB of 24 GB.
DEFAULT_MEMORY_SHARE = 0.4

# Duplicate rows are looked for among the rows whose account and timestamp
# recur; where more than this share of the log's rows do, among the rows
# whose every column's hash recurs (see _duplicate_candidates).
CANDIDATE_SHARE = 0.01

# Accounts tables of up to this many rows (known without reading them) are
# read and validated in a thread while DuckDB scans the events; larger ones
# after the scan. Beside DuckDB's grouping, which runs up to its memory
# limit, the table's pandas form adds to the peak: at 10M accounts the
# whole run's peak went from 14,727 to 15,832 MiB (one run each), against
# the 16 GiB aimed at, where at 1M the ingest took 15.6-15.8 s against
# 16.2-16.8 s (three runs each, in turns).
ACCOUNTS_BESIDE_MAX_ROWS = 2_000_000

# DuckDB's share of the machine's memory while it groups the log into links
# (the fast path's one grouping; see _observations_by_raw_values), where no
# memory_limit is given. The process then holds little else (the
# duplicate rows' hashes; no fetched array yet), and at 10M accounts the
# grouping took 106 s at 40% (9.4 GiB) against 71 s at 14 GiB, the
# ingest's peak 13.7 GiB either way (single runs): held to 40%, DuckDB
# spills. Whole 10M runs in turns: ingest 170.6 / 182.5 s against 190.1 /
# 190.4 s, the run's peak 15,005 / 14,803 MiB against 14,837 / 14,816 MiB.
# The limit is set back once the groups are stored (see
# _memory_while_grouping).
GROUPING_MEMORY_SHARE = 0.6

# Arrays of fewer values than this per CPU are sorted in one call: below it
# splitting them saves less than the partition costs (see _sort_in_place).
SORT_PART_MIN_VALUES = 1 << 20


def default_memory_limit(share: float = DEFAULT_MEMORY_SHARE) -> str | None:
    """``share`` of physical memory, in DuckDB's units; None where the
    platform does not say (DuckDB then uses its own default)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return f"{max(1, int(total * share / 2**20))}MiB"


@contextmanager
def _memory_while_grouping(con: Any, limit: str | None) -> Iterator[None]:
    """DuckDB's memory limit raised to ``limit`` inside the block, and set
    back as it was on the way out (as DuckDB reports it, to a tenth of its
    unit), error or not; left alone where ``limit`` is None (see
    :data:`GROUPING_MEMORY_SHARE`)."""
    if limit is None:
        yield
        return
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")


@contextmanager
def _session(memory_limit: str | None) -> Iterator[Any]:
    """An in-memory DuckDB connection spilling to a private temporary folder.

    The connection is closed and the folder removed on the way out, error or
    not: a pipeline that ingests every day must not leave a folder (or, after
    a failed run, spilled pages of the log) behind in /tmp each time.
    """
    try:
        import duckdb
    except ImportError as exc:  # an optional engine names the extra that brings it
        raise ConfigError(
            "engine='duckdb' needs the duckdb package: pip install 'acctgraph[duckdb]'"
        ) from exc
    spill = tempfile.mkdtemp(prefix="acctgraph-duckdb-")
    try:
        con = duckdb.connect(config={"temp_directory": spill})
        try:
            memory_limit = memory_limit or default_memory_limit()
            if memory_limit:
                con.execute(f"SET memory_limit = '{memory_limit}'")
            # Aggregation order is set by ORDER BY.
            con.execute("SET preserve_insertion_order = false")
            # Text without a zone is UTC, as the pandas engine reads it; by
            # default DuckDB reads it in the machine's zone, and a log read in
            # New York came out 5 hours later than in London.
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# Every character Python's str.strip() removes (str.isspace() holds for none
# beyond U+3000), so that the engines strip alike.
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_WHITESPACE_CLASS = f"[{_WHITESPACE}]"


def _text(column: str, column_type: str, source: str | None = None) -> str:
    """SQL for a column as trimmed text, as the pandas engine writes it: whole
    floats below 2**53 as integers, everything else as Python writes it. ``source``
    is SQL for the column's values where they are not read from ``column``."""
    col = source or _q(column)
    if column_type in ("DOUBLE", "FLOAT", "REAL"):
        # pandas widens a float32 to float64 before writing it.
        col = f"CAST({col} AS DOUBLE)"
        text = (
            f"CASE WHEN isfinite({col}) AND {col} = round({col}) AND abs({col}) < 9007199254740992 "
            f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"
        )
    elif column_type == "BOOLEAN":
        # Python's spelling, not SQL's.
        text = f"CASE WHEN {col} THEN 'True' WHEN NOT {col} THEN 'False' END"
    else:
        # A decimal keeps its scale ('2.00'), as str(Decimal) does.
        text = f"CAST({col} AS VARCHAR)"
    # trim() with a character set is slow (26 s on 31M values against 2 s
    # for the scan), so it runs only where an end is whitespace, which
    # RE2 tests at little more than the scan's cost.
    return (
        f"CASE WHEN regexp_matches({text}, '^{_WHITESPACE_CLASS}') "
        f"OR regexp_matches({text}, '{_WHITESPACE_CLASS}$') "
        f"THEN trim({text}, '{_WHITESPACE}') ELSE {text} END"
    )


def _has_text_form(column_type: str) -> bool:
    """Whether identifiers or attribute values of this DuckDB type have a text
    both engines write alike (see :data:`acctgraph.ingest.NOT_TEXT`)."""
    return (
        # '"NULL"': a column of nulls only, as pandas writes one.
        column_type in ("VARCHAR", "BOOLEAN", "DATE", "FLOAT", "DOUBLE", '"NULL"')
        or column_type.startswith("DECIMAL")
        or _is_integer(column_type)
    )


def _is_integer(column_type: str) -> bool:
    """Whether a DuckDB type is an integer, signed or not."""
    return column_type.removeprefix("U") in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def _blank(column: str) -> str:
    """SQL true where a column is null, empty or whitespace only (what
    :func:`_text` turns into ''), without trimming every value."""
    raw = f"CAST({_q(column)} AS VARCHAR)"
    return (
        f"({raw} IS NULL OR {raw} = '' OR (regexp_matches({raw}, '^{_WHITESPACE_CLASS}') "
        f"AND regexp_full_match({raw}, '{_WHITESPACE_CLASS}+')))"
    )


def _time(column: str, column_type: str) -> str:
    """SQL for a column as a naive UTC timestamp (numbers are unix seconds),
    NULL outside what the pandas engine's nanoseconds hold (see
    :data:`acctgraph.ingest.TIME_RANGE`), as where it does not parse."""
    col = _q(column)
    if column_type in ("TIMESTAMP_NS", "TIMESTAMPTZ_NS"):
        # Nanoseconds, as the pandas engine holds them and always within its
        # range: the casts below round to microseconds, which made rows a
        # nanosecond apart duplicates. The session's zone is UTC.
        return f"CAST({col} AS TIMESTAMP_NS)"
    if column_type.startswith("TIMESTAMP WITH TIME ZONE"):
        time = f"timezone('UTC', {col})"
    elif column_type.startswith("TIMESTAMP") or column_type == "DATE":
        time = f"CAST({col} AS TIMESTAMP)"
    elif column_type in ("DOUBLE", "FLOAT") or _is_integer(column_type):
        seconds = f"CAST({col} AS DOUBLE)"
        # Guarded: to_timestamp fails the whole query beyond its own range
        # (about 290,000 years), where NULL names the rows.
        time = (
            f"CASE WHEN abs({seconds}) <= {MAX_EPOCH_US / 1e6!r} THEN "
            f"CAST(to_timestamp({seconds}) AT TIME ZONE 'UTC' AS TIMESTAMP) END"
        )
    else:
        text = _text(column, column_type)
        time = (
            f"CASE WHEN regexp_full_match({text}, '{ISO_TIME}') "
            f"THEN timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) END"
        )
    return f"CASE WHEN epoch_us({time}) BETWEEN {-MAX_EPOCH_US} AND {MAX_EPOCH_US} THEN {time} END"


def _scan(paths: list[Path]) -> str:
    """A table function reading every file, with its name and row numbers."""
    formats = {_file_format(p) for p in paths}
    if formats == {"parquet"}:
        return (
            f"read_parquet({_listed(paths)}, filename = true, file_row_number = true, "
            "union_by_name = true)"
        )
    if "parquet" not in formats and None not in formats:
        return _csv_scan(paths)
    raise InputFileError(
        "engine='duckdb' reads .parquet and .pq files, or .csv, .csv.gz, .txt and .tsv "
        f"files, not both at once; got {sorted({p.name for p in paths})[:5]}"
    )


def _csv_scan(paths: list[Path]) -> str:
    """CSV files read in the dialect of :mod:`acctgraph.csvfiles`, every
    column text, rows numbered 0-based within each file, as parquet's.

    Nothing is sniffed: each file's columns are its header's, read in
    Python, so that DuckDB checks every record's width (its sniffer read
    a semicolon file the pandas engine refused, and kept an unclosed quote
    as a character). Files with one delimiter and header are read together;
    the others are joined by column name.
    """
    by_header: dict[tuple[str, tuple[str, ...]], list[Path]] = {}
    for path in paths:
        delimiter = csv_delimiter(path)
        key = (delimiter, tuple(csv_header(path, delimiter, "events")))
        by_header.setdefault(key, []).append(path)
    reads = []
    for (delimiter, header), files in by_header.items():
        columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in header) + "}"
        reads.append(
            f"SELECT * FROM read_csv({_listed(files)}, header = true, auto_detect = false, "
            f"columns = {columns}, delim = {_literal(delimiter)}, quote = '\"', escape = '\"', "
            "filename = true)"
        )
    return (
        "(SELECT *, row_number() OVER (PARTITION BY filename) - 1 AS file_row_number "
        f"FROM ({' UNION ALL BY NAME '.join(reads)}))"
    )


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _listed(paths: list[Path]) -> str:
    """``paths`` as an SQL list of string literals."""
    return "[" + ", ".join(_literal(str(p)) for p in paths) + "]"


def _file_format(path: Path) -> str | None:
    """ "parquet", a CSV file's delimiter, or None; as the pandas engine reads
    files (:func:`acctgraph.ingest.read_table`)."""
    if _is_parquet(path):
        return "parquet"
    return csv_delimiter(path)


class _Checker:
    """Validation in the pandas engine's words: every check is counted in one
    scan of the input (:meth:`run`); only failing checks are scanned again,
    to list the rows at fault."""

    def __init__(self, con: Any, source: str) -> None:
        self.con, self.source, self.problems = con, source, []
        self.checks: list[tuple[str, str, str, str | None]] = []

    def rows(self, where: str, column: str, what: str, show_values: str | None = None) -> None:
        self.checks.append((where, column, what, show_values))

    def run(self, counts: dict[str, str]) -> dict[str, int]:
        """Count every check, plus ``counts`` (name -> SQL condition), in one scan."""
        conditions = [c[0] for c in self.checks] + list(counts.values())
        select = ", ".join(f"count(*) FILTER (WHERE {c})" for c in conditions)
        totals = self.con.execute(f"SELECT count(*), {select} FROM src").fetchall()[0]
        for (where, column, what, show_values), total in zip(self.checks, totals[1:], strict=False):
            if total:
                self._report(where, column, what, show_values, total)
        named = dict(zip(counts, totals[1 + len(self.checks) :], strict=True))
        return {"rows": totals[0], **named}

    def _report(
        self, where: str, column: str, what: str, show_values: str | None, total: int
    ) -> None:
        shown = self.con.execute(
            f"SELECT filename, file_row_number{', ' + show_values if show_values else ''} "
            f"FROM src WHERE {where} ORDER BY filename, file_row_number LIMIT {_MAX_ROWS_SHOWN}"
        ).fetchall()
        where_text = ", ".join(f"{Path(r[0]).name}:{r[1]}" for r in shown)
        more = total - len(shown)
        rows = f"rows {where_text}" + (f" and {more} more" if more > 0 else "")
        if show_values:
            values = ", ".join(repr(r[2]) for r in shown)
            self.problems.append(f"column {column!r}: {what}; got {values} at {rows}")
        else:
            self.problems.append(f"column {column!r}: {total} {what} at {rows}")


def load_links_duckdb(
    events: str | Path | Sequence[str | Path],
    *,
    accounts: Any = None,
    attributes: Any = None,
    account_attributes: Any = None,
    pseudonymizer: Pseudonymizer | None = None,
    memory_limit: str | None = None,
    network_kinds: tuple[str, str] | None = None,
) -> Links:
    """Ingest event files with DuckDB; see :func:`acctgraph.ingest.load_links`.

    Parameters
    ----------
    events : path, glob, folder or list of paths
        Parquet or CSV files.
    accounts, attributes, account_attributes, pseudonymizer, network_kinds
        As for :func:`acctgraph.ingest.load_links`. The accounts table (one
        row per account) is read with pandas.
    memory_limit : str, optional
        DuckDB's memory limit, e.g. ``"8GB"``; beyond it DuckDB spills to disk.
        Default: :data:`DEFAULT_MEMORY_SHARE` (40%) of physical memory, which
        leaves room for the arrays fetched from it and the later stages, and
        :data:`GROUPING_MEMORY_SHARE` (60%) while the log is grouped, before
        any is fetched. A limit given holds throughout.

    Returns
    -------
    Links
    """
    if isinstance(events, pd.DataFrame) or type(events).__module__.startswith("pyarrow"):
        raise ConfigError(
            "engine='duckdb' reads files; pass paths, or use engine='pandas' for frames"
        )
    paths = _expand_paths(events, "events")
    wide = _normalise_attribute_spec(attributes, "attributes")
    per_account = _normalise_attribute_spec(account_attributes, "account_attributes")
    # A limit the caller gives holds throughout; the default is raised while
    # the log is grouped.
    grouping_limit = default_memory_limit(GROUPING_MEMORY_SHARE) if memory_limit is None else None
    with _session(memory_limit) as con:
        return _load(
            con, paths, accounts, wide, per_account, pseudonymizer, grouping_limit, network_kinds
        )


def _load(
    con: Any,
    paths: list[Path],
    accounts: Any,
    wide: dict[str, str] | None,
    per_account: dict[str, str] | None,
    pseudonymizer: Pseudonymizer | None,
    grouping_limit: str | None = None,
    network_kinds: tuple[str, str] | None = None,
) -> Links:
    """The body of :func:`load_links_duckdb`, on an open session, whose
    memory limit is raised to ``grouping_limit`` while the log is grouped,
    and where the log is wide with one column of each of ``network_kinds``
    (IP, ASN), its rows place each IP in its network (table ``nets``)."""
    networks = network_columns(wide, network_kinds)
    if networks is None:
        network_kinds = None
    if per_account is not None and accounts is None:
        raise SchemaError(["account_attributes given but no accounts table"], source="accounts")
    # Both tables are validated before raising, so that one error lists every
    # problem, as the pandas engine's does. The accounts table (one row per
    # account) is read and validated by pandas: in a thread while DuckDB,
    # which releases the GIL, scans the events, where it is small enough
    # (see ACCOUNTS_BESIDE_MAX_ROWS).
    n_rows = None if accounts is None else _known_rows(accounts)
    beside = n_rows is not None and n_rows <= ACCOUNTS_BESIDE_MAX_ROWS
    with ThreadPoolExecutor(max_workers=1) as pool:
        account_table = pool.submit(_read_accounts, accounts, per_account) if beside else None
        try:
            report = _observations(con, paths, wide, grouping_limit, networks)
            events_error = None
        except SchemaError as exc:
            report, events_error = None, exc
        except Exception as exc:  # noqa: BLE001 - DuckDB's errors, of every class
            if "CSV" not in str(exc):
                raise
            # DuckDB finds a faulty CSV record while scanning, and its message
            # quotes the record from its second line on; the error names the
            # line instead.
            error = faulty_csv_error(paths, "events") or InputFileError(
                f"events: cannot read the CSV files ({str(exc).splitlines()[0]})"
            )
            raise error from None
        try:
            table_ids, table_created, extra, account_frame = (
                _read_accounts(accounts, per_account)
                if account_table is None
                else account_table.result()
            )
        except SchemaError as exc:
            _raise_together([events_error, exc])
    _raise_together([events_error])
    # Each (account, kind, value) is one row of obs as it stands, except where
    # two columns of a wide log name one kind. Knowing it saves grouping the
    # links once more at the end (1 of the final statement's 2.4 s at 1M
    # accounts).
    kinds = list((wide or {}).values())
    one_row_per_link = wide is None or len(set(kinds)) == len(kinds)
    if extra is not None:
        con.register(
            "extra_obs",
            pd.DataFrame({k: extra[k] for k in ("account", "kind", "value", "count", "ts")}),
        )
        # Grouped here: two columns of the accounts table may hold one card.
        con.execute(
            "INSERT INTO obs SELECT account, kind, value, sum(count), "
            "min(CAST(ts AS TIMESTAMP_NS)), max(CAST(ts AS TIMESTAMP_NS)) FROM extra_obs "
            "GROUP BY account, kind, value"
        )
        one_row_per_link &= wide is not None and not set(per_account.values()) & set(kinds)
    if pseudonymizer is not None:
        _pseudonymize(con, pseudonymizer, network_kinds)
        if table_ids is not None:
            table_ids = pseudonymizer.tokens(table_ids)
            account_frame = account_frame.assign(**{ACCOUNT_ID: table_ids})
        report = replace(report, pseudonymized=True)
        # Two values could in principle share a token.
        one_row_per_link = False
    return _aggregate(
        con, report, table_ids, table_created, account_frame, one_row_per_link, network_kinds
    )


def _known_rows(accounts: Any) -> int | None:
    """The accounts table's rows where known without reading it: a frame's
    length, parquet files' counts from their footers; None otherwise (CSV
    files, or paths that reading will report as faulty)."""
    if isinstance(accounts, pd.DataFrame) or type(accounts).__module__.startswith("pyarrow"):
        return len(accounts)
    try:
        paths = _expand_paths(accounts, "accounts")
        if not all(_is_parquet(path) for path in paths):
            return None
        return sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
    except Exception:  # noqa: BLE001 - read_table reports the fault in its words
        return None


def _read_accounts(accounts: Any, per_account: dict[str, str] | None) -> tuple:
    """The accounts table read and validated (:func:`_accounts_to_long`);
    all None where there is none."""
    frame = None if accounts is None else read_table(accounts, name="accounts")
    return _accounts_to_long(frame, per_account)


def _observations(
    con: Any,
    paths: list[Path],
    wide: dict[str, str] | None,
    grouping_limit: str | None = None,
    networks: tuple[str, str] | None = None,
) -> IngestReport:
    """Validate the event files and aggregate them into table ``obs``, the
    memory limit raised to ``grouping_limit`` while the fast path groups
    the log; where ``networks`` names a wide log's IP and ASN columns, each
    IP's network into table ``nets`` (ip, asn), as
    :func:`acctgraph.ingest.networks_of_rows` finds it."""
    read = [ACCOUNT_ID, *(wide or [KIND, VALUE]), TS, COUNT]
    apart = stored_apart(paths, read)
    if apart is not None:
        raise SchemaError(
            [
                f"{apart}; the DuckDB engine reads a glob whose files store each column "
                "one way (engine='pandas' reads each value by its type)"
            ],
            source="events",
        )
    try:
        con.execute(f"CREATE VIEW src AS SELECT * FROM {_scan(paths)}")
    except Exception as exc:
        raise InputFileError(f"events: cannot read {[str(p) for p in paths]}: {exc}") from exc
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE src)").fetchall())

    required = [ACCOUNT_ID] + (list(wide) if wide else [KIND, VALUE])
    missing = [c for c in required if c not in types]
    if missing:
        found = sorted(c for c in types if c not in ("filename", "file_row_number"))
        hint = "" if wide else " (for a wide log, name its attribute columns with attributes=)"
        raise SchemaError(
            [
                f"missing column(s) {missing}; found {found}{hint}"
                + _delimiter_hint(pd.DataFrame(columns=found))
            ],
            source="events",
        )

    not_text = [
        f"column {c!r}: {NOT_TEXT} (values of type {types[c]})"
        for c in required
        if not _has_text_form(types[c])
    ]
    if not_text:
        raise SchemaError(not_text, source="events")
    check = _Checker(con, "events")
    account_sql = _text(ACCOUNT_ID, types[ACCOUNT_ID])
    check.rows(_blank(ACCOUNT_ID), ACCOUNT_ID, "null or empty value(s)")
    if COUNT in types:
        text = _text(COUNT, types[COUNT])
        # DuckDB reads '1_000' as a number; pandas, like the README, does not.
        num = f"(CASE WHEN NOT contains({text}, '_') THEN TRY_CAST({text} AS DOUBLE) END)"
        bad = f"({num} IS NULL OR NOT isfinite({num}) OR {num} < 1 OR {num} > {MAX_COUNT} OR {num} <> round({num}))"
        check.rows(bad, COUNT, f"must be a whole number in [1, {MAX_COUNT:.0e}]", _q(COUNT))
        # TRY_: the fast path sums every row's count before it learns of a
        # bad one, and casting 'inf' to an integer failed the whole query.
        count_sql = f"TRY_CAST({num} AS BIGINT)"
    else:
        count_sql = "CAST(1 AS BIGINT)"
    if TS in types:
        ts_sql = _time(TS, types[TS])
        if types[TS] == "VARCHAR":
            blank = f"NULLIF({_text(TS, 'VARCHAR')}, '') IS NULL"
        elif types[TS] in ("DOUBLE", "FLOAT"):
            # NaN is how pandas writes a missing number, and its engine reads it so.
            blank = f"{_q(TS)} IS NULL OR isnan({_q(TS)})"
        else:
            blank = f"{_q(TS)} IS NULL"
        check.rows(f"{ts_sql} IS NULL AND NOT ({blank})", TS, NOT_A_TIMESTAMP, _q(TS))
    else:
        ts_sql = "CAST(NULL AS TIMESTAMP)"

    if wide is None:
        kind_sql = f"lower({_text(KIND, types[KIND])})"
        value_sql = _text(VALUE, types[VALUE])
        check.rows(_blank(KIND), KIND, "null or empty value(s)")
        check.rows(_blank(VALUE), VALUE, "null or empty value(s)")
        rows_sql = f"SELECT {account_sql} AS a, {kind_sql} AS k, {value_sql} AS v, {count_sql} AS c, {ts_sql} AS ts FROM src"
        keys = "a, k, v, c, ts"
    else:
        cells = ", ".join(
            f"NULLIF({_text(col, types[col])}, '') AS w{i}" for i, col in enumerate(wide)
        )
        rows_sql = f"SELECT {account_sql} AS a, {count_sql} AS c, {ts_sql} AS ts, {cells} FROM src"
        keys = "a, c, ts, " + ", ".join(f"w{i}" for i in range(len(wide)))
    # Row checks that do not depend on one value alone (count, timestamp).
    bad_rows = " OR ".join(f"({c[0]})" for c in check.checks if c[1] in (COUNT, TS)) or None
    report = _observations_by_raw_values(
        con, wide, types, count_sql, ts_sql, bad_rows, grouping_limit, networks
    )
    if report is None:
        report = _observations_by_rows(con, check, wide, rows_sql, keys, TS in types, networks)
    return report


def _observations_by_raw_values(
    con: Any,
    wide: dict | None,
    types: dict[str, str],
    count_sql: str,
    ts_sql: str,
    bad_rows: str | None,
    grouping_limit: str | None = None,
    networks: tuple[str, str] | None = None,
) -> IngestReport | None:
    """The fast path: the exact path's ``obs`` and report, or None where it
    cannot vouch for them (a row at fault, or two raw values normalising to
    one), and then the exact path runs and names the rows. The log is
    grouped with the memory limit raised to ``grouping_limit`` (None: as
    it is).

    Two things make the exact path slow on a large log: normalising every
    value of every row (trim, number formatting) and the full-row DISTINCT,
    a hash table of every row. Here the log is grouped into links by its raw
    values in one scan, and only the grouped values are normalised. Where
    normalising is one-to-one in every column, rows are equal after it
    exactly where they are equal before, so duplicate rows are found on raw
    values: a scan before the grouping finds the 64-bit row hashes that
    occur twice (:func:`_duplicate_candidates`), and the grouping keeps the
    timestamp and count of each row holding one, from which each group's
    extra copies are taken off its counts (first and last seen do not move).
    On 31M rows this is about three times faster than the exact path.
    """
    columns = [ACCOUNT_ID] + (list(wide) if wide is not None else [KIND, VALUE])
    raw = [f"r{j}" for j in range(len(columns))]
    link_sets = [(0, j) for j in range(1, len(columns))] if wide is not None else [(0, 1, 2)]
    selected = ", ".join(f"{_q(col)} AS {r}" for col, r in zip(columns, raw, strict=True))
    bad = f", ({bad_rows}) AS bad" if bad_rows else ", false AS bad"
    rows = f"SELECT {selected}, {count_sql} AS c, {ts_sql} AS ts{bad} FROM src"
    raw_list = ", ".join(raw)
    grouping = ", ".join("(" + ", ".join(raw[j] for j in s) + ")" for s in link_sets)
    # Each IP's network: one more set, (IP, ASN), counting its groups,
    # which are the accounts that reached the IP through the ASN.
    net_set = None if networks is None else tuple(columns.index(c) for c in networks)
    if net_set is not None:
        grouping += ", (" + ", ".join(raw[j] for j in net_set) + ")"
    # The log is first grouped on every column it is read by, and the link
    # sets (of a wide log) are grouped from those groups: one hash table
    # over the rows, where grouping sets fed from the rows keep one per set.
    # An account's rows repeat few combinations (an IP comes with its ASN),
    # so the second grouping reads far fewer rows: at 10M accounts (310M
    # rows, 35M combinations) 79 s against 105-111 s, at 1M 5.8-5.9 s
    # against 6.2-6.5 s. Where a column is unique to each row, the first
    # grouping gains nothing and costs: 1.5-1.8 times as long.
    #
    # Rows identical in every column read, timestamp included, count once
    # (the exact path's rule); without timestamps every row counts. Each
    # group keeps the (timestamp, count) of its rows whose hash recurs: its
    # equal pairs are its duplicate rows, whose extra copies come off its
    # request count. Counted inside the grouping, where a second scan of
    # the log once kept the candidates equal in every column: at 1M
    # accounts 7.0 s against 8.6 s for the two (three runs each), at 10M
    # 97 s against 102 s (one run each).
    key, n_hashed = _duplicate_candidates(con, rows, raw) if TS in types else (None, None)
    groups = _groups_less_copies(rows, raw_list, key)
    if len(link_sets) > 1:
        links = (
            f"SELECT GROUPING_ID({raw_list}) AS gid, {raw_list}, CAST(sum(n) AS BIGINT) AS n, "
            "sum(c) AS c, min(first_ts) AS first_ts, max(last_ts) AS last_ts, "
            "CAST(sum(bad) AS BIGINT) AS bad, CAST(sum(extra) AS BIGINT) AS extra"
            + (", count(*) AS g" if net_set is not None else "")
            + f" FROM ({groups}) GROUP BY GROUPING SETS ({grouping})"
        )
    else:
        # A long log's one link set is every column: the groups are its links.
        links = f"SELECT 0 AS gid, * FROM ({groups})"
    normalised = []
    for j, col in enumerate(columns):
        text = _text(col, types[col], source=raw[j])
        if col == KIND:
            text = f"lower({text})"
        normalised.append(f"NULLIF({text}, '') AS v{j}")
    # The groups are normalised as they are stored, in one table, rather
    # than copied from a table of raw groups into a second one (a statement
    # of 1.1 s at 1M accounts; the whole ingest went from 18.5 to 18.2 s
    # over three runs each, within this machine's noise), so the raw groups
    # are never held twice.
    with _memory_while_grouping(con, grouping_limit):
        con.execute(f"CREATE TEMP TABLE gn AS SELECT *, {', '.join(normalised)} FROM ({links})")
    if key is not None:
        con.unregister("dup_hashes")
    # GROUPING_ID sets a bit, first column highest, for each column left out
    # (none for a long log's one set, as its gid above).
    gids = [
        sum(1 << (len(columns) - 1 - j) for j in range(len(columns)) if j not in s)
        for s in link_sets
    ]

    first_set = f"gid = {gids[0]}"
    # Columns that may not be empty: the account, and kind and value of a long log.
    required = [0] if wide is not None else [0, 1, 2]
    stats = [
        "sum(n)",
        "sum(bad)",
        "coalesce(sum(n) FILTER (WHERE " + " OR ".join(f"v{j} IS NULL" for j in required) + "), 0)",
    ]
    rows_of = [
        first_set if j == 0 or wide is None else f"gid = {gids[j - 1]}" for j in range(len(columns))
    ]
    # A text column that normalising leaves as it is maps one-to-one. Which
    # ones do is one linear scan; the distinct counts below, hash tables over
    # every value, took 12 s at 10M accounts.
    untouched = con.execute(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE {rows_of[j]} AND CAST(r{j} AS VARCHAR) IS DISTINCT FROM v{j}) = 0"
            for j in range(len(columns))
        )
        + " FROM gn"
    ).fetchall()[0]
    for j, col in enumerate(columns):
        if types[col] == "VARCHAR" and untouched[j]:
            continue
        # One-to-one where as many normalised values (empty counting as one)
        # come out as raw values (null counting as one) go in.
        stats.append(
            f"(SELECT count(DISTINCT r{j}) + max((r{j} IS NULL)::INT) "
            f"- count(DISTINCT v{j}) - max((v{j} IS NULL)::INT) FROM gn WHERE {rows_of[j]})"
        )
    n_rows, n_bad, n_blank, *collapsed = con.execute(
        f"SELECT {', '.join(stats)} FROM gn WHERE {first_set}"
    ).fetchall()[0]
    if n_rows is None:  # no rows at all: the exact path reports that plainly
        return None
    if n_bad or n_blank or any(collapsed):
        logger.debug("duckdb: rows at fault or values that normalise together; exact path")
        return None
    empty_cells = {}
    if wide is not None:
        for col, j, gid in zip(wide, range(1, len(columns)), gids, strict=True):
            empty_cells[col] = int(
                con.execute(
                    f"SELECT coalesce(sum(n), 0) FROM gn WHERE gid = {gid} AND v{j} IS NULL"
                ).fetchall()[0][0]
            )
    if n_hashed is not None and n_hashed != n_rows:
        # The files changed between the two scans (a log still being written).
        raise RuntimeError(f"duckdb: the log gave {n_hashed} rows, then {n_rows}")
    n_duplicates = con.execute(
        f"SELECT coalesce(sum(extra), 0) FROM gn WHERE {first_set}"
    ).fetchall()[0][0]
    # Normalising is one-to-one here, so the groups of raw values already are
    # the links: no grouping again (21 s of a 10M-account log).
    # Links are held in nanoseconds whatever the log's unit, so that the
    # accounts table's creation times join them unrounded (see _time).
    kept = "c, CAST(first_ts AS TIMESTAMP_NS) AS first_ts, CAST(last_ts AS TIMESTAMP_NS) AS last_ts"
    if wide is None:
        parts = f"SELECT v0 AS a, v1 AS k, v2 AS v, {kept} FROM gn"
    else:
        parts = " UNION ALL ".join(
            f"SELECT v0 AS a, '{kind.replace(chr(39), chr(39) * 2)}' AS k, v{j} AS v, "
            f"{kept} FROM gn WHERE gid = {gid} AND v{j} IS NOT NULL"
            for kind, j, gid in zip(wide.values(), range(1, len(columns)), gids, strict=True)
        )
    con.execute(f"CREATE TEMP TABLE obs AS {parts}")
    n_observations = con.execute(
        f"SELECT coalesce(sum(c), 0) FROM gn WHERE {first_set}"
    ).fetchall()[0][0]
    if net_set is not None:
        ip, asn = (f"v{j}" for j in net_set)
        net_gid = sum(1 << (len(columns) - 1 - j) for j in range(len(columns)) if j not in net_set)
        con.execute(
            f"CREATE TEMP TABLE nets AS SELECT {ip} AS ip, first({asn} ORDER BY g DESC, {asn}) "
            f"AS asn FROM gn WHERE gid = {net_gid} AND {ip} IS NOT NULL AND {asn} IS NOT NULL "
            f"GROUP BY {ip}"
        )
    con.execute("DROP TABLE gn")
    return IngestReport(
        n_event_rows=int(n_rows),
        n_observations=int(n_observations),
        n_empty_cells=empty_cells,
        n_duplicate_rows=int(n_duplicates),
    )


def _duplicate_candidates(con: Any, rows: str, raw: list[str]) -> tuple[str | None, int]:
    """The key of the rows that may be duplicates, and the log's row count.

    Registers as ``dup_hashes`` the hashes of that key that occur more than
    once among the rows of the query ``rows``, and returns the key; None
    where no hash recurs (no row has a twin). Equal rows have equal accounts
    and timestamps, and hashing those two reads two columns, not every one:
    at 1M accounts (31M rows) the scan takes 1.0 s where the whole row's
    took 2.1 s, and the candidates it gives are 11,196 rows against 8,748.
    Where timestamps are coarse (one a day, or many requests an account in
    one second) nearly every row would be a candidate, and the whole row is
    hashed instead.
    """
    # Parquet files give their row count from their footers, without a scan.
    n_rows = con.execute("SELECT count(*) FROM src").fetchall()[0][0]
    key = f"{raw[0]}, ts"
    repeated, n_candidates = _repeated_hashes(con, f"SELECT hash({key}) FROM ({rows})", n_rows)
    if n_candidates > CANDIDATE_SHARE * n_rows:
        key = ", ".join(raw) + ", c, ts"
        repeated, _ = _repeated_hashes(con, f"SELECT hash({key}) FROM ({rows})", n_rows)
    if not len(repeated):
        return None, n_rows
    con.register("dup_hashes", pd.DataFrame({"h": repeated}))
    return key, n_rows


def _groups_less_copies(rows: str, raw_list: str, key: str | None) -> str:
    """SQL grouping the query ``rows`` on every raw column: ``n`` rows,
    requests ``c``, ``first_ts``, ``last_ts``, ``bad`` rows and ``extra``
    copies of duplicate rows, whose requests ``c`` leaves out.

    A group's rows differ only in timestamp and count, so its duplicate rows
    are the equal (timestamp, count) pairs among its rows whose ``key``
    hashes to one of ``dup_hashes`` (every copy of a duplicate row does).
    """
    totals = (
        "count(*) AS n, sum(c) AS c, min(ts) AS first_ts, max(ts) AS last_ts, "
        "count(*) FILTER (WHERE bad) AS bad"
    )
    if key is None:
        return f"SELECT {raw_list}, {totals}, 0 AS extra FROM ({rows}) GROUP BY {raw_list}"
    # Empty (NULL) for most groups; list_distinct keeps one of equal pairs,
    # NULL timestamps equal as GROUP BY has them.
    pairs = (
        "list({'t': ts, 'c': c}) FILTER (WHERE hash("
        + key
        + ") IN (SELECT h FROM dup_hashes)) AS pairs"
    )
    return (
        f"SELECT {raw_list}, n, c - coalesce(list_sum([p.c FOR p IN pairs]) "
        "- list_sum([p.c FOR p IN list_distinct(pairs)]), 0) AS c, first_ts, last_ts, bad, "
        "coalesce(len(pairs) - len(list_distinct(pairs)), 0) AS extra "
        f"FROM (SELECT {raw_list}, {totals}, {pairs} FROM ({rows}) GROUP BY {raw_list})"
    )


def _repeated_hashes(con: Any, hashes: str, n_rows: int) -> tuple[np.ndarray, int]:
    """The values that occur more than once among the ``n_rows`` 64-bit
    hashes the query ``hashes`` gives, sorted, and how many rows hold them.

    The hashes stream into one preallocated array (8 bytes a row: 2.4 GiB
    for 310M rows, never twice that), which numpy sorts in place
    (:func:`_sort_in_place`), where DuckDB's sort, ``lag(h) OVER (ORDER BY
    h)``, took 2.7 s at 1M accounts of which 1.4 s is the scan and hashing
    both need; at 10M accounts the ingest went from 210 s to 169 s and the
    whole run's peak stayed at 14.3 GiB (single runs). DuckDB's ``GROUP BY
    h HAVING count(*) > 1`` was slower still (a hash table of every row).
    """
    out = np.empty(n_rows, dtype=np.uint64)
    filled = 0
    for batch in con.sql(hashes).to_arrow_reader(1 << 20):
        part = batch.column(0).to_numpy()
        if filled + len(part) > n_rows:
            raise RuntimeError(f"duckdb: the log gave more than the {n_rows} rows it counted")
        out[filled : filled + len(part)] = part
        filled += len(part)
    if filled != n_rows:
        raise RuntimeError(f"duckdb: the log gave {filled} rows, not the {n_rows} it counted")
    _sort_in_place(out)
    same = out[1:] == out[:-1]
    repeated = np.unique(out[1:][same])
    return repeated, int(same.sum()) + len(repeated)


def _sort_in_place(values: np.ndarray, n_parts: int | None = None) -> None:
    """Sort ``values`` in place, in ``n_parts`` parts at once (one per CPU
    this process may use, where None).

    numpy sorts 64-bit integers on one core, and without its vectorised
    sort on some CPUs: 31M row hashes (1M accounts) took 2.2-2.7 s on this
    project's 2-core AMD EPYC, where it was once measured at 0.17 s. Split
    at evenly spaced ranks by a partition (linear time), every value of a
    part is at most every value of the next, so the parts sorted each in a
    thread (numpy's sort releases the GIL) make the whole sorted: 1.37 s
    against 2.7 s for 31M random 64-bit values on 2 cores. Each part holds
    at least :data:`SORT_PART_MIN_VALUES` values.
    """
    if n_parts is None:
        n_parts = min(available_cpus(), len(values) // SORT_PART_MIN_VALUES)
    if n_parts < 2:
        values.sort()
        return
    bounds = [len(values) * i // n_parts for i in range(1, n_parts)]
    values.partition(bounds)
    with ThreadPoolExecutor(max_workers=n_parts) as pool:
        # Views of values: each is sorted where it lies.
        list(pool.map(np.ndarray.sort, np.split(values, bounds)))


def _observations_by_rows(
    con: Any,
    check: _Checker,
    wide: dict | None,
    rows_sql: str,
    keys: str,
    has_time: bool,
    networks: tuple[str, str] | None = None,
) -> IngestReport:
    """The exact path: validate every row, normalise every value, drop
    duplicate rows with a full-row DISTINCT, then aggregate to table ``obs``.
    Raises the :class:`SchemaError` naming the rows at fault."""
    empty = {} if wide is None else {col: _blank(col) for col in wide}
    counted = check.run(empty)
    if check.problems:
        raise SchemaError(check.problems, source="events")
    empty_cells = {col: int(counted[col]) for col in empty}
    n_rows = counted["rows"]
    distinct = "DISTINCT " if has_time else ""
    # Rows identical in every column read, timestamp included, count once
    # (the pandas engine's rule); without timestamps every row counts.
    con.execute(f"CREATE TEMP TABLE rows AS SELECT {distinct}{keys} FROM ({rows_sql})")
    # Aggregate to one row per link while values are still text, so that the
    # joins to integer codes below see links, not requests.
    aggregate = (
        "sum(c) AS c, CAST(min(ts) AS TIMESTAMP_NS) AS first_ts, "
        "CAST(max(ts) AS TIMESTAMP_NS) AS last_ts"
    )
    if wide is None:
        con.execute(
            f"CREATE TEMP TABLE obs AS SELECT a, k, v, {aggregate} FROM rows GROUP BY a, k, v"
        )
    else:
        parts = " UNION ALL ".join(
            f"SELECT a, '{kind.replace(chr(39), chr(39) * 2)}' AS k, w{i} AS v, {aggregate} "
            f"FROM rows WHERE w{i} IS NOT NULL GROUP BY a, w{i}"
            for i, kind in enumerate(wide.values())
        )
        con.execute(f"CREATE TEMP TABLE obs AS {parts}")
    if networks is not None:
        ip, asn = (f"w{list(wide).index(c)}" for c in networks)
        con.execute(
            "CREATE TEMP TABLE nets AS SELECT ip, first(asn ORDER BY g DESC, asn) AS asn "
            f"FROM (SELECT {ip} AS ip, {asn} AS asn, count(DISTINCT a) AS g FROM rows "
            f"WHERE {ip} IS NOT NULL AND {asn} IS NOT NULL GROUP BY 1, 2) GROUP BY ip"
        )
    n_kept, n_observations = con.execute(
        "SELECT count(*), coalesce(sum(c), 0) FROM rows"
    ).fetchall()[0]
    return IngestReport(
        n_event_rows=int(n_rows),
        n_observations=int(n_observations),
        n_empty_cells=empty_cells,
        n_duplicate_rows=int(n_rows - n_kept),
    )


def _pseudonymize(
    con: Any, pseudonymizer: Pseudonymizer, network_kinds: tuple[str, str] | None = None
) -> None:
    """Replace the accounts and values of ``obs`` by their tokens (the
    accounts table's ids are replaced by the caller, before they reach
    DuckDB), and the IPs and ASNs of ``nets`` where ``network_kinds``."""
    accounts = con.execute("SELECT DISTINCT a FROM obs").fetchnumpy()["a"]
    values = con.execute("SELECT DISTINCT k, v FROM obs").fetchnumpy()
    con.register("acc_tokens", pd.DataFrame({"a": accounts, "t": pseudonymizer.tokens(accounts)}))
    con.register(
        "val_tokens",
        pd.DataFrame(
            {
                "k": values["k"],
                "v": values["v"],
                "t": pseudonymizer.tokens(values["v"], values["k"]),
            }
        ),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE obs AS SELECT acc_tokens.t AS a, obs.k, val_tokens.t AS v, "
        "c, first_ts, last_ts FROM obs JOIN acc_tokens USING (a) JOIN val_tokens USING (k, v)"
    )
    if network_kinds is not None:
        ip, asn = (_literal(k) for k in network_kinds)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE nets AS SELECT i.t AS ip, n.t AS asn FROM nets "
            f"JOIN val_tokens i ON i.k = {ip} AND i.v = nets.ip "
            f"JOIN val_tokens n ON n.k = {asn} AND n.v = nets.asn"
        )


def _aggregate(
    con: Any,
    report: IngestReport,
    table_ids: np.ndarray | None,
    table_created: np.ndarray | None,
    account_frame: pd.DataFrame | None,
    one_row_per_link: bool,
    network_kinds: tuple[str, str] | None = None,
) -> Links:
    """Integer codes for the accounts and attributes of ``obs``, and its
    links sorted by them (grouped first unless ``one_row_per_link``); with
    ``network_kinds``, each IP's network from table ``nets``."""
    if table_ids is not None:
        # Registered only now, so that these are the tokens where ids were
        # pseudonymized; pos keeps the table's row order.
        con.register("table_ids", pd.DataFrame({"a": table_ids, "pos": np.arange(len(table_ids))}))
    union = " UNION ALL SELECT a, NULL FROM table_ids" if table_ids is not None else ""
    # Byte order of UTF-8 is code point order: the same sort as Python's. An
    # account's first observation, its creation time unless the accounts
    # table gives one, is taken here in DuckDB rather than by a pandas
    # group-by over every link.
    con.execute(
        "CREATE TEMP TABLE acc AS SELECT a, first_ts, "
        "CAST(row_number() OVER (ORDER BY a) - 1 AS BIGINT) AS code "
        f"FROM (SELECT a, min(first_ts) AS first_ts FROM "
        f"(SELECT a, first_ts FROM obs{union}) GROUP BY a)"
    )
    con.execute(
        "CREATE TEMP TABLE attr AS SELECT k, v, CAST(row_number() OVER (ORDER BY k, v) - 1 AS BIGINT) AS code "
        "FROM (SELECT DISTINCT k, v FROM obs)"
    )
    if one_row_per_link:
        count, first, last, group = "c", "obs.first_ts", "last_ts", ""
    else:
        count, first, last, group = "sum(c)", "min(obs.first_ts)", "max(last_ts)", "GROUP BY 1, 2"
    # Coded first and sorted after dropping obs, whose text columns would
    # otherwise stay in memory beside the sort and the fetched arrays: at
    # 10M accounts the ingest's peak went from 16,104 MiB (17,349 without
    # the grouping) to 13,269 MiB.
    con.execute(
        f"CREATE TEMP TABLE coded AS SELECT acc.code AS account, attr.code AS attribute, "
        f"CAST({count} AS BIGINT) AS count, {first} AS first_seen, {last} AS last_seen "
        f"FROM obs JOIN acc USING (a) JOIN attr USING (k, v) {group}"
    )
    con.execute("DROP TABLE obs")
    links = con.execute("SELECT * FROM coded ORDER BY account, attribute").fetchnumpy()
    con.execute("DROP TABLE coded")
    accounts = con.execute("SELECT a, first_ts FROM acc ORDER BY code").fetchnumpy()
    account_ids = np.asarray(accounts["a"]).astype(object)
    attrs = con.execute("SELECT k, v FROM attr ORDER BY code").fetchnumpy()
    ip_network = None
    if network_kinds is not None:
        ip, asn = (_literal(k) for k in network_kinds)
        placed = con.execute(
            "SELECT i.code AS ip, n.code AS asn FROM nets "
            f"JOIN attr i ON i.k = {ip} AND i.v = nets.ip "
            f"JOIN attr n ON n.k = {asn} AND n.v = nets.asn"
        ).fetchnumpy()
        ip_network = np.full(len(attrs["k"]), -1, dtype=np.int64)
        ip_network[np.asarray(placed["ip"], dtype=np.int64)] = placed["asn"]
    n_accounts = len(account_ids)
    account = np.asarray(links["account"], dtype=np.int64)
    first_seen = _as_ns(links["first_seen"])
    created_at = _as_ns(accounts["first_ts"])
    if table_ids is not None:
        codes = con.execute(
            "SELECT code FROM table_ids JOIN acc USING (a) ORDER BY pos"
        ).fetchnumpy()["code"]
        codes = np.asarray(codes, dtype=np.int64)
        known = ~np.isnat(table_created)
        created_at[codes[known]] = table_created[known]
        # The table's rows in account-code order; accounts it lacks get NaN.
        row_of_account = np.full(n_accounts, -1, dtype=np.int64)
        row_of_account[codes] = np.arange(len(codes))
        aligned = (
            account_frame.drop(columns=ACCOUNT_ID)
            .reset_index(drop=True)
            .reindex(row_of_account)
            .reset_index(drop=True)
        )
        aligned.insert(0, ACCOUNT_ID, account_ids)
        with_links = np.count_nonzero(np.bincount(account, minlength=n_accounts))
        report = replace(report, n_accounts_without_events=int(n_accounts - with_links))
    else:
        aligned = pd.DataFrame({ACCOUNT_ID: account_ids})
    result = Links(
        account_ids=account_ids,
        attribute_kinds=np.asarray(attrs["k"], dtype=object),
        attribute_values=np.asarray(attrs["v"], dtype=object),
        account=account,
        attribute=np.asarray(links["attribute"], dtype=np.int64),
        count=np.asarray(links["count"], dtype=np.int64),
        first_seen=first_seen,
        last_seen=_as_ns(links["last_seen"]),
        created_at=created_at,
        account_table=aligned,
        report=report,
        ip_network=ip_network,
    )
    logger.info(
        "duckdb: ingested %d rows into %d links between %d accounts and %d attributes",
        report.n_event_rows,
        result.n_links,
        result.n_accounts,
        result.n_attributes,
    )
    return result


def _as_ns(values: Any) -> np.ndarray:
    """DuckDB's timestamps (masked where NULL) as datetime64[ns] with NaT."""
    series = pd.Series(np.ma.getdata(values) if np.ma.isMaskedArray(values) else values)
    out = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]", copy=True)
    if np.ma.isMaskedArray(values):
        out[np.ma.getmaskarray(values)] = np.datetime64("NaT")
    return out
