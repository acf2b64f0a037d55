"""The DuckDB engine gives what the pandas engine gives, from files."""

import datetime
import decimal
import gzip
import importlib.util
import json
import os
import re
import subprocess
import sys
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import acctgraph as ag
from acctgraph import duckdb_engine, ingest
from acctgraph.cli import main
from acctgraph.ingest import ISO_TIME

LINK_FIELDS = (
    "account_ids",
    "attribute_kinds",
    "attribute_values",
    "account",
    "attribute",
    "count",
    "first_seen",
    "last_seen",
    "created_at",
    "ip_network",
)


def _same_links(a, b):
    for name in LINK_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.report == b.report


def _refused_by_both_engines(path, match, **options):
    """Both engines refuse the log at ``path`` with an InputFileError
    matching ``match``."""
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.InputFileError, match=match):
            ag.load_links(path, engine=engine, **options)


def _log_of_times(folder, times):
    """A long log, one account per time in ``times`` (a list or an Arrow
    array), written as parquet to ``folder``; its path."""
    n = len(times)
    path = folder / "events.parquet"
    pq.write_table(
        pa.table(
            {
                "account_id": [f"a{i}" for i in range(n)],
                "kind": ["ip"] * n,
                "value": ["1"] * n,
                "ts": times,
            }
        ),
        path,
    )
    return path


def test_same_result_as_pandas_on_a_world_in_daily_files(small_world, tmp_path):
    events = small_world.events
    day = events["ts"].dt.month
    for month, part in events.groupby(day):
        part.to_parquet(tmp_path / f"events-{month:02d}.parquet")
    small_world.accounts.to_parquet(tmp_path / "accounts.parquet")
    glob = str(tmp_path / "events-*.parquet")
    accounts = tmp_path / "accounts.parquet"
    links = ag.load_links(glob, accounts=accounts, engine="pandas")
    _same_links(links, ag.load_links(glob, accounts=accounts, engine="duckdb"))
    # Links come sorted by (account, attribute), each pair once: the results
    # stage orders cluster_links by relying on it.
    key = links.account * links.n_attributes + links.attribute
    assert (np.diff(key) > 0).all()
    by_pandas = ag.detect(glob, accounts=accounts, engine="pandas")
    by_duckdb = ag.detect(glob, accounts=accounts, engine="duckdb", memory_limit="1GB")
    for name in ("accounts", "clusters", "evidence", "cluster_links", "timeline"):
        assert_frame_equal(getattr(by_pandas, name), getattr(by_duckdb, name))
    assert by_duckdb.provenance["engine"] == "duckdb"


def test_same_links_from_a_wide_csv_log_with_account_attributes(tmp_path):
    requests = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", " c ", "a", "7.0"],
            "client_ip": ["1.1.1.1", "2.2.2.2", "1.1.1.1", "", "1.1.1.1", "3.3.3.3"],
            "asn": ["AS1", "AS1", "AS1", "AS2", "AS1", None],
            "ts": [
                "2025-01-01T10:00:00",
                "2025-01-02",
                "2025-01-01",
                "2025-01-03",
                "2025-01-01T10:00:00",
                "",
            ],
        }
    )
    requests.to_csv(tmp_path / "requests.csv", index=False)
    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "card": ["p1", "p1", None, "p2"]})
    spec = {
        "attributes": {"client_ip": "ip", "asn": "asn"},
        "account_attributes": {"card": "payment"},
    }
    pandas_links = ag.load_links(
        tmp_path / "requests.csv", accounts=accounts, **spec, engine="pandas"
    )
    duckdb_links = ag.load_links(
        tmp_path / "requests.csv", accounts=accounts, engine="duckdb", **spec
    )
    _same_links(pandas_links, duckdb_links)
    assert duckdb_links.report.n_duplicate_rows == 1
    assert duckdb_links.report.n_empty_cells == {"client_ip": 1, "asn": 1}


@pytest.mark.parametrize(
    "spec",
    [
        # Two columns of one kind: the same IP in both is one link.
        {"attributes": {"ip": "ip", "ip_2": "ip", "asn": "asn"}},
        # A kind both in the log and in the accounts table, whose two
        # columns hold the same card for account a.
        {
            "attributes": {"ip": "ip", "card": "payment"},
            "account_attributes": {"card_1": "payment", "card_2": "payment"},
        },
        # Distinct kinds everywhere: the links need no second grouping.
        {
            "attributes": {"ip": "ip", "asn": "asn"},
            "account_attributes": {"card_1": "payment", "card_2": "payment"},
        },
    ],
)
def test_links_named_twice_are_counted_once_as_with_pandas(tmp_path, spec):
    requests = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "b", "c"],
            "ip": ["1.1.1.1", "2.2.2.2", "1.1.1.1", "3.3.3.3", "2.2.2.2"],
            "ip_2": ["2.2.2.2", "2.2.2.2", "1.1.1.1", None, "9.9.9.9"],
            "asn": ["AS1", "AS1", "AS1", "AS2", "AS1"],
            "card": ["p1", None, "p1", "p2", None],
            "ts": pd.to_datetime(
                ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05"]
            ),
        }
    )
    requests.to_parquet(tmp_path / "requests.parquet")
    accounts = pd.DataFrame(
        {"account_id": ["a", "b", "c"], "card_1": ["p1", "p3", None], "card_2": ["p1", None, "p1"]}
    )
    table = accounts if "account_attributes" in spec else None
    by_pandas = ag.load_links(
        tmp_path / "requests.parquet", accounts=table, **spec, engine="pandas"
    )
    by_duckdb = ag.load_links(
        tmp_path / "requests.parquet", accounts=table, engine="duckdb", **spec
    )
    _same_links(by_pandas, by_duckdb)
    key = by_duckdb.account * by_duckdb.n_attributes + by_duckdb.attribute
    assert (np.diff(key) > 0).all()


def test_same_tokens_when_pseudonymized(small_world, tmp_path):
    small_world.events.to_parquet(tmp_path / "events.parquet")
    p = ag.Pseudonymizer("key-of-at-least-sixteen-bytes", clear_kinds={"asn"})
    _same_links(
        ag.load_links(tmp_path / "events.parquet", pseudonymizer=p, engine="pandas"),
        ag.load_links(tmp_path / "events.parquet", pseudonymizer=p, engine="duckdb"),
    )


def test_bad_values_are_named_with_their_file_and_row(tmp_path):
    pd.DataFrame(
        {
            "account_id": ["a", None, "c", ""],
            "kind": ["ip", "ip", "ip", "ip"],
            "value": ["1", "2", "3", "4"],
            "count": ["1", "many", "0", "2"],
            "ts": ["2025-01-01", "yesterday", "", "2025-01-02"],
        }
    ).to_parquet(tmp_path / "day.parquet")
    with pytest.raises(ag.SchemaError) as info:
        ag.load_links(tmp_path / "day.parquet", engine="duckdb")
    problems = info.value.problems
    assert any("'account_id'" in p and "day.parquet:1, day.parquet:3" in p for p in problems)
    assert any("'count'" in p and "'many'" in p and "day.parquet:1" in p for p in problems)
    assert any("'ts'" in p and "'yesterday'" in p for p in problems)
    assert len(problems) == 3


