import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import acctgraph as ag


@pytest.mark.parametrize("seed", [11, 12])
def test_planted_farms_are_found_on_small_worlds(seed):
    world = ag.synth.make_world(5_000, seed=seed)
    result = ag.detect(world.events, accounts=world.accounts)
    quality = ag.evaluate(result, world.truth)
    assert quality["precision"] >= 0.95
    assert quality["recall"] >= 0.95
    for crowd in ("office", "university", "vpn"):
        assert quality["flagged_by_role"][crowd] == 0


def _frames(result):
    return result.accounts, result.clusters, result.evidence


def test_same_clusters_and_ids_when_rows_are_shuffled(small_world, small_result):
    shuffled_events = small_world.events.sample(frac=1.0, random_state=99).reset_index(drop=True)
    shuffled_accounts = small_world.accounts.sample(frac=1.0, random_state=98)
    again = ag.detect(shuffled_events, accounts=shuffled_accounts)
    for expected, got in zip(_frames(small_result), _frames(again), strict=True):
        assert_frame_equal(expected, got)


def test_same_output_when_every_row_is_delivered_twice(small_world, small_result):
    twice = pd.concat([small_world.events, small_world.events], ignore_index=True)
    again = ag.detect(twice, accounts=small_world.accounts)
    for expected, got in zip(_frames(small_result), _frames(again), strict=True):
        assert_frame_equal(expected, got)
    assert again.provenance["input"]["n_duplicate_rows"] == len(small_world.events)


def test_identical_rows_without_timestamps_are_separate_observations():
    events = pd.DataFrame({"account_id": ["a", "a", "b"], "kind": "ip", "value": "x"})
    links = ag.load_links(events)
    assert links.count.tolist() == [2, 1]
    assert links.report.n_duplicate_rows == 0


def test_same_seed_gives_the_same_result_twice(small_world, small_result):
    again = ag.detect(small_world.events, accounts=small_world.accounts, random_state=0)
    for expected, got in zip(_frames(small_result), _frames(again), strict=True):
        assert_frame_equal(expected, got)


def test_cluster_ids_follow_score_then_size(small_result):
    clusters = small_result.clusters
    assert clusters["cluster_id"].tolist() == list(range(len(clusters)))
    keys = list(zip(-clusters["score"], -clusters["n_accounts"], strict=True))
    assert keys == sorted(keys)


def test_accounts_and_clusters_agree(small_world, small_result):
    accounts, clusters = small_result.accounts, small_result.clusters
    assert len(accounts) == small_world.accounts["account_id"].nunique()
    assert accounts["account_id"].is_unique
    sizes = accounts.loc[accounts["cluster_id"] >= 0].groupby("cluster_id").size()
    assert sizes.to_dict() == clusters.set_index("cluster_id")["n_accounts"].to_dict()
    # Outside clusters, an account's score is its own behaviour's alone,
    # under the default threshold, unless it is paired with a farm.
    alone = accounts.loc[(accounts["cluster_id"] < 0) & ~accounts["farm_pair"]]
    lift = np.where(alone["farm_day"], 2.0, 1.0) * alone["farm_networks"]
    assert (alone["score"] == 0.1 * alone["own_behaviour"] * lift).all()
    assert (alone["score"] <= 0.2).all() and not alone["flagged"].any()
    assert (accounts["flagged"] == (accounts["score"] >= small_result.threshold)).all()


def test_accounts_without_events_are_in_the_output_unclustered(small_world):
    extra = pd.DataFrame(
        {"account_id": ["zz-new-1", "zz-new-2"], "created_at": pd.Timestamp("2025-06-01")}
    )
    result = ag.detect(
        small_world.events, accounts=pd.concat([small_world.accounts, extra], ignore_index=True)
    )
    rows = result.accounts.set_index("account_id").loc[["zz-new-1", "zz-new-2"]]
    assert (rows["cluster_id"] == -1).all()
    assert not rows["flagged"].any()


def test_explain_gives_members_shared_attributes_and_contributions(small_result):
    top = small_result.explain(0)
    assert len(top.members) == small_result.clusters.loc[0, "n_accounts"]
    assert (top.shared_attributes["n_members"] >= 2).all()
    assert top.features["contribution"].sum() == pytest.approx(
        small_result.clusters.filter(like="contrib_").iloc[0].sum()
    )
    assert "Cluster 0" in repr(top)
    with pytest.raises(ag.UnknownClusterError, match="no cluster 10000"):
        small_result.explain(10_000)
    with pytest.raises(KeyError):
        small_result.explain(-5)


def test_provenance_records_versions_parameters_and_seed(small_world):
    result = ag.detect(small_world.events.head(2_000), random_state=np.random.default_rng(4))
    prov = result.provenance
    assert prov["versions"]["leidenalg"]
    assert prov["versions"]["igraph"]
    assert prov["parameters"]["resolution"] == 1.0
    assert prov["parameters"]["seed"] == int(np.random.default_rng(4).integers(0, 2**31 - 1))
    assert prov["input"]["n_event_rows"] == 2_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": -1}, "resolution must be a float > 0; got -1"),
        ({"threshold": 1.5}, r"threshold must be a float in \[0, 1\]; got 1.5"),
        ({"min_cluster_size": 1}, "min_cluster_size must be an int >= 2; got 1"),
        ({"max_attribute_degree": 2.5}, "max_attribute_degree must be an int >= 2; got 2.5"),
        ({"random_state": "seven"}, "random_state must be an int"),
        ({"ip_kind": ""}, "ip_kind must be a non-empty string"),
    ],
)
def test_bad_parameters_raise_config_errors_saying_what_was_expected(kwargs, message):
    events = pd.DataFrame({"account_id": ["a"], "kind": ["ip"], "value": ["1"]})
    with pytest.raises(ag.ConfigError, match=message):
        ag.detect(events, **kwargs)


def test_input_without_any_shared_attribute_gives_no_clusters():
    events = pd.DataFrame({"account_id": ["a", "b"], "kind": "ip", "value": ["1", "2"]})
    result = ag.detect(events)
    assert result.clusters.empty
    assert result.accounts["cluster_id"].tolist() == [-1, -1]
    assert not result.accounts["flagged"].any()
