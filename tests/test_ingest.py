import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import acctgraph as ag
from acctgraph.ingest import load_links


def test_repeated_observations_are_aggregated_into_weighted_links():
    events = pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "b"],
            "kind": ["ip", "IP ", "ip", "ip"],
            "value": ["1.1.1.1", "1.1.1.1 ", "2.2.2.2", "1.1.1.1"],
            "ts": ["2025-01-02", "2025-01-01", "2025-01-03", "2025-01-05"],
            "count": [2, 3, 1, 1],
        }
    )
    links = load_links(events)
    assert links.n_accounts == 2
    assert links.n_attributes == 2
    frame = pd.DataFrame(
        {
            "account": links.account_ids[links.account],
            "value": links.attribute_values[links.attribute],
            "count": links.count,
            "first": links.first_seen,
            "last": links.last_seen,
        }
    )
    row = frame[(frame.account == "a") & (frame.value == "1.1.1.1")].iloc[0]
    assert row["count"] == 5
    assert row["first"] == pd.Timestamp("2025-01-01")
    assert row["last"] == pd.Timestamp("2025-01-02")


def test_codes_follow_sorted_ids_whatever_the_row_order():
    events = pd.DataFrame(
        {"account_id": ["z", "m", "a"], "kind": ["ip", "payment", "ip"], "value": ["9", "p", "1"]}
    )
    links = load_links(events.iloc[::-1])
    assert list(links.account_ids) == ["a", "m", "z"]
    assert list(zip(links.attribute_kinds, links.attribute_values, strict=True)) == [
        ("ip", "1"),
        ("ip", "9"),
        ("payment", "p"),
    ]


def test_missing_columns_are_all_named_in_one_error():
    with pytest.raises(ag.SchemaError) as info:
        load_links(pd.DataFrame({"acct": ["a"], "val": ["x"]}))
    message = str(info.value)
    for column in ("account_id", "kind", "value"):
        assert column in message
    assert isinstance(info.value, ValueError)


def test_every_bad_value_is_reported_with_its_rows():
    events = pd.DataFrame(
        {
            "account_id": ["a", None, "c", "  "],
            "kind": ["ip", "ip", "", "ip"],
            "value": ["1", "2", "3", "4"],
            "count": [1, "many", 0, 2],
            "ts": ["2025-01-01", "yesterday", None, "2025-01-02"],
        }
    )
    with pytest.raises(ag.SchemaError) as info:
        load_links(events)
    problems = info.value.problems
    assert any("'account_id'" in p and "rows 1, 3" in p for p in problems)
    assert any("'kind'" in p and "rows 2" in p for p in problems)
    assert any("'count'" in p and "'many'" in p and "rows 1, 2" in p for p in problems)
    assert any("'ts'" in p and "'yesterday'" in p for p in problems)
    assert len(problems) == 4


def test_wide_log_with_account_attributes_equals_the_long_form():
    requests = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "c"],
            "client_ip": ["1.1.1.1", "2.2.2.2", "1.1.1.1", None],
            "asn": ["AS1", "AS1", "AS1", "AS2"],
        }
    )
    accounts = pd.DataFrame(
        {"account_id": ["a", "b", "c", "d"], "payment_fp": ["p1", "p1", None, "p2"]}
    )
    wide = load_links(
        requests,
        accounts=accounts,
        attributes={"client_ip": "ip", "asn": "asn"},
        account_attributes={"payment_fp": "payment"},
    )
    long = load_links(
        pd.DataFrame(
            [
                ("a", "ip", "1.1.1.1"),
                ("a", "ip", "2.2.2.2"),
                ("b", "ip", "1.1.1.1"),
                ("a", "asn", "AS1"),
                ("a", "asn", "AS1"),
                ("b", "asn", "AS1"),
                ("c", "asn", "AS2"),
                ("a", "payment", "p1"),
                ("b", "payment", "p1"),
                ("d", "payment", "p2"),
            ],
            columns=["account_id", "kind", "value"],
        )
    )
    assert list(wide.account_ids) == list(long.account_ids)
    np.testing.assert_array_equal(wide.account, long.account)
    np.testing.assert_array_equal(wide.attribute, long.attribute)
    np.testing.assert_array_equal(wide.count, long.count)
    assert wide.report.n_empty_cells == {"client_ip": 1, "asn": 0}


