"""Attaching single accounts to the flagged clusters they are tied to.

After every change of the clusters, :func:`attach_on_evidence` moves single
accounts: one that is not flagged but holds a tie to a flagged cluster (a
card or IP, not an ASN, more than half of whose accounts are in flagged
clusters) joins that cluster where, judged by the account rule
("Account score" in :mod:`.features`) as its member, it would be flagged.
It finds the farm accounts whose proxies are busy carrier-NAT IPs, left by
Leiden in the carrier's crowd (``few_proxies`` world: F1 0.954 to 0.968,
average precision 0.950 to 0.973). An account that first used each of its
IPs in a flagged farm's operating hour of the day (in the farm's rhythm)
also counts an IP half of whose accounts are the farm's as a tie.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.special import pdtrc

from ..communities import Communities, move_accounts
from ..graph import AttributeGraph
from ..ingest import concatenated_ranges, hour_of_day
from . import features, footing_rules
from .features import (
    FEATURE_WEIGHTS,
    KindRoles,
    _fit,
    _group_median,
    _group_weighted_median,
    _own_evidence,
    _population_activity,
)
from .footing_rules import _as_its_members
from .score import Scores, _fit_counted, _rescore

__all__ = ["ATTACH_ROUNDS", "attach_on_evidence"]

logger = logging.getLogger(__name__)

# Attaching is repeated until no account moves, at most this many times:
# each attached account can make more attributes ties (with an IP kind) or
# held (without one).
ATTACH_ROUNDS = 3
# Fewest core members of a farm that first used IPs in one hour of the day
# for it to be the farm's operating hour: as for a busy hour in synchrony.
_RHYTHM_MIN_MEMBERS = features.SYNCHRONY_MIN_MEMBERS


def attach_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    threshold: float = 0.5,
    min_cluster_size: int = 3,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Move an account into a farm's cluster where, judged as its member, it
    would be flagged.

    Leiden places an account with the community holding most of its edge
    weight. A farm account whose proxies are busy carrier-NAT IPs (each also
    used by about 250 people) and whose card is its one tie to the rest of
    its farm lands in the carrier's crowd, scored as the crowd (near 0),
    though it shares that card with 50 accounts of a flagged farm and
    rotates 4-5 IPs over 3 networks as they do.

    A *tie* is an attribute of any kind but the ASN more than half of whose
    accounts are members of flagged clusters (score at least
    ``threshold``): the farms' cards, proxy IPs mostly theirs. Each account
    that is not flagged and has a tie with the members of a flagged cluster
    ``c`` is judged by the account rule of :func:`.score_communities` as if
    it were ``c``'s member, against ``c``'s features as they stand::

        score(a, c) = score(c) * sqrt(m(a, c)) * fit(a, c) ** 1.5

    with ``m(a, c) = clip(w(a, c) / (0.5 * ref(c)), 0, 1)``, ``w(a, c)`` the
    summed ``deg(v) ** -0.5`` of every attribute ``a`` shares with ``c``'s
    members (ASNs included) and ``ref(c)`` the weighted median of their own
    shared weights. Where ``score(a, c)`` reaches ``threshold``, ``a`` moves
    to ``c`` (to the highest-scoring ``c``, the smallest label on a tie),
    and an attribute node whose every edge comes from accounts moved to
    ``c`` moves with them; the clusters are then scored again, and a farm
    that its attached accounts would take below ``threshold`` (its core
    diluted) is left as it was.

    A *card tie* counts as full membership, ``m(a, c) = 1``: a payment
    method that is a tie and pays for :data:`.CARD_TIE_MEMBERS` (10) or more
    of ``c``'s members. ``w`` weighs a card by its rarity, as it does an IP,
    so a card pooled by 54 farm accounts weighs 0.14 and a farm account
    whose IPs are its own (each used once) reached ``m`` 0.2-0.5 against a
    reference of 1.86 and stayed in the households' community it was
    placed in, scored near 0. A card pooled by ten of a flagged farm's
    members is the farm's own; an office's card is held by the office,
    whose cluster is not flagged. The 10 keeps a family card (a few
    holders, some inside a flagged cluster) out of the rule; no benchmark
    world has one (2, 5, 10 and 30 give the same results on
    ``few_proxies``). So an account joins a farm only if it holds
    some of the farm's own infrastructure and shows the farm's behaviour
    itself: a household whose home IP the farm's proxies resell has the
    tie, but neither rotates nor sends the farm's volume, and stays.

    On the ``few_proxies`` world (20,000 accounts, seeds 1-2) this flags 17
    and 14 more farm accounts: F1 0.961/0.947 to 0.976/0.960, average
    precision 0.954/0.945 to 0.980/0.967, no innocent account more; at
    10,000 accounts (seeds 1-3) recall 0.60/0.70/0.72 to 0.87/0.92/0.91.
    Card ties then move 12 and 19 more farm accounts into their farm's
    cluster (in seed 2 they had scored 0.000-0.002 in household
    communities) and no other account: 2 and 4 of them are flagged (F1
    0.978/0.964), the rest score below the threshold but above the
    households, and average precision rises to 0.999/0.992.
    Every other world is unchanged.

    The scoring's rule of the cluster's own IPs ("On the cluster's own IPs"
    in :mod:`.features`) is applied as if the account were ``c``'s member
    (:func:`_on_farm_ips`): where every IP it shares with another account
    is held, besides itself, by ``c``'s members alone, one of them by 2 or
    more, most of them in ``c``'s core (as its scores stand), and it sends a
    quarter of the requests of ``c``'s median core member, ``m(a, c) = 1``,
    as it will be once it has moved. Its effect, with the scoring's rule,
    is measured there.

    *In a farm's rhythm.* An operator's scheduled jobs first use their
    proxy IPs in the same hour of the day (SynchroTrap's observation, which
    the ``synchrony`` feature reads per UTC hour). A flagged cluster's
    *operating hour* is the hour of the day (UTC) in which the most of its
    core members first used an IP, where that is at least 3 of them and
    more than chance gives: ``P(Poisson(lambda) >= n) <= CHANCE_LEVEL``
    (0.001), with ``lambda`` its core's IP links spread over the hours of
    the day as the whole population's IP links are. An account that first
    used every one of its IPs, two or more, in that hour is in the farm's
    rhythm (:func:`_in_rhythm`); for it a *half tie*, an IP half or more of
    whose accounts are the farm's (a 2-account IP shared with one farm
    account), counts as a tie, and ``m(a, c) = 1``; its fit and the
    cluster's score decide as for any account. Chance puts a person's two
    IPs in one given hour about once in 576 times (more in the population's
    busy hours), and a household still has to rotate networks and send the
    farm's volume to fit. Half ties alone, without the rhythm, flagged busy
    households on their home IP (see "On the cluster's own IPs" in
    :mod:`.features`). In ``few_proxies_unique_cards`` (10,000 accounts,
    seed 1) 25 of the 50 farm accounts still missed first used every IP in
    their campaign's hour (as 4 of the 4,152 innocent accounts on an IP a
    flagged farm account uses did), 14 of them sharing a 2-account IP with
    one flagged farm account; the rule attaches 10 (the rest are short of
    the farm's rotation, 2 IPs where its median member has 4-5, or hold no
    half tie). Over the 145 worlds of the sweep in :mod:`.evidence_groups`
    F1 went up in 3 (``few_proxies_unique_cards``, seeds 1-3: 0.912 /
    0.901 / 0.879 to 0.931 / 0.920 / 0.893) and down in none, with no
    innocent account flagged more; every world at 100,000 accounts (seeds
    1-2) and of the main table at 20,000 (seeds 1-4) is unchanged.

    Attaching is repeated, as without an IP kind, up to
    :data:`ATTACH_ROUNDS` times until no account moves: a farm that Leiden
    cut into several pieces spreads its card over them (a card of 37
    holders: 6, 4, 4 and 3 in four flagged clusters, 20 elsewhere), so the
    card is no tie until the first round has moved some of its holders in,
    and a second round moves the rest. On ``few_proxies`` worlds of
    6,000-10,000 accounts (seeds 1-4) F1 went from 0.709-0.975 to
    0.935-0.984 and average precision from 0.755-0.999 to 0.950-0.999
    (8,000 accounts, seed 4: 0.742 to 0.984; 10,000, seed 1: AP 0.956 to
    0.995), households flagged 6 to 7 in all, one cell lower (10,000,
    seed 4: F1 0.975 to 0.974, one household more); at 20,000 accounts
    (the committed table) and on every other world nothing moves in a
    second round. Ten rounds instead of three change one cell of 5,000-8,000
    accounts, by 0.002.

    Why ties, and why not ASNs: without the tie, any account sharing
    attributes with a farm's members was judged. A farm that shares only
    ASNs and cards (``bench_adversarial.py``'s ``spread_farm``, every proxy
    IP used once) has a low ``ref``, so office workers on 3 of the same
    residential networks, with 4-5 IPs of their own, reached its membership
    and fit: 4 office and 3 household accounts were flagged. An ASN is a
    network with thousands of customers; sharing one says where an account
    is, not whose it is. A tie of at least half (not more than half) added
    a household that shared a 2-account IP with one farm account (10,000
    accounts, seed 1). Over the 145 worlds of the sweep in
    :mod:`.evidence_groups` (session 43), judging every account that shares
    an IP or card with a flagged cluster's members, tie or not, raised F1
    in 3 (``few_proxies_unique_cards``, 10,000 accounts, seeds 1-3: 0.931 /
    0.922 / 0.905 to 0.956 / 0.951 / 0.937) and lowered it in 32, with 49
    innocent accounts flagged against 7, offices' among them (3 at 3,000
    accounts, seed 7).

    Nor does an account left outside take the score it was judged at (held
    below ``threshold``) where that is higher than its own, which would
    rank the farm accounts that attaching misses above the crowds they sit
    in (session 43, the same sweep). With ties, average precision rose in
    7 worlds (unique cards, seeds 1-3: 0.892 / 0.894 / 0.861 to 0.923 /
    0.909 / 0.879) and fell in 57 by up to 0.0005, no world crossing 0.97.
    With half ties too (0.950 / 0.927 / 0.900; 68 worlds lower), households
    whose home IP a farm resells came to 0.46-0.50 with fit 1 (4-5 IPs
    over 2-3 networks) above the farm's own weak members at 0.24-0.36
    (``few_proxies``, 4,000 accounts, seed 5). Judging every account that
    shares an IP or card (no tie) took unique cards to 0.985 / 0.968 /
    0.949 but lowered 76 worlds by up to 0.009 and scored 5 office and 41
    household accounts 0.3 or more (seed 1; none before): a lower threshold
    chosen by a user would flag an office.

    Judged so only where the data has an IP kind: without one, ``fit``
    rests on volume alone, which active background users have too. On
    FRAUDAR's injection benchmark (one generic kind) background raters of
    the injected block's products were attached to it: cells at or above
    FRAUDAR fell from 24 to 15 of 32 (thinned background; random camouflage
    at density 0.05: F 0.981 to 0.914) and from 22 to 16 (unthinned).
    Without an IP kind an account joins a flagged cluster where it stands
    on the cluster's attributes instead (:func:`_held_by_flagged`): at
    least 2 attributes, a quarter of its edges, each with 4 or more other
    holders of whom 90% are that cluster's flagged members. A fake user
    whose own ratings (hijacked) or camouflage pulled it into a real
    users' community still rates the block's objects, which only fake
    users rate; a real user rates such an object only by chance, and
    rarely two. A hijacked account's own history dilutes that quarter (3-8
    of 20-36 ratings), so holding as many such attributes as the
    cluster's flagged members do, half their median and a tenth of its
    edges (:func:`._as_its_members`), also counts. Attaching is repeated,
    up to :data:`ATTACH_ROUNDS` (3) times, until no account moves: each
    fake user attached makes more of the block's objects held. With both
    (and the full-member rule of :mod:`.footing_rules` for accounts already in the
    cluster), 25 of the 80 cells rose and 3 fell by 0.001 or less; with
    one round, 12 of those cells are lower. The first version, over the
    benchmark's 80 cells (5 trials): 45 rose and none
    fell: mean F from density 0.03 went from 0.9879 to 0.9927 (thinned)
    and from 0.9844 to 0.9905 (unthinned); at 0.03 random camouflage went
    from 0.961 / 0.946 to 0.976 / 0.967, biased from 0.909 / 0.879 to
    0.933 / 0.901, hijacked from 0.931 / 0.926 to 0.945 / 0.931; biased
    camouflage at 0.04 from 0.964 / 0.958 to 0.981 / 0.985. On held-out
    trials 5-14, 45 rose and 1 fell by 0.001. With 3 other holders instead
    of 4, real users rating popular objects that fake users camouflage with
    were attached at density 0.10 (random camouflage, thinned: 0.996 to
    0.993, behind FRAUDAR).

    The accounts outside are judged together (:func:`_standing_together`):
    an attribute's other holders that stand on the cluster themselves, in
    other communities than the account's, count with its flagged members.
    The fake users that the block's cluster misses rate block objects
    that other missed fake users rate too. Over the 80 cells, 11 rose and
    1 fell by 0.0005; biased camouflage at 0.03 went from 0.948 / 0.922 to
    0.960 / 0.964, hijacked from 0.963 / 0.958 to 0.970 / 0.968, random
    from 0.978 / 0.971 to 0.985 / 0.980, so every cell from density 0.03
    reaches 0.95. Held-out trials 5-14: 13 rose, 3 fell by 0.002 or less;
    unthinned biased 0.03 went from 0.914 to 0.963. Counting holders of
    the account's own community too, groups of 8-11 real users that one
    community held together joined the block at densities 0.07-0.10
    (thinned, biased camouflage: 0.996 to 0.984 at 0.10, behind FRAUDAR's
    0.990). The half that anchors an attribute matters little (15 trials:
    0.3 instead raised 2 cells by up to 0.003, 0.7 lowered 3 by up to
    0.005); above half, one cluster at most anchors it.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    roles : KindRoles, optional
    threshold : float, default=0.5
    min_cluster_size : int, default=3
        A community left with fewer accounts is dropped.
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    with_ips = roles.ip in set(graph.links.kinds)
    # Until nothing moves: each account attached makes more of its
    # attributes ties, or held, for its new cluster.
    for _ in range(ATTACH_ROUNDS):
        if with_ips:
            moved, target = _tied_to_flagged(graph, communities, scores, roles, threshold)
        else:
            moved, target = _held_by_flagged(graph, communities, scores, threshold)
        attached, rescored = _attach_unless_sinking(
            graph, communities, scores, moved, target, roles, threshold, min_cluster_size, n_jobs
        )
        if attached is communities:  # nothing moved
            break
        communities, scores = attached, rescored
    return communities, scores


def _tied_to_flagged(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    roles: KindRoles,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """With an IP kind: the accounts, not flagged, that hold a tie to a
    flagged cluster and would be flagged as its member (sorted), and that
    cluster for each (see :func:`attach_on_evidence`)."""
    links = graph.links
    community = communities.account_community
    cluster_score = scores.clusters["score"].to_numpy()
    is_farm = np.append(cluster_score >= threshold, False)
    slot = np.where(community >= 0, community, communities.n_communities)
    in_farm = is_farm[slot]
    if not in_farm.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edge = graph.edge_mask

    # Each (farm, attribute) pair its members use, sorted by attribute.
    farm_links = links.links_of(np.flatnonzero(in_farm))
    farm_links = farm_links[edge[farm_links]]
    pair_farm = community[links.account[farm_links]]
    pair_attribute = links.attribute[farm_links]
    order = np.lexsort((pair_farm, pair_attribute))
    pair_farm, pair_attribute = pair_farm[order], pair_attribute[order]
    distinct = np.r_[True, (np.diff(pair_attribute) != 0) | (np.diff(pair_farm) != 0)]
    # How many of the farm's members hold each pair's attribute, and how many
    # of its core members (as they stand in the scores).
    pair_members = np.diff(np.r_[np.flatnonzero(distinct), len(distinct)])
    reported = scores.account_features["membership"].to_numpy()
    core = reported >= features.core_membership(has_ip_kind=True)
    pair_core = np.add.reduceat(
        core[links.account[farm_links]][order].astype(np.int64), np.flatnonzero(distinct)
    )
    pair_farm, pair_attribute = pair_farm[distinct], pair_attribute[distinct]

    # Ties: attributes of any kind but the ASN more than half of whose
    # accounts are in flagged clusters.
    in_flagged = np.bincount(links.attribute[farm_links], minlength=links.n_attributes)
    is_tie = 2 * in_flagged > graph.degree
    if roles.asn in set(links.kinds):
        start, stop = links.kind_range(roles.asn)
        is_tie[start:stop] = False
    # Half ties (half of the accounts or more) count for accounts in a
    # farm's rhythm (see attach_on_evidence).
    is_half_tie = (2 * in_flagged >= graph.degree) & (in_flagged > 0)
    if roles.asn in set(links.kinds):
        is_half_tie[start:stop] = False
    tied = np.zeros(links.n_accounts, dtype=bool)
    tied[links.account[edge & is_half_tie[links.attribute]]] = True

    # The edges of tied accounts, not flagged and outside every farm, to
    # attributes the farms' members use.
    uses_farm_attribute = np.zeros(links.n_attributes, dtype=bool)
    uses_farm_attribute[pair_attribute] = True
    open_account = tied & ~in_farm & (scores.account_features["score"].to_numpy() < threshold)
    candidate = np.flatnonzero(
        edge & uses_farm_attribute[links.attribute] & open_account[links.account]
    )
    if len(candidate) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    attribute = links.attribute[candidate]
    first = np.searchsorted(pair_attribute, attribute, side="left")
    n_farms = np.searchsorted(pair_attribute, attribute, side="right") - first
    pair = concatenated_ranges(first, n_farms)
    account = np.repeat(links.account[candidate], n_farms)
    farm = pair_farm[pair]
    weight = graph.degree[pair_attribute[pair]].astype(float) ** -features._OVERLAP_EXPONENT
    # Summed per (account, farm); a farm is a target only where the account
    # has a tie with its members.
    key, at = np.unique(account * communities.n_communities + farm, return_inverse=True)
    at = at.ravel()
    shared = np.bincount(at, weights=weight)

    def any_per_pair(per_link: np.ndarray) -> np.ndarray:
        return np.bincount(at, weights=per_link, minlength=len(key)) > 0

    account, farm = key // communities.n_communities, key % communities.n_communities
    in_rhythm = _in_rhythm(
        graph, roles.ip, community, communities.n_communities, core & in_farm, account, farm
    )
    has_tie = any_per_pair(is_tie[pair_attribute[pair]]) | (
        in_rhythm & any_per_pair(is_half_tie[pair_attribute[pair]])
    )
    # A card tie: a tie of the payment kind that pays for features.CARD_TIE_MEMBERS
    # or more of the farm's members.
    is_card = np.zeros(links.n_attributes, dtype=bool)
    if roles.payment in set(links.kinds):
        start, stop = links.kind_range(roles.payment)
        is_card[start:stop] = True
    card_pair = (
        is_card[pair_attribute[pair]]
        & is_tie[pair_attribute[pair]]
        & (pair_members[pair] >= features.CARD_TIE_MEMBERS)
    )
    card_tie = any_per_pair(card_pair)
    shares_a_card = any_per_pair(is_card[pair_attribute[pair]])
    on_farm_ips = _on_farm_ips(
        graph, roles.ip, pair_attribute[pair], pair_members[pair], pair_core[pair], at, account
    )
    # Both the own-IPs rule and fit read the median account's activity.
    population_activity = _population_activity(links.activity)
    activity = scores.account_features["activity"].to_numpy()[account]
    sends_volume = features.sends_its_volume(
        activity, scores.clusters["volume"].to_numpy(), farm, population_activity
    )
    own_ips = (on_farm_ips & sends_volume)[has_tie]
    account, farm, shared = account[has_tie], farm[has_tie], shared[has_tie]
    card_tie, activity, in_rhythm = card_tie[has_tie], activity[has_tie], in_rhythm[has_tie]
    shares_a_card = shares_a_card[has_tie]

    members = np.flatnonzero(in_farm)
    reference = _group_weighted_median(
        scores.account_features["shared_weight"].to_numpy()[members],
        community[members],
        communities.n_communities,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        membership = np.clip(np.nan_to_num(shared / (0.5 * reference[farm]), nan=0.0), 0.0, 1.0)
    membership[card_tie | own_ips | in_rhythm] = 1.0
    account_features = scores.account_features
    clusters = scores.clusters
    own = _own_evidence(
        account_features["n_ips"].to_numpy()[account],
        account_features["n_asns"].to_numpy()[account],
        activity,
        population_activity,
    )
    # The cluster signals fit compares an account's own evidence with.
    signal = pd.DataFrame(
        {f: clusters[f"contrib_{f}"].to_numpy() / FEATURE_WEIGHTS[f] for f in own}
    )
    # Without footing, which counts only where the data has no IP kind.
    fit = _fit(own, signal, clusters, farm, scores.unavailable)
    # As the scoring will count it once the account has moved: no fit under
    # a tenth of the farm's median member's requests.
    fit = features.volume_barred_fit(
        fit, activity, clusters["volume"].to_numpy(), farm, population_activity
    )
    # Nor paying with cards none of the farm's members uses, beside its pool.
    if roles.payment in set(links.kinds):
        apart_card = features.pays_apart(
            features.card_payers(graph, roles.payment)[account],
            shares_a_card,
            clusters["payment_sharing"].to_numpy()[farm],
        )
        fit = np.where(apart_card, 0.0, fit)
    judged = cluster_score[farm] * np.sqrt(membership) * _fit_counted(fit, True)
    # Each account's best farm: highest score, then smallest label.
    best = _best_per_account(account, farm, judged)
    best = best[judged[best] >= threshold]
    return account[best], farm[best]


def _in_rhythm(
    graph: AttributeGraph,
    ip_kind: str,
    community: np.ndarray,
    n_comm: int,
    farm_core: np.ndarray,
    account: np.ndarray,
    farm: np.ndarray,
) -> np.ndarray:
    """Per (``account``, ``farm``) pair: whether the account first used each
    of its IPs, two or more, in the farm's operating hour (see "In a farm's
    rhythm" in :func:`attach_on_evidence`).

    ``farm_core`` marks the core members of flagged clusters; ``community``
    is each account's cluster, of ``n_comm``.
    """
    links = graph.links
    members = np.flatnonzero(farm_core)
    core_links = links.links_of(members)
    start, stop = links.kind_range(ip_kind)
    attribute = links.attribute[core_links]
    core_links = core_links[(attribute >= start) & (attribute < stop)]
    core_links = core_links[~np.isnat(links.first_seen[core_links])]
    hour = hour_of_day(links.first_seen[core_links])
    member = links.account[core_links]
    # Distinct core members per (farm, hour of the day): one member's links
    # in an hour count once, so one account cannot make an hour busy.
    member_hour = np.unique(member * 24 + hour)
    cell = community[member_hour // 24] * 24 + member_hour % 24
    n_members = np.bincount(cell, minlength=n_comm * 24).reshape(n_comm, 24)
    n_links = np.bincount(community[member], minlength=n_comm)
    busiest = n_members.argmax(axis=1)  # the earliest hour on a tie
    most = n_members[np.arange(n_comm), busiest]
    # What chance puts in an hour: the farm's links spread over the hours of
    # the day as the whole population's links of the kind are.
    share = links.share_per_hour_of_day(ip_kind)
    expected = n_links * share[busiest]
    operating = (most >= _RHYTHM_MIN_MEMBERS) & (
        pdtrc(np.maximum(most - 1, 0), expected) <= features.CHANCE_LEVEL
    )
    judged, at = np.unique(account, return_inverse=True)
    own_hour = links.one_hour_of_day(ip_kind, judged)[at.ravel()]
    return operating[farm] & (own_hour == busiest[farm])


def _on_farm_ips(
    graph: AttributeGraph,
    ip_kind: str,
    attribute: np.ndarray,
    n_members: np.ndarray,
    n_core: np.ndarray,
    pair: np.ndarray,
    pair_account: np.ndarray,
) -> np.ndarray:
    """The scoring's own-IPs rule (:func:`.score._on_own_ips`) for each
    (account, farm) pair, as if the account were the farm's member: every IP
    it shares with another account is held, besides itself, by the farm's
    members alone, and one of them by 2 or more of them, most of them in its
    core.

    Per link of a pair (the pair's links to attributes the farm's members
    hold): its ``attribute``, the farm's ``n_members`` holding it and
    ``n_core`` of its core members, and its ``pair``; ``pair_account`` is
    each pair's account.
    """
    links = graph.links
    start, stop = links.kind_range(ip_kind)
    is_ip = (attribute >= start) & (attribute < stop)
    farms_alone = is_ip & (n_members == graph.degree[attribute] - 1)
    n_pairs = len(pair_account)
    n_alone = np.bincount(pair, weights=farms_alone, minlength=n_pairs)
    wide = farms_alone & (n_members >= 2) & (2 * n_core > n_members)
    wide = np.bincount(pair, weights=wide, minlength=n_pairs) > 0
    # Every IP the account shares with anyone, hubs (not graph edges) included.
    n_shared = links.shared_attributes_per_account(ip_kind)
    return wide & (n_alone == n_shared[pair_account])


def _held_by_flagged(
    graph: AttributeGraph, communities: Communities, scores: Scores, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Without an IP kind: the accounts, not flagged, that stand on a flagged
    cluster's attributes (sorted), and that cluster for each.

    An attribute is *held by* cluster ``c`` where it has at least
    :data:`.HELD_MIN_OTHERS` (4) other holders and at least
    :data:`.HELD_SHARE` (90%) of them are ``c``'s flagged members or accounts
    that stand on ``c`` themselves. An account with at least
    :data:`.HELD_MIN_ATTRIBUTES` (2) attributes held by ``c``, making at least
    :data:`.HELD_MIN_EDGE_SHARE` (25%) of its edges or as many as ``c``'s
    flagged members hold (:func:`._as_its_members`), stands on ``c`` and
    moves to it (the ``c`` holding most of them, the smallest label on a
    tie).

    The accounts standing are found together (:func:`_standing_together`),
    among the holders of attributes more than :data:`.HELD_ANCHOR_SHARE`
    (half) of whose other holders are ``c``'s flagged members, each counting
    only those of other communities than its own. Why together: camouflage
    scatters the fake users that a block's cluster misses over the real
    communities whose objects they also rate, and the block's objects they
    rate are also rated by other missed fake users, so fewer than 90% of
    the objects' other raters are flagged, though all are fake. Unthinned
    background, biased camouflage, density 0.03, trial 2: 59 fake users
    missed, their objects' other raters 54-100% flagged (median 71%),
    only 0.3 of their objects on average held by flagged members alone.
    Why other communities only: a group of real users whom Leiden keeps in
    one community, rating the same popular objects, would vouch for each
    other where camouflage makes most of those objects' raters fake
    (thinned background, biased camouflage, density 0.10: groups of 8-11
    such real users joined, with 17 of an object's 25 raters fake).
    """
    links = graph.links
    n_attr = links.n_attributes
    community = communities.account_community
    flagged = (scores.account_features["score"].to_numpy() >= threshold) & (community >= 0)
    # Flagged holders per (cluster, attribute), read from the flagged
    # accounts' links only; above half, one cluster at most.
    flagged_links = links.links_of(np.flatnonzero(flagged))
    flagged_links = flagged_links[graph.edge_mask[flagged_links]]
    pairs, n_flagged = np.unique(
        community[links.account[flagged_links]] * n_attr + links.attribute[flagged_links],
        return_counts=True,
    )
    others = graph.degree[pairs % n_attr] - 1
    anchored = (others >= footing_rules.HELD_MIN_OTHERS) & (
        n_flagged > footing_rules.HELD_ANCHOR_SHARE * others
    )
    anchor_by = np.full(n_attr, -1, dtype=np.int64)
    anchor_by[pairs[anchored] % n_attr] = pairs[anchored] // n_attr
    flagged_of = np.zeros(n_attr, dtype=np.int64)
    flagged_of[pairs[anchored] % n_attr] = n_flagged[anchored]
    edges = np.flatnonzero(graph.edge_mask & (anchor_by >= 0)[links.attribute])
    account, attribute = links.account[edges], links.attribute[edges]
    cluster = anchor_by[attribute]
    # Each flagged member's count of attributes its own cluster holds, and
    # the median per cluster: what an account outside must hold half of.
    by_member = (
        flagged[account]
        & (community[account] == cluster)
        & (flagged_of[attribute] >= footing_rules.HELD_SHARE * (graph.degree[attribute] - 1))
    )
    member_held = np.bincount(account[by_member], minlength=links.n_accounts)
    members_median = _group_median(
        member_held[flagged], community[flagged], communities.n_communities + 1
    )
    # Members not flagged are judged too, and vouch for accounts outside,
    # but they are already where they would move.
    candidate = ~flagged[account]
    held_account, held_cluster, n_held = _standing_together(
        graph,
        community,
        account[candidate],
        attribute[candidate],
        cluster[candidate],
        flagged_of,
        members_median,
    )
    elsewhere = community[held_account] != held_cluster
    held_account, held_cluster, n_held = (
        held_account[elsewhere],
        held_cluster[elsewhere],
        n_held[elsewhere],
    )
    # Each account's cluster holding most of its attributes, then the smallest label.
    best = _best_per_account(held_account, held_cluster, n_held)
    return held_account[best], held_cluster[best]


