"""Results: the frames callers read, cluster evidence, provenance and export.

Output columns (public contract)
--------------------------------
``DetectionResult.accounts``, one row per account seen, sorted by ``account_id``:

===============  =========================================================
account_id       str
cluster_id       int64; -1 for an account in no cluster
score            float in [0, 1]: cluster score * sqrt(membership) *
                 fit ** 1.5 (fit itself where the data has no IP kind),
                 or 0.1 * own_behaviour * farm_networks where that is
                 more, twice that on a farm's creation day and twice
                 again on a farm's proxies or tied to a farm (farm_ties
                 >= 1), own_behaviour counted as 1 where tied twice
                 (which ranks the accounts below the default threshold,
                 never flags one at it; see "Below the flag bar" in
                 scoring.features); for an account paired with a farm,
                 threshold + (partner's score - threshold) *
                 own_behaviour, or the threshold where paired with
                 another account; for a day member, its cluster's score
                 * fit ** 1.5 (membership 1); the threshold where tied
                 to a farm twice or among strangers; above the threshold,
                 ties broken by own behaviour (moved towards it by at
                 most 1e-4 of the distance)
flagged          bool: ``score >= threshold``
membership       float in [0, 1]: how embedded the account is in its cluster
fit              float in [0, 1]: how much of its cluster's per-account
                 evidence (IP rotation, ASN spread, volume) it shows itself;
                 0 where it stands on a crowd's attribute (an office's
                 card) and on none the cluster's typical members hold,
                 sends under a tenth of the requests of the cluster's
                 median core member, or pays with cards no other member
                 uses where the cluster's core pools its cards (3
                 payers a card or more; "Paying apart from a card pool"
                 in scoring.features) (data with an IP kind)
own_behaviour    float in [0, 1]: the account's own volume and ASN spread,
                 whatever its cluster: sqrt of the product of their signals
farm_networks    float in [0, 1]: how much the flagged accounts use the
                 account's networks (ASNs), as a lift over chance capped
                 at 1; 1 without ASNs ("On the farms' networks" in
                 scoring.features)
farm_proxy       bool: on an IP of at most 3 holders inside a network
                 (ASN) where flagged accounts are at least 8 times as
                 common as among all accounts; False where the IPs'
                 networks are unknown (neither a wide log with IP and
                 ASN columns nor the IP-to-ASN table; "On a farm's
                 proxies" in scoring.features)
dedicated_proxy  bool: flagged at the threshold, not by its cluster, as
                 on such an IP in a network of busy exits whose small
                 IPs are the flagged accounts' (its accounts not flagged
                 send at most 30% of their links there to IPs of at most
                 3 holders; the flagged hold half the links to those or
                 more), with own_behaviour >= 0.3 ("On a proxy of its
                 own" in scoring.features)
farm_day         bool: created within 12 hours of the creations of the
                 flagged clusters' accounts, beyond chance (at least 2 of
                 them, 3 times what chance puts there)
farm_pair        bool: paired with a farm, so flagged: not flagged by its
                 cluster, it shares an IP of at most 3 holders with a
                 flagged account (by its cluster; or, judged once more
                 before the ties, by the rules beside the clusters),
                 was created on a farm's creation day
                 and its own_behaviour is at least 0.45 ("Paired with a
                 farm" in scoring.features); or it shares one with
                 another such account, both with farm_networks >= 0.9,
                 where the IPs are placed in a network of lift 1.5 or
                 more (scored at the threshold)
day_member       bool: a member of a flagged cluster created on a farm's
                 creation day, with own_behaviour >= 0.45 and fit >=
                 0.7, counted as a full member ("A member created with
                 its farm" in scoring.features)
farm_ties        int: IPs of at most 8 holders the account shares with
                 a flagged account other than itself (flagged by its
                 cluster or by the rules above)
tied_to_farm     bool: flagged at the threshold as tied to a farm twice:
                 not flagged otherwise, farm_ties >= 2 and own_behaviour
                 >= 0.2 ("Tied to a farm twice" in scoring.features)
stranger_groups  int: groups its IPs of 2 to 8 holders placed in a network
                 fall into, two in one group where another account holds
                 both or both are in one network; counted for the
                 accounts not flagged by then with own_behaviour >= 0.3
                 and farm_networks >= 0.9, 0 for the others and where no
                 IP is placed
ip_groups        int: the same groups counting the IPs it holds alone too
among_strangers  bool: flagged at the threshold as a residential proxy's
                 user is, on the small IPs of accounts unrelated to each
                 other: stranger_groups >= 2, or ip_groups >= 3 ("Among
                 strangers" in scoring.features)
footing          float in [0, 1]: share of its shared attributes that its
                 cluster owns (held by 3 or more accounts, 90% of them
                 members); part of ``fit`` only where the data has no IP kind
n_ips, n_asns    distinct IPs and ASNs the account used
activity         observations of its busiest attribute kind (requests)
created_at       from the accounts table, else its first observation
first_seen       its earliest and latest observation
last_seen
===============  =========================================================

``DetectionResult.clusters``, one row per cluster, ``cluster_id`` 0 first:

=====================  ===================================================
cluster_id             int64; ordered by score (desc), then n_accounts
                       (desc), then smallest account id
n_accounts, n_core     members; members in the core (membership >= 0.8,
                       or 0.5 without an IP kind; see scoring)
n_flagged              members flagged
score                  float in [0, 1]
<feature>              raw value of each score feature (see scoring)
contrib_<feature>      its contribution to the score's log-odds
footing                median footing of the core: what each member's
                       footing is compared with, and a score feature
                       where the data has no IP kind
shared_kinds           e.g. ``"ip=7204 payment=72 asn=45"``: shared
                       attributes per kind
dominant_kind          the kind whose shared attributes tie the cluster
                       most (sum of n_members * concentration)
top_attributes         the three most concentrated shared attributes,
                       ``"kind:value (members)"``
first_seen, last_seen  earliest and latest observation of its members
=====================  ===================================================

``DetectionResult.evidence``: one row per attribute shared by at least two
members of a cluster: ``cluster_id, kind, value, n_members, degree,
concentration, hub`` (``degree``: accounts linked to it overall;
``concentration = n_members / degree``, near 1 for the cluster's own
attributes; ``hub``: left out of the graph for its degree). Sorted by
cluster, then concentration and n_members, descending.

``DetectionResult.cluster_links``: the member-attribute links behind the
evidence: ``cluster_id, account_id, kind, value, count, first_seen,
last_seen``; at most 1,000,000 per cluster, to its most concentrated
attributes (how many were left out, per cluster, is in
``provenance["cluster_links_left_out"]``).

Its ``kind`` is a categorical (a byte per row, not a string);
:meth:`DetectionResult.explain` gives one cluster's links with plain strings.

``DetectionResult.timeline``: per cluster and UTC day,
``accounts_created``, ``links_first_seen`` and ``observations`` (dated by
their link's first sighting; exact for one-row-per-request logs).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .communities import Communities
from .exceptions import ConfigError, InputFileError, OutputError, UnknownClusterError
from .graph import AttributeGraph
from .ingest import DAY_NS, Links
from .scoring import FEATURE_WEIGHTS, Scores
from .scoring.features import (
    DAY_MEMBER_MIN_FIT,
    DAY_MEMBER_MIN_OWN,
    DAY_SELF_MIN_MEMBERSHIP,
    DEDICATED_MIN_OWN,
    FARM_DAY_LIFT,
    FARM_PROXY_LIFT,
    OWN_BEHAVIOUR_TOP,
    OWN_TIE_BREAK,
    PAIR_MIN_NETWORKS,
    PAIR_MIN_OWN,
    PAIR_ROUNDS,
    STRANGER_MIN_GROUPS,
    STRANGER_MIN_IP_GROUPS,
    STRANGER_MIN_OWN,
    TIED_MIN_IPS,
    TIED_MIN_OWN,
    TIED_RANK_MIN_IPS,
    KindRoles,
    created_on_farm_days,
    farm_creations,
    farm_ties,
    on_farm_network_ips,
    on_farm_networks,
    on_proxies,
    own_behaviour,
    paired_among,
    paired_with_farm,
    stranger_groups,
)
from .scoring.score import _fit_counted

if TYPE_CHECKING:  # plotting and export load matplotlib and networkx lazily
    import networkx as nx
    from matplotlib.axes import Axes

__all__ = ["ClusterExplanation", "DetectionResult", "build_result"]

_TOP_ATTRIBUTES = 3
# Most member-attribute links kept per cluster in cluster_links.
CLUSTER_LINKS_BUDGET = 1_000_000
_FRAMES = ("accounts", "clusters", "evidence", "cluster_links", "timeline", "hubs_dropped")


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class ClusterExplanation:
    """The evidence behind one cluster.

    Attributes
    ----------
    cluster_id : int
    score : float
    summary : Series
        The cluster's row of ``DetectionResult.clusters``.
    features : DataFrame
        One row per score feature: ``feature, value, weight, contribution``.
    members : DataFrame
        The member rows of ``DetectionResult.accounts``.
    shared_attributes : DataFrame
        Attributes shared by at least two members, most concentrated first.
    links : DataFrame
        Member-attribute links behind ``shared_attributes``.
    timeline : DataFrame
        Per day: accounts created, links first seen, observations.
    """

    cluster_id: int
    score: float
    summary: pd.Series
    features: pd.DataFrame
    members: pd.DataFrame
    shared_attributes: pd.DataFrame
    links: pd.DataFrame
    timeline: pd.DataFrame

    def __repr__(self) -> str:
        lines = [
            f"Cluster {self.cluster_id}: {len(self.members)} accounts, score {self.score:.3f}",
            "feature contributions (log-odds):",
        ]
        for row in self.features.itertuples():
            lines.append(f"  {row.feature:<17} value {row.value:>10.3g}   +{row.contribution:.2f}")
        by_kind = self.shared_attributes.groupby("kind").size()
        lines.append("shared attributes: " + ", ".join(f"{k}={n}" for k, n in by_kind.items()))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .report import cluster_html

        return cluster_html(self)

    def to_networkx(self) -> nx.Graph:
        """The cluster's bipartite account-attribute graph (see :func:`acctgraph.export.cluster_graph`)."""
        from .export import cluster_graph

        return cluster_graph(self.links, self.shared_attributes, self.members)

    def plot_breakdown(self, ax: Axes | None = None) -> Axes:
        """Bar chart of each feature's contribution to the score."""
        from .plots import plot_breakdown

        return plot_breakdown(self, ax=ax)

    def plot_graph(
        self, ax: Axes | None = None, *, max_accounts: int = 60, max_attributes: int = 60
    ) -> Axes:
        """The bipartite graph: accounts left, attributes right coloured by kind, hubs marked."""
        from .plots import plot_cluster_graph

        return plot_cluster_graph(
            self, ax=ax, max_accounts=max_accounts, max_attributes=max_attributes
        )

    def plot_timeline(self, ax: Axes | None = None) -> Axes:
        """Accounts created and observations per day."""
        from .plots import plot_timeline

        return plot_timeline(self, ax=ax)