def test_problems_in_event_files_and_the_accounts_table_are_reported_together(tmp_path):
    # The accounts table is read in a thread while DuckDB scans the events:
    # its problems still come in one error with theirs, and an unreadable
    # accounts file is still named.
    pd.DataFrame({"account_id": ["a", None], "kind": "ip", "value": ["1", "2"]}).to_parquet(
        tmp_path / "events.parquet"
    )
    pd.DataFrame({"account_id": ["a", "a"], "created_at": ["2025-01-01", "not a date"]}).to_parquet(
        tmp_path / "accounts.parquet"
    )
    with pytest.raises(ag.SchemaError) as info:
        ag.load_links(
            tmp_path / "events.parquet", accounts=tmp_path / "accounts.parquet", engine="duckdb"
        )
    assert info.value.source == "events and accounts"
    problems = info.value.problems
    assert any(p.startswith("events: column 'account_id'") for p in problems)
    assert any(
        p.startswith("accounts: column 'account_id'") and "duplicated" in p for p in problems
    )
    assert any(p.startswith("accounts: column 'created_at'") for p in problems)
    with pytest.raises(ag.InputFileError, match="missing.parquet"):
        ag.load_links(
            tmp_path / "events.parquet", accounts=tmp_path / "missing.parquet", engine="duckdb"
        )


def test_the_accounts_table_is_read_beside_the_scan_only_where_known_to_be_small(
    tmp_path, monkeypatch
):
    import threading

    pd.DataFrame({"account_id": ["a", "b", "c"], "kind": "ip", "value": "1"}).to_parquet(
        tmp_path / "events.parquet"
    )
    table = pd.DataFrame({"account_id": ["a", "b", "d"], "payment_fp": ["c1", "c1", "c2"]})
    table.to_parquet(tmp_path / "accounts.parquet")
    table.to_csv(tmp_path / "accounts.csv", index=False)
    threads = []
    read_accounts = duckdb_engine._read_accounts

    def spied(*args):
        threads.append(threading.current_thread() is threading.main_thread())
        return read_accounts(*args)

    monkeypatch.setattr(duckdb_engine, "_read_accounts", spied)

    def load(accounts):
        return ag.load_links(
            tmp_path / "events.parquet",
            accounts=accounts,
            account_attributes={"payment_fp": "payment"},
            engine="duckdb",
        )

    beside = load(tmp_path / "accounts.parquet")
    assert threads == [False]
    assert duckdb_engine._known_rows(tmp_path / "accounts.parquet") == 3
    # A CSV file's rows are not known without reading it: read after the scan.
    after_csv = load(tmp_path / "accounts.csv")
    monkeypatch.setattr(duckdb_engine, "ACCOUNTS_BESIDE_MAX_ROWS", 2)
    after = load(tmp_path / "accounts.parquet")
    assert threads == [False, True, True]
    for field in LINK_FIELDS:
        np.testing.assert_array_equal(getattr(beside, field), getattr(after, field))
        np.testing.assert_array_equal(getattr(beside, field), getattr(after_csv, field))
    assert_frame_equal(beside.account_table, after.account_table)


def test_no_spill_folder_is_left_behind_after_a_run_or_a_failure(tmp_path, monkeypatch):
    spill_root = tmp_path / "tmp"
    spill_root.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spill_root))
    pd.DataFrame({"account_id": ["a", "b"], "kind": "ip", "value": ["1", "1"]}).to_parquet(
        tmp_path / "ok.parquet"
    )
    pd.DataFrame({"account_id": ["a", None], "kind": "ip", "value": ["1", "1"]}).to_parquet(
        tmp_path / "bad.parquet"
    )
    assert ag.load_links(tmp_path / "ok.parquet", engine="duckdb").n_links == 2
    with pytest.raises(ag.SchemaError, match="'account_id'"):
        ag.load_links(tmp_path / "bad.parquet", engine="duckdb")
    assert list(spill_root.iterdir()) == []


def test_missing_columns_frames_and_unknown_engines_are_refused(tmp_path):
    pd.DataFrame({"account_id": ["a"], "val": ["x"]}).to_parquet(tmp_path / "e.parquet")
    with pytest.raises(ag.SchemaError, match=r"missing column\(s\) \['kind', 'value'\]"):
        ag.load_links(tmp_path / "e.parquet", engine="duckdb")
    with pytest.raises(ag.ConfigError, match="reads files"):
        ag.load_links(pd.DataFrame({"account_id": ["a"]}), engine="duckdb")
    with pytest.raises(ag.ConfigError, match="engine must be"):
        ag.load_links(tmp_path / "e.parquet", engine="spark")


