"""Synthetic labelled worlds: planted account farms among innocent crowds.

A world holds ordinary households and every innocent crowd that shares
attributes without being coordinated, plus planted farm campaigns:

=============  ==========================================================
role           how it shares attributes
=============  ==========================================================
household      1-5 members behind one home IP; some share a family card;
               many also use mobile carrier NAT IPs
carrier        mobile-only users rotating through a carrier's NAT IPs,
               each NAT IP shared by hundreds of unrelated users
office         up to thousands of employees behind one or two egress IPs,
               paying with one corporate card, most created on a rollout
               day, each also seen from home
university     thousands of students behind a few NAT IPs, created around
               semester starts, own cards
vpn            commercial VPN users rotating through a provider's exits
               (each shared by hundreds), hosting ASNs, own cards
developer      cloud-hosted developers: a few cloud IPs, cloud ASNs, very
               high request volume, own cards
farm           coordinated campaigns: accounts created in bursts, each
               rotating through 8-40 residential proxy IPs spread over many
               ASNs (some of them real households' IPs), paying from a small
               shared pool of cards, sending ~50x the requests of ordinary
               users, run by scripts in the campaign's operating hour, and
               touching busy carrier IPs as camouflage
=============  ==========================================================

Difficulty knobs (fields of :class:`WorldConfig`) make farms harder to tell
from crowds: ``camouflage``, ``household_proxy_share``, ``unique_cards``,
``shared_proxy_network``, ``datacenter_proxy_share``, ``churn_waves``,
``farm_ips``, ``farm_volume``, ``farm_synchrony`` and small ``farm_shares``.

Everything is vectorised numpy, seeded, and scales from 1,000 to millions of
accounts. Events come aggregated (one row per account-attribute link with a
``count``), which is the long input form :func:`acctgraph.detect` reads.

Examples
--------
>>> from acctgraph.synth import make_world
>>> world = make_world(2_000, seed=1)
>>> sorted(world.truth["role"].unique())[:3]
['carrier', 'developer', 'farm']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import ConfigError

__all__ = ["World", "WorldConfig", "make_world", "write_request_log"]

_START = np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64)
_DAY = 86_400
_HOUR = 3_600


@dataclass(frozen=True)
class WorldConfig:
    """Knobs of a synthetic world.

    Parameters
    ----------
    n_accounts : int
        Total accounts, all roles together (approximately; farms and crowds
        are rounded to whole groups).
    seed : int
    farm_shares : tuple of float
        Size of each farm campaign as a share of ``n_accounts`` (each at
        least 20 accounts). The default plants one campaign of 2.4% (the
        24,000-account case at 1,000,000 accounts) and three smaller ones.
    camouflage : float
        Probability that a farm account also uses 1-3 busy carrier NAT IPs.
    household_proxy_share : float
        Share of a farm's proxy IPs that are real households' home IPs.
    unique_cards : bool
        Farms pay with a card of each account's own (linked by IPs only).
    shared_proxy_network : bool
        Every campaign rents its proxies from one network (one pool of IPs),
        as customers of the same "hydra" provider do.
    datacenter_proxy_share : float
        Share of farms' proxy IPs that are datacenter IPs in the same ASNs as
        the commercial VPN providers' exits.
    churn_waves : int
        Banned accounts are replaced: each campaign is created in this many
        waves spread over the period, each wave on the same proxies and
        cards. 1 (default) plants each campaign in 1-6 random bursts.
    farm_ips : tuple of int
        Fewest and most proxy IPs each farm account rotates through.
    farm_volume : float
        Median requests per farm account (ordinary users send 30-80).
    farm_synchrony : float
        Share of farm links first used in the campaign's operating hour (a
        scheduled job), the rest at times as random as an ordinary user's.
    largest_office : int, optional
        Size of the largest office; default ``min(2000, n_accounts // 50)``.
    office_share, university_share, carrier_share, vpn_share, developer_share : float
        Shares of ``n_accounts`` in each innocent crowd; households fill the rest.
    span_days : int
        Length of the observed period.
    """

    n_accounts: int = 10_000
    seed: int = 0
    farm_shares: tuple[float, ...] = (0.024, 0.003, 0.0012, 0.0006)
    camouflage: float = 0.5
    household_proxy_share: float = 0.1
    unique_cards: bool = False
    shared_proxy_network: bool = False
    datacenter_proxy_share: float = 0.0
    churn_waves: int = 1
    farm_ips: tuple[int, int] = (8, 40)
    farm_volume: float = 2_000.0
    farm_synchrony: float = 0.8
    largest_office: int | None = None
    office_share: float = 0.08
    university_share: float = 0.06
    carrier_share: float = 0.15
    vpn_share: float = 0.05
    developer_share: float = 0.03
    span_days: int = 365

    def __post_init__(self) -> None:
        if not isinstance(self.n_accounts, (int, np.integer)) or self.n_accounts < 1_000:
            raise ConfigError(f"n_accounts must be an int >= 1000; got {self.n_accounts!r}")
        shares = (
            sum(self.farm_shares)
            + self.office_share
            + self.university_share
            + self.carrier_share
            + self.vpn_share
            + self.developer_share
        )
        if shares >= 0.9:
            raise ConfigError(f"farm and crowd shares must add up to < 0.9; got {shares:.3f}")
        for name in (
            "camouflage",
            "household_proxy_share",
            "datacenter_proxy_share",
            "farm_synchrony",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1]; got {value!r}")
        if self.household_proxy_share + self.datacenter_proxy_share > 1.0:
            raise ConfigError(
                "household_proxy_share + datacenter_proxy_share must be <= 1; got "
                f"{self.household_proxy_share + self.datacenter_proxy_share:.3f}"
            )
        if not isinstance(self.churn_waves, (int, np.integer)) or self.churn_waves < 1:
            raise ConfigError(f"churn_waves must be an int >= 1; got {self.churn_waves!r}")
        if not 1 <= self.farm_ips[0] <= self.farm_ips[1]:
            raise ConfigError(
                f"farm_ips must be (low, high) with 1 <= low <= high; got {self.farm_ips!r}"
            )
        if not self.farm_volume >= 1.0:
            raise ConfigError(f"farm_volume must be >= 1; got {self.farm_volume!r}")
        if (
            self.largest_office is not None
            and not 2 <= self.largest_office <= self.n_accounts // 10
        ):
            raise ConfigError(
                f"largest_office must be in [2, n_accounts // 10]; got {self.largest_office!r}"
            )


@dataclass(frozen=True)
class World:
    """A generated world.

    Attributes
    ----------
    events : DataFrame
        Long events: ``account_id, kind, value, count, ts`` (``ts`` = first
        seen); the three text columns are categorical, so each distinct id or
        value is stored once.
    accounts : DataFrame
        ``account_id, created_at``.
    truth : DataFrame
        ``account_id, role, group``: the planted labels (``role == "farm"``
        for farm accounts; ``group`` names the campaign or crowd).
    config : WorldConfig
    ip_asn : Series
        The ASN of every IP in ``events``, indexed by IP.
    """

    events: pd.DataFrame
    accounts: pd.DataFrame
    truth: pd.DataFrame
    config: WorldConfig = field(repr=False)
    ip_asn: pd.Series = field(default_factory=lambda: pd.Series(dtype=object), repr=False)

    @property
    def farm_accounts(self) -> set[str]:
        return set(self.truth.loc[self.truth["role"] == "farm", "account_id"])


class _Builder:
    """Accumulates accounts, IPs, cards and links as numpy arrays."""

    def __init__(self, rng: np.random.Generator, span_days: int) -> None:
        self.rng = rng
        self.span = span_days * _DAY
        self.ip_asn: list[np.ndarray] = []
        self.n_ips = 0
        self.n_cards = 0
        self.roles: list[np.ndarray] = []
        self.groups: list[np.ndarray] = []
        self.created: list[np.ndarray] = []
        self.volume: list[np.ndarray] = []
        self.hour: list[np.ndarray] = []
        self.n_acc = 0
        self.ip_links: list[tuple[np.ndarray, np.ndarray]] = []
        self.card_links: list[tuple[np.ndarray, np.ndarray]] = []

    # -- entities ---------------------------------------------------------
    def new_ips(self, asns: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n_ips, self.n_ips + len(asns))
        self.ip_asn.append(np.asarray(asns, dtype=np.int64))
        self.n_ips += len(asns)
        return ids

    def new_cards(self, n: int) -> np.ndarray:
        ids = np.arange(self.n_cards, self.n_cards + n)
        self.n_cards += n
        return ids

    def new_accounts(
        self,
        n: int,
        role: str,
        group: np.ndarray | str,
        created: np.ndarray,
        volume_median: float,
        volume_sigma: float = 1.0,
        hour: int = -1,
    ) -> np.ndarray:
        ids = np.arange(self.n_acc, self.n_acc + n)
        self.n_acc += n
        self.roles.append(np.full(n, role, dtype=object))
        self.groups.append(np.broadcast_to(np.asarray(group, dtype=object), (n,)).copy())
        # Fold times outside the period back into it: clipping would pile
        # accounts on its first or last second (a false creation burst).
        self.created.append(_START + (created.astype(np.int64) - _START) % self.span)
        self.volume.append(self.rng.lognormal(np.log(volume_median), volume_sigma, n))
        # The hour of day (UTC) a scheduled job runs the account; -1 for people.
        self.hour.append(np.full(n, hour, dtype=np.int64))
        return ids

    def uniform_times(self, n: int) -> np.ndarray:
        return _START + self.rng.integers(0, self.span, n)

    # -- links ------------------------------------------------------------
    def link_ips(self, accounts: np.ndarray, ips: np.ndarray) -> None:
        self.ip_links.append((np.asarray(accounts), np.asarray(ips)))

    def link_cards(self, accounts: np.ndarray, cards: np.ndarray) -> None:
        self.card_links.append((np.asarray(accounts), np.asarray(cards)))

    def link_from_pool(self, accounts: np.ndarray, pool: np.ndarray, low: int, high: int) -> None:
        """Each account draws between ``low`` and ``high`` IPs from ``pool``."""
        k = self.rng.integers(low, high + 1, len(accounts))
        acc = np.repeat(accounts, k)
        self.link_ips(acc, pool[self.rng.integers(0, len(pool), len(acc))])

    def own_cards(self, accounts: np.ndarray, p: float) -> None:
        has = accounts[self.rng.random(len(accounts)) < p]
        self.link_cards(has, self.new_cards(len(has)))

    def home_ips(
        self, accounts: np.ndarray, p: float, asn_pool: np.ndarray, asn_p: np.ndarray
    ) -> None:
        has = accounts[self.rng.random(len(accounts)) < p]
        self.link_ips(has, self.new_ips(self.rng.choice(asn_pool, len(has), p=asn_p)))


def make_world(n_accounts: int = 10_000, *, seed: int = 0, **knobs: object) -> World:
    """Generate a labelled synthetic world.

    Parameters
    ----------
    n_accounts : int, default=10_000
    seed : int, default=0
    **knobs
        Any other :class:`WorldConfig` field.

    Returns
    -------
    World
    """
    config = WorldConfig(n_accounts=n_accounts, seed=seed, **knobs)  # type: ignore[arg-type]
    rng = np.random.default_rng(config.seed)
    b = _Builder(rng, config.span_days)
    n = config.n_accounts

    # Autonomous systems: residential ISPs with a Zipf-like share of users,
    # mobile carriers, VPN/hosting providers, clouds, universities, businesses.
    res_asn = np.arange(7_000, 7_060)
    res_p = 1.0 / np.arange(1, 61)
    res_p /= res_p.sum()
    carrier_asn = np.array([21_001, 21_002, 21_003])
    vpn_asn = np.array([[9_001, 9_002], [9_011, 9_012], [9_021, 9_022]])
    cloud_asn = np.array([16_509, 15_169, 8_075])

    # Carrier NAT pools, sized so each NAT IP carries ~300 users.
    mobile_users_est = int(0.5 * n * 0.4 + config.carrier_share * n + 0.3 * config.office_share * n)
    carrier_pools = [
        b.new_ips(np.full(max(4, mobile_users_est * 4 // 3 // 300), asn)) for asn in carrier_asn
    ]

    def use_carrier(accounts: np.ndarray, p: float, low: int, high: int) -> None:
        users = accounts[rng.random(len(accounts)) < p]
        which = rng.integers(0, len(carrier_pools), len(users))
        for i, pool in enumerate(carrier_pools):
            b.link_from_pool(users[which == i], pool, low, high)

    # ---- farms first, so their proxy pools can borrow household IPs later
    farm_sizes = [max(20, int(round(s * n))) for s in config.farm_shares]
    farm_pools: list[tuple[np.ndarray, np.ndarray]] = []
    if config.shared_proxy_network:
        network = _proxy_pool(b, 3 * sum(farm_sizes), config, res_asn, res_p, vpn_asn)
    for c, size in enumerate(farm_sizes):
        if config.churn_waves > 1:
            # Each wave replaces the last one's banned accounts.
            waves = config.churn_waves
            centers = _START + ((np.arange(waves) + rng.random(waves)) * b.span / waves)
            centers = centers.astype(np.int64)
            created = centers[np.arange(size) * waves // size] + rng.normal(0, 6 * _HOUR, size)
        else:
            n_bursts = int(np.clip(size // 500, 1, 6))
            centers = b.uniform_times(n_bursts)
            created = centers[rng.integers(0, n_bursts, size)] + rng.normal(0, 6 * _HOUR, size)
        acc = b.new_accounts(
            size,
            "farm",
            f"farm-{c}",
            created,
            volume_median=config.farm_volume,
            volume_sigma=0.5,
            hour=int(rng.integers(0, 24)),
        )
        if config.shared_proxy_network:
            pool = network
        else:
            pool = _proxy_pool(b, size * 3, config, res_asn, res_p, vpn_asn)
        farm_pools.append((acc, pool))
        if config.unique_cards:
            b.own_cards(acc, 1.0)
        else:
            cards = b.new_cards(max(2, size // 40))
            b.link_cards(acc, cards[rng.integers(0, len(cards), size)])
            second = acc[rng.random(size) < 0.3]
            b.link_cards(second, cards[rng.integers(0, len(cards), len(second))])
        use_carrier(acc, config.camouflage, 1, 3)

    # ---- innocent crowds
    def split_sizes(total: int, median: float, largest: list[int]) -> list[int]:
        sizes = [s for s in largest if s <= total]
        while sum(sizes) < total:
            sizes.append(int(np.clip(rng.lognormal(np.log(median), 1.0), 5, 5_000)))
        sizes[-1] -= sum(sizes) - total
        return [s for s in sizes if s >= 2]

    largest_office = config.largest_office or min(2_000, n // 50)
    for o, size in enumerate(
        split_sizes(int(config.office_share * n), 40, [largest_office, n // 125])
    ):
        rollout = b.uniform_times(1)[0]
        created = np.where(
            rng.random(size) < 0.6,
            rollout + rng.integers(0, 8 * _HOUR, size),
            rollout + rng.integers(0, 300 * _DAY, size),
        )
        acc = b.new_accounts(size, "office", f"office-{o}", created, volume_median=80)
        egress = b.new_ips(np.full(1 + int(size > 200), rng.choice(res_asn, p=res_p)))
        b.link_ips(acc, egress[rng.integers(0, len(egress), size)])
        corporate = acc[rng.random(size) < 0.9]
        b.link_cards(corporate, np.full(len(corporate), b.new_cards(1)[0]))
        b.own_cards(np.setdiff1d(acc, corporate), 0.8)
        b.home_ips(acc, 0.6, res_asn, res_p)
        use_carrier(acc, 0.3, 1, 3)

    uni_total = int(config.university_share * n)
    for u, size in enumerate(split_sizes(uni_total, max(50, uni_total // 3), [])):
        semester = _START + np.array([35, 243]) * _DAY
        created = np.where(
            rng.random(size) < 0.5,
            semester[rng.integers(0, 2, size)] + rng.normal(0, 4 * _DAY, size),
            b.uniform_times(size),
        )
        acc = b.new_accounts(size, "university", f"university-{u}", created, volume_median=30)
        nat = b.new_ips(np.full(int(rng.integers(2, 7)), 30_000 + u))
        b.link_from_pool(acc, nat, 1, 3)
        b.own_cards(acc, 0.6)
        b.home_ips(acc, 0.3, res_asn, res_p)

    n_carrier = int(config.carrier_share * n)
    acc = b.new_accounts(
        n_carrier, "carrier", "carrier", b.uniform_times(n_carrier), volume_median=30
    )
    use_carrier(acc, 1.0, 2, 8)
    b.own_cards(acc, 0.8)

    n_vpn = int(config.vpn_share * n)
    acc = b.new_accounts(n_vpn, "vpn", "vpn", b.uniform_times(n_vpn), volume_median=60)
    provider = rng.integers(0, len(vpn_asn), n_vpn)
    for p in range(len(vpn_asn)):
        users = acc[provider == p]
        exits = b.new_ips(rng.choice(vpn_asn[p], max(4, len(users) * 7 // 400)))
        b.link_from_pool(users, exits, 3, 12)
    b.own_cards(acc, 0.9)
    b.home_ips(acc, 0.5, res_asn, res_p)

    n_dev = int(config.developer_share * n)
    acc = b.new_accounts(
        n_dev, "developer", "developer", b.uniform_times(n_dev), volume_median=3_000
    )
    cloud_ips = b.new_ips(rng.choice(cloud_asn, n_dev * 3))
    b.link_from_pool(acc, cloud_ips, 1, 4)
    b.own_cards(acc, 0.9)

    # ---- households fill the rest
    n_house_accounts = n - b.n_acc
    sizes = rng.choice([1, 2, 3, 4, 5], p=[0.45, 0.25, 0.15, 0.1, 0.05], size=n_house_accounts)
    sizes = sizes[np.cumsum(sizes) <= n_house_accounts]
    if sizes.sum() < n_house_accounts:
        sizes = np.append(sizes, n_house_accounts - sizes.sum())
    household = np.repeat(np.arange(len(sizes)), sizes)
    acc = b.new_accounts(
        len(household),
        "household",
        np.char.add("household-", household.astype(str)).astype(object),
        b.uniform_times(len(household)),
        volume_median=40,
    )
    homes = b.new_ips(rng.choice(res_asn, len(sizes), p=res_p))
    b.link_ips(acc, homes[household])
    family_card = b.new_cards(len(sizes))
    shares_card = rng.random(len(acc)) < 0.3
    b.link_cards(acc[shares_card], family_card[household[shares_card]])
    b.own_cards(acc[~shares_card], 0.75)
    use_carrier(acc, 0.4, 1, 4)
    b.home_ips(acc, 0.2, res_asn, res_p)

    # Farms' proxy pools include real households' home IPs: the "hydra" mix.
    # With one shared network, every campaign sees the same borrowed homes.
    borrowed: dict[int, np.ndarray] = {}
    for farm_acc, pool in farm_pools:
        if id(pool) not in borrowed:
            n_borrow = int(round(config.household_proxy_share * len(pool)))
            mixed = pool.copy()
            mixed[:n_borrow] = rng.choice(homes, n_borrow, replace=False)
            borrowed[id(pool)] = mixed
        b.link_from_pool(farm_acc, borrowed[id(pool)], *config.farm_ips)

    return _assemble(b, config)


def _proxy_pool(
    b: _Builder,
    size: int,
    config: WorldConfig,
    res_asn: np.ndarray,
    res_p: np.ndarray,
    vpn_asn: np.ndarray,
) -> np.ndarray:
    """New proxy IPs: residential, plus datacenter IPs in the VPN providers' ASNs."""
    asns = b.rng.choice(res_asn, size, p=res_p)
    datacenter = b.rng.random(size) < config.datacenter_proxy_share
    asns[datacenter] = b.rng.choice(vpn_asn.ravel(), int(datacenter.sum()))
    # Household IPs are borrowed from the front of the pool; keep them residential.
    return b.new_ips(asns[np.argsort(datacenter, kind="stable")])


def _assemble(b: _Builder, config: WorldConfig) -> World:
    rng = b.rng
    roles = np.concatenate(b.roles)
    groups = np.concatenate(b.groups)
    created = np.concatenate(b.created)
    volume = np.concatenate(b.volume)
    hour = np.concatenate(b.hour)
    ip_asn = np.concatenate(b.ip_asn)
    n_acc = b.n_acc

    # Account ids in random order, so that the id says nothing of the role.
    width = len(str(n_acc)) + 1
    ids = np.char.add("u", np.char.zfill(rng.permutation(n_acc).astype(str), width)).astype(object)

    acc = np.concatenate([a for a, _ in b.ip_links])
    ip = np.concatenate([i for _, i in b.ip_links])
    key = np.unique(acc.astype(np.int64) * b.n_ips + ip)
    acc, ip = key // b.n_ips, key % b.n_ips
    # Split each account's requests over its IPs with random shares.
    share = rng.exponential(1.0, len(acc))
    total = np.bincount(acc, weights=share, minlength=n_acc)
    count = np.maximum(1, np.round(volume[acc] * share / total[acc])).astype(np.int64)
    first = created[acc] + rng.exponential(20 * _DAY, len(acc)).astype(np.int64)
    # Scripted accounts first use an IP in their campaign's operating hour,
    # on one of the days after their creation (SynchroTrap's observation).
    scheduled = (hour[acc] >= 0) & (rng.random(len(acc)) < config.farm_synchrony)
    day = created[acc[scheduled]] // _DAY + 1 + rng.geometric(0.1, int(scheduled.sum()))
    first[scheduled] = (
        day * _DAY + hour[acc[scheduled]] * _HOUR + rng.integers(0, _HOUR, int(scheduled.sum()))
    )
    # Past the end of the period: fold back into [created, end) rather than
    # clip, which would pile links on the last second (a false synchrony).
    room = np.maximum(_START + b.span - created[acc], 1)
    first = created[acc] + (first - created[acc]) % room

    asn_frame = (
        pd.DataFrame({"acc": acc, "asn": ip_asn[ip], "count": count, "ts": first})
        .groupby(["acc", "asn"], sort=True)
        .agg(count=("count", "sum"), ts=("ts", "min"))
        .reset_index()
    )
    card_acc = np.concatenate([a for a, _ in b.card_links])
    card = np.concatenate([c for _, c in b.card_links])
    card_key = np.unique(card_acc.astype(np.int64) * b.n_cards + card)
    card_acc, card = card_key // b.n_cards, card_key % b.n_cards

    # Each distinct IP, ASN and card is formatted once; rows hold integer codes
    # (categorical columns), so a 10,000,000-account world fits in memory.
    used_ips, ip_code = np.unique(ip, return_inverse=True)
    used_asns, asn_code = np.unique(asn_frame["asn"].to_numpy(), return_inverse=True)
    used_cards, card_code = np.unique(card, return_inverse=True)
    values = np.concatenate(
        [
            _format_ips(used_ips),
            np.char.add("AS", used_asns.astype(str)).astype(object),
            _card_tokens(used_cards, config.seed),
        ]
    )
    value_code = np.concatenate(
        [ip_code, asn_code + len(used_ips), card_code + len(used_ips) + len(used_asns)]
    )
    sizes = [len(acc), len(asn_frame), len(card_acc)]
    account_code = np.concatenate([acc, asn_frame["acc"].to_numpy(), card_acc])
    kind_code = np.repeat(np.arange(3, dtype=np.int8), sizes)
    counts = np.concatenate(
        [count, asn_frame["count"].to_numpy(), 1 + rng.poisson(2.0, len(card_acc))]
    ).astype(np.int64)
    seen = np.concatenate([first, asn_frame["ts"].to_numpy(), created[card_acc]])
    order = rng.permutation(len(account_code))  # rows in no meaningful order
    events = pd.DataFrame(
        {
            "account_id": pd.Categorical.from_codes(account_code[order].astype(np.int32), ids),
            "kind": pd.Categorical.from_codes(kind_code[order], ["ip", "asn", "payment"]),
            "value": pd.Categorical.from_codes(value_code[order].astype(np.int32), values),
            "count": counts[order],
            "ts": seen[order].astype("datetime64[s]").astype("datetime64[ns]"),
        }
    )
    accounts = pd.DataFrame(
        {"account_id": ids, "created_at": created.astype("datetime64[s]").astype("datetime64[ns]")}
    ).sort_values("account_id", ignore_index=True)
    truth = pd.DataFrame({"account_id": ids, "role": roles, "group": groups}).sort_values(
        "account_id", ignore_index=True
    )
    asn_text = np.char.add("AS", ip_asn[used_ips].astype(str)).astype(object)
    return World(
        events=events,
        accounts=accounts,
        truth=truth,
        config=config,
        ip_asn=pd.Series(asn_text, index=pd.Index(values[: len(used_ips)], name="ip"), name="asn"),
    )


def write_request_log(
    world: World,
    folder: str | Path,
    *,
    rows_per_account: float = 30.0,
    n_files: int = 7,
    seed: int = 0,
) -> dict[str, object]:
    """Write a world as a raw request log: one parquet row per request.

    The log is what a T&S pipeline reads: ``requests-NN.parquet`` files (one
    per period, as daily files would be) with ``account_id, ts, ip, asn``,
    one row per request, plus ``accounts.parquet`` with ``account_id,
    created_at, payment, payment_2`` (a second card where the account has
    one). Each account-IP link of the world becomes ``max(1, round(count *
    scale))`` requests, ``scale`` chosen so that the log holds about
    ``rows_per_account`` rows per account; the first at the link's first-seen
    time, the rest uniform over the remaining period. Text columns are
    dictionary-encoded, so no Python string is made per row.

    Parameters
    ----------
    world : World
    folder : str or Path
        Created; must not exist yet.
    rows_per_account : float, default=30.0
    n_files : int, default=7
        Files the period is split into, by request time.
    seed : int, default=0

    Returns
    -------
    dict
        ``n_rows``, ``n_files``, ``bytes`` and ``requests_glob`` (for
        :func:`acctgraph.detect` with ``attributes=["ip", "asn"]``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> world = make_world(2_000, seed=1)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "log"
    >>> info = write_request_log(world, out)
    >>> info["n_rows"] > 50_000
    True
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    events = world.events
    is_ip = (events["kind"] == "ip").to_numpy()
    account_code = events["account_id"].cat.codes.to_numpy()[is_ip]
    value_code = events["value"].cat.codes.to_numpy()[is_ip]
    count = events["count"].to_numpy()[is_ip]
    first = events["ts"].to_numpy()[is_ip].astype("datetime64[s]").astype(np.int64)

    # Each IP value's ASN, as codes into one ASN dictionary.
    value_categories = events["value"].cat.categories
    asn_of_value = world.ip_asn.reindex(value_categories)
    asn_codes, asn_dictionary = pd.factorize(asn_of_value.to_numpy(), use_na_sentinel=True)

    n_accounts = len(events["account_id"].cat.categories)
    scale = rows_per_account * n_accounts / max(int(count.sum()), 1)
    per_link = np.maximum(1, np.round(count * scale)).astype(np.int64)
    link = np.repeat(np.arange(len(count)), per_link)
    is_first = np.ones(len(link), dtype=bool)
    is_first[1:] = link[1:] != link[:-1]
    end = _START + world.config.span_days * _DAY
    room = np.maximum(end - first[link], 1)
    ts = np.where(is_first, first[link], first[link] + rng.integers(0, room))

    edges = np.quantile(ts, np.linspace(0, 1, n_files + 1)[1:-1]) if n_files > 1 else []
    part = np.searchsorted(np.asarray(edges), ts, side="right")
    account_dictionary = pa.array(events["account_id"].cat.categories.to_numpy(dtype=object))
    value_dictionary = pa.array(value_categories.to_numpy(dtype=object))
    asn_array = pa.array(asn_dictionary.astype(object))
    total_bytes = 0
    for p in range(n_files):
        rows = np.flatnonzero(part == p)
        rows = rows[np.argsort(ts[rows], kind="stable")]
        table = pa.table(
            {
                "account_id": pa.DictionaryArray.from_arrays(
                    pa.array(account_code[link[rows]].astype(np.int32)), account_dictionary
                ),
                "ts": pa.array(ts[rows].astype("datetime64[s]")),
                "ip": pa.DictionaryArray.from_arrays(
                    pa.array(value_code[link[rows]].astype(np.int32)), value_dictionary
                ),
                "asn": pa.DictionaryArray.from_arrays(
                    pa.array(asn_codes[value_code[link[rows]]].astype(np.int32)), asn_array
                ),
            }
        )
        path = folder / f"requests-{p:02d}.parquet"
        pq.write_table(table, path)
        total_bytes += path.stat().st_size

    cards = events[(events["kind"] == "payment").to_numpy()]
    cards = cards.sort_values(["account_id", "value"], kind="stable")
    rank = cards.groupby("account_id", observed=True).cumcount().to_numpy()
    accounts = world.accounts.copy()
    for i, column in enumerate(("payment", "payment_2")):
        chosen = cards[rank == i]
        accounts[column] = accounts["account_id"].map(
            pd.Series(
                chosen["value"].astype(str).to_numpy(), index=chosen["account_id"].astype(str)
            )
        )
    accounts.to_parquet(folder / "accounts.parquet", index=False)
    return {
        "n_rows": int(len(link)),
        "n_files": n_files,
        "bytes": total_bytes,
        "requests_glob": str(folder / "requests-*.parquet"),
    }


def _format_ips(ip: np.ndarray) -> np.ndarray:
    """Distinct integers to distinct dotted quads in 11.0.0.0 and up."""
    value = ip.astype(np.int64) + (11 << 24)
    octets = [(value >> shift) & 255 for shift in (24, 16, 8, 0)]
    text = octets[0].astype(str)
    for o in octets[1:]:
        text = np.char.add(np.char.add(text, "."), o.astype(str))
    return text.astype(object)


def _card_tokens(card: np.ndarray, seed: int) -> np.ndarray:
    """Opaque card fingerprints, as a payment processor would hand them out."""
    mixed = (card.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed * 7919 + 1)
    return np.char.add("pm_", np.char.zfill(np.char.mod("%x", mixed), 16)).astype(object)


def config_dict(config: WorldConfig) -> dict[str, object]:
    """The world's knobs as a plain dict (for benchmark JSON)."""
    return asdict(config)