@dataclass(frozen=True)
class DetectionResult:
    """Clusters, account scores and evidence of one detection run.

    Attributes
    ----------
    accounts, clusters, evidence, cluster_links, timeline : DataFrame
        See the module documentation for their columns.
    hubs_dropped : DataFrame
        Hub attributes left out of the graph, per kind.
    threshold : float
        Score at which accounts are flagged.
    provenance : dict
        acctgraph and dependency versions, parameters, seed, input sizes.
    unavailable_features : list of str
        Score features the input could not support.
    """

    accounts: pd.DataFrame
    clusters: pd.DataFrame
    evidence: pd.DataFrame
    hubs_dropped: pd.DataFrame
    threshold: float
    provenance: dict[str, Any] = field(repr=False)
    unavailable_features: list[str] = field(default_factory=list)
    cluster_links: pd.DataFrame = field(default_factory=_empty_frame, repr=False)
    timeline: pd.DataFrame = field(default_factory=_empty_frame, repr=False)

    @property
    def flagged_accounts(self) -> pd.DataFrame:
        """Rows of ``accounts`` flagged at the threshold, highest score first."""
        flagged = self.accounts[self.accounts["flagged"]]
        return flagged.sort_values(
            ["score", "account_id"], ascending=[False, True], ignore_index=True
        )

    def explain(self, cluster_id: int) -> ClusterExplanation:
        """Return the evidence behind one cluster.

        Parameters
        ----------
        cluster_id : int

        Returns
        -------
        ClusterExplanation

        Raises
        ------
        UnknownClusterError
            If no cluster has that id.
        """
        match = self.clusters[self.clusters["cluster_id"] == cluster_id]
        if match.empty:
            raise UnknownClusterError(
                f"no cluster {cluster_id!r}; ids run from 0 to {len(self.clusters) - 1}"
            )
        row = match.iloc[0]
        features = pd.DataFrame(
            {
                "feature": list(FEATURE_WEIGHTS),
                "value": [float(row[f]) for f in FEATURE_WEIGHTS],
                "weight": list(FEATURE_WEIGHTS.values()),
                "contribution": [float(row[f"contrib_{f}"]) for f in FEATURE_WEIGHTS],
            }
        )

        def rows_of(frame: pd.DataFrame) -> pd.DataFrame:
            if frame.empty:
                return frame
            return frame[frame["cluster_id"] == cluster_id].reset_index(drop=True)

        return ClusterExplanation(
            cluster_id=int(cluster_id),
            score=float(row["score"]),
            summary=row,
            features=features,
            members=rows_of(self.accounts),
            shared_attributes=rows_of(self.evidence),
            links=_categories_as_text(rows_of(self.cluster_links)),
            timeline=rows_of(self.timeline),
        )

    def cluster_graph(self, cluster_id: int) -> nx.Graph:
        """One cluster's bipartite account-attribute graph as networkx."""
        return self.explain(cluster_id).to_networkx()

    def export(
        self, path: str | os.PathLike[str], *, fmt: str = "graphml", cluster_id: int | None = None
    ) -> Path:
        """Write one cluster, or every cluster, as GraphML, GEXF (Gephi) or parquet.

        See :func:`acctgraph.export.export_graph`.
        """
        from .export import export_graph

        return export_graph(self, path, fmt=fmt, cluster_id=cluster_id)

    def plot_overview(self, ax: Axes | None = None) -> Axes:
        """Every cluster: score against size, coloured by dominant attribute kind."""
        from .plots import plot_overview

        return plot_overview(self, ax=ax)

    def summary(self, top: int = 10) -> str:
        """A plain-text table of the top clusters; it names no raw identifier."""
        head = self.clusters.head(top)
        n_flagged = int(self.accounts["flagged"].sum())
        lines = [
            f"{len(self.accounts)} accounts, {len(self.clusters)} clusters, "
            f"{n_flagged} accounts flagged at score >= {self.threshold}",
            f"{'cluster':>7} {'accounts':>8} {'flagged':>7} {'score':>6}  shared attributes",
        ]
        for row in head.itertuples():
            lines.append(
                f"{row.cluster_id:>7} {row.n_accounts:>8} {row.n_flagged:>7} {row.score:>6.3f}  {row.shared_kinds}"
            )
        if not self.hubs_dropped.empty:
            dropped = ", ".join(f"{r.n_dropped} {r.kind}" for r in self.hubs_dropped.itertuples())
            lines.append(f"hub attributes left out of the graph: {dropped}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"DetectionResult({len(self.accounts)} accounts, {len(self.clusters)} clusters, "
            f"{int(self.accounts['flagged'].sum())} flagged)"
        )

    def _repr_html_(self) -> str:
        from .report import result_html

        return result_html(self)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> DetectionResult:
        """Load a result written by :meth:`to_dir` (or ``acctgraph detect``).

        Raises
        ------
        InputFileError
            If the folder is not a results folder.
        """
        folder = Path(path)
        provenance_file = folder / "provenance.json"
        if not provenance_file.is_file():
            raise InputFileError(
                f"{str(folder)!r} is not an acctgraph results folder (no provenance.json)"
            )
        frames: dict[str, pd.DataFrame] = {}
        for name in _FRAMES:
            parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
            try:
                if parquet.exists():
                    frames[name] = pd.read_parquet(parquet)
                elif csv.exists():
                    frames[name] = pd.read_csv(csv)
                else:
                    raise InputFileError(f"results folder {str(folder)!r} lacks {name}.parquet")
            except InputFileError:
                raise
            except Exception as exc:
                raise InputFileError(f"cannot read {name} in {str(folder)!r}: {exc}") from exc
        provenance = json.loads(provenance_file.read_text())
        return cls(
            accounts=frames["accounts"],
            clusters=frames["clusters"],
            evidence=frames["evidence"],
            hubs_dropped=frames["hubs_dropped"],
            threshold=float(provenance["parameters"]["threshold"]),
            provenance=provenance,
            unavailable_features=list(provenance.get("unavailable_features", [])),
            cluster_links=frames["cluster_links"],
            timeline=frames["timeline"],
        )

    def to_dir(
        self, path: str | os.PathLike[str], *, fmt: str = "parquet", force: bool = False
    ) -> Path:
        """Write the result's frames and provenance to a folder, atomically.

        Everything is written to a temporary folder beside ``path`` and
        renamed into place at the end, so a failure leaves no partial output.

        Parameters
        ----------
        path : str or PathLike
        fmt : {"parquet", "csv"}, default="parquet"
        force : bool, default=False
            Replace ``path`` if it exists.

        Returns
        -------
        Path
            The folder written.

        Raises
        ------
        OutputError
            If ``path`` exists and ``force`` is false, or writing fails.
        """
        if fmt not in ("parquet", "csv"):
            raise ConfigError(f"fmt must be 'parquet' or 'csv'; got {fmt!r}")
        target = Path(path)
        check_output_dir(target, force=force)

        def write(tmp: Path) -> None:
            if fmt == "parquet":
                # The member links (4.6M rows at 1M accounts, 0.7 s) are
                # written in a thread beside the other frames (0.4 s):
                # Arrow encodes and compresses without the GIL.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    links = pool.submit(_write_parquet, self.cluster_links, tmp, "cluster_links")
                    for name in _FRAMES:
                        if name != "cluster_links":
                            _write_parquet(getattr(self, name), tmp, name)
                    links.result()
            else:
                for name in _FRAMES:
                    getattr(self, name).to_csv(tmp / f"{name}.csv", index=False)
            (tmp / "provenance.json").write_text(json.dumps(self.provenance, indent=2, default=str))

        write_atomically(target, write)
        return target


def _write_parquet(frame: pd.DataFrame, folder: Path, name: str) -> None:
    frame.to_parquet(folder / f"{name}.parquet", index=False)


def write_file_atomically(target: Path, write: Any) -> None:
    """Call ``write(tmp_file)``, then rename it to ``target``; on failure
    remove the temporary file and leave ``target`` as it was."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(target: Path, write: Any) -> None:
    """Call ``write(tmp_folder)``, then rename the folder to ``target``.

    Any failure removes the temporary folder and leaves ``target`` as it was;
    an existing ``target`` is replaced only after the new folder is complete.
    """
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write in {str(target.parent)!r}: {exc.strerror or exc}") from exc
    try:
        write(tmp)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"cannot write results to {str(target)!r}: {exc.strerror or exc}"
        ) from exc
    except Exception as exc:  # a frame the writer cannot serialise: still no partial output
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"cannot write results to {str(target)!r}: {type(exc).__name__}: {exc}"
        ) from exc
    except BaseException:  # KeyboardInterrupt and the like: clean up, then let it through
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_output_dir(target: Path, *, force: bool) -> None:
    """Refuse an existing output folder unless ``force``; require its parent."""
    if target.exists() and not force:
        raise OutputError(
            f"output folder {str(target)!r} exists; pass force=True (--force) to replace it"
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"output path {str(target)!r} exists and is not a folder")
    if not target.parent.is_dir():
        raise OutputError(f"parent folder of {str(target)!r} does not exist")
    if not os.access(target.parent, os.W_OK):
        raise OutputError(f"folder {str(target.parent)!r} is not writable")


def _judged_beside_clusters(
    links: Links, comm: np.ndarray, scores: Scores, *, threshold: float, roles: KindRoles
) -> dict[str, np.ndarray]:
    """Each account's final score, where the scoring's judgement by its
    cluster is not all: ``score``, ``own_behaviour``, ``farm_networks``,
    ``farm_proxy``, ``dedicated_proxy``, ``farm_day``, ``farm_pair``,
    ``day_member``, ``farm_ties``, ``tied_to_farm``, ``stranger_groups``,
    ``ip_groups`` and ``among_strangers`` (see "Below the flag bar" in
    :mod:`.scoring.features`, with "Created with a farm", "On the farms'
    networks", "On a farm's proxies", "On a proxy of its own", "Paired with
    a farm", "Paired with each other", "A member created with its farm",
    "Tied to a farm twice", "Among strangers" and "Ranked by its own
    behaviour"). Only here, after scoring's own steps have judged accounts
    by their clusters, and once: an account
    flagged here makes no farm day, pair or network for another; only the
    second pairing and the ties, judged last, count every account flagged
    before them.
    ``comm`` is each account's community (-1: none)."""
    af = scores.account_features
    own = own_behaviour(af["n_asns"].to_numpy(), af["activity"].to_numpy())
    by_cluster = af["score"].to_numpy()
    n_comm = len(scores.clusters)
    its_cluster = np.append(scores.clusters["score"].to_numpy(), 0.0)[
        np.where(comm >= 0, comm, n_comm)
    ]
    fit = af["fit"].to_numpy()
    # A farm's day counts its flagged accounts and the members of its
    # clusters that show its behaviour short of the bar: the latter crowd
    # the day too, and left out they raised only chance's count. A member
    # its cluster barely holds counts towards the others' days, not its own.
    counted = farm_creations(by_cluster, its_cluster, own, fit, threshold)
    weak = (by_cluster < threshold) & (af["membership"].to_numpy() < DAY_SELF_MIN_MEMBERSHIP)
    farm_day = created_on_farm_days(links.created_at, counted, by_others=counted & weak)
    # Below the bar: its own behaviour, counted twice on a farm's creation
    # day and less on networks the flagged accounts shun.
    networks = on_farm_networks(links, roles.asn, by_cluster >= threshold)
    # And more on a small IP inside the networks the flagged accounts crowd.
    proxy, dedicated = on_proxies(links, roles.ip, roles.asn, by_cluster >= threshold)
    lift = np.where(farm_day, FARM_DAY_LIFT, 1.0) * np.where(proxy, FARM_PROXY_LIFT, 1.0)
    score = np.maximum(by_cluster, OWN_BEHAVIOUR_TOP * own * lift * networks)
    # Flagged with the farm it pairs with: up from the bar towards that
    # farm account's score, as far as its own behaviour goes.
    partner = paired_with_farm(links, roles.ip, by_cluster, threshold)
    farm_pair = (partner > 0) & farm_day & (own >= PAIR_MIN_OWN)
    score[farm_pair] = np.maximum(
        score[farm_pair], threshold + (partner[farm_pair] - threshold) * own[farm_pair]
    )
    # Or paired with each other, each showing a farm's behaviour on the
    # farms' networks: flagged at the bar, under every account vouched for.
    # Where the IPs are placed, on an IP of a network the farms crowd (a
    # family's home IP in a large ISP is not one).
    showing = (by_cluster < threshold) & farm_day & (own >= PAIR_MIN_OWN)
    farm_ips = on_farm_network_ips(links, roles.ip, roles.asn, by_cluster >= threshold)
    each_other = paired_among(links, roles.ip, showing & (networks >= PAIR_MIN_NETWORKS), farm_ips)
    score[each_other] = np.maximum(score[each_other], threshold)
    farm_pair |= each_other
    # Or on a small IP of its own among a network's busy exits, whose small
    # IPs are the flagged accounts': flagged at the bar too.
    dedicated &= (by_cluster < threshold) & (own >= DEDICATED_MIN_OWN)
    score[dedicated] = np.maximum(score[dedicated], threshold)
    # A member of a flagged cluster created on a farm's day, showing the
    # farm's behaviour itself, counts as a full member (membership 1).
    day_member = (
        (its_cluster >= threshold)
        & (by_cluster < threshold)
        & farm_day
        & (own >= DAY_MEMBER_MIN_OWN)
        & (fit >= DAY_MEMBER_MIN_FIT)
    )
    with_ips = roles.ip in set(links.kinds)
    score[day_member] = np.maximum(
        score[day_member], its_cluster[day_member] * _fit_counted(fit[day_member], with_ips)
    )
    # Or rotating over the small IPs of accounts unrelated to each other,
    # as a residential proxy's user does over the homes it resells (or over
    # more networks' IPs, counting those it holds alone), with a farm's
    # behaviour on the farms' networks: flagged at the bar.
    judged = (score < threshold) & (own >= STRANGER_MIN_OWN) & (networks >= PAIR_MIN_NETWORKS)
    strangers, ip_groups = stranger_groups(links, roles.ip, judged)
    among_strangers = (strangers >= STRANGER_MIN_GROUPS) | (ip_groups >= STRANGER_MIN_IP_GROUPS)
    score[among_strangers] = threshold
    # Paired once more, the accounts flagged beside their clusters above
    # now partners too: a farm account whose proxy IP's other farm account
    # was flagged on a proxy of its own, say.
    if PAIR_ROUNDS > 1:
        late_partner = paired_with_farm(links, roles.ip, score, threshold)
        late_pair = (late_partner > 0) & farm_day & (own >= PAIR_MIN_OWN)
        score[late_pair] = np.maximum(
            score[late_pair], threshold + (late_partner[late_pair] - threshold) * own[late_pair]
        )
        farm_pair |= late_pair
    # Last, tied to the accounts flagged by now (by their clusters or the
    # rules above) through two small IPs or more, with some of a farm's
    # behaviour itself: flagged at the bar.
    ties = farm_ties(links, roles.ip, score >= threshold)
    tied = (ties >= TIED_MIN_IPS) & (score < threshold) & (own >= TIED_MIN_OWN)
    score[tied] = threshold
    # Below the bar, tied to a farm once counts as being on its proxies;
    # tied twice but short of the own bar (one network at a household's
    # volume), its own behaviour counts as a farm's in full, still under
    # the bar. (On a farm's proxies already, tied once adds nothing.)
    lift = np.where(farm_day, FARM_DAY_LIFT, 1.0) * FARM_PROXY_LIFT
    counted = np.where(ties >= TIED_MIN_IPS, 1.0, own)
    below = (score < threshold) & (ties >= TIED_RANK_MIN_IPS)
    score[below] = np.maximum(score[below], (OWN_BEHAVIOUR_TOP * counted * lift * networks)[below])
    # Flagged accounts a cluster scores alike are ranked by their own
    # behaviour: each moves towards the bar by up to OWN_TIE_BREAK of its
    # distance from it, less the more it shows, never onto it. (Below the
    # bar the scores are their own behaviour's already.)
    above = score > threshold
    shrink = 1.0 - OWN_TIE_BREAK * (1.0 - own[above])
    score[above] = threshold + (score[above] - threshold) * shrink
    return {
        "score": score,
        "own_behaviour": own,
        "farm_networks": networks,
        "farm_proxy": proxy,
        "dedicated_proxy": dedicated,
        "farm_day": farm_day,
        "farm_pair": farm_pair,
        "day_member": day_member,
        "farm_ties": ties,
        "tied_to_farm": tied,
        "stranger_groups": strangers,
        "ip_groups": ip_groups,
        "among_strangers": among_strangers,
    }


def build_result(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    threshold: float,
    provenance: dict[str, Any],
    roles: KindRoles | None = None,
) -> DetectionResult:
    """Assemble the public frames, numbering clusters deterministically.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
    threshold : float
    provenance : dict
    roles : KindRoles, optional
        Which kinds are the IP, ASN and payment kinds (the defaults' names).

    Returns
    -------
    DetectionResult
    """
    links = graph.links
    comm = communities.account_community
    n_comm = communities.n_communities
    clusters = scores.clusters

    # Cluster ids by score, then size, then smallest account id (accounts are
    # coded in sorted id order, so the smallest code is the smallest id).
    smallest = np.full(n_comm, np.iinfo(np.int64).max)
    members = comm >= 0
    np.minimum.at(smallest, comm[members], np.flatnonzero(members))
    order = np.lexsort(
        (smallest, -clusters["n_accounts"].to_numpy(), -clusters["score"].to_numpy())
    )
    cluster_id = np.empty(n_comm, dtype=np.int64)
    cluster_id[order] = np.arange(n_comm)
    account_cluster = np.append(cluster_id, -1)[np.where(members, comm, n_comm)]

    # The timeline needs only each account's cluster: counted in a thread
    # beside the frames below (numpy's sorts and pandas' hashing of integers
    # release the GIL).
    pool = ThreadPoolExecutor(max_workers=1)
    timeline = pool.submit(_timeline, links, account_cluster)
    pool.shutdown(wait=False)

    af = scores.account_features
    judged = _judged_beside_clusters(
        links, comm, scores, threshold=threshold, roles=roles or KindRoles()
    )
    score = judged.pop("score")
    first_seen, last_seen = links.account_seen
    # Converted once, for the accounts frame and cluster_links.
    account_text = links.account_id_text
    accounts = pd.DataFrame(
        {
            "account_id": pd.array(account_text, dtype="str"),
            "cluster_id": account_cluster.astype(np.int64),
            "score": score,
            "flagged": score >= threshold,
            "membership": af["membership"].to_numpy(),
            "fit": af["fit"].to_numpy(),
            **judged,
            "footing": af["footing"].to_numpy(),
            "n_ips": af["n_ips"].to_numpy(dtype=np.int64),
            "n_asns": af["n_asns"].to_numpy(dtype=np.int64),
            "activity": af["activity"].to_numpy(dtype=np.int64),
            "created_at": links.created_at,
            "first_seen": first_seen,
            "last_seen": last_seen,
        }
    )
    # The frame holds its own copies (a block per dtype): the judged arrays
    # are let go before the pipeline's peak below.
    del judged, score

    truncated: dict[int, int] = {}
    cluster_links, evidence = _cluster_links_and_evidence(
        graph, account_cluster, account_text, truncated
    )
    # Rows in cluster-id order, so every per-cluster array below lines up.
    out = clusters.iloc[order].reset_index(drop=True)
    out.insert(0, "cluster_id", np.arange(n_comm, dtype=np.int64))
    flagged_cluster = account_cluster[accounts["flagged"].to_numpy()]
    n_flagged = np.bincount(flagged_cluster[flagged_cluster >= 0], minlength=n_comm)
    out.insert(3, "n_flagged", n_flagged.astype(np.int64))
    out["shared_kinds"] = _shared_kinds(evidence, n_comm)
    out["dominant_kind"] = _dominant_kind(evidence, n_comm)
    out["top_attributes"] = _top_attributes(evidence, n_comm)
    # A cluster's range is the range of its members' ranges. (Three
    # columns taken before the rows: a mask over the whole frame copied its
    # every column, 210 MiB at 10M accounts, at the pipeline's peak.)
    seen = (
        accounts[["cluster_id", "first_seen", "last_seen"]]
        .loc[lambda members: members["cluster_id"] >= 0]
        .groupby("cluster_id")
        .agg(first=("first_seen", "min"), last=("last_seen", "max"))
        .reindex(range(n_comm))
    )
    out["first_seen"] = seen["first"].to_numpy(dtype="datetime64[ns]")
    out["last_seen"] = seen["last"].to_numpy(dtype="datetime64[ns]")

    provenance["unavailable_features"] = list(scores.unavailable)
    provenance["cluster_links_left_out"] = {str(c): n for c, n in sorted(truncated.items())}
    return DetectionResult(
        accounts=accounts,
        clusters=out,
        evidence=evidence,
        hubs_dropped=graph.hubs_dropped.reset_index(drop=True),
        threshold=threshold,
        provenance=provenance,
        unavailable_features=list(scores.unavailable),
        cluster_links=cluster_links,
        timeline=timeline.result(),
    )


# Links counted at once per (cluster, attribute) or (cluster, day) key.
# Hashing every member link at once held the pipeline's peak memory at 10M
# accounts (three int64 arrays and a hash table over 60M links); a chunk at
# a time, only the chunk's keys and the distinct keys so far are held.
_CHUNK = 1 << 20
# At most 255: _shared_pairs numbers a link's range in one byte.
_MAX_RANGES = 16


def _sum_by_key(
    parts: Iterable[tuple[np.ndarray, Sequence[np.ndarray | int]]], n_sums: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys, sorted, and per key the sums of ``n_sums`` values.

    ``parts`` yields ``(key, values)``: an int64 key per row and ``n_sums``
    values per row, each an array or a number that every row carries.
    Returns the keys and an int64 array of shape (n_keys, n_sums).
    """
    keys, sums = [np.zeros(0, dtype=np.int64)], [np.zeros((0, n_sums), dtype=np.int64)]

    def merge() -> None:
        distinct, code = np.unique(np.concatenate(keys), return_inverse=True)
        merged = _column_sums(code.ravel(), np.concatenate(sums).T, len(distinct))
        keys[:], sums[:] = [distinct], [merged]

    pending = 0
    for key, values in parts:
        code, distinct = pd.factorize(key)  # hashing: the chunk's rows in any order
        keys.append(distinct)
        sums.append(_column_sums(code, values, len(distinct)))
        pending += len(distinct)
        # Merged whenever the chunks' keys outnumber the merged ones: the
        # pile stays within twice the distinct keys plus a chunk.
        if pending > max(_CHUNK, len(keys[0])):
            merge()
            pending = 0
    merge()
    return keys[0], sums[0]


def _column_sums(code: np.ndarray, values: Iterable[np.ndarray | int], n: int) -> np.ndarray:
    """Per code ``0..n-1``, the sum of each value over the rows with that code."""
    rows = np.bincount(code, minlength=n)
    columns = [
        rows * value
        if np.isscalar(value)
        # bincount sums in float64, exact below 2**53 observations.
        else np.bincount(code, weights=value, minlength=n).astype(np.int64)
        for value in values
    ]
    return np.column_stack(columns).astype(np.int64, copy=False)


def _shared_pairs(
    links, degree: np.ndarray, account_cluster: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cluster, attribute) pairs with two or more member links, and those links.

    Returns the pairs' keys ``cluster * n_attributes + attribute``, sorted,
    each pair's number of member accounts, and the codes of the pairs' links,
    sorted. Links are taken a range of attributes at a time: every link of a
    pair falls in the same range, so pairs of one member (most pairs) are
    dropped range by range instead of being held for every member link at
    once. Each range costs a scan of the links, so ranges hold at least
    ``_CHUNK`` links and there are at most ``_MAX_RANGES``.
    """
    n_attr = links.n_attributes
    step = max(_CHUNK, -(-links.n_links // _MAX_RANGES))
    # Attribute ranges of about ``step`` links each, by degree.
    bounds = np.searchsorted(np.cumsum(degree), np.arange(step, links.n_links, step))
    bounds = np.unique(np.r_[0, bounds, n_attr])
    # Each link's range, one byte per link: finding a range's links then
    # scans bytes, where comparing every attribute code with both ends of
    # every range took 4-5 s at 10M accounts (16 ranges over 63M links).
    range_of_link = np.repeat(np.arange(len(bounds) - 1, dtype=np.uint8), np.diff(bounds))[
        links.attribute
    ]
    keys, sizes, shared = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for r in range(len(bounds) - 1):
        index = np.flatnonzero(range_of_link == r)
        cluster = account_cluster[links.account[index]]
        inside = cluster >= 0
        index = index[inside]
        code, distinct = pd.factorize(cluster[inside] * n_attr + links.attribute[index])
        n_members = np.bincount(code)
        keys.append(distinct[n_members >= 2])
        sizes.append(n_members[n_members >= 2])
        shared.append(index[n_members[code] >= 2])
    keys, sizes = np.concatenate(keys), np.concatenate(sizes)
    order = np.argsort(keys)
    return keys[order], sizes[order], np.sort(np.concatenate(shared))


def _within_link_budget(
    cluster: np.ndarray,
    attribute: np.ndarray,
    n_members: np.ndarray,
    degree: np.ndarray,
    truncated: dict[int, int],
) -> np.ndarray | None:
    """Mask of shared (cluster, attribute) pairs whose links ``cluster_links``
    keeps: per cluster, links to its most concentrated attributes, up to
    ``CLUSTER_LINKS_BUDGET`` links; None where every cluster is within it.

    ``cluster_links`` backs plots and graph exports; 1,000 accounts sharing
    the same 100,000 attributes would otherwise make it a 100-million-row
    frame. Evidence keeps every shared attribute. Clusters cut short are
    recorded in ``truncated`` (cluster id -> links left out) and in
    provenance.
    """
    if len(cluster) == 0:
        return None
    # A cluster's shared links number the sum of n_members over its pairs.
    over_budget = np.bincount(cluster, weights=n_members) > CLUSTER_LINKS_BUDGET
    if not over_budget.any():
        return None
    heads = np.flatnonzero(over_budget[cluster])
    c, a, n = cluster[heads], attribute[heads], n_members[heads]
    conc = n / degree[heads]
    order = np.lexsort((a, -n, -conc, c))
    c, n, heads = c[order], n[order], heads[order]
    within = pd.Series(n).groupby(c).cumsum().to_numpy()
    over = within > CLUSTER_LINKS_BUDGET
    left_out = np.bincount(c[over], weights=n[over])
    truncated.update({int(k): int(left_out[k]) for k in np.unique(c[over])})
    keep = np.ones(len(cluster), dtype=bool)
    keep[heads[over]] = False
    return keep


def _cluster_links_and_evidence(
    graph: AttributeGraph,
    account_cluster: np.ndarray,
    account_text: pa.Array,
    truncated: dict[int, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links of cluster members to attributes at least two members share, and
    one evidence row per such (cluster, attribute), hubs included and marked.

    Pairs are counted a range of attributes at a time (see
    :func:`_shared_pairs`).
    """
    links = graph.links
    pair_key, n_members, shared = _shared_pairs(links, graph.degree, account_cluster)
    pair_cluster, pair_attr = np.divmod(pair_key, links.n_attributes)
    pair_degree = graph.degree[pair_attr].astype(np.int64)
    keep_pair = _within_link_budget(pair_cluster, pair_attr, n_members, pair_degree, truncated)
    shared_cluster = account_cluster[links.account[shared]]
    if keep_pair is not None:
        # Only links of clusters cut short are looked up, and only among the
        # pairs left out: searching every shared link among every pair took
        # 7.5 s at 10M accounts.
        left_out = pair_key[~keep_pair]
        cut = np.zeros(int(pair_cluster.max()) + 1, dtype=bool)
        cut[pair_cluster[~keep_pair]] = True
        candidate = np.flatnonzero(cut[shared_cluster])
        key = shared_cluster[candidate] * links.n_attributes + links.attribute[shared[candidate]]
        position = np.minimum(np.searchsorted(left_out, key), len(left_out) - 1)
        keep = np.ones(len(shared), dtype=bool)
        keep[candidate[left_out[position] == key]] = False
        shared, shared_cluster = shared[keep], shared_cluster[keep]
        del candidate, key, position, keep
    # Rows by cluster, then account id, then (kind, value). Account codes
    # follow sorted account ids and attribute codes sorted (kind, value), and
    # links come sorted by (account, attribute), so one stable sort by
    # cluster gives that order (a three-key lexsort took 3x as long).
    order = np.argsort(shared_cluster, kind="stable")
    kept, kept_cluster = shared[order], shared_cluster[order]
    del order, shared, shared_cluster
    kept_attr = links.attribute[kept]
    # Only the attributes that some kept link or evidence row names go to
    # Arrow, once for both frames, rather than every attribute twice.
    used = np.zeros(links.n_attributes, dtype=bool)
    used[kept_attr] = True
    used[pair_attr] = True
    position = np.cumsum(used, dtype=np.int64) - 1
    used_attr = np.flatnonzero(used)
    del used
    values_text = pa.array(links.attribute_values[used_attr], type=pa.large_string())
    cluster_links = pd.DataFrame(
        {
            "cluster_id": kept_cluster.astype(np.int64),
            "account_id": _take_text(account_text, links.account[kept]),
            "kind": _kind_category(links, kept_attr),
            "value": _take_text(values_text, position[kept_attr]),
            "count": links.count[kept],
            "first_seen": links.first_seen[kept],
            "last_seen": links.last_seen[kept],
        },
        # Every column is a new array: copying them into blocks by dtype
        # would only hold a second frame's worth of memory for a moment.
        copy=False,
    )

    # The cluster's own attributes (a card only its members use) first, busy
    # ones it merely passes through (a residential ASN) last; ties in
    # (kind, value) order, which the attribute code follows.
    order = np.lexsort((pair_attr, -n_members, -(n_members / pair_degree), pair_cluster))
    attr = pair_attr[order]
    kinds_text = pa.array(links.attribute_kinds[used_attr], type=pa.large_string())
    evidence = pd.DataFrame(
        {
            "cluster_id": pair_cluster[order],
            "kind": _take_text(kinds_text, position[attr]),
            "value": _take_text(values_text, position[attr]),
            "n_members": n_members[order],
            "degree": pair_degree[order],
            # Shared but left out of the graph: only hubs are.
            "hub": ~graph.in_graph[attr],
        },
        copy=False,
    )
    evidence.insert(5, "concentration", evidence["n_members"] / evidence["degree"])
    return cluster_links, evidence


# A day as its count from 2**17 days before the epoch: datetime64[ns] reaches
# 106,752 days either side of the epoch, so every day fits in 18 bits and
# (cluster, day) packs into one int64 that sorts by cluster, then day.
_DAY_BITS = 18
_DAY_OFFSET = 1 << (_DAY_BITS - 1)


def _timeline(links, account_cluster: np.ndarray) -> pd.DataFrame:
    """Per cluster and UTC day: accounts created, links first seen and the
    observations they carry (dated by their link's first sighting).

    Counted a chunk at a time (see ``_CHUNK``), by hashing whole days as
    integers: pandas group-bys over floored timestamps took 2 s at 1M
    accounts.
    """

    def cell(cluster: np.ndarray, times: np.ndarray) -> np.ndarray:
        return (cluster << _DAY_BITS) | (_day(times) + _DAY_OFFSET)

    def parts() -> Iterator[tuple[np.ndarray, Sequence[np.ndarray | int]]]:
        members = np.flatnonzero(account_cluster >= 0)
        members = members[~np.isnat(links.created_at[members])]
        for start in range(0, len(members), _CHUNK):
            chunk = members[start : start + _CHUNK]
            yield cell(account_cluster[chunk], links.created_at[chunk]), (1, 0, 0)
        for start in range(0, links.n_links, _CHUNK):
            part = slice(start, start + _CHUNK)
            cluster = account_cluster[links.account[part]]
            first_seen = links.first_seen[part]
            seen = np.flatnonzero((cluster >= 0) & ~np.isnat(first_seen))
            yield cell(cluster[seen], first_seen[seen]), (0, 1, links.count[part][seen])

    key, sums = _sum_by_key(parts(), 3)
    # Sorted keys are in (cluster, day) order.
    return pd.DataFrame(
        {
            "cluster_id": key >> _DAY_BITS,
            "day": (((key & ((1 << _DAY_BITS) - 1)) - _DAY_OFFSET) * DAY_NS).astype(
                "datetime64[ns]"
            ),
            "accounts_created": sums[:, 0],
            "links_first_seen": sums[:, 1],
            "observations": sums[:, 2],
        }
    )


def _day(times: np.ndarray) -> np.ndarray:
    """UTC days since the epoch, rounded down, of naive UTC timestamps."""
    return times.astype("datetime64[ns]").astype(np.int64) // DAY_NS


def _shared_kinds(evidence: pd.DataFrame, n_comm: int) -> list[str]:
    """``"ip=7204 payment=72 asn=45"``: shared attributes per kind, most first."""
    counts = evidence.groupby(["cluster_id", "kind"]).size().rename("n").reset_index()
    counts = counts.sort_values(["cluster_id", "n", "kind"], ascending=[True, False, True])
    text = counts["kind"] + "=" + counts["n"].astype(str)
    return _join_per_cluster(counts["cluster_id"].to_numpy(), text.to_numpy(), n_comm, " ")


def _dominant_kind(evidence: pd.DataFrame, n_comm: int) -> list[str]:
    """The kind whose shared attributes tie the cluster together most: each
    attribute weighs ``n_members * concentration``, so a card only the
    members use counts fully and a busy ASN they pass through barely."""
    text = [""] * n_comm
    if evidence.empty:
        return text
    tie = evidence.assign(tie=evidence["n_members"] * evidence["concentration"])
    weight = tie.groupby(["cluster_id", "kind"])["tie"].sum().reset_index()
    weight = weight.sort_values(["cluster_id", "tie", "kind"], ascending=[True, False, True])
    for row in weight.drop_duplicates("cluster_id").itertuples():
        text[int(row.cluster_id)] = row.kind
    return text


def _top_attributes(evidence: pd.DataFrame, n_comm: int) -> list[str]:
    top = evidence.groupby("cluster_id", sort=True).head(_TOP_ATTRIBUTES)
    text = top["kind"] + ":" + top["value"] + " (" + top["n_members"].astype(str) + ")"
    return _join_per_cluster(top["cluster_id"].to_numpy(), text.to_numpy(), n_comm, "; ")


def _take_text(values: pa.Array, codes: np.ndarray) -> pd.arrays.ArrowStringArray:
    """``values[codes]`` as a string column, gathered by Arrow from the
    distinct values (a Python string per row costs 7x as much)."""
    return pd.array(values.take(codes), dtype="str")


def _categories_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns as plain strings (one cluster's
    rows: small, and joined to text by plots and exports)."""
    text = {c: frame[c].astype("str") for c in frame.columns if frame[c].dtype == "category"}
    return frame.assign(**text) if text else frame


def _kind_category(links, attribute: np.ndarray) -> pd.Categorical:
    """The kinds of ``attribute`` codes as a categorical over the kinds present.

    Attributes are numbered in ``(kind, value)`` order, so each kind is one
    range of codes and a search over the ranges' starts gives the kind, with
    no string per link: at 10M accounts (44M links) ``cluster_links`` took
    3,491 MiB with the kind as strings, 3,082 MiB with one-byte codes.
    """
    kinds = links.kinds
    starts = np.array([links.kind_range(kind)[0] for kind in kinds], dtype=np.int64)
    codes = np.searchsorted(starts, attribute, side="right") - 1
    return pd.Categorical.from_codes(codes, categories=pd.Index(kinds, dtype="str"))


def _join_per_cluster(cluster: np.ndarray, text: np.ndarray, n_comm: int, sep: str) -> list[str]:
    """Join ``text`` per cluster, in row order; rows grouped by cluster (a plain
    loop over slices: pandas' per-group ``agg`` costs a Series per cluster)."""
    out = [""] * n_comm
    if len(cluster) == 0:
        return out
    bounds = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1], True])
    pieces = text.tolist()
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        out[int(cluster[start])] = sep.join(pieces[start:stop])
    return out
