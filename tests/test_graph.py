import numpy as np
import pandas as pd
import pytest

import acctgraph as ag
from acctgraph.graph import build_graph
from acctgraph.ingest import load_links


def test_weights_fall_with_attribute_degree():
    rows = [(f"a{i}", "ip", "busy") for i in range(100)]
    rows += [("a0", "ip", "rare"), ("a1", "ip", "rare")]
    graph = build_graph(load_links(pd.DataFrame(rows, columns=["account_id", "kind", "value"])))
    values = graph.links.attribute_values[graph.links.attribute]
    busy = graph.link_weight[values == "busy"][0]
    rare = graph.link_weight[values == "rare"][0]
    assert busy == pytest.approx(100**-0.5)
    assert rare == pytest.approx(2**-0.5)


def test_heavier_links_weigh_more():
    events = pd.DataFrame({"account_id": ["a", "b"], "kind": "ip", "value": "x", "count": [1, 100]})
    graph = build_graph(load_links(events))
    assert graph.link_weight[1] == pytest.approx((1 + np.log(100)) * graph.link_weight[0])


def test_private_attributes_are_not_graph_nodes():
    events = pd.DataFrame(
        {"account_id": ["a", "b", "a"], "kind": "ip", "value": ["shared", "shared", "mine"]}
    )
    graph = build_graph(load_links(events))
    assert graph.n_edges == 2
    assert graph.in_graph.tolist() == [False, True]
    assert graph.account_edges.tolist() == [1, 1]  # a's own IP is no edge


def test_hubs_above_the_cap_are_dropped_and_reported_by_kind():
    rows = [(f"a{i:05d}", "asn", "AS1") for i in range(3_000)]
    rows += [(f"a{i:05d}", "ip", "nat") for i in range(2_500)]
    rows += [("a00001", "ip", "home"), ("a00002", "ip", "home")]
    links = load_links(pd.DataFrame(rows, columns=["account_id", "kind", "value"]))
    with pytest.warns(ag.HubAttributesDropped, match=r"2 hub attribute.*1 asn.*3000.*1 ip.*2500"):
        graph = build_graph(links, max_attribute_degree=1_000)
    assert graph.hubs_dropped.set_index("kind")["n_dropped"].to_dict() == {"asn": 1, "ip": 1}
    # A hub costs its degree in links, never its degree squared: only the
    # two links to "home" remain as edges.
    assert graph.n_edges == 2
    assert graph.biadjacency().nnz == 2
