"""Dense blocks: FRAUDAR's peeling, growth and adoption as clusters."""

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

import acctgraph as ag
from acctgraph import blocks, parallel
from acctgraph.blocks import find_blocks_within, find_dense_blocks
from acctgraph.communities import carve_block, find_communities
from acctgraph.graph import build_graph
from acctgraph.ingest import load_links
from acctgraph.scoring import (
    adopt_dense_blocks,
    grow_block,
    keep_owning_parts,
    merge_on_evidence,
    prepare_blocks,
    score_communities,
    trim_block,
)
from acctgraph.scoring.adopting import COMPLETION_LIMIT
from acctgraph.scoring.merging import MERGE_MARGIN
from rating_worlds import power_law_ratings


def _block_in_background(seed: int, p: float = 0.3, n_block: int = 40) -> pd.DataFrame:
    """``n_block`` accounts x ``n_block`` objects at density ``p`` in a sparse
    random background of 1,000 accounts x 1,000 objects."""
    rng = np.random.default_rng(seed)
    bg_acc = rng.integers(0, 1_000, 1_500)
    bg_obj = rng.integers(0, 1_000, 1_500)
    fr, fc = np.nonzero(rng.random((n_block, n_block)) < p)
    return pd.DataFrame(
        {
            "account_id": [f"u{a:04d}" for a in bg_acc] + [f"f{a:03d}" for a in fr],
            "kind": "object",
            "value": [f"o{v:04d}" for v in bg_obj] + [f"fake{v:03d}" for v in fc],
        }
    )


def _density(graph, accounts, attributes):
    """g(S) recomputed from scratch for a node set."""
    links = graph.links
    inside = (
        graph.edge_mask & np.isin(links.account, accounts) & np.isin(links.attribute, attributes)
    )
    weight = 1.0 / np.log(graph.degree[links.attribute[inside]] + 5.0)
    return weight.sum() / (len(accounts) + len(attributes))


def test_peeling_finds_the_planted_block_and_reports_its_density():
    graph = build_graph(load_links(_block_in_background(seed=1)))
    links = graph.links
    (block,) = find_dense_blocks(graph, n_blocks=1)
    ids = set(links.account_ids[block.accounts])
    values = set(links.attribute_values[block.attributes])
    assert ids == {f"f{a:03d}" for a in range(40)}
    assert values <= {f"fake{v:03d}" for v in range(40)} and len(values) >= 38
    assert np.isclose(block.density, _density(graph, block.accounts, block.attributes))


def _peel_by_scanning(src, dst, weight):
    """FRAUDAR's greedy peeling written plainly: remove the node of least
    weighted degree (the smallest on a tie) until none is left, keeping the
    densest set met."""
    nodes = np.unique(np.r_[src, dst])
    alive = {int(v) for v in nodes}
    best_density, best = weight.sum() / len(alive), set(alive)
    while alive:
        keep = np.isin(src, list(alive)) & np.isin(dst, list(alive))
        priority = {v: 0.0 for v in alive}
        for a, b, w in zip(src[keep], dst[keep], weight[keep], strict=True):
            priority[int(a)] += w
            priority[int(b)] += w
        gone = min(alive, key=lambda v: (priority[v], v))
        alive.remove(gone)
        keep = np.isin(src, list(alive)) & np.isin(dst, list(alive))
        if alive and weight[keep].sum() / len(alive) > best_density:
            best_density, best = weight[keep].sum() / len(alive), set(alive)
    return sorted(best), best_density


@pytest.mark.parametrize("seed", range(5))
def test_exact_peeling_removes_the_least_connected_node_each_step(seed):
    # Integer weights keep every sum exact, so ties are ties on both sides.
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 15, 60)
    dst = rng.integers(15, 30, 60)
    pairs = np.unique(np.c_[src, dst], axis=0)
    src, dst = pairs[:, 0], pairs[:, 1]
    weight = rng.integers(1, 4, len(src)).astype(float)
    nodes, density = blocks._peel_exactly(src, dst, weight)
    expected_nodes, expected_density = _peel_by_scanning(src, dst, weight)
    assert nodes.tolist() == expected_nodes
    assert density == pytest.approx(expected_density)


def test_round_peeling_on_large_graphs_keeps_the_block():
    # Below exact_below nodes the peeling is exact; above it, rounds drop
    # every node under (1 + epsilon) times the average and may keep more.
    graph = build_graph(load_links(_block_in_background(seed=2)))
    (rounds,) = find_dense_blocks(graph, n_blocks=1, exact_below=0)
    (exact,) = find_dense_blocks(graph, n_blocks=1)
    assert set(exact.accounts) <= set(rounds.accounts)
    assert rounds.density <= exact.density + 1e-9


