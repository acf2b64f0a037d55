"""The one-call path: ``detect()`` runs every stage with validated settings.

For step-by-step work in a notebook, call the stages yourself::

    links = acctgraph.load_links(events, accounts=accounts)
    graph = acctgraph.build_graph(links)
    communities = acctgraph.find_communities(graph, seed=0)
    scores = acctgraph.score_communities(graph, communities)
"""

from __future__ import annotations

import functools
import logging
import numbers
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from .blocks import EXACT_BELOW_NODES, PARALLEL_MIN_PEEL_EDGES, DenseBlock, find_dense_blocks
from .communities import LEIDEN_BACKENDS, Communities, check_n_jobs, find_communities
from .exceptions import ConfigError
from .graph import AttributeGraph, build_graph
from .ingest import ENGINES, TableLike, load_links, resolve_engine
from .networks import with_ip_networks
from .parallel import forked_processes, start_in_worker
from .privacy import Pseudonymizer
from .progress import StageProgress, should_show
from .results import DetectionResult, build_result
from .scoring import (
    SPARE_BLOCKS,
    KindRoles,
    Scores,
    adopt_card_groups,
    adopt_dense_blocks,
    adopt_evidence_groups,
    attach_on_evidence,
    find_card_groups,
    find_evidence_groups,
    footing_counts,
    merge_on_evidence,
    peel_candidates,
    prepare_blocks,
    score_communities,
    score_groups,
    split_on_evidence,
)
from .scoring.evidence_groups import EVIDENCE_BARS
from .scoring.score import PARALLEL_MIN_LINKS, compute_aggregates
from .scoring.splitting import PeeledCandidates

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DetectConfig", "detect"]

logger = logging.getLogger(__name__)

# Graph edges from which the split's peeling does not run beside the
# scoring steps (_run_stages). On larger graphs the communities it peels can
# hold PARALLEL_MIN_PEEL_EDGES edges or more, which the split peels in
# parallel itself, and the worker's copy of them added to the run's peak
# (10M accounts, 36M edges: 14.6 GiB before, 14.8-15.3 GiB in three runs
# with the worker) for a scoring stage of 72.5-80.8 s against 79-84 s. At
# 1M accounts (3.6M edges) the worker took the scoring stage from
# 7.61-8.05 s to 7.22-7.60 s (three runs each, in turns).
SPLIT_BESIDE_MAX_EDGES = PARALLEL_MIN_PEEL_EDGES
# Graph nodes above which the dense blocks are peeled in rounds first (see
# find_dense_blocks' exact_below), where no spare block is peeled; the
# rounds' densest set is then refined one node at a time up to
# EXACT_BELOW_NODES, as before. Peeled one node at a time, the graph of the
# bench world of 10,000 accounts took 0.05-0.13 s in the worker beside
# Leiden (0.04 s), and the blocks stage was the wait for it: the run took
# 0.41-0.42 s against 0.30-0.31 s now (session 48). The block found can
# differ (few_proxies, 10,000 accounts, seed 1: 400 accounts at density
# 1.03, against 963 at 1.14; the same in baseline and camouflage, and in
# the bench worlds of 10,000 and 100,000 accounts), and no F1 or average
# precision moved over the 139 worlds of benchmarks/sweep_quality.py, the
# combined worlds' seeds 4-8, the main table's worlds at 20,000 accounts
# (seeds 1-4) and every world at 100,000 (seeds 1-2). Where spare blocks
# take the place of those passed over (data without an IP kind, FRAUDAR's
# benchmark), the graph is peeled one node at a time up to
# EXACT_BELOW_NODES (50,000), as in rounds the spares differ (density
# 1.303 against 1.395).
ROUNDS_ABOVE_NODES = 5_000

# The stages of a run, in the order data flows through them.
STAGES = ("ingest", "graph", "communities", "blocks", "scoring", "results")


