"""Plots: matplotlib pictures of a result and of one cluster.

Every function takes an optional ``ax`` and returns the ``Axes`` it drew on,
so callers can restyle or compose them. Without ``ax`` a new
:class:`matplotlib.figure.Figure` is made directly (not through ``pyplot``),
so pipelines that plot many clusters do not accumulate open figures; in
Jupyter, ``ax.figure`` displays inline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .results import ClusterExplanation, DetectionResult

__all__ = [
    "kind_colour",
    "plot_breakdown",
    "plot_cluster_graph",
    "plot_overview",
    "plot_timeline",
]

# Fixed colours for the kinds acctgraph knows, so every plot of every run
# colours an IP the same; other kinds take the remaining palette in order.
_KNOWN = {"ip": "#1f77b4", "asn": "#ff7f0e", "payment": "#2ca02c", "device": "#9467bd"}
_OTHERS = ["#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728"]
_MAX_HUBS_SHOWN = 10
FLAGGED_COLOUR = "#d62728"
UNFLAGGED_COLOUR = "#9e9e9e"


def kind_colour(kind: str) -> str:
    """The colour of an attribute kind in every acctgraph plot."""
    if kind in _KNOWN:
        return _KNOWN[kind]
    return _OTHERS[sum(map(ord, kind)) % len(_OTHERS)]


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def plot_overview(result: DetectionResult, ax: Axes | None = None) -> Axes:
    """Score against size for every cluster, coloured by dominant attribute kind."""
    ax = _new_axes(ax, (7, 4.5))
    clusters = result.clusters
    for kind, part in clusters.groupby("dominant_kind", sort=True):
        ax.scatter(
            part["n_accounts"],
            part["score"],
            s=14 + 6 * np.log1p(part["n_accounts"]),
            alpha=0.7,
            color=kind_colour(str(kind)),
            edgecolors="none",
            label=f"{kind} ({len(part)})" if kind else f"none ({len(part)})",
        )
    ax.axhline(result.threshold, color="black", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("accounts in cluster")
    ax.set_ylabel("farm score")
    n_flagged = int(result.accounts["flagged"].sum())
    ax.set_title(f"{len(clusters)} clusters, {n_flagged} accounts flagged")
    if len(clusters):
        ax.legend(title="dominant kind", fontsize="small", loc="center right")
    return ax


def plot_breakdown(explanation: ClusterExplanation, ax: Axes | None = None) -> Axes:
    """Each score feature's contribution to the cluster's log-odds."""
    ax = _new_axes(ax, (6, 3.2))
    features = explanation.features.iloc[::-1]
    bars = ax.barh(features["feature"], features["contribution"], color="#4c72b0")
    ax.barh(
        features["feature"],
        features["weight"] - features["contribution"],
        left=features["contribution"],
        color="#dddddd",
    )
    for bar, value in zip(bars, features["value"], strict=True):
        ax.text(
            bar.get_x() + bar.get_width() + 0.05,
            bar.get_y() + bar.get_height() / 2,
            f"{value:.3g}",
            va="center",
            fontsize="small",
        )
    ax.set_xlabel("contribution to log-odds (grey: the rest of the feature's weight)")
    ax.set_title(f"Cluster {explanation.cluster_id}: score {explanation.score:.3f}")
    return ax


def plot_cluster_graph(
    explanation: ClusterExplanation,
    ax: Axes | None = None,
    *,
    max_accounts: int = 60,
    max_attributes: int = 60,
) -> Axes:
    """The cluster's bipartite graph: accounts on the left (red when flagged),
    shared attributes on the right coloured by kind; hubs drawn as crosses.

    Large clusters are shown in part: the ``max_attributes`` most concentrated
    attributes, the cluster's busiest hubs (up to 10), and up to
    ``max_accounts`` of the highest-scoring members linked to them.
    """
    ax = _new_axes(ax, (7, 6))
    shared = explanation.shared_attributes
    # Hubs have low concentration and would never make the top; show the
    # busiest few anyway, since what the cluster passes through matters too.
    attributes = pd.concat(
        [
            shared[~shared["hub"]].head(max_attributes),
            shared[shared["hub"]].nlargest(_MAX_HUBS_SHOWN, "n_members"),
        ]
    )
    keys = attributes["kind"] + ":" + attributes["value"]
    links = explanation.links
    link_keys = links["kind"] + ":" + links["value"]
    links = links[link_keys.isin(set(keys))]
    members = explanation.members.set_index("account_id")
    linked = members.loc[members.index.isin(set(links["account_id"]))]
    shown = linked.sort_values(["score", "membership"], ascending=False).head(max_accounts)
    links = links[links["account_id"].isin(set(shown.index))]

    attributes = attributes.sort_values(["kind", "n_members"], ascending=[True, False])
    attr_keys = (attributes["kind"] + ":" + attributes["value"]).tolist()
    attr_y = {k: y for k, y in zip(attr_keys, _spread(len(attr_keys)), strict=True)}
    acct_y = {a: y for a, y in zip(shown.index, _spread(len(shown)), strict=True)}

    segments = [
        [(0.0, acct_y[a]), (1.0, attr_y[f"{k}:{v}"])]
        for a, k, v in zip(links["account_id"], links["kind"], links["value"], strict=True)
    ]
    ax.add_collection(LineCollection(segments, colors="#b0b0b0", linewidths=0.4, alpha=0.6))
    ax.scatter(
        np.zeros(len(shown)),
        [acct_y[a] for a in shown.index],
        s=18,
        c=[FLAGGED_COLOUR if f else UNFLAGGED_COLOUR for f in shown["flagged"]],
        zorder=3,
    )
    hub = attributes["hub"].to_numpy(dtype=bool)
    colours = [kind_colour(k) for k in attributes["kind"]]
    ys = [attr_y[k] for k in attr_keys]
    sizes = 16 + 40 * attributes["concentration"].to_numpy()
    ax.scatter(
        np.ones(int((~hub).sum())),
        np.asarray(ys)[~hub],
        s=sizes[~hub],
        c=np.asarray(colours)[~hub],
        zorder=3,
    )
    if hub.any():
        ax.scatter(
            np.ones(int(hub.sum())),
            np.asarray(ys)[hub],
            s=80,
            marker="X",
            c=np.asarray(colours)[hub],
            edgecolors="black",
            zorder=4,
        )
    handles = [
        Line2D([], [], marker="o", linestyle="", color=FLAGGED_COLOUR, label="account, flagged"),
        Line2D([], [], marker="o", linestyle="", color=UNFLAGGED_COLOUR, label="account"),
    ] + [
        Line2D([], [], marker="o", linestyle="", color=kind_colour(k), label=k)
        for k in sorted(set(attributes["kind"]))
    ]
    if hub.any():
        handles.append(
            Line2D([], [], marker="X", linestyle="", color="black", label="hub (not in graph)")
        )
    ax.legend(
        handles=handles,
        fontsize="small",
        loc="upper center",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(0.5, -0.01),
    )
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["accounts", "shared attributes"])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"Cluster {explanation.cluster_id}: {len(shown)} of {len(explanation.members)} accounts, "
        f"{len(attributes)} of {len(shared)} shared attributes"
    )
    return ax


def plot_timeline(explanation: ClusterExplanation, ax: Axes | None = None) -> Axes:
    """Accounts created per day (bars) and observations per day (line)."""
    ax = _new_axes(ax, (7, 3.2))
    timeline = explanation.timeline
    if timeline.empty:
        ax.set_title(f"Cluster {explanation.cluster_id}: no timestamps")
        return ax
    days = pd.to_datetime(timeline["day"])
    ax.bar(days, timeline["accounts_created"], width=1.0, color="#4c72b0", label="accounts created")
    ax.set_ylabel("accounts created per day")
    activity = ax.twinx()
    # Days without a row had no activity: draw them as zeros, not as a slope.
    daily = timeline.assign(day=days).set_index("day")["observations"].asfreq("D", fill_value=0)
    activity.plot(daily.index, daily.to_numpy(), color="#dd8452", linewidth=1)
    activity.set_ylabel("observations per day")
    ax.set_title(f"Cluster {explanation.cluster_id}: creation and activity")
    ax.legend(
        handles=[
            Line2D([], [], color="#4c72b0", linewidth=6, label="accounts created"),
            Line2D([], [], color="#dd8452", label="observations (by first sighting)"),
        ],
        fontsize="small",
        loc="upper left",
    )
    ax.figure.autofmt_xdate()
    return ax


def _spread(n: int) -> np.ndarray:
    """``n`` positions evenly spread over [0, 1], top to bottom."""
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.array([0.5])
    return np.linspace(1.0, 0.0, n)