def test_few_nodes_with_many_edges_are_peeled_in_rounds(monkeypatch):
    # One node at a time costs a Python heap operation per edge: a block of
    # 1,000 accounts sharing 10,000 devices (11,000 nodes, 10M edges) took
    # 20 s. Edges beyond EXACT_MAX_EDGES send even a small graph to the rounds.
    graph = build_graph(load_links(_block_in_background(seed=2)))
    exact_calls = []
    peel_exactly = blocks._peel_exactly
    monkeypatch.setattr(
        blocks, "_peel_exactly", lambda *a: exact_calls.append(len(a[0])) or peel_exactly(*a)
    )
    (exact,) = find_dense_blocks(graph, n_blocks=1)
    assert len(exact_calls) == 1
    monkeypatch.setattr(blocks, "EXACT_MAX_EDGES", graph.n_edges - 1)
    (rounds,) = find_dense_blocks(graph, n_blocks=1)
    # The rounds ran; their densest set, within the bound, was refined.
    assert len(exact_calls) == 2 and exact_calls[1] < graph.n_edges - 1
    monkeypatch.setattr(blocks, "EXACT_MAX_EDGES", 10)
    (coarse,) = find_dense_blocks(graph, n_blocks=1)
    assert len(exact_calls) == 2  # the rounds' set has too many edges to refine
    planted = {f"f{a:03d}" for a in range(40)}
    for block in (exact, rounds, coarse):
        assert planted <= set(graph.links.account_ids[block.accounts])
        assert block.density <= exact.density + 1e-9


def test_peeling_is_deterministic_and_stops_at_small_blocks():
    events = _block_in_background(seed=3)
    first = find_dense_blocks(build_graph(load_links(events)), n_blocks=5)
    shuffled = events.sample(frac=1.0, random_state=7)
    second = find_dense_blocks(build_graph(load_links(shuffled)), n_blocks=5)
    assert len(first) == len(second) >= 1
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.accounts, b.accounts)
        np.testing.assert_array_equal(a.attributes, b.attributes)
    assert all(len(b.accounts) >= 10 for b in first)
    assert find_dense_blocks(build_graph(load_links(events)), n_blocks=0) == []


def test_growth_adds_accounts_living_in_the_block_and_no_others():
    events = _block_in_background(seed=4)
    extra = pd.DataFrame(
        {
            # Two edges into the block and nothing else: joins.
            "account_id": ["late", "late", "one", "mixed", "mixed", "mixed", "mixed", "mixed"],
            "kind": "object",
            # One edge only: stays out. Two of five edges inside: stays out.
            "value": ["fake001", "fake002", "fake003", "fake004", "fake005"]
            + ["o0001", "o0002", "o0003"],
        }
    )
    graph = build_graph(load_links(pd.concat([events, extra], ignore_index=True)))
    (block,) = find_dense_blocks(graph, n_blocks=1)
    grown = grow_block(graph, block)
    added = set(graph.links.account_ids[np.setdiff1d(grown.accounts, block.accounts)])
    assert "late" in added
    assert not added & {"one", "mixed"}
    assert all(a.startswith("f") or a == "late" for a in added)


def _block_with_a_crowd_kept_by_peeling():
    """A graph and a block as peeling might leave it: 20 farm accounts
    rating the farm's 10 objects, one more with 20 objects of its own as
    well (a hijacked account), and 10 real users with a hanger-on. The
    real users rate two objects that only they and two farm accounts hold,
    and 15 busy objects that 40 outsiders rate too."""
    pairs = [(f"f{a:02d}", f"x{o}") for a in range(20) for o in range(10)]
    pairs += [("hijacked", f"x{o}") for o in range(10)]
    pairs += [("hijacked", f"h{o:02d}") for o in range(20)]
    pairs += [(f"owner{o:02d}", f"h{o:02d}") for o in range(20)]
    pairs += [(a, f"s{o}") for a in [f"r{r}" for r in range(10)] + ["f00", "f01"] for o in range(2)]
    pairs += [(f"r{r}", f"b{o:02d}") for r in range(10) for o in range(15)]
    pairs += [(f"u{u:02d}", f"b{o:02d}") for u in range(40) for o in range(15)]
    pairs += [("hanger_on", v) for v in ("s0", "s1", "b00", "b01")]
    events = pd.DataFrame(pairs, columns=["account_id", "value"]).assign(kind="object")
    graph = build_graph(load_links(events))
    ids = graph.links.account_ids.astype(str)
    values = graph.links.attribute_values.astype(str)
    peeled = np.flatnonzero(~np.char.startswith(ids, "u") & ~np.char.startswith(ids, "owner"))
    attributes = np.flatnonzero(~np.char.startswith(values, "h"))
    return graph, blocks.DenseBlock(peeled, attributes, 1.0)


def test_trimming_keeps_the_accounts_living_on_the_blocks_own_attributes(monkeypatch):
    # The real users put 2 of their 17 edges into objects the block owns
    # (0.16 of their weight): out. The hanger-on puts half of its edges
    # there, but those objects are owned only while the real users are in
    # the block: out at the second round. The hijacked account keeps 0.23
    # of its weight in the farm's objects: in.
    graph, block = _block_with_a_crowd_kept_by_peeling()
    ids = graph.links.account_ids.astype(str)
    kept = set(ids[trim_block(graph, block).accounts])
    assert kept == {f"f{a:02d}" for a in range(20)} | {"hijacked"}
    monkeypatch.setattr(ag.scoring.adopting, "TRIM_OWN_SHARE", 0.0)
    assert set(ids[trim_block(graph, block).accounts]) == set(ids[block.accounts])