def test_accounts_only_in_the_accounts_table_are_kept():
    events = pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1"]})
    accounts = pd.DataFrame(
        {"account_id": ["a", "lonely"], "created_at": ["2025-01-01", "2025-02-01"]}
    )
    links = load_links(events, accounts=accounts)
    assert list(links.account_ids) == ["a", "lonely"]
    assert links.report.n_accounts_without_events == 1
    assert links.created_at[1] == np.datetime64("2025-02-01")


def test_duplicate_account_ids_in_the_accounts_table_are_an_error():
    events = pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1"]})
    accounts = pd.DataFrame({"account_id": ["a", "b", "a"]})
    with pytest.raises(ag.SchemaError, match=r"duplicated account id.*rows 2"):
        load_links(events, accounts=accounts)


def test_numbers_as_account_ids_are_read_as_their_decimal_text():
    events = pd.DataFrame({"account_id": [10, 2, 10], "kind": "ip", "value": ["x", "x", "y"]})
    links = load_links(events)
    assert list(links.account_ids) == ["10", "2"]


def test_files_arrow_tables_and_globs_read_the_same(tmp_path):
    events = pd.DataFrame(
        {"account_id": ["a", "b", "c", "d"], "kind": "ip", "value": ["1", "1", "2", "2"]}
    )
    events.iloc[:2].to_parquet(tmp_path / "day1.parquet")
    events.iloc[2:].to_parquet(tmp_path / "day2.parquet")
    events.to_csv(tmp_path / "all.csv", index=False)
    expected = load_links(events)
    for source in (
        pa.Table.from_pandas(events),
        str(tmp_path / "day*.parquet"),
        tmp_path,
        [tmp_path / "day1.parquet", tmp_path / "day2.parquet"],
        tmp_path / "all.csv",
    ):
        links = load_links(source)
        np.testing.assert_array_equal(links.account, expected.account)
        np.testing.assert_array_equal(links.attribute, expected.attribute)


def test_unreadable_files_raise_input_file_errors_naming_the_path(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(ag.InputFileError, match="broken.parquet"):
        load_links(broken)
    with pytest.raises(ag.InputFileError, match="does not exist"):
        load_links(tmp_path / "missing.parquet")
    with pytest.raises(ag.InputFileError, match="no file matches"):
        load_links(str(tmp_path / "nothing*.parquet"))
    assert issubclass(ag.InputFileError, OSError)


def test_problems_in_events_and_accounts_are_reported_together():
    events = pd.DataFrame({"account_id": ["a", None], "kind": "ip", "value": "1"})
    accounts = pd.DataFrame({"account_id": ["a"], "created_at": ["not a date"]})
    with pytest.raises(ag.SchemaError) as info:
        load_links(events, accounts=accounts)
    assert info.value.source == "events and accounts"
    assert any(p.startswith("events: column 'account_id'") for p in info.value.problems)
    assert any(p.startswith("accounts: column 'created_at'") for p in info.value.problems)


def test_numbers_among_objects_are_unix_seconds_and_booleans_are_not_times():
    # pandas read a number in an object column as nanoseconds: 1970, silently.
    ts = pd.Series(
        [
            1_735_725_600,
            1_735_725_600.5,
            datetime.datetime(2025, 1, 1, 10),
            "2025-01-01 10:00",
            None,
        ],
        dtype=object,
    )
    events = pd.DataFrame({"account_id": list("abcde"), "kind": "ip", "value": "1", "ts": ts})
    first_seen = ag.load_links(events).first_seen
    expected = pd.to_datetime(
        ["2025-01-01 10:00:00", "2025-01-01 10:00:00.5"] + ["2025-01-01 10:00:00"] * 2,
        format="ISO8601",
    )
    np.testing.assert_array_equal(first_seen[:4], expected.to_numpy())
    assert np.isnat(first_seen[4])
    with pytest.raises(ag.SchemaError, match=r"'ts': not a timestamp.*: True, False at rows 0, 1"):
        ag.load_links(events.head(2).assign(ts=[True, False]))


def _dated_ip_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e"],
            "kind": ["ip", "ip", "asn", "ip", "ip", "ip", "ip", "ip", "ip", "ip"],
            "value": ["1", "2", "AS1", "1", "3", "4", "5", "6", "7", "8"],
            "ts": pd.to_datetime(
                [
                    "2025-01-01 03:10",  # a: two IPs, each first used at 03h
                    "2025-02-07 03:59",  #    on other days
                    "2025-01-01 17:00",  #    (an ASN does not count)
                    "2025-01-01 03:10",  # b: 03h and 04h
                    "2025-01-01 04:00",
                    "2025-01-01 03:00",  # c: one IP only
                    "2025-01-01 23:00",  # d: both at 23h
                    "2025-03-01 23:30",
                    "2025-01-01 05:00",  # e: one IP undated
                    None,
                ]
            ),
        }
    )


