"""Dense blocks: FRAUDAR's greedy peeling, a second way to find farms.

Leiden's modularity cuts a large *sparse* coordinated block into pieces: 200
accounts each using about 12 of the same 200 objects (FRAUDAR's injected
block at density 0.06) come out as a dozen communities, each also holding
background accounts that use the block's camouflage targets. No piece shows
the block's density, and the background accounts inside the pieces look as
embedded as the farm's. Dense-subgraph peeling sees the block whole.

Algorithm (Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of
Camouflage", KDD 2016)
---------------------------------------------------------------------------
Each graph edge ``(a, v)`` weighs ``1 / log(deg(v) + 5)``, so that busy
attributes (camouflage targets, carrier IPs) count little. A node set ``S``
has density ``g(S) = f(S) / |S|``, ``f`` the summed weight of edges inside
``S``. Starting from the whole graph, the node whose edges inside ``S`` weigh
least is removed, one at a time; the densest ``S`` met on the way is the
block, or its densest connected part where it falls apart
(:func:`_densest_component`). Its accounts and attributes are then taken
out and the peeling starts again, for up to ``n_blocks`` blocks.

Peeling one node at a time costs a Python heap operation per edge: 6 s for
the 1M edges among the 145,000 densest nodes of a 1M-account log. So on
large graphs nodes are removed in rounds, all of
those weighing at most ``(1 + epsilon)`` times the current average
(Bahmani, Kumar & Vassilvitskii, VLDB 2012; a ``2 (1 + epsilon)``
approximation of the densest subgraph, against FRAUDAR's 2), in numpy, on
graphs of more than ``exact_below`` nodes or :data:`EXACT_MAX_EDGES` edges
(0.25 s for the 3.6M edges of the 1M-account log), and the exact peeling
refines the densest set the rounds met where that set is small enough.
The rounds' set is coarser: on that log it held the farm's 28,800 accounts
with 22,000 VPN and household accounts around them, and the scoring stage
leaves such a mixture unused, as it scores below the farm Leiden found.
Both are deterministic: ties are broken by node number.

The blocks are candidates only: the scoring stage reports one as a cluster
where, as a whole, it is flagged and out-scores the communities its accounts
came from, or scores as high and flags a few more of their accounts
(:func:`acctgraph.scoring.adopt_dense_blocks`).
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .graph import AttributeGraph
from .parallel import check_n_jobs, forked_processes, run_in_parts

__all__ = [
    "EXACT_BELOW_NODES",
    "EXACT_MAX_EDGES",
    "PARALLEL_MIN_PEEL_EDGES",
    "DenseBlock",
    "find_blocks_within",
    "find_dense_blocks",
    "fraudar_weight",
]

logger = logging.getLogger(__name__)

# Edges inside the communities from which find_blocks_within peels them in
# parts, one per process. The split's peeling at 1M accounts (2.0M edges in
# 1,039 communities) took 1.2 s with one process or two; at 10M accounts
# (14.5M edges in 12,710 communities), 9.7 s with one and 8.4 s with two:
# the grouping of the edges before it stays in one process.
PARALLEL_MIN_PEEL_EDGES = 5_000_000

# The one-node-at-a-time peeling runs a Python heap operation per edge end,
# so a graph with few nodes but many edges goes to the rounds too: the
# adversarial benchmark's block of 1,000 accounts sharing the same 10,000
# devices (11,000 nodes, 10M edges) took 19.9 s one node at a time.
EXACT_MAX_EDGES = 500_000

# Graphs of at most this many nodes (and EXACT_MAX_EDGES edges) are peeled
# one node at a time by find_dense_blocks unless told otherwise.
EXACT_BELOW_NODES = 50_000

# Links read at a time when finding the edges inside communities (see
# _edges_within).
EDGE_SLICE = 4_000_000


def fraudar_weight(degree: np.ndarray) -> np.ndarray:
    """FRAUDAR's column weight of an edge to an attribute of this degree:
    ``1 / log(degree + 5)``."""
    return 1.0 / np.log(np.asarray(degree, dtype=np.float64) + 5.0)


@dataclass(frozen=True)
class DenseBlock:
    """One peeled block.

    Attributes
    ----------
    accounts : ndarray of int64
        Account codes, sorted.
    attributes : ndarray of int64
        Attribute codes, sorted.
    density : float
        ``g(S)``: log-weighted edge weight per node.
    """

    accounts: np.ndarray
    attributes: np.ndarray
    density: float


def find_dense_blocks(
    graph: AttributeGraph,
    *,
    n_blocks: int = 3,
    min_accounts: int = 10,
    epsilon: float = 0.05,
    exact_below: int = EXACT_BELOW_NODES,
    refine_below: int | None = None,
) -> list[DenseBlock]:
    """Peel up to ``n_blocks`` dense blocks off the graph, densest first.

    Parameters
    ----------
    graph : AttributeGraph
    n_blocks : int, default=3
        Most blocks to peel.
    min_accounts : int, default=10
        Peeling stops at a block with fewer accounts.
    epsilon : float, default=0.05
        Slack of the round-based peeling on large graphs.
    exact_below : int, default=EXACT_BELOW_NODES (50,000)
        Graphs of at most this many nodes (and :data:`EXACT_MAX_EDGES`
        edges) are peeled one node at a time; larger ones in rounds, and the
        densest set the rounds met is then refined one node at a time where
        it is within ``refine_below`` nodes and :data:`EXACT_MAX_EDGES`
        edges.
    refine_below : int, optional
        Default ``exact_below``. :func:`acctgraph.detect` peels in rounds
        above 5,000 nodes where it peels no spare block, and refines the
        rounds' set up to :data:`EXACT_BELOW_NODES`, as it did when graphs
        of up to that many nodes were peeled one node at a time.

    Returns
    -------
    list of DenseBlock
    """
    links = graph.links
    n_acc = links.n_accounts
    mask = graph.edge_mask
    account = links.account[mask]
    attribute = links.attribute[mask]
    weight = fraudar_weight(graph.degree[attribute])
    src, dst = account, attribute + n_acc  # one node numbering: accounts, then attributes
    blocks: list[DenseBlock] = []
    for _ in range(n_blocks):
        if len(src) == 0:
            break
        nodes, density = _densest(
            src,
            dst,
            weight,
            n_acc + links.n_attributes,
            epsilon,
            exact_below,
            exact_below if refine_below is None else refine_below,
        )
        nodes, density = _densest_component(src, dst, weight, nodes, n_acc + links.n_attributes)
        accounts = nodes[nodes < n_acc]
        if len(accounts) < min_accounts:
            break
        blocks.append(DenseBlock(accounts, nodes[nodes >= n_acc] - n_acc, density))
        if len(blocks) == n_blocks:
            break
        keep = ~(np.isin(src, accounts) | np.isin(dst, nodes[nodes >= n_acc]))
        src, dst, weight = src[keep], dst[keep], weight[keep]
    logger.info(
        "blocks: peeled %d dense block(s) of %s accounts",
        len(blocks),
        [len(b.accounts) for b in blocks],
    )
    return blocks


def find_blocks_within(
    graph: AttributeGraph,
    account_community: np.ndarray,
    attribute_community: np.ndarray,
    labels: np.ndarray,
    *,
    min_accounts: int = 10,
    epsilon: float = 0.05,
    exact_below: int = 50_000,
    n_jobs: int | None = None,
) -> dict[int, DenseBlock]:
    """The densest block inside each of the communities ``labels``.

    Each community is peeled on its own edges (its accounts to its attribute
    nodes), as :func:`find_dense_blocks` peels the whole graph. A block is
    kept where it holds at least ``min_accounts`` accounts and not all of
    its community's: it is then a candidate for a cluster of its own
    (:func:`acctgraph.scoring.split_on_evidence`).

    Parameters
    ----------
    graph : AttributeGraph
    account_community, attribute_community : ndarray of int64
        Each node's community (-1 for none).
    labels : ndarray of int
        The communities to peel.
    min_accounts : int, default=10
    epsilon, exact_below
        As for :func:`find_dense_blocks`, per community.
    n_jobs : int, optional
        Processes that peel at once; default: every CPU this process may
        use. Where the communities hold :data:`PARALLEL_MIN_PEEL_EDGES` edges or
        more and the platform forks, they are split into that many parts, the
        communities dealt out in turn. Each community is peeled on its own,
        so the blocks are the same for any value.

    Returns
    -------
    dict of int to DenseBlock
        By community label, for the communities where a block was kept.
    """
    check_n_jobs(n_jobs)
    links = graph.links
    n_acc = links.n_accounts
    inside = _edges_within(graph, account_community, attribute_community, labels)
    community = account_community[links.account[inside]]
    # Grouped by community; the stable sort keeps each one's edges in order.
    order = np.argsort(community, kind="stable")
    inside, community = inside[order], community[order]
    account, attribute = links.account[inside], links.attribute[inside]
    del inside, order
    weight = fraudar_weight(graph.degree[attribute])
    n_members = np.bincount(account_community[account_community >= 0])
    bounds = np.searchsorted(community, np.unique(community))
    bounds = np.append(bounds, len(community))
    workers = forked_processes(n_jobs)
    n_parts = 1
    if workers >= 2 and len(community) >= PARALLEL_MIN_PEEL_EDGES:
        # Dealt out in turn: the time a community takes depends on its
        # peeling (one node at a time costs far more per edge than rounds),
        # not on its edges alone.
        part = np.arange(len(bounds) - 1) % workers
        n_parts = int(part.max()) + 1
        logger.info("blocks: %d communities peeled in %d processes", len(part), n_parts)
    else:
        part = np.zeros(len(bounds) - 1, dtype=np.int64)
    found = run_in_parts(
        _peel_part,
        n_parts,
        part,
        bounds,
        (account, attribute, community, weight),
        n_acc,
        n_members,
        (min_accounts, epsilon, exact_below),
    )
    # In label order, as one process finds them.
    return dict(sorted((item for blocks in found for item in blocks.items()), key=lambda i: i[0]))


def _edges_within(
    graph: AttributeGraph,
    account_community: np.ndarray,
    attribute_community: np.ndarray,
    labels: np.ndarray,
) -> np.ndarray:
    """Indices, in link order, of the graph edges inside the communities
    ``labels`` (account and attribute node in the same one of them).

    Read in slices of :data:`EDGE_SLICE` links, so that the arrays of every
    edge are never held at once: they took 1.8 GB at 10M accounts (36M
    edges), where the edges inside the communities peeled are 14.5M.
    """
    links = graph.links
    # A slot per label, and a last one, never wanted, that community -1 indexes.
    n_labels = int(max(account_community.max(initial=-1), np.max(labels, initial=-1))) + 1
    wanted = np.zeros(n_labels + 1, dtype=bool)
    wanted[labels] = True
    found = []
    for start in range(0, links.n_links, EDGE_SLICE):
        stop = min(start + EDGE_SLICE, links.n_links)
        edges = start + np.flatnonzero(graph.edge_mask[start:stop])
        community = account_community[links.account[edges]]
        found.append(
            edges[wanted[community] & (community == attribute_community[links.attribute[edges]])]
        )
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _peel_part(
    i: int,
    part: np.ndarray,
    bounds: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_acc: int,
    n_members: np.ndarray,
    settings: tuple[int, float, int],
) -> dict[int, DenseBlock]:
    """:func:`find_blocks_within`'s blocks of the communities of part ``i``;
    ``bounds`` delimit each community's ``edges`` (account, attribute,
    community, weight), grouped by community."""
    account, attribute, community, weight = edges
    min_accounts, epsilon, exact_below = settings
    blocks: dict[int, DenseBlock] = {}
    for k in np.flatnonzero(part == i).tolist():
        start, stop = int(bounds[k]), int(bounds[k + 1])
        label = int(community[start])
        src, dst = account[start:stop], attribute[start:stop] + n_acc
        nodes, local = np.unique(np.r_[src, dst], return_inverse=True)
        found, density = _densest(
            local[: len(src)],
            local[len(src) :],
            weight[start:stop],
            len(nodes),
            epsilon,
            exact_below,
            exact_below,
        )
        found = nodes[found]
        accounts = found[found < n_acc]
        if min_accounts <= len(accounts) < n_members[label]:
            blocks[label] = DenseBlock(accounts, found[found >= n_acc] - n_acc, density)
    return blocks


def _densest(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    n_nodes: int,
    epsilon: float,
    exact_below: int,
    refine_below: int,
) -> tuple[np.ndarray, float]:
    """The densest node set met while peeling; returns (sorted nodes, density)."""
    alive = np.zeros(n_nodes, dtype=bool)
    alive[src] = True
    alive[dst] = True
    if int(alive.sum()) > exact_below or len(src) > EXACT_MAX_EDGES:
        nodes, density = _peel_in_rounds(src, dst, weight, n_nodes, epsilon)
        # The one-at-a-time peeling then refines the rounds' densest set
        # where it is small enough, and keeps whichever is denser.
        if len(nodes) > refine_below:
            return nodes, density
        inside = np.zeros(n_nodes, dtype=bool)
        inside[nodes] = True
        keep = inside[src] & inside[dst]
        if int(keep.sum()) > EXACT_MAX_EDGES:
            return nodes, density
        refined, refined_density = _peel_exactly(src[keep], dst[keep], weight[keep])
        if refined_density > density:
            return refined, refined_density
        return nodes, density
    return _peel_exactly(src, dst, weight)


def _densest_component(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray, nodes: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, float]:
    """The densest connected part of the node set ``nodes`` (sorted, out of
    ``n_nodes``), and its density.

    The peeled set can be disconnected: in a rating graph whose heaviest
    real raters share nothing with an injected block, the densest set held
    both, and the two came out as one cluster. Its densest component is at
    least as dense as the whole (the whole's density is a weighted mean of
    its components'), so this keeps FRAUDAR's objective and leaves the other
    components in the graph for the next block.
    """
    if len(nodes) == 0:
        return nodes, 0.0
    in_set = np.zeros(n_nodes, dtype=bool)
    in_set[nodes] = True
    inside = in_set[src] & in_set[dst]
    n = len(nodes)
    local_src = np.searchsorted(nodes, src[inside])
    local_dst = np.searchsorted(nodes, dst[inside])
    weight = weight[inside]
    adjacency = sp.coo_matrix(
        (np.ones(len(local_src), dtype=np.int8), (local_src, local_dst)), shape=(n, n)
    )
    n_parts, part = connected_components(adjacency, directed=False)
    if n_parts == 1:
        return nodes, float(weight.sum()) / n
    density = np.bincount(part[local_src], weights=weight, minlength=n_parts) / np.bincount(
        part, minlength=n_parts
    )
    # Ties go to the part holding the smallest node (parts are numbered so).
    best = int(np.argmax(density))
    return nodes[part == best], float(density[best])


def _peel_in_rounds(
    src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n_nodes: int, epsilon: float
) -> tuple[np.ndarray, float]:
    """Bahmani et al.'s peeling: each round drops every node whose edges weigh
    at most (1 + epsilon) times the average; the densest round is kept."""
    alive = np.zeros(n_nodes, dtype=bool)
    best_nodes, best_density = np.zeros(0, dtype=np.int64), -1.0
    while len(src):
        alive[:] = False
        alive[src] = True
        alive[dst] = True
        n_alive = int(alive.sum())
        total = float(weight.sum())
        density = total / n_alive
        if density > best_density:
            best_nodes, best_density = np.flatnonzero(alive), density
        priority = np.bincount(src, weights=weight, minlength=n_nodes) + np.bincount(
            dst, weights=weight, minlength=n_nodes
        )
        # Each edge counts at both ends, so the average priority is 2 * density.
        alive &= priority > (1.0 + epsilon) * 2.0 * density
        keep = alive[src] & alive[dst]
        src, dst, weight = src[keep], dst[keep], weight[keep]
    return best_nodes, best_density


def _peel_exactly(src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """FRAUDAR's one-node-at-a-time peeling with a lazy heap."""
    nodes, local = np.unique(np.r_[src, dst], return_inverse=True)
    n = len(nodes)
    if n == 0:
        return nodes, 0.0
    a, b = local[: len(src)], local[len(src) :]
    priority = np.bincount(a, weights=weight, minlength=n) + np.bincount(
        b, weights=weight, minlength=n
    )
    # Adjacency in CSR form: each edge listed at both ends.
    ends = np.r_[a, b]
    others = np.r_[b, a]
    edge_weight = np.r_[weight, weight]
    order = np.argsort(ends, kind="stable")
    neighbours, neighbour_weight = others[order].tolist(), edge_weight[order].tolist()
    starts = np.searchsorted(ends[order], np.arange(n + 1)).tolist()
    current = priority.tolist()
    heap = [(p, i) for i, p in enumerate(current)]
    heapq.heapify(heap)
    removed = [False] * n
    total = float(weight.sum())
    n_left = n
    best_density, best_step = total / n, 0
    removal_order = []
    while heap:
        p, i = heapq.heappop(heap)
        if removed[i] or p != current[i]:
            continue  # a stale entry: the node was updated or removed since
        removed[i] = True
        removal_order.append(i)
        total -= current[i]
        n_left -= 1
        for k in range(starts[i], starts[i + 1]):
            j = neighbours[k]
            if not removed[j]:
                current[j] -= neighbour_weight[k]
                heapq.heappush(heap, (current[j], j))
        if n_left and total / n_left > best_density:
            best_density, best_step = total / n_left, len(removal_order)
    gone = np.zeros(n, dtype=bool)
    gone[removal_order[:best_step]] = True
    return nodes[~gone], best_density