def test_a_block_that_trimming_mostly_drops_is_passed_over(monkeypatch):
    # A club of 60 accounts rates 40 popular objects (each rated by 30
    # outsiders too, so the club owns none); 10 of its members also share 5
    # objects of their own. Trimming keeps those 10: the block is passed
    # over, and the farm's block, cut into pieces by modularity, takes its
    # place. Weighed as those 10, it would have taken the farm's.
    rng = np.random.default_rng(1)
    club, popular = np.nonzero(rng.random((60, 40)) < 0.3)
    pairs = [(f"c{a:02d}", f"pop{v:02d}") for a, v in zip(club, popular, strict=True)]
    pairs += [(f"u{a:04d}", f"pop{v:02d}") for v in range(40) for a in rng.choice(1_000, 30, False)]
    pairs += [(f"c{a:02d}", f"own{v}") for a in range(10) for v in range(5)]
    extra = pd.DataFrame(pairs, columns=["account_id", "value"]).assign(kind="object")
    events = pd.concat([_block_in_background(seed=5, p=0.06, n_block=200), extra])
    graph = build_graph(load_links(events))
    ids = graph.links.account_ids.astype(str)
    values = graph.links.attribute_values.astype(str)
    club_block = blocks.DenseBlock(
        np.flatnonzero(np.char.startswith(ids, "c")),
        np.flatnonzero(~np.char.startswith(values, "o0") & ~np.char.startswith(values, "fake")),
        1.0,
    )
    assert len(trim_block(graph, club_block).accounts) == 10
    (farm_block,) = find_dense_blocks(graph, n_blocks=1)
    pieces = find_communities(graph, seed=0)
    scores = score_communities(graph, pieces)
    fake = np.char.startswith(ids, "f")

    def farm_share_in_one_cluster(communities):
        held = communities.account_community[fake]
        return np.bincount(held[held >= 0]).max() / fake.sum()

    assert farm_share_in_one_cluster(pieces) < 0.5
    adopt = [club_block, farm_block]
    adopted, _ = adopt_dense_blocks(graph, pieces, scores, adopt, n_blocks=1)
    assert farm_share_in_one_cluster(adopted) >= 0.95
    monkeypatch.setattr(ag.scoring.adopting, "TRIM_MIN_KEPT", 0.0)
    adopted, _ = adopt_dense_blocks(graph, pieces, scores, adopt, n_blocks=1)
    assert farm_share_in_one_cluster(adopted) < 0.5


def test_growth_goes_through_the_blocks_own_attributes_only(monkeypatch):
    # Peeling can keep busy attributes the block shares with a crowd (on an
    # unthinned rating background, real objects rated by hundreds); their
    # raters must not grow into the block. "busy0" and "busy1" are held by
    # 5 block accounts and 30 crowd accounts each.
    events = _block_in_background(seed=4)
    crowd = [(f"crowd{a:02d}", f"busy{v}") for a in range(30) for v in range(2)]
    members = [(f"f{a:03d}", f"busy{v}") for a in range(5) for v in range(2)]
    late = [("late", "fake001"), ("late", "fake002")]
    extra = pd.DataFrame(crowd + members + late, columns=["account_id", "value"])
    graph = build_graph(load_links(pd.concat([events, extra.assign(kind="object")])))
    links = graph.links
    (peeled,) = find_dense_blocks(graph, n_blocks=1)
    busy = np.flatnonzero(np.char.startswith(links.attribute_values.astype(str), "busy"))
    block = dataclasses.replace(peeled, attributes=np.union1d(peeled.attributes, busy))

    def added(grown):
        return set(links.account_ids[np.setdiff1d(grown.accounts, block.accounts)])

    assert "late" in added(grow_block(graph, block))
    assert not any(a.startswith("crowd") for a in added(grow_block(graph, block)))
    # Through every attribute of the block, the crowd would have joined.
    monkeypatch.setattr(ag.scoring.adopting, "GROW_OWN_SHARE", 0.0)
    assert {f"crowd{a:02d}" for a in range(30)} <= added(grow_block(graph, block))


