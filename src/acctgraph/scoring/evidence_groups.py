"""Evidence groups: the accounts that show a farm's behaviour themselves,
linked through what mostly they hold, weighed whole.

A farm that pays with a card of each account's own and rotates over a few
proxy IPs each (``few_proxies_unique_cards``: 2-5 IPs from a pool three
times the farm's size) is held together by those IPs alone, most of which
one or two of its accounts use. Leiden cuts it into pieces and puts them in
communities with the households whose home IPs its proxies resell, as many
households as farm accounts or more, and such a community's medians are
the households': 20 farm accounts among 53 households scored 0.007.
Peeling does not find them (a household with its family card is a denser
block than a sparse web of proxies), and there is no card to group them by.

What the households do not show is the farm accounts' own behaviour:
2-7 IPs over 2-6 networks and 12-100 times the median account's requests,
against 1-5 IPs in 1-3 networks and at most 7 times. An account *shows*
where its own evidence

    e(a) = sum_f w_f * s_f(a) / sum_f w_f

over the features an account has on its own (``ip_rotation``,
``asn_spread``, ``volume``; :func:`.features._own_evidence`), each squashed
as its cluster feature is and weighed as in :data:`.FEATURE_WEIGHTS`,
reaches a bar (:data:`OWN_EVIDENCE_SHOWN`, 0.5, and in a second round
0.4: :data:`EVIDENCE_BARS`); an attribute *links* the accounts that
show where at least half of its holders show (any kind but the ASN: a
network says where an account is, not whose it is). An *evidence group*
is a connected component of those links with ``min_accounts`` accounts or
more. In ``few_proxies_unique_cards`` (10,000 accounts, seed 1) the 254
farm accounts that show are in groups of 182, 25, 17 and 16 accounts, all
farm, across 13 communities; the other accounts that show (83 developers
with their cloud IPs, 38 of other crowds) form groups of 14 or fewer, and
those of 5 or more are all developers, which score about 0.03 alone.
That is at the bar of 0.5. At 0.4 (weighed after, since session 48),
307 of the farm's 310 accounts show, in groups of 225 (2 households among
them), 28, 20 and 19 accounts, and of the 428 innocent accounts that show
(191 developers, 112 household, 65 office and 55 VPN accounts) only
developers form groups of 10 or more (117 and 16).

:func:`adopt_evidence_groups` weighs each group as :func:`.adopt_card_groups`
weighs a card group (:func:`.card_groups.adopt_groups`): scored on its own,
carved out where it is flagged and beats the communities it came from.
Choosing accounts by their evidence raises the features it is read from, so
a group's score must rest on the rest as well: a farm's accounts also
share specific IPs (``specific_overlap``) and are all embedded
(``cohesion``). Heavy users of a crowd share only its busy IPs, which
link nobody here since most of their holders do not show.

Measured with ``benchmarks/bench_quality.py --peers`` (acctgraph alone) on
145 worlds: every world of its table at 5,000 and 10,000 accounts, seeds
1-3; ``few_proxies`` at 3,000-10,000 accounts in steps of 1,000, seeds
1-8; the five combined worlds at 10,000 accounts, seeds 1-3 (six of them
counted twice: 139 distinct worlds; since session 47
``benchmarks/sweep_quality.py run`` runs this sweep and ``compare`` sets
two runs side by side). ``few_proxies_unique_cards`` went from F1 0.762/0.551/0.689 to
0.885/0.899/0.864 (average precision 0.772/0.616/0.687 to
0.830/0.850/0.805), nothing innocent flagged; of the other 142 worlds,
one changed (few_proxies, 8,000 accounts, seed 4: average precision
0.99992 to 1.0); with the groups at 0.4 weighed after (session 48),
0.968/0.958/0.953. Carving the accounts that show out of each community on its
own, before card groups, also took 5 accounts of a 20-account farm that
its card group held (few_proxies without synchrony, 10,000 accounts,
seed 3: average precision 1.000 to 0.985); weighed across communities,
after card groups, they stay.
"""

from __future__ import annotations

import numpy as np

from ..communities import Communities
from ..graph import AttributeGraph
from . import adopting, card_groups, features, merging
from .features import KindRoles
from .score import Scores

__all__ = ["EVIDENCE_BARS", "OWN_EVIDENCE_SHOWN", "adopt_evidence_groups", "find_evidence_groups"]

