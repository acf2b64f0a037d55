"""Card groups: the accounts that pay with the same cards, weighed whole.

A payment method shared by many accounts is the plainest link a farm
leaves, and Leiden can still scatter its holders. Where a farm's proxy IPs
are few per account and barely shared (``few_proxies`` world, 5,000
accounts, seed 1: its 120 accounts use 271 IPs, 130 of them once, and pay
with 3 cards of 35-60 holders), each account's heavy use of its own proxies
outweighs the card (edge weight 3.7 against 0.14, see :mod:`acctgraph.graph`),
and the few proxies that are also households' home IPs pull it into that
household's community. Leiden cut that farm into 16 communities, the largest
with 46 of its accounts; 45 accounts were flagged, and attaching could not
bring the rest, as none of the cards had half its holders flagged.

:func:`adopt_card_groups` weighs as one cluster each *card group* (the
accounts linked through cards of :data:`MIN_CARD_HOLDERS` holders or more,
as one connected component) that Leiden did not report as a community of
its own, and carves it out where it is flagged and scores more than
:data:`.MERGE_MARGIN` above the communities it came from, or, scoring less,
flags more of the accounts it touches (the two grounds on which
:func:`.adopt_dense_blocks` adopts a block, there only within the margin).
Carved out, that farm scored 0.93 and flagged 114 of its 120 accounts (F1 0.710 to 0.966). The holders of an office's corporate card
are a card group too, and where Leiden cut the office (500 employees, 40
communities) it was weighed: it scored 0.02, as an office does, and stayed
as it was.

Leiden fails to report a group in two ways: it scatters the group over
several communities, as above, or leaves it whole inside a community that
also holds other accounts. At 5,000 accounts (seed 5) a 20-account farm
came out with 38 of the households whose home IPs its proxies resell, in a
community scoring 0.022; its card group alone scores 0.94. Weighing such
groups too took the world's F1 from 0.925 to 0.983, and the lowest F1 of
48 ``few_proxies`` worlds (3,000-10,000 accounts, seeds 1-8) from 0.925 to
0.952; 16 of them went up and none down.

A group can score under the threshold and still far above the crowd
Leiden left it in: with every knob of ``few_proxies_all_at_once`` at once
(10,000 accounts, seed 2) the farm's evidence group, 68 accounts all farm,
scores 0.46 alone, while 61 of them lay in a community with 82
households and 4 office accounts, scoring 0.08 there. Such a group is
carved out to be *ranked* as what it is, not flagged: where it scores at
least :data:`RANKED_MIN_SHARE` of the threshold and more than the margin
above every community it came from (none of them flagged), and where
carving it moves no account across the threshold. That world's average
precision went from 0.723 to 0.854, its flags unchanged, and no innocent
account scores above its 68 (the highest 0.034). No other world changed:
the 145 worlds of :mod:`.evidence_groups`'s sweep, the main table's worlds
at 20,000 accounts (seeds 1-4) and the 100,000-account table.

*Below its pieces* (session 51). Until then a group was weighed only
within the margin of its best piece, as a dense block is. But the
evidence groups of :data:`.EVIDENCE_BARS` are weighed in turn, and the
group at the second bar (0.4) holds the farm cluster that the first
adopted, with the farm's weaker members around it: its medians are lower
and it scores less. In ``few_proxies_all_at_once`` (10,000 accounts, seed
7) the group at 0.5, 56 farm accounts, was adopted at 0.751; the group at
0.4, 75 farm accounts and 2 households, scores 0.701, just under 0.751 -
0.05, and was left out, so 13 farm accounts stayed in a community with 42
households scoring 0.006. Weighed, it flags more and is adopted. The flag
count still decides, and a group must still be flagged itself: a crowd's
group (offices' cards, developers' evidence) scores under the threshold.
Measured with ``benchmarks/sweep_quality.py`` against the gate, with the
spike pairs of :func:`.features._in_spike_hours` on both sides (their own
effect is given there): the 139-world sweep F1 up in 1 (``few_proxies``
with churn, 10,000 accounts, seed 3: 0.989 to 0.992), down in none, no
innocent account flagged more, the lowest farm cluster score 0.574 to
0.738; seeds 4-8 of five worlds (10,000 accounts) up in 2 (every knob
seeds 4 and 7: 0.904 / 0.835 to 0.947 / 0.955), down in none, one
household flagged more (seed 7: two in the farm's cluster, each on 4-5
IPs over 2-3 networks, fit 0.93); seeds 9-16 of four worlds
(``few_proxies`` alone, with churn, unique cards, every knob) up in 4
(every knob seeds 10 / 12 / 14: 0.841 / 0.889 / 0.857 to 0.933 / 0.954 /
0.926, unique cards seed 15: 0.931 to 0.937), down in none, nothing
innocent more; the 100,000-account plan (every world, seeds 1-2) and the
main table's worlds at 20,000 (seeds 1-4) unchanged. At 1,000,000
accounts one run took 20.9 s (20.65 s in session 50), recall 0.9997.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..communities import Communities, carve_blocks
from ..graph import AttributeGraph
from . import adopting, merging
from .features import KindRoles
from .score import Scores, _rescore, score_communities

__all__ = [
    "MIN_CARD_HOLDERS",
    "RANKED_MIN_SHARE",
    "adopt_card_groups",
    "adopt_groups",
    "find_card_groups",
    "linked_groups",
    "score_groups",
]

logger = logging.getLogger(__name__)

# A card links its holders where it pays for at least this many accounts:
# more than a household's card (the synthetic worlds' family cards have
# 2-4 holders). A group must still hold ``min_accounts`` (10) accounts and
# score as a farm whole. On ``few_proxies`` (3,000-20,000 accounts, seeds
# 1-4) 2, 3 and 5 give the same results; 10, the card-tie level of
# attaching, left out the holders of a 20-account farm's second card of 9
# (4,000 accounts, seed 4: F1 0.928 against 0.963; 6,000, seed 1: 0.940
# against 0.959).
MIN_CARD_HOLDERS = 5

# A group scored under the threshold is still carved out, to be ranked as
# what it is, where it scores at least this share of the threshold and more
# than the margin above every community it came from (see
# :func:`adopt_groups`). At any score, it carved out an office's card
# holders (0.067, ``few_proxies_all_at_once``, 100,000 accounts, seed 2)
# and a group of developers (0.086, ``few_proxies_unique_cards``, seed 1)
# from crowds scoring under 0.02, and average precision fell in both.
RANKED_MIN_SHARE = 0.5


def find_card_groups(
    graph: AttributeGraph, roles: KindRoles, *, min_accounts: int = 10
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The accounts linked through shared cards, and the attributes they alone hold.

    Two accounts are linked where they pay with one card that has at least
    :data:`MIN_CARD_HOLDERS` holders; a group is a connected component of
    those links, found on the bipartite graph of accounts and such cards,
    so a corporate card of 2,000 holders costs its 2,000 edges.

    Parameters
    ----------
    graph : AttributeGraph
    roles : KindRoles
        Names the payment kind; without one in the data there are no groups.
    min_accounts : int, default=10
        Smaller groups are left out.

    Returns
    -------
    list of (accounts, attributes)
        Each group's account codes and the codes of the attribute nodes every
        graph edge of which comes from its accounts (its cards among them),
        both sorted; groups in order of their smallest account.
    """
    links = graph.links
    if roles.payment not in set(links.kinds):
        return []
    start, stop = links.kind_range(roles.payment)
    is_card = np.zeros(links.n_attributes, dtype=bool)
    is_card[start:stop] = graph.degree[start:stop] >= MIN_CARD_HOLDERS
    edges = np.flatnonzero(graph.edge_mask & is_card[links.attribute])
    if len(edges) == 0:
        return []
    return linked_groups(graph, edges, min_accounts)