def test_growth_needs_attributes_the_block_clearly_holds(monkeypatch):
    # "pop0" and "pop1" are held by 25 block accounts and 20 crowd accounts
    # (56% inside): the crowd does not grow through them. "thin0" and
    # "thin1" are held by 3 block accounts and 2 others (60% inside, 2
    # outside), as a farm's object is by the farm accounts peeling missed:
    # those two join.
    events = _block_in_background(seed=4)
    pairs = [(f"crowd{a:02d}", f"pop{v}") for a in range(20) for v in range(2)]
    pairs += [(f"f{a:03d}", f"pop{v}") for a in range(25) for v in range(2)]
    pairs += [(a, f"thin{v}") for a in ("f000", "f001", "f002", "late0", "late1") for v in range(2)]
    extra = pd.DataFrame(pairs, columns=["account_id", "value"]).assign(kind="object")
    graph = build_graph(load_links(pd.concat([events, extra])))
    links = graph.links
    (peeled,) = find_dense_blocks(graph, n_blocks=1)
    ids = links.account_ids.astype(str)
    fake = np.flatnonzero(np.char.startswith(ids, "f"))
    extra_objects = np.flatnonzero(
        np.isin(links.attribute_values, ["pop0", "pop1", "thin0", "thin1"])
    )
    block = dataclasses.replace(
        peeled,
        accounts=np.intersect1d(peeled.accounts, fake),
        attributes=np.union1d(peeled.attributes, extra_objects),
    )
    assert {f"f{a:03d}" for a in range(25)} <= set(ids[block.accounts])

    def added():
        return set(ids[np.setdiff1d(grow_block(graph, block).accounts, block.accounts)])

    assert added() == {"late0", "late1"}
    monkeypatch.setattr(ag.scoring.adopting, "GROW_OWN_SHARE", 0.5)
    assert {f"crowd{a:02d}" for a in range(20)} <= added()
    monkeypatch.setattr(ag.scoring.adopting, "GROW_OWN_SHARE", 0.7)
    monkeypatch.setattr(ag.scoring.adopting, "GROW_MAX_OUTSIDE", 0)
    assert not added() & {"late0", "late1"}


def test_a_farm_glued_to_a_group_of_real_users_is_cut_from_it(monkeypatch):
    # The farm (40 accounts rating its 40 objects at density 0.3) also
    # rates 3 of the objects a group of 40 real users rates at density 0.5,
    # objects that 10 outsiders each rate too. Peeled as one block, only
    # the farm's part owns its objects.
    rng = np.random.default_rng(0)
    farm, farm_object = np.nonzero(rng.random((40, 40)) < 0.3)
    pairs = [(f"f{a:02d}", f"x{o:02d}") for a, o in zip(farm, farm_object, strict=True)]
    pairs += [(f"f{a:02d}", f"pop{o:02d}") for a in range(40) for o in rng.choice(30, 3, False)]
    group, popular = np.nonzero(rng.random((40, 30)) < 0.5)
    pairs += [(f"c{a:02d}", f"pop{o:02d}") for a, o in zip(group, popular, strict=True)]
    pairs += [(f"u{u:03d}", f"pop{o:02d}") for o in range(30) for u in rng.choice(500, 10, False)]
    events = pd.DataFrame(pairs, columns=["account_id", "value"]).assign(kind="object")
    graph = build_graph(load_links(events))
    ids = graph.links.account_ids.astype(str)
    values = graph.links.attribute_values.astype(str)
    farm_ids = {f"f{a:02d}" for a in range(40)}
    glued = blocks.DenseBlock(
        np.flatnonzero(~np.char.startswith(ids, "u")), np.flatnonzero(values != ""), 1.0
    )
    assert set(ids[keep_owning_parts(graph, glued, min_accounts=10).accounts]) == farm_ids
    farm_block = blocks.DenseBlock(
        np.flatnonzero(np.char.startswith(ids, "f")),
        np.flatnonzero(np.char.startswith(values, "x")),
        1.0,
    )
    kept = keep_owning_parts(graph, farm_block, min_accounts=10)
    np.testing.assert_array_equal(kept.accounts, farm_block.accounts)
    monkeypatch.setattr(ag.scoring.adopting, "SPLIT_KEEP_SHARE", 0.0)
    kept = keep_owning_parts(graph, glued, min_accounts=10)
    np.testing.assert_array_equal(kept.accounts, glued.accounts)


def _fan_club(seed: int) -> pd.DataFrame:
    """A sparse random background of 1,000 accounts x 1,000 objects, and a
    club of 60 accounts rating 40 popular objects at density 0.3, each object
    also rated by 20 background accounts."""
    rng = np.random.default_rng(seed)
    rows = [(f"u{a:04d}", f"o{v:04d}") for a, v in rng.integers(0, 1_000, (1_500, 2))]
    club, popular = np.nonzero(rng.random((60, 40)) < 0.3)
    rows += [(f"c{a:02d}", f"pop{v:02d}") for a, v in zip(club, popular, strict=True)]
    for v in range(40):
        rows += [(f"u{a:04d}", f"pop{v:02d}") for a in rng.choice(1_000, 20, replace=False)]
    return pd.DataFrame(rows, columns=["account_id", "value"]).assign(kind="object")


@pytest.mark.parametrize("rule_left", ["footing gate", "trimming"])
def test_without_ips_a_peeled_group_that_owns_none_of_its_objects_is_not_adopted(
    monkeypatch, rule_left
):
    # Peeling selects for density, so the club carved out scores as a farm
    # on density, overlap and cohesion; but it shares every object with 20
    # outsiders and owns none of them. Either rule alone keeps it out: its
    # footing is 0, and trimming leaves none of its accounts.
    events = _fan_club(seed=0)
    club = {f"c{a:02d}" for a in range(60)}
    assert not ag.detect(events).accounts["flagged"].any()
    if rule_left == "footing gate":
        monkeypatch.setattr(ag.scoring.adopting, "TRIM_OWN_SHARE", 0.0)
    else:
        monkeypatch.setattr(ag.scoring.adopting, "ADOPT_MIN_FOOTING", 0.0)
    assert not ag.detect(events).accounts["flagged"].any()
    monkeypatch.setattr(ag.scoring.adopting, "TRIM_OWN_SHARE", 0.0)
    monkeypatch.setattr(ag.scoring.adopting, "ADOPT_MIN_FOOTING", 0.0)
    # Density on owned objects alone would hold it at 0 too.
    monkeypatch.setattr(ag.scoring.footing_rules, "DENSITY_ON_OWNED", False)
    result = ag.detect(events)
    flagged = set(result.accounts.loc[result.accounts["flagged"], "account_id"])
    assert len(flagged & club) >= 50 and flagged <= club