def _standing_together(
    graph: AttributeGraph,
    community: np.ndarray,
    account: np.ndarray,
    attribute: np.ndarray,
    cluster: np.ndarray,
    flagged_of: np.ndarray,
    members_median: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The accounts that stand on a cluster together, and how many of its
    attributes each holds.

    ``account``, ``attribute`` and ``cluster`` give the edges of the
    accounts judged to the attributes anchored by ``cluster``;
    ``flagged_of`` each attribute's flagged holders there. Every account
    starts standing. An attribute is held for an account where its flagged
    holders and the accounts still standing from other communities than the
    account's are :data:`.HELD_SHARE` of its other holders; an account
    without enough held attributes (see :func:`_held_by_flagged`) falls,
    until none falls (each round only takes accounts out, so it ends).

    Returns
    -------
    account, cluster, n_held : ndarray
        One row per (account, cluster) standing, in the order of the
        accounts' first edges.
    """
    n_labels = int(community.max(initial=-1)) + 2
    pair, keys = pd.factorize(account * n_labels + cluster)
    pair_account, pair_cluster = keys // n_labels, keys % n_labels
    edges_of = graph.account_edges[pair_account]
    # (attribute, community of the holder): whose standing does not count.
    own, _ = pd.factorize(attribute * (n_labels + 1) + community[account] + 1)
    others = graph.degree[attribute] - 1
    standing = np.ones(len(keys), dtype=bool)
    while True:
        standing_of = np.bincount(attribute, weights=standing[pair], minlength=len(flagged_of))
        standing_own = np.bincount(own, weights=standing[pair])
        support = flagged_of[attribute] + standing_of[attribute] - standing_own[own]
        n_held = np.bincount(
            pair, weights=support >= footing_rules.HELD_SHARE * others, minlength=len(keys)
        )
        enough = (n_held >= footing_rules.HELD_MIN_ATTRIBUTES) & (
            n_held >= footing_rules.HELD_MIN_EDGE_SHARE * edges_of
        )
        enough |= _as_its_members(n_held, edges_of, members_median[pair_cluster])
        if not (standing & ~enough).any():
            break
        standing &= enough
    return pair_account[standing], pair_cluster[standing], n_held[standing].astype(np.int64)


def _best_per_account(account: np.ndarray, label: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of each account's row with the highest ``value``, the
    smallest ``label`` on a tie, in account order."""
    best = np.lexsort((label, -value, account))
    return best[np.r_[True, account[best][1:] != account[best][:-1]][: len(best)]]


def _attach_unless_sinking(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    moved: np.ndarray,
    target: np.ndarray,
    roles: KindRoles,
    threshold: float,
    min_cluster_size: int,
    n_jobs: int | None,
) -> tuple[Communities, Scores]:
    """Move ``moved`` (sorted) into the flagged clusters ``target`` and
    score the result, leaving out the accounts of a cluster they would take
    below ``threshold``."""
    if len(moved) == 0:
        return communities, scores
    attached, rescored = _attach(
        graph, communities, scores, moved, target, roles, min_cluster_size, n_jobs
    )
    # A farm that the accounts attached to it would take below the threshold
    # (its core diluted) is left as it was, so attaching never unflags.
    sinks = rescored.clusters["score"].to_numpy()[attached.account_community[moved]] < threshold
    if sinks.any():
        moved, target = moved[~sinks], target[~sinks]
        if len(moved) == 0:
            return communities, scores
        attached, rescored = _attach(
            graph, communities, scores, moved, target, roles, min_cluster_size, n_jobs
        )
    logger.info(
        "scoring: %d accounts attached to %d flagged clusters", len(moved), len(np.unique(target))
    )
    return attached, rescored


def _attach(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    moved: np.ndarray,
    target: np.ndarray,
    roles: KindRoles,
    min_cluster_size: int,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Move accounts ``moved`` (sorted) into communities ``target``, with the
    attribute nodes whose every edge comes from accounts moved to one of
    them, and score the result."""
    follows, follows_to = graph.attributes_held_only_by(moved, target)
    attached = move_accounts(
        communities, moved, target, follows, follows_to, min_size=min_cluster_size
    )
    return attached, _rescore(graph, attached, [(communities, scores)], roles, n_jobs)
