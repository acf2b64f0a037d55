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


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"churn_waves": 0}, "churn_waves must be an int >= 1"),
        ({"farm_ips": (5, 2)}, "farm_ips must be"),
        ({"farm_volume": 0.0}, "farm_volume must be >= 1"),
        ({"farm_synchrony": 1.5}, r"farm_synchrony must be in \[0, 1\]"),
        (
            {"household_proxy_share": 0.6, "datacenter_proxy_share": 0.6},
            "household_proxy_share \\+ datacenter_proxy_share must be <= 1",
        ),
        ({"largest_office": 5_000}, r"largest_office must be in \[2, n_accounts // 10\]"),
    ],
)
def test_bad_difficulty_knobs_raise_config_errors(kwargs, message):
    with pytest.raises(ag.ConfigError, match=message):
        ag.synth.make_world(2_000, **kwargs)


def _farm_values(world, kind, campaign=None):
    truth = world.truth[world.truth["role"] == "farm"]
    if campaign is not None:
        truth = truth[truth["group"] == campaign]
    events = world.events
    rows = events["account_id"].isin(truth["account_id"]) & (events["kind"] == kind)
    return events.loc[rows, "value"].astype(str)


def test_datacenter_proxies_sit_in_the_vpn_providers_asns():
    vpn_asns = {f"AS{a}" for a in (9001, 9002, 9011, 9012, 9021, 9022)}
    default = _farm_values(ag.synth.make_world(5_000, seed=1), "asn")
    datacenter = _farm_values(
        ag.synth.make_world(5_000, seed=1, datacenter_proxy_share=0.9, household_proxy_share=0.1),
        "asn",
    )
    assert default.isin(vpn_asns).mean() == 0.0
    assert datacenter.isin(vpn_asns).mean() > 0.6


def test_campaigns_on_one_proxy_network_share_ips():
    def overlap(world):
        first = set(_farm_values(world, "ip", "farm-0"))
        second = set(_farm_values(world, "ip", "farm-1"))
        return len(first & second) / len(second)

    # No borrowed home IPs and no carrier camouflage: only proxies link farms.
    proxies_only = {"household_proxy_share": 0.0, "camouflage": 0.0}
    assert overlap(ag.synth.make_world(5_000, seed=1, **proxies_only)) == 0.0
    shared = ag.synth.make_world(5_000, seed=1, shared_proxy_network=True, **proxies_only)
    assert overlap(shared) > 0.5


def test_churn_waves_replace_accounts_through_the_year():
    world = ag.synth.make_world(10_000, seed=1, churn_waves=6)
    farm = world.truth.loc[world.truth["group"] == "farm-0", "account_id"]
    created = world.accounts.set_index("account_id").loc[farm, "created_at"]
    weeks = (created - created.min()).dt.days // 7
    assert weeks.nunique() >= 6
    assert (created.max() - created.min()).days > 200
