"""Ingest: read, validate, normalise and aggregate account-attribute events.

Two input shapes are accepted, both public contract:

* **long** events, one row per observation: ``account_id``, ``kind``,
  ``value``, optional ``ts`` and optional ``count`` (how many observations
  the row stands for);
* **wide** logs, one row per request, with one column per attribute kind
  (``ip``, ``asn``, ...) named through ``attributes=``. A null cell in a wide
  log means "not observed on this request" and is counted, not an error.

An optional ``accounts`` table (``account_id``, optional ``created_at``, any
other columns) adds accounts that have no events and per-account attributes
such as a payment fingerprint (``account_attributes=``).

Everything wrong with the input is collected and raised once as a
:class:`~acctgraph.exceptions.SchemaError`. Identifiers are compared as
trimmed strings; attribute kinds as trimmed lower-case strings.

Duplicated rows: when the input has a ``ts`` column, rows identical in every
column ingest reads (timestamp and count included) are one observation
delivered twice (a file read twice, a retried export) and count once; how
many were set aside is in :attr:`IngestReport.n_duplicate_rows`. Without
timestamps two identical rows cannot be told from two real observations, so
both count.

With a :class:`~acctgraph.privacy.Pseudonymizer`, account ids and attribute
values are replaced by keyed tokens here, before any later stage sees them.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .csvfiles import csv_delimiter, read_csv_strictly
from .exceptions import ConfigError, InputFileError, SchemaError
from .privacy import Pseudonymizer

__all__ = [
    "IngestReport",
    "Links",
    "load_links",
    "read_table",
    "resolve_engine",
    "stored_apart",
]

logger = logging.getLogger(__name__)

TableLike: TypeAlias = pd.DataFrame | pa.Table | str | Path | Sequence[str | Path]

ACCOUNT_ID = "account_id"
KIND = "kind"
VALUE = "value"
TS = "ts"
COUNT = "count"
CREATED_AT = "created_at"

# How many offending rows an error message lists before summarising.
_MAX_ROWS_SHOWN = 5
# Ingest engines: pandas for frames and files, DuckDB for files out of core,
# and "auto", which picks one of them (resolve_engine).
ENGINES = ("auto", "pandas", "duckdb")
# Largest count one row may carry: sums over billions of rows stay in int64.
MAX_COUNT = 10**9
# Timestamps are held as datetime64[ns], which spans 1677-09-21 to
# 2262-04-11. Casting a value outside that span to it wraps around without a
# word: a millisecond epoch read as seconds became a date in November 2024,
# the year 3000 one in 1830. Such values are refused like unparseable ones.
TIME_RANGE = "1677-09-22 to 2262-04-11"
NOT_A_TIMESTAMP = (
    f"not a timestamp from {TIME_RANGE} (ISO 8601 text, or unix seconds in a numeric column)"
)
NOT_TEXT = "not text, a number, a boolean or a date; store it as text"
# Text timestamps both engines read alike: an ISO 8601 date, optionally a
# time to the microsecond, optionally a zone (Z, an offset or " UTC"; none
# is UTC). Other text is refused, not guessed: pandas' own parser read
# "12:00" as noon today (another time each day), "01/02/2025" month first
# and "20250101" as a date, where DuckDB refused all three.
ISO_TIME = (
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?| UTC)?"
)
# Microseconds either side of 1970 that nanoseconds still hold.
MAX_EPOCH_US = np.iinfo(np.int64).max // 1000
HOUR_NS = 3_600 * 10**9
DAY_NS = 24 * HOUR_NS


@dataclass(frozen=True)
class IngestReport:
    """What ingest read and what it set aside on purpose.

    Attributes
    ----------
    n_event_rows : int
        Rows read from the events input.
    n_observations : int
        Observations those rows stand for (sum of ``count``).
    n_empty_cells : dict of str to int
        Wide input only: null or empty cells per attribute column; such a
        cell means the attribute was not observed on that row.
    n_accounts_without_events : int
        Accounts that appear only in the accounts table.
    n_duplicate_rows : int
        Rows identical to an earlier row, timestamp included, counted once.
    pseudonymized : bool
        Whether identifiers were replaced by keyed tokens.
    """

    n_event_rows: int
    n_observations: int
    n_empty_cells: dict[str, int] = field(default_factory=dict)
    n_accounts_without_events: int = 0
    n_duplicate_rows: int = 0
    pseudonymized: bool = False


@dataclass(frozen=True)
class Links:
    """Aggregated account-attribute links, integer coded.

    Accounts are numbered in sorted ``account_id`` order and attributes in
    sorted ``(kind, value)`` order, so the same input in any row order gives
    the same codes. Links are sorted by ``(account, attribute)``.

    Attributes
    ----------
    account_ids : ndarray of str, shape (n_accounts,)
    attribute_kinds, attribute_values : ndarray of str, shape (n_attributes,)
    account, attribute : ndarray of int64, shape (n_links,)
        Codes into the arrays above.
    count : ndarray of int64, shape (n_links,)
        Observations aggregated into the link.
    first_seen, last_seen : ndarray of datetime64[ns], shape (n_links,)
        NaT where the input had no timestamp.
    created_at : ndarray of datetime64[ns], shape (n_accounts,)
        From the accounts table, else the account's first event; NaT if neither.
    account_table : DataFrame
        The accounts table aligned to ``account_ids`` (extra columns kept).
    report : IngestReport
    ip_network : ndarray of int64, shape (n_attributes,), optional
        For each attribute, the code of its IP's ASN attribute (-1: not an
        IP, or its network unknown); None where no IP's network is known
        (long events without an IP-to-ASN table; see ``network_kinds`` in
        :func:`load_links` and :func:`acctgraph.networks.with_ip_networks`).
    """

    account_ids: np.ndarray
    attribute_kinds: np.ndarray
    attribute_values: np.ndarray
    account: np.ndarray
    attribute: np.ndarray
    count: np.ndarray
    first_seen: np.ndarray
    last_seen: np.ndarray
    created_at: np.ndarray
    account_table: pd.DataFrame
    report: IngestReport
    ip_network: np.ndarray | None = None

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_attributes(self) -> int:
        return len(self.attribute_values)

    @property
    def n_links(self) -> int:
        return len(self.account)

    @property
    def kinds(self) -> list[str]:
        """The attribute kinds present, sorted."""
        return list(self._kinds)

    @cached_property
    def _kinds(self) -> tuple[str, ...]:
        # Computed once: a set over every attribute's kind took 0.6 s per
        # call at 10M accounts.
        return tuple(sorted(set(self.attribute_kinds.tolist())))

    def kind_range(self, kind: str) -> tuple[int, int]:
        """Attribute codes ``[start, stop)`` of one kind: attributes are
        numbered in ``(kind, value)`` order, so each kind is one range."""
        start = int(np.searchsorted(self.attribute_kinds, kind, side="left"))
        stop = int(np.searchsorted(self.attribute_kinds, kind, side="right"))
        return start, stop

    def attributes_per_account(self, kind: str) -> np.ndarray:
        """Distinct attributes of ``kind`` per account (read-only; computed
        once per kind, as each scoring pass asks again)."""
        cache = self._per_account_cache
        if kind not in cache:
            per = np.bincount(self.account[self.link_is_kind(kind)], minlength=self.n_accounts)
            per.setflags(write=False)
            cache[kind] = per
        return cache[kind]

    def shared_attributes_per_account(self, kind: str) -> np.ndarray:
        """Distinct attributes of ``kind`` per account that another account
        holds too (read-only; computed once per kind, as each scoring pass
        asks again)."""
        cache = self._shared_per_account_cache
        if kind not in cache:
            of_kind = np.flatnonzero(self.link_is_kind(kind))
            holders = np.bincount(self.attribute[of_kind], minlength=self.n_attributes)
            shared = of_kind[holders[self.attribute[of_kind]] >= 2]
            per = np.bincount(self.account[shared], minlength=self.n_accounts)
            per.setflags(write=False)
            cache[kind] = per
        return cache[kind]

    @cached_property
    def _shared_per_account_cache(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def activity(self) -> np.ndarray:
        """Each account's largest, over kinds, summed ``count`` (for a
        request log: its number of requests); read-only, computed once."""
        # Attributes are numbered in (kind, value) order, so each kind is one
        # range of codes: with the kinds' text factorised instead, this took
        # 2.5 s at 10M accounts, against 1.1 s.
        kinds = self.kinds
        widths = [stop - start for start, stop in map(self.kind_range, kinds)]
        kind_codes = np.repeat(np.arange(len(kinds)), widths)
        n_kinds = max(len(kinds), 1)
        cell = self.account * n_kinds + kind_codes[self.attribute]
        per = np.bincount(cell, weights=self.count, minlength=self.n_accounts * n_kinds)
        most = per.reshape(self.n_accounts, n_kinds).max(axis=1)
        most.setflags(write=False)
        return most

    @cached_property
    def _per_account_cache(self) -> dict[str, np.ndarray]:
        return {}

    def first_seen_per_hour(self, kind: str) -> tuple[int, np.ndarray]:
        """The links of ``kind`` first seen in each UTC hour, as
        :func:`count_per_period` gives them (read-only; computed once per
        kind, as every scoring pass asks again)."""
        cache = self._per_hour_cache
        if kind not in cache:
            cache[kind] = count_per_period(self.first_seen[self.link_is_kind(kind)], HOUR_NS)
        return cache[kind]

    @cached_property
    def _per_hour_cache(self) -> dict[str, tuple[int, np.ndarray]]:
        return {}

    def share_per_hour_of_day(self, kind: str) -> np.ndarray:
        """The share of the links of ``kind`` first seen in each UTC hour of
        the day (0-23): the population's daily rhythm, folded from
        :meth:`first_seen_per_hour`."""
        first_hour, per_hour = self.first_seen_per_hour(kind)
        of_day = np.bincount(
            (first_hour + np.arange(len(per_hour))) % 24, weights=per_hour, minlength=24
        )
        return of_day / max(of_day.sum(), 1.0)

    def one_hour_of_day(self, kind: str, accounts: np.ndarray) -> np.ndarray:
        """For each of ``accounts`` (sorted account codes), the UTC hour of
        the day (0-23) in which it first used every one of its attributes of
        ``kind``, where it has two or more, all dated, and they agree; -1
        otherwise."""
        out = np.full(len(accounts), -1, dtype=np.int64)
        n_links = np.diff(self.account_starts)[accounts]
        # Each link's place in ``accounts``: links_of keeps their order.
        owner = np.repeat(np.arange(len(accounts)), n_links)
        of_accounts = self.links_of(accounts)
        start, stop = self.kind_range(kind)
        attribute = self.attribute[of_accounts]
        of_kind = (attribute >= start) & (attribute < stop)
        owner, of_kind = owner[of_kind], of_accounts[of_kind]
        if len(of_kind) == 0:
            return out
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        seen = self.first_seen[of_kind]
        dated = ~np.isnat(seen)
        hour = hour_of_day(seen)
        lowest = np.minimum.reduceat(np.where(dated, hour, 24), starts)
        highest = np.maximum.reduceat(np.where(dated, hour, -1), starts)
        n_of_kind = np.diff(np.r_[starts, len(of_kind)])
        n_dated = np.add.reduceat(dated.astype(np.int64), starts)
        agree = (n_of_kind >= 2) & (n_dated == n_of_kind) & (lowest == highest)
        out[owner[starts[agree]]] = lowest[agree]
        return out

    @cached_property
    def created_per_day(self) -> tuple[int, np.ndarray]:
        """The accounts created on each UTC day, as :func:`count_per_period`
        gives them (read-only; computed once)."""
        return count_per_period(self.created_at, DAY_NS)

    @cached_property
    def account_starts(self) -> np.ndarray:
        """Where each account's links start: account ``a``'s links are
        ``account_starts[a]:account_starts[a + 1]``, as links are sorted by
        account (read-only; computed once)."""
        starts = np.zeros(self.n_accounts + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.account, minlength=self.n_accounts), out=starts[1:])
        starts.setflags(write=False)
        return starts

    @cached_property
    def account_seen(self) -> tuple[np.ndarray, np.ndarray]:
        """Each account's first and last sighting over its links (NaT where
        none; read-only, computed once).

        Links are sorted by account, so each account's links are one segment
        and a ``reduceat`` per segment does it without a pandas group-by
        (which held three copies of every link's times). NaT is the smallest
        int64: ``max`` skips it as is, ``min`` once it is swapped for the
        largest.
        """
        first = np.full(self.n_accounts, np.datetime64("NaT"), dtype="datetime64[ns]")
        last = first.copy()
        if self.n_links == 0:
            first.setflags(write=False)
            last.setflags(write=False)
            return first, last
        account = self.account
        starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
        never = np.iinfo(np.int64).max
        seen = self.first_seen.astype("datetime64[ns]", copy=False).view(np.int64)
        earliest = np.minimum.reduceat(np.where(np.isnat(self.first_seen), never, seen), starts)
        latest = self.last_seen.astype("datetime64[ns]", copy=False).view(np.int64)
        latest = np.maximum.reduceat(latest, starts)
        earliest[earliest == never] = np.iinfo(np.int64).min  # NaT
        first[account[starts]] = earliest.view("datetime64[ns]")
        last[account[starts]] = latest.view("datetime64[ns]")
        first.setflags(write=False)
        last.setflags(write=False)
        return first, last

    @cached_property
    def account_id_text(self) -> pa.Array:
        """``account_ids`` as an Arrow string array (computed once): the
        results' frames take their ids from it, where ``astype(str)`` made a
        fixed-width copy of every id first."""
        return pa.array(self.account_ids, type=pa.large_string())

    def computed(self) -> dict[str, Any]:
        """The aggregates of the links computed so far (the cached
        properties and per-kind caches above), for :meth:`keep_computed` on
        this object's copy in another process."""
        return {name: self.__dict__[name] for name in _COMPUTED if name in self.__dict__}

    def keep_computed(self, computed: dict[str, Any]) -> None:
        """Keep the aggregates that a copy of these links computed in a
        forked worker (:meth:`computed`), where not computed here already:
        each is a function of the links alone, so it is the same value."""
        for name, value in computed.items():
            if name not in self.__dict__:
                self.__dict__[name] = value
            elif isinstance(value, dict):  # a per-kind cache: add the kinds missing
                for key, per_kind in value.items():
                    self.__dict__[name].setdefault(key, per_kind)

    def links_of(self, accounts: np.ndarray) -> np.ndarray:
        """Indices of the links of ``accounts`` (sorted account codes), in
        link order."""
        starts = self.account_starts[accounts]
        return concatenated_ranges(starts, self.account_starts[accounts + 1] - starts)

    def link_is_kind(self, kind: str) -> np.ndarray:
        """Boolean mask over links: the link's attribute is of ``kind``
        (integer comparisons, no string compared per link)."""
        start, stop = self.kind_range(kind)
        return (self.attribute >= start) & (self.attribute < stop)


# What Links.computed hands over: the aggregates a scoring or the results
# read for every account, a function of the links alone.
_COMPUTED = (
    "activity",
    "_per_account_cache",
    "_shared_per_account_cache",
    "_per_hour_cache",
    "created_per_day",
    "account_starts",
    "account_seen",
    "account_id_text",
)


def hour_of_day(times: np.ndarray) -> np.ndarray:
    """The UTC hour of the day (0-23) of each of ``times`` (datetime64; NaT
    gives a meaningless hour, to be masked by the caller)."""
    return (times.astype("datetime64[ns]").astype(np.int64) // HOUR_NS) % 24


def count_per_period(times: np.ndarray, period_ns: int) -> tuple[int, np.ndarray]:
    """How many of ``times`` (datetime64, NaT left out) fall in each period
    of ``period_ns`` nanoseconds since the epoch: the first period's number
    and the counts from it on (read-only)."""
    periods = times[~np.isnat(times)].astype("datetime64[ns]").astype(np.int64) // period_ns
    first = int(periods.min()) if len(periods) else 0
    counts = np.bincount(periods - first) if len(periods) else np.zeros(0, dtype=np.int64)
    counts.setflags(write=False)
    return first, counts


def concatenated_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths)])``
    without a Python loop."""
    # Each run: its start, then consecutive positions.
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(int(lengths.sum()), dtype=np.int64)


# --------------------------------------------------------------------------- #
# Reading
# --------------------------------------------------------------------------- #
def network_columns(
    wide: dict[str, str] | None, network_kinds: tuple[str, str] | None
) -> tuple[str, str] | None:
    """The columns of a wide log that hold its IPs and its ASNs, the kinds
    ``network_kinds`` names, where it has exactly one of each; else None."""
    if wide is None or network_kinds is None:
        return None
    found = [[c for c, k in wide.items() if k == kind] for kind in network_kinds]
    return (found[0][0], found[1][0]) if all(len(c) == 1 for c in found) else None


def networks_of_rows(account: np.ndarray, ip: np.ndarray, asn: np.ndarray) -> tuple:
    """Each IP's network from a wide log's rows (None where a cell is
    empty): the ASN most of its accounts reached it through, the smallest
    value among equals. Returns the IPs and their ASNs."""
    both = pd.notna(ip) & pd.notna(asn)
    seen = pd.DataFrame({"a": account[both], "ip": ip[both], "asn": asn[both]})
    holders = seen.drop_duplicates().groupby(["ip", "asn"], sort=False).size()
    best = (
        holders.rename("n")
        .reset_index()
        .sort_values(["ip", "n", "asn"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("ip")
    )
    return best["ip"].to_numpy(dtype=object), best["asn"].to_numpy(dtype=object)


def place_ips(
    links: Links, ips: np.ndarray, asns: np.ndarray, ip_kind: str, asn_kind: str
) -> np.ndarray:
    """:attr:`Links.ip_network` from pairs of distinct IPs and their ASNs
    (values as the links hold them): -1 where an attribute is no IP, or its
    IP or its ASN is not among the links."""
    network = np.full(links.n_attributes, -1, dtype=np.int64)
    if ip_kind in links.kinds and asn_kind in links.kinds:
        ip_start, ip_stop = links.kind_range(ip_kind)
        asn_start, asn_stop = links.kind_range(asn_kind)
        # Values are sorted within a kind: an Index over them finds codes.
        asn_of_ip = pd.Series(asns, index=ips, dtype=object).reindex(
            links.attribute_values[ip_start:ip_stop]
        )
        code = pd.Index(links.attribute_values[asn_start:asn_stop]).get_indexer(asn_of_ip)
        network[ip_start:ip_stop] = np.where(code >= 0, code + asn_start, -1)
    return network


def read_table(source: TableLike, *, name: str = "events") -> pd.DataFrame:
    """Read a DataFrame, a pyarrow Table, or parquet/CSV path(s) into pandas.

    Parameters
    ----------
    source : DataFrame, pyarrow.Table, str, Path or list of them
        A path may be a glob (``logs/day=*.parquet``) or a folder of parquet
        files. Files are read in sorted path order and concatenated.
    name : str
        What the table is, for error messages.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputFileError
        A path matches nothing, or a file cannot be read in its format.
    """
    if isinstance(source, pd.DataFrame):
        return source
    if isinstance(source, pa.Table):
        return source.to_pandas()
    paths = _expand_paths(source, name)
    frames = [_read_one(p, name) for p in paths]
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def _expand_paths(source: Any, name: str) -> list[Path]:
    if isinstance(source, (str, Path)):
        items = [source]
    elif isinstance(source, Sequence):
        items = list(source)
    else:
        raise SchemaError(
            [
                f"{name} must be a DataFrame, a pyarrow Table or file path(s); got {type(source).__name__}"
            ],
            source=name,
        )
    paths: list[Path] = []
    for item in items:
        if not isinstance(item, (str, Path)):
            raise SchemaError(
                [f"{name} paths must be str or Path; got an item of type {type(item).__name__}"],
                source=name,
            )
        text = str(item)
        path = Path(text)
        if any(ch in text for ch in "*?["):
            matched = sorted(Path(p) for p in glob.glob(text))
            if not matched:
                raise InputFileError(f"{name}: no file matches {text!r}")
            paths.extend(matched)
        elif path.is_dir():
            matched = sorted(path.glob("*.parquet"))
            if not matched:
                raise InputFileError(f"{name}: folder {text!r} holds no .parquet file")
            paths.extend(matched)
        elif not path.exists():
            raise InputFileError(f"{name}: file {text!r} does not exist")
        else:
            paths.append(path)
    return paths


def _is_parquet(path: Path) -> bool:
    """Whether ``path`` names a parquet file (``.parquet``, ``.pq``)."""
    return path.name.lower().endswith((".parquet", ".pq"))


def _read_one(path: Path, name: str) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if _is_parquet(path):
            return pd.read_parquet(path)
        delimiter = csv_delimiter(path)
        if delimiter is not None:
            return read_csv_strictly(path, delimiter, name)
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear error
        kind = "parquet" if _is_parquet(path) else "CSV"
        raise InputFileError(
            f"{name}: cannot read {str(path)!r} as {kind} ({type(exc).__name__}: {exc})"
        ) from exc
    raise InputFileError(
        f"{name}: {str(path)!r} has suffix {suffix!r}; expected .parquet, .pq or .csv "
        "(also .csv.gz, .tsv or .txt)"
    )


# --------------------------------------------------------------------------- #
# Validation helpers: each returns clean values plus the problems it found
# --------------------------------------------------------------------------- #
def _show(value: object) -> str:
    """A bad value as the user wrote it (numpy scalars as plain Python)."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _rows_text(positions: np.ndarray) -> str:
    shown = ", ".join(str(int(p)) for p in positions[:_MAX_ROWS_SHOWN])
    more = len(positions) - _MAX_ROWS_SHOWN
    return f"rows {shown}" + (f" and {more} more" if more > 0 else "")


