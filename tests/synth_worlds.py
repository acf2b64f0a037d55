"""Synthetic worlds and quality helpers shared by the scoring tests."""

import functools

import numpy as np

import acctgraph as ag
from acctgraph.scoring import features


@functools.cache
def few_proxies_world(n_accounts: int, seed: int, *, unique_cards: bool = False):
    """bench_quality's ``few_proxies`` world: each farm account on 2-5 proxy
    IPs, an office of a tenth of the accounts (shared between tests: none
    modifies it); ``unique_cards``: its ``few_proxies_unique_cards`` world,
    each farm account paying with a card of its own."""
    return ag.synth.make_world(
        n_accounts,
        seed=seed,
        largest_office=n_accounts // 10,
        office_share=0.11,
        farm_ips=(2, 5),
        unique_cards=unique_cards,
    )


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