def _camouflaged_block_behind_a_club(seed: int) -> pd.DataFrame:
    """1,000 real users rating objects drawn by a power law (the first 30
    users 10-30 objects each, the rest 1-3); 200 fake users rating 200 fake
    objects at density 0.04 and as many real objects at random (FRAUDAR's
    random camouflage); and a club of 40 users rating 30 popular objects at
    density 0.5, each also rated by 20 of the real users."""
    rng = np.random.default_rng(seed)
    pairs = power_law_ratings(rng)
    fake, fake_object = np.nonzero(rng.random((200, 200)) < 0.04)
    pairs += [(f"f{a:03d}", f"x{o:03d}") for a, o in zip(fake, fake_object, strict=True)]
    for a, k in enumerate(np.bincount(fake, minlength=200)):
        pairs += [(f"f{a:03d}", f"o{o}") for o in rng.choice(1_000, k, False)]
    club, popular = np.nonzero(rng.random((40, 30)) < 0.5)
    pairs += [(f"c{a:02d}", f"pop{v:02d}") for a, v in zip(club, popular, strict=True)]
    for v in range(30):
        pairs += [(f"u{a:04d}", f"pop{v:02d}") for a in rng.choice(1_000, 20, replace=False)]
    events = pd.DataFrame(pairs, columns=["account_id", "value"]).drop_duplicates()
    return events.assign(kind="object")


def test_without_ips_a_block_passed_over_gives_its_place_to_the_next(monkeypatch):
    # The club is the densest block, but owns none of its objects; the
    # camouflaged fake block, which Leiden cuts into pieces that score
    # nothing, is the next block peeled and is found only through it.
    events = _camouflaged_block_behind_a_club(seed=0)
    graph = build_graph(load_links(events))
    first, second = find_dense_blocks(graph, n_blocks=2)
    assert np.char.startswith(graph.links.account_ids[first.accounts].astype(str), "c").all()
    assert (
        np.char.startswith(graph.links.account_ids[second.accounts].astype(str), "f").sum() >= 180
    )

    def flagged(result):
        ids = result.accounts.loc[result.accounts["flagged"], "account_id"]
        return {p: ids.str.startswith(p).sum() for p in "fcu"}

    found = flagged(ag.detect(events))
    assert found["f"] >= 180 and found["c"] == 0 and found["u"] <= 10
    monkeypatch.setattr(ag.pipeline, "SPARE_BLOCKS", 0)
    assert flagged(ag.detect(events)) == {"f": 0, "c": 0, "u": 0}


def _block_cut_by_modularity():
    """A 200 x 200 block at density 0.06 in a sparse background: Leiden's
    pieces, their scores, the block peeled, and the pieces with the block
    adopted."""
    graph = build_graph(load_links(_block_in_background(seed=5, p=0.06, n_block=200)))
    pieces = find_communities(graph, seed=0)
    scores = score_communities(graph, pieces)
    blocks = find_dense_blocks(graph, n_blocks=1)
    return graph, pieces, scores, blocks, *adopt_dense_blocks(graph, pieces, scores, blocks)


def test_a_block_that_would_not_be_flagged_is_not_adopted():
    # Carved out, it would be a group of its own that the coarse merge
    # cannot join again.
    graph, pieces, scores, blocks, adopted, adopted_scores = _block_cut_by_modularity()
    block_score = adopted_scores.clusters["score"].max()
    assert block_score >= 0.5
    kept, _ = adopt_dense_blocks(graph, pieces, scores, blocks, threshold=block_score + 0.01)
    np.testing.assert_array_equal(kept.account_community, pieces.account_community)
    assert not np.array_equal(adopted.account_community, pieces.account_community)


def test_blocks_prepared_beforehand_are_weighed_as_prepared_there():
    # detect prepares the blocks in a worker beside Leiden and hands them
    # over: the same adoption as preparing them here, and what it hands
    # over is what is weighed (a block passed over is not adopted).
    graph, pieces, scores, blocks, adopted, adopted_scores = _block_cut_by_modularity()
    prepared = prepare_blocks(graph, blocks)
    given, given_scores = adopt_dense_blocks(graph, pieces, scores, blocks, prepared=prepared)
    np.testing.assert_array_equal(given.account_community, adopted.account_community)
    pd.testing.assert_frame_equal(given_scores.clusters, adopted_scores.clusters)
    passed, _ = adopt_dense_blocks(graph, pieces, scores, blocks, prepared=[None])
    np.testing.assert_array_equal(passed.account_community, pieces.account_community)


