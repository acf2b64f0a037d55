import numpy as np
import pandas as pd
import pytest

import acctgraph as ag
from acctgraph.communities import (
    Communities,
    carve_block,
    carve_blocks,
    find_communities,
    move_accounts,
)
from acctgraph.graph import build_graph
from acctgraph.ingest import load_links


def _two_blocks():
    rng = np.random.default_rng(0)
    rows = []
    for block in ("x", "y"):
        for i in range(40):
            for ip in rng.choice(15, size=8, replace=False):
                rows.append((f"{block}{i:02d}", "ip", f"{block}-ip{ip}"))
    # One weak bridge between the blocks: an attribute five accounts of each use.
    for i in range(5):
        rows.append((f"x{i:02d}", "ip", "bridge"))
        rows.append((f"y{i:02d}", "ip", "bridge"))
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])


def test_two_dense_blocks_joined_by_one_bridge_become_two_communities():
    links = load_links(_two_blocks())
    comm = find_communities(build_graph(links), seed=0)
    labels = pd.Series(comm.account_community, index=links.account_ids)
    assert comm.n_communities == 2
    assert labels[[a for a in labels.index if a.startswith("x")]].nunique() == 1
    assert labels[[a for a in labels.index if a.startswith("y")]].nunique() == 1
    assert labels["x01"] != labels["y01"]


def test_components_smaller_than_min_cluster_size_are_not_clusters():
    events = pd.DataFrame(
        {"account_id": ["a", "b", "c", "d", "e"], "kind": "ip", "value": ["1", "1", "2", "2", "2"]}
    )
    links = load_links(events)
    comm = find_communities(build_graph(links), min_cluster_size=3)
    assert comm.account_community.tolist() == [-1, -1, 0, 0, 0]


def test_same_partition_when_rows_are_shuffled():
    events = _two_blocks()
    first = find_communities(build_graph(load_links(events)), seed=3)
    shuffled = events.sample(frac=1.0, random_state=11)
    second = find_communities(build_graph(load_links(shuffled)), seed=3)
    np.testing.assert_array_equal(first.account_community, second.account_community)
    np.testing.assert_array_equal(first.attribute_community, second.attribute_community)


def test_leidenalg_backend_finds_the_planted_farms_too():
    import acctgraph as ag

    world = ag.synth.make_world(3_000, seed=5)
    result = ag.detect(world.events, accounts=world.accounts, leiden_backend="leidenalg")
    quality = ag.evaluate(result, world.truth)
    assert quality["precision"] >= 0.95
    assert quality["recall"] >= 0.95
    assert result.provenance["parameters"]["leiden_backend"] == "leidenalg"


def test_unknown_backend_is_a_config_error():
    import pytest

    import acctgraph as ag

    with pytest.raises(ag.ConfigError, match="backend must be one of"):
        find_communities(build_graph(load_links(_two_blocks())), backend="louvain")


def test_python_global_random_is_neither_seeded_nor_consumed():
    import random

    random.seed(1234)
    before = random.getstate()
    find_communities(build_graph(load_links(_two_blocks())), seed=9)
    assert random.getstate() == before


