"""Scoring communities: the cluster features of :mod:`.features` and the
footing rules of :mod:`.footing_rules` put together, for every community and
account at once, in worker processes where the graph is large.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..communities import Communities, same_communities
from ..graph import AttributeGraph
from ..parallel import check_n_jobs, forked_processes, run_in_parts
from . import features, footing_rules
from .features import (
    _LINEAR_SQUASH,
    _LOG_SQUASH,
    FEATURE_WEIGHTS,
    KindRoles,
    _block_density,
    _creation_burst,
    _fit,
    _group_median,
    _group_weighted_median,
    _MemberLinks,
    _own_evidence,
    _payment_sharing,
    _population_activity,
    _signal,
    _synchrony,
    core_membership,
    effective_bias,
    footing_counts,
)
from .footing_rules import (
    _as_its_members,
    _held_by_holders,
    _owned_attribute,
    _owned_beyond_chance,
    _vouched_footing,
)

__all__ = ["PARALLEL_MIN_LINKS", "Scores", "score_communities"]

logger = logging.getLogger(__name__)

# Links of the communities' members from which a scoring is split between
# processes (see score_communities): about 1 s of scoring at 1M accounts. At
# 10M accounts, with the bar at 2M links, rescoring the clusters that
# adopting a block or attaching accounts changed took longer in two
# processes than in one (4.6 -> 5.8 s, 2.1 -> 2.8 s): forking a process that
# holds the whole graph has its cost too.
PARALLEL_MIN_LINKS = 5_000_000


@dataclass(frozen=True)
class Scores:
    """Scores of every community and account.

    Attributes
    ----------
    clusters : DataFrame
        Indexed by community; ``n_accounts``, ``n_core``, ``score``, the raw
        features, and ``contrib_<feature>`` for each feature.
    account_features : DataFrame
        One row per account: ``n_ips``, ``n_asns``, ``activity``,
        ``shared_weight``, ``footing``, ``membership``, ``fit``, ``score``.
    unavailable : list of str
        Features whose attribute kind or timestamps are absent.
    """

    clusters: pd.DataFrame
    account_features: pd.DataFrame
    unavailable: list[str]


def score_communities(
    graph: AttributeGraph,
    communities: Communities,
    *,
    roles: KindRoles | None = None,
    n_jobs: int | None = None,
) -> Scores:
    """Compute features, scores and contributions for every community.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    roles : KindRoles, optional
        Which kinds are IPs, ASNs and payments; default ``ip``, ``asn``,
        ``payment``.
    n_jobs : int, optional
        Processes that score at once; default: every CPU this process may
        use. Where the members hold :data:`PARALLEL_MIN_LINKS` links or more
        and the platform forks, the communities are split into that many
        parts of about equal links, each scored in its own process. A
        community's features come from its own members and attribute nodes
        (see :func:`_rescore`), so the scores are the same for any value.

    Returns
    -------
    Scores
    """
    check_n_jobs(n_jobs)
    roles = roles or KindRoles()
    part = _scoring_parts(graph, communities, n_jobs)
    if part is None:
        return _score(graph, communities, roles)
    return _score_in_parts(graph, communities, roles, part)


def compute_aggregates(graph: AttributeGraph, roles: KindRoles) -> None:
    """Compute (and cache on ``graph``) the aggregates of the links that
    every scoring reads for every account: requests, IPs and ASNs per
    account, IP links first seen per hour, accounts created per day."""
    links = graph.links
    _ = links.activity, links.account_starts, links.created_per_day, graph.edge_mask
    for kind in (roles.ip, roles.asn):
        links.attributes_per_account(kind)
    links.shared_attributes_per_account(roles.ip)
    links.first_seen_per_hour(roles.ip)


def _scoring_parts(
    graph: AttributeGraph, communities: Communities, n_jobs: int | None
) -> np.ndarray | None:
    """Each community's part (``0 .. k-1``, in label order, about equal links
    per part) for scoring in ``k`` processes; None where one process scores."""
    workers = forked_processes(n_jobs)
    if workers < 2 or communities.n_communities < 2:
        return None
    comm = communities.account_community
    members = np.flatnonzero(comm >= 0)
    links_per_account = np.diff(graph.links.account_starts)
    links_per_community = np.bincount(
        comm[members], weights=links_per_account[members], minlength=communities.n_communities
    )
    total = links_per_community.sum()
    if total < PARALLEL_MIN_LINKS:
        return None
    before = np.cumsum(links_per_community) - links_per_community
    part = np.minimum((before * workers / total).astype(np.int64), workers - 1)
    return part if part.max() > 0 else None


def _score_in_parts(
    graph: AttributeGraph, communities: Communities, roles: KindRoles, part: np.ndarray
) -> Scores:
    """:func:`score_communities`, each part of the communities scored in its
    own process (:func:`acctgraph.parallel.run_in_parts`)."""
    n_parts = int(part.max()) + 1
    # Computed once here rather than once per process: each worker would
    # otherwise compute them again.
    compute_aggregates(graph, roles)
    logger.info("scoring: %d communities in %d processes", communities.n_communities, n_parts)
    parts = run_in_parts(_score_part, n_parts, graph, communities, roles, part)
    pieces = [
        (labels, scores.clusters, rows, scores.account_features) for labels, scores, rows in parts
    ]
    return _assembled(communities.n_communities, parts[0][1], pieces)


def _score_part(
    i: int, graph: AttributeGraph, communities: Communities, roles: KindRoles, part: np.ndarray
) -> tuple[np.ndarray, Scores, np.ndarray | None]:
    """Part ``i``'s labels, scores and members (None for part 0: every
    account's row is kept, as the base the other parts are written into)."""
    labels = np.flatnonzero(part == i)
    subset = _subset_communities(communities, labels)
    scores = _score(graph, subset, roles)
    if i == 0:
        return labels, scores, None
    # Only the part's members' rows go back to the caller's process.
    rows = np.flatnonzero(subset.account_community >= 0)
    return labels, replace(scores, account_features=scores.account_features.iloc[rows]), rows