def linked_groups(
    graph: AttributeGraph, edges: np.ndarray, min_accounts: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The connected components of the links ``edges`` (indices into the
    graph's links) of ``min_accounts`` accounts or more, each with the
    attribute nodes every graph edge of which comes from its accounts.

    Both sorted, groups in order of their smallest account; a component
    costs its edges, so a card of 2,000 holders costs 2,000.
    """
    links = graph.links
    # Nodes: every account, then every attribute.
    n_nodes = links.n_accounts + links.n_attributes
    adjacency = sp.coo_matrix(
        (
            np.ones(len(edges), dtype=np.int8),
            (links.account[edges], links.n_accounts + links.attribute[edges]),
        ),
        shape=(n_nodes, n_nodes),
    )
    _, component = connected_components(adjacency, directed=False)
    linked = np.unique(links.account[edges])
    # Components are numbered in order of their smallest node, accounts
    # first: groups in order of their smallest account.
    _, group, n_accounts = np.unique(component[linked], return_inverse=True, return_counts=True)
    big = n_accounts[group] >= min_accounts
    if not big.any():
        return []
    linked = linked[big]
    group = np.unique(group[big], return_inverse=True)[1]
    n_groups = int(group.max()) + 1
    owned, owned_group = graph.attributes_held_only_by(linked, group)
    # ``linked`` is sorted, so a stable sort keeps each group's accounts sorted.
    accounts_by_group = np.split(
        linked[np.argsort(group, kind="stable")],
        np.cumsum(np.bincount(group, minlength=n_groups))[:-1],
    )
    attributes_by_group = np.split(
        owned[np.argsort(owned_group, kind="stable")],
        np.cumsum(np.bincount(owned_group, minlength=n_groups))[:-1],
    )
    return list(zip(accounts_by_group, attributes_by_group, strict=True))


def adopt_card_groups(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    margin: float = merging.MERGE_MARGIN,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    min_accounts: int = 10,
    groups: list[tuple[np.ndarray, np.ndarray]] | None = None,
    group_scores: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report a card group that Leiden did not report whole as one cluster
    where it scores as a farm, above the communities it came from.

    Each card group (:func:`find_card_groups`) whose accounts lie in more
    than one community, or in one that also holds other accounts, is scored
    on its own, as it would score carved out.
    Its bar is the best score of its *pieces* (the communities holding at
    least :data:`.PIECE_SHARE` of its accounts) and of the flagged
    communities that give it any account, as for :func:`.adopt_dense_blocks`.
    A group is adopted (carved out whole, :func:`.carve_blocks`) where it is
    flagged (scores at least ``threshold``) and either

    * scores more than ``margin`` above its bar, or
    * scores no more than ``margin`` above it (below it too, since session
      51) and, carved out, flags more of the accounts it touches (its own
      and its pieces') than before. A farm's best piece can be a block
      split out of a crowd: ``few_proxies``, 3,000 accounts, seed 1, a
      piece of 19 farm accounts scored 0.884 and the farm's whole group of
      72 scored 0.931, flagging 70 instead of 24. Or the piece is the
      farm's strongest members, whom a group at a stricter bar found
      first: its whole group scores less, its weaker members lowering the
      medians, and flags more (see the module docstring). Not counted for
      a group inside one community with under :data:`.PIECE_SHARE` of its
      accounts unflagged: it can flag hardly more.

    The groups weighed are carved out together (they share no account) to
    count the flags. Then a group scored under ``threshold`` but at least
    :data:`RANKED_MIN_SHARE` of it, and more than ``margin`` above its bar,
    is carved out to be ranked (see the module docstring), where that
    changes no account's flag; the other groups are left as they were.

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
        Smaller card groups are not weighed.
    groups : list of (accounts, attributes), optional
        What ``find_card_groups(graph, roles, min_accounts=min_accounts)``
        gives, where found already: it needs no communities, so
        :func:`acctgraph.detect` finds the groups while Leiden runs.
    group_scores : ndarray, optional
        What :func:`score_groups` gives for ``groups``, where scored already
        (:func:`acctgraph.detect` scores them while Leiden runs).
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    if groups is None:
        groups = find_card_groups(graph, roles, min_accounts=min_accounts)
    return adopt_groups(
        graph,
        communities,
        scores,
        groups,
        "card groups",
        roles=roles,
        margin=margin,
        min_cluster_size=min_cluster_size,
        threshold=threshold,
        group_scores=group_scores,
        n_jobs=n_jobs,
    )


def score_groups(
    graph: AttributeGraph,
    groups: list[tuple[np.ndarray, np.ndarray]],
    *,
    roles: KindRoles,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Each group's score carved out on its own, as one cluster.

    A community's features come from its own members and attribute nodes
    alone, so this is the score the group has carved out of any partition,
    without scoring again the communities it would leave (0.8 s at 1M
    accounts, for about 450 office groups and none adopted), and without
    communities at all.

    Parameters
    ----------
    graph : AttributeGraph
    groups : list of (accounts, attributes)
        No account in two groups.
    roles : KindRoles
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    ndarray
        One score per group, in order.
    """
    if not groups:
        return np.zeros(0)
    alone = Communities(
        account_community=np.full(graph.links.n_accounts, -1, dtype=np.int64),
        attribute_community=np.full(graph.links.n_attributes, -1, dtype=np.int64),
        n_communities=len(groups),
        n_components=0,
    )
    for i, (accounts, attributes) in enumerate(groups):
        alone.account_community[accounts] = i
        alone.attribute_community[attributes] = i
    return score_communities(graph, alone, roles=roles, n_jobs=n_jobs).clusters["score"].to_numpy()


def adopt_groups(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    groups: list[tuple[np.ndarray, np.ndarray]],
    what: str,
    *,
    roles: KindRoles,
    margin: float = merging.MERGE_MARGIN,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    group_scores: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Carve out each of ``groups`` that Leiden did not report whole, where
    it scores as a farm above the communities it came from, or under the
    threshold but far above them (to be ranked), on the grounds
    :func:`adopt_card_groups` gives.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    groups : list of (accounts, attributes)
        Each group's account codes (sorted) and the attribute nodes that go
        with them; no account in two groups.
    what : str
        What the groups are, for the log.
    roles : KindRoles
    margin : float, default=merging.MERGE_MARGIN
    min_cluster_size : int, default=3
        A community left with fewer accounts is dropped.
    threshold : float, default=0.5
    group_scores : ndarray, optional
        What :func:`score_groups` gives for ``groups``, where scored already.
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    community = communities.account_community
    size = np.bincount(community[community >= 0], minlength=communities.n_communities)
    # Groups that are not a community of their own: in several communities,
    # or in one with other accounts too (see the module docstring).
    unreported, inside_one, index = [], [], []
    for i, (accounts, attributes) in enumerate(groups):
        held = community[accounts]
        scattered = held[0] < 0 or (held != held[0]).any()
        if scattered or size[held[0]] > len(accounts):
            unreported.append((accounts, attributes))
            inside_one.append(not scattered)
            index.append(i)
    if not unreported:
        return communities, scores
    # Each group is scored on its own first (see score_groups).
    group_score = (
        score_groups(graph, unreported, roles=roles, n_jobs=n_jobs)
        if group_scores is None
        else np.asarray(group_scores)[index]
    )
    cluster_score = scores.clusters["score"].to_numpy()
    group_accounts = [accounts for accounts, _ in unreported]
    piece_group, piece = _pieces(group_accounts, community, cluster_score, threshold)
    bar = np.zeros(len(group_accounts))
    np.maximum.at(bar, piece_group, cluster_score[piece])
    # A group inside one community with nearly all its accounts flagged
    # (all but less than PIECE_SHARE of them) can win on the margin alone:
    # carved out, its accounts can flag hardly more, and the rest of its
    # community loses the farm. Not carving such groups to count flags took
    # this step from 0.88 s to 0.52 s at 1M accounts: four farm campaigns
    # inside communities 1.6 times their size, one account of 24,000
    # unflagged; none adopted.
    unflagged = scores.account_features["score"].to_numpy() < threshold
    # A group scoring under its bar is weighed too, by the flags it adds (see
    # "Below its pieces" in the module docstring).
    settled = np.array(inside_one) & np.array(
        [unflagged[accounts].mean() < adopting.PIECE_SHARE for accounts in group_accounts]
    )
    weighed = np.flatnonzero((group_score >= threshold) & (~settled | (group_score > bar + margin)))
    if len(weighed):
        # Carved out together (they share no account), to count the flags.
        carved = carve_blocks(communities, [unreported[i] for i in weighed], min_cluster_size)
        carved_scores = _rescore(graph, carved, [(communities, scores)], roles, n_jobs)
        in_weighed = np.isin(piece_group, weighed)
        flags_before, flags_after = (
            _touched_flags(
                group_accounts,
                community,
                piece_group[in_weighed],
                piece[in_weighed],
                s >= threshold,
            )[weighed]
            for s in (
                scores.account_features["score"].to_numpy(),
                carved_scores.account_features["score"].to_numpy(),
            )
        )
        adopt = (group_score[weighed] > bar[weighed] + margin) | (flags_after > flags_before)
        if adopt.any():
            logger.info("scoring: %d %s adopted of %d weighed", adopt.sum(), what, len(unreported))
            if not adopt.all():
                carved = carve_blocks(
                    communities, [unreported[i] for i in weighed[adopt]], min_cluster_size
                )
                carved_scores = _rescore(graph, carved, [(communities, scores)], roles, n_jobs)
            communities, scores = carved, carved_scores
    return _carved_to_rank(
        graph,
        communities,
        scores,
        unreported,
        group_score,
        what,
        roles=roles,
        margin=margin,
        min_cluster_size=min_cluster_size,
        threshold=threshold,
        n_jobs=n_jobs,
    )


def _carved_to_rank(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    groups: list[tuple[np.ndarray, np.ndarray]],
    group_score: np.ndarray,
    what: str,
    *,
    roles: KindRoles,
    margin: float,
    min_cluster_size: int,
    threshold: float,
    n_jobs: int | None,
) -> tuple[Communities, Scores]:
    """Carve out the ``groups`` scored under ``threshold`` (``group_score``)
    but at least :data:`RANKED_MIN_SHARE` of it and more than ``margin``
    above every community they came from, to be ranked as what they are;
    where carving them changes no account's flag (else none is carved)."""
    community = communities.account_community
    cluster_score = scores.clusters["score"].to_numpy()
    below = np.flatnonzero(
        (group_score < threshold) & (group_score >= RANKED_MIN_SHARE * threshold)
    )
    if len(below) == 0:
        return communities, scores
    # A flagged community giving the group any account is one of its
    # pieces, so its bar is at least the threshold: no group is carved to
    # be ranked out of a flagged cluster.
    piece_group, piece = _pieces([groups[i][0] for i in below], community, cluster_score, threshold)
    bar = np.zeros(len(below))
    np.maximum.at(bar, piece_group, cluster_score[piece])
    ranked = below[group_score[below] > bar + margin]
    if len(ranked) == 0:
        return communities, scores
    carved = carve_blocks(communities, [groups[i] for i in ranked], min_cluster_size)
    carved_scores = _rescore(graph, carved, [(communities, scores)], roles, n_jobs)
    # The communities left behind are scored again without the group; where
    # that moves any account across the threshold, the flags would rest on
    # a carving made for ranking alone.
    flagged_before = scores.account_features["score"].to_numpy() >= threshold
    flagged_after = carved_scores.account_features["score"].to_numpy() >= threshold
    if not np.array_equal(flagged_before, flagged_after):
        logger.info("scoring: %d %s not carved to be ranked: flags would change", len(ranked), what)
        return communities, scores
    logger.info("scoring: %d %s carved out to be ranked", len(ranked), what)
    return carved, carved_scores


def _pieces(
    groups: list[np.ndarray], community: np.ndarray, cluster_score: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each group's pieces: the communities holding at least
    :data:`.PIECE_SHARE` of its accounts, and the flagged ones (scored at
    least ``threshold``) giving it any; as (group, community) pairs."""
    sizes = np.array([len(accounts) for accounts in groups])
    group = np.repeat(np.arange(len(groups)), sizes)
    held = community[np.concatenate(groups)]
    inside = held >= 0
    n = len(cluster_score)
    pair, n_held = np.unique(group[inside] * n + held[inside], return_counts=True)
    pair_group, pair_community = pair // n, pair % n
    is_piece = (n_held >= adopting.PIECE_SHARE * sizes[pair_group]) | (
        cluster_score[pair_community] >= threshold
    )
    return pair_group[is_piece], pair_community[is_piece]


def _touched_flags(
    groups: list[np.ndarray],
    community: np.ndarray,
    piece_group: np.ndarray,
    piece: np.ndarray,
    flagged: np.ndarray,
) -> np.ndarray:
    """How many of the accounts each group touches (every account of its
    pieces, and its own accounts in none of them) are ``flagged``; all
    groups at once, as a pass over every account per group took 1.5 s at
    1M accounts for about a thousand office groups."""
    n = int(community.max(initial=-1)) + 2
    slot = np.where(community >= 0, community, n - 1)
    by_community = np.bincount(slot, weights=flagged, minlength=n)
    in_pieces = np.bincount(piece_group, weights=by_community[piece], minlength=len(groups))
    sizes = np.array([len(accounts) for accounts in groups])
    group = np.repeat(np.arange(len(groups)), sizes)
    accounts = np.concatenate(groups)
    outside = ~np.isin(group * n + slot[accounts], piece_group * n + piece)
    return in_pieces + np.bincount(
        group[outside], weights=flagged[accounts[outside]], minlength=len(groups)
    )
