"""Splitting a community: its densest block as a cluster of its own.

After merging, :func:`split_on_evidence` goes the other way: where the data has an
IP kind, each community scoring below the threshold is peeled on its own
edges, and its densest block is reported as a cluster of its own where it
scores as a farm. It finds a small farm that modularity left inside the
crowd of households whose home IPs its proxies use (``few_proxies`` world,
seed 2: F1 0.927 to 0.947, the 20-account campaign found; at 10,000
accounts recall 0.35-0.50 to 0.60-0.72 over seeds 1-3), and changes no
other world.

The peeling (:func:`peel_candidates`) is most of the split's time: at 1M
accounts, 1,039 communities, 1.3-1.5 s of a 1.7 s step. A community's block
depends on its own nodes alone, and the steps before the split (adopting
blocks, merging groups) change few communities, so the pipeline peels
Leiden's communities in a worker beside those steps, which keep one core,
and the split peels only the communities they changed; its result is the
same either way. Where the scoring of Leiden's communities runs in one
process too, the worker starts before it and peels every community large
enough, scored high or low (``scores=None``). Not on graphs of
``pipeline.SPLIT_BESIDE_MAX_EDGES`` edges or more, whose communities the
split peels in parallel itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..blocks import DenseBlock, find_blocks_within
from ..communities import Communities, carve_blocks, same_communities
from ..graph import AttributeGraph
from . import merging
from .features import KindRoles
from .score import Scores, _rescore, score_communities

__all__ = ["PeeledCandidates", "peel_candidates", "split_on_evidence"]

# Communities of more nodes are peeled in rounds first: peeling the 46
# communities of 1,000 or more accounts one node at a time took 0.9 s at 1M
# accounts, against 0.4 s.
EXACT_BELOW = 5_000


@dataclass(frozen=True)
class PeeledCandidates:
    """What :func:`peel_candidates` peeled: the partition, the communities
    of it peeled (``labels``), the blocks kept, by community, and the
    ``min_accounts`` they were kept with."""

    communities: Communities
    labels: np.ndarray
    blocks: dict[int, DenseBlock]
    min_accounts: int


def peel_candidates(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores | None,
    *,
    threshold: float = 0.5,
    min_accounts: int = 10,
    n_jobs: int | None = None,
    earlier: PeeledCandidates | None = None,
) -> PeeledCandidates:
    """The densest block of each community that :func:`split_on_evidence`
    peels: those scoring below ``threshold`` with at least twice
    ``min_accounts`` accounts.

    A community's block depends on its own accounts and attribute nodes
    alone, so where ``earlier`` (an earlier partition's peeling, with the
    same ``min_accounts``) peeled a community with the same nodes, its block
    is taken from there rather than peeled again. This is what lets the
    pipeline peel Leiden's communities beside the steps that change a few
    of them (:func:`acctgraph.detect`).

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores or None
        The scores of ``communities``; None peels every community of at
        least twice ``min_accounts`` accounts, whatever it scores (the
        pipeline peels them so before it has scored them, and the split
        then takes the blocks of those under ``threshold``).
    threshold : float, default=0.5
    min_accounts : int, default=10
        The fewest accounts a block may hold.
    n_jobs : int, optional
        Processes that peel at once (see :func:`acctgraph.blocks.find_blocks_within`).
    earlier : PeeledCandidates, optional

    Returns
    -------
    PeeledCandidates
    """
    size = np.bincount(
        communities.account_community[communities.account_community >= 0],
        minlength=communities.n_communities,
    )
    large = size >= 2 * min_accounts
    if scores is None:
        candidates = np.flatnonzero(large)
    else:
        candidates = np.flatnonzero((scores.clusters["score"].to_numpy() < threshold) & large)
    blocks: dict[int, DenseBlock] = {}
    to_peel = candidates
    if earlier is not None and earlier.min_accounts == min_accounts:
        match = same_communities(communities, earlier.communities)[candidates]
        peeled = np.isin(match, earlier.labels)
        for label, old in zip(candidates[peeled].tolist(), match[peeled].tolist(), strict=True):
            if old in earlier.blocks:
                blocks[label] = earlier.blocks[old]
        to_peel = candidates[~peeled]
    if len(to_peel):
        blocks.update(
            find_blocks_within(
                graph,
                communities.account_community,
                communities.attribute_community,
                to_peel,
                min_accounts=min_accounts,
                exact_below=EXACT_BELOW,
                n_jobs=n_jobs,
            )
        )
    return PeeledCandidates(communities, candidates, dict(sorted(blocks.items())), min_accounts)


def split_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    margin: float = merging.MERGE_MARGIN,
    threshold: float = 0.5,
    min_accounts: int = 10,
    min_cluster_size: int = 3,
    n_jobs: int | None = None,
    earlier: PeeledCandidates | None = None,
) -> tuple[Communities, Scores]:
    """Report a community's densest block on its own where it scores as a farm.

    Modularity has a resolution limit: a small farm tied to a larger crowd
    can stay in the crowd's community, whose medians are then the crowd's.
    Where a farm's proxies resell households' home IPs, 20 farm accounts
    come out of Leiden with the 80 household accounts whose IPs they use
    and score 0.007; peeled out of that community (FRAUDAR's objective on
    the community's own edges, :func:`acctgraph.blocks.find_blocks_within`)
    they are the densest block, 20 farm accounts and 3 household ones, and
    score 0.83. The households' edges weigh less: each adds one edge to an
    IP the farm's accounts use, where each farm account adds one to every
    IP of the pool.

    Every community that scores below ``threshold`` and has at least twice
    ``min_accounts`` accounts is peeled; its block is carved out where the
    block, scored on its own, reaches ``threshold`` and beats its community
    by more than ``margin``. A crowd is never split merely because a part of
    it scores a little higher: that would cut crowds into arbitrary pieces
    for the analyst to read.

    Only where the data has an IP kind. The peeling picks the block that
    maximises density, so a block's density, overlap and cohesion are high
    by construction, in a crowd too; only evidence the peeling does not
    select for, how the block's accounts rotate IPs and networks and how
    much they send, can then tell a farm. Without IPs the score rests on
    those structural features, and on FRAUDAR's injection benchmark (one
    generic kind, unthinned background) peeled cores of real trader groups
    scored as farms: F fell in 18 of the 32 cells from density 0.03 up, by
    up to 0.14 (random camouflage at density 0.09: 0.992 to 0.855), while
    the two sparsest camouflaged cells rose (random at 0.03: 0 to 0.65).

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    roles : KindRoles, optional
    margin : float, default=merging.MERGE_MARGIN
    threshold : float, default=0.5
    min_accounts : int, default=10
        The fewest accounts a block may hold.
    min_cluster_size : int, default=3
        What is left of a community with fewer accounts is dropped.
    n_jobs : int, optional
        Processes that peel and score at once (see
        :func:`acctgraph.blocks.find_blocks_within` and :func:`.score_communities`).
    earlier : PeeledCandidates, optional
        An earlier partition's peeling, whose blocks are reused for the
        communities it peeled that are unchanged (:func:`peel_candidates`).
        The result is the same with or without it.

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    if roles.ip not in set(graph.links.kinds):
        return communities, scores
    blocks = peel_candidates(
        graph,
        communities,
        scores,
        threshold=threshold,
        min_accounts=min_accounts,
        n_jobs=n_jobs,
        earlier=earlier,
    ).blocks
    community_score = scores.clusters["score"].to_numpy()
    if not blocks:
        return communities, scores
    labels = np.array(sorted(blocks))
    # The blocks alone, block i as community i: a community's features come
    # from its own members and attribute nodes only (see _rescore), so this
    # scores each block as it would score carved out, without scoring the
    # remainders of the communities whose block is not adopted (at 10M
    # accounts, most crowds' members).
    account_block = np.full(graph.links.n_accounts, -1, dtype=np.int64)
    attribute_block = np.full(graph.links.n_attributes, -1, dtype=np.int64)
    for i, label in enumerate(labels):
        account_block[blocks[label].accounts] = i
        attribute_block[blocks[label].attributes] = i
    alone = Communities(
        account_community=account_block,
        attribute_community=attribute_block,
        n_communities=len(labels),
        n_components=communities.n_components,
    )
    alone_scores = score_communities(graph, alone, roles=roles, n_jobs=n_jobs)
    block_score = alone_scores.clusters["score"].to_numpy()
    adopted = (block_score >= threshold) & (block_score > community_score[labels] + margin)
    if not adopted.any():
        return communities, scores
    chosen = carve_blocks(
        communities,
        [(blocks[k].accounts, blocks[k].attributes) for k in labels[adopted]],
        min_cluster_size,
    )
    return chosen, _rescore(
        graph, chosen, [(communities, scores), (alone, alone_scores)], roles, n_jobs
    )