def test_a_block_is_adopted_over_its_pieces_but_a_farm_found_whole_is_not_split():
    graph, pieces, _, blocks, adopted, adopted_scores = _block_cut_by_modularity()
    fake = np.char.startswith(graph.links.account_ids.astype(str), "f")
    assert len(np.unique(pieces.account_community[fake])) > 3  # modularity cut it up
    held = adopted.account_community[fake]
    assert np.bincount(held[held >= 0]).max() >= 0.95 * fake.sum()
    # Adopting again changes nothing: the block is now one cluster that its
    # own block cannot out-score by the margin.
    again, _ = adopt_dense_blocks(graph, adopted, adopted_scores, blocks)
    np.testing.assert_array_equal(again.account_community, adopted.account_community)


def test_a_block_short_of_the_farm_gives_way_to_the_coarse_group_holding_it_whole():
    # Peeling reached three quarters of the farm; the coarse group of the
    # pieces Leiden cut the farm into is the farm whole. Adopted, the block
    # would be a group of its own and the merge could not report the farm.
    graph, pieces, scores, blocks, _, _ = _block_cut_by_modularity()
    fake = np.flatnonzero(np.char.startswith(graph.links.account_ids.astype(str), "f"))
    held = pieces.account_community[fake]
    in_farm = np.zeros(pieces.n_communities, dtype=bool)
    in_farm[held[held >= 0]] = True
    grouped = dataclasses.replace(
        pieces, parent=np.where(in_farm, 0, 1 + np.arange(pieces.n_communities))
    )
    part = dataclasses.replace(
        blocks[0], accounts=np.intersect1d(blocks[0].accounts, fake[: int(0.75 * len(fake))])
    )

    def flagged_fakes(communities):
        adopted, adopted_scores = adopt_dense_blocks(graph, communities, scores, [part])
        _, merged_scores = merge_on_evidence(graph, adopted, scores=adopted_scores)
        flagged = merged_scores.account_features["score"].to_numpy() >= 0.5
        changed = not np.array_equal(adopted.account_community, communities.account_community)
        n_fake = np.count_nonzero(flagged[fake])
        return changed, n_fake, np.count_nonzero(flagged) - n_fake

    # Without the group, the block is the best report there is...
    adopted, found_alone, others_alone = flagged_fakes(pieces)
    assert adopted and found_alone < 0.9 * len(fake)
    # ...with it, the group is reported whole and flags (nearly) the whole farm.
    adopted, found, others = flagged_fakes(grouped)
    assert not adopted
    assert found >= 0.95 * len(fake) and others == 0 == others_alone


def test_injected_block_is_flagged_with_few_background_accounts():
    events = _block_in_background(seed=6, p=0.06, n_block=200)
    result = ag.detect(events)
    flagged = set(result.accounts.loc[result.accounts["flagged"], "account_id"])
    fake = {f"f{a:03d}" for a in range(200)}
    assert len(flagged & fake) >= 0.95 * len(fake)
    assert len(flagged - fake) <= 0.05 * len(fake)
    assert "blocks" in result.provenance["timings_s"]


def _farm_with_strays(n_strays: int):
    """A 40-account farm found whole by the communities, save ``n_strays``
    accounts put into the largest background community (as Leiden does with
    FRAUDAR's hijacked accounts, whose own histories pull them away)."""
    graph = build_graph(load_links(_block_in_background(seed=7, p=0.3, n_block=40)))
    links = graph.links
    fake = np.flatnonzero(np.char.startswith(links.account_ids.astype(str), "f"))
    fake_objects = np.flatnonzero(np.char.startswith(links.attribute_values.astype(str), "fake"))
    communities = carve_block(find_communities(graph, seed=0), fake, fake_objects)
    farm = communities.account_community[fake[0]]
    others = communities.account_community[communities.account_community != farm]
    crowd = np.bincount(others[others >= 0]).argmax()
    account = communities.account_community.copy()
    account[fake[:n_strays]] = crowd
    split = dataclasses.replace(communities, account_community=account)
    return graph, split, fake, farm


def test_a_block_that_completes_a_flagged_community_is_adopted(monkeypatch):
    # The block scores no higher than the farm's community, but flags the strays.
    # Footing and the count of owned objects are left out: the block owns
    # more of its objects than the community the strays left, and would
    # out-score it by the margin outright (0.96 against 0.91 with footing;
    # 0.91 against 0.85 with the count), which is not the case this test is
    # about.
    monkeypatch.setitem(ag.scoring.FEATURE_WEIGHTS, "footing", 0.0)
    monkeypatch.setitem(ag.scoring.FEATURE_WEIGHTS, "owned", 0.0)
    # So is density on owned objects alone, for the same reason.
    monkeypatch.setattr(ag.scoring.footing_rules, "DENSITY_ON_OWNED", False)
    graph, split, fake, farm = _farm_with_strays(3)
    scores = score_communities(graph, split)
    assert (scores.account_features["score"].to_numpy()[fake[:3]] < 0.5).all()
    assert (scores.account_features["score"].to_numpy()[fake[3:]] >= 0.5).all()
    blocks = find_dense_blocks(graph, n_blocks=1)
    adopted, adopted_scores = adopt_dense_blocks(graph, split, scores, blocks)
    block_score = adopted_scores.clusters["score"].to_numpy()[adopted.account_community[fake[0]]]
    assert block_score <= scores.clusters["score"].to_numpy()[farm] + MERGE_MARGIN
    assert (adopted.account_community[fake] == adopted.account_community[fake[0]]).all()
    assert (adopted_scores.account_features["score"].to_numpy()[fake] >= 0.5).all()


