"""Synthetic worlds and quality helpers shared by the scoring tests."""

import functools

import numpy as np

import acctgraph as ag
from acctgraph.scoring import features


@functools.cache
def few_proxies_world(n_accounts: int, seed: int, **knobs):
    """bench_quality's ``few_proxies`` world: each farm account on 2-5 proxy
    IPs, an office of a tenth of the accounts (shared between tests: none
    modifies it), with ``knobs`` of :func:`acctgraph.synth.make_world` on
    top (``unique_cards=True``: its ``few_proxies_unique_cards`` world,
    each farm account paying with a card of its own)."""
    return ag.synth.make_world(
        n_accounts,
        seed=seed,
        largest_office=n_accounts // 10,
        office_share=0.11,
        farm_ips=(2, 5),
        **knobs,
    )


# bench_quality's ``all_at_once`` knobs: every difficulty at once.
ALL_AT_ONCE = {
    "camouflage": 1.0,
    "household_proxy_share": 0.3,
    "shared_proxy_network": True,
    "unique_cards": True,
    "datacenter_proxy_share": 0.5,
    "churn_waves": 8,
    "farm_shares": (0.004, 0.001, 0.0005),
    "farm_volume": 300.0,
    "farm_synchrony": 0.3,
}


def every_knob_world(n_accounts: int, seed: int):
    """bench_quality's ``few_proxies_all_at_once`` world: every difficulty
    knob at once, each farm account on 2-5 proxy IPs."""
    return few_proxies_world(n_accounts, seed, **ALL_AT_ONCE)


def innocents_flagged(quality, *, but):
    """Flagged accounts of innocent crowds, leaving the role ``but`` aside
    (``but="farm"``: every crowd)."""
    return sum(n for role, n in quality["flagged_by_role"].items() if role not in ("farm", but))


def spike_hours_off(monkeypatch):
    """Synchrony by UTC hour alone: no spike hours of the day (see
    :mod:`acctgraph.scoring.features`), for tests that isolate another rule."""
    monkeypatch.setattr(
        features,
        "_in_spike_hours",
        lambda cell_comm, cell_hour, n_links, n_members, n_comm, *a: np.zeros(n_comm),
    )


def before_showing(monkeypatch):
    """The score as it stood before the ``showing`` feature and fit's
    exponent (session 50), for tests that isolate an older rule in a world
    (the every-knob world above all) whose farm clusters these move."""
    monkeypatch.setitem(features.FEATURE_WEIGHTS, "showing", 0.0)
    monkeypatch.setattr(features, "FIT_EXPONENT", 1.0)


def pairs_off(monkeypatch):
    """No account flagged as paired with a farm ("Paired with a farm" in
    :mod:`acctgraph.scoring.features`, session 53), for tests that isolate
    an older rule whose farm accounts the pairing finds too."""
    monkeypatch.setattr(ag.results, "PAIR_MIN_OWN", float("inf"))


def farm_day_rules_off(monkeypatch):
    """Neither pairing with a farm nor members counted in full on a farm's
    creation day (session 53), for tests that isolate an older rule whose
    farm accounts these find too."""
    pairs_off(monkeypatch)
    monkeypatch.setattr(ag.results, "DAY_MEMBER_MIN_OWN", float("inf"))


def ties_off(monkeypatch):
    """Session 56's rules off ("Tied to a farm twice" in
    :mod:`acctgraph.scoring.features`): no account flagged or ranked by its
    ties to a farm, and pairing judged once; and session 57's, no account
    flagged among strangers ("Among strangers"): for tests that isolate an
    older rule whose farm accounts these find or rank too."""
    strangers_off(monkeypatch)
    monkeypatch.setattr(ag.results, "TIED_MIN_IPS", float("inf"))
    monkeypatch.setattr(ag.results, "TIED_RANK_MIN_IPS", float("inf"))
    monkeypatch.setattr(ag.results, "PAIR_ROUNDS", 1)


def strangers_off(monkeypatch):
    """No account flagged among strangers ("Among strangers" in
    :mod:`acctgraph.scoring.features`, session 57)."""
    monkeypatch.setattr(ag.results, "STRANGER_MIN_GROUPS", float("inf"))
    monkeypatch.setattr(ag.results, "STRANGER_MIN_IP_GROUPS", float("inf"))