def test_cli_detects_with_the_duckdb_engine(small_world, tmp_path, capsys):
    small_world.events.to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "out"
    assert (
        main(
            [
                "detect",
                str(tmp_path / "events.parquet"),
                "--engine",
                "duckdb",
                "--memory-limit",
                "1GB",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    by_pandas = ag.detect(small_world.events)
    assert_frame_equal(pd.read_parquet(out / "accounts.parquet"), by_pandas.accounts)


def test_both_engines_strip_the_same_whitespace_and_reject_blank_values(tmp_path):
    # Unicode spaces (no-break, ideographic, line separator) strip like ASCII
    # ones, in both engines; a value of spaces only is empty.
    requests = pd.DataFrame(
        {
            "account_id": ["a\u00a0", "\u3000a", " b\t", "c", "c\u2028"],
            "ip": ["1.1.1.1", " 1.1.1.1", "2.2.2.2\u3000", "\u00a0 \u3000", "3.3.3.3"],
            "ts": pd.to_datetime(["2025-01-01"] * 4 + ["2025-01-02"]),
        }
    )
    requests.to_parquet(tmp_path / "requests.parquet")
    links = {
        engine: ag.load_links(tmp_path / "requests.parquet", attributes=["ip"], engine=engine)
        for engine in ("pandas", "duckdb")
    }
    _same_links(links["pandas"], links["duckdb"])
    assert list(links["duckdb"].account_ids) == ["a", "b", "c"]
    assert links["duckdb"].report.n_empty_cells == {"ip": 1}
    pd.DataFrame({"account_id": ["a", "\u3000 "], "kind": "ip", "value": "1"}).to_parquet(
        tmp_path / "blank.parquet"
    )
    with pytest.raises(ag.SchemaError, match=r"'account_id': 1 null or empty value\(s\)"):
        ag.load_links(tmp_path / "blank.parquet", engine="duckdb")


_IDS = ["a", "b", "c", " a", "b\u00a0"]
_IPS = ["1.1.1.1", "2.2.2.2", "3.3.3.3", None, "", " 2.2.2.2"]
_TIMES = pd.to_datetime(["2025-01-01 10:00", "2025-01-01 11:00", "2025-01-02 09:30"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, len(_IDS) - 1),
            st.integers(0, len(_IPS) - 1),
            st.integers(0, len(_TIMES)),  # the last: no timestamp
            st.integers(1, 3),  # copies of the row: duplicates
            st.integers(1, 2),  # the row's count, where the log has counts
            st.integers(0, 1),  # the row's ASN: one IP may come with either
        ),
        min_size=1,
        max_size=25,
    ),
    clean=st.booleans(),
    long=st.booleans(),
    with_count=st.booleans(),
    candidate_share=st.sampled_from([0.0, 1.0]),
)
def test_fast_and_exact_paths_agree_with_pandas_on_duplicates_and_dirty_values(
    tmp_path_factory, caplog, rows, clean, long, with_count, candidate_share
):
    # Clean logs (values that normalise one to one) take the fast path,
    # which finds duplicates by hash; dirty ones fall back to the exact path.
    # Both must give exactly what the pandas engine gives. The fast path
    # hashes accounts and timestamps, or (share 0) whole rows once any
    # account and timestamp recur: with three timestamps, most do. Rows that
    # differ only in their count are not duplicates; rows without a
    # timestamp are, where every other column is equal. Hashes are sorted in
    # parts however few they are (SORT_PART_MIN_VALUES 1), as at 1M accounts.
    ids, ips = (_IDS[:3], _IPS[:4]) if clean else (_IDS, _IPS)
    if long:  # a long log's values may not be empty
        ips = [ip for ip in ips if ip]
    times = [*_TIMES, pd.NaT]
    expanded = [
        (ids[i % len(ids)], ips[j % len(ips)], times[t], count, f"AS{asn}")
        for i, j, t, n, count, asn in rows
        for _ in range(n)
    ]
    frame = pd.DataFrame(expanded, columns=["account_id", "ip", "ts", "count", "asn"])
    if not with_count:
        frame = frame.drop(columns="count")
    if long:
        frame = frame.drop(columns="asn").rename(columns={"ip": "value"}).assign(kind="ip")
        spec = {}
    else:
        spec = {"attributes": ["ip", "asn"]}
    path = tmp_path_factory.mktemp("log") / "requests.parquet"
    frame.to_parquet(path)
    caplog.clear()
    with (
        caplog.at_level("DEBUG", logger="acctgraph.duckdb_engine"),
        mock.patch.object(duckdb_engine, "CANDIDATE_SHARE", candidate_share),
        mock.patch.object(duckdb_engine, "SORT_PART_MIN_VALUES", 1),
    ):
        by_duckdb = ag.load_links(path, **spec, engine="duckdb")
    _same_links(ag.load_links(path, **spec, engine="pandas"), by_duckdb)
    if clean:
        assert "exact path" not in caplog.text
        assert by_duckdb.report.n_duplicate_rows == len(frame) - len(frame.drop_duplicates())


@pytest.mark.parametrize("n_parts", [1, 2, 3, 7])
def test_sorting_in_parts_gives_numpys_sort(n_parts):
    # Row hashes are sorted in parts split at the median (and other ranks)
    # on threads at once; the whole must come out as one sort gives it,
    # repeated values (the duplicate rows' hashes) straddling the ranks.
    rng = np.random.default_rng(n_parts)
    values = rng.integers(0, 2**64 - 1, 10_000, dtype=np.uint64, endpoint=True)
    values[rng.integers(0, len(values), 3_000)] = values[rng.integers(0, 50, 3_000)]
    expected = np.sort(values)
    duckdb_engine._sort_in_place(values, n_parts)
    np.testing.assert_array_equal(values, expected)


def test_pseudonymized_accounts_table_ids_are_tokens_as_with_pandas(tmp_path):
    # The accounts table's ids, an account without events among them, must
    # come out as the same tokens the pandas engine gives: the DuckDB engine
    # once unioned the raw ids into the account list.
    events = pd.DataFrame(
        {"account_id": ["a1", "a2", "a3"], "kind": "ip", "value": ["1.1.1.1"] * 3}
    )
    events.to_parquet(tmp_path / "events.parquet")
    accounts = pd.DataFrame(
        {"account_id": ["a3", "zz_no_events", "a1", "a2"], "team": ["x", "y", "z", "w"]}
    )
    pseudonymizer = ag.Pseudonymizer(key=b"k" * 32)
    by_pandas = ag.load_links(
        events, accounts=accounts, pseudonymizer=pseudonymizer, engine="pandas"
    )
    by_duckdb = ag.load_links(
        tmp_path / "events.parquet",
        accounts=accounts,
        pseudonymizer=pseudonymizer,
        engine="duckdb",
    )
    _same_links(by_pandas, by_duckdb)
    assert all(str(a).startswith("t_") for a in by_duckdb.account_ids)
    assert_frame_equal(by_pandas.account_table, by_duckdb.account_table)


def test_duckdb_gets_a_share_of_memory_by_default_and_the_given_limit_otherwise():
    import os

    from acctgraph.duckdb_engine import DEFAULT_MEMORY_SHARE, _session, default_memory_limit

    total_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert default_memory_limit() == f"{int(total_mib * DEFAULT_MEMORY_SHARE)}MiB"

    def limit_gib(con):
        text = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        number, unit = text.split()
        return float(number) * {"MiB": 1 / 1024, "GiB": 1.0}[unit]

    with _session(None) as con:
        by_default = limit_gib(con)
    assert by_default == pytest.approx(total_mib * DEFAULT_MEMORY_SHARE / 1024, rel=0.01)
    with _session("1GB") as con:
        assert limit_gib(con) == pytest.approx(1e9 / 2**30, rel=0.01)


def test_the_log_is_grouped_with_more_memory_only_where_no_limit_is_given(tmp_path, monkeypatch):
    # DuckDB groups the log (nothing fetched yet) with GROUPING_MEMORY_SHARE
    # of the machine, then goes back to the session's limit; a limit the
    # caller gives holds throughout.
    events = pd.DataFrame(
        {"account_id": ["a1", "a2", "a3"], "kind": "ip", "value": ["1.1.1.1"] * 3}
    )
    events.to_parquet(tmp_path / "events.parquet")
    seen = []
    grouping = duckdb_engine._memory_while_grouping

    def spy(con, limit):
        seen.append(limit)
        return grouping(con, limit)

    monkeypatch.setattr(duckdb_engine, "_memory_while_grouping", spy)
    ag.load_links(tmp_path / "events.parquet", engine="duckdb")
    assert seen == [duckdb_engine.default_memory_limit(duckdb_engine.GROUPING_MEMORY_SHARE)]
    ag.load_links(tmp_path / "events.parquet", engine="duckdb", memory_limit="1GB")
    assert seen[1:] == [None]


def test_memory_while_grouping_is_raised_inside_and_set_back_after_an_error():
    def limit(con):
        return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    with duckdb_engine._session("1GiB") as con:
        before = limit(con)
        with duckdb_engine._memory_while_grouping(con, "2GiB"):
            assert limit(con) == "2.0 GiB"
        assert limit(con) == before
        with pytest.raises(RuntimeError, match="mid-grouping"):
            with duckdb_engine._memory_while_grouping(con, "2GiB"):
                raise RuntimeError("mid-grouping")
        assert limit(con) == before
        with duckdb_engine._memory_while_grouping(con, None):
            assert limit(con) == before


# How a log may store its columns: each engine must read every one alike.
_ACCOUNT_IDS = {
    "text": ["a", " a", "b\u00a0", "ünï", "c'd", "7"],
    "integer": [1, 2, 3, 7],
    "float": [1.0, 2.0, 7.0],
}
_VALUES = ["1.1.1.1", " 1.1.1.1", "2.2.2.2\t", "x'y", "漢字", None, ""]
_KINDS = ["ip", "IP", "asn", " Device"]
_INSTANTS = pd.to_datetime(["2025-01-01 10:00:00", "2025-01-01 10:00:01", "2025-03-01 23:59:59"])
_TIME_STORAGE = {
    "naive": lambda t: t,
    "utc": lambda t: t.tz_localize("UTC"),
    "berlin": lambda t: t.tz_localize("UTC").tz_convert("Europe/Berlin"),
    "unix seconds": lambda t: int(t.timestamp()),
    # Refused: read as seconds, they lie beyond 2262.
    "unix milliseconds": lambda t: int(t.timestamp()) * 1000,
    "text": lambda t: t.isoformat(),
}


@st.composite
def stored_logs(draw):
    """A small log as a user may store it: wide or long, parquet or CSV, with
    or without timestamps and counts, ids as text or numbers, dirty values,
    duplicate rows, and optionally an accounts table with cards."""
    wide = draw(st.booleans())
    ids = _ACCOUNT_IDS[draw(st.sampled_from(sorted(_ACCOUNT_IDS)))]
    time_storage = draw(st.sampled_from([None, *_TIME_STORAGE]))
    with_count = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(1, 20))):
        row = {"account_id": draw(st.sampled_from(ids))}
        if wide:
            row["ip"] = draw(st.sampled_from(_VALUES))
            row["asn"] = draw(st.sampled_from([64500.0, 64501.0, float("nan")]))
        else:
            row["kind"] = draw(st.sampled_from(_KINDS))
            row["value"] = draw(st.sampled_from([v for v in _VALUES if v]))
        if time_storage:
            row["ts"] = _TIME_STORAGE[time_storage](draw(st.sampled_from(list(_INSTANTS))))
        if with_count:
            row["count"] = draw(st.integers(1, 3))
        rows.extend([row] * draw(st.integers(1, 2)))
    accounts = None
    if draw(st.booleans()):
        table_ids = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
        accounts = pd.DataFrame(
            {
                "account_id": table_ids,
                "created_at": [
                    draw(st.sampled_from([pd.NaT, pd.Timestamp("2024-12-01 08:00")]))
                    for _ in table_ids
                ],
                "card": [draw(st.sampled_from(["c1", " c1", "c2", None, ""])) for _ in table_ids],
                "card_2": [draw(st.sampled_from(["c1", "c3", None])) for _ in table_ids],
            }
        )
    return pd.DataFrame(rows), wide, draw(st.sampled_from(["parquet", "csv"])), accounts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(log=stored_logs())
