"""Published farm detectors, as baselines for ``bench_quality.py`` and
``bench_injection.py``. Benchmark code, never library code.

Every peer reads the same :class:`acctgraph.ingest.Links` (integer-coded
account-attribute links, so no peer pays for parsing) and returns a
:class:`PeerResult`: which accounts it flags, a score to rank accounts by (for
average precision) and a group id per account (for "clusters holding 90% of a
campaign").

==============  ==============================================================
peer            what it does
==============  ==============================================================
``botgraph``    Zhuang et al., NSDI 2009. Account-account graph, edge weight =
                number of shared attributes (every kind). Components at
                weight threshold ``T = 2, 3, ...``; groups are components of at
                least ``min_group`` accounts. An account's score is the highest
                ``T`` at which it still sits in a group; flagged at ``T >= 2``.
``evilcohort``  Stringhini et al., USENIX Security 2015. Account-account graph
                over shared IPs only (weight = shared IPs), Louvain
                communities (igraph's multilevel); communities of at least
                ``min_group`` accounts are flagged; score = community size.
``fraudar``     Hooi et al., KDD 2016, through the PyPI package
                ``rgmining-fraudar`` (Hooi's greedy peeling, column weights
                ``1 / log(degree + 5)``), peeling ``n_blocks`` blocks in turn
                from the account x attribute matrix; accounts in a block are
                flagged; score = blocks peeled after the account's.
``networkx``    What a notebook user writes: networkx bipartite weighted
                projection over IPs and payments, ``louvain_communities``,
                communities of at least ``min_group`` accounts flagged; score
                = community size.
==============  ==============================================================

Projections over an attribute of degree ``d`` cost ``d**2`` pairs; the
peers get no hub cap beyond what their papers describe, which is part of what
is measured.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import random
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

MIN_GROUP = 10


@dataclass
class PeerResult:
    """One peer's verdict on every account."""

    flagged: np.ndarray
    score: np.ndarray
    group: np.ndarray
    seconds: float
    status: str = "ok"


def incidence(links, kinds: tuple[str, ...] | None = None) -> sp.csr_matrix:
    """Binary account x attribute matrix, optionally restricted to ``kinds``."""
    keep = np.ones(links.n_links, dtype=bool)
    if kinds is not None:
        keep = np.isin(links.attribute_kinds[links.attribute], kinds)
    data = np.ones(int(keep.sum()), dtype=np.float32)
    matrix = sp.csr_matrix(
        (data, (links.account[keep], links.attribute[keep])),
        shape=(links.n_accounts, links.n_attributes),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _projection(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Upper triangle of ``B @ B.T``: shared attributes per account pair."""
    shared = (matrix @ matrix.T).tocsr()
    return sp.triu(shared, k=1).tocsr()


def _groups_from_labels(labels: np.ndarray, min_group: int) -> tuple[np.ndarray, np.ndarray]:
    """Group id per account (-1 for groups under ``min_group``) and group sizes."""
    sizes = np.bincount(labels)
    size = sizes[labels]
    return np.where(size >= min_group, labels, -1), size


def botgraph(links, min_group: int = MIN_GROUP, max_threshold: int = 64) -> PeerResult:
    start = time.perf_counter()
    pairs = _projection(incidence(links))
    n = links.n_accounts
    score = np.zeros(n)
    group = np.full(n, -1)
    for threshold in range(2, max_threshold + 1):
        kept = pairs.multiply(pairs >= threshold).tocsr()
        kept.eliminate_zeros()
        if kept.nnz == 0:
            break
        _, labels = connected_components(kept, directed=False)
        in_group, _ = _groups_from_labels(labels, min_group)
        member = in_group >= 0
        if not member.any():
            break
        score[member] = threshold
        if threshold == 2:
            group = in_group
    return PeerResult(score >= 2, score, group, time.perf_counter() - start)


def _louvain_groups(pairs: sp.csr_matrix, n: int, seed: int) -> np.ndarray:
    import igraph as ig

    rows, cols = pairs.nonzero()
    graph = ig.Graph(n=n, edges=np.column_stack([rows, cols]).tolist())
    random.seed(seed)
    ig.set_random_number_generator(random)
    return np.asarray(
        graph.community_multilevel(weights=np.asarray(pairs[rows, cols]).ravel()).membership
    )


def evilcohort(links, min_group: int = MIN_GROUP, seed: int = 0) -> PeerResult:
    start = time.perf_counter()
    pairs = _projection(incidence(links, ("ip",)))
    labels = _louvain_groups(pairs, links.n_accounts, seed)
    group, size = _groups_from_labels(labels, min_group)
    flagged = group >= 0
    return PeerResult(flagged, np.where(flagged, size, 0), group, time.perf_counter() - start)


def fraudar(links, n_blocks: int = 5, kinds: tuple[str, ...] | None = None) -> PeerResult:
    from fraudar.export import greedy

    start = time.perf_counter()
    matrix = incidence(links, kinds).astype(np.float64)
    n = links.n_accounts
    score = np.zeros(n)
    group = np.full(n, -1)
    # The package prints progress on stdout; keep the benchmark's table clean.
    with contextlib.redirect_stdout(io.StringIO()):
        blocks = greedy.detectMultiple(matrix, greedy.logWeightedAveDegree, n_blocks)
    for i, ((rows, _cols), _density) in enumerate(blocks):
        rows = np.fromiter(rows, dtype=np.int64)
        fresh = rows[group[rows] < 0]
        group[fresh] = i
        score[fresh] = n_blocks - i
    return PeerResult(group >= 0, score, group, time.perf_counter() - start)


def networkx_louvain(links, min_group: int = MIN_GROUP, seed: int = 0) -> PeerResult:
    import networkx as nx
    from networkx.algorithms import bipartite

    start = time.perf_counter()
    keep = np.isin(links.attribute_kinds[links.attribute], ("ip", "payment"))
    accounts = [f"a{i}" for i in range(links.n_accounts)]
    graph = nx.Graph()
    graph.add_nodes_from(accounts, bipartite=0)
    graph.add_edges_from(
        zip(
            (f"a{i}" for i in links.account[keep]),
            (f"v{j}" for j in links.attribute[keep]),
            strict=True,
        )
    )
    projected = bipartite.weighted_projected_graph(graph, accounts)
    communities = nx.community.louvain_communities(projected, weight="weight", seed=seed)
    labels = np.zeros(links.n_accounts, dtype=np.int64)
    for label, members in enumerate(communities):
        labels[[int(a[1:]) for a in members]] = label
    group, size = _groups_from_labels(labels, min_group)
    flagged = group >= 0
    return PeerResult(flagged, np.where(flagged, size, 0), group, time.perf_counter() - start)


PEERS = {
    "botgraph": botgraph,
    "evilcohort": evilcohort,
    "fraudar": fraudar,
    "networkx": networkx_louvain,
}


def _child(queue, fn, args, kwargs):
    queue.put(fn(*args, **kwargs))


def run_capped(fn, *args, timeout: float, **kwargs) -> PeerResult | None:
    """Run ``fn`` in a forked process; ``None`` if it is still running after
    ``timeout`` seconds (the process is killed) or it died (out of memory)."""
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, fn, args, kwargs))
    process.start()
    try:
        return queue.get(timeout=timeout)
    except Exception:  # queue.Empty on timeout; anything else means the child died
        return None
    finally:
        process.kill()
        process.join()
