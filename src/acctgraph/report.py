"""HTML: notebook representations and the self-contained analyst report.

``result_html`` and ``cluster_html`` back the ``_repr_html_`` of
:class:`~acctgraph.results.DetectionResult` and
:class:`~acctgraph.results.ClusterExplanation`. :func:`write_report` writes
one HTML page, every picture embedded as a PNG data URI, for analysts who do
not run Python: ``acctgraph report RESULTS_DIR --out report.html``.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .exceptions import OutputError
from .plots import kind_colour, plot_breakdown, plot_cluster_graph, plot_overview, plot_timeline
from .results import write_file_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .results import ClusterExplanation, DetectionResult

__all__ = ["cluster_html", "result_html", "write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table.ag { border-collapse: collapse; font-size: 13px; margin: 0.5em 0; }
table.ag th, table.ag td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
table.ag th { background: #f4f4f4; }
table.ag td.l, table.ag th.l { text-align: left; }
.bar { display: inline-block; height: 9px; background: #4c72b0; vertical-align: middle; }
.kind { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; }
.flag { color: #d62728; font-weight: 600; }
section.cluster { border-top: 2px solid #ccc; margin-top: 2em; padding-top: 0.5em; }
img { max-width: 100%; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _day(value: object) -> str:
    return "" if pd.isna(value) else str(pd.Timestamp(value).date())


def result_html(result: DetectionResult, top: int = 10) -> str:
    """HTML summary of a result: totals and the top clusters."""
    clusters = result.clusters.head(top)
    rows = "".join(
        f"<tr><td>{r.cluster_id}</td><td>{r.n_accounts}</td>"
        f"<td class='{'flag' if r.n_flagged else ''}'>{r.n_flagged}</td>"
        f"<td>{r.score:.3f}</td><td class='l'>{_kind_dot(r.dominant_kind)}{_e(r.dominant_kind)}</td>"
        f"<td class='l'>{_e(r.shared_kinds)}</td><td>{_day(r.first_seen)}</td><td>{_day(r.last_seen)}</td></tr>"
        for r in clusters.itertuples()
    )
    hubs = ""
    if not result.hubs_dropped.empty:
        hubs = (
            "<p>Hub attributes left out of the graph: "
            + ", ".join(f"{r.n_dropped} {_e(r.kind)}" for r in result.hubs_dropped.itertuples())
            + "</p>"
        )
    return (
        f"<div class='acctgraph'><style>{_STYLE}</style>"
        f"<p><b>acctgraph result</b>: {len(result.accounts):,} accounts, "
        f"{len(result.clusters):,} clusters, <span class='flag'>"
        f"{int(result.accounts['flagged'].sum()):,} accounts flagged</span> at score &ge; "
        f"{result.threshold}</p>"
        "<table class='ag'><tr><th>cluster</th><th>accounts</th><th>flagged</th><th>score</th>"
        "<th class='l'>dominant kind</th><th class='l'>shared attributes</th>"
        f"<th>first seen</th><th>last seen</th></tr>{rows}</table>{hubs}</div>"
    )


def _kind_dot(kind: object) -> str:
    colour = kind_colour(str(kind)) if kind else "#cccccc"
    return f"<span class='kind' style='background:{colour}'></span>"


def cluster_html(explanation: ClusterExplanation, per_kind: int = 5) -> str:
    """HTML evidence of one cluster: size, score and its parts, top shared
    attributes by kind with how many members share each, first and last seen."""
    summary = explanation.summary
    width = max(float(explanation.features["weight"].max()), 1e-9)
    parts = "".join(
        f"<tr><td class='l'>{_e(r.feature)}</td><td>{r.value:.3g}</td>"
        f"<td class='l'><span class='bar' style='width:{120 * r.contribution / width:.0f}px'></span> "
        f"{r.contribution:.2f} / {r.weight:g}</td></tr>"
        for r in explanation.features.itertuples()
    )
    shared = explanation.shared_attributes
    by_kind = []
    for kind, part in shared.groupby("kind", sort=True):
        top = part.head(per_kind)
        items = "".join(
            f"<tr><td class='l'>{_e(r.value)}{' (hub)' if r.hub else ''}</td><td>{r.n_members}</td>"
            f"<td>{r.degree}</td><td>{r.concentration:.2f}</td></tr>"
            for r in top.itertuples()
        )
        by_kind.append(
            f"<tr><th class='l' colspan='4'>{_kind_dot(kind)}{_e(kind)}: {len(part)} shared</th></tr>{items}"
        )
    flagged = int(explanation.members["flagged"].sum()) if len(explanation.members) else 0
    return (
        f"<div class='acctgraph'><style>{_STYLE}</style>"
        f"<p><b>Cluster {explanation.cluster_id}</b>: {len(explanation.members):,} accounts "
        f"(<span class='flag'>{flagged:,} flagged</span>), score <b>{explanation.score:.3f}</b>, "
        f"seen {_day(summary.get('first_seen'))} to {_day(summary.get('last_seen'))}</p>"
        "<table class='ag'><tr><th class='l'>feature</th><th>value</th>"
        f"<th class='l'>contribution / weight</th></tr>{parts}</table>"
        "<table class='ag'><tr><th class='l'>shared attribute</th><th>members</th>"
        f"<th>degree</th><th>concentration</th></tr>{''.join(by_kind)}</table></div>"
    )


def _png(ax: Axes) -> str:
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def write_report(
    result: DetectionResult, path: str | os.PathLike[str], *, top: int = 5, force: bool = False
) -> Path:
    """Write a self-contained HTML report: the overview and the top clusters.

    Parameters
    ----------
    result : DetectionResult
    path : str or PathLike
        The HTML file to write (atomically: a temporary file renamed in).
    top : int, default=5
        Clusters given a section of their own.
    force : bool, default=False
        Replace ``path`` if it exists.

    Returns
    -------
    Path
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputError(f"{str(target)!r} exists; pass force=True (--force) to replace it")
    sections = []
    for cid in result.clusters["cluster_id"].head(top):
        explanation = result.explain(int(cid))
        sections.append(
            f"<section class='cluster' id='cluster-{cid}'>{cluster_html(explanation)}"
            f"<img alt='score breakdown of cluster {cid}' src='{_png(plot_breakdown(explanation))}'>"
            f"<img alt='graph of cluster {cid}' src='{_png(plot_cluster_graph(explanation))}'>"
            f"<img alt='timeline of cluster {cid}' src='{_png(plot_timeline(explanation))}'>"
            "</section>"
        )
    provenance = result.provenance
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>acctgraph report</title><style>{_STYLE}</style></head><body>"
        "<h1>acctgraph report</h1>"
        f"<p>acctgraph {_e(provenance.get('versions', {}).get('acctgraph', '?'))}, "
        f"seed {_e(provenance.get('parameters', {}).get('seed', '?'))}, "
        f"{_e(provenance.get('input', {}).get('n_event_rows', '?'))} event rows.</p>"
        f"{result_html(result)}"
        f"<img alt='overview of all clusters' src='{_png(plot_overview(result))}'>"
        f"{''.join(sections)}</body></html>"
    )
    write_file_atomically(target, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return target