def test_both_engines_read_any_stored_log_alike_or_both_refuse_it(tmp_path_factory, log):
    events, wide, file_format, accounts = log
    folder = tmp_path_factory.mktemp("log")
    path = folder / f"events.{file_format}"
    if file_format == "csv":
        events.to_csv(path, index=False)
    else:
        events.to_parquet(path)
    options = {"attributes": ["ip", "asn"]} if wide else {}
    if accounts is not None:
        accounts.to_parquet(folder / "accounts.parquet")
        options.update(
            accounts=folder / "accounts.parquet",
            account_attributes={"card": "payment", "card_2": "payment"},
        )
    read = {}
    for engine in ("pandas", "duckdb"):
        try:
            read[engine] = ag.load_links(path, engine=engine, **options)
        except ag.AcctGraphError as exc:
            read[engine] = type(exc)
    if isinstance(read["pandas"], type) or isinstance(read["duckdb"], type):
        # A log one engine refuses (two ids that strip to one in the accounts
        # table, say) the other refuses with the same kind of error.
        assert read["pandas"] == read["duckdb"]
    else:
        _same_links(read["pandas"], read["duckdb"])


@pytest.mark.parametrize(
    "stored",
    [
        # Java and JavaScript log milliseconds; read as seconds they wrapped
        # around to November 2024.
        pa.array([1_735_725_600_000, 1_735_725_600]),
        pa.array(np.array(["3000-01-01", "2025-01-01"], dtype="datetime64[us]")),
        pa.array(
            np.array(["3000-01-01", "2025-01-01"], dtype="datetime64[us]"),
            pa.timestamp("us", "UTC"),
        ),
        pa.array(np.array(["1500-01-01", "2025-01-01"], dtype="datetime64[D]")),
        pa.array(["3000-01-01", "2025-01-01"]),
        pa.array([1e300, 1_735_725_600.0]),
    ],
    ids=["milliseconds", "year 3000", "year 3000 UTC", "date 1500", "text 3000", "1e300"],
)
def test_timestamps_nanoseconds_cannot_hold_are_refused_not_wrapped_around(tmp_path, stored):
    path = _log_of_times(tmp_path, stored)
    for engine in ("pandas", "duckdb"):
        with pytest.raises(
            ag.SchemaError,
            match=r"'ts': not a timestamp from 1677-09-22 to 2262-04-11.*rows (events.parquet:)?0$",
        ):
            ag.load_links(path, engine=engine)


def test_the_ends_of_the_time_range_are_read_and_an_accounts_table_is_held_to_it(tmp_path):
    ends = pd.to_datetime(["1677-09-22 00:00:00", "2262-04-11 23:47:16"])
    events = pd.DataFrame({"account_id": ["a", "b"], "kind": "ip", "value": "1", "ts": ends})
    events.to_parquet(tmp_path / "events.parquet")
    for engine in ("pandas", "duckdb"):
        links = ag.load_links(tmp_path / "events.parquet", engine=engine)
        np.testing.assert_array_equal(links.first_seen, ends.to_numpy())
    pd.DataFrame(
        {"account_id": ["a", "b"], "created_at": [1_735_725_600, 1_735_725_600_000]}
    ).to_parquet(tmp_path / "accounts.parquet")
    for engine in ("pandas", "duckdb"):
        with pytest.raises(
            ag.SchemaError, match=r"'created_at': not a timestamp.*: 1735725600000 at rows 1$"
        ):
            ag.load_links(
                tmp_path / "events.parquet", accounts=tmp_path / "accounts.parquet", engine=engine
            )