# Share of the evidence an account can show on its own (e(a) in the module
# docstring) from which it shows a farm's behaviour. On the 145 worlds of
# the module docstring's sweep, 0.5 flags no innocent account more; on the
# 56 of them rerun, 0.4 took few_proxies_unique_cards (seeds 1-3) from F1
# 0.885/0.899/0.864 to 0.903/0.942/0.918 but flagged a household
# (few_proxies, 5,000 accounts, seed 8), and 0.6 left 0.784/0.695/0.772
# (each as the only bar, on the code of then; 0.4 as a second bar since
# session 48: EVIDENCE_BARS).
OWN_EVIDENCE_SHOWN = 0.5
# The bars at which acctgraph.detect finds evidence groups and weighs them,
# in turn: those of accounts showing 0.5, then those of accounts showing
# 0.4, which lets in a farm account on 2 proxy IPs in 2 networks sending
# 20 times the median account's requests (e = (2.5 * log 2 / log 8 + 2.0)
# / 7 = 0.405), the shortest rotation few_proxies deals out. Where such
# accounts are most of a farm's piece, the 2-account IPs they share with
# its other accounts link nobody at 0.5, and the piece stays in a
# households' community. Where they are a farm's weaker members, they
# lower the medians its group is scored by: in few_proxies_all_at_once
# (10,000 accounts, seed 4) the group of 61 farm accounts at 0.5 scores
# 0.551 (58 flagged), and at 0.4, with 12 farm accounts and 2 households
# more, 0.403 (none flagged). Weighed second, a group at 0.4 is weighed
# against the clusters its accounts are in by then, the groups adopted at
# 0.5 included, as any group is against the communities it came from; and,
# scoring less than the group adopted at 0.5 that it holds, by the flags it
# adds (since session 51: "Below its pieces" in card_groups). Measured in
# session 48 with benchmarks/sweep_quality.py against 0.5 alone:
# - the 139-world sweep: F1 up in 5, down in none, nothing innocent
#   flagged more (8 households). few_proxies_unique_cards (10,000
#   accounts, seeds 1-3) 0.953/0.937/0.925 to 0.968/0.958/0.953 (average
#   precision 0.919/0.896/0.878 to 0.947/0.931/0.922); every knob (seed 3)
#   0.904 to 0.926.
# - seeds 4-8 of unique cards, every knob, few_proxies, household proxies
#   and small share at 10,000 accounts: F1 up in 7, down in none; unique
#   cards 0.931/0.965/0.970/0.933/0.933 to 0.958/0.974/0.982/0.960/0.942.
# - 100,000 accounts (every world, seeds 1-2) and the 44 worlds of the
#   main table at 20,000 (seeds 1-4): unchanged.
# The bar of 0.4 alone (session 48's first commit, a212b9d) took every
# knob at 10,000 accounts (seeds 1-3) from 0.824/0.699/0.904 to
# 0.841/0.667/0.926 and seed 4 from 0.841 to 0.000 (the group above); its
# average precision rose (seed 2: 0.854 to 0.962, one group holding 77 of
# the farm's 80 accounts at 0.509 rather than 68 at 0.521), and at 100,000
# accounts every knob's F1 too (0.905/0.912 to 0.923/0.945), with 4 more
# households flagged. Lower bars let households in: 0.38 took
# every knob (seed 1) to 0.769 and 0.35 (seed 3) to 0.000, 8 innocent
# accounts in the farm's group holding it at 0.482; 0.42 and 0.45 gain
# less (unique cards 0.960/0.942/0.940 at 0.45). Measured against the two
# bars and not kept: a third at 0.35 (139 worlds: F1 up in 2, by 0.004 at
# most, one household flagged more; seeds 4-8 unchanged); bars of 0.5,
# 0.45 and 0.4 (every knob seed 1 0.824 to 0.832, nothing else); at the
# second bar, an attribute linking where a third of its holders show
# rather than half (unique cards seeds 1-2 0.968/0.958 to 0.980/0.961, but
# 3 innocent accounts flagged more over the two plans and small share
# seed 8 0.966 to 0.958).
EVIDENCE_BARS = (OWN_EVIDENCE_SHOWN, features.SHOWING_BAR)