@dataclass(frozen=True)
class DetectConfig:
    """Settings of a detection run, validated once on creation.

    Parameters
    ----------
    resolution : float, default=1.0
        Leiden modularity resolution; higher gives smaller clusters.
    coarse_factor : float or None, default=0.2
        Communities are also grouped at resolution ``resolution *
        coarse_factor``; a group is reported as one cluster where it scores
        higher whole (see :func:`acctgraph.scoring.merge_on_evidence`). None
        keeps Leiden's communities as they are.
    dense_blocks : int, default=1
        Dense blocks peeled off the graph as further candidate clusters
        (FRAUDAR's peeling, see :mod:`acctgraph.blocks`); a block is
        reported as one cluster where it scores higher whole, or as high
        while flagging a few more accounts (see
        :func:`acctgraph.scoring.adopt_dense_blocks`). 0 turns this off.
        Where the data has no IP kind, a block that owns none of its
        objects is passed over, and up to
        :data:`acctgraph.scoring.SPARE_BLOCKS` more are peeled to take
        its place.
    split_blocks : bool, default=True
        Peel the densest block out of each community that scores below the
        threshold, and report it as a cluster of its own where it scores as
        a farm: a small farm that Leiden left inside a crowd (see
        :func:`acctgraph.scoring.split_on_evidence`). False turns this off.
    card_groups : bool, default=True
        Weigh the accounts linked by shared cards (each card paying for 5
        or more of them) that Leiden left in several communities as one
        cluster, and report it so where it scores as a farm, above the
        communities it came from (see
        :func:`acctgraph.scoring.adopt_card_groups`). False turns this off.
    evidence_groups : bool, default=True
        Weigh the accounts that show a farm's behaviour themselves (IP
        rotation, spread over networks, volume), linked through the
        attributes mostly they hold, as one cluster, and report it so where
        it scores as a farm, above the communities it came from: a farm
        paying with a card of each account's own, scattered by Leiden over
        the households whose IPs its proxies resell (see
        :func:`acctgraph.scoring.adopt_evidence_groups`). False turns this off.
    attach_accounts : bool, default=True
        Move an account that is not flagged into a flagged cluster whose
        specific attributes it shares, where judged as that cluster's member
        it would be flagged: a farm account that Leiden left with the crowd
        whose busy IPs its proxies use (see
        :func:`acctgraph.scoring.attach_on_evidence`). False turns this off.
    max_attribute_degree : int, default=10_000
        Attributes shared by more accounts are left out of the graph (and
        reported): carrier NAT pools, cloud ASNs.
    specificity_exponent : float, default=0.5
        Edge weight ``(1 + ln count) * degree ** -specificity_exponent``.
    min_cluster_size : int, default=3
        Fewer accounts than this do not make a cluster.
    threshold : float, default=0.5
        Account score at which ``flagged`` is true.
    ip_kind, asn_kind, payment_kind : str
        Which attribute kinds play these roles in scoring.
    seed : int, default=0
        Seed of the Leiden runs.
    leiden_backend : {"igraph", "leidenalg"}, default="igraph"
        Leiden implementation (see :mod:`acctgraph.communities`).
    """

    resolution: float = 1.0
    coarse_factor: float | None = 0.2
    dense_blocks: int = 1
    split_blocks: bool = True
    card_groups: bool = True
    evidence_groups: bool = True
    attach_accounts: bool = True
    max_attribute_degree: int = 10_000
    specificity_exponent: float = 0.5
    min_cluster_size: int = 3
    threshold: float = 0.5
    ip_kind: str = "ip"
    asn_kind: str = "asn"
    payment_kind: str = "payment"
    seed: int = 0
    leiden_backend: str = "igraph"

    def __post_init__(self) -> None:
        _require(self.resolution, "resolution", "a float > 0", lambda v: _is_real(v) and v > 0)
        _require(
            self.coarse_factor,
            "coarse_factor",
            "None or a float in (0, 1)",
            lambda v: v is None or (_is_real(v) and 0 < v < 1),
        )
        _require(
            self.dense_blocks,
            "dense_blocks",
            "an int in [0, 100]",
            lambda v: _is_int(v) and 0 <= v <= 100,
        )
        _require(self.split_blocks, "split_blocks", "a bool", lambda v: isinstance(v, bool))
        _require(self.card_groups, "card_groups", "a bool", lambda v: isinstance(v, bool))
        _require(self.evidence_groups, "evidence_groups", "a bool", lambda v: isinstance(v, bool))
        _require(self.attach_accounts, "attach_accounts", "a bool", lambda v: isinstance(v, bool))
        _require(
            self.max_attribute_degree,
            "max_attribute_degree",
            "an int >= 2",
            lambda v: _is_int(v) and v >= 2,
        )
        _require(
            self.specificity_exponent,
            "specificity_exponent",
            "a float in [0, 2]",
            lambda v: _is_real(v) and 0 <= v <= 2,
        )
        _require(
            self.min_cluster_size,
            "min_cluster_size",
            "an int >= 2",
            lambda v: _is_int(v) and v >= 2,
        )
        _require(
            self.threshold, "threshold", "a float in [0, 1]", lambda v: _is_real(v) and 0 <= v <= 1
        )
        for name in ("ip_kind", "asn_kind", "payment_kind"):
            _require(
                getattr(self, name),
                name,
                "a non-empty string",
                lambda v: isinstance(v, str) and v.strip() != "",
            )
        _require(self.seed, "seed", "an int >= 0", lambda v: _is_int(v) and 0 <= v < 2**31)
        _require(
            self.leiden_backend,
            "leiden_backend",
            f"one of {LEIDEN_BACKENDS}",
            lambda v: v in LEIDEN_BACKENDS,
        )


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _require(value: object, name: str, expected: str, ok: Any) -> None:
    if not ok(value):
        raise ConfigError(f"{name} must be {expected}; got {value!r}")