def test_nanoseconds_are_kept_as_the_pandas_engine_keeps_them(tmp_path):
    # DuckDB's casts round to microseconds: the rows 1 ns apart below became
    # duplicates, and .123456500 became .123457.
    instants = np.array(
        [1_735_725_600_123_456_500, 1_735_725_600_123_456_501, -1], dtype="datetime64[ns]"
    )
    pd.DataFrame(
        {"account_id": ["a", "b", "c"], "created_at": instants, "card": ["c1", "c1", "c2"]}
    ).to_parquet(tmp_path / "accounts.parquet")
    for stored in (pa.array(instants), pa.array(instants, pa.timestamp("ns", "UTC"))):
        events = pa.table(
            {"account_id": ["a", "a", "b"], "kind": ["ip"] * 3, "value": ["1"] * 3, "ts": stored}
        )
        pq.write_table(events, tmp_path / "events.parquet")
        options = {
            "accounts": tmp_path / "accounts.parquet",
            "account_attributes": {"card": "payment"},
        }
        by_duckdb = ag.load_links(tmp_path / "events.parquet", engine="duckdb", **options)
        _same_links(
            ag.load_links(tmp_path / "events.parquet", **options, engine="pandas"), by_duckdb
        )
        assert by_duckdb.report.n_duplicate_rows == 0
        np.testing.assert_array_equal(by_duckdb.created_at, instants)


def test_text_times_without_a_zone_are_utc_whatever_the_machine_zone(tmp_path):
    (tmp_path / "events.csv").write_text("account_id,kind,value,ts\na,ip,1,2025-01-01 10:00:00\n")
    read = (
        "import acctgraph as ag, sys; "
        "print(ag.load_links(sys.argv[1], engine='duckdb').first_seen[0])"
    )
    for zone in ("America/New_York", "Asia/Kolkata"):
        shown = subprocess.run(
            [sys.executable, "-c", read, str(tmp_path / "events.csv")],
            env={**os.environ, "TZ": zone},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert shown == "2025-01-01T10:00:00.000000000", zone


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seconds=st.lists(st.floats(-2e9, 9e9) | st.integers(-(2**31), 2**33), min_size=1, max_size=8)
)
def test_unix_seconds_are_read_to_the_same_microsecond_by_both_engines(tmp_path_factory, seconds):
    # Through nanoseconds the pandas engine kept a float's noise (0.1 s
    # became 0.099999905 s) where DuckDB rounds to the microsecond.
    path = _log_of_times(tmp_path_factory.mktemp("log"), seconds)
    by_pandas = ag.load_links(path, engine="pandas")
    _same_links(by_pandas, ag.load_links(path, engine="duckdb"))
    assert (by_pandas.first_seen.view(np.int64) % 1000 == 0).all()


_NOT_ISO = [
    "12:00",  # pandas read it as noon today: another time each day
    "01/02/2025",  # month or day first?
    "Jan 5 2025",
    "20250101",
    "1735725600",
    "Thu, 02 Jan 2025 10:00:00 GMT",
    "2025-01-01 10:00:00.1234567",
    "2025-01-01 24:00:00",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.from_regex(ISO_TIME, fullmatch=True) | st.sampled_from(_NOT_ISO) | st.text(max_size=12),
        min_size=1,
        max_size=5,
    )
)
def test_both_engines_read_the_same_text_times_and_refuse_the_same(tmp_path_factory, texts):
    path = _log_of_times(tmp_path_factory.mktemp("log"), texts)
    read = {}
    for engine in ("pandas", "duckdb"):
        try:
            read[engine] = ag.load_links(path, engine=engine)
        except ag.SchemaError as exc:
            read[engine] = str(exc).count("not a timestamp")
    if isinstance(read["pandas"], int) or isinstance(read["duckdb"], int):
        assert read["pandas"] == read["duckdb"] == 1
    else:
        # Nothing outside the grammar was read as a time.
        assert all(re.fullmatch(ISO_TIME, t.strip()) for t in texts if t.strip())
        _same_links(read["pandas"], read["duckdb"])


@pytest.mark.parametrize("text", _NOT_ISO)
def test_text_that_is_not_an_iso_time_is_refused_not_guessed(tmp_path, text):
    pd.DataFrame({"account_id": ["a"], "kind": "ip", "value": "1", "ts": [text]}).to_csv(
        tmp_path / "events.csv", index=False
    )
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.SchemaError, match="ISO 8601 text"):
            ag.load_links(tmp_path / "events.csv", engine=engine)


_STORED_VALUES = {
    "float32": pa.array(np.array([0.1, 2.0], dtype=np.float32)),
    "decimal": pa.array([decimal.Decimal("1.50"), decimal.Decimal("2")], pa.decimal128(10, 2)),
    "boolean": pa.array([True, False]),
    "date": pa.array([datetime.date(2025, 1, 2), datetime.date(1999, 12, 31)]),
    "uint8": pa.array(np.array([1, 200], dtype=np.uint8)),
    "dictionary": pa.array(["x", " y"]).dictionary_encode(),
}
_STORED_NOT_TEXT = {
    "timestamp": pa.array(
        np.array(["2025-01-01", "2025-01-01T10:00:00.5"], dtype="datetime64[us]")
    ),
    "bytes": pa.array([b"ab", b"\x00\xff"]),  # not UTF-8: the pandas engine crashed
    "list": pa.array([[1, 2], [3]]),
    "struct": pa.array([{"a": 1}, {"a": 2}]),
}


@pytest.mark.parametrize("stored", list(_STORED_VALUES), ids=list(_STORED_VALUES))
def test_values_stored_as_numbers_booleans_or_dates_are_read_alike(tmp_path, stored):
    # Before, DuckDB wrote True as 'true', 2.00 as '2' and a float32 unwidened.
    pq.write_table(
        pa.table({"account_id": ["a", "b"], "v": _STORED_VALUES[stored]}), tmp_path / "e.parquet"
    )
    _same_links(
        ag.load_links(tmp_path / "e.parquet", attributes=["v"], engine="pandas"),
        ag.load_links(tmp_path / "e.parquet", attributes=["v"], engine="duckdb"),
    )


@pytest.mark.parametrize("stored", list(_STORED_NOT_TEXT), ids=list(_STORED_NOT_TEXT))
def test_values_with_no_text_form_are_refused_naming_the_column(tmp_path, stored):
    pq.write_table(
        pa.table({"account_id": ["a", "b"], "v": _STORED_NOT_TEXT[stored]}), tmp_path / "e.parquet"
    )
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.SchemaError, match="column 'v': not text, a number"):
            ag.load_links(tmp_path / "e.parquet", attributes=["v"], engine=engine)
    with pytest.raises(ag.SchemaError, match="column 'account_id': not text, a number"):
        ag.detect(
            pd.DataFrame(
                {"account_id": _STORED_NOT_TEXT[stored].to_pandas(), "kind": "ip", "value": "1"}
            )
        )


@pytest.mark.parametrize("count", ["inf", "nan", "1_000", "2.5", "0", "1e3", " 3", "2.0"])
def test_counts_written_as_text_are_read_or_refused_alike(tmp_path, count):
    # 'inf' and 'nan' failed DuckDB's whole query with a ConversionException;
    # DuckDB read '1_000' as a thousand where pandas refused it.
    pd.DataFrame({"account_id": ["a"], "kind": "ip", "value": "1", "count": [count]}).to_csv(
        tmp_path / "events.csv", index=False
    )
    read = {}
    for engine in ("pandas", "duckdb"):
        try:
            read[engine] = ag.load_links(tmp_path / "events.csv", engine=engine)
        except ag.SchemaError as exc:
            assert "column 'count': must be a whole number" in str(exc)
            read[engine] = None
    if read["pandas"] is None or read["duckdb"] is None:
        assert read["pandas"] is read["duckdb"] is None
        assert count not in ("1e3", " 3", "2.0")
    else:
        _same_links(read["pandas"], read["duckdb"])
        assert read["duckdb"].count[0] == float(count)