def test_one_hour_of_day_is_the_hour_an_account_first_used_each_of_its_ips_in():
    links = load_links(_dated_ip_events())
    every = np.arange(links.n_accounts)
    by_account = dict(zip(links.account_ids, links.one_hour_of_day("ip", every), strict=True))
    assert by_account == {"a": 3, "b": -1, "c": -1, "d": 23, "e": -1}
    # For some accounts only, in their order.
    np.testing.assert_array_equal(links.one_hour_of_day("ip", np.array([1, 3])), [-1, 23])
    assert links.one_hour_of_day("payment", every).tolist() == [-1] * 5


def test_share_per_hour_of_day_is_the_populations_daily_rhythm():
    # Of the 8 dated IP links, 4 were first seen at 03h, 2 at 23h, one at
    # 04h and one at 05h, whatever the day; the ASN and the undated IP
    # link do not count.
    share = load_links(_dated_ip_events()).share_per_hour_of_day("ip")
    assert share.shape == (24,)
    assert share[3] == 4 / 8 and share[23] == 2 / 8 and share[4] == share[5] == 1 / 8
    assert share.sum() == pytest.approx(1.0)


def _aggregates_computed(links):
    """In a forked worker: compute the aggregates, hand them back."""
    links.attributes_per_account("ip")
    links.attributes_per_account("asn")
    links.first_seen_per_hour("ip")
    _ = links.activity, links.account_seen, links.account_id_text, links.created_per_day
    return links.computed()


def test_aggregates_computed_in_a_worker_are_kept_where_not_computed_here():
    from acctgraph import parallel

    world = ag.synth.make_world(1_000, seed=2)
    links = load_links(world.events, accounts=world.accounts)
    fresh = load_links(world.events, accounts=world.accounts)
    # Computed here before the worker hands its own back: this one is kept.
    mine = links.attributes_per_account("ip")
    handed = parallel.start_in_worker(_aggregates_computed, links)()
    assert {"activity", "account_seen", "_per_account_cache"} <= set(handed)
    links.keep_computed(handed)
    assert links.attributes_per_account("ip") is mine
    # The rest are the worker's, equal to what this process computes.
    assert links.attributes_per_account("asn") is handed["_per_account_cache"]["asn"]
    np.testing.assert_array_equal(
        links.attributes_per_account("asn"), fresh.attributes_per_account("asn")
    )
    np.testing.assert_array_equal(links.activity, fresh.activity)
    for mine_seen, fresh_seen in zip(links.account_seen, fresh.account_seen, strict=True):
        np.testing.assert_array_equal(mine_seen, fresh_seen)
    assert links.account_id_text.equals(fresh.account_id_text)
    assert links.first_seen_per_hour("ip")[0] == fresh.first_seen_per_hour("ip")[0]