def _resolve_seed(random_state: int | np.random.Generator | None) -> int:
    """Turn ``random_state`` into the one int seed every stage uses."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if _is_int(random_state) and 0 <= random_state < 2**31:  # type: ignore[operator]
        return int(random_state)  # type: ignore[arg-type]
    raise ConfigError(
        f"random_state must be an int in [0, 2**31), a numpy Generator or None; got {random_state!r}"
    )


def detect(
    events: TableLike,
    *,
    accounts: TableLike | None = None,
    attributes: Sequence[str] | Mapping[str, str] | None = None,
    account_attributes: Sequence[str] | Mapping[str, str] | None = None,
    ip_networks: TableLike | pd.Series | None = None,
    resolution: float = 1.0,
    coarse_factor: float | None = 0.2,
    dense_blocks: int = 1,
    split_blocks: bool = True,
    card_groups: bool = True,
    evidence_groups: bool = True,
    attach_accounts: bool = True,
    max_attribute_degree: int = 10_000,
    specificity_exponent: float = 0.5,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    ip_kind: str = "ip",
    asn_kind: str = "asn",
    payment_kind: str = "payment",
    leiden_backend: str = "igraph",
    pseudonymizer: Pseudonymizer | None = None,
    engine: str = "auto",
    memory_limit: str | None = None,
    n_jobs: int | None = None,
    random_state: int | np.random.Generator | None = 0,
    progress: bool | None = None,
) -> DetectionResult:
    """Find and score coordinated account farms.

    Parameters
    ----------
    events : DataFrame, pyarrow.Table, or path(s) to parquet/CSV files
        Long events ``account_id, kind, value[, ts][, count]``, or a wide log
        (one row per request) whose attribute columns ``attributes`` names.
    accounts : same types, optional
        ``account_id[, created_at]`` and other columns. Accounts only here are
        in the output too, unclustered.
    attributes : list of str or dict of column to kind, optional
        Attribute columns of a wide ``events`` log, e.g. ``["ip", "asn"]``.
    account_attributes : list of str or dict of column to kind, optional
        Attribute columns of ``accounts``, e.g. ``{"payment_fp": "payment"}``.
    ip_networks : DataFrame, pyarrow.Table, path(s) or Series, optional
        The IP-to-ASN lookup the ASNs came from: columns named ``ip_kind``
        and ``asn_kind``, or a Series of ASNs indexed by IP. With it, an
        account on a low-traffic IP inside the networks the flagged farms
        crowd into ranks higher below the threshold (never flagged for it;
        see :func:`acctgraph.networks.with_ip_networks`). A wide log with
        one column of each kind needs none: its rows place each IP in the
        ASN most of its accounts reached it through; a table given
        replaces that.
    resolution, coarse_factor, dense_blocks, split_blocks, card_groups,
    evidence_groups, attach_accounts, max_attribute_degree, specificity_exponent,
    min_cluster_size, threshold,
    ip_kind, asn_kind, payment_kind, leiden_backend
        See :class:`DetectConfig`.
    pseudonymizer : Pseudonymizer, optional
        Replace account ids and attribute values by keyed tokens at ingest,
        so the result, its exports and the logs hold no raw identifier.
    engine : {"auto", "pandas", "duckdb"}, default="auto"
        Ingest engine; ``"duckdb"`` reads event files out of core and gives
        the same result; ``"auto"`` is DuckDB for files where the duckdb
        package is installed, pandas otherwise (see
        :func:`acctgraph.ingest.load_links`). The provenance names the
        engine that read.
    memory_limit : str, optional
        Where DuckDB reads: its memory limit, e.g. ``"8GB"``; default 40% of
        physical memory, 60% while it groups the log.
    n_jobs : int, optional
        Processes that partition large components, and score the clusters
        of a large log, at once; default: every CPU this process may use.
        With two or more (and ``fork``), the dense blocks are peeled, and
        the card and evidence groups found, in a worker while the
        communities are found, and the communities for
        the split (:func:`acctgraph.scoring.peel_candidates`) in a worker
        while blocks are adopted and groups merged.
        The result is the same for any value (see
        :func:`acctgraph.communities.find_communities` and
        :func:`acctgraph.scoring.score_communities`). On platforms
        without ``fork`` the components' workers are spawned, which needs
        the calling script's work under ``if __name__ == "__main__":``, and
        the scoring runs in one process; ``n_jobs=1`` starts none.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the community search; None means 0, so runs repeat.
    progress : bool, optional
        Draw a progress bar over the stages on stderr. Default: only when
        stderr is a terminal or in Jupyter, unless ``$ACCTGRAPH_PROGRESS``
        says otherwise (see :mod:`acctgraph.progress`).

    Returns
    -------
    DetectionResult

    Raises
    ------
    SchemaError
        Missing columns or bad values, all listed at once.
    ConfigError
        A parameter out of range.
    InputFileError
        An input path cannot be read.

    Examples
    --------
    >>> import acctgraph as ag
    >>> world = ag.synth.make_world(2_000, seed=3)
    >>> result = ag.detect(world.events, accounts=world.accounts)
    >>> bool(result.clusters["score"].is_monotonic_decreasing)
    True
    """
    if engine not in ENGINES:  # before any reading: parameters are checked first
        raise ConfigError(f"engine must be one of {ENGINES}; got {engine!r}")
    check_n_jobs(n_jobs)
    config = DetectConfig(
        resolution=resolution,
        coarse_factor=coarse_factor,
        dense_blocks=dense_blocks,
        split_blocks=split_blocks,
        card_groups=card_groups,
        evidence_groups=evidence_groups,
        attach_accounts=attach_accounts,
        max_attribute_degree=max_attribute_degree,
        specificity_exponent=specificity_exponent,
        min_cluster_size=min_cluster_size,
        threshold=threshold,
        ip_kind=ip_kind,
        asn_kind=asn_kind,
        payment_kind=payment_kind,
        seed=_resolve_seed(random_state),
        leiden_backend=leiden_backend,
    )
    # The provenance names the engine that read, not "auto".
    engine = resolve_engine(engine, events, attributes)
    start = time.perf_counter()
    stages = StageProgress(list(STAGES), should_show(progress))
    try:
        result = _run_stages(
            stages,
            config,
            events,
            accounts,
            attributes,
            account_attributes,
            ip_networks,
            pseudonymizer,
            engine,
            memory_limit,
            n_jobs,
            random_state,
        )
    finally:
        stages.close()
    logger.info(
        "detect: %d accounts, %d clusters, %d flagged in %.2f s",
        len(result.accounts),
        len(result.clusters),
        int(result.accounts["flagged"].sum()),
        time.perf_counter() - start,
    )
    return result


def _run_stages(
    stages: StageProgress,
    config: DetectConfig,
    events: TableLike,
    accounts: TableLike | None,
    attributes: Any,
    account_attributes: Any,
    ip_networks: Any,
    pseudonymizer: Pseudonymizer | None,
    engine: str,
    memory_limit: str | None,
    n_jobs: int | None,
    random_state: object,
) -> DetectionResult:
    """ingest -> graph -> communities -> blocks -> scoring -> results, each a timed stage."""
    with stages.stage("ingest"):
        links = load_links(
            events,
            accounts=accounts,
            attributes=attributes,
            account_attributes=account_attributes,
            pseudonymizer=pseudonymizer,
            engine=engine,
            memory_limit=memory_limit,
            network_kinds=(config.ip_kind, config.asn_kind),
        )
        if ip_networks is not None:
            links = with_ip_networks(
                links,
                ip_networks,
                ip_kind=config.ip_kind,
                asn_kind=config.asn_kind,
                pseudonymizer=pseudonymizer,
            )
    stages.note(f"{links.n_links:,} links, {links.n_accounts:,} accounts")
    with stages.stage("graph"):
        graph = build_graph(
            links,
            max_attribute_degree=config.max_attribute_degree,
            specificity_exponent=config.specificity_exponent,
        )
    roles = KindRoles(ip=config.ip_kind, asn=config.asn_kind, payment=config.payment_kind)
    # Where footing counts, blocks that own none of their objects are passed
    # over when adopting, and spare ones take their place.
    with_spares = config.dense_blocks and footing_counts(links.kinds, roles)
    spare = SPARE_BLOCKS if with_spares else 0
    find = (
        graph,
        roles,
        config.dense_blocks + spare,
        config.min_cluster_size,
        config.card_groups,
        config.evidence_groups,
        EXACT_BELOW_NODES if spare else ROUNDS_ABOVE_NODES,
    )
    # The candidate clusters (dense blocks, card groups, evidence groups)
    # need only the graph, so they are found in a worker beside the
    # communities stage, whose Leiden on the largest component keeps one
    # core (at 1M accounts about 10 s of it, against about 2 s for the
    # candidates and the links' aggregates); the blocks stage is then the
    # wait for them.
    beside = (
        config.dense_blocks > 0 or config.card_groups or config.evidence_groups
    ) and _runs_beside(n_jobs)
    found_beside = start_in_worker(_find_candidates, *find) if beside else None
    with stages.stage("communities"):
        communities = find_communities(
            graph,
            resolution=config.resolution,
            min_cluster_size=config.min_cluster_size,
            seed=config.seed,
            backend=config.leiden_backend,
            coarse_resolution=None
            if config.coarse_factor is None
            else config.resolution * config.coarse_factor,
            n_jobs=n_jobs,
        )
    with stages.stage("blocks"):
        candidates = _find_candidates(*find) if found_beside is None else found_beside()
        graph.links.keep_computed(candidates.computed)
    with stages.stage("scoring"):
        # The split's peeling of Leiden's communities runs in a worker
        # beside the steps before the split, which keep one core; the split
        # then peels only the communities those steps changed (at 1M
        # accounts, the 1,039 it peels all but a few of). Not on graphs
        # whose communities the split peels in parallel itself (see
        # SPLIT_BESIDE_MAX_EDGES).
        peel_beside = (
            config.split_blocks
            and roles.ip in graph.links.kinds
            and graph.n_edges < SPLIT_BESIDE_MAX_EDGES
            and _runs_beside(n_jobs)
        )
        peel = (_peel_candidates, graph, communities)
        peel_settings = (config.threshold, max(10, config.min_cluster_size))
        # Where the scoring runs in one process, the peeling starts before
        # it, beside it, and peels every community large enough, the scores
        # that pick those the split weighs not being known yet: at 100,000
        # accounts the split then waited 0.02-0.03 s for it rather than
        # 0.10-0.12 s, the run taking 1.62-1.68 s against 1.71-1.80 s (12
        # runs each, taking turns). Where the scoring uses both cores (see
        # PARALLEL_MIN_LINKS; 1M accounts), after it, as the peeling there
        # takes as long as adopting and merging.
        early = peel_beside and graph.links.n_links < PARALLEL_MIN_LINKS
        peeled = start_in_worker(*peel, None, *peel_settings) if early else None
        scores = score_communities(graph, communities, roles=roles, n_jobs=n_jobs)
        if peel_beside and not early:
            peeled = start_in_worker(*peel, scores, *peel_settings)
        # Blocks first: a block carved out of Leiden's pieces is a group of
        # its own, so the coarse merge cannot dilute it again.
        communities, scores = adopt_dense_blocks(
            graph,
            communities,
            scores,
            candidates.blocks,
            prepared=candidates.prepared_blocks,
            roles=roles,
            min_cluster_size=config.min_cluster_size,
            threshold=config.threshold,
            n_blocks=config.dense_blocks,
            n_jobs=n_jobs,
        )
        communities, scores = merge_on_evidence(
            graph,
            communities,
            roles=roles,
            scores=scores,
            threshold=config.threshold,
            n_jobs=n_jobs,
        )
        if config.split_blocks:
            # Last: a block is cut from the clusters that would otherwise be
            # reported, merged groups included.
            communities, scores = split_on_evidence(
                graph,
                communities,
                scores,
                roles=roles,
                threshold=config.threshold,
                min_accounts=max(10, config.min_cluster_size),
                min_cluster_size=config.min_cluster_size,
                n_jobs=n_jobs,
                earlier=None if peeled is None else peeled(),
            )
        if config.card_groups:
            # After the merge and the splits: a group carved out first is a
            # group of its own, which the coarse merge cannot join again. A
            # 20-account farm's card group of 12 kept the merge from
            # reuniting that farm (few_proxies, 8,000 accounts, seed 1: F1
            # 0.961 run before the merge, 0.984 here, with cards of 10 or more
            # holders).
            communities, scores = adopt_card_groups(
                graph,
                communities,
                scores,
                roles=roles,
                threshold=config.threshold,
                min_cluster_size=config.min_cluster_size,
                groups=candidates.card_groups,
                group_scores=candidates.card_group_scores,
                n_jobs=n_jobs,
            )
        if config.evidence_groups:
            # After card groups, which take a farm's accounts on 2 IPs (whose
            # own evidence is short of the bar) with the rest of the farm.
            # The groups of each bar in turn, the strictest first, so that a
            # farm's weaker accounts do not dilute the group its stronger
            # ones make alone (see EVIDENCE_BARS).
            for bar, groups, group_scores in zip(
                EVIDENCE_BARS,
                candidates.evidence_groups,
                candidates.evidence_group_scores,
                strict=True,
            ):
                communities, scores = adopt_evidence_groups(
                    graph,
                    communities,
                    scores,
                    roles=roles,
                    threshold=config.threshold,
                    min_cluster_size=config.min_cluster_size,
                    bar=bar,
                    groups=groups,
                    group_scores=group_scores,
                    n_jobs=n_jobs,
                )
        if config.attach_accounts:
            # After every change of the clusters: it judges accounts against
            # the clusters that will be reported.
            communities, scores = attach_on_evidence(
                graph,
                communities,
                scores,
                roles=roles,
                threshold=config.threshold,
                min_cluster_size=config.min_cluster_size,
                n_jobs=n_jobs,
            )
    with stages.stage("results"):
        provenance = _provenance(config, links, random_state, engine)
        provenance["pseudonymization"] = (
            None
            if pseudonymizer is None
            else {"key_id": pseudonymizer.key_id, "clear_kinds": sorted(pseudonymizer.clear_kinds)}
        )
        result = build_result(
            graph,
            communities,
            scores,
            threshold=config.threshold,
            provenance=provenance,
            roles=roles,
        )
    provenance["timings_s"] = {k: round(v, 4) for k, v in stages.timings.items()}
    stages.note(
        f"{len(result.clusters):,} clusters, {int(result.accounts['flagged'].sum()):,} flagged"
    )
    return result


@dataclass(frozen=True)
class _Candidates:
    """Candidate clusters found from the graph alone, before the communities
    (each list empty where its step is off): the dense blocks as peeled and
    as weighed, the card groups with their scores alone, the evidence groups
    with theirs, one list of each per bar of :data:`EVIDENCE_BARS`; and the
    aggregates of the links computed meanwhile
    (:meth:`acctgraph.ingest.Links.computed`)."""

    blocks: list[DenseBlock]
    prepared_blocks: list[DenseBlock | None]
    card_groups: list[tuple[np.ndarray, np.ndarray]]
    card_group_scores: np.ndarray
    evidence_groups: list[list[tuple[np.ndarray, np.ndarray]]]
    evidence_group_scores: list[np.ndarray]
    computed: dict[str, Any]


def _find_candidates(
    graph: AttributeGraph,
    roles: KindRoles,
    n_blocks: int,
    min_cluster_size: int,
    card_groups: bool,
    evidence_groups: bool,
    exact_below: int = EXACT_BELOW_NODES,
) -> _Candidates:
    """The blocks stage: ``n_blocks`` dense blocks (:func:`find_dense_blocks`)
    as :func:`adopt_dense_blocks` weighs them (:func:`prepare_blocks`), and
    where their steps are on, the card groups and evidence groups that
    :func:`adopt_card_groups` and :func:`adopt_evidence_groups` weigh (the
    evidence groups at each bar of :data:`EVIDENCE_BARS`), each scored alone
    (:func:`score_groups`). ``exact_below``: the graph nodes up to which
    the blocks are peeled one node at a time (see ROUNDS_ABOVE_NODES).

    None of it needs the communities, and in a worker beside Leiden it costs
    the run nothing: at 1M accounts the blocks' trimming and growing took
    0.35 s of the scoring stage, and the groups' scores alone 0.39 s. Also
    computes the aggregates of the links that the scoring and the results
    read for every account, where the scoring stage took 0.4 s and the
    results 0.4 s to compute them.
    """
    min_accounts = max(10, min_cluster_size)
    # The rounds' densest set is refined one node at a time up to
    # EXACT_BELOW_NODES either way (see ROUNDS_ABOVE_NODES).
    blocks = find_dense_blocks(
        graph,
        n_blocks=n_blocks,
        min_accounts=min_accounts,
        exact_below=exact_below,
        refine_below=EXACT_BELOW_NODES,
    )
    prepared = prepare_blocks(graph, blocks, roles=roles, min_cluster_size=min_cluster_size)
    card = find_card_groups(graph, roles) if card_groups else []
    # Weighed only where the data has an IP kind (see adopt_evidence_groups).
    with_ips = evidence_groups and roles.ip in graph.links.kinds
    evidence = [[] for _ in EVIDENCE_BARS]
    if with_ips:
        # A group found at a stricter bar (the same accounts) is weighed
        # there alone, not twice.
        found = set()
        for i, bar in enumerate(EVIDENCE_BARS):
            for group in find_evidence_groups(graph, roles, bar=bar):
                if group[0].tobytes() not in found:
                    found.add(group[0].tobytes())
                    evidence[i].append(group)
    # In this process: a worker beside Leiden does not fork workers of its own.
    card_scores = score_groups(graph, card, roles=roles, n_jobs=1)
    evidence_scores = [score_groups(graph, groups, roles=roles, n_jobs=1) for groups in evidence]
    compute_aggregates(graph, roles)
    _ = graph.links.account_seen, graph.links.account_id_text
    return _Candidates(
        blocks, prepared, card, card_scores, evidence, evidence_scores, graph.links.computed()
    )


def _peel_candidates(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores | None,
    threshold: float,
    min_accounts: int,
) -> PeeledCandidates:
    """The split's peeling (:func:`peel_candidates`), in one process: it runs
    in a worker beside the scoring steps, which use the other cores.
    ``scores`` None: every community large enough, scored or not."""
    return peel_candidates(
        graph, communities, scores, threshold=threshold, min_accounts=min_accounts, n_jobs=1
    )


def _runs_beside(n_jobs: int | None) -> bool:
    """Whether the blocks stage (and the split's peeling) runs in a worker
    beside the communities stage (the scoring steps)."""
    return forked_processes(n_jobs) >= 2


@functools.cache
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    """The installed version of each package a result depends on (None:
    not installed), read once a process: reading them scans the package
    metadata, 8 ms of a 0.3 s run at 10,000 accounts."""
    versions = []
    for package in ("acctgraph", "numpy", "pandas", "scipy", "igraph", "leidenalg"):
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            versions.append((package, None))
    return tuple(versions)


def _provenance(config: DetectConfig, links, random_state: object, engine: str) -> dict[str, Any]:
    versions = dict(_package_versions())
    return {
        "parameters": asdict(config),
        "random_state": repr(random_state) if random_state is not None else None,
        "engine": engine,
        "versions": versions,
        "python": platform.python_version(),
        "input": {
            "n_event_rows": links.report.n_event_rows,
            "n_observations": links.report.n_observations,
            "n_accounts": links.n_accounts,
            "n_attributes": links.n_attributes,
            "n_links": links.n_links,
            "n_accounts_without_events": links.report.n_accounts_without_events,
            "n_duplicate_rows": links.report.n_duplicate_rows,
            "pseudonymized": links.report.pseudonymized,
            "n_empty_cells": dict(links.report.n_empty_cells),
            # IPs placed in a network, by a wide log's rows or the IP-to-ASN
            # table; None where neither placed any.
            "n_ips_placed": None
            if links.ip_network is None
            else int((links.ip_network >= 0).sum()),
        },
    }