def own_evidence_shown(graph: AttributeGraph, roles: KindRoles) -> np.ndarray:
    """Each account's ``e(a)`` (see the module docstring), 0 for the
    features whose kind the data lacks.

    Read from the links alone (what every scoring gives each account as
    ``n_ips``, ``n_asns`` and ``activity``), so it needs no communities.
    """
    links = graph.links
    own = features._own_evidence(
        links.attributes_per_account(roles.ip),
        links.attributes_per_account(roles.asn),
        links.activity,
        features._population_activity(links.activity),
    )
    return features.shown_evidence(own, features.without_their_kind(set(links.kinds), roles))


def find_evidence_groups(
    graph: AttributeGraph,
    roles: KindRoles,
    *,
    min_accounts: int = 10,
    bar: float = OWN_EVIDENCE_SHOWN,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The accounts that show a farm's behaviour, linked through the
    attributes mostly they hold, and the attributes they alone hold.

    Parameters
    ----------
    graph : AttributeGraph
    roles : KindRoles
        Names the IP and ASN kinds (an ASN links nobody).
    min_accounts : int, default=10
        Smaller groups are left out.
    bar : float, default=OWN_EVIDENCE_SHOWN
        The ``e(a)`` from which an account shows (see :data:`EVIDENCE_BARS`).

    Returns
    -------
    list of (accounts, attributes)
        Each group's account codes and the codes of the attribute nodes every
        graph edge of which comes from its accounts, both sorted; groups in
        order of their smallest account.
    """
    links = graph.links
    shows = own_evidence_shown(graph, roles) >= bar
    edge = graph.edge_mask & shows[links.account]
    if roles.asn in set(links.kinds):
        start, stop = links.kind_range(roles.asn)
        edge &= (links.attribute < start) | (links.attribute >= stop)
    showing_holders = np.bincount(links.attribute[edge], minlength=links.n_attributes)
    links_them = 2 * showing_holders >= graph.degree
    edges = np.flatnonzero(edge & links_them[links.attribute])
    if len(edges) == 0:
        return []
    return card_groups.linked_groups(graph, edges, min_accounts)


def adopt_evidence_groups(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    margin: float = merging.MERGE_MARGIN,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    min_accounts: int = 10,
    bar: float = OWN_EVIDENCE_SHOWN,
    groups: list[tuple[np.ndarray, np.ndarray]] | None = None,
    group_scores: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report an evidence group that Leiden did not report whole as one
    cluster where it scores as a farm, above the communities it came from.

    Groups are found by :func:`find_evidence_groups` and weighed as card
    groups are (:func:`.adopt_card_groups`). Only where the data has an IP
    kind: without one, ``e(a)`` rests on volume alone, which active
    background users have too.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    roles : KindRoles, optional
    margin : float, default=merging.MERGE_MARGIN
    min_cluster_size : int, default=3
        A community left with fewer accounts is dropped.
    threshold : float, default=0.5
    min_accounts : int, default=10
        Smaller evidence groups are not weighed.
    bar : float, default=OWN_EVIDENCE_SHOWN
        The ``e(a)`` from which an account shows. :func:`acctgraph.detect`
        weighs the groups of each of :data:`EVIDENCE_BARS` in turn.
    groups : list of (accounts, attributes), optional
        What ``find_evidence_groups(graph, roles, min_accounts=min_accounts,
        bar=bar)`` gives, where found already: it needs no communities, so
        :func:`acctgraph.detect` finds the groups while Leiden runs.
    group_scores : ndarray, optional
        What :func:`.score_groups` gives for ``groups``, where scored
        already (:func:`acctgraph.detect` scores them while Leiden runs).
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    if roles.ip not in set(graph.links.kinds):
        return communities, scores
    # A group nearly all flagged already (all but under PIECE_SHARE of its
    # accounts) has no account to add, and weighing it would carve it out
    # and score every cluster again to count flags: 1.1 s at 1M accounts,
    # where the four campaigns make one group of 28,832 accounts, all but
    # 33 of them flagged.
    unflagged = scores.account_features["score"].to_numpy() < threshold
    if groups is None:
        groups = find_evidence_groups(graph, roles, min_accounts=min_accounts, bar=bar)
    weighed = [
        i
        for i, (accounts, _) in enumerate(groups)
        if unflagged[accounts].mean() >= adopting.PIECE_SHARE
    ]
    return card_groups.adopt_groups(
        graph,
        communities,
        scores,
        [groups[i] for i in weighed],
        "evidence groups",
        roles=roles,
        margin=margin,
        min_cluster_size=min_cluster_size,
        threshold=threshold,
        group_scores=None if group_scores is None else np.asarray(group_scores)[weighed],
        n_jobs=n_jobs,
    )