def test_a_block_that_would_flag_many_more_accounts_is_not_adopted_on_completion():
    # Completion adds at most COMPLETION_LIMIT more flagged accounts; beyond
    # that a block must out-score its best piece by the margin (here: never).
    n_strays = int(40 * COMPLETION_LIMIT) + 2
    graph, split, fake, _ = _farm_with_strays(n_strays)
    scores = score_communities(graph, split)
    blocks = find_dense_blocks(graph, n_blocks=1)
    adopted, _ = adopt_dense_blocks(graph, split, scores, blocks, margin=1.0)
    np.testing.assert_array_equal(adopted.account_community, split.account_community)
    completed, _ = adopt_dense_blocks(graph, split, scores, blocks, margin=1.0, threshold=0.0)
    # With every account flagged already, there is nothing to complete either.
    np.testing.assert_array_equal(completed.account_community, split.account_community)


def _block_within_a_crowd():
    """One community: 12 accounts sharing 6 objects, and 36 accounts around
    them each sharing one of those objects and a private one; a second
    community that is a block whole (8 accounts sharing 3 objects)."""
    block = [(f"f{a:02d}", f"fake{v}") for a in range(12) for v in range(6)]
    crowd = [(f"c{a:02d}", f"fake{a % 6}") for a in range(36)]
    crowd += [(f"c{a:02d}", f"own{a:02d}") for a in range(36)]
    whole = [(f"w{a}", f"wobj{v}") for a in range(8) for v in range(3)]
    rows = block + crowd + whole
    graph = build_graph(
        load_links(pd.DataFrame(rows, columns=["account_id", "value"]).assign(kind="object"))
    )
    ids = graph.links.account_ids.astype(str)
    values = graph.links.attribute_values.astype(str)
    account_community = np.where(np.char.startswith(ids, "w"), 1, 0)
    attribute_community = np.where(np.char.startswith(values, "wobj"), 1, 0)
    return graph, account_community, attribute_community


def test_blocks_within_communities_are_peeled_on_their_own_edges():
    graph, account_community, attribute_community = _block_within_a_crowd()
    ids = graph.links.account_ids.astype(str)
    blocks = find_blocks_within(graph, account_community, attribute_community, np.array([0, 1]))
    # Community 1 is its block whole: nothing to split off.
    assert list(blocks) == [0]
    (block,) = blocks.values()
    assert set(ids[block.accounts]) == {f"f{a:02d}" for a in range(12)}
    assert set(graph.links.attribute_values[block.attributes]) == {f"fake{v}" for v in range(6)}
    assert np.isclose(block.density, _density(graph, block.accounts, block.attributes))
    # Only the communities asked for are peeled, and small blocks are not kept.
    assert find_blocks_within(graph, account_community, attribute_community, np.array([1])) == {}
    # A community without edges of its own (here: holding no node) has no block.
    assert list(
        find_blocks_within(graph, account_community, attribute_community, np.array([0, 5]))
    ) == [0]
    assert (
        find_blocks_within(
            graph, account_community, attribute_community, np.array([0]), min_accounts=13
        )
        == {}
    )


def test_blocks_within_communities_peeled_in_worker_processes_are_the_one_process_blocks(
    monkeypatch, caplog
):
    world = ag.synth.make_world(4_000, seed=3, farm_ips=(2, 5))
    graph = build_graph(load_links(world.events, accounts=world.accounts))
    communities = find_communities(graph, seed=0)
    labels = np.arange(communities.n_communities)
    args = (graph, communities.account_community, communities.attribute_community, labels)
    one = find_blocks_within(*args, n_jobs=1)
    # A small graph counts as worth the workers here.
    monkeypatch.setattr(blocks, "PARALLEL_MIN_PEEL_EDGES", 0)
    for n_jobs in (2, 3):
        with caplog.at_level("INFO", logger="acctgraph.blocks"):
            caplog.clear()
            parts = find_blocks_within(*args, n_jobs=n_jobs)
        assert any(f"in {n_jobs} processes" in r.getMessage() for r in caplog.records)
        assert list(parts) == list(one)
        for label, block in one.items():
            np.testing.assert_array_equal(parts[label].accounts, block.accounts)
            np.testing.assert_array_equal(parts[label].attributes, block.attributes)
            assert parts[label].density == block.density
    assert len(one) >= 3


