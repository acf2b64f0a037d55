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

:func:`adopt_card_groups` weighs each *card group* (the accounts linked
through cards of :data:`.CARD_TIE_MEMBERS` holders or more, as one connected
component) that Leiden left in more than one community, carved out whole as
a cluster of its own, and adopts it as :func:`.adopt_dense_blocks` adopts a
block that out-scores its pieces. Carved out, that farm scored 0.93 and
flagged 114 of its 120 accounts. The holders of an office's corporate card
are a card group too, and where Leiden cut the office (500 employees, 40
communities) it was weighed: it scored 0.02, as an office does, and stayed
as it was.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..communities import Communities, carve_blocks
from ..graph import AttributeGraph
from . import features, merging
from .features import KindRoles
from .score import Scores, _rescore

__all__ = ["PIECE_SHARE", "adopt_card_groups", "find_card_groups"]

logger = logging.getLogger(__name__)

# A community holding at least this share of a card group's accounts is one
# of its pieces, which the group must out-score (as for dense blocks).
PIECE_SHARE = 0.05


def find_card_groups(
    graph: AttributeGraph, roles: KindRoles, *, min_accounts: int = 10
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The accounts linked through shared cards, and the attributes they alone hold.

    Two accounts are linked where they pay with one card that has at least
    :data:`.CARD_TIE_MEMBERS` holders; a group is a connected component of
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
    is_card[start:stop] = graph.degree[start:stop] >= features.CARD_TIE_MEMBERS
    edges = np.flatnonzero(graph.edge_mask & is_card[links.attribute])
    if len(edges) == 0:
        return []
    # Nodes: every account, then every card of the kind's range.
    n_nodes = links.n_accounts + (stop - start)
    adjacency = sp.coo_matrix(
        (
            np.ones(len(edges), dtype=np.int8),
            (links.account[edges], links.n_accounts + links.attribute[edges] - start),
        ),
        shape=(n_nodes, n_nodes),
    )
    _, component = connected_components(adjacency, directed=False)
    holds_card = np.zeros(links.n_accounts, dtype=bool)
    holds_card[links.account[edges]] = True
    holders = np.flatnonzero(holds_card)
    # Components numbered by their smallest account, for a stable order.
    label, first = np.unique(component[holders], return_index=True)
    order = np.argsort(first, kind="stable")
    group_of = np.full(n_nodes, -1, dtype=np.int64)
    group_of[label[order]] = np.arange(len(label))
    account_group = np.full(links.n_accounts, -1, dtype=np.int64)
    account_group[holders] = group_of[component[holders]]
    sizes = np.bincount(account_group[holders], minlength=len(label))

    # Attributes whose every graph edge comes from one group's accounts.
    graph_links = np.flatnonzero(graph.edge_mask & (account_group >= 0)[links.account])
    attribute = links.attribute[graph_links]
    holder_group = account_group[links.account[graph_links]]
    from_groups = np.bincount(attribute, minlength=links.n_attributes)
    lowest = np.full(links.n_attributes, np.iinfo(np.int64).max)
    highest = np.full(links.n_attributes, -1)
    np.minimum.at(lowest, attribute, holder_group)
    np.maximum.at(highest, attribute, holder_group)
    owned = np.flatnonzero((from_groups > 0) & (from_groups == graph.degree) & (lowest == highest))
    owned_group = lowest[owned]

    accounts_by_group = np.split(
        holders[np.argsort(account_group[holders], kind="stable")], np.cumsum(sizes)[:-1]
    )
    attributes_by_group = np.split(
        owned[np.argsort(owned_group, kind="stable")],
        np.cumsum(np.bincount(owned_group, minlength=len(label)))[:-1],
    )
    return [
        (accounts, attributes)
        for accounts, attributes in zip(accounts_by_group, attributes_by_group, strict=True)
        if len(accounts) >= min_accounts
    ]


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
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report a card group that Leiden scattered as one cluster where it
    scores as a farm, above the communities it came from.

    Each card group (:func:`find_card_groups`) whose accounts lie in more than
    one community is carved out whole (:func:`.carve_blocks`, all groups at
    once: they share no account). A group is adopted where it is flagged
    (scores at least ``threshold``) and scores more than ``margin`` above
    the best of its *pieces* (the communities holding at least
    :data:`PIECE_SHARE` of its accounts) and of the flagged communities
    that give it any account, the bar of :func:`.adopt_dense_blocks`. The
    other groups are left as they were.

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
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    community = communities.account_community
    scattered = []
    for accounts, attributes in find_card_groups(graph, roles, min_accounts=min_accounts):
        held = community[accounts]
        if held[0] < 0 or (held != held[0]).any():
            scattered.append((accounts, attributes))
    if not scattered:
        return communities, scores
    cluster_score = scores.clusters["score"].to_numpy()
    account_score = scores.account_features["score"].to_numpy()
    carved = carve_blocks(communities, scattered, min_cluster_size)
    carved_scores = _rescore(graph, carved, [(communities, scores)], roles, n_jobs)
    carved_score = carved_scores.clusters["score"].to_numpy()
    carved_account_score = carved_scores.account_features["score"].to_numpy()
    adopted = []
    for accounts, attributes in scattered:
        held = community[accounts]
        pieces, counts = np.unique(held[held >= 0], return_counts=True)
        pieces = pieces[
            (counts >= PIECE_SHARE * len(accounts)) | (cluster_score[pieces] >= threshold)
        ]
        bar = cluster_score[pieces].max(initial=0.0)
        group_score = carved_score[carved.account_community[accounts[0]]]
        touched = np.isin(community, pieces)
        touched[accounts] = True
        flags_more = np.count_nonzero(
            carved_account_score[touched] >= threshold
        ) > np.count_nonzero(account_score[touched] >= threshold)
        if group_score >= threshold and (
            group_score > bar + margin or (group_score >= bar - margin and flags_more)
        ):
            adopted.append((accounts, attributes))
    if not adopted:
        return communities, scores
    logger.info("scoring: %d card groups adopted of %d weighed", len(adopted), len(scattered))
    if len(adopted) == len(scattered):
        return carved, carved_scores
    carved = carve_blocks(communities, adopted, min_cluster_size)
    return carved, _rescore(graph, carved, [(communities, scores)], roles, n_jobs)