def test_concurrent_runs_in_threads_give_the_serial_result():
    from concurrent.futures import ThreadPoolExecutor

    graph = build_graph(load_links(_two_blocks()))
    serial = [find_communities(graph, seed=s).account_community for s in (1, 2, 3, 4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(
            pool.map(lambda s: find_communities(graph, seed=s).account_community, (1, 2, 3, 4))
        )
    for expected, got in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(expected, got)


def _sparse_block(seed: int) -> tuple[pd.DataFrame, set[str]]:
    """FRAUDAR's injected block: 200 accounts x 200 objects at density 0.04,
    in a sparse random background of 2,000 accounts x 2,000 objects."""
    rng = np.random.default_rng(seed)
    bg_acc = rng.integers(0, 2_000, 2_400)
    bg_obj = rng.integers(0, 2_000, 2_400)
    fr, fc = np.nonzero(rng.random((200, 200)) < 0.04)
    events = pd.DataFrame(
        {
            "account_id": [f"u{a:04d}" for a in bg_acc] + [f"f{a:03d}" for a in fr],
            "kind": "object",
            "value": [f"o{v}" for v in bg_obj] + [f"fake{v}" for v in fc],
        }
    )
    return events, {f"f{a:03d}" for a in range(200)}


def test_a_sparse_block_cut_up_by_leiden_is_reported_whole():
    events, fake = _sparse_block(seed=1)

    def largest_share(result):
        held = result.accounts.loc[result.accounts["account_id"].isin(fake), "cluster_id"]
        return held[held >= 0].value_counts().iloc[0] / len(fake)

    pieces = ag.detect(events, coarse_factor=None, dense_blocks=0)
    assert largest_share(pieces) < 0.5  # modularity alone cuts the block up
    # Either the coarse level or the peeled dense block puts it back together.
    for whole in (
        ag.detect(events, dense_blocks=0),
        ag.detect(events, coarse_factor=None),
        ag.detect(events),
    ):
        assert largest_share(whole) >= 0.9
        flagged = set(whole.accounts.loc[whole.accounts["flagged"], "account_id"])
        assert len(flagged & fake) >= 0.9 * len(fake)
        assert len(flagged - fake) <= 0.05 * len(fake)


def test_coarse_level_optimises_true_modularity_with_self_loops():
    # Ten 5-cliques in a ring, one edge between neighbours: the cliques are
    # the modularity optimum at resolution 1, so grouping them again at
    # resolution 1 must keep them apart; at a very low resolution the whole
    # ring is one group. igraph's own modularity objective mishandles the
    # self-loops of the graph of communities and merged all ten into one
    # group of modularity 0 at resolution 1.
    from acctgraph.communities import _coarsen

    clique = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    edges = [(5 * c + i, 5 * c + j) for c in range(10) for i, j in clique]
    edges += [(5 * c + 4, (5 * c + 5) % 50) for c in range(10)]
    src, dst = np.array(edges).T
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    membership = np.arange(50) // 5
    weight = np.ones(len(lo))
    at_one = _coarsen(lo, hi, weight, membership, 1.0, seed=0)
    assert len(np.unique(at_one)) == 10
    assert len(np.unique(_coarsen(lo, hi, weight, membership, 0.01, seed=0))) == 1


def _regions(n_regions: int) -> pd.DataFrame:
    """Worlds side by side with their own accounts and attributes: one large
    component each."""
    parts = []
    for r in range(n_regions):
        events = ag.synth.make_world(1_500, seed=r).events
        parts.append(
            events.assign(
                account_id=f"r{r}-" + events["account_id"].astype(str),
                value=f"r{r}-" + events["value"].astype(str),
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_components_partitioned_in_worker_processes_give_the_one_process_result(
    monkeypatch, caplog
):
    from acctgraph import communities

    graph = build_graph(load_links(_regions(3)))
    one = find_communities(graph, coarse_resolution=0.2, n_jobs=1)
    # Small components count as worth the workers here.
    monkeypatch.setattr(communities, "PARALLEL_MIN_EDGES", 0)
    with caplog.at_level("INFO", logger="acctgraph.communities"):
        two = find_communities(graph, coarse_resolution=0.2, n_jobs=2)
    assert any("on 2 processes" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(one.account_community, two.account_community)
    np.testing.assert_array_equal(one.attribute_community, two.attribute_community)
    np.testing.assert_array_equal(one.parent, two.parent)
    assert one.n_communities == two.n_communities > 3


def test_n_jobs_is_checked_before_any_work():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ag.ConfigError, match="n_jobs must be None or an int >= 1"):
            ag.detect("no/such/file.parquet", n_jobs=bad)


def test_twin_classes_fall_back_to_every_key_where_the_first_collides():
    from acctgraph.communities import _signature_classes

    degree = np.array([2, 2, 1, 2, 3])
    first_sum = np.array([5, 5, 7, 5, 9], dtype=np.uint64)  # rows 0, 1, 3 collide
    second_sum = np.array([1, 2, 3, 1, 4], dtype=np.uint64)  # but only 0 and 3 are twins
    code, n = _signature_classes(degree, first_sum, second_sum)
    assert n == 4
    np.testing.assert_array_equal(code, [0, 1, 2, 0, 3])
    code, n = _signature_classes(degree, first_sum, np.array([1, 1, 3, 1, 4], dtype=np.uint64))
    assert n == 3
    np.testing.assert_array_equal(code, [0, 0, 1, 0, 2])


def test_blocks_carved_at_once_become_one_new_community_and_group_each():
    communities = Communities(
        account_community=np.array([0, 0, 0, 0, 1, 1, 1, 1, -1]),
        attribute_community=np.array([0, 0, 1, 1]),
        n_communities=2,
        n_components=1,
        parent=np.array([0, 0]),
    )
    blocks = [(np.array([1, 2]), np.array([1])), (np.array([5, 6, 7]), np.array([3]))]
    carved = carve_blocks(communities, blocks, min_size=2)
    # What is left of community 1 (account 4, attribute 2) is too small and
    # dropped; numbering follows each community's smallest account.
    assert carved.account_community.tolist() == [0, 1, 1, 0, -1, 2, 2, 2, -1]
    assert carved.attribute_community.tolist() == [0, 1, -1, 2]
    assert carved.n_communities == 3
    # Each block is a group of its own.
    assert len(set(carved.parent.tolist())) == 3
    # One block at a time: the same carving of that block.
    one = carve_block(communities, *blocks[0], min_size=2)
    assert one.account_community.tolist() == [0, 1, 1, 0, 2, 2, 2, 2, -1]
    assert one.parent.tolist()[0] == one.parent.tolist()[2] != one.parent.tolist()[1]


def test_accounts_moved_take_the_attribute_nodes_only_they_use():
    communities = Communities(
        account_community=np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]),
        attribute_community=np.array([0, 1, 1, 2]),
        n_communities=3,
        n_components=1,
        parent=np.array([0, 1, 1]),
    )
    moved = move_accounts(
        communities,
        accounts=np.array([4, 5]),
        targets=np.array([2, 2]),
        attributes=np.array([2]),
        attribute_targets=np.array([2]),
        min_size=2,
    )
    # Community 1 keeps one account (3), too few: it is dropped with its
    # attribute node 1; numbering follows each community's smallest account.
    assert moved.account_community.tolist() == [0, 0, 0, -1, 1, 1, 1, 1, 1]
    assert moved.attribute_community.tolist() == [0, -1, 1, 1]
    assert moved.n_communities == 2
    # The remaining communities keep their groups.
    assert moved.parent.tolist() == [0, 1]