def _subset_communities(communities: Communities, labels: np.ndarray) -> Communities:
    """The communities ``labels`` (sorted) alone, renumbered ``0 ..``; every
    other account and attribute node in none."""
    remap = np.full(communities.n_communities + 1, -1, dtype=np.int64)
    remap[labels] = np.arange(len(labels))
    # Label -1 reads the last slot, which stays -1.
    return Communities(
        account_community=remap[communities.account_community],
        attribute_community=remap[communities.attribute_community],
        n_communities=len(labels),
        n_components=communities.n_components,
    )


def _assembled(n_communities: int, base: Scores, pieces: list[tuple]) -> Scores:
    """Scores of ``n_communities`` communities from ``base`` (a scoring whose
    every account row is kept unless a piece replaces it) and ``pieces``:
    ``(labels, their cluster rows, account rows or None, those rows'
    features)``."""
    columns = {name: values.to_numpy(copy=True) for name, values in base.account_features.items()}
    rows = []
    for labels, clusters, accounts, piece_features in pieces:
        rows.append(clusters.set_axis(labels))
        if accounts is None:
            continue
        for name, values in columns.items():
            values[accounts] = piece_features[name].to_numpy()
    clusters = pd.concat(rows).sort_index()
    clusters.index = pd.RangeIndex(n_communities, name="community")
    return Scores(
        clusters=clusters,
        account_features=pd.DataFrame(columns),
        unavailable=base.unavailable,
    )