# What identifiers and attribute values may be stored as: each has one text
# both engines write alike. Times, bytes and nested values have none (bytes
# that are not UTF-8 crashed the pandas engine; the engines wrote
# timestamps and lists differently).
_TEXT_LIKE = {
    "string",
    "empty",
    "integer",
    "mixed-integer",
    "integer-na",
    "floating",
    "mixed-integer-float",
    "decimal",
    "boolean",
    "date",
    "mixed",
}
_NESTED_OR_BYTES = (bytes, list, tuple, dict, set, np.ndarray)


def _not_text_kind(series: pd.Series) -> str | None:
    """The kind of values in ``series`` that have no text form acctgraph
    reads (see :data:`_TEXT_LIKE`), or None."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _not_text_kind(pd.Series(dtype.categories, dtype=object))
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        text_like = (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_date(kind)
        )
        return None if text_like else str(kind)
    if (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        and not (pd.api.types.is_object_dtype(dtype))
    ):
        return None
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind not in _TEXT_LIKE:
        return kind
    if kind == "mixed" and series.map(lambda v: isinstance(v, _NESTED_OR_BYTES)).any():
        return "mixed, with bytes or nested values"
    return None


def _clean_strings(
    series: pd.Series, column: str, problems: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed strings and a mask of null or empty entries; where the values
    have no text form, a problem naming ``column`` and placeholders."""
    kind = _not_text_kind(series)
    if kind is not None:
        problems.append(f"column {column!r}: {NOT_TEXT} (values of type {kind})")
        return np.full(len(series), "", dtype=object), np.zeros(len(series), dtype=bool)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Clean each category once, then index: O(categories), not O(rows), and
        # every row shares its category's string object.
        categories, bad = _clean_strings(
            pd.Series(series.cat.categories, dtype=object), column, problems
        )
        codes = series.cat.codes.to_numpy()
        missing = codes < 0
        if len(categories) == 0:
            return np.full(len(codes), "", dtype=object), np.ones(len(codes), dtype=bool)
        safe = np.where(missing, 0, codes)
        return categories[safe], missing | bad[safe]
    missing = series.isna().to_numpy()
    if pd.api.types.is_float_dtype(series.dtype):
        # Integral floats are ints that met a NaN on the way; print them as ints.
        values = series.to_numpy(dtype=float, na_value=np.nan)
        # Below 2**53 a float holds its integer exactly.
        integral = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
        as_int = np.where(integral, values, 0).astype(np.int64).astype(str)
        text = np.where(integral, as_int, values.astype(str))
        strings = pd.Series(text, index=series.index)
    else:
        strings = series.astype(str)
    strings = strings.str.strip()
    empty = missing | (strings == "").to_numpy()
    return strings.to_numpy(dtype=object), empty


