"""Dense blocks as clusters of their own.

Dense blocks (:mod:`acctgraph.blocks`) are candidates beside communities:
:func:`adopt_dense_blocks` reports a peeled block, trimmed to the accounts
that live on its own attributes (:func:`trim_block`), grown by those
peeling left out (:func:`grow_block`) and cut to its parts that own their
attributes (:func:`keep_owning_parts`), as one cluster where it scores more
than :data:`.MERGE_MARGIN` above the best community its accounts came from,
or where it scores about as high and flags a few more of the accounts it
touches (it completes a farm whose hijacked accounts Leiden put elsewhere).
It runs before the coarse merge, and the block is a group of its own there,
so merging cannot dilute it again; for the same reason a block is not
adopted where the coarse group holding all its pieces would be merged, scores
about as high and flags at least as many accounts: peeling reached only part
of a farm the group holds whole (:func:`_group_does_better`).
"""

from __future__ import annotations

import numpy as np

from ..blocks import DenseBlock, fraudar_weight
from ..communities import (
    Communities,
    carve_block,
    merge_communities,
    modularity_parts,
)
from ..graph import AttributeGraph
from . import merging
from .features import KindRoles, footing_counts
from .footing_rules import _owned_attribute
from .score import Scores, _rescore

__all__ = [
    "ADOPT_MIN_FOOTING",
    "BLOCK_OWN_SHARE",
    "COMPLETION_LIMIT",
    "GROW_MAX_OUTSIDE",
    "GROW_OWN_SHARE",
    "PIECE_SHARE",
    "SPARE_BLOCKS",
    "SPLIT_KEEP_SHARE",
    "SPLIT_RESOLUTION",
    "TRIM_MIN_KEPT",
    "TRIM_OWN_SHARE",
    "adopt_dense_blocks",
    "grow_block",
    "keep_owning_parts",
    "prepare_blocks",
    "trim_block",
]

# A block that scores as high as its best piece is adopted when it flags more
# of the accounts it touches, but at most this share more (adopt_dense_blocks).
COMPLETION_LIMIT = 0.1
# Where footing counts (no IP kind), a block whose core's median footing is
# below this is not adopted (adopt_dense_blocks).
ADOPT_MIN_FOOTING = 0.2
# A block's own attributes: those at least this share of whose holders are
# the block's accounts. A peeled account stays in the block where at least
# TRIM_OWN_SHARE of its edges' FRAUDAR weight goes to them (trim_block).
BLOCK_OWN_SHARE = 0.5
TRIM_OWN_SHARE = 0.2
# An account grows into a block through the attributes at least this share
# of whose holders are the block's accounts, or BLOCK_OWN_SHARE of them with
# at most GROW_MAX_OUTSIDE outside (grow_block).
GROW_OWN_SHARE = 0.7
GROW_MAX_OUTSIDE = 2
# A block that trimming leaves with fewer than this share of its peeled
# accounts is passed over (adopt_dense_blocks).
TRIM_MIN_KEPT = 0.5
# A block is split by modularity at this resolution, and the parts that own
# their attributes at least SPLIT_KEEP_SHARE as much as the part that owns
# them most are kept (keep_owning_parts).
SPLIT_RESOLUTION = 0.5
SPLIT_KEEP_SHARE = 0.3
# A community holding at least this share of a block's accounts is one of
# its pieces, which the block must out-score (adopt_dense_blocks; card
# groups use the same bar).
PIECE_SHARE = 0.05
# Blocks peeled beyond ``dense_blocks`` where the data has no IP kind, to take
# the place of those passed over for owning none of their objects.
SPARE_BLOCKS = 2