def test_one_error_lists_the_problems_of_both_tables_in_both_engines(tmp_path):
    # The DuckDB engine raised at the events' problems and never read the
    # accounts table, so a second run showed its problems.
    pd.DataFrame({"account_id": ["a", ""], "kind": "ip", "value": "1"}).to_parquet(
        tmp_path / "events.parquet"
    )
    pd.DataFrame({"account_id": ["a", "a"]}).to_parquet(tmp_path / "accounts.parquet")
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.SchemaError) as caught:
            ag.load_links(
                tmp_path / "events.parquet", accounts=tmp_path / "accounts.parquet", engine=engine
            )
        assert caught.value.source == "events and accounts"
        problems = caught.value.problems
        assert len(problems) == 2
        assert problems[0].startswith("events: column 'account_id': 1 null or empty")
        assert problems[1].startswith("accounts: column 'account_id': 1 duplicated account id")


def test_csv_files_are_read_in_one_dialect_by_both_engines(tmp_path):
    # DuckDB refused .csv.gz, .tsv and .txt files the pandas engine reads,
    # and sniffed a semicolon file's delimiter where pandas refused it.
    rows = "account_id{0}kind{0}value\na{0}ip{0}1\nb{0}ip{0}1\n"
    with gzip.open(tmp_path / "day1.csv.gz", "wt") as out:
        out.write(rows.format(","))
    (tmp_path / "day2.tsv").write_text(rows.format("\t"))
    (tmp_path / "day3.txt").write_text(rows.format(","))
    for name in ("day1.csv.gz", "day2.tsv", "day3.txt"):
        _same_links(ag.load_links(tmp_path / name), ag.load_links(tmp_path / name, engine="duckdb"))
    (tmp_path / "semicolons.csv").write_text(rows.format(";"))
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.SchemaError, match="seems to be delimited by ';'"):
            ag.load_links(tmp_path / "semicolons.csv", engine=engine)


@pytest.mark.parametrize("width", [np.uint32, np.uint64, np.int32, np.int16])
def test_unix_seconds_in_integers_of_any_width_are_read_alike(tmp_path, width):
    # DuckDB read unsigned integers as text, which is not a time, and refused
    # the file the pandas engine read.
    seconds = np.array([1_735_725_600 if np.iinfo(width).max > 2**31 else 30_000, 5], dtype=width)
    path = _log_of_times(tmp_path, pa.array(seconds))
    by_pandas = ag.load_links(path, engine="pandas")
    _same_links(by_pandas, ag.load_links(path, engine="duckdb"))
    np.testing.assert_array_equal(by_pandas.first_seen.view(np.int64) // 10**9, seconds)


def test_booleans_are_not_counts_in_either_engine(tmp_path):
    # The pandas engine read True as a count of 1; DuckDB refused it.
    events = pd.DataFrame(
        {"account_id": ["a", "b"], "kind": "ip", "value": "1", "count": [True, True]}
    )
    events.to_parquet(tmp_path / "events.parquet")
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.SchemaError, match="'count': must be a whole number.*True, True"):
            ag.load_links(tmp_path / "events.parquet", engine=engine)
    with pytest.raises(ag.SchemaError, match="'count': must be a whole number.*True at rows 1$"):
        ag.load_links(events.assign(count=pd.Series([2, True], dtype=object)))


_HEADER = "account_id,kind,value,ts\n"
_ROW = "acct-{0},ip,10.0.0.{0},2025-01-01 10:00:00\n"


@pytest.mark.parametrize(
    ("faulty", "line", "fault"),
    [
        # pandas padded a short record with nulls: a request without a time.
        ("secret-id,ip,10.0.0.9\n", 4, "3 fields where the header has 4"),
        ("secret-id,ip,10.0.0.9,2025-01-01 10:00:00,x\n", 4, "5 fields where the header has 4"),
        ("   \n", 4, "1 field where the header has 4"),
        # DuckDB's sniffer kept the quote as a character.
        ('secret-id,ip,"10.0.0.9,2025-01-01 10:00:00\n', 4, "a quote is opened and never closed"),
    ],
)
@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz"])
def test_a_faulty_csv_record_is_refused_by_both_engines_naming_only_its_line(
    tmp_path, faulty, line, fault, name
):
    rows = [_ROW.format(i) for i in range(2)] + [faulty] + [_ROW.format(i) for i in range(2, 5)]
    path = tmp_path / name
    with (gzip.open if name.endswith(".gz") else open)(path, "wt") as out:
        out.write(_HEADER + "".join(rows))
    for engine in ("pandas", "duckdb"):
        with pytest.raises(ag.InputFileError) as caught:
            ag.load_links(path, engine=engine)
        assert str(caught.value) == f"events: {str(path)!r} line {line}: {fault}"
        # Both readers' own messages quote the record: an identifier.
        assert "secret" not in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_faulty_csv_record_deep_in_a_file_is_found_by_both_engines(tmp_path):
    # Beyond DuckDB's sniffing sample (20,480 rows): the scan itself finds it.
    rows = [_ROW.format(i) for i in range(30_000)]
    rows[25_000] = "secret-id,ip\n"
    path = tmp_path / "events.csv"
    path.write_text(_HEADER + "".join(rows))
    _refused_by_both_engines(path, "line 25002: 2 fields where the header has 4$")


def test_a_short_record_of_a_wide_csv_log_is_refused_not_read_as_empty_cells(tmp_path):
    # The pandas engine read the missing cells as not observed.
    path = tmp_path / "requests.csv"
    path.write_text("account_id,ip,asn\na,1,5\nb,1\nc,1,5\n")
    _refused_by_both_engines(
        path, "line 3: 2 fields where the header has 3$", attributes=["ip", "asn"]
    )


def test_records_one_field_longer_than_the_header_are_refused_unless_it_is_empty(tmp_path):
    # Where every record had one more field, pandas took the first column for
    # an index and read every column one place off: the accounts were 'ip'.
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("account_id,kind,value\na,ip,1,x\nb,ip,1,y\n")
    _refused_by_both_engines(shifted, "line 2: 4 fields where the header has 3$")
    # An empty last field is a delimiter ending the line, as some exports
    # write; both read it as absent, on every line or only some.
    for records in ("a,ip,1,\nb,ip,1\nc,ip,1,\n", "a,ip,1,\nb,ip,2,\nc,ip,1,\n"):
        trailing = tmp_path / "trailing.csv"
        trailing.write_text("account_id,kind,value\n" + records)
        by_pandas = ag.load_links(trailing, engine="pandas")
        assert list(by_pandas.account_ids) == ["a", "b", "c"]
        assert list(by_pandas.attribute_values) == ["1", "2"][: 1 + ("2," in records)]
        _same_links(by_pandas, ag.load_links(trailing, engine="duckdb"))