def _score(graph: AttributeGraph, communities: Communities, roles: KindRoles) -> Scores:
    """The body of :func:`score_communities`, in this process."""
    links = graph.links
    n_acc, n_attr = links.n_accounts, links.n_attributes
    comm = communities.account_community
    n_comm = communities.n_communities
    present = set(links.kinds)
    with_ips = roles.ip in present
    # In the cluster score and in each account's fit.
    with_footing = footing_counts(links.kinds, roles)

    n_ips = links.attributes_per_account(roles.ip)
    n_asns = links.attributes_per_account(roles.asn)
    activity = links.activity

    # Every feature below reads the members of communities and their links
    # only: rescoring the few communities a carving or a merge changed, or a
    # part of them in a worker, then reads theirs, not the whole log's
    # (about 20 s per rescoring at 10M accounts).
    member = np.flatnonzero(comm >= 0)
    member_comm = comm[member]
    member_links = _MemberLinks.of(graph, member)

    # Members of the same community sharing each attribute, per link.
    link_comm = comm[member_links.account]
    link_attribute = member_links.attribute
    edge = member_links.member_edge
    # Where the attribute node is in the member's own community (most
    # links), the (community, attribute) pair is the attribute alone and a
    # bincount counts it; only the other links are hashed (hashing every
    # pair took 5 s per call at 10M accounts, and sorting is slower still).
    at_home = edge & (communities.attribute_community[link_attribute] == link_comm)
    other = edge & ~at_home
    link_shared = np.zeros(len(link_comm), dtype=np.int64)
    home_attribute = link_attribute[at_home]
    link_shared[at_home] = np.bincount(home_attribute, minlength=n_attr)[home_attribute]
    other_pair, _ = pd.factorize(link_comm[other] * n_attr + link_attribute[other])
    link_shared[other] = np.bincount(other_pair)[other_pair]
    shared = np.flatnonzero(link_shared >= 2)
    # Over shared links only: the power over every link took 1-2 s at 10M accounts.
    shared_degree = graph.degree[member_links.attribute[shared]]
    specificity = shared_degree.astype(float) ** -features._OVERLAP_EXPONENT
    shared_weight = np.bincount(
        member_links.account[shared], weights=specificity, minlength=n_acc
    ).astype(float, copy=False)  # bincount gives int64 where nothing is shared
    # An owned attribute is shared by at least 3 members, so only the shared
    # links are read, not every edge of the members again.
    owned = shared[_owned_attribute(link_shared[shared], shared_degree)]
    n_owned = np.bincount(member_links.account[owned], minlength=n_acc)
    footing = np.zeros(n_acc)
    footing[member] = n_owned[member] / np.maximum(graph.account_edges[member], 1)

    member_shared = shared_weight[member]
    median_shared = _group_weighted_median(member_shared, member_comm, n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        membership = np.clip(member_shared / (0.5 * median_shared[member_comm]), 0.0, 1.0)
    membership = np.nan_to_num(membership, nan=0.0)
    in_core = membership >= core_membership(with_ips)
    # Over every account: the features below index it by their links' accounts.
    core = np.zeros(n_acc, dtype=bool)
    core[member[in_core]] = True
    core_comm = member_comm[in_core]

    n_accounts = np.bincount(member_comm, minlength=n_comm)
    n_core = np.bincount(core_comm, minlength=n_comm)

    raw = pd.DataFrame(index=pd.RangeIndex(n_comm, name="community"))
    raw["ip_rotation"] = _group_median(n_ips[core], core_comm, n_comm)
    raw["asn_spread"] = _group_median(n_asns[core], core_comm, n_comm)
    raw["specific_overlap"] = _group_median(shared_weight[core], core_comm, n_comm)
    raw["payment_sharing"] = _payment_sharing(
        member_links, roles.payment, core, comm, n_comm, features.hub_payments(graph, roles.payment)
    )
    raw["creation_burst"] = _creation_burst(
        links.created_at, core, comm, n_comm, n_core, links.created_per_day
    )
    raw["synchrony"] = _synchrony(member_links, roles.ip, core, comm, n_comm, n_core)
    population_activity = _population_activity(activity)
    raw["volume"] = _group_median(activity[core], core_comm, n_comm) / population_activity
    raw["size"] = n_core.astype(float)
    # Without IPs, only the edges to attributes the community owns (see
    # :mod:`.footing_rules`): a group of real users is dense on objects others rate too.
    to_owned = None
    if with_footing and footing_rules.DENSITY_ON_OWNED:
        to_owned = np.zeros(len(link_comm), dtype=bool)
        to_owned[owned] = True
    raw["density"] = _block_density(
        graph, member_links, communities, core, n_comm, n_core, counted=to_owned
    )
    raw["cohesion"] = n_core / np.maximum(n_accounts, 1)
    # Share of the core that shows a farm's behaviour on its own (see
    # "showing" in .features); its kind lacking, the feature is unavailable.
    # Read on the core alone, in account order as core_comm is.
    own_core = _own_evidence(n_ips[core], n_asns[core], activity[core], population_activity)
    shows = features.shown_evidence(own_core, features.without_their_kind(present, roles))
    n_showing = np.bincount(core_comm, weights=shows >= features.SHOWING_BAR, minlength=n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw["showing"] = np.nan_to_num(n_showing / n_core, nan=0.0)
    # Also what each member's footing is compared with (_fit).
    raw["footing"] = _group_median(footing[core], core_comm, n_comm)
    # Like footing, a feature only where the data has no IP kind.
    raw["owned"] = (
        _owned_beyond_chance(graph, comm, n_comm, link_comm[owned], link_attribute[owned])
        if with_footing
        else 0.0
    )

    signal = pd.DataFrame(index=raw.index)
    for feature in FEATURE_WEIGHTS:
        if feature in _LOG_SQUASH:
            signal[feature] = _signal(raw[feature], *_LOG_SQUASH[feature])
        elif feature in _LINEAR_SQUASH:
            low, high = _LINEAR_SQUASH[feature]
            signal[feature] = np.clip((raw[feature].to_numpy() - low) / (high - low), 0, 1)
        elif feature == "synchrony":
            signal[feature] = np.clip(raw[feature].to_numpy() / features._SYNCHRONY_FULL, 0, 1)
        else:
            signal[feature] = np.clip(raw[feature].to_numpy(), 0, 1)

    # The core owns the objects a wide periphery also holds where the
    # community holds every holder: footing speaks for an operator's block
    # only as far as the community is its core.
    signal["footing"] *= signal["cohesion"]
    # A community holding most of the accounts owns most attributes whatever
    # it is (its members are most of their holders); Leiden's communities are
    # built around shared attributes, so beyond what chance gives too.
    account_share = n_accounts / max(n_acc, 1)
    signal["owned"] *= signal["cohesion"] * np.clip(
        (footing_rules.OWNED_NONE_SHARE - account_share)
        / (footing_rules.OWNED_NONE_SHARE - footing_rules.OWNED_FULL_SHARE),
        0.0,
        1.0,
    )

    unavailable = features.without_their_kind(present, roles)
    if np.isnat(links.created_at).all():
        unavailable.append("creation_burst")
    if not with_ips or np.isnat(links.first_seen).all():
        unavailable.append("synchrony")
    if not with_ips:
        # Without IPs e(a) is volume alone, which active background users show too.
        unavailable.append("showing")
    if not with_footing:
        unavailable += ["footing", "owned"]
    for feature in unavailable:
        signal[feature] = 0.0

    contrib = signal * pd.Series(FEATURE_WEIGHTS)
    logit = effective_bias(unavailable) + contrib.sum(axis=1)
    cluster_score = 1.0 / (1.0 + np.exp(-logit.to_numpy()))

    clusters = raw.copy()
    clusters.insert(0, "n_accounts", n_accounts)
    clusters.insert(1, "n_core", n_core)
    clusters.insert(2, "score", cluster_score)
    for feature in FEATURE_WEIGHTS:
        clusters[f"contrib_{feature}"] = contrib[feature]

    if with_ips:
        # Full members however little they share (see "On the cluster's own
        # IPs" in .features); the core and the cluster features stay as they are.
        own_ips = _on_own_ips(
            graph,
            member_links.account[shared],
            link_attribute[shared],
            shared_degree,
            link_shared[shared],
            core,
            roles.ip,
        ) & features.sends_its_volume(activity, raw["volume"].to_numpy(), comm, population_activity)
        membership = np.where(own_ips[member], 1.0, membership)
    fit_raw = raw
    if with_footing:
        # Fit compares vouched footing, each owned attribute counting as much
        # as its holders stand on owned attributes themselves (see :mod:`.footing_rules`).
        vouched = _vouched_footing(
            footing,
            member_links.account[owned],
            link_comm[owned] * n_attr + link_attribute[owned],
            graph.account_edges,
        )
        fit_raw = raw.assign(footing=_group_median(vouched[core], core_comm, n_comm))
    # Without an IP kind the rest of fit is volume alone.
    own = _own_evidence(
        n_ips[member],
        n_asns[member],
        activity[member],
        population_activity,
        vouched[member] if with_footing else None,
    )
    fit = _fit(own, signal, fit_raw, member_comm, unavailable)
    if with_footing:
        # Standing on the cluster's own attributes as much as its median
        # member does, on them for at least half its edges and on at least
        # two of them: a member in full, however few its edges (see
        # :mod:`.footing_rules`).
        median_footing = raw["footing"].to_numpy()[member_comm]
        full = (footing[member] >= np.maximum(median_footing, footing_rules.FULL_FOOTING)) & (
            n_owned[member] >= footing_rules.FULL_FOOTING_MIN_OWNED
        )
        membership = np.where(full, 1.0, membership)
        fit = np.where(full, 1.0, fit)
    typical = np.zeros(n_acc, dtype=bool)
    typical[member] = np.sqrt(membership) * fit >= footing_rules.TYPICAL_MEMBER
    # Typical members holding each shared link's attribute, counted as
    # link_shared is (hashing only links outside their attribute's community).
    link_typical = np.zeros(len(link_comm))
    is_typical = typical[member_links.account]
    link_typical[at_home] = np.bincount(
        home_attribute, weights=is_typical[at_home], minlength=n_attr
    )[home_attribute]
    link_typical[other] = np.bincount(other_pair, weights=is_typical[other])[other_pair]
    held_links = (
        member_links.account[owned],
        is_typical[owned],
        link_typical[owned],
        graph.degree[link_attribute[owned]],
    )
    if with_footing:
        # Standing on the attributes that the cluster's typical members hold,
        # as much as they do: a member in full, however many other edges it
        # has (a hijacked account's own history; see :mod:`.footing_rules`).
        # Held with 4 others for standing on them, with 3 for holding none.
        n_held, n_shared = _held_by_holders(
            *held_links, (footing_rules.HELD_MIN_OTHERS, footing_rules.APART_MIN_OTHERS), n_acc
        )
        stands = _as_its_members(
            n_held[member],
            graph.account_edges[member],
            _group_median(n_held[typical], comm[typical], n_comm)[member_comm],
        )
        # Holding none of the attributes the typical members hold, where the
        # core's median member holds some, a member is not one of them
        # (see :mod:`.footing_rules`): a real user that camouflage pulled in.
        apart = (n_shared[member] == 0) & (
            _group_median(n_shared[core], core_comm, n_comm)[member_comm] > 0
        )
        fit = np.where(apart & ~full, 0.0, fit)
        membership = np.where(stands, 1.0, membership)
        fit = np.where(stands, 1.0, fit)
    else:
        # With IPs, only one rule of footing: a member standing on a crowd's
        # attribute (an office's card, pulled into a farm's community) and
        # on none that the typical members hold is not one of them (see
        # "With an IP kind" in :mod:`.footing_rules`).
        (n_shared,) = _held_by_holders(*held_links, (footing_rules.APART_MIN_OTHERS,), n_acc)
        n_crowd = _crowd_held(
            member_links.account[shared],
            ~is_typical[shared],
            link_shared[shared],
            link_shared[shared] - link_typical[shared],
            shared_degree,
            n_acc,
        )
        apart = (
            (n_shared[member] == 0)
            & (n_crowd[member] > 0)
            & (_group_median(n_shared[core], core_comm, n_comm)[member_comm] > 0)
        )
        fit = np.where(apart, 0.0, fit)
    if with_ips:
        # Paying with a card of its own beside a pool of cards, a member is
        # not one of the pool's payers (see "Paying apart from a card pool"
        # in .features).
        if roles.payment in present:
            # Over the shared links only (a mask over every member link is
            # a pass over the whole log at 10M accounts).
            start, stop = links.kind_range(roles.payment)
            shared_attribute = member_links.attribute[shared]
            shared_card = shared[(shared_attribute >= start) & (shared_attribute < stop)]
            shares_a_card = np.bincount(member_links.account[shared_card], minlength=n_acc)
            apart_card = features.pays_apart(
                features.card_payers(graph, roles.payment)[member],
                shares_a_card[member] > 0,
                raw["payment_sharing"].to_numpy()[member_comm],
            )
            fit = np.where(apart_card, 0.0, fit)
        # Under a tenth of its cluster's median member's requests, a member
        # does not do the farm's work (see "Account score" in .features).
        fit = features.volume_barred_fit(
            fit, activity[member], raw["volume"].to_numpy(), member_comm, population_activity
        )
    account_score = cluster_score[member_comm] * np.sqrt(membership) * _fit_counted(fit, with_ips)

    def every_account(values: np.ndarray) -> np.ndarray:
        """The members' values, 0 for every other account."""
        out = np.zeros(n_acc)
        out[member] = values
        return out

    account_features = pd.DataFrame(
        {
            "n_ips": n_ips,
            "n_asns": n_asns,
            "activity": activity,
            "shared_weight": shared_weight,
            "footing": footing,
            "membership": every_account(membership),
            "fit": every_account(fit),
            "score": every_account(account_score),
        }
    )
    return Scores(
        clusters=clusters,
        account_features=account_features,
        unavailable=unavailable,
    )


def _rescore(
    graph: AttributeGraph,
    communities: Communities,
    known: list[tuple[Communities, Scores]],
    roles: KindRoles | None,
    n_jobs: int | None = None,
) -> Scores:
    """``score_communities(graph, communities)``, computed only for the
    communities not found, with the same accounts and attribute nodes, in
    ``known`` (partitions already scored); the others' rows are copied.

    Every feature of a community is computed from its own members and
    attribute nodes alone (population medians are over all accounts), so a
    copied row is the row a full scoring gives; ``tests/test_scoring.py``
    checks this. Carving a block or merging a few groups changes a handful of
    communities, and scoring the whole partition again took 2.5 s at 1M
    accounts.
    """
    n = communities.n_communities
    account = communities.account_community
    members = np.flatnonzero(account >= 0)
    source = np.full(n, -1)
    source_label = np.full(n, -1)
    for i, (old, _) in enumerate(known):
        earlier = same_communities(communities, old)
        found = (source < 0) & (earlier >= 0)
        source[found] = i
        source_label[found] = earlier[found]
    fresh_labels = np.flatnonzero(source < 0)
    subset = _subset_communities(communities, fresh_labels)
    fresh = score_communities(graph, subset, roles=roles, n_jobs=n_jobs)
    pieces = [(fresh_labels, fresh.clusters, None, None)]
    for i, (_, old_scores) in enumerate(known):
        labels = np.flatnonzero(source == i)
        if len(labels) == 0:
            continue
        copied = members[source[account[members]] == i]
        pieces.append(
            (
                labels,
                old_scores.clusters.iloc[source_label[labels]],
                copied,
                old_scores.account_features.iloc[copied],
            )
        )
    return _assembled(n, fresh, pieces)


def _on_own_ips(
    graph: AttributeGraph,
    account: np.ndarray,
    attribute: np.ndarray,
    degree: np.ndarray,
    n_holders: np.ndarray,
    core: np.ndarray,
    ip_kind: str,
) -> np.ndarray:
    """For each account, whether every IP it shares with another account is
    held by members of its community alone, and one of them by 2 or more
    others, most of them in the ``core`` (per account).

    Per shared member link (an attribute that 2 or more members of the
    account's community hold): its ``account``, ``attribute``, the
    attribute's ``degree`` and the members holding it (``n_holders``). A
    hub IP, not a graph edge, is never among them, so never the
    community's alone.
    """
    links = graph.links
    start, stop = links.kind_range(ip_kind)
    own = np.flatnonzero((attribute >= start) & (attribute < stop) & (n_holders == degree))
    account, attribute, degree = account[own], attribute[own], degree[own]
    wide = np.flatnonzero(degree >= 3)
    # An IP held by members alone has all its holders' links here.
    holder_core = core[account[wide]]
    core_holders = np.bincount(attribute[wide], weights=holder_core, minlength=links.n_attributes)[
        attribute[wide]
    ]
    mostly_core = 2 * (core_holders - holder_core) > degree[wide] - 1
    result = np.zeros(links.n_accounts, dtype=bool)
    result[account[wide[mostly_core]]] = True
    # Every shared IP its own: as many as it shares with anyone.
    n_own = np.bincount(account, minlength=links.n_accounts)
    return result & (n_own == links.shared_attributes_per_account(ip_kind))


def _crowd_held(
    account: np.ndarray,
    untypical: np.ndarray,
    n_holders: np.ndarray,
    n_untypical: np.ndarray,
    degree: np.ndarray,
    n_accounts: int,
) -> np.ndarray:
    """For each of ``n_accounts`` accounts, how many of its shared links go
    to a crowd's attribute: at least
    :data:`~.footing_rules.CROWD_IN_COMMUNITY` of its holders in the
    community, at least :data:`~.footing_rules.APART_MIN_OTHERS` other
    member holders, at least :data:`~.footing_rules.HELD_SHARE` of them
    untypical.

    Per link: its ``account``, whether that account is ``untypical``, the
    members of the community holding its attribute (``n_holders``, of them
    ``n_untypical`` untypical) and the attribute's ``degree``.
    """
    member_others = n_holders - 1
    untypical_others = n_untypical - untypical
    crowd = (
        (member_others >= footing_rules.APART_MIN_OTHERS)
        & (untypical_others >= footing_rules.HELD_SHARE * member_others)
        & (n_holders >= footing_rules.CROWD_IN_COMMUNITY * degree)
    )
    return np.bincount(account[crowd], minlength=n_accounts)


def _fit_counted(fit: np.ndarray, has_ip_kind: bool) -> np.ndarray:
    """``fit`` as the account score counts it: to :data:`.FIT_EXPONENT`
    where the data has an IP kind, as it is otherwise (see "Account score"
    in :mod:`.features`)."""
    return fit**features.FIT_EXPONENT if has_ip_kind else fit