def adopt_dense_blocks(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    blocks: list[DenseBlock],
    *,
    roles: KindRoles | None = None,
    margin: float = merging.MERGE_MARGIN,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    n_blocks: int | None = None,
    prepared: list[DenseBlock | None] | None = None,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report each dense block as one cluster where that raises its best score.

    A block (:func:`acctgraph.blocks.find_dense_blocks`) is weighed against
    its *pieces*, the communities holding at least :data:`PIECE_SHARE` (5%)
    of its accounts, and is adopted where, carved out whole, it is flagged
    (scores at least ``threshold``) and either

    * it scores more than ``margin`` above the best of its pieces and of the
      flagged communities (scored at least ``threshold``) that give it any
      account, or
    * it *completes* its pieces: it scores no more than ``margin`` below
      that best, and among the block's and its pieces' accounts it flags
      more than before, but at most
      :data:`COMPLETION_LIMIT` more. FRAUDAR's hijacked accounts are the
      case: Leiden puts the farm's accounts with long histories of their
      own into background communities, and the block, which scores like the
      farm's community, brings them back; the limit keeps a block that
      would take a crowd along from being adopted on this ground.

    The flagged communities set the bar because carving can sink them: in
    bench_quality's ``few_proxies`` world at 10,000 accounts (seed 1), the
    farm is cut into pieces of about 25 accounts, none of them 5% of the
    969-account block peeled through them and the carrier, household and
    VPN crowds around, which scored 0.34, above its crowd pieces; adopted,
    it took the farm's accounts from their communities (0.95) and nothing
    was flagged.

    A block that would not be flagged is left alone even where it
    out-scores its pieces: carved out, it is a group of its own, which the
    coarse merge after it (:func:`.merge_on_evidence`) cannot join again.
    On FRAUDAR's injection benchmark (thinned background, no camouflage,
    density 0.02, trial 4) the second block peeled was 170 of the 200 fake
    users, scoring under the threshold but above the pieces Leiden cut
    them into; adopted, it kept the coarse merge from the group of all
    the pieces, which scores as a farm and flags 172 of them.

    Where footing counts (the data has no IP kind), a block whose core's
    median footing is under :data:`ADOPT_MIN_FOOTING` is never adopted, and
    is passed over: it does not count among the ``n_blocks`` weighed, so
    the next block peeled takes its place (the pipeline peels
    :data:`SPARE_BLOCKS` more where the data has no IP kind).
    Peeling selects for density, so a peeled block's density, overlap and
    cohesion are high in a group of real users too, and carved out it can
    score as a farm on them alone; what it does not select for is owning
    the objects. On FRAUDAR's injection benchmark (thinned background, no
    camouflage, density 0.02, trial 4) the first block peeled was 65 real
    traders whose core footing is 0.1; carved out it scored 0.54 and
    flagged 45 of them; on the unthinned background such blocks scored
    0.78-0.93. Over densities 0.02, 0.03 and 0.05, all four attacks and
    both backgrounds (5 trials each), the candidate blocks that held the
    injected users had core footing 0.25-1.0 (0.25-0.55 under biased
    camouflage, whose popular objects nobody owns); those of real users
    alone 0-0.12, but for three groups of 10-17 accounts (0.28-0.55).

    A block is weighed as :func:`trim_block` leaves it, grown by
    :func:`grow_block` and, where footing counts (the data has no IP kind),
    cut by :func:`keep_owning_parts`. One that
    trimming leaves with fewer than :data:`TRIM_MIN_KEPT` of its peeled
    accounts is passed over too: most of it lives on objects it shares with
    others. Where the injected users were most of a peeled block (FRAUDAR's
    injection benchmark, densities 0.02-0.06 and 0.10, 5 trials of each
    attack on both backgrounds: 235 blocks), trimming kept 0.73-1.0 of its
    accounts; of the 276 blocks of real users, 183 kept under half (median
    0.15).
    In the unthinned, random camouflage, density 0.03, trial 0 world, a
    group of 80 real users peeled first was trimmed to 12 who own their
    objects; those passed the footing gate and took the one place, and the
    injected block behind them was never weighed (F 0.942 to 0.376 over
    that cell's trials).

    The communities keep their other members; those left with fewer than
    ``min_cluster_size`` accounts are dropped.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    blocks : list of DenseBlock
    roles : KindRoles, optional
    margin : float, default=merging.MERGE_MARGIN
    min_cluster_size : int, default=3
    threshold : float, default=0.5
        The score at which accounts are flagged.
    n_blocks : int, optional
        Weigh at most this many blocks, in peeling order, not counting
        those passed over; None weighs them all.
    prepared : list of DenseBlock or None, optional
        What :func:`prepare_blocks` gives for ``blocks``, where found
        already: it needs no communities, so :func:`acctgraph.detect`
        prepares the blocks while Leiden runs.
    n_jobs : int, optional
        Processes that score at once (see :func:`.score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    # Footing passes blocks over only where it counts.
    with_footing = footing_counts(graph.links.kinds, roles or KindRoles())
    passed_over = 0
    for i, peeled in enumerate(blocks):
        if n_blocks is not None and i - passed_over >= n_blocks:
            break
        block = (
            prepared[i]
            if prepared is not None
            else _prepared(graph, peeled, with_footing, min_cluster_size)
        )
        if block is None:
            passed_over += 1  # most of it lives elsewhere: a dense crowd, not a block
            continue
        held = communities.account_community[block.accounts]
        pieces, counts = np.unique(held[held >= 0], return_counts=True)
        piece_score = scores.clusters["score"].to_numpy()[pieces]
        main = counts >= max(1.0, PIECE_SHARE * len(block.accounts))
        if not main.any():
            continue
        # A flagged community sets the bar whatever it gives: carving its
        # accounts away can sink it.
        best_piece = piece_score[main | (piece_score >= threshold)].max()
        pieces = pieces[main]
        account_score = scores.account_features["score"].to_numpy()
        if best_piece + margin >= 1.0 and (account_score[block.accounts] >= threshold).all():
            continue  # it can neither out-score its pieces nor flag more: skip scoring it
        candidate = carve_block(communities, block.accounts, block.attributes, min_cluster_size)
        candidate_scores = _rescore(graph, candidate, [(communities, scores)], roles, n_jobs)
        block_row = candidate_scores.clusters.iloc[candidate.account_community[block.accounts[0]]]
        block_score = block_row["score"]
        if with_footing and block_row["footing"] < ADOPT_MIN_FOOTING:
            passed_over += 1  # a peeled group that shares its objects with others: not a block
            continue
        # The accounts the carving touches: the block's and its pieces'.
        touched = np.isin(communities.account_community, pieces)
        touched[block.accounts] = True
        flagged_before = np.count_nonzero(account_score[touched] >= threshold)
        flagged_after = np.count_nonzero(
            candidate_scores.account_features["score"].to_numpy()[touched] >= threshold
        )
        completes = (
            block_score >= best_piece - margin
            and flagged_before < flagged_after <= (1.0 + COMPLETION_LIMIT) * flagged_before
        )
        if not (block_score >= threshold and (block_score > best_piece + margin or completes)):
            continue
        if _group_does_better(
            graph,
            communities,
            scores,
            pieces,
            block_score,
            flagged_after,
            roles,
            margin,
            threshold,
            n_jobs,
        ):
            continue  # the coarse merge reports the whole group, which carving would break up
        communities, scores = candidate, candidate_scores
    return communities, scores


def prepare_blocks(
    graph: AttributeGraph,
    blocks: list[DenseBlock],
    *,
    roles: KindRoles | None = None,
    min_cluster_size: int = 3,
) -> list[DenseBlock | None]:
    """Each peeled block as :func:`adopt_dense_blocks` weighs it: trimmed
    (:func:`trim_block`), grown (:func:`grow_block`) and, where footing
    counts, cut to its parts that own their attributes
    (:func:`keep_owning_parts`); None where trimming leaves it with fewer
    than :data:`TRIM_MIN_KEPT` of its peeled accounts (it is passed over).

    Parameters
    ----------
    graph : AttributeGraph
    blocks : list of DenseBlock
        Peeled blocks (:func:`acctgraph.blocks.find_dense_blocks`).
    roles : KindRoles, optional
    min_cluster_size : int, default=3
        As given to :func:`adopt_dense_blocks`.

    Returns
    -------
    list of DenseBlock or None
        One per block, in order.
    """
    with_footing = footing_counts(graph.links.kinds, roles or KindRoles())
    return [_prepared(graph, peeled, with_footing, min_cluster_size) for peeled in blocks]


def _prepared(
    graph: AttributeGraph, peeled: DenseBlock, with_footing: bool, min_cluster_size: int
) -> DenseBlock | None:
    """One block of :func:`prepare_blocks`; ownership cuts it only where
    footing counts."""
    block = trim_block(graph, peeled)
    if len(block.accounts) < TRIM_MIN_KEPT * len(peeled.accounts):
        return None
    block = grow_block(graph, block)
    if with_footing:
        block = keep_owning_parts(graph, block, min_accounts=max(10, min_cluster_size))
    return block


def _group_does_better(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    pieces: np.ndarray,
    block_score: float,
    block_flags: int,
    roles: KindRoles | None,
    margin: float,
    threshold: float,
    n_jobs: int | None,
) -> bool:
    """Whether the coarse group holding a block's ``pieces`` (all in one
    group) is the better report: the coarse merge would take it whole (it
    scores more than ``margin`` above each of its communities), it scores
    no more than ``margin`` below the block, and it flags at least
    ``block_flags`` accounts (as many as the block's carving does).

    An adopted block is a group of its own, so adopting it keeps the merge
    from reporting the group it came from. Where the group is the farm whole
    and the block only the part peeling reached, that loses farm accounts:
    on FRAUDAR's injection benchmark (thinned background, no camouflage,
    density 0.03, trial 0) the block was 181 accounts and scored 0.76,
    flagging 176, where the group of the 13 pieces Leiden cut the injected
    users into holds all 200 of them, scores 0.82 and flags 184. Over that
    cell's 5 trials F went from 0.956 to 0.970, and no cell fell.
    """
    parent = communities.parent
    if parent is None or len(pieces) == 0:
        return False
    groups = np.unique(parent[pieces])
    if len(groups) != 1:
        return False
    in_group = parent == groups[0]
    if np.count_nonzero(in_group) < 2:
        return False
    label = np.where(in_group, communities.n_communities, np.arange(communities.n_communities))
    merged = merge_communities(communities, label)
    merged_scores = _rescore(graph, merged, [(communities, scores)], roles, n_jobs)
    group_accounts = np.flatnonzero(
        np.isin(communities.account_community, np.flatnonzero(in_group))
    )
    group_row = merged_scores.clusters.iloc[merged.account_community[group_accounts[0]]]
    best_part = scores.clusters["score"].to_numpy()[in_group].max()
    group_flags = np.count_nonzero(
        merged_scores.account_features["score"].to_numpy()[group_accounts] >= threshold
    )
    return bool(
        group_row["score"] > best_part + margin
        and group_row["score"] >= block_score - margin
        and group_flags >= block_flags
    )


def trim_block(graph: AttributeGraph, block: DenseBlock) -> DenseBlock:
    """Keep the peeled accounts that live on the block's own attributes.

    Peeling keeps an account whose edges into the block weigh more than the
    block's density, wherever the rest of its edges go. On a rating graph
    with a dense core of real users, that keeps the core: on FRAUDAR's
    injection benchmark (unthinned background, random camouflage, density
    0.04, trial 0) the peeled block was 198 fake users and 178 real ones,
    55 of whom were flagged with it. A real user's edges go to busy objects
    held mostly outside the block; a fake user's to the farm's objects,
    which only the farm holds. An account stays where at least two of its
    graph edges, and at least :data:`TRIM_OWN_SHARE` of their FRAUDAR
    weight ``1 / log(deg + 5)``, go to the block's own attributes (at least
    :data:`BLOCK_OWN_SHARE` of whose holders are the block's accounts).
    Dropping accounts can leave an attribute owned no more, so this repeats
    until no account is dropped.

    The share is low because FRAUDAR's hijacked accounts have long
    histories of their own: one with 17 edges into the block had 0.23 of
    its weight there. At 0.25, unthinned hijacked at density 0.10 fell from
    0.999 to 0.997 F.
    """
    mask = graph.edge_mask
    account = graph.links.account[mask]
    # Only the block's accounts' edges matter: who holds the block's
    # attributes inside it, and where each account's own weight goes.
    inside = np.isin(account, block.accounts)
    account = account[inside]
    attribute = graph.links.attribute[mask][inside]
    accounts = block.accounts
    while True:
        n_into, share = _own_attribute_ties(
            graph, account, attribute, accounts, block.attributes, BLOCK_OWN_SHARE
        )
        kept = accounts[(n_into[accounts] >= 2) & (share[accounts] >= TRIM_OWN_SHARE)]
        if len(kept) == len(accounts):
            return DenseBlock(accounts, block.attributes, block.density)
        accounts = kept
        within = np.isin(account, accounts)
        account, attribute = account[within], attribute[within]


def grow_block(graph: AttributeGraph, block: DenseBlock) -> DenseBlock:
    """Add to a block the accounts it peeled off but that belong to it.

    Peeling drops an account whose edges into the block weigh less than the
    block's density, so a farm account that used only 3 of the farm's
    objects is left out even when it used nothing else. An account joins
    when at least two of its graph edges, and at least half of their
    FRAUDAR weight ``1 / log(deg + 5)``, go to attributes the block clearly
    holds: at least :data:`GROW_OWN_SHARE` of their holders are the block's
    accounts, or at least :data:`BLOCK_OWN_SHARE` with at most
    :data:`GROW_MAX_OUTSIDE` holders outside. Background accounts of a
    rating graph never touch a farm's own objects, whose few holders
    outside are the farm's accounts that peeling missed.

    The block's other attributes are busy ones that the peeling kept, and
    they would bring their crowd along: on FRAUDAR's injection benchmark
    (unthinned background, random camouflage, density 0.04, trial 0) the
    peeled set held 192 fake users, 125 real ones and 236 real objects, and
    growing through every attribute took it from 317 accounts to 628,
    adding 6 fake users and 305 real ones. Under biased camouflage the fake
    users rate popular objects, and the block holds half of the holders of
    some of them: with every attribute held half by the block counting
    (unthinned background, biased camouflage, density 0.03, trial 0),
    growth added 137 real users, through objects the block held 54-93% of
    (median 72%) with 10-68 holders, and 9 fake users.
    """
    mask = graph.edge_mask
    n_into, share = _own_attribute_ties(
        graph,
        graph.links.account[mask],
        graph.links.attribute[mask],
        block.accounts,
        block.attributes,
        GROW_OWN_SHARE,
        GROW_MAX_OUTSIDE,
    )
    joins = np.flatnonzero((n_into >= 2) & (share >= 0.5))
    accounts = np.union1d(block.accounts, joins)
    return DenseBlock(accounts, block.attributes, block.density)


def keep_owning_parts(
    graph: AttributeGraph, block: DenseBlock, *, min_accounts: int = 3
) -> DenseBlock:
    """Keep the parts of a block that own their attributes.

    A farm's camouflage ties it to real users, and on a rating graph with a
    dense core of real users who own objects of their own, the peeled block
    can be the two glued together: trimming keeps both, since each lives on
    objects the block owns. On FRAUDAR's injection benchmark (unthinned
    background, random camouflage, density 0.04, trial 1) the block was 195
    fake users and 118 real ones. Leiden on the block's own edges, at
    resolution :data:`SPLIT_RESOLUTION`, cuts it into 195 fake users, 101
    real ones and 17 real ones.

    Which parts are the farm's: a farm's objects are held by the farm alone,
    a real group's are rated by others too. A part's ownership is the share
    of its inner edges' FRAUDAR weight that goes to attributes it owns, as
    footing counts them (at least :data:`.OWNED_MIN_HOLDERS` holders,
    :data:`.OWNED_SHARE` of them the part's accounts). Parts owning
    at least :data:`SPLIT_KEEP_SHARE` as much as the part of at least
    ``min_accounts`` accounts that owns most are kept; a farm cut in two
    keeps both halves. A block without inner structure stays whole.

    :func:`adopt_dense_blocks` cuts blocks only where footing counts (the
    data has no IP kind): ownership is what footing measures, and where
    accounts rotate IPs, rotation tells a farm's accounts from a crowd's.
    In bench_quality's worlds, which have IPs, cutting changed no outcome,
    and at 1M accounts it took 2.8 s (Leiden on the 28,852-account block).
    """
    n_acc = len(block.accounts)
    if n_acc == 0 or len(block.attributes) == 0:
        return block
    mask = graph.edge_mask
    account = graph.links.account[mask]
    attribute = graph.links.attribute[mask]
    inside = np.isin(account, block.accounts) & np.isin(attribute, block.attributes)
    # Nodes numbered in the block: its accounts, then its attributes (both sorted).
    src = np.searchsorted(block.accounts, account[inside])
    dst = np.searchsorted(block.attributes, attribute[inside]) + n_acc
    weight = fraudar_weight(graph.degree[attribute[inside]])
    part = modularity_parts(
        n_acc + len(block.attributes), src, dst, weight, resolution=SPLIT_RESOLUTION
    )
    n_parts = int(part.max()) + 1
    if n_parts == 1:
        return block
    # Holders of each attribute among the accounts of its own part.
    same = part[src] == part[dst]
    held = np.bincount(dst[same] - n_acc, minlength=len(block.attributes))
    owned = _owned_attribute(held, graph.degree[block.attributes])
    inner = np.bincount(part[src][same], weights=weight[same], minlength=n_parts)
    inner_owned = np.bincount(
        part[src][same], weights=(weight * owned[dst - n_acc])[same], minlength=n_parts
    )
    ownership = inner_owned / np.maximum(inner, 1e-300)
    sizes = np.bincount(part[:n_acc], minlength=n_parts)
    if not (sizes >= min_accounts).any():
        return block
    kept = ownership >= SPLIT_KEEP_SHARE * ownership[sizes >= min_accounts].max()
    return DenseBlock(
        block.accounts[kept[part[:n_acc]]],
        block.attributes[kept[part[n_acc:]]],
        block.density,
    )


def _own_attribute_ties(
    graph: AttributeGraph,
    account: np.ndarray,
    attribute: np.ndarray,
    block_accounts: np.ndarray,
    block_attributes: np.ndarray,
    min_share: float,
    max_outside: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Each account's graph edges (``account`` -> ``attribute``) to the
    block's own attributes, and their share of its FRAUDAR weight.

    The block's own attributes are those of ``block_attributes`` at least
    ``min_share`` of whose holders are ``block_accounts``, or at least
    :data:`BLOCK_OWN_SHARE` with at most ``max_outside`` holders outside.
    """
    links = graph.links
    weight = fraudar_weight(graph.degree[attribute])
    own = np.zeros(links.n_attributes, dtype=bool)
    own[block_attributes] = True
    in_block = np.zeros(links.n_accounts, dtype=bool)
    in_block[block_accounts] = True
    held_inside = np.bincount(
        attribute[in_block[account] & own[attribute]], minlength=links.n_attributes
    )
    own &= (held_inside >= min_share * graph.degree) | (
        (held_inside >= BLOCK_OWN_SHARE * graph.degree)
        & (graph.degree - held_inside <= max_outside)
    )
    into = own[attribute]
    n = links.n_accounts
    n_into = np.bincount(account[into], minlength=n)
    share = np.bincount(account[into], weights=weight[into], minlength=n) / np.maximum(
        np.bincount(account, weights=weight, minlength=n), 1e-300
    )
    return n_into, share