def test_csv_headers_are_read_alike_by_both_engines(tmp_path):
    # A column named twice: pandas renamed one 'x.1', DuckDB 'x_1'.
    twice = tmp_path / "twice.csv"
    twice.write_text("account_id,kind,value,value\na,ip,1,2\n")
    _refused_by_both_engines(twice, r"names column\(s\) \['value'\] more than once")
    # A frame written with its index has an unnamed first column; files of
    # one glob may order their columns differently; empty lines are skipped.
    frame = pd.DataFrame({"kind": ["ip", "ip"], "account_id": ["a", "b"], "value": ["1", "1"]})
    frame.to_csv(tmp_path / "day1.csv")
    (tmp_path / "day2.csv").write_text("\ufeffvalue,account_id,kind\n2,c,asn\n\n1,d,ip\n")
    by_pandas = ag.load_links(str(tmp_path / "day*.csv"), engine="pandas")
    assert by_pandas.n_links == 4 and list(by_pandas.account_ids) == ["a", "b", "c", "d"]
    _same_links(by_pandas, ag.load_links(str(tmp_path / "day*.csv"), engine="duckdb"))


def test_a_glob_of_csv_and_tsv_files_is_read_alike_by_both_engines(tmp_path):
    # DuckDB refused it, where the pandas engine read both.
    (tmp_path / "day1.csv").write_text("account_id,kind,value\na,ip,1\nb,ip,1\n")
    (tmp_path / "day2.tsv").write_text("account_id\tkind\tvalue\nc\tip\t1\n")
    files = str(tmp_path / "day*")
    by_pandas = ag.load_links(files, engine="pandas")
    assert list(by_pandas.account_ids) == ["a", "b", "c"]
    _same_links(by_pandas, ag.load_links(files, engine="duckdb"))
    (tmp_path / "day3.parquet").write_bytes(b"")
    with pytest.raises(ag.InputFileError, match="not both at once"):
        ag.load_links(files, engine="duckdb")


def test_csv_text_that_is_not_utf8_is_refused_by_both_engines_naming_its_line(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"account_id,kind,value\na,ip,1\nsecret-\xff,ip,1\n")
    _refused_by_both_engines(path, "line 3: not UTF-8 text$")


def test_a_csv_fault_duckdb_finds_and_python_does_not_is_named_without_its_record(tmp_path):
    # Should the two ever disagree, DuckDB's message, which quotes the
    # record from its second line on, is cut to its first.
    path = tmp_path / "events.csv"
    path.write_text("account_id,kind,value\nsecret-id,ip\n")
    with mock.patch.object(duckdb_engine, "faulty_csv_error", return_value=None):
        with pytest.raises(ag.InputFileError, match=r"CSV Error on Line: 2\)$") as caught:
            ag.load_links(path, engine="duckdb")
    assert "secret" not in str(caught.value)


_CSV_FIELDS = ["a", "b", "ip", "IP", "1", "", " ", '"q,1"', '"x""y"', '"two\nlines"', 'x"y']
# Quoting faults pyarrow reads where DuckDB refuses them.
_CSV_FAULTS = ['"x"y', '"open']


@st.composite
def csv_texts(draw):
    """The text of a small CSV or TSV log (account_id, kind, value) with
    quoted values, empty lines and records of the wrong width."""
    sep = draw(st.sampled_from([",", "\t"]))
    lines = [sep.join(["account_id", "kind", "value"])]
    fields = st.sampled_from(_CSV_FIELDS + _CSV_FAULTS * draw(st.booleans()))
    for _ in range(draw(st.integers(0, 8))):
        shape = draw(st.sampled_from(["record"] * 3 + ["empty", "short", "long", "trailing"]))
        record = [draw(fields) for _ in range(3)]
        if shape == "empty":
            record = [draw(st.sampled_from(["", " "]))]
        elif shape == "short":
            record = record[: draw(st.integers(1, 2))]
        elif shape == "long":
            record.append(draw(fields))
        elif shape == "trailing":
            record.append("")
        lines.append(sep.join(record))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return sep, end.join(lines) + draw(st.sampled_from(["", end]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=csv_texts())
def test_both_engines_read_any_csv_text_alike_or_refuse_it_with_one_message(tmp_path_factory, text):
    sep, body = text
    path = tmp_path_factory.mktemp("log") / ("events.tsv" if sep == "\t" else "events.csv")
    path.write_text(body, newline="")
    read = {}
    for engine in ("pandas", "duckdb"):
        try:
            read[engine] = ag.load_links(path, engine=engine)
        except ag.InputFileError as exc:
            read[engine] = str(exc)
        except ag.SchemaError as exc:  # rows are named each engine's way
            read[engine] = type(exc)
    if isinstance(read["pandas"], ag.Links) and isinstance(read["duckdb"], ag.Links):
        _same_links(read["pandas"], read["duckdb"])
    else:
        assert read["pandas"] == read["duckdb"]


def test_auto_reads_files_with_duckdb_and_frames_with_pandas(small_world, tmp_path):
    # The default: DuckDB where it is installed and files are given, so that
    # `acctgraph detect logs/*.parquet` never holds the raw log in pandas.
    small_world.events.to_parquet(tmp_path / "events.parquet")
    path = tmp_path / "events.parquet"
    assert ag.detect(path).provenance["engine"] == "duckdb"
    assert ag.detect(small_world.events).provenance["engine"] == "pandas"
    assert ingest.resolve_engine("pandas", path) == "pandas"
    # A mix of parquet and CSV, which DuckDB does not read at once, and a
    # machine without duckdb: pandas.
    small_world.events.head(50).to_csv(tmp_path / "events.csv", index=False)
    assert ingest.resolve_engine("auto", str(tmp_path / "events.*")) == "pandas"
    assert ingest.resolve_engine("auto", tmp_path / "events.csv") == "duckdb"
    real_find_spec = importlib.util.find_spec
    with mock.patch.object(
        importlib.util,
        "find_spec",
        side_effect=lambda name, *a: None if name == "duckdb" else real_find_spec(name, *a),
    ):
        assert ingest.resolve_engine("auto", path) == "pandas"
    with pytest.raises(ag.ConfigError, match="engine must be one of"):
        ingest.resolve_engine("spark", path)


def test_cli_reads_files_with_duckdb_by_default(small_world, tmp_path):
    small_world.events.to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "out"
    assert main(["detect", str(tmp_path / "events.parquet"), "--out", str(out)]) == 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["engine"] == "duckdb"
    by_pandas = ag.detect(small_world.events)
    assert_frame_equal(pd.read_parquet(out / "accounts.parquet"), by_pandas.accounts)


def test_a_glob_of_files_storing_times_apart_goes_to_pandas_not_wrongly_through_duckdb(tmp_path):
    # A daily log whose time column changed type: DuckDB's union of the files
    # failed to convert unix seconds beside timestamps (ConversionException),
    # and read them as text beside text, refusing them as no time.
    _log_of_times(tmp_path, pa.array(np.array(["2025-01-01T10:00"], dtype="datetime64[us]")))
    (tmp_path / "events.parquet").rename(tmp_path / "day1.parquet")
    _log_of_times(tmp_path, pa.array([1_735_812_000]))
    (tmp_path / "events.parquet").rename(tmp_path / "day2.parquet")
    files = str(tmp_path / "day*.parquet")
    with pytest.raises(
        ag.SchemaError,
        match="'ts': stored as times in 'day1.parquet', numbers in 'day2.parquet'; the DuckDB",
    ):
        ag.load_links(files, engine="duckdb")
    assert ingest.resolve_engine("auto", files) == "pandas"
    # One link, account a0 on IP 1, seen on both days.
    links = ag.load_links(files)
    seen = np.r_[links.first_seen, links.last_seen].view(np.int64) // 10**9
    np.testing.assert_array_equal(seen, [1_735_725_600, 1_735_812_000])
    # Times stored one way in different units, or numbers as integers and
    # floats, DuckDB reads as pandas does.
    _log_of_times(tmp_path, pa.array([1_735_812_000.5]))
    (tmp_path / "events.parquet").rename(tmp_path / "day1.parquet")
    assert ingest.resolve_engine("auto", files) == "duckdb"
    _same_links(ag.load_links(files, engine="pandas"), ag.load_links(files, engine="duckdb"))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    storage=st.lists(st.sampled_from(sorted(_TIME_STORAGE)), min_size=2, max_size=3),
    instants=st.lists(st.sampled_from(list(_INSTANTS)), min_size=3, max_size=3),
)
def test_a_glob_of_daily_files_storing_time_any_way_is_read_as_pandas_reads_it(
    tmp_path_factory, storage, instants
):
    # Daily files whose time column changed type from day to day: 'auto'
    # always reads them as the pandas engine does, and DuckDB either does
    # too or refuses them as stored apart.
    folder = tmp_path_factory.mktemp("days")
    for day, (way, instant) in enumerate(zip(storage, instants[: len(storage)], strict=True)):
        pd.DataFrame({"account_id": [f"a{day}", "b"], "kind": "ip", "value": "1"}).assign(
            ts=[_TIME_STORAGE[way](instant)] * 2
        ).to_parquet(folder / f"day{day}.parquet")
    files = str(folder / "day*.parquet")
    read = {}
    for engine in ("pandas", "auto", "duckdb"):
        try:
            read[engine] = ag.load_links(files, engine=engine)
        except ag.SchemaError as exc:
            read[engine] = str(exc)
    stored_apart = "stored as" in str(read["duckdb"])
    assert stored_apart == (ingest.resolve_engine("auto", files) == "pandas")
    for engine in ("auto", "duckdb") if not stored_apart else ("auto",):
        if isinstance(read["pandas"], str):  # unix milliseconds, beyond 2262
            assert "not a timestamp" in read[engine]
        else:
            _same_links(read["pandas"], read[engine])