def test_a_peeled_block_is_connected_and_leaves_the_other_parts_for_the_next():
    # Two identical, disjoint blocks: their union is as dense as either, and
    # the peeling meets it first. Reported as one, it would be a cluster of
    # accounts that share nothing.
    rows = [(f"a{a:02d}", f"x{o:02d}") for a in range(20) for o in range(20)]
    rows += [(f"b{a:02d}", f"y{o:02d}") for a in range(20) for o in range(20)]
    events = pd.DataFrame(rows, columns=["account_id", "value"]).assign(kind="object")
    graph = build_graph(load_links(events))
    first, second = find_dense_blocks(graph, n_blocks=2)
    ids = graph.links.account_ids.astype(str)
    assert sorted(ids[first.accounts]) == [f"a{a:02d}" for a in range(20)]
    assert sorted(ids[second.accounts]) == [f"b{a:02d}" for a in range(20)]
    assert first.density == pytest.approx(400 * blocks.fraudar_weight(20) / 40)


def test_blocks_peeled_beside_the_communities_are_those_peeled_after_them(monkeypatch):
    # With two processes the peeling (with the card and evidence groups)
    # runs in a forked worker while Leiden runs; the result must be the one
    # process's, to the last score.
    from acctgraph import pipeline

    started = []

    def counted(function, *args):
        started.append(function.__name__)
        return parallel.start_in_worker(function, *args)

    monkeypatch.setattr(pipeline, "start_in_worker", counted)
    events = _block_in_background(seed=6, p=0.06, n_block=200)
    alone = ag.detect(events, n_jobs=1)
    assert started == []
    beside = ag.detect(events, n_jobs=2)
    assert started == ["_find_candidates"]
    pd.testing.assert_frame_equal(alone.clusters, beside.clusters)
    pd.testing.assert_frame_equal(alone.accounts, beside.accounts)
    # Blocks and groups turned off: nothing to find, no worker.
    ag.detect(events, n_jobs=2, dense_blocks=0, card_groups=False, evidence_groups=False)
    assert started == ["_find_candidates"]
    ag.detect(events, n_jobs=2, dense_blocks=0)
    assert started == ["_find_candidates"] * 2


def _fail(message: str):
    raise ValueError(message)


def test_a_worker_s_result_and_its_error_reach_the_caller():
    assert parallel.start_in_worker(np.add, 2, 3)() == 5
    wait = parallel.start_in_worker(_fail, "bad block")
    with pytest.raises(ValueError, match="bad block"):
        wait()
    # A worker killed (as by the OOM killer) says so rather than hanging.
    wait = parallel.start_in_worker(os._exit, 3)
    with pytest.raises(
        RuntimeError, match="_exit's worker process ended without a result .exit code 3."
    ):
        wait()


def test_the_first_block_is_peeled_in_rounds_where_no_spare_is_peeled(monkeypatch):
    # With an IP kind no spare block is peeled, and the graph's dense block
    # is peeled in rounds above ROUNDS_ABOVE_NODES nodes (one node at a
    # time, it was most of the run at 10,000 accounts). Without one, spare
    # blocks are peeled, and one node at a time up to EXACT_BELOW_NODES, as
    # FRAUDAR's benchmark measured them.
    from acctgraph import pipeline

    asked = []
    peel = blocks.find_dense_blocks

    def recorded(graph, **kwargs):
        asked.append((kwargs["n_blocks"], kwargs["exact_below"], kwargs["refine_below"]))
        return peel(graph, **kwargs)

    monkeypatch.setattr(pipeline, "find_dense_blocks", recorded)
    world = ag.synth.make_world(2_000, seed=1)
    ag.detect(world.events, accounts=world.accounts, n_jobs=1)
    ag.detect(_block_in_background(seed=6, p=0.06, n_block=200), n_jobs=1)
    spares = pipeline.SPARE_BLOCKS
    exact = blocks.EXACT_BELOW_NODES
    assert asked == [(1, pipeline.ROUNDS_ABOVE_NODES, exact), (1 + spares, exact, exact)]
    assert pipeline.ROUNDS_ABOVE_NODES < blocks.EXACT_BELOW_NODES

    # In rounds, the first block of a small world is still its farm.
    graph = ag.build_graph(ag.load_links(world.events, accounts=world.accounts))
    (block,) = peel(graph, n_blocks=1, exact_below=pipeline.ROUNDS_ABOVE_NODES, refine_below=exact)
    ids = np.asarray(graph.links.account_ids)[block.accounts]
    role = world.truth.set_index("account_id").loc[ids, "role"]
    assert len(block.accounts) >= 20 and (role == "farm").all()


def test_the_rounds_densest_set_is_refined_up_to_its_own_bound():
    # Peeled in rounds, the densest set met is refined one node at a time
    # where it has at most refine_below nodes (exact_below by default).
    world = ag.synth.make_world(3_000, seed=1)
    graph = build_graph(ag.load_links(world.events, accounts=world.accounts))
    whole = find_dense_blocks(graph, n_blocks=1)  # one node at a time
    refined = find_dense_blocks(graph, n_blocks=1, exact_below=100, refine_below=10**6)
    rounds = find_dense_blocks(graph, n_blocks=1, exact_below=100)
    np.testing.assert_array_equal(refined[0].accounts, whole[0].accounts)
    assert refined[0].density == whole[0].density
    assert rounds[0].density < refined[0].density
    assert len(rounds[0].accounts) > len(refined[0].accounts)