def _check_identifier(
    frame: pd.DataFrame, column: str, problems: list[str], *, lower: bool = False
) -> np.ndarray:
    values, bad = _clean_strings(frame[column], column, problems)
    if bad.any():
        problems.append(
            f"column {column!r}: {int(bad.sum())} null or empty value(s) at {_rows_text(np.flatnonzero(bad))}"
        )
    if lower:
        values = pd.Series(values, dtype=object).str.lower().to_numpy(dtype=object)
    return values


def _parse_count(series: pd.Series, column: str, problems: list[str]) -> np.ndarray:
    # A boolean is not a count, in either engine (DuckDB reads no number in True).
    if pd.api.types.is_bool_dtype(series.dtype):
        values = np.full(len(series), np.nan)
    else:
        numbers = series
        if pd.api.types.is_object_dtype(series.dtype):
            numbers = series.mask(series.map(lambda v: isinstance(v, (bool, np.bool_))))
        values = pd.to_numeric(numbers, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = (
            ~np.isfinite(values)
            | (values < 1)
            | (values > MAX_COUNT)
            | (values != np.round(values))
        )
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(_show(series.iloc[i]) for i in where[:_MAX_ROWS_SHOWN])
        problems.append(
            f"column {column!r}: must be a whole number in [1, {MAX_COUNT:.0e}]; "
            f"got {shown} at {_rows_text(where)}"
        )
        values = np.where(bad, 1, values)
    return values.astype(np.int64)


def _parse_time(series: pd.Series, column: str, problems: list[str]) -> np.ndarray:
    """Timestamps as naive UTC datetime64[ns]; numbers are unix seconds, to
    the microsecond."""
    # Empty strings are missing timestamps, not unparseable ones.
    blank = np.zeros(len(series), dtype=bool)
    if pd.api.types.is_bool_dtype(series.dtype):
        # Not times, in either engine.
        held = np.full(len(series), np.datetime64("NaT"), dtype="datetime64[ns]")
    elif pd.api.types.is_numeric_dtype(series.dtype):
        held = _as_nanoseconds(_seconds_as_times(series.to_numpy(dtype=float, na_value=np.nan)))
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        held = _as_nanoseconds(parsed.to_numpy())
    else:
        held, blank = _text_times(series)
    bad = np.isnat(held) & series.notna().to_numpy() & ~blank
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(_show(series.iloc[i]) for i in where[:_MAX_ROWS_SHOWN])
        problems.append(f"column {column!r}: {NOT_A_TIMESTAMP}: {shown} at {_rows_text(where)}")
    return held


def _text_times(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Times of a text (or object) column as naive UTC datetime64[ns], NaT
    where the text is not :data:`ISO_TIME` or the time is out of range, and
    a mask of the text that is blank. In an object column, numbers are unix
    seconds and other objects (datetimes) are read as pandas reads them."""
    held = np.full(len(series), np.datetime64("NaT"), dtype="datetime64[ns]")
    present = series.notna().to_numpy()
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        kind = np.where(present, _TEXT, _OTHER)
    else:
        kind = series.map(_value_kind).to_numpy(dtype=np.int8)
    is_text = kind == _TEXT
    text = series[is_text].astype(str).str.strip()
    blank = np.zeros(len(series), dtype=bool)
    blank[is_text] = (text == "").to_numpy(dtype=bool)
    iso = text.str.fullmatch(ISO_TIME).to_numpy(dtype=bool)
    rows = np.flatnonzero(is_text)[iso]
    if len(rows):
        # The one zone name ISO_TIME allows; text without a zone is UTC too.
        parsed = pd.to_datetime(
            text[iso].str.removesuffix(" UTC"), errors="coerce", utc=True, format="ISO8601"
        )
        held[rows] = _as_nanoseconds(parsed.dt.tz_convert(None).to_numpy())
    # pandas reads a number among objects as nanoseconds: 1970, silently.
    rows = np.flatnonzero(kind == _NUMBER)
    if len(rows):
        seconds = series.iloc[rows].to_numpy(dtype=float)
        held[rows] = _as_nanoseconds(_seconds_as_times(seconds))
    rows = np.flatnonzero((kind == _OTHER) & present)
    if len(rows):
        parsed = pd.to_datetime(series.iloc[rows], errors="coerce", utc=True, format="mixed")
        held[rows] = _as_nanoseconds(parsed.dt.tz_convert(None).to_numpy())
    return held, blank


_TEXT, _NUMBER, _OTHER = 0, 1, 2


def _value_kind(value: object) -> int:
    """Text, a number (not a boolean) or another object, for :func:`_text_times`."""
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    ):
        return _NUMBER
    return _OTHER


def _seconds_as_times(seconds: np.ndarray) -> np.ndarray:
    """Unix ``seconds`` (float) as datetime64[us], NaT where not finite or
    beyond :data:`MAX_EPOCH_US`.

    Rounded to the microsecond, to nearest even, as DuckDB's
    ``to_timestamp`` rounds them (equal on 200,000 random values and on
    ties): through nanoseconds, a float's noise showed (0.1 s became
    0.099999905 s) and the engines differed.
    """
    micros = np.round(seconds * 1e6)
    within = np.abs(micros) <= MAX_EPOCH_US  # False for NaN
    times = np.full(len(seconds), np.datetime64("NaT"), dtype="datetime64[us]")
    times[within] = micros[within].astype(np.int64).view("datetime64[us]")
    return times


def _as_nanoseconds(values: np.ndarray) -> np.ndarray:
    """Naive datetime64 ``values`` of any unit as datetime64[ns], NaT where a
    value lies outside what nanoseconds hold (see :data:`TIME_RANGE`)."""
    unit, _ = np.datetime_data(values.dtype)
    ticks = values.view(np.int64)
    # int64's smallest value is NaT itself; every unit pandas keeps is a
    # whole number of nanoseconds.
    limit = np.iinfo(np.int64).max // int(np.timedelta64(1, unit) // np.timedelta64(1, "ns"))
    outside = (ticks > limit) | (ticks < -limit)
    held = values.astype("datetime64[ns]")
    held[outside] = np.datetime64("NaT")
    return held


def _normalise_attribute_spec(
    spec: Sequence[str] | Mapping[str, str] | None, name: str
) -> dict[str, str] | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        mapping = {str(col): str(kind).strip().lower() for col, kind in spec.items()}
    else:
        mapping = {str(col): str(col).strip().lower() for col in spec}
    if not mapping:
        raise SchemaError([f"{name} names no column"], source=name)
    return mapping


def stored_apart(paths: list[Path], columns: Sequence[str]) -> str | None:
    """The first of ``columns`` that parquet files among ``paths`` store in
    more than one way, with one file named for each way; None where each
    column is stored one way.

    The DuckDB engine reads a glob as one table, whose columns take a type
    every file's converts to, while the pandas engine reads each value by
    its own type. Where the ways differ, so did the engines: unix seconds
    beside timestamps failed to convert, and beside text became text, no
    time; an account id ``7`` in one file and ``Decimal("7.00")`` in another
    became one account, and ``True`` beside text became ``'true'``. Text,
    integers and floats are one way for identifiers and values (the engines
    write them alike), numbers one way for times.
    """
    schemas = []
    for path in paths:
        if _is_parquet(path):
            try:
                schemas.append((path, pq.read_schema(path)))
            except Exception:  # noqa: BLE001 - the engine's reader names the file it cannot read
                return None
    for column in columns:
        ways: dict[str, Path] = {}
        for path, schema in schemas:
            if column in schema.names:
                ways.setdefault(_storage_way(column, schema.field(column).type), path)
        if len(ways) > 1:
            stored = ", ".join(f"{way} in {path.name!r}" for way, path in ways.items())
            return f"column {column!r}: stored as {stored}"
    return None


def _storage_way(column: str, stored: pa.DataType) -> str:
    """How a file stores ``column``, as far as the engines read it alike."""
    numbers = pa.types.is_integer(stored) or pa.types.is_floating(stored)
    text = pa.types.is_string(stored) or pa.types.is_large_string(stored)
    if column == TS:
        if pa.types.is_timestamp(stored) or pa.types.is_date(stored):
            return "times"
        return "numbers" if numbers else "text" if text else str(stored)
    return "text or numbers" if numbers or text else str(stored)


def resolve_engine(
    engine: str,
    events: TableLike,
    attributes: Sequence[str] | Mapping[str, str] | None = None,
) -> str:
    """The engine that reads ``events``: ``engine`` itself, or for
    ``"auto"``, ``"duckdb"`` where ``events`` are CSV files, or parquet
    files storing each column read one way (:func:`stored_apart`; the
    columns read are the long log's and ``attributes``), and the duckdb
    package is installed; else ``"pandas"``.

    Both engines give the same links (``tests/test_duckdb_engine.py``), so
    the choice changes only speed and memory: DuckDB never holds the raw log
    in pandas, and at 1M accounts ingested a log in 13 s against the pandas
    engine's 127 s and 14 GiB (``benchmarks/bench_scale.py``).

    Raises
    ------
    ConfigError
        ``engine`` is none of :data:`ENGINES`.
    SchemaError
        ``attributes`` names no column.
    InputFileError
        A path of ``events`` matches no file.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {ENGINES}; got {engine!r}")
    if engine != "auto":
        return engine
    if isinstance(events, (pd.DataFrame, pa.Table)) or importlib.util.find_spec("duckdb") is None:
        return "pandas"
    files = _expand_paths(events, "events")
    # DuckDB reads parquet or CSV files, not both at once, and parquet files
    # that store each column one way; pandas reads both mixes.
    columns = [
        ACCOUNT_ID,
        KIND,
        VALUE,
        TS,
        COUNT,
        *(_normalise_attribute_spec(attributes, "attributes") or {}),
    ]
    parquet = all(_is_parquet(p) for p in files)
    if (parquet and stored_apart(files, columns) is None) or all(
        csv_delimiter(p) is not None for p in files
    ):
        return "duckdb"
    return "pandas"


# --------------------------------------------------------------------------- #
# Main entry
# --------------------------------------------------------------------------- #
def load_links(
    events: TableLike,
    *,
    accounts: TableLike | None = None,
    attributes: Sequence[str] | Mapping[str, str] | None = None,
    account_attributes: Sequence[str] | Mapping[str, str] | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    engine: str = "auto",
    memory_limit: str | None = None,
    network_kinds: tuple[str, str] | None = None,
) -> Links:
    """Validate events (and accounts) and aggregate them into :class:`Links`.

    Parameters
    ----------
    events : DataFrame, pyarrow.Table, path(s) to parquet or CSV
        Long events (``account_id, kind, value[, ts][, count]``), or a wide
        log when ``attributes`` is given.
    accounts : same types, optional
        ``account_id`` plus optional ``created_at`` and any other columns.
    attributes : list of str or dict of column to kind, optional
        Columns of a wide ``events`` log that hold attributes. A list uses
        each column name as the kind; a dict renames (``{"client_ip": "ip"}``).
    account_attributes : list of str or dict of column to kind, optional
        Columns of ``accounts`` that hold attributes, e.g.
        ``{"payment_fingerprint": "payment"}``.
    pseudonymizer : Pseudonymizer, optional
        Replace account ids and attribute values by keyed tokens.
    engine : {"auto", "pandas", "duckdb"}, default="auto"
        ``"duckdb"`` validates and aggregates event *files* inside embedded
        DuckDB, out of core, so the raw log is never held in pandas; it gives
        the same links as ``"pandas"`` (:mod:`acctgraph.duckdb_engine`).
        ``"auto"`` is DuckDB for files where the duckdb package is
        installed, pandas otherwise (:func:`resolve_engine`).
    memory_limit : str, optional
        Where DuckDB reads: its memory limit, e.g. ``"8GB"``; default 40% of
        physical memory, 60% while it groups the log.
    network_kinds : (str, str), optional
        The kinds of IPs and of their networks (ASNs), e.g. ``("ip",
        "asn")``: a wide log with one column of each places each IP in the
        ASN most of its accounts reached it through
        (:attr:`Links.ip_network`; the smallest value among equals).

    Returns
    -------
    Links

    Raises
    ------
    SchemaError
        Listing every missing column and bad value found.
    InputFileError
        A path cannot be read.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"account_id": ["a", "b"], "kind": "ip", "value": "1.2.3.4"})
    >>> load_links(ev).n_links
    2
    """
    if resolve_engine(engine, events, attributes) == "duckdb":
        from .duckdb_engine import load_links_duckdb

        return load_links_duckdb(
            events,
            accounts=accounts,
            attributes=attributes,
            account_attributes=account_attributes,
            pseudonymizer=pseudonymizer,
            memory_limit=memory_limit,
            network_kinds=network_kinds,
        )
    event_frame = read_table(events, name="events")
    account_frame = None if accounts is None else read_table(accounts, name="accounts")
    wide = _normalise_attribute_spec(attributes, "attributes")
    per_account = _normalise_attribute_spec(account_attributes, "account_attributes")
    if per_account is not None and account_frame is None:
        raise SchemaError(["account_attributes given but no accounts table"], source="accounts")

    # Validate both tables before raising, so one error lists every problem.
    errors: list[SchemaError] = []
    networks = network_columns(wide, network_kinds)
    try:
        long, report, ip_asn = _events_to_long(event_frame, wide, networks)
    except SchemaError as exc:
        errors.append(exc)
    try:
        account_ids_table, created_table, extra_long, account_frame = _accounts_to_long(
            account_frame, per_account
        )
    except SchemaError as exc:
        errors.append(exc)
    _raise_together(errors)
    if extra_long is not None:
        long = {key: np.concatenate([long[key], extra_long[key]]) for key in long}
    if pseudonymizer is not None:
        long["account"] = pseudonymizer.tokens(long["account"])
        long["value"] = pseudonymizer.tokens(long["value"], long["kind"])
        if ip_asn is not None:
            ip_asn = (
                pseudonymizer.tokens(ip_asn[0], network_kinds[0]),
                pseudonymizer.tokens(ip_asn[1], network_kinds[1]),
            )
        if account_ids_table is not None:
            account_ids_table = pseudonymizer.tokens(account_ids_table)
            account_frame = account_frame.assign(**{ACCOUNT_ID: account_ids_table})
        report = replace(report, pseudonymized=True)

    links = _aggregate(long, account_ids_table, created_table, account_frame, report)
    if ip_asn is None:
        return links
    return replace(links, ip_network=place_ips(links, *ip_asn, *network_kinds))


def _raise_together(errors: list[SchemaError | None]) -> None:
    """Raise the errors of the events and accounts tables (None where a table
    had none) as one, which lists every problem of both."""
    errors = [e for e in errors if e is not None]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SchemaError(
            [f"{e.source}: {p}" for e in errors for p in e.problems], source="events and accounts"
        )


def _events_to_long(
    frame: pd.DataFrame, wide: dict[str, str] | None, networks: tuple[str, str] | None = None
) -> tuple[dict[str, np.ndarray], IngestReport, tuple | None]:
    """The events as long arrays, the report, and where ``networks`` names
    a wide log's IP and ASN columns, each IP's network
    (:func:`networks_of_rows`; else None)."""
    problems: list[str] = []
    required = [ACCOUNT_ID] + (list(wide) if wide else [KIND, VALUE])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        hint = "" if wide else " (for a wide log, name its attribute columns with attributes=)"
        problems.append(
            f"missing column(s) {missing}; found {sorted(map(str, frame.columns))}{hint}"
            + _delimiter_hint(frame)
        )
        raise SchemaError(problems, source="events")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    account = _check_identifier(frame, ACCOUNT_ID, problems)
    count = _parse_count(frame[COUNT], COUNT, problems) if COUNT in frame else np.ones(n, np.int64)
    ts = (
        _parse_time(frame[TS], TS, problems)
        if TS in frame
        else np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    )
    empty_cells: dict[str, int] = {}
    if wide is None:
        kind = _check_identifier(frame, KIND, problems, lower=True)
        value = _check_identifier(frame, VALUE, problems)
        first = _first_occurrences(TS in frame, account, kind, value, count, ts)
        long = {
            "account": account[first],
            "kind": kind[first],
            "value": value[first],
            "count": count[first],
            "ts": ts[first],
        }
    else:
        cleaned = {column: _clean_strings(frame[column], column, problems) for column in wide}
        first = _first_occurrences(
            TS in frame,
            account,
            count,
            ts,
            *(np.where(empty, None, values) for values, empty in cleaned.values()),
        )
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("account", "kind", "value", "count", "ts")
        }
        for column, kind_name in wide.items():
            values, empty = cleaned[column]
            empty_cells[column] = int(empty.sum())
            keep = ~empty & first
            parts["account"].append(account[keep])
            parts["kind"].append(np.full(int(keep.sum()), kind_name, dtype=object))
            parts["value"].append(values[keep])
            parts["count"].append(count[keep])
            parts["ts"].append(ts[keep])
        long = {k: np.concatenate(v) for k, v in parts.items()}
    if problems:
        raise SchemaError(problems, source="events")
    ip_asn = None
    if networks is not None:
        ip_asn = networks_of_rows(
            account, *(np.where(cleaned[c][1], None, cleaned[c][0]) for c in networks)
        )
    n_duplicates = n - int(first.sum())
    if n_duplicates:
        logger.info(
            "counted %d duplicated event rows once (same timestamp and values)", n_duplicates
        )
    if any(empty_cells.values()):
        logger.info("wide input: empty attribute cells per column: %s", empty_cells)
    report = IngestReport(
        n_event_rows=n,
        n_observations=int(count[first].sum()),
        n_empty_cells=empty_cells,
        n_duplicate_rows=n_duplicates,
    )
    return long, report, ip_asn


def _delimiter_hint(frame: pd.DataFrame) -> str:
    """A CSV read with the wrong delimiter has one column whose name holds the rest."""
    if len(frame.columns) == 1:
        name = str(frame.columns[0])
        for sep in (";", "\t", "|"):
            if sep in name:
                return f"; the file seems to be delimited by {sep!r}, not ','"
    return ""


def _first_occurrences(has_time: bool, *columns: np.ndarray) -> np.ndarray:
    """Rows to keep: all of them without timestamps, else the first of each
    group of rows identical in every column."""
    n = len(columns[0])
    if not has_time or n == 0:
        return np.ones(n, dtype=bool)
    frame = pd.DataFrame({str(i): col for i, col in enumerate(columns)})
    return ~frame.duplicated(keep="first").to_numpy()


def _accounts_to_long(
    frame: pd.DataFrame | None, per_account: dict[str, str] | None
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, np.ndarray] | None, pd.DataFrame | None]:
    if frame is None:
        return None, None, None, None
    problems: list[str] = []
    required = [ACCOUNT_ID] + (list(per_account) if per_account else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(
            [f"missing column(s) {missing}; found {sorted(map(str, frame.columns))}"],
            source="accounts",
        )
    frame = frame.reset_index(drop=True)
    ids = _check_identifier(frame, ACCOUNT_ID, problems)
    dup = pd.Series(ids).duplicated(keep="first").to_numpy() & ~pd.isna(ids)
    if dup.any():
        problems.append(
            f"column {ACCOUNT_ID!r}: {int(dup.sum())} duplicated account id(s) at {_rows_text(np.flatnonzero(dup))}"
        )
    n = len(frame)
    created = (
        _parse_time(frame[CREATED_AT], CREATED_AT, problems)
        if CREATED_AT in frame
        else np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    )
    extra = None
    if per_account:
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("account", "kind", "value", "count", "ts")
        }
        for column, kind_name in per_account.items():
            values, empty = _clean_strings(frame[column], column, problems)
            keep = ~empty
            parts["account"].append(ids[keep])
            parts["kind"].append(np.full(int(keep.sum()), kind_name, dtype=object))
            parts["value"].append(values[keep])
            parts["count"].append(np.ones(int(keep.sum()), np.int64))
            parts["ts"].append(created[keep])
        extra = {k: np.concatenate(v) for k, v in parts.items()}
    if problems:
        raise SchemaError(problems, source="accounts")
    table = frame.drop(columns=[c for c in (per_account or {}) if c != ACCOUNT_ID])
    table = table.assign(**{ACCOUNT_ID: ids})
    return ids, created, extra, table


