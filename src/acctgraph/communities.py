"""Communities: connected components, then Leiden within each large component.

The bipartite graph is split into connected components first (linear time,
scipy). Components too small to hold structure are taken whole; each larger
one is partitioned with Leiden (Traag, Waltman & van Eck, "From Louvain to
Leiden: guaranteeing well-connected communities", Sci. Rep. 2019), optimising
the weighted modularity with a resolution parameter directly on the bipartite
graph, accounts and attributes alike. A community's accounts are a candidate
cluster; its attribute nodes are the infrastructure they share.

Two implementations of the same algorithm are available:

* ``"igraph"`` (default): igraph's C implementation. On the giant component of
  a 100,000-account synthetic world (120k nodes, 436k edges) it took 0.7 s
  against leidenalg's 12.4 s, and reached a higher modularity (0.801 against
  0.796).
* ``"leidenalg"``: Traag's reference package, with its per-call ``seed``.

Twin attributes
---------------
Attributes linked to exactly the same accounts (a household's home IP and
family card; a farm's proxy IPs that the same accounts all use; in the worst
case 100,000 attributes shared by the same 1,000 accounts) are merged into
one node whose edge to each account weighs the sum of the twins' edges.
Modularity is unchanged by the merge for every partition that keeps twins
together (edge weights and node strengths add up term by term), so this only
rules out splitting interchangeable attributes, and it makes Leiden's graph as
small as the distinct sharing patterns.

Two levels
----------
Modularity fragments sparse coordinated blocks: 200 accounts each rating
about 6 of the same 200 objects (FRAUDAR's injected block at density 0.03)
come out of Leiden at resolution 1 as a dozen pieces of 15-20 accounts, each
too small to look like a farm, while a lower resolution would swallow small
farms into larger crowds. So each component's Leiden communities are also
grouped at ``coarse_resolution``: Leiden runs again on the graph of
communities (each community one node, edges between communities summed,
edges inside a community kept as self-loops, which keeps the modularity of
every grouping equal to that of the same grouping of the original nodes).
igraph's modularity objective mishandles self-loops (it merged ten
5-cliques of a ring, the modularity optimum, into one group of modularity
0), so the coarse level optimises the same modularity written as CPM with
explicit node strengths (:func:`_seeded_igraph_leiden`).
:attr:`Communities.parent` gives each community's group; the scoring stage
decides, on the evidence, whether a group is reported whole
(:func:`acctgraph.scoring.merge_on_evidence`).

Determinism: nodes are numbered from the sorted ids made at ingest, components
are visited in order of their smallest node, and every Leiden run is seeded.
igraph draws its random numbers from a process-wide generator; acctgraph
swaps in a private ``random.Random(seed)`` for the duration of the call (under
a lock, so concurrent threads cannot interleave) and then hands igraph back
its default, the ``random`` module (igraph cannot report a generator a
caller set before). Python's global ``random`` is never seeded or consumed.

Parallel components
-------------------
Each component is partitioned on its own, with the same seed, so components
can be partitioned at once in worker processes (``n_jobs``) with the result
unchanged; igraph holds the interpreter lock while it runs, so threads would
not overlap. This pays where the work is spread over several large
components: the 10M-account benchmark's ten regions are ten components of
3.5M edges each, 11-12 s of Leiden apiece. It cannot help a graph that is one
giant component (the 1M-account world's holds 1.07M of its 1.3M nodes and
99% of the Leiden time): Leiden itself runs on one core.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

import igraph as ig
import leidenalg as la
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .exceptions import ConfigError
from .graph import AttributeGraph
from .parallel import available_cpus, can_fork, check_n_jobs, processes

__all__ = [
    "LEIDEN_BACKENDS",
    "PARALLEL_MIN_EDGES",
    "Communities",
    "available_cpus",
    "carve_block",
    "carve_blocks",
    "check_n_jobs",
    "find_communities",
    "merge_communities",
    "modularity_parts",
    "move_accounts",
    "same_communities",
]

logger = logging.getLogger(__name__)

LEIDEN_BACKENDS = ("igraph", "leidenalg")

# Modularity at or below this means the partition is no better than the whole
# component (floating-point noise around 0).
_NO_STRUCTURE = 1e-9

# igraph's random number generator is process-wide; see the module docstring.
_IGRAPH_RNG_LOCK = threading.Lock()
# Edges in the components besides the largest from which partitioning them
# in parallel pays; see _partition_all.
PARALLEL_MIN_EDGES = 500_000


@dataclass(frozen=True)
class Communities:
    """A partition of the graph's nodes.

    Attributes
    ----------
    account_community : ndarray of int64, shape (n_accounts,)
        Community of each account, -1 for accounts outside any community of
        at least ``min_cluster_size`` accounts.
    attribute_community : ndarray of int64, shape (n_attributes,)
        Community of each attribute node, -1 where the attribute is not in
        the graph or its community was discarded.
    n_communities : int
        Communities kept, numbered 0..n-1 in order of their smallest account.
    n_components : int
        Connected components of the graph that hold at least one edge.
    parent : ndarray of int64, shape (n_communities,), optional
        Each community's group at the coarse resolution (groups numbered in
        order of their first community); ``None`` when no coarse level was
        computed.
    """

    account_community: np.ndarray
    attribute_community: np.ndarray
    n_communities: int
    n_components: int
    parent: np.ndarray | None = None


def find_communities(
    graph: AttributeGraph,
    *,
    resolution: float = 1.0,
    min_cluster_size: int = 3,
    small_component_nodes: int = 64,
    seed: int = 0,
    backend: str = "igraph",
    coarse_resolution: float | None = None,
    n_jobs: int | None = None,
) -> Communities:
    """Partition the graph into communities.

    Parameters
    ----------
    graph : AttributeGraph
    resolution : float, default=1.0
        Resolution of the modularity Leiden optimises; higher gives smaller
        communities.
    min_cluster_size : int, default=3
        Communities with fewer accounts are not clusters.
    small_component_nodes : int, default=64
        Components with at most this many nodes are one community each,
        without running Leiden (households, small teams).
    seed : int, default=0
        Seed of every Leiden run.
    backend : {"igraph", "leidenalg"}, default="igraph"
        Leiden implementation; see the module docstring.
    coarse_resolution : float, optional
        Also group each component's communities at this (lower) resolution,
        into :attr:`Communities.parent`; see "Two levels" above.
    n_jobs : int, optional
        Processes that partition components at once; default: every CPU
        this process may use. The result is the same for any value (see
        "Parallel components" above).

    Returns
    -------
    Communities
    """
    if backend not in LEIDEN_BACKENDS:
        raise ConfigError(f"backend must be one of {LEIDEN_BACKENDS}; got {backend!r}")
    check_n_jobs(n_jobs)
    links = graph.links
    n_acc, n_attr = links.n_accounts, links.n_attributes
    mask = graph.edge_mask
    twin_class, n_classes = _twin_classes(links.account[mask], links.attribute[mask], n_acc, n_attr)
    # One node per class of twin attributes; an account's edge to the class
    # weighs what its edges to the class's attributes weighed together.
    src, dst, weight = _summed_edges(
        links.account[mask], twin_class[links.attribute[mask]], graph.link_weight[mask], n_classes
    )
    dst += n_acc
    n_nodes = n_acc + n_classes

    adjacency = sp.coo_matrix(
        (np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes)
    ).tocsr()
    n_comp, component = connected_components(adjacency, directed=False)
    has_edge = np.zeros(n_nodes, dtype=bool)
    has_edge[src] = True
    has_edge[dst] = True
    component = np.where(has_edge, component, -1)

    # Nodes of each component, in node order; components in order of their
    # smallest node, which connected_components already guarantees.
    order = np.argsort(component, kind="stable")
    sorted_comp = component[order]
    starts = np.searchsorted(sorted_comp, np.arange(n_comp))
    ends = np.searchsorted(sorted_comp, np.arange(n_comp), side="right")
    # Each node's position within its component: a lookup, where searching
    # the component's sorted nodes for every edge end cost 1.3 s at 1M accounts.
    position = np.arange(n_nodes) - np.r_[0, starts][sorted_comp + 1]
    local = np.empty(n_nodes, dtype=np.int64)
    local[order] = position

    node_label = np.full(n_nodes, -1, dtype=np.int64)
    # Coarse group of each label; small components are their own group.
    label_group: list[np.ndarray] = []
    next_group = 0
    next_label = 0
    edge_comp = component[src]
    edge_order = np.argsort(edge_comp, kind="stable")
    edge_starts = np.searchsorted(edge_comp[edge_order], np.arange(n_comp))
    edge_ends = np.searchsorted(edge_comp[edge_order], np.arange(n_comp), side="right")
    n_nodes_in = ends - starts
    n_accounts_in = np.bincount(component[:n_acc][component[:n_acc] >= 0], minlength=n_comp)
    kept = (n_accounts_in >= min_cluster_size) & (n_nodes_in > 0)
    # Components with structure to find go through Leiden, each on its own:
    # in worker processes where that pays (see _partition_all).
    to_partition = np.flatnonzero(kept & (n_nodes_in > small_component_nodes))

    def task(c: int) -> tuple:
        edges = edge_order[edge_starts[c] : edge_ends[c]]
        return (
            int(n_nodes_in[c]),
            local[src[edges]],
            local[dst[edges]],
            weight[edges],
            resolution,
            coarse_resolution,
            seed,
            backend,
        )

    partitions = _partition_all(
        to_partition, edge_ends[to_partition] - edge_starts[to_partition], task, n_jobs
    )
    for c in np.flatnonzero(kept).tolist():
        nodes = order[starts[c] : ends[c]]
        if c not in partitions:
            node_label[nodes] = next_label
            next_label += 1
            label_group.append(np.array([next_group]))
            next_group += 1
            continue
        membership, groups = partitions.pop(c)
        node_label[nodes] = membership + next_label
        next_label += int(membership.max()) + 1
        label_group.append(groups + next_group)
        next_group += int(groups.max()) + 1

    class_label = node_label[n_acc:]
    attribute_label = np.full(n_attr, -1, dtype=np.int64)
    in_graph = twin_class >= 0
    attribute_label[in_graph] = class_label[twin_class[in_graph]]
    account_label, attribute_label, n_kept, kept_labels = _keep_large(
        node_label[:n_acc], attribute_label, min_cluster_size
    )
    parent = None
    if coarse_resolution is not None:
        group_of_label = np.concatenate(label_group) if label_group else np.zeros(0, np.int64)
        # Renumber groups in order of their first kept community.
        _, first, parent = np.unique(
            group_of_label[kept_labels], return_index=True, return_inverse=True
        )
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        parent = rank[parent.ravel()]
    logger.info(
        "communities: %d attributes in %d twin classes, %d components, %d run through "
        "Leiden, %d communities of >= %d accounts",
        int(in_graph.sum()),
        n_classes,
        n_comp,
        len(to_partition),
        n_kept,
        min_cluster_size,
    )
    return Communities(
        account_community=account_label,
        attribute_community=attribute_label,
        n_communities=n_kept,
        n_components=int(len(np.unique(component[component >= 0]))),
        parent=parent,
    )


def _twin_classes(
    account: np.ndarray, attribute: np.ndarray, n_accounts: int, n_attributes: int
) -> tuple[np.ndarray, int]:
    """Group attributes linked to exactly the same accounts.

    Returns each attribute's class (-1 for attributes without edges) and the
    number of classes, numbered in order of their smallest attribute. Member
    sets are compared through their degree and two independent 64-bit sums of
    random per-account keys (a false match needs a 2**-128 coincidence).
    """
    twin_class = np.full(n_attributes, -1, dtype=np.int64)
    if len(attribute) == 0:
        return twin_class, 0
    keys = np.random.default_rng(0x7A11).integers(0, 2**63, size=(2, n_accounts), dtype=np.uint64)
    degree = np.bincount(attribute, minlength=n_attributes)
    present = np.flatnonzero(degree)
    # uint64 sums wrap modulo 2**64, as intended, in any order. Summed in
    # place: with the edges grouped by attribute first (a stable sort), this
    # function took 9.8 s at 10M accounts, against 5.5 s.
    sums = np.zeros((2, n_attributes), dtype=np.uint64)
    np.add.at(sums[0], attribute, keys[0][account])
    np.add.at(sums[1], attribute, keys[1][account])
    # ``present`` is sorted: first appearance is the smallest attribute.
    code, n_classes = _signature_classes(degree[present], sums[0][present], sums[1][present])
    twin_class[present] = code
    return twin_class, n_classes


def _signature_classes(
    degree: np.ndarray, first_sum: np.ndarray, second_sum: np.ndarray
) -> tuple[np.ndarray, int]:
    """Class of each row of equal (degree, first_sum, second_sum), numbered
    in order of first appearance, and the number of classes.

    Classes come from the first sum, hashed: pd.factorize numbers them in
    order of first appearance. The degree and the second sum must then agree
    within every class; where they do not (a 2**-64 chance), classes come
    from all three, sorted (np.unique over rows: 15 s at 10M accounts,
    against about 1 s).
    """
    code, distinct = pd.factorize(first_sum)
    # Each class's first row: where the code exceeds every code before.
    first = np.flatnonzero(np.r_[True, code[1:] > np.maximum.accumulate(code)[:-1]])
    if np.array_equal(degree, degree[first][code]) and np.array_equal(
        second_sum, second_sum[first][code]
    ):
        return code.astype(np.int64), len(distinct)
    signature = np.column_stack([degree.astype(np.uint64), first_sum, second_sum])
    _, first, inverse = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()], len(first)


def _summed_edges(
    row: np.ndarray, col: np.ndarray, weight: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (row, col) pairs, sorted, each with its summed weight.

    What ``np.unique(row * n_cols + col, return_inverse=True)`` and a
    ``bincount`` give, through scipy's CSR conversion, which sorts by row in
    linear time and only sorts within rows: 0.2 s against 0.7 s on 3.6M pairs.
    """
    n_rows = int(row.max()) + 1 if len(row) else 0
    matrix = sp.csr_matrix((weight, (row, col)), shape=(n_rows, max(n_cols, 1)))
    matrix.sum_duplicates()  # also sorts each row's columns
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(matrix.indptr))
    return rows, matrix.indices.astype(np.int64), matrix.data


