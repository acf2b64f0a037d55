"""Granularity: reporting a group of communities as one cluster.

Communities come with a coarser grouping (:attr:`Communities.parent`, see
:mod:`acctgraph.communities`). :func:`merge_on_evidence` scores both levels and
reports a group of communities as one cluster where the group's score beats
the best of its parts' by at least :data:`MERGE_MARGIN`: a sparse block that
Leiden cut into pieces scores higher whole, since its size and shared
objects then count together, while a small farm swallowed by a larger crowd
scores lower in the mixture and stays separate. A group is also reported
whole where it *completes* a farm: it scores at least
:data:`COMPLETION_SCORE` (0.7), flags more of its accounts than its parts
do, and keeps flagging at least :data:`MERGE_KEEP` (95%) of theirs. A farm
on few proxy IPs per account comes out of Leiden as a few pieces where it
is the majority and several where households, whose home IPs its proxies
resell, outnumber it; those score near 0, and their farm accounts are
flagged only with the farm whole (``few_proxies`` world, seed 1: the group
scores 0.90 against its best piece's 0.96, and flags 444 of its 453 farm
accounts and one household, where the pieces flag 339; seed 2: 0.79, 437
of 449 and 8 households, where the pieces flag 370). The bar is above the
flagging threshold because, merging at the threshold, three cells of
FRAUDAR's injection benchmark lost up to 0.09 of F; at 0.7 none moved.
"""

from __future__ import annotations

import numpy as np

from ..communities import Communities, merge_communities
from ..graph import AttributeGraph
from .features import KindRoles
from .score import Scores, _rescore, score_communities

__all__ = ["COMPLETION_SCORE", "MERGE_KEEP", "MERGE_MARGIN", "merge_on_evidence"]

# How much a group of communities must out-score the best of its parts to
# be reported whole.
MERGE_MARGIN = 0.05

# A coarse group that scores lower than its best community is still reported
# whole where it scores at least this and flags more of its accounts
# (merge_on_evidence). At the flagging threshold itself, three cells of
# FRAUDAR's injection benchmark lost up to 0.09 of F; at 0.7, none.
COMPLETION_SCORE = 0.7
# ... while still flagging at least this share of what its communities flag.
MERGE_KEEP = 0.95


def merge_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    *,
    roles: KindRoles | None = None,
    margin: float = MERGE_MARGIN,
    scores: Scores | None = None,
    threshold: float = 0.5,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report each coarse group whole where that raises its best score.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
        With :attr:`~Communities.parent` set (otherwise returned as is).
    roles : KindRoles, optional
    margin : float, default=MERGE_MARGIN
        A group is merged when its score exceeds the highest score among its
        communities by more than this.
    scores : Scores, optional
        The scores of ``communities``, where already computed.
    threshold : float, default=0.5
        The account score at which accounts are flagged. A group that does
        not beat its best community by ``margin`` is still merged where it
        *completes* a farm: it scores at least :data:`COMPLETION_SCORE`,
        flags more of its accounts than its communities do apart, and keeps
        flagging at least :data:`MERGE_KEEP` of those they flag.
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
        The chosen partition, numbered in order of each cluster's smallest
        account; ``parent`` is dropped.
    scores : Scores
        Its scores.
    """
    fine = (
        scores
        if scores is not None
        else score_communities(graph, communities, roles=roles, n_jobs=n_jobs)
    )
    parent = communities.parent
    if parent is None or len(parent) == 0 or len(np.unique(parent)) == len(parent):
        return communities, fine
    grouped = merge_communities(communities, parent)
    # Each community's group as numbered in ``grouped`` (by smallest
    # account), which the group scores below are indexed by; ``parent``'s
    # own numbering need not agree (after a block is adopted, it did not,
    # and groups were judged by other groups' scores).
    parent = _label_in(grouped, communities)
    n_groups = grouped.n_communities
    group_sizes = np.bincount(parent, minlength=n_groups)
    coarse = _rescore(graph, grouped, [(communities, fine)], roles, n_jobs)
    best_part = np.full(n_groups, -np.inf)
    np.maximum.at(best_part, parent, fine.clusters["score"].to_numpy())
    beats_parts = coarse.clusters["score"].to_numpy() > best_part + margin
    completes = _completes(communities, parent, fine, coarse, threshold)
    merge = (group_sizes >= 2) & (beats_parts | completes)
    if not merge.any():
        return communities, fine
    # Merged groups take a label after every community's; the rest keep theirs.
    label = np.where(merge[parent], communities.n_communities + parent, np.arange(len(parent)))
    chosen = merge_communities(communities, label)
    return chosen, _rescore(graph, chosen, [(communities, fine), (grouped, coarse)], roles, n_jobs)


def _label_in(merged: Communities, communities: Communities) -> np.ndarray:
    """The label in ``merged`` of each of ``communities`` (merged from them)."""
    account = communities.account_community
    member = account >= 0
    label = np.full(communities.n_communities, -1, dtype=np.int64)
    label[account[member]] = merged.account_community[member]
    return label


def _completes(
    communities: Communities,
    parent: np.ndarray,
    fine: Scores,
    coarse: Scores,
    threshold: float,
) -> np.ndarray:
    """Per coarse group: whether reporting it whole *completes* a farm.

    That is: the group is itself clearly a farm (score at least
    :data:`COMPLETION_SCORE`), it flags more of its accounts than its
    communities do apart, and it still flags at least :data:`MERGE_KEEP` of
    those they flag.
    """
    n_groups = len(coarse.clusters)
    member = np.flatnonzero(communities.account_community >= 0)
    group = parent[communities.account_community[member]]
    was = fine.account_features["score"].to_numpy()[member] >= threshold
    now = coarse.account_features["score"].to_numpy()[member] >= threshold
    before = np.bincount(group, weights=was, minlength=n_groups)
    gained = np.bincount(group, weights=now & ~was, minlength=n_groups)
    lost = np.bincount(group, weights=was & ~now, minlength=n_groups)
    return (
        (coarse.clusters["score"].to_numpy() >= COMPLETION_SCORE)
        & (gained > lost)
        & (lost <= (1.0 - MERGE_KEEP) * before)
    )