@pytest.mark.parametrize(
    ("first", "second", "ways"),
    [
        # DuckDB made one account of the two.
        (pa.array([7]), pa.array([decimal.Decimal("7.00")]), "text or numbers.*decimal128"),
        # DuckDB wrote True as 'true' beside text.
        (pa.array(["7"]), pa.array([True]), "text or numbers.*bool"),
    ],
)
def test_ids_stored_apart_across_files_go_to_pandas_and_are_refused_by_duckdb(
    tmp_path, first, second, ways
):
    for day, ids in enumerate((first, second)):
        pq.write_table(
            pa.table({"account_id": ids, "kind": ["ip"], "value": ["1"]}),
            tmp_path / f"day{day}.parquet",
        )
    files = str(tmp_path / "day*.parquet")
    with pytest.raises(ag.SchemaError, match=f"'account_id': stored as {ways}"):
        ag.load_links(files, engine="duckdb")
    by_auto = ag.load_links(files)
    assert len(by_auto.account_ids) == 2
    _same_links(by_auto, ag.load_links(files, engine="pandas"))


def test_a_wide_log_places_each_ip_in_its_asn_in_both_engines(tmp_path, monkeypatch):
    # The world's request log has each row's ASN the IP's own: both engines
    # place every IP there, and agree, with a pseudonymizer too. An IP
    # reached through two ASNs goes to the one most of its accounts used,
    # the smaller among equals; an empty cell places nothing.
    world = ag.synth.make_world(2_000, seed=4)
    folder = tmp_path / "log"
    ag.synth.write_request_log(world, folder, rows_per_account=10, n_files=2)
    for key in (ag.Pseudonymizer(b"k" * 32), None):
        links = [
            ag.load_links(
                folder / "requests-*.parquet",
                attributes=["ip", "asn"],
                network_kinds=("ip", "asn"),
                pseudonymizer=key,
                engine=engine,
            )
            for engine in ("pandas", "duckdb")
        ]
        _same_links(*links)
    # Without the pseudonymizer, last: every IP in its own ASN.
    start, stop = links[0].kind_range("ip")
    truth = world.ip_asn.reindex(links[0].attribute_values[start:stop]).to_numpy()
    placed = links[0].ip_network[start:stop]
    assert (placed >= 0).all()
    assert links[0].attribute_values[placed].tolist() == truth.tolist()
    assert ag.load_links(folder / "requests-*.parquet", attributes=["ip", "asn"]).ip_network is None

    rows = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "c", "b", "c", "d"],
            "ip": ["1.1.1.1", "1.1.1.1", "1.1.1.1", "1.1.1.1", "2.2.2.2", "2.2.2.2", "3.3.3.3"],
            "asn": ["AS1", "AS1", "AS2", "AS2", "AS3", "AS2", None],
        }
    )
    exact = []
    by_rows = duckdb_engine._observations_by_rows

    def spied(*args):
        exact.append(True)
        return by_rows(*args)

    monkeypatch.setattr(duckdb_engine, "_observations_by_rows", spied)
    # Two raw cells trimmed to one value send DuckDB down its exact path.
    padded = rows.assign(ip=np.where(rows.index % 2 == 1, " " + rows["ip"], rows["ip"]))
    for name, frame in (("fast", rows), ("exact", padded)):
        frame.to_parquet(tmp_path / f"{name}.parquet")
        for engine in ("pandas", "duckdb"):
            links = ag.load_links(
                tmp_path / f"{name}.parquet",
                attributes=["ip", "asn"],
                network_kinds=("ip", "asn"),
                engine=engine,
            )
            start, stop = links.kind_range("ip")
            network = links.ip_network[start:stop]
            named = links.attribute_values[np.maximum(network, 0)]
            assert dict(
                zip(
                    links.attribute_values[start:stop],
                    np.where(network >= 0, named, None),
                    strict=True,
                )
            ) == {
                "1.1.1.1": "AS2",
                "2.2.2.2": "AS2",
                "3.3.3.3": None,
            }, (name, engine)
    assert exact == [True]
