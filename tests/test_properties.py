"""Property tests: any input gives a valid result or a clear AcctGraphError."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import acctgraph as ag

# Cell values of every awkward sort: unicode, whitespace, empties, numbers,
# nulls, NaN, very long strings.
_TEXT = st.text(min_size=0, max_size=6) | st.sampled_from(["", " ", "\t", "é", "漢字", "📱", " a "])
_CELL = (
    _TEXT
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.none()
    | st.just("x" * 5_000)
    | st.booleans()
)
_TS = (
    st.none()
    | st.sampled_from(
        ["2025-01-01", "2099-12-31T23:59:59Z", "1970-01-01", "yesterday", "", "2025-13-45", "12:00"]
    )
    | st.integers(-(10**10), 10**10)
    | st.datetimes()
)
_COUNT = (
    st.none()
    | st.integers(-3, 10**6)
    | st.floats(allow_nan=True)
    | st.sampled_from(["2", "many", ""])
)


@st.composite
def messy_events(draw):
    n = draw(st.integers(0, 25))
    columns = {}
    for name in draw(
        st.lists(
            st.sampled_from(["account_id", "kind", "value", "ts", "count", "extra"]), unique=True
        )
    ):
        cell = {"ts": _TS, "count": _COUNT}.get(name, _CELL)
        columns[name] = draw(st.lists(cell, min_size=n, max_size=n))
    return (
        pd.DataFrame(columns, index=pd.RangeIndex(n)) if columns else pd.DataFrame(index=range(n))
    )


@given(messy_events())
def test_any_input_gives_a_valid_result_or_an_acctgraph_error(events):
    try:
        result = ag.detect(events)
    except ag.AcctGraphError as exc:
        message = str(exc)
        assert message
        if isinstance(exc, ag.SchemaError):
            # Every problem names the column at fault, and the rows unless a
            # whole column is missing.
            for problem in exc.problems:
                assert "column" in problem
                assert "missing column" in problem or "rows" in problem
        return
    _check_invariants(result)


@st.composite
def valid_events(draw):
    """Well-formed long events over a few accounts and shared attributes."""
    n_accounts = draw(st.integers(1, 12))
    accounts = [f"acct-{i}" for i in range(n_accounts)]
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(accounts),
                st.sampled_from(["ip", "asn", "payment", "device"]),
                st.sampled_from(["v1", "v2", "v3", "v4", "ünï", "5"]),
                st.integers(1, 50),
                st.integers(1_700_000_000, 1_900_000_000),
            ),
            min_size=1,
            max_size=60,
        )
    )
    frame = pd.DataFrame(rows, columns=["account_id", "kind", "value", "count", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s")
    return frame


@given(valid_events(), st.randoms(use_true_random=False))
def test_output_is_invariant_to_row_order_duplication_and_repetition(events, rnd):
    first = ag.detect(events)
    _check_invariants(first)
    assert set(first.accounts["account_id"]) == set(events["account_id"])

    order = list(range(len(events)))
    rnd.shuffle(order)
    shuffled = events.iloc[order].reset_index(drop=True)
    duplicated = pd.concat([shuffled, events.sample(frac=0.5, random_state=1)], ignore_index=True)
    for other in (ag.detect(shuffled), ag.detect(duplicated), ag.detect(events)):
        assert_frame_equal(first.accounts, other.accounts)
        assert_frame_equal(first.clusters, other.clusters)
        assert_frame_equal(first.evidence, other.evidence)


@given(st.integers(3, 300))
def test_all_accounts_sharing_one_attribute_is_one_unflagged_cluster(n):
    events = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "kind": "ip", "value": "nat"})
    result = ag.detect(events)
    _check_invariants(result)
    assert len(result.clusters) == 1
    assert not result.accounts["flagged"].any()


def _check_invariants(result):
    accounts, clusters = result.accounts, result.clusters
    assert accounts["account_id"].is_unique
    assert accounts["score"].between(0, 1).all()
    assert clusters["score"].between(0, 1).all()
    assert (accounts["flagged"] == (accounts["score"] >= result.threshold)).all()
    in_cluster = accounts[accounts["cluster_id"] >= 0]
    sizes = in_cluster.groupby("cluster_id").size()
    assert sizes.to_dict() == dict(zip(clusters["cluster_id"], clusters["n_accounts"], strict=True))
    assert clusters["cluster_id"].tolist() == list(range(len(clusters)))
    # Outside clusters, only the account's own behaviour scores it, unless
    # it is paired with a farm.
    alone = accounts[(accounts["cluster_id"] < 0) & ~accounts["farm_pair"]]
    lift = np.where(alone["farm_day"], 2.0, 1.0) * alone["farm_networks"]
    assert (alone["score"] == 0.1 * alone["own_behaviour"] * lift).all()
    assert np.isfinite(clusters.filter(like="contrib_").to_numpy()).all()