def _partition_all(
    components: np.ndarray, n_edges: np.ndarray, task: Callable[[int], tuple], n_jobs: int | None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """:func:`_partition_component` of each component, by component.

    ``task(c)`` gives component ``c``'s arguments. Components go to
    ``n_jobs`` worker processes where, leaving the largest aside, they hold
    :data:`PARALLEL_MIN_EDGES` edges or more (about 2 s of Leiden): below
    that, forking workers and shipping edges to them gains little. Each component's
    run is seeded on its own, so where it runs does not change its result.
    """
    workers = min(processes(n_jobs), len(components))
    if workers < 2 or int(n_edges.sum() - n_edges.max()) < PARALLEL_MIN_EDGES:
        return {int(c): _partition_component(*task(c)) for c in components}
    # Forked where the platform allows: a spawned or forkserver worker
    # re-runs the caller's main script, which breaks every script that calls
    # acctgraph outside an ``if __name__ == "__main__":`` block. The workers
    # only run igraph and numpy on the arrays they are given, never DuckDB or
    # Arrow, whose idle threads the fork leaves behind.
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    logger.info("communities: %d components on %d processes", len(components), workers)
    done: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    # Largest first, so that no worker is left alone with a big one at the
    # end; at most two per worker in flight, so that the parent does not
    # hold every component's edges at once.
    queue = [int(c) for c in components[np.argsort(-n_edges, kind="stable")]]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        running: dict[Future, int] = {}
        while queue or running:
            while queue and len(running) < 2 * workers:
                c = queue.pop(0)
                running[pool.submit(_partition_component, *task(c))] = c
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                done[running.pop(future)] = future.result()
    return done


def _partition_component(
    n_nodes: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    resolution: float,
    coarse_resolution: float | None,
    seed: int,
    backend: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Leiden communities of one component (numbered within it, as ``src``
    and ``dst``) and each community's coarse group (each its own where
    ``coarse_resolution`` is None)."""
    membership = _leiden(n_nodes, src, dst, weight, resolution, seed, backend)
    n_local = int(membership.max()) + 1
    if coarse_resolution is None or n_local == 1:
        return membership, np.arange(n_local)
    return membership, _coarsen(src, dst, weight, membership, coarse_resolution, seed)


def modularity_parts(
    n_nodes: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    *,
    resolution: float,
    seed: int = 0,
) -> np.ndarray:
    """Leiden's modularity communities of a graph of ``n_nodes`` nodes given
    by its edges ``src`` -> ``dst`` (numbered ``0..n_nodes-1``), one label
    per node: all zeros where no partition beats the whole graph."""
    return _leiden(n_nodes, src, dst, weight, resolution, seed, "igraph")


def _leiden(
    n_nodes: int,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    resolution: float,
    seed: int,
    backend: str,
) -> np.ndarray:
    """Leiden on one component of ``n_nodes`` nodes, whose edges ``src`` ->
    ``dst`` are numbered within it; returns a community label per node."""
    g = _igraph_graph(n_nodes, src, dst)
    # igraph converts a numpy array element by element; a list of floats is
    # quicker to read (0.15 s against 0.29 s for 3.6M weights), and is read
    # twice here, by Leiden and by the modularity check.
    weights = weight.tolist()
    if backend == "leidenalg":
        partition = la.find_partition(
            g,
            la.RBConfigurationVertexPartition,
            weights=weights,
            resolution_parameter=resolution,
            n_iterations=2,
            seed=seed,
        )
        membership = partition.membership
    else:
        membership = _seeded_igraph_leiden(g, weights, resolution, seed)
    # The whole component as one community has modularity 0. A component with
    # no inner structure (1,000 accounts sharing the same 1,000 attributes: the
    # most coordinated shape there is) gives every partition modularity ~0, and
    # Leiden may return account-attribute pairs; keep such a component whole.
    if g.modularity(membership, weights=weights, resolution=resolution) <= _NO_STRUCTURE:
        return np.zeros(n_nodes, dtype=np.int64)
    return np.asarray(membership, dtype=np.int64)


def merge_communities(communities: Communities, label: np.ndarray) -> Communities:
    """Merge communities that share a label.

    Parameters
    ----------
    communities : Communities
    label : ndarray of int, shape (n_communities,)
        New label of each community; communities with equal labels merge.

    Returns
    -------
    Communities
        Renumbered in order of each community's smallest account, without
        ``parent``.
    """
    account = communities.account_community
    attribute = communities.attribute_community
    account = np.where(account >= 0, label[np.maximum(account, 0)], -1)
    attribute = np.where(attribute >= 0, label[np.maximum(attribute, 0)], -1)
    return _relabelled(communities, account, attribute, 1, None)


def same_communities(communities: Communities, earlier: Communities) -> np.ndarray:
    """For each community, the label of the community of ``earlier`` with
    exactly the same accounts and attribute nodes, or -1 where none has.

    Every community has an account, so its smallest account's community in
    ``earlier`` is the only one that can have the same sets; it does where
    every member carries that label and the sizes agree. Linear in the
    nodes: what was computed for ``earlier`` can be reused for the
    communities a step left alone.

    Parameters
    ----------
    communities, earlier : Communities
        Partitions of the same graph.

    Returns
    -------
    ndarray of int64, shape (communities.n_communities,)
    """
    n = communities.n_communities
    account, attribute = communities.account_community, communities.attribute_community
    members = np.flatnonzero(account >= 0)
    first = np.full(n, len(account), dtype=np.int64)
    np.minimum.at(first, account[members], members)
    candidate = earlier.account_community[first]
    size = np.bincount(account[members], minlength=n)
    attr_members = np.flatnonzero(attribute >= 0)
    attr_size = np.bincount(attribute[attr_members], minlength=n)
    old_account, old_attribute = earlier.account_community, earlier.attribute_community
    old_size = np.bincount(old_account[old_account >= 0], minlength=earlier.n_communities)
    old_attr_size = np.bincount(old_attribute[old_attribute >= 0], minlength=earlier.n_communities)
    differ = np.bincount(
        account[members],
        weights=old_account[members] != candidate[account[members]],
        minlength=n,
    )
    differ += np.bincount(
        attribute[attr_members],
        weights=old_attribute[attr_members] != candidate[attribute[attr_members]],
        minlength=n,
    )
    safe = np.maximum(candidate, 0)
    same = (
        (candidate >= 0)
        & (differ == 0)
        & (old_size[safe] == size)
        & (old_attr_size[safe] == attr_size)
    )
    return np.where(same, candidate, -1).astype(np.int64)


def carve_block(
    communities: Communities, accounts: np.ndarray, attributes: np.ndarray, min_size: int = 1
) -> Communities:
    """Move ``accounts`` and ``attributes`` out of their communities into one
    new community.

    Parameters
    ----------
    communities : Communities
    accounts, attributes : ndarray of int
        Codes of the block's accounts and attribute nodes.
    min_size : int, default=1
        Communities left with fewer accounts are dropped.

    Returns
    -------
    Communities
        Renumbered in order of each community's smallest account. Where
        ``parent`` is set, the other communities keep their groups and the
        block is a group of its own.
    """
    return carve_blocks(communities, [(accounts, attributes)], min_size)


def carve_blocks(
    communities: Communities,
    blocks: list[tuple[np.ndarray, np.ndarray]],
    min_size: int = 1,
) -> Communities:
    """:func:`carve_block` for several disjoint blocks at once, each a new
    community (and, where ``parent`` is set, a group) of its own.

    Parameters
    ----------
    communities : Communities
    blocks : list of (accounts, attributes)
        Codes of each block's accounts and attribute nodes; no node in two.
    min_size : int, default=1

    Returns
    -------
    Communities
    """
    account = communities.account_community.copy()
    attribute = communities.attribute_community.copy()
    for i, (accounts, attributes) in enumerate(blocks):
        account[accounts] = communities.n_communities + i
        attribute[attributes] = communities.n_communities + i
    parent = None
    if communities.parent is not None:
        first_new = communities.parent.max(initial=-1) + 1
        parent = np.append(communities.parent, first_new + np.arange(len(blocks)))
    return _relabelled(communities, account, attribute, min_size, parent)


def move_accounts(
    communities: Communities,
    accounts: np.ndarray,
    targets: np.ndarray,
    attributes: np.ndarray | None = None,
    attribute_targets: np.ndarray | None = None,
    min_size: int = 1,
) -> Communities:
    """Move accounts (and, optionally, attribute nodes) into other existing
    communities.

    Parameters
    ----------
    communities : Communities
    accounts, targets : ndarray of int
        Codes of the accounts to move and the community each goes to.
    attributes, attribute_targets : ndarray of int, optional
        The same for attribute nodes.
    min_size : int, default=1
        Communities left with fewer accounts are dropped.

    Returns
    -------
    Communities
        Renumbered in order of each community's smallest account; ``parent``,
        where set, is kept for the communities that remain.
    """
    account = communities.account_community.copy()
    attribute = communities.attribute_community.copy()
    account[accounts] = targets
    if attributes is not None:
        attribute[attributes] = attribute_targets
    return _relabelled(communities, account, attribute, min_size, communities.parent)


def _relabelled(
    communities: Communities,
    account: np.ndarray,
    attribute: np.ndarray,
    min_size: int,
    parent: np.ndarray | None,
) -> Communities:
    """``communities`` with each node's new label, communities of fewer than
    ``min_size`` accounts dropped and the rest renumbered (see
    :func:`_keep_large`); ``parent`` gives each new label's group, where set."""
    account, attribute, n_kept, kept_labels = _keep_large(account, attribute, min_size)
    if parent is not None:
        _, parent = np.unique(parent[kept_labels], return_inverse=True)
        parent = parent.ravel().astype(np.int64)
    return Communities(
        account_community=account,
        attribute_community=attribute,
        n_communities=n_kept,
        n_components=communities.n_components,
        parent=parent,
    )


def _coarsen(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    membership: np.ndarray,
    resolution: float,
    seed: int,
) -> np.ndarray:
    """Group one component's communities by Leiden on the graph of communities.

    ``src`` and ``dst`` are numbered within the component, as ``membership``.
    Returns the group of each community ``0..membership.max()``.
    """
    a = membership[src]
    b = membership[dst]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    n_local = int(membership.max()) + 1
    lo, hi, summed = _summed_edges(lo, hi, weight, n_local)
    g = _igraph_graph(n_local, lo, hi)
    # Each community's strength is the sum of its nodes' strengths: a
    # self-loop counts twice, as the edges it stands for had two ends inside.
    strength = np.bincount(np.r_[a, b], weights=np.r_[weight, weight], minlength=n_local)
    return np.asarray(
        _seeded_igraph_leiden(g, summed.tolist(), resolution, seed, node_strength=strength),
        dtype=np.int64,
    )


def _igraph_graph(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> ig.Graph:
    """An undirected igraph graph of ``n_nodes`` nodes with the edges
    ``src[i]`` -- ``dst[i]``, in that order."""
    g = ig.Graph(n=n_nodes)
    # igraph reads an edge list pair by pair through Python's sequence
    # protocol (its buffer fast path is not in the published wheels). Pairs
    # of Python ints convert fastest: 1.3 s for 3.6M edges, where a numpy
    # array's rows of numpy integers take 2.1 s and the constructor 3.4 s.
    g.add_edges(zip(src.tolist(), dst.tolist(), strict=True))
    return g


def _seeded_igraph_leiden(
    g: ig.Graph,
    weight: Sequence[float],
    resolution: float,
    seed: int,
    node_strength: np.ndarray | None = None,
) -> list[int]:
    """igraph's Leiden (modularity) with a private seeded generator; see the
    module docstring for why it is swapped in under a lock.

    ``node_strength`` gives the strengths modularity's null model uses, for a
    graph with self-loops: igraph's modularity objective mishandles them (on
    a graph of communities, each kept as a self-loop, it merged ten Louvain
    communities into one of modularity 0). Modularity is then optimised
    exactly as the equivalent CPM objective, ``sum_ij (A_ij - gamma' k_i k_j)``
    with node weights ``k`` and ``gamma' = resolution / sum(k)``.
    """
    if node_strength is None:
        options = {"objective_function": "modularity", "resolution": resolution}
    else:
        options = {
            "objective_function": "CPM",
            "node_weights": node_strength,
            "resolution": resolution / max(float(node_strength.sum()), 1e-300),
        }
    with _IGRAPH_RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            return g.community_leiden(weights=weight, n_iterations=2, **options).membership
        finally:
            ig.set_random_number_generator(random)


def _keep_large(
    account_label: np.ndarray, attribute_label: np.ndarray, min_size: int
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Drop communities with fewer than ``min_size`` accounts and renumber the
    rest in order of their smallest account, so numbering is independent of
    the order components and Leiden produced them. Also returns the old label
    of each kept community."""
    n_labels = int(max(account_label.max(initial=-1), attribute_label.max(initial=-1))) + 1
    if n_labels == 0:
        return account_label, attribute_label, 0, np.zeros(0, dtype=np.int64)
    has = account_label >= 0
    sizes = np.bincount(account_label[has], minlength=n_labels)
    first_account = np.full(n_labels, np.iinfo(np.int64).max)
    np.minimum.at(first_account, account_label[has], np.flatnonzero(has))
    keep = sizes >= min_size
    kept_labels = np.flatnonzero(keep)
    kept_labels = kept_labels[np.argsort(first_account[kept_labels], kind="stable")]
    remap = np.full(n_labels, -1, dtype=np.int64)
    remap[kept_labels] = np.arange(len(kept_labels))
    account_out = np.where(has, remap[np.maximum(account_label, 0)], -1)
    attr_has = attribute_label >= 0
    attribute_out = np.where(attr_has, remap[np.maximum(attribute_label, 0)], -1)
    return account_out, attribute_out, len(kept_labels), kept_labels
