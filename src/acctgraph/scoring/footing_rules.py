"""Footing: where the data has no IP kind, what an account stands on.

Where the data has no IP kind, an account's ``fit`` (see "Account score" in
:mod:`.features`) rests on volume alone, which
active background users have too. There ``fit`` is multiplied by the
account's *footing* against its cluster's::

    footing(a) = edges of a to attributes its community owns / edges of a
    t(a)       = min(1, footing(a) / (0.4 * footing(c))) ** 2

An attribute is the community's own where at least
:data:`OWNED_MIN_HOLDERS` (3) accounts hold it and at least
:data:`OWNED_SHARE` (90%) of them are the community's members;
``footing(c)`` is the median footing of the
core (``t = 1`` where it is 0). Why: an operator's accounts stand on
infrastructure of their own, where a user pulled into its cluster shares
busy attributes with it. On FRAUDAR's injection benchmark with biased
camouflage (fake users also rate popular objects, drawn by degree), the
heaviest real raters of those objects joined the injected block's cluster
with membership 1 and fit 1; the objects they rate are also rated outside
the cluster, while the fake objects, each rated by several fake users and
no one else, are the cluster's own. Thinned background, density 0.04,
trial 1: 240 accounts flagged (192 fake) before, 210 (192 fake) with
footing; the fake users' footing is 0.31-0.75 (median 0.50), that of the
18 real users still flagged 0.14-0.40. Over the benchmark's 64 cells from
density 0.03 up, footing alone took acctgraph to at or above FRAUDAR in 63
instead of 46 (mean F 0.963 to 0.971 on the thinned background, 0.839 to
0.858 on the unthinned one); on the synthetic worlds, which have IPs,
nothing changes.

The curve was first linear, ``min(1, footing(a) / (0.5 * footing(c)))``,
and real users still got most of the fit. Unthinned background, biased
camouflage, density 0.03, trial 0: the injected block's cluster flagged
177 of its 182 fake users and 58 of its 123 real ones; the fake users'
footing is 0.33-0.60 (5th to 90th percentile), the real users' 0-0.33
(median 0.13), so against a cluster median of about 0.5 a real user at
0.13 kept half the fit. Squared, below a level lowered to 0.4 so that
hijacked accounts, whose own ratings dilute their footing (median 0.68,
5th percentile 0.34), keep full fit, such a user keeps about 0.4 of it.
Over the 80 cells, every cell but five moved up or stayed, those five
fell by 0.001 (hijacked, densities 0.04-0.10); biased camouflage rose by
up to 0.005 (unthinned 0.05), hijacked at 0.03 by 0.002-0.006. With the
level kept at 0.5, biased camouflage rose by up to 0.021 (unthinned
0.04: 0.919 to 0.940), but unthinned hijacked at 0.10 lost one account
and fell under FRAUDAR (0.997 against 0.9975); a linear curve at 0.6-0.7
made the same trade.

The footing ``t(a)`` compares is *vouched* footing: each owned attribute
counts as the mean footing of the community's members holding it,
``vouched(a) = sum over owned o of a of mean footing(holders of o) / edges
of a``, against the core's median vouched footing (:func:`_vouched_footing`).
Biased camouflage pulls popular objects, and the real users rating them,
into the block's cluster, where those objects then count as owned. On the
thinned background, density 0.03, trial 0, each of the 30 real users
flagged had no edge to the injected objects; the owned objects they stood
on had 3-13 raters, 0-6 of them fake and the rest real users of low
footing. The fake users' owned objects are the injected ones, rated by
fake users only. Weighted by their holders' footing, the camouflaged
objects vouch for less: flagged real users fell from 30 to 23 there, and
from 59 to 29 on the unthinned background, with the same fake users
flagged. Over the 80 cells (5 trials), mean F from density 0.03 rose from
0.9865 to 0.9879 (thinned) and from 0.9820 to 0.9844 (unthinned). Biased
camouflage rose in every cell from 0.03 up: unthinned 0.03 went from
0.860 to 0.879 and 0.04 from 0.925 to 0.958; thinned 0.03 went from
0.891 to 0.909. Hijacked accounts at 0.03 fell slightly (0.933 to 0.931
and 0.931 to 0.926). 16 cells rose and 11 fell, none by more than 0.005.
On held-out trials 5-14 the pattern held: 18 cells rose and 15 fell, and
the largest fall was unthinned hijacked 0.03 (0.923 to 0.914). The
cluster feature and the full-member rule below keep plain footing.

An account whose footing is at least its cluster's median and at least
:data:`FULL_FOOTING` (0.5), over at least :data:`FULL_FOOTING_MIN_OWNED`
(2) owned attributes, is a member in full: ``m = 1`` and ``fit = 1``.
Shared weight and volume grow with an account's edges, so a fake user that
rates 2 or 3 objects, all of them the block's own, reached ``m`` 0.3-0.9
and a fit of 0.3-0.9 and went unflagged beside the block's other
members (unthinned background, hijacked accounts, density 0.03, trial 0:
14 of the 28 fake users missed). Most real users pulled into a block's
cluster stand on objects others rate too (footing 0.14-0.60, median 0.21,
where biased camouflage flags them). Two owned attributes, not one: a
real user with one or two ratings, one of them of an object of 3 raters
one or two of whom are fake (an "owned" object), has footing 0.5-1; at one, 3
such real users were flagged with a camouflaged block
(``test_without_ips_users_whose_footing_is_elsewhere_are_not_flagged_with_a_block``).
Over the 80 cells, 47 rose and none fell; no camouflage at density 0.03
rose from 0.970 / 0.972 to 0.990 / 0.990, unthinned hijacked at 0.03 from
0.914 to 0.931; mean F from density 0.03 rose from 0.9843 to 0.9865
(thinned) and from 0.9795 to 0.9820 (unthinned). The cells below 0.95 and
behind FRAUDAR stay as they were.

A member that stands on the attributes its cluster's typical members hold,
as much as they do, is a member in full too. A member is *typical* where it
shows :data:`TYPICAL_MEMBER` (0.9) of its cluster's score on its own
(``sqrt(m) * fit``); an attribute is *held* where at least 4 others hold
it, 90% of them typical members of the same cluster; and the member holds
at least 2 such attributes, at least half as many as the typical member's
median and at least a tenth of its edges (:func:`_as_its_members`). Why:
a hijacked account rates 3-8 of the block's objects among the 20-36
ratings of its own history, so its footing is 0.14-0.33, under half its
cluster's, and its fit 0.2-0.6 (unthinned background, hijacked accounts,
density 0.03, 5 trials: 46 fake users missed inside flagged clusters, with
median footing 0.25 and fit 0.57); the block's objects themselves are rated
by typical members only. A real user rates them by chance, one or two. The
median keeps real users with two camouflage objects out where the block's
members hold twenty (density 0.10), and the tenth of edges keeps out most
of the heaviest real raters. Over the 80 cells (5 trials), with attaching
repeated (:func:`.attach_on_evidence`), 25 rose and 3 fell by 0.001 or
less; hijacked accounts at 0.03 went from 0.945 / 0.931 to 0.964 / 0.965,
and mean F from density 0.03 from 0.9927 to 0.9938 (thinned) and 0.9905 to
0.9932 (unthinned). On held-out trials 5-14, 30 rose and 3 fell by 0.001;
unthinned hijacked 0.03 went from 0.924 to 0.958. Without this rule, 18
cells of the 5 trials fall back.

The other way round, a member that holds none of the attributes the
typical members hold (here with :data:`APART_MIN_OTHERS`, 3, other
holders, 90% of them typical), where the core's median member holds some,
is not one of them: fit 0. Biased camouflage pulls real users who rate
popular objects into the block's cluster, with enough vouched footing to be
flagged; the popular objects are rated by real users too, so none of them
is held. Thinned background, density 0.03, trials 1 and 2: real users
flagged 6 -> 0 and 9 -> 0, the same fake users. Over the 80 cells (5
trials), 14 rose and 7 fell: biased camouflage at 0.03 went from 0.935 /
0.918 to 0.948 / 0.922, at 0.04 from 0.984 / 0.988 to 0.992 / 0.997; the
largest falls were unthinned hijacked 0.03 (0.965 to 0.958) and no
camouflage at 0.02 (0.954 / 0.953 to 0.951 / 0.948). Mean F from density
0.03 rose from 0.9938 to 0.9945 (thinned) and 0.9932 to 0.9936
(unthinned). On held-out trials 5-14, 18 rose and 9 fell, thinned biased
0.03 went from 0.944 to 0.955, and no cell fell behind FRAUDAR. With 4
others, as for holding above, biased camouflage at 0.03 rose further
(thinned 0.953), but an injected object at density 0.02 has about 4
raters, so fake users there hold none: no camouflage at 0.02 fell to
0.938 / 0.939 and random camouflage to 0.341 / 0.442 (held-out: 17 rose,
14 fell). With 2, 12 rose and 6 fell, biased at 0.03 to 0.943 / 0.920.

The core's median footing is also a cluster feature there (weight 1.5,
signal ``(x - 0.5) / 0.5`` times cohesion's): an injected block owns the
objects its members share, a group of real users shares objects that others
rate too. On that benchmark the sparsest blocks found whole scored just
around the threshold on structure, volume and density (no camouflage,
density 0.03, thinned background: 0.49 in trial 3, where a group of 10 real
traders with core footing 0.28 scored 0.62, and 0.51 in trial 0, where
the fake users of membership 0.7-0.9 fell under it); the blocks' core
footing was 0.88-1.0, against 0-0.3 for the real groups that scored
highest. With the feature, mean F from density 0.03 up went from 0.971 to
0.980 (thinned) and 0.896 to 0.909 (unthinned), no cell fell, and no
camouflage at density 0.03 went from 0.744 to 0.955 (thinned) and 0.517
to 0.880 (unthinned); weights 1.0-2.0 and a low end of 0.6 gave the same
within 0.005, 2.5 let real groups through at densities 0.07-0.09 (unthinned,
F 0.995-1.0 to 0.875-0.927). It counts in neither the bias's share of
evidence nor its floor (:func:`.effective_bias`): it stands in for the
rotation evidence that data without IPs cannot show. Cohesion gates it
because a community that holds every holder of its objects owns them,
crowd or not: twelve accounts sharing twenty objects with 36 others around
them, each sharing one of the twenty, own all twenty together, and only
their cohesion of 0.25 tells them from a block.

How many attributes the community owns is a cluster feature there too
(``owned``, weight 3, a stand-in like footing): an operator's block stands
on infrastructure of its own, many attributes that only its accounts use,
where a group of real users owns a few. Footing is a share and cannot say
how much a community owns; a sparse block whose members also keep
histories of their own has middling footing. On FRAUDAR's injection
benchmark at density 0.02, hijacked accounts (4 of the block's objects
each among their own ratings): the block is found whole (165-190 of its
200 fake users in a cluster of 170-250) but scores 0.24-0.43, with core
footing 0.43-0.75; it owns 92-112 objects. Over 3 trials of every attack
at densities 0.01-0.09, no cluster of real users with cohesion 0.5 or more
owned more than 23, which the signal's low end of 25 leaves out. The count
is taken beyond what a community of its share of the edges owns by chance
(:func:`_owned_beyond_chance`), and the signal fades from a quarter of all
accounts (:data:`OWNED_FULL_SHARE`) to nothing at half
(:data:`OWNED_NONE_SHARE`), times cohesion's: a community holding most of
the accounts owns most attributes whatever it is, its members being most
of their holders, and more than chance gives, since Leiden builds
communities around the attributes their members share. In a random rating
graph of 1,500 users, one community of 1,439 owns 370 objects beyond
chance and scores 0.44 without the feature; with it, and without the gate,
946 of those users were flagged
(``test_with_one_attribute_kind_a_random_background_is_not_flagged_but_a_block_is``).
Over the 80 cells (5 trials), 15 rose and 3 fell by 0.001 or less
(thinned background: biased camouflage at 0.04 and 0.08, hijacked at
0.03). At density 0.02, hijacked accounts went from 0 to 0.836 (thinned)
and 0.833 (unthinned), against FRAUDAR's 0.038 and 0.052; random
camouflage from 0.351 / 0.469 to 0.878 / 0.658; unthinned biased
camouflage from 0 to 0.468. On held-out trials 5-14, 26 rose and 3 fell
by 0.003 or less. At weight 1.5 or 2, or with a low end of 40 or a high
end of 400, less is found at 0.02 (held-out, unthinned, hijacked: 0.49-0.73
against 0.82); a low end of 15 finds as much at weight 2, but reaches
the groups of real users that own 15-23.

Density, there, counts only the core's edges to attributes the community
owns (every attribute node of the community still counts as a node): a
block's density comes from its own objects, where a group of real users
can be dense on objects that others rate too. Unthinned background,
random camouflage at density 0.09, trial 2: 22 Bitcoin OTC users (17 in
the core, footing 0.25) who all rate the same few objects had density
1.35 and scored 0.548, and were flagged beside the block; on the 4
objects they own, their density is 0.40 and they score 0.27. Over the 80
cells (5 trials), 4 rose and 5 fell: that cell went from 0.994 to 0.9995
(FRAUDAR 0.997), thinned hijacked at 0.03 from 0.969 to 0.977; the falls
are density 0.02 by 0.007 or less and unthinned biased at 0.03 (0.9685 to
0.9652). Mean F from density 0.03 rose from 0.9954 to 0.9956 (thinned)
and 0.9960 to 0.9962 (unthinned). On held-out trials 5-14, 11 rose and 6
fell (density 0.02 by 0.010 or less, and unthinned hijacked at 0.01 from
0.003 to 0); unthinned no camouflage at 0.05 went from 0.993 to 1.000. With the
owned attribute nodes alone as the block's nodes, fewer nodes made a group
of 35 real users denser (1.21 to 1.38) and flagged it (unthinned, no
camouflage, 0.05, trial 2: F 0.997 to 0.966).

Not with an IP kind: a farm that Leiden cut into pieces owns its card in
none of them, and rotation and spread already tell a crowd's member from
the farm's. With footing there, the ``few_proxies`` world at 10,000
accounts (seed 1) lost a quarter of its recall (0.87 to 0.63): about 20% of
the farm accounts in flagged clusters had under half their cluster's
median footing, 10% none.

With an IP kind, one rule of these counts, narrowed: a member that holds
a crowd's attribute and none that the typical members hold (3 or more
other holders, 90% of them typical, as above), where the core's median
member holds some, is not one of them: fit 0. A crowd's attribute has
half its holders or more in the community (:data:`CROWD_IN_COMMUNITY`)
and 3 or more other members holding it, 90% of them not typical: an office's card and egress IP, where Leiden
pulled part of the office into a farm's community through the
residential ASNs they share. ``bench_adversarial``'s ``spread_farm`` (a
2,000-account farm using each proxy IP once, in a 50,000-account world)
flagged three office employees of such a community, heavy users on 4 IPs
in 3 ASNs with fit 0.56-0.59; in its 10,000- and 20,000-account versions
(seeds 1-4) one or two in four of the eight worlds. With the rule, none,
and every farm account flagged as before. Without the crowd's attribute
(any member holding nothing the typical members hold), 184 of the 2,000
farm accounts went unflagged there, their cards' holders under 90%
typical; asking 50% of them, the ``few_proxies`` world at 4,000 accounts
(seed 1) lost a fifth of its recall (0.981 to 0.788).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# bdtrc, not scipy.stats.binom: importing scipy.stats takes 35 MiB.
from scipy.special import bdtrc

from ..graph import AttributeGraph
from .features import _LOG_SQUASH

__all__ = [
    "APART_MIN_OTHERS",
    "CROWD_IN_COMMUNITY",
    "DENSITY_ON_OWNED",
    "FULL_FOOTING",
    "FULL_FOOTING_MIN_OWNED",
    "HELD_ANCHOR_SHARE",
    "HELD_LOW_EDGE_SHARE",
    "HELD_MEMBERS_SHARE",
    "HELD_MIN_ATTRIBUTES",
    "HELD_MIN_EDGE_SHARE",
    "HELD_MIN_OTHERS",
    "HELD_SHARE",
    "OWNED_FULL_SHARE",
    "OWNED_MIN_HOLDERS",
    "OWNED_NONE_SHARE",
    "OWNED_SHARE",
    "TYPICAL_MEMBER",
]

# An attribute is a community's own where at least this many accounts hold
# it and at least this share of them are the community's members (see
# the module docstring).
OWNED_MIN_HOLDERS = 3
OWNED_SHARE = 0.9

# Without an IP kind, density counts only the edges to owned attributes
# (see the module docstring); False counts every edge, as with IPs.
DENSITY_ON_OWNED = True
# A community's share of all accounts up to which what it owns counts in
# full, and from which it counts for nothing (see the module docstring).
OWNED_FULL_SHARE = 0.25
OWNED_NONE_SHARE = 0.5
# Without an IP kind, an account standing on a flagged cluster's attributes
# joins it (see _held_by_flagged and attach_on_evidence): on at least
# HELD_MIN_ATTRIBUTES attributes, each with HELD_MIN_OTHERS other holders,
# HELD_SHARE of them the cluster's flagged members, that make
# HELD_MIN_EDGE_SHARE of its edges, or as many as its members stand on.
HELD_MIN_OTHERS = 4
HELD_SHARE = 0.9
HELD_MIN_ATTRIBUTES = 2
HELD_MIN_EDGE_SHARE = 0.25
# Attributes whose other holders are more than this share a flagged
# cluster's members anchor the accounts judged together (_standing_together).
HELD_ANCHOR_SHARE = 0.5
# "As many as its members": at least this share of the median count of
# held attributes among the attributes' holders in the cluster, and at least
# HELD_LOW_EDGE_SHARE of the account's edges (see _as_its_members).
HELD_MEMBERS_SHARE = 0.5
HELD_LOW_EDGE_SHARE = 0.1

# A member showing at least this share of its cluster's score on its own
# (sqrt(membership) * fit) is typical of it; without an IP kind, a member
# standing on the attributes that typical members hold, as much as they do,
# is a member in full (see the module docstring).
TYPICAL_MEMBER = 0.9
# ... and a member holding none of the attributes that at least this many
# others hold, 90% of them typical members, is not one of them: fit 0.
APART_MIN_OTHERS = 3
# With an IP kind, where the member also holds a crowd's attribute: at
# least this share of its holders in the community, and 90% of the other
# members holding it untypical (see the module docstring).
CROWD_IN_COMMUNITY = 0.5

# Footing from which an account, at or above its cluster's median footing
# and on at least FULL_FOOTING_MIN_OWNED owned attributes, is a member in
# full: membership and fit 1 (see the module docstring).
FULL_FOOTING = 0.5
FULL_FOOTING_MIN_OWNED = 2


def _owned_attribute(n_members: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """Whether an attribute held by ``n_members`` members of a community, of
    ``degree`` accounts in all, is that community's own: at least
    :data:`OWNED_MIN_HOLDERS` holders, at least :data:`OWNED_SHARE` of them
    members."""
    return (degree >= OWNED_MIN_HOLDERS) & (n_members >= OWNED_SHARE * degree)


def _owned_beyond_chance(
    graph: AttributeGraph,
    comm: np.ndarray,
    n_comm: int,
    owned_community: np.ndarray,
    owned_attribute: np.ndarray,
) -> np.ndarray:
    """Per community, how many attributes it owns beyond those a community
    of its share of the graph's edges owns by chance; ``owned_community``
    and ``owned_attribute`` are the owned (community, attribute) pairs, one
    or more times each.

    By chance: were each attribute's ``h`` holders drawn at random, each in
    the community with probability ``q``, its share of the graph's edges,
    the attribute would be owned with probability ``P(Binom(h, q) >= 0.9
    h)``; that is summed over every attribute node of 3 holders or more and
    taken off. Communities owning fewer than the ``owned`` signal's low end keep
    their count: their signal is 0 either way, and the sum costs a row of
    binomial tails per community.
    """
    n_attr = graph.links.n_attributes
    pairs = np.unique(owned_community * n_attr + owned_attribute)
    n_owned = np.bincount(pairs // n_attr, minlength=n_comm).astype(float)
    judged = np.flatnonzero(n_owned >= _LOG_SQUASH["owned"][0])
    if not len(judged):
        return n_owned
    edges = graph.account_edges
    member = comm >= 0
    share = np.bincount(comm[member], weights=edges[member], minlength=n_comm)[judged]
    share /= max(int(edges.sum()), 1)
    # Over the graph's attribute nodes (hubs left out can own nothing), by
    # number of holders: a count per degree, not a sort of every attribute,
    # as each scoring does this again.
    of_degree = np.bincount(graph.degree[graph.in_graph])
    holders = np.flatnonzero(of_degree[OWNED_MIN_HOLDERS:]) + OWNED_MIN_HOLDERS
    n_attributes = of_degree[holders]
    n_owned[judged] = np.maximum(
        n_owned[judged] - _owned_by_chance(share, holders, n_attributes), 0
    )
    return n_owned


def _owned_by_chance(
    share: np.ndarray, holders: np.ndarray, n_attributes: np.ndarray
) -> np.ndarray:
    """For each community share ``q``, ``sum_h n_h P(Binom(h, q) >= 0.9 h)``
    over the attributes' distinct numbers of holders ``h`` (``n_h`` of each),
    to within 1e-6.

    The tail is at most ``(e q / 0.9) ** (0.9 h)`` (a union bound over the
    sets of members that would own it), so where that ratio is under 0.9,
    degrees past the one from which all attributes together add under 1e-6
    are left out: a graph can hold thousands of distinct degrees (3,000
    communities by 5,000 degrees took 1.2 s). Shares above about 0.3, at most
    three communities, are summed over every degree.
    """
    # The fewest members that own an attribute of h holders, as
    # _owned_attribute compares.
    least = np.ceil(OWNED_SHARE * holders)
    ratio = np.e * share / OWNED_SHARE
    chance = np.zeros(len(share))
    few = ratio < 0.9
    if few.any():
        # n * r ** (0.9 h) < 1e-6 for every h from there on.
        upto = np.log(1e-6 / max(int(n_attributes.sum()), 1)) / (
            OWNED_SHARE * np.log(ratio[few].max())
        )
        cols = holders <= upto
        chance[few] = _binomial_tails(share[few], least[cols], holders[cols]) @ n_attributes[cols]
    if not few.all():
        chance[~few] = _binomial_tails(share[~few], least, holders) @ n_attributes
    return chance


def _binomial_tails(share: np.ndarray, least: np.ndarray, holders: np.ndarray) -> np.ndarray:
    """``P(Binom(holders, share) >= least)``, one row per share."""
    # bdtrc(k, n, p) = P(Binom(n, p) > k).
    return bdtrc(least[None, :] - 1, holders[None, :], share[:, None])


def _held_by_holders(
    account: np.ndarray,
    is_holder: np.ndarray,
    n_holders: np.ndarray,
    degree: np.ndarray,
    min_others: tuple[int, ...],
    n_accounts: int,
) -> list[np.ndarray]:
    """For each of ``n_accounts`` accounts, how many of its links go to attributes *held* by
    its community's holder accounts: at least ``min_others`` other holders
    (of the attribute's ``degree``), at least :data:`HELD_SHARE` of them
    holder accounts of the same community. One count per value of
    ``min_others``.

    Per link: its ``account``, whether that account ``is_holder``, and how
    many of its community's holder accounts hold the link's attribute
    (``n_holders``, the account itself included).
    """
    holders = n_holders - is_holder
    others = degree - 1
    nearly_all = holders >= HELD_SHARE * others
    return [
        np.bincount(account[nearly_all & (others >= least)], minlength=n_accounts)
        for least in min_others
    ]


def _as_its_members(
    n_held: np.ndarray, edges: np.ndarray, members_median: np.ndarray
) -> np.ndarray:
    """Whether accounts with ``n_held`` held attributes of a cluster, and
    ``edges`` edges in all, stand on it as much as its members do:
    :data:`HELD_MIN_ATTRIBUTES` or more, at least :data:`HELD_MEMBERS_SHARE`
    of ``members_median`` (the members' median count) and at least
    :data:`HELD_LOW_EDGE_SHARE` of ``edges``.

    A hijacked account rates 3-8 of a block's objects among 20-36 ratings of
    its own, a quarter of its edges at most; a real user rates such
    objects by chance and one or two of them. The tenth of edges keeps
    out most of the heaviest real raters, some of whose objects only a
    camouflaging block's members rate besides them. On FRAUDAR's
    injection benchmark (5 trials), without it a real user of 269 ratings
    joined a block (unthinned, random camouflage, density 0.08); with it,
    over the cells at densities 0.03, 0.05, 0.07, 0.09 and 0.10, three
    real users still join, of 82-208 ratings with 10-22 such objects
    (densities 0.09-0.10, F 0.001 lower), and 49 fake users of 14-66
    ratings (11-24% of them on the block's objects) join by this rule.
    """
    return (
        (n_held >= HELD_MIN_ATTRIBUTES)
        & (n_held >= HELD_MEMBERS_SHARE * members_median)
        & (n_held >= HELD_LOW_EDGE_SHARE * edges)
    )


def _vouched_footing(
    footing: np.ndarray, account: np.ndarray, pair: np.ndarray, edges: np.ndarray
) -> np.ndarray:
    """Each account's footing with every owned attribute weighted by its
    holders' mean footing (see the module docstring).

    ``account`` and ``pair`` (community * n_attributes + attribute) give the
    owned links; ``edges`` each account's graph edges.
    """
    if len(account) == 0:
        return np.zeros(len(footing))
    codes, _ = pd.factorize(pair)
    holders_footing = np.bincount(codes, weights=footing[account]) / np.bincount(codes)
    vouched = np.bincount(account, weights=holders_footing[codes], minlength=len(footing))
    return vouched / np.maximum(edges, 1)
