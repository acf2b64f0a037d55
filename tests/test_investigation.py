"""Notebook investigation: HTML representations, plots, graph exports, report."""

import shutil
import warnings
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import acctgraph as ag
from acctgraph.cli import main


@pytest.fixture(scope="module")
def hub_result():
    """A world whose busy ASNs exceed a low degree cap, so clusters hold hubs."""
    world = ag.synth.make_world(3_000, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ag.HubAttributesDropped)
        return ag.detect(world.events, accounts=world.accounts, max_attribute_degree=150)


def test_result_and_cluster_render_as_html_with_their_evidence(small_result):
    page = small_result._repr_html_()
    assert f"{len(small_result.accounts):,} accounts" in page
    assert "dominant kind" in page and "first seen" in page
    cluster = small_result.explain(0)
    html = cluster._repr_html_()
    assert f"Cluster 0</b>: {len(cluster.members):,} accounts" in html
    assert f"{cluster.score:.3f}" in html
    for feature in ag.scoring.FEATURE_WEIGHTS:
        assert feature in html
    for kind in cluster.shared_attributes["kind"].unique():
        assert f"{kind}: " in html


def test_explain_gives_timeline_and_links(small_result):
    cluster = small_result.explain(0)
    assert cluster.timeline["accounts_created"].sum() == cluster.members["created_at"].notna().sum()
    assert cluster.timeline["observations"].sum() > 0
    assert set(cluster.links["account_id"]) <= set(cluster.members["account_id"])
    shared = set(
        zip(cluster.shared_attributes["kind"], cluster.shared_attributes["value"], strict=True)
    )
    assert set(zip(cluster.links["kind"], cluster.links["value"], strict=True)) == shared
    assert (cluster.shared_attributes["degree"] >= cluster.shared_attributes["n_members"]).all()


def test_overview_plot_scatters_every_cluster_coloured_by_kind(small_result):
    ax = small_result.plot_overview()
    assert isinstance(ax.figure, Figure)
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert points == len(small_result.clusters)
    assert len(ax.get_legend().get_texts()) == small_result.clusters["dominant_kind"].nunique()
    assert ax.get_xscale() == "log"


def test_breakdown_plot_has_a_bar_per_feature(small_result):
    cluster = small_result.explain(0)
    ax = cluster.plot_breakdown()
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 2 * len(cluster.features)
    widths = sorted(round(b.get_width(), 6) for b in bars[: len(cluster.features)])
    assert widths == sorted(round(c, 6) for c in cluster.features["contribution"])
    assert f"{cluster.score:.3f}" in ax.get_title()


def test_cluster_graph_plot_draws_links_accounts_attributes_and_hubs(hub_result):
    cid = int(hub_result.evidence.loc[hub_result.evidence["hub"], "cluster_id"].iloc[0])
    cluster = hub_result.explain(cid)
    fig = Figure()
    given = fig.add_subplot()
    ax = cluster.plot_graph(given, max_accounts=30, max_attributes=40)
    assert ax is given
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) > 0
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 3  # accounts, attributes, hubs
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "hub (not in graph)" in labels


def test_timeline_plot_has_a_bar_per_day_and_an_activity_line(small_result):
    cluster = small_result.explain(0)
    ax = cluster.plot_timeline()
    assert len(ax.patches) == len(cluster.timeline)
    twin = [other for other in ax.figure.axes if other is not ax]
    assert len(twin) == 1 and len(twin[0].get_lines()) == 1


def test_cluster_graph_is_bipartite_networkx(small_result):
    cluster = small_result.explain(1)
    graph = small_result.cluster_graph(1)
    accounts = {n for n, d in graph.nodes(data=True) if d["bipartite"] == 0}
    assert len(accounts) == len(cluster.members)
    assert graph.number_of_nodes() == len(cluster.members) + len(cluster.shared_attributes)
    assert graph.number_of_edges() == len(cluster.links)
    assert nx.is_bipartite(graph)


@pytest.mark.parametrize(("fmt", "reader"), [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_exports_load_back_with_networkx(small_result, tmp_path, fmt, reader):
    path = small_result.export(tmp_path / f"cluster.{fmt}", fmt=fmt, cluster_id=0)
    loaded = reader(path)
    original = small_result.cluster_graph(0)
    assert loaded.number_of_nodes() == original.number_of_nodes()
    assert loaded.number_of_edges() == original.number_of_edges()
    node = next(n for n, d in original.nodes(data=True) if d["type"] == "attribute")
    assert loaded.nodes[node]["kind"] == original.nodes[node]["kind"]
    whole = reader(small_result.export(tmp_path / f"all.{fmt}", fmt=fmt))
    assert whole.number_of_nodes() >= loaded.number_of_nodes()


def test_parquet_export_of_one_cluster(small_result, tmp_path):
    folder = small_result.export(tmp_path / "cluster0", fmt="parquet", cluster_id=0)
    members = pd.read_parquet(folder / "members.parquet")
    assert len(members) == small_result.clusters.loc[0, "n_accounts"]
    assert len(pd.read_parquet(folder / "links.parquet")) == len(small_result.explain(0).links)
    with pytest.raises(ag.ConfigError, match="fmt must be one of"):
        small_result.export(tmp_path / "x", fmt="svg")


def test_report_is_one_self_contained_page(small_result, tmp_path):
    path = ag.write_report(small_result, tmp_path / "report.html", top=3)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<img ") == 1 + 3 * 3
    assert page.count("src='data:image/png;base64,") == page.count("<img ")
    assert "http://" not in page and "https://" not in page
    with pytest.raises(ag.OutputError, match="exists"):
        ag.write_report(small_result, path)


def test_report_command_reads_a_results_folder(small_result, tmp_path, capsys):
    small_result.to_dir(tmp_path / "results")
    out = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "results"), "--out", str(out), "--top", "2"]) == 0
    assert "top 2 clusters" in capsys.readouterr().out
    assert out.read_text().count("class='cluster'") == 2
    assert main(["report", str(tmp_path / "nothing"), "--out", str(tmp_path / "r2.html")]) == 2


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed here (apt-get install chromium); .ci/run installs it",
)
def test_report_renders_in_headless_chromium_with_every_image_loaded(small_result, tmp_path):
    from playwright.sync_api import sync_playwright

    path = ag.write_report(small_result, tmp_path / "report.html", top=2)
    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
            )
            heading = page.locator("h1").inner_text()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert heading == "acctgraph report"
    assert len(images) == 1 + 3 * 2
    assert all(done and width > 0 for done, width in images)
    assert shot.stat().st_size > 10_000
    keep = Path(__file__).parent.parent / "build" / "report-screenshot.png"
    keep.parent.mkdir(exist_ok=True)
    shutil.copy(shot, keep)  # for a person to look at after CI