def _aggregate(
    long: dict[str, np.ndarray],
    table_ids: np.ndarray | None,
    table_created: np.ndarray | None,
    table: pd.DataFrame | None,
    report: IngestReport,
) -> Links:
    event_ids = long["account"]
    all_ids = event_ids if table_ids is None else np.concatenate([event_ids, table_ids])
    account_codes_all, account_ids = pd.factorize(pd.Series(all_ids, dtype=object), sort=True)
    account_ids = np.asarray(account_ids, dtype=object)
    account = account_codes_all[: len(event_ids)].astype(np.int64)

    kind_codes, kinds = pd.factorize(pd.Series(long["kind"], dtype=object), sort=True)
    value_codes, values = pd.factorize(pd.Series(long["value"], dtype=object), sort=True)
    pair = kind_codes.astype(np.int64) * max(len(values), 1) + value_codes
    attr_keys, attribute = np.unique(pair, return_inverse=True)
    attribute_kinds = np.asarray(kinds, dtype=object)[attr_keys // max(len(values), 1)]
    attribute_values = np.asarray(values, dtype=object)[attr_keys % max(len(values), 1)]

    n_attr = max(len(attr_keys), 1)
    link_key = account * n_attr + attribute.astype(np.int64)
    grouped = (
        pd.DataFrame({"key": link_key, "count": long["count"], "ts": long["ts"]})
        .groupby("key", sort=True)
        .agg(count=("count", "sum"), first_seen=("ts", "min"), last_seen=("ts", "max"))
    )
    keys = grouped.index.to_numpy(dtype=np.int64)

    n_accounts = len(account_ids)
    created_at = np.full(n_accounts, np.datetime64("NaT"), dtype="datetime64[ns]")
    link_account = keys // n_attr
    first_seen = grouped["first_seen"].to_numpy(dtype="datetime64[ns]")
    if len(keys):
        # Accounts without a created_at fall back to their first observation.
        first_by_account = (
            pd.Series(first_seen).groupby(link_account).min().reindex(range(n_accounts))
        )
        created_at = first_by_account.to_numpy(dtype="datetime64[ns]", copy=True)
    if table_ids is not None:
        table_codes = account_codes_all[len(event_ids) :]
        known = ~np.isnat(table_created)
        created_at[table_codes[known]] = table_created[known]
        aligned = table.set_index(ACCOUNT_ID).reindex(account_ids).reset_index()
        n_without = n_accounts - len(np.unique(account))
        report = replace(report, n_accounts_without_events=int(n_without))
    else:
        aligned = pd.DataFrame({ACCOUNT_ID: account_ids})

    links = Links(
        account_ids=account_ids,
        attribute_kinds=attribute_kinds,
        attribute_values=attribute_values,
        account=link_account,
        attribute=keys % n_attr,
        count=grouped["count"].to_numpy(dtype=np.int64),
        first_seen=first_seen,
        last_seen=grouped["last_seen"].to_numpy(dtype="datetime64[ns]"),
        created_at=created_at,
        account_table=aligned,
        report=report,
    )
    logger.info(
        "ingested %d rows into %d links between %d accounts and %d attributes",
        report.n_event_rows,
        links.n_links,
        links.n_accounts,
        links.n_attributes,
    )
    return links
