"""Export: clusters as networkx graphs, GraphML and GEXF (for Gephi), or parquet.

The graph of a cluster is bipartite. Account nodes are named
``account:<account_id>`` and carry ``bipartite=0``, ``type="account"``,
``score``, ``flagged``, ``membership``, ``cluster_id``; attribute nodes are
named ``<kind>:<value>`` and carry ``bipartite=1``, ``type="attribute"``,
``kind``, ``value``, ``n_members``, ``degree``, ``hub``. Edges carry
``count`` and ``first_seen`` / ``last_seen`` as ISO-8601 text (GraphML and
GEXF have no time type). Values are plain Python types so every writer
accepts them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import pandas as pd

from .exceptions import ConfigError, OutputError
from .results import write_atomically, write_file_atomically

if TYPE_CHECKING:
    from .results import DetectionResult

__all__ = ["EXPORT_FORMATS", "cluster_graph", "export_graph"]

EXPORT_FORMATS = ("graphml", "gexf", "parquet")


def _iso(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).isoformat()


def cluster_graph(
    links: pd.DataFrame, shared_attributes: pd.DataFrame, members: pd.DataFrame
) -> nx.Graph:
    """Build the bipartite graph of one or more clusters.

    Parameters
    ----------
    links : DataFrame
        Rows of ``DetectionResult.cluster_links``.
    shared_attributes : DataFrame
        Rows of ``DetectionResult.evidence``.
    members : DataFrame
        Rows of ``DetectionResult.accounts``.

    Returns
    -------
    networkx.Graph
    """
    graph = nx.Graph()
    for row in members.itertuples(index=False):
        graph.add_node(
            f"account:{row.account_id}",
            bipartite=0,
            type="account",
            label=str(row.account_id),
            cluster_id=int(row.cluster_id),
            score=float(row.score),
            flagged=bool(row.flagged),
            membership=float(row.membership),
        )
    for row in shared_attributes.itertuples(index=False):
        graph.add_node(
            f"{row.kind}:{row.value}",
            bipartite=1,
            type="attribute",
            label=f"{row.kind}:{row.value}",
            kind=str(row.kind),
            value=str(row.value),
            n_members=int(row.n_members),
            degree=int(row.degree),
            hub=bool(row.hub),
        )
    for row in links.itertuples(index=False):
        graph.add_edge(
            f"account:{row.account_id}",
            f"{row.kind}:{row.value}",
            count=int(row.count),
            first_seen=_iso(row.first_seen),
            last_seen=_iso(row.last_seen),
        )
    return graph


def export_graph(
    result: DetectionResult,
    path: str | os.PathLike[str],
    *,
    fmt: str = "graphml",
    cluster_id: int | None = None,
) -> Path:
    """Write one cluster (or all clusters) to a file or folder, atomically.

    Parameters
    ----------
    result : DetectionResult
    path : str or PathLike
        A file for ``graphml`` and ``gexf``; a folder for ``parquet`` (members,
        shared attributes and links of the cluster, or the whole result).
    fmt : {"graphml", "gexf", "parquet"}, default="graphml"
    cluster_id : int, optional
        The cluster to write; all clusters when omitted.

    Returns
    -------
    Path
    """
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"fmt must be one of {EXPORT_FORMATS}; got {fmt!r}")
    target = Path(path)
    if cluster_id is None:
        members = result.accounts[result.accounts["cluster_id"] >= 0]
        shared, links = result.evidence, result.cluster_links
    else:
        explanation = result.explain(cluster_id)
        members, shared, links = (
            explanation.members,
            explanation.shared_attributes,
            explanation.links,
        )

    if fmt == "parquet":
        if cluster_id is None:
            return result.to_dir(target, force=True)

        def write_folder(tmp: Path) -> None:
            members.to_parquet(tmp / "members.parquet", index=False)
            shared.to_parquet(tmp / "shared_attributes.parquet", index=False)
            links.to_parquet(tmp / "links.parquet", index=False)

        if not target.parent.is_dir():
            raise OutputError(f"parent folder of {str(target)!r} does not exist")
        write_atomically(target, write_folder)
        return target

    # One attribute may be shared inside several clusters: keep one node for
    # it, with the largest n_members, so the union graph stays simple.
    shared = shared.sort_values("n_members", ascending=False).drop_duplicates(["kind", "value"])
    graph = cluster_graph(links, shared, members)
    writer = nx.write_graphml if fmt == "graphml" else nx.write_gexf
    write_file_atomically(target, lambda tmp: writer(graph, tmp))
    return target
