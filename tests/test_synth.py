import pytest
from pandas.testing import assert_frame_equal

import acctgraph as ag


def test_same_seed_same_world():
    a = ag.synth.make_world(1_500, seed=5)
    b = ag.synth.make_world(1_500, seed=5)
    assert_frame_equal(a.events, b.events)
    assert_frame_equal(a.truth, b.truth)
    c = ag.synth.make_world(1_500, seed=6)
    assert not a.events.equals(c.events)


def test_world_holds_every_crowd_and_the_planted_farms():
    world = ag.synth.make_world(50_000, seed=1)
    counts = world.truth["role"].value_counts()
    for role in ("household", "carrier", "office", "university", "vpn", "developer", "farm"):
        assert counts[role] > 0
    campaigns = world.truth[world.truth["role"] == "farm"].groupby("group").size()
    assert campaigns["farm-0"] == 1_200  # 2.4% of the world
    assert len(world.accounts) == 50_000
    assert world.truth.loc[world.truth["role"] == "office", "group"].value_counts().max() == 1_000
    assert set(world.events["kind"]) == {"ip", "asn", "payment"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_accounts": 10}, "n_accounts must be an int >= 1000"),
        ({"camouflage": 2.0}, r"camouflage must be in \[0, 1\]"),
        ({"office_share": 0.9}, "must add up to < 0.9"),
    ],
)
def test_bad_knobs_raise_config_errors(kwargs, message):
    with pytest.raises(ag.ConfigError, match=message):
        ag.synth.make_world(**kwargs)
