"""Scoring: how likely each community is a coordinated farm, and why.

Farms and innocent crowds both share attributes; what differs is *how*. An
office shares one egress IP and one card; a farm's accounts each rotate
through many proxy IPs spread over many networks, share specific (rarely
used) IPs with each other, draw on a pool of cards, are created in bursts and
send far more requests. No single signal separates them, so the score needs
several to agree.

Per-account features (from *all* links, hubs and private attributes included)
------------------------------------------------------------------------------
``n_ips``         distinct values of the IP kind
``n_asns``        distinct values of the ASN kind
``activity``      the largest, over kinds, of the account's summed ``count``
                  (for a request log: its number of requests)
``shared_weight`` sum of ``deg(v) ** -0.5`` over the account's attributes that
                  at least one other member of its community also has

Membership
----------
``m(a) = clip(shared_weight(a) / (0.5 * ref(c)), 0, 1)``

where ``ref(c)`` is the *weighted* median of ``shared_weight`` over the
community's members, each member weighted by its own ``shared_weight``: the
level of the members that carry most of the community's sharing. A plain
median would not do: a farm's community can hold as many households as farm
accounts (households whose home IPs the proxy network resells), and the
households would drag the median down to their own level. An account as
embedded as the members carrying the community gets 1; a household pulled in
by the one proxy IP it really owns gets little.

Members with ``m >= 0.8`` (:data:`CORE_MEMBERSHIP`) are the community's
*core*, over which the cluster features below are computed. The bar is high
because such households are not always pulled in by one IP only: where a
farm rotates over few proxy IPs each (``few_proxies`` world, 2-5), Leiden
cuts it into pieces in which the households whose IPs it uses, with their
family card, reach ``m`` of 0.6-0.8 and can outnumber the farm. In the core
at 0.5 they pulled the medians of rotation, volume and overlap down to
their own level; at 0.8 the pieces are read on the farm's accounts (F1
0.907 to 0.947 over seeds 1-2, every other world unchanged at 1.0, 9
household accounts flagged instead of 1; any bar from 0.75 to 0.9 gives
0.943-0.947, 0.7 gives 0.914). Households still in the core are kept from
being flagged by their own fit (below).

Without an IP kind the core stays at ``m >= 0.5``
(:data:`CORE_MEMBERSHIP_WITHOUT_IPS`). The score then rests on overlap,
size, density and volume, and a stricter core lifts every community's
overlap median, crowds' too, with no rotation evidence to hold them back:
on FRAUDAR's injection benchmark (one generic kind) groups of active
Bitcoin OTC traders that scored just under the threshold crossed it
(unthinned background: F fell in 17 of the 32 cells from density 0.03 up,
by up to 0.21, e.g. no camouflage at density 0.10 from 0.989 to 0.780).

Cluster features, each squashed into a signal ``s`` in [0, 1]
-------------------------------------------------------------
=================  ==========================================================  ==========================
feature            raw value (over core members)                              signal
=================  ==========================================================  ==========================
ip_rotation        median ``n_ips``                                            ``log(x/2) / log 8``
asn_spread         median ``n_asns``                                           ``log(x) / log 8``
specific_overlap   median ``shared_weight``                                    ``log(x/0.5) / log 10``
payment_sharing    members with a payment / distinct payments among them      ``log(x) / log 10``
creation_burst     share created on a UTC day holding >= max(3, 5%) of them   ``x``
synchrony          share of their IP links first used in a UTC hour in which  ``x / 0.5``
                   >= max(3, 5%) of them first used an IP
volume             median ``activity`` / median ``activity`` of all accounts   ``log(x) / log 20``
size               core members                                                ``log(x/5) / log 20``
density            FRAUDAR's density of the cluster's own block: graph edges   ``log(x/0.75) / log(8/3)``
                   between core members and the cluster's attribute nodes,
                   each weighing ``1/log(deg + 5)``, per node of the block;
                   without an IP kind, only the edges to attributes the
                   cluster owns count (see "Footing")
cohesion           core members / members (every member, not only the core)    ``(x - 0.25) / 0.5``
footing            median ``footing`` (see "Footing" below); only where the       ``(x - 0.5) / 0.5``, times
                   data has no IP kind                                         cohesion's signal
owned              attributes the community owns (see "Footing" below),        ``log(x/25) / log 8``, times
                   beyond those it owns by chance; only where the data has     cohesion's and a share gate
                   no IP kind                                                  (see "Footing")
=================  ==========================================================  ==========================

Why each separates farms from crowds: proxy farms rotate (``ip_rotation``)
across residential networks (``asn_spread``) while an office, a university
or a household sits behind one or two IPs in one network, and VPN or carrier
users rotate within one provider; farm accounts share *specific* IPs with
each other (``specific_overlap``) where crowds share busy ones that
``deg ** -0.5`` discounts; card pools (``payment_sharing``), bursts of sign-ups
(``creation_burst``) and heavy use (``volume``) are typical of farms but also
of offices, so they carry less weight. ``synchrony`` follows SynchroTrap (Cao
et al., CCS 2014): accounts run by one operator's scheduled jobs act in the
same hours, so many of them first touch their IPs in the same UTC hour, where
people, even colleagues onboarded together, start using networks at their own
times; over a year a community of ``k`` independent people fills an hour with
``max(3, 5%)`` of its members only by chance. It is computed from the IP
links' ``first_seen`` (for a request log, the first request from that IP), so
it needs timestamps and an IP kind. ``density`` is FRAUDAR's objective
(Hooi et al., KDD 2016): a farm's accounts keep reusing the same pool of
rarely used attributes, so its block holds many light edges per node
(farms of the synthetic worlds 1.7-2.2, a 200 x 200 block injected at
density 0.06 into a rating graph 2.1), where a crowd's members each add one
edge to the same busy IP (offices and universities about 0.5, carrier NAT
0.8, VPN exits 1.0) and background groups of a real rating graph stay
below about 1.5. ``cohesion`` asks whether the community *is* its core: an
operator's accounts are all alike and all embedded (injected blocks: every
member in the core), where a crowd community in a real graph is a small
core of active members with a wide periphery that shares one or two of
their attributes (three of the four Bitcoin OTC groups that reached the
threshold in the trials looked at had 12-24% of their members in the core,
the fourth 12 of 20). It does not separate an office,
whose employees all share its IP and card, from a farm; rotation and
spread do that.

Score
-----
``score = sigmoid(bias + sum_i weight_i * s_i)`` with the weights and bias in
:data:`FEATURE_WEIGHTS` and :data:`BIAS`. ``weight_i * s_i`` is feature
``i``'s contribution, kept for explanations. With ``BIAS = -10.75`` and weights
summing to 19.5 (``footing`` and ``owned`` aside, see :data:`STAND_IN_FEATURES`), a
community needs about half of all the evidence to reach 0.5: the office
pattern (shared card, rollout burst, size) tops out near 0.1.

Account score
-------------
``score(a) = cluster score * sqrt(m(a)) * fit(a)``, flagged at the
threshold (default 0.5). ``fit`` asks whether the account itself shows the
behaviour that made its cluster score high::

    fit(a) = sum_f w_f * s_f(c) * t_f(a) / sum_f w_f * s_f(c)

over the features an account has on its own (``ip_rotation``,
``asn_spread``, ``volume``), with ``s_f(c)`` its cluster's signal (``fit =
1`` where the cluster has none of that evidence) and ``t_f(a)`` in [0, 1]
how much of it the account shows (times its footing where the data has no
IP kind, see "Footing" below):

* ``ip_rotation``, ``asn_spread``: ``min(1, s_f(a) / s_f(c))``, with
  ``s_f(a)`` the account's own value squashed as above;
* ``volume``: ``min(1, x(a) / (x(c) / 2))``, the account's activity
  against half its cluster's median activity, unsquashed. Volume is heavy
  tailed even within a farm, so half the median earns full fit (in a sparse
  block of accounts rating ~6 of the same objects, the quieter half sends a
  third of the median's volume); and it is compared unsquashed because the
  squash saturates at 20x the population's median: against a farm of
  40-rating accounts, a 9-rating background user must not count as
  typical.

Membership alone cannot tell a farm's accounts from an office that Leiden
merged into the farm's community through a shared network or card hub: the
office's employees can be fully embedded, but they neither rotate IPs nor
send farm volumes, so their fit is low. Fit therefore counts in full and
membership under a square root, which keeps farm accounts a little short on
both (8 proxy IPs, half the typical shared weight) above the threshold.

Footing
-------
Where the data has no IP kind, ``fit`` above rests on volume alone, which
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
repeated (:func:`attach_on_evidence`), 25 rose and 3 fell by 0.001 or
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
evidence nor its floor (:func:`effective_bias`): it stands in for the
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

Granularity
-----------
Communities come with a coarser grouping (:attr:`Communities.parent`, see
:mod:`acctgraph.communities`). :func:`merge_on_evidence` scores both levels and
reports a group of communities as one cluster where the group's score beats
the best of its parts' by at least :data:`MERGE_MARGIN`: a sparse block that
Leiden cut into pieces scores higher whole, since its size and shared
objects then count together, while a small farm swallowed by a larger crowd
scores lower in the mixture and stays separate. A group is also reported
whole where it *completes* a farm: it scores at least
:data:`COMPLETION_SCORE` (0.7), flags more of its accounts than its parts
do, and keeps flagging at least :data:`MERGE_KEEP` (95%) of theirs. A farm
on few proxy IPs per account comes out of Leiden as a few pieces where it
is the majority and several where households, whose home IPs its proxies
resell, outnumber it; those score near 0, and their farm accounts are
flagged only with the farm whole (``few_proxies`` world, seed 1: the group
scores 0.90 against its best piece's 0.96, and flags 444 of its 453 farm
accounts and one household, where the pieces flag 339; seed 2: 0.79, 437
of 449 and 8 households, where the pieces flag 370). The bar is above the
flagging threshold because, merging at the threshold, three cells of
FRAUDAR's injection benchmark lost up to 0.09 of F; at 0.7 none moved.

Dense blocks (:mod:`acctgraph.blocks`) are the other candidates:
:func:`adopt_dense_blocks` reports a peeled block, trimmed to the accounts
that live on its own attributes (:func:`trim_block`), grown by those
peeling left out (:func:`grow_block`) and cut to its parts that own their
attributes (:func:`keep_owning_parts`), as one cluster where it scores more
than :data:`MERGE_MARGIN` above the best community its accounts came from,
or where it scores about as high and flags a few more of the accounts it
touches (it completes a farm whose hijacked accounts Leiden put elsewhere).
It runs before the coarse merge, and the block is a group of its own there,
so merging cannot dilute it again; for the same reason a block is not
adopted where the coarse group holding all its pieces would be merged, scores
about as high and flags at least as many accounts: peeling reached only part
of a farm the group holds whole (:func:`_group_does_better`).

Last, :func:`split_on_evidence` goes the other way: where the data has an
IP kind, each community scoring below the threshold is peeled on its own
edges, and its densest block is reported as a cluster of its own where it
scores as a farm. It finds a small farm that modularity left inside the
crowd of households whose home IPs its proxies use (``few_proxies`` world,
seed 2: F1 0.927 to 0.947, the 20-account campaign found; at 10,000
accounts recall 0.35-0.50 to 0.60-0.72 over seeds 1-3), and changes no
other world.

After every change of the clusters, :func:`attach_on_evidence` moves single
accounts: one that is not flagged but holds a tie to a flagged cluster (a
card or IP, not an ASN, more than half of whose accounts are in flagged
clusters) joins that cluster where, judged by the account rule below as its
member, it would be flagged. It finds the farm accounts whose proxies are
busy carrier-NAT IPs, left by Leiden in the carrier's crowd (``few_proxies``
world: F1 0.954 to 0.968, average precision 0.950 to 0.973).

Features whose kind is absent from the data (no ASN column, say) have
signal 0 and are reported as unavailable, and the bias shrinks in proportion
(:func:`effective_bias`: ``BIAS * available weight / total weight``), so a
cluster still needs about half of the evidence the data *can* show. Without
this, data holding one attribute kind (devices only) could never be flagged,
even 1,000 accounts sharing the same 1,000 devices. The scaled bias stops
at ``-(w_specific_overlap + w_size + w_cohesion + BEYOND_STRUCTURE)``,
-6.75: shared specific attributes, size and cohesion are what make any
community, so alone they must not pass. This floor was set at -4.75
before ``cohesion`` was a feature, and each step was measured on FRAUDAR's
injection benchmark (one generic kind, so the floor is the bias there):

* With one attribute kind the scaled bias would be -4.0, and a random
  sparse background (1,500 accounts each rating about 10 of 12,000 objects
  at random) came out of the coarse merge as one community of about 1,440
  accounts that scored 0.51-0.53 on overlap, size and a crowd's density; at
  -4.75 it scored 0.45-0.49 over five seeds. The floor took real, active
  groups of Bitcoin OTC traders out of the flagged set (unthinned
  background, mean F over densities >= 0.03 from 0.822 to 0.829, cells at
  or above FRAUDAR from 9 to 14 of 32; thinned background unchanged at
  0.963, cells 22 to 24). A floor of 1.0 beyond structure lost the
  sparsest injected blocks (thinned, density 0.03: F 0.76 to 0).
* Some trader groups still scored 0.51-0.66 and flagged up to 230 accounts
  in a trial. ``cohesion`` (weight 2, bias and floor lowered by as much, so
  a community wholly its core scores as before where the data has every
  kind, or one) takes most of them out: unthinned mean F 0.829 to 0.839,
  cells at or above FRAUDAR 14 to 22 of 32; the one cell that fell is
  random camouflage at density 0.03 (0.137 to 0, FRAUDAR 0); thinned
  unchanged. On the synthetic worlds it costs ``few_proxies``
  a little (F1 0.947 to 0.944; its farm pieces hold households outside
  their core, which lowers their cohesion); every other world stays at 1.0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

# bdtrc, not scipy.stats.binom: importing scipy.stats takes 35 MiB.
from scipy.special import bdtrc

from .blocks import DenseBlock, find_blocks_within, fraudar_weight
from .communities import (
    Communities,
    carve_block,
    carve_blocks,
    merge_communities,
    modularity_parts,
    move_accounts,
)
from .graph import AttributeGraph
from .ingest import Links, concatenated_ranges
from .parallel import check_n_jobs, forked_processes, run_in_parts

__all__ = [
    "ADOPT_MIN_FOOTING",
    "BEYOND_STRUCTURE",
    "BIAS",
    "BLOCK_OWN_SHARE",
    "CARD_TIE_MEMBERS",
    "COMPLETION_LIMIT",
    "COMPLETION_SCORE",
    "CORE_MEMBERSHIP",
    "CORE_MEMBERSHIP_WITHOUT_IPS",
    "DENSITY_ON_OWNED",
    "FEATURE_WEIGHTS",
    "FULL_FOOTING",
    "FULL_FOOTING_MIN_OWNED",
    "GROW_MAX_OUTSIDE",
    "GROW_OWN_SHARE",
    "MERGE_KEEP",
    "MERGE_MARGIN",
    "OWNED_FULL_SHARE",
    "OWNED_MIN_HOLDERS",
    "OWNED_NONE_SHARE",
    "OWNED_SHARE",
    "PARALLEL_MIN_LINKS",
    "SPARE_BLOCKS",
    "SPLIT_KEEP_SHARE",
    "SPLIT_RESOLUTION",
    "STAND_IN_FEATURES",
    "TRIM_MIN_KEPT",
    "TRIM_OWN_SHARE",
    "KindRoles",
    "Scores",
    "adopt_dense_blocks",
    "attach_on_evidence",
    "core_membership",
    "effective_bias",
    "footing_counts",
    "grow_block",
    "keep_owning_parts",
    "merge_on_evidence",
    "score_communities",
    "split_on_evidence",
    "trim_block",
]

logger = logging.getLogger(__name__)

FEATURE_WEIGHTS: dict[str, float] = {
    "ip_rotation": 2.5,
    "asn_spread": 2.5,
    "specific_overlap": 3.0,
    "payment_sharing": 1.5,
    "creation_burst": 1.5,
    "synchrony": 1.5,
    "volume": 2.0,
    "size": 1.0,
    "density": 2.0,
    "cohesion": 2.0,
    "footing": 1.5,
    "owned": 3.0,
}
BIAS = -10.75
# Features that stand in for evidence the data lacks (footing and owned,
# where there are no IPs to rotate): they add to the score but not to the
# evidence the bias asks for (effective_bias), so a cluster without them
# scores as before.
STAND_IN_FEATURES = ("footing", "owned")
# Membership from which an account is in its community's core, with and
# without an IP kind in the data; see "Membership" in the module docstring.
CORE_MEMBERSHIP = 0.8
CORE_MEMBERSHIP_WITHOUT_IPS = 0.5
# Share of its cluster's median activity at which an account's volume counts in full.
_VOLUME_FIT_LEVEL = 0.5
# An attribute is a community's own where at least this many accounts hold
# it and at least this share of them are the community's members; an
# account's footing in its cluster counts in full from this share of the
# cluster's median (see "Footing" in the module docstring).
OWNED_MIN_HOLDERS = 3
OWNED_SHARE = 0.9
_FOOTING_FIT_LEVEL = 0.4
# Without an IP kind, density counts only the edges to owned attributes
# (see "Footing"); False counts every edge, as with IPs.
DENSITY_ON_OWNED = True
# A community's share of all accounts up to which what it owns counts in
# full, and from which it counts for nothing (see "Footing").
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
# Attaching without an IP kind is repeated until no account moves, at most
# this many times: each attached account can make more attributes held.
ATTACH_ROUNDS = 3
# A member showing at least this share of its cluster's score on its own
# (sqrt(membership) * fit) is typical of it; without an IP kind, a member
# standing on the attributes that typical members hold, as much as they do,
# is a member in full (see "Footing").
TYPICAL_MEMBER = 0.9
# ... and a member holding none of the attributes that at least this many
# others hold, 90% of them typical members, is not one of them: fit 0.
APART_MIN_OTHERS = 3
# Below that share, the account's footing counts as the square of its
# ratio to it (see "Footing" in the module docstring).
_FOOTING_FIT_POWER = 2.0
# Footing from which an account, at or above its cluster's median footing
# and on at least FULL_FOOTING_MIN_OWNED owned attributes, is a member in
# full: membership and fit 1 (see "Footing").
FULL_FOOTING = 0.5
FULL_FOOTING_MIN_OWNED = 2
# How much a group of communities must out-score the best of its parts to
# be reported whole.
MERGE_MARGIN = 0.05
# Evidence a cluster must show beyond shared specific attributes and size, in
# logit units, however few attribute kinds the data holds (effective_bias).
BEYOND_STRUCTURE = 0.75
# A coarse group that scores lower than its best community is still reported
# whole where it scores at least this and flags more of its accounts
# (merge_on_evidence). At the flagging threshold itself, three cells of
# FRAUDAR's injection benchmark lost up to 0.09 of F; at 0.7, none.
COMPLETION_SCORE = 0.7
# ... while still flagging at least this share of what its communities flag.
MERGE_KEEP = 0.95
# A block that scores as high as its best piece is adopted when it flags more
# of the accounts it touches, but at most this share more (adopt_dense_blocks).
COMPLETION_LIMIT = 0.1
# Where footing counts (no IP kind), a block whose core's median footing is
# below this is not adopted (adopt_dense_blocks).
ADOPT_MIN_FOOTING = 0.2
# A block's own attributes: those at least this share of whose holders are
# the block's accounts. A peeled account stays in the block where at least
# TRIM_OWN_SHARE of its edges' FRAUDAR weight goes to them (trim_block).
BLOCK_OWN_SHARE = 0.5
TRIM_OWN_SHARE = 0.2
# An account grows into a block through the attributes at least this share
# of whose holders are the block's accounts, or BLOCK_OWN_SHARE of them with
# at most GROW_MAX_OUTSIDE outside (grow_block).
GROW_OWN_SHARE = 0.7
GROW_MAX_OUTSIDE = 2
# A block that trimming leaves with fewer than this share of its peeled
# accounts is passed over (adopt_dense_blocks).
TRIM_MIN_KEPT = 0.5
# A block is split by modularity at this resolution, and the parts that own
# their attributes at least SPLIT_KEEP_SHARE as much as the part that owns
# them most are kept (keep_owning_parts).
SPLIT_RESOLUTION = 0.5
SPLIT_KEEP_SHARE = 0.3
# Blocks peeled beyond ``dense_blocks`` where the data has no IP kind, to take
# the place of those passed over for owning none of their objects.
SPARE_BLOCKS = 2
# Share of IP links first used in busy hours that gives the full synchrony signal.
_SYNCHRONY_FULL = 0.5

# Each log-squashed feature's (low, high): signal 0 at low, 1 at high.
_LOG_SQUASH: dict[str, tuple[float, float]] = {
    "ip_rotation": (2, 16),
    "asn_spread": (1, 8),
    "specific_overlap": (0.5, 5),
    "payment_sharing": (1, 10),
    "volume": (1, 20),
    "size": (5, 100),
    "density": (0.75, 2.0),
    "owned": (25, 200),
}
# Each linearly squashed feature's (low, high).
_LINEAR_SQUASH: dict[str, tuple[float, float]] = {"cohesion": (0.25, 0.75), "footing": (0.5, 1.0)}

_DAY_NS = 86_400 * 10**9
_HOUR_NS = 3_600 * 10**9
# shared_weight's exponent stays 0.5 whatever exponent the graph's edge
# weights use: the specific_overlap signal's (0.5, 5) range is calibrated on it.
_OVERLAP_EXPONENT = 0.5
# A card paying for this many of a flagged farm's members is the farm's
# card: where ``payment_sharing`` gives its full signal (10 members a card).
CARD_TIE_MEMBERS = int(_LOG_SQUASH["payment_sharing"][1])

# Links of the communities' members from which a scoring is split between
# processes (see score_communities): about 1 s of scoring at 1M accounts. At
# 10M accounts, with the bar at 2M links, rescoring the clusters that
# adopting a block or attaching accounts changed took longer in two
# processes than in one (4.6 -> 5.8 s, 2.1 -> 2.8 s): forking a process that
# holds the whole graph has its cost too.
PARALLEL_MIN_LINKS = 5_000_000


@dataclass(frozen=True)
class KindRoles:
    """Which attribute kinds play the IP, ASN and payment roles in scoring."""

    ip: str = "ip"
    asn: str = "asn"
    payment: str = "payment"


@dataclass(frozen=True)
class Scores:
    """Scores of every community and account.

    Attributes
    ----------
    clusters : DataFrame
        Indexed by community; ``n_accounts``, ``n_core``, ``score``, the raw
        features, and ``contrib_<feature>`` for each feature.
    account_features : DataFrame
        One row per account: ``n_ips``, ``n_asns``, ``activity``,
        ``shared_weight``, ``footing``, ``membership``, ``fit``, ``score``.
    unavailable : list of str
        Features whose attribute kind or timestamps are absent.
    """

    clusters: pd.DataFrame
    account_features: pd.DataFrame
    unavailable: list[str]


def _signal(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """``clip(log(x/low) / log(high/low), 0, 1)``: 0 at ``low``, 1 at ``high``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.log(np.asarray(x, dtype=float) / low) / np.log(high / low)
    return np.clip(np.nan_to_num(s, nan=0.0, neginf=0.0), 0.0, 1.0)


def score_communities(
    graph: AttributeGraph,
    communities: Communities,
    *,
    roles: KindRoles | None = None,
    n_jobs: int | None = None,
) -> Scores:
    """Compute features, scores and contributions for every community.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    roles : KindRoles, optional
        Which kinds are IPs, ASNs and payments; default ``ip``, ``asn``,
        ``payment``.
    n_jobs : int, optional
        Processes that score at once; default: every CPU this process may
        use. Where the members hold :data:`PARALLEL_MIN_LINKS` links or more
        and the platform forks, the communities are split into that many
        parts of about equal links, each scored in its own process. A
        community's features come from its own members and attribute nodes
        (see :func:`_rescore`), so the scores are the same for any value.

    Returns
    -------
    Scores
    """
    check_n_jobs(n_jobs)
    roles = roles or KindRoles()
    part = _scoring_parts(graph, communities, n_jobs)
    if part is None:
        return _score(graph, communities, roles)
    return _score_in_parts(graph, communities, roles, part)


def _scoring_parts(
    graph: AttributeGraph, communities: Communities, n_jobs: int | None
) -> np.ndarray | None:
    """Each community's part (``0 .. k-1``, in label order, about equal links
    per part) for scoring in ``k`` processes; None where one process scores."""
    workers = forked_processes(n_jobs)
    if workers < 2 or communities.n_communities < 2:
        return None
    comm = communities.account_community
    members = np.flatnonzero(comm >= 0)
    links_per_account = np.diff(graph.links.account_starts)
    links_per_community = np.bincount(
        comm[members], weights=links_per_account[members], minlength=communities.n_communities
    )
    total = links_per_community.sum()
    if total < PARALLEL_MIN_LINKS:
        return None
    before = np.cumsum(links_per_community) - links_per_community
    part = np.minimum((before * workers / total).astype(np.int64), workers - 1)
    return part if part.max() > 0 else None


def _score_in_parts(
    graph: AttributeGraph, communities: Communities, roles: KindRoles, part: np.ndarray
) -> Scores:
    """:func:`score_communities`, each part of the communities scored in its
    own process (:func:`acctgraph.parallel.run_in_parts`)."""
    n_parts = int(part.max()) + 1
    # Computed once here rather than once per process: each worker would
    # otherwise compute them again.
    _ = graph.links.activity, graph.degree, graph.edge_mask
    for kind in (roles.ip, roles.asn):
        graph.links.attributes_per_account(kind)
    logger.info("scoring: %d communities in %d processes", communities.n_communities, n_parts)
    parts = run_in_parts(_score_part, n_parts, graph, communities, roles, part)
    pieces = [
        (labels, scores.clusters, rows, scores.account_features) for labels, scores, rows in parts
    ]
    return _assembled(communities.n_communities, parts[0][1], pieces)


def _score_part(
    i: int, graph: AttributeGraph, communities: Communities, roles: KindRoles, part: np.ndarray
) -> tuple[np.ndarray, Scores, np.ndarray | None]:
    """Part ``i``'s labels, scores and members (None for part 0: every
    account's row is kept, as the base the other parts are written into)."""
    labels = np.flatnonzero(part == i)
    subset = _subset_communities(communities, labels)
    scores = _score(graph, subset, roles)
    if i == 0:
        return labels, scores, None
    # Only the part's members' rows go back to the caller's process.
    rows = np.flatnonzero(subset.account_community >= 0)
    return labels, replace(scores, account_features=scores.account_features.iloc[rows]), rows


def _subset_communities(communities: Communities, labels: np.ndarray) -> Communities:
    """The communities ``labels`` (sorted) alone, renumbered ``0 ..``; every
    other account and attribute node in none."""
    remap = np.full(communities.n_communities + 1, -1, dtype=np.int64)
    remap[labels] = np.arange(len(labels))
    # Label -1 reads the last slot, which stays -1.
    return Communities(
        account_community=remap[communities.account_community],
        attribute_community=remap[communities.attribute_community],
        n_communities=len(labels),
        n_components=communities.n_components,
    )


def _assembled(n_communities: int, base: Scores, pieces: list[tuple]) -> Scores:
    """Scores of ``n_communities`` communities from ``base`` (a scoring whose
    every account row is kept unless a piece replaces it) and ``pieces``:
    ``(labels, their cluster rows, account rows or None, those rows'
    features)``."""
    columns = {name: values.to_numpy(copy=True) for name, values in base.account_features.items()}
    rows = []
    for labels, clusters, accounts, features in pieces:
        rows.append(clusters.set_axis(labels))
        if accounts is None:
            continue
        for name, values in columns.items():
            values[accounts] = features[name].to_numpy()
    clusters = pd.concat(rows).sort_index()
    clusters.index = pd.RangeIndex(n_communities, name="community")
    return Scores(
        clusters=clusters,
        account_features=pd.DataFrame(columns),
        unavailable=base.unavailable,
    )


def _score(graph: AttributeGraph, communities: Communities, roles: KindRoles) -> Scores:
    """The body of :func:`score_communities`, in this process."""
    links = graph.links
    n_acc, n_attr = links.n_accounts, links.n_attributes
    comm = communities.account_community
    n_comm = communities.n_communities
    present = set(links.kinds)
    # In the cluster score and in each account's fit.
    with_footing = footing_counts(links.kinds, roles)

    n_ips = links.attributes_per_account(roles.ip)
    n_asns = links.attributes_per_account(roles.asn)
    activity = links.activity

    # Every feature below reads the members of communities and their links
    # only: rescoring the few communities a carving or a merge changed, or a
    # part of them in a worker, then reads theirs, not the whole log's
    # (about 20 s per rescoring at 10M accounts).
    member = np.flatnonzero(comm >= 0)
    member_comm = comm[member]
    member_links = _MemberLinks.of(graph, member)

    # Members of the same community sharing each attribute, per link.
    link_comm = comm[member_links.account]
    link_attribute = member_links.attribute
    edge = member_links.member_edge
    # Where the attribute node is in the member's own community (most
    # links), the (community, attribute) pair is the attribute alone and a
    # bincount counts it; only the other links are hashed (hashing every
    # pair took 5 s per call at 10M accounts, and sorting is slower still).
    own = edge & (communities.attribute_community[link_attribute] == link_comm)
    other = edge & ~own
    link_shared = np.zeros(len(link_comm), dtype=np.int64)
    own_attribute = link_attribute[own]
    link_shared[own] = np.bincount(own_attribute, minlength=n_attr)[own_attribute]
    codes, _ = pd.factorize(link_comm[other] * n_attr + link_attribute[other])
    link_shared[other] = np.bincount(codes)[codes]
    shared = np.flatnonzero(link_shared >= 2)
    # Over shared links only: the power over every link took 1-2 s at 10M accounts.
    shared_degree = graph.degree[member_links.attribute[shared]]
    specificity = shared_degree.astype(float) ** -_OVERLAP_EXPONENT
    shared_weight = np.bincount(
        member_links.account[shared], weights=specificity, minlength=n_acc
    ).astype(float, copy=False)  # bincount gives int64 where nothing is shared
    # An owned attribute is shared by at least 3 members, so only the shared
    # links are read, not every edge of the members again.
    owned = shared[_owned_attribute(link_shared[shared], shared_degree)]
    n_owned = np.bincount(member_links.account[owned], minlength=n_acc)
    footing = np.zeros(n_acc)
    footing[member] = n_owned[member] / np.maximum(graph.account_edges[member], 1)

    member_shared = shared_weight[member]
    median_shared = _group_weighted_median(member_shared, member_comm, n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        membership = np.clip(member_shared / (0.5 * median_shared[member_comm]), 0.0, 1.0)
    membership = np.nan_to_num(membership, nan=0.0)
    in_core = membership >= core_membership(roles.ip in present)
    # Over every account: the features below index it by their links' accounts.
    core = np.zeros(n_acc, dtype=bool)
    core[member[in_core]] = True
    core_comm = member_comm[in_core]

    n_accounts = np.bincount(member_comm, minlength=n_comm)
    n_core = np.bincount(core_comm, minlength=n_comm)

    raw = pd.DataFrame(index=pd.RangeIndex(n_comm, name="community"))
    raw["ip_rotation"] = _group_median(n_ips[core], core_comm, n_comm)
    raw["asn_spread"] = _group_median(n_asns[core], core_comm, n_comm)
    raw["specific_overlap"] = _group_median(shared_weight[core], core_comm, n_comm)
    raw["payment_sharing"] = _payment_sharing(member_links, roles.payment, core, comm, n_comm)
    raw["creation_burst"] = _creation_burst(links.created_at, core, comm, n_comm, n_core)
    raw["synchrony"] = _synchrony(member_links, roles.ip, core, comm, n_comm, n_core)
    population_activity = _population_activity(activity)
    raw["volume"] = _group_median(activity[core], core_comm, n_comm) / population_activity
    raw["size"] = n_core.astype(float)
    # Without IPs, only the edges to attributes the community owns (see
    # "Footing"): a group of real users is dense on objects others rate too.
    to_owned = None
    if with_footing and DENSITY_ON_OWNED:
        to_owned = np.zeros(len(link_comm), dtype=bool)
        to_owned[owned] = True
    raw["density"] = _block_density(
        graph, member_links, communities, core, n_comm, n_core, counted=to_owned
    )
    raw["cohesion"] = n_core / np.maximum(n_accounts, 1)
    # Also what each member's footing is compared with (_fit).
    raw["footing"] = _group_median(footing[core], core_comm, n_comm)
    # Like footing, a feature only where the data has no IP kind.
    raw["owned"] = (
        _owned_beyond_chance(graph, comm, n_comm, link_comm[owned], link_attribute[owned])
        if with_footing
        else 0.0
    )

    signal = pd.DataFrame(index=raw.index)
    for feature in FEATURE_WEIGHTS:
        if feature in _LOG_SQUASH:
            signal[feature] = _signal(raw[feature], *_LOG_SQUASH[feature])
        elif feature in _LINEAR_SQUASH:
            low, high = _LINEAR_SQUASH[feature]
            signal[feature] = np.clip((raw[feature].to_numpy() - low) / (high - low), 0, 1)
        elif feature == "synchrony":
            signal[feature] = np.clip(raw[feature].to_numpy() / _SYNCHRONY_FULL, 0, 1)
        else:
            signal[feature] = np.clip(raw[feature].to_numpy(), 0, 1)

    # The core owns the objects a wide periphery also holds where the
    # community holds every holder: footing speaks for an operator's block
    # only as far as the community is its core.
    signal["footing"] *= signal["cohesion"]
    # A community holding most of the accounts owns most attributes whatever
    # it is (its members are most of their holders); Leiden's communities are
    # built around shared attributes, so beyond what chance gives too.
    account_share = n_accounts / max(n_acc, 1)
    signal["owned"] *= signal["cohesion"] * np.clip(
        (OWNED_NONE_SHARE - account_share) / (OWNED_NONE_SHARE - OWNED_FULL_SHARE), 0.0, 1.0
    )

    unavailable = []
    for feature, kind in (
        ("ip_rotation", roles.ip),
        ("asn_spread", roles.asn),
        ("payment_sharing", roles.payment),
    ):
        if kind not in present:
            unavailable.append(feature)
    if np.isnat(links.created_at).all():
        unavailable.append("creation_burst")
    if roles.ip not in present or np.isnat(links.first_seen).all():
        unavailable.append("synchrony")
    if not with_footing:
        unavailable += ["footing", "owned"]
    for feature in unavailable:
        signal[feature] = 0.0

    contrib = signal * pd.Series(FEATURE_WEIGHTS)
    logit = effective_bias(unavailable) + contrib.sum(axis=1)
    cluster_score = 1.0 / (1.0 + np.exp(-logit.to_numpy()))

    clusters = raw.copy()
    clusters.insert(0, "n_accounts", n_accounts)
    clusters.insert(1, "n_core", n_core)
    clusters.insert(2, "score", cluster_score)
    for feature in FEATURE_WEIGHTS:
        clusters[f"contrib_{feature}"] = contrib[feature]

    fit_raw = raw
    if with_footing:
        # Fit compares vouched footing, each owned attribute counting as much
        # as its holders stand on owned attributes themselves (see "Footing").
        vouched = _vouched_footing(
            footing,
            member_links.account[owned],
            link_comm[owned] * n_attr + link_attribute[owned],
            graph.account_edges,
        )
        fit_raw = raw.assign(footing=_group_median(vouched[core], core_comm, n_comm))
    # Without an IP kind the rest of fit is volume alone.
    own = _own_evidence(
        n_ips[member],
        n_asns[member],
        activity[member],
        population_activity,
        vouched[member] if with_footing else None,
    )
    fit = _fit(own, signal, fit_raw, member_comm, unavailable)
    if with_footing:
        # Standing on the cluster's own attributes as much as its median
        # member does, on them for at least half its edges and on at least
        # two of them: a member in full, however few its edges (see
        # "Footing" in the module docstring).
        median_footing = raw["footing"].to_numpy()[member_comm]
        full = (footing[member] >= np.maximum(median_footing, FULL_FOOTING)) & (
            n_owned[member] >= FULL_FOOTING_MIN_OWNED
        )
        membership = np.where(full, 1.0, membership)
        fit = np.where(full, 1.0, fit)
        # Standing on the attributes that the cluster's typical members hold,
        # as much as they do: a member in full, however many other edges it
        # has (a hijacked account's own history; see "Footing").
        typical = np.zeros(n_acc, dtype=bool)
        typical[member] = np.sqrt(membership) * fit >= TYPICAL_MEMBER
        # Held with 4 others for standing on them, with 3 for holding none.
        n_held, n_shared = _held_by_holders(
            typical,
            member_links.account[owned],
            link_comm[owned],
            link_attribute[owned],
            graph,
            (HELD_MIN_OTHERS, APART_MIN_OTHERS),
        )
        stands = _as_its_members(
            n_held[member],
            graph.account_edges[member],
            _group_median(n_held[typical], comm[typical], n_comm)[member_comm],
        )
        # Holding none of the attributes the typical members hold, where the
        # core's median member holds some, a member is not one of them
        # (see "Footing"): a real user that camouflage pulled in.
        apart = (n_shared[member] == 0) & (
            _group_median(n_shared[core], core_comm, n_comm)[member_comm] > 0
        )
        fit = np.where(apart & ~full, 0.0, fit)
        membership = np.where(stands, 1.0, membership)
        fit = np.where(stands, 1.0, fit)
    account_score = cluster_score[member_comm] * np.sqrt(membership) * fit

    def every_account(values: np.ndarray) -> np.ndarray:
        """The members' values, 0 for every other account."""
        out = np.zeros(n_acc)
        out[member] = values
        return out

    account_features = pd.DataFrame(
        {
            "n_ips": n_ips,
            "n_asns": n_asns,
            "activity": activity,
            "shared_weight": shared_weight,
            "footing": footing,
            "membership": every_account(membership),
            "fit": every_account(fit),
            "score": every_account(account_score),
        }
    )
    return Scores(
        clusters=clusters,
        account_features=account_features,
        unavailable=unavailable,
    )


def _rescore(
    graph: AttributeGraph,
    communities: Communities,
    known: list[tuple[Communities, Scores]],
    roles: KindRoles | None,
    n_jobs: int | None = None,
) -> Scores:
    """``score_communities(graph, communities)``, computed only for the
    communities not found, with the same accounts and attribute nodes, in
    ``known`` (partitions already scored); the others' rows are copied.

    Every feature of a community is computed from its own members and
    attribute nodes alone (population medians are over all accounts), so a
    copied row is the row a full scoring gives; ``tests/test_scoring.py``
    checks this. Carving a block or merging a few groups changes a handful of
    communities, and scoring the whole partition again took 2.5 s at 1M
    accounts.
    """
    n = communities.n_communities
    account, attribute = communities.account_community, communities.attribute_community
    members = np.flatnonzero(account >= 0)
    first = np.full(n, len(account), dtype=np.int64)
    np.minimum.at(first, account[members], members)
    size = np.bincount(account[members], minlength=n)
    attr_members = np.flatnonzero(attribute >= 0)
    attr_size = np.bincount(attribute[attr_members], minlength=n)
    source = np.full(n, -1)
    source_label = np.full(n, -1)
    for i, (old, _) in enumerate(known):
        # Every community has an account, so ``first`` is one; the known
        # community holding it is the only one that can have the same sets.
        candidate = np.where(source < 0, old.account_community[first], -1)
        if not (candidate >= 0).any():
            continue
        old_size = np.bincount(
            old.account_community[old.account_community >= 0], minlength=old.n_communities
        )
        old_attr = old.attribute_community
        old_attr_size = np.bincount(old_attr[old_attr >= 0], minlength=old.n_communities)
        # Same sets: every member carries the candidate's label, and the sizes agree.
        differ = np.bincount(
            account[members],
            weights=old.account_community[members] != candidate[account[members]],
            minlength=n,
        )
        differ += np.bincount(
            attribute[attr_members],
            weights=old_attr[attr_members] != candidate[attribute[attr_members]],
            minlength=n,
        )
        safe = np.maximum(candidate, 0)
        same = (
            (candidate >= 0)
            & (differ == 0)
            & (old_size[safe] == size)
            & (old_attr_size[safe] == attr_size)
        )
        source[same] = i
        source_label[same] = candidate[same]
    fresh_labels = np.flatnonzero(source < 0)
    subset = _subset_communities(communities, fresh_labels)
    fresh = score_communities(graph, subset, roles=roles, n_jobs=n_jobs)
    pieces = [(fresh_labels, fresh.clusters, None, None)]
    for i, (_, old_scores) in enumerate(known):
        labels = np.flatnonzero(source == i)
        if len(labels) == 0:
            continue
        copied = members[source[account[members]] == i]
        pieces.append(
            (
                labels,
                old_scores.clusters.iloc[source_label[labels]],
                copied,
                old_scores.account_features.iloc[copied],
            )
        )
    return _assembled(n, fresh, pieces)


def merge_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    *,
    roles: KindRoles | None = None,
    margin: float = MERGE_MARGIN,
    scores: Scores | None = None,
    threshold: float = 0.5,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report each coarse group whole where that raises its best score.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
        With :attr:`~Communities.parent` set (otherwise returned as is).
    roles : KindRoles, optional
    margin : float, default=MERGE_MARGIN
        A group is merged when its score exceeds the highest score among its
        communities by more than this.
    scores : Scores, optional
        The scores of ``communities``, where already computed.
    threshold : float, default=0.5
        The account score at which accounts are flagged. A group that does
        not beat its best community by ``margin`` is still merged where it
        *completes* a farm: it scores at least :data:`COMPLETION_SCORE`,
        flags more of its accounts than its communities do apart, and keeps
        flagging at least :data:`MERGE_KEEP` of those they flag.
    n_jobs : int, optional
        Processes that score at once (see :func:`score_communities`).

    Returns
    -------
    communities : Communities
        The chosen partition, numbered in order of each cluster's smallest
        account; ``parent`` is dropped.
    scores : Scores
        Its scores.
    """
    fine = (
        scores
        if scores is not None
        else score_communities(graph, communities, roles=roles, n_jobs=n_jobs)
    )
    parent = communities.parent
    if parent is None or len(parent) == 0 or len(np.unique(parent)) == len(parent):
        return communities, fine
    grouped = merge_communities(communities, parent)
    # Each community's group as numbered in ``grouped`` (by smallest
    # account), which the group scores below are indexed by; ``parent``'s
    # own numbering need not agree (after a block is adopted, it did not,
    # and groups were judged by other groups' scores).
    parent = _label_in(grouped, communities)
    n_groups = grouped.n_communities
    group_sizes = np.bincount(parent, minlength=n_groups)
    coarse = _rescore(graph, grouped, [(communities, fine)], roles, n_jobs)
    best_part = np.full(n_groups, -np.inf)
    np.maximum.at(best_part, parent, fine.clusters["score"].to_numpy())
    beats_parts = coarse.clusters["score"].to_numpy() > best_part + margin
    completes = _completes(communities, parent, fine, coarse, threshold)
    merge = (group_sizes >= 2) & (beats_parts | completes)
    if not merge.any():
        return communities, fine
    # Merged groups take a label after every community's; the rest keep theirs.
    label = np.where(merge[parent], communities.n_communities + parent, np.arange(len(parent)))
    chosen = merge_communities(communities, label)
    return chosen, _rescore(graph, chosen, [(communities, fine), (grouped, coarse)], roles, n_jobs)


def _label_in(merged: Communities, communities: Communities) -> np.ndarray:
    """The label in ``merged`` of each of ``communities`` (merged from them)."""
    account = communities.account_community
    member = account >= 0
    label = np.full(communities.n_communities, -1, dtype=np.int64)
    label[account[member]] = merged.account_community[member]
    return label


def _completes(
    communities: Communities,
    parent: np.ndarray,
    fine: Scores,
    coarse: Scores,
    threshold: float,
) -> np.ndarray:
    """Per coarse group: whether reporting it whole *completes* a farm.

    That is: the group is itself clearly a farm (score at least
    :data:`COMPLETION_SCORE`), it flags more of its accounts than its
    communities do apart, and it still flags at least :data:`MERGE_KEEP` of
    those they flag.
    """
    n_groups = len(coarse.clusters)
    member = np.flatnonzero(communities.account_community >= 0)
    group = parent[communities.account_community[member]]
    was = fine.account_features["score"].to_numpy()[member] >= threshold
    now = coarse.account_features["score"].to_numpy()[member] >= threshold
    before = np.bincount(group, weights=was, minlength=n_groups)
    gained = np.bincount(group, weights=now & ~was, minlength=n_groups)
    lost = np.bincount(group, weights=was & ~now, minlength=n_groups)
    return (
        (coarse.clusters["score"].to_numpy() >= COMPLETION_SCORE)
        & (gained > lost)
        & (lost <= (1.0 - MERGE_KEEP) * before)
    )


def adopt_dense_blocks(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    blocks: list[DenseBlock],
    *,
    roles: KindRoles | None = None,
    margin: float = MERGE_MARGIN,
    min_cluster_size: int = 3,
    threshold: float = 0.5,
    n_blocks: int | None = None,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report each dense block as one cluster where that raises its best score.

    A block (:func:`acctgraph.blocks.find_dense_blocks`) is weighed against
    its *pieces*, the communities holding at least 5% of its accounts, and
    is adopted where, carved out whole, it is flagged (scores at least
    ``threshold``) and either

    * it scores more than ``margin`` above the best of its pieces and of the
      flagged communities (scored at least ``threshold``) that give it any
      account, or
    * it *completes* its pieces: it scores no more than ``margin`` below
      that best, and among the block's and its pieces' accounts it flags
      more than before, but at most
      :data:`COMPLETION_LIMIT` more. FRAUDAR's hijacked accounts are the
      case: Leiden puts the farm's accounts with long histories of their
      own into background communities, and the block, which scores like the
      farm's community, brings them back; the limit keeps a block that
      would take a crowd along from being adopted on this ground.

    The flagged communities set the bar because carving can sink them: in
    bench_quality's ``few_proxies`` world at 10,000 accounts (seed 1), the
    farm is cut into pieces of about 25 accounts, none of them 5% of the
    969-account block peeled through them and the carrier, household and
    VPN crowds around, which scored 0.34, above its crowd pieces; adopted,
    it took the farm's accounts from their communities (0.95) and nothing
    was flagged.

    A block that would not be flagged is left alone even where it
    out-scores its pieces: carved out, it is a group of its own, which the
    coarse merge after it (:func:`merge_on_evidence`) cannot join again.
    On FRAUDAR's injection benchmark (thinned background, no camouflage,
    density 0.02, trial 4) the second block peeled was 170 of the 200 fake
    users, scoring under the threshold but above the pieces Leiden cut
    them into; adopted, it kept the coarse merge from the group of all
    the pieces, which scores as a farm and flags 172 of them.

    Where footing counts (the data has no IP kind), a block whose core's
    median footing is under :data:`ADOPT_MIN_FOOTING` is never adopted, and
    is passed over: it does not count among the ``n_blocks`` weighed, so
    the next block peeled takes its place (the pipeline peels
    :data:`SPARE_BLOCKS` more where the data has no IP kind).
    Peeling selects for density, so a peeled block's density, overlap and
    cohesion are high in a group of real users too, and carved out it can
    score as a farm on them alone; what it does not select for is owning
    the objects. On FRAUDAR's injection benchmark (thinned background, no
    camouflage, density 0.02, trial 4) the first block peeled was 65 real
    traders whose core footing is 0.1; carved out it scored 0.54 and
    flagged 45 of them; on the unthinned background such blocks scored
    0.78-0.93. Over densities 0.02, 0.03 and 0.05, all four attacks and
    both backgrounds (5 trials each), the candidate blocks that held the
    injected users had core footing 0.25-1.0 (0.25-0.55 under biased
    camouflage, whose popular objects nobody owns); those of real users
    alone 0-0.12, but for three groups of 10-17 accounts (0.28-0.55).

    A block is weighed as :func:`trim_block` leaves it, grown by
    :func:`grow_block` and, where footing counts (the data has no IP kind),
    cut by :func:`keep_owning_parts`. One that
    trimming leaves with fewer than :data:`TRIM_MIN_KEPT` of its peeled
    accounts is passed over too: most of it lives on objects it shares with
    others. Where the injected users were most of a peeled block (FRAUDAR's
    injection benchmark, densities 0.02-0.06 and 0.10, 5 trials of each
    attack on both backgrounds: 235 blocks), trimming kept 0.73-1.0 of its
    accounts; of the 276 blocks of real users, 183 kept under half (median
    0.15).
    In the unthinned, random camouflage, density 0.03, trial 0 world, a
    group of 80 real users peeled first was trimmed to 12 who own their
    objects; those passed the footing gate and took the one place, and the
    injected block behind them was never weighed (F 0.942 to 0.376 over
    that cell's trials).

    The communities keep their other members; those left with fewer than
    ``min_cluster_size`` accounts are dropped.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    blocks : list of DenseBlock
    roles : KindRoles, optional
    margin : float, default=MERGE_MARGIN
    min_cluster_size : int, default=3
    threshold : float, default=0.5
        The score at which accounts are flagged.
    n_blocks : int, optional
        Weigh at most this many blocks, in peeling order, not counting
        those passed over; None weighs them all.
    n_jobs : int, optional
        Processes that score at once (see :func:`score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    # Footing passes blocks over, and ownership cuts them, only where it counts.
    with_footing = footing_counts(graph.links.kinds, roles or KindRoles())
    passed_over = 0
    for i, peeled in enumerate(blocks):
        if n_blocks is not None and i - passed_over >= n_blocks:
            break
        block = trim_block(graph, peeled)
        if len(block.accounts) < TRIM_MIN_KEPT * len(peeled.accounts):
            passed_over += 1  # most of it lives elsewhere: a dense crowd, not a block
            continue
        block = grow_block(graph, block)
        if with_footing:
            block = keep_owning_parts(graph, block, min_accounts=max(10, min_cluster_size))
        held = communities.account_community[block.accounts]
        pieces, counts = np.unique(held[held >= 0], return_counts=True)
        piece_score = scores.clusters["score"].to_numpy()[pieces]
        main = counts >= max(1.0, 0.05 * len(block.accounts))
        if not main.any():
            continue
        # A flagged community sets the bar whatever it gives: carving its
        # accounts away can sink it.
        best_piece = piece_score[main | (piece_score >= threshold)].max()
        pieces = pieces[main]
        account_score = scores.account_features["score"].to_numpy()
        if best_piece + margin >= 1.0 and (account_score[block.accounts] >= threshold).all():
            continue  # it can neither out-score its pieces nor flag more: skip scoring it
        candidate = carve_block(communities, block.accounts, block.attributes, min_cluster_size)
        candidate_scores = _rescore(graph, candidate, [(communities, scores)], roles, n_jobs)
        block_row = candidate_scores.clusters.iloc[candidate.account_community[block.accounts[0]]]
        block_score = block_row["score"]
        if with_footing and block_row["footing"] < ADOPT_MIN_FOOTING:
            passed_over += 1  # a peeled group that shares its objects with others: not a block
            continue
        # The accounts the carving touches: the block's and its pieces'.
        touched = np.isin(communities.account_community, pieces)
        touched[block.accounts] = True
        flagged_before = np.count_nonzero(account_score[touched] >= threshold)
        flagged_after = np.count_nonzero(
            candidate_scores.account_features["score"].to_numpy()[touched] >= threshold
        )
        completes = (
            block_score >= best_piece - margin
            and flagged_before < flagged_after <= (1.0 + COMPLETION_LIMIT) * flagged_before
        )
        if not (block_score >= threshold and (block_score > best_piece + margin or completes)):
            continue
        if _group_does_better(
            graph,
            communities,
            scores,
            pieces,
            block_score,
            flagged_after,
            roles,
            margin,
            threshold,
            n_jobs,
        ):
            continue  # the coarse merge reports the whole group, which carving would break up
        communities, scores = candidate, candidate_scores
    return communities, scores


def _group_does_better(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    pieces: np.ndarray,
    block_score: float,
    block_flags: int,
    roles: KindRoles | None,
    margin: float,
    threshold: float,
    n_jobs: int | None,
) -> bool:
    """Whether the coarse group holding a block's ``pieces`` (all in one
    group) is the better report: the coarse merge would take it whole (it
    scores more than ``margin`` above each of its communities), it scores
    no more than ``margin`` below the block, and it flags at least
    ``block_flags`` accounts (as many as the block's carving does).

    An adopted block is a group of its own, so adopting it keeps the merge
    from reporting the group it came from. Where the group is the farm whole
    and the block only the part peeling reached, that loses farm accounts:
    on FRAUDAR's injection benchmark (thinned background, no camouflage,
    density 0.03, trial 0) the block was 181 accounts and scored 0.76,
    flagging 176, where the group of the 13 pieces Leiden cut the injected
    users into holds all 200 of them, scores 0.82 and flags 184. Over that
    cell's 5 trials F went from 0.956 to 0.970, and no cell fell.
    """
    parent = communities.parent
    if parent is None or len(pieces) == 0:
        return False
    groups = np.unique(parent[pieces])
    if len(groups) != 1:
        return False
    in_group = parent == groups[0]
    if np.count_nonzero(in_group) < 2:
        return False
    label = np.where(in_group, communities.n_communities, np.arange(communities.n_communities))
    merged = merge_communities(communities, label)
    merged_scores = _rescore(graph, merged, [(communities, scores)], roles, n_jobs)
    group_accounts = np.flatnonzero(
        np.isin(communities.account_community, np.flatnonzero(in_group))
    )
    group_row = merged_scores.clusters.iloc[merged.account_community[group_accounts[0]]]
    best_part = scores.clusters["score"].to_numpy()[in_group].max()
    group_flags = np.count_nonzero(
        merged_scores.account_features["score"].to_numpy()[group_accounts] >= threshold
    )
    return bool(
        group_row["score"] > best_part + margin
        and group_row["score"] >= block_score - margin
        and group_flags >= block_flags
    )


def split_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    margin: float = MERGE_MARGIN,
    threshold: float = 0.5,
    min_accounts: int = 10,
    min_cluster_size: int = 3,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Report a community's densest block on its own where it scores as a farm.

    Modularity has a resolution limit: a small farm tied to a larger crowd
    can stay in the crowd's community, whose medians are then the crowd's.
    Where a farm's proxies resell households' home IPs, 20 farm accounts
    come out of Leiden with the 80 household accounts whose IPs they use
    and score 0.007; peeled out of that community (FRAUDAR's objective on
    the community's own edges, :func:`acctgraph.blocks.find_blocks_within`)
    they are the densest block, 20 farm accounts and 3 household ones, and
    score 0.83. The households' edges weigh less: each adds one edge to an
    IP the farm's accounts use, where each farm account adds one to every
    IP of the pool.

    Every community that scores below ``threshold`` and has at least twice
    ``min_accounts`` accounts is peeled; its block is carved out where the
    block, scored on its own, reaches ``threshold`` and beats its community
    by more than ``margin``. A crowd is never split merely because a part of
    it scores a little higher: that would cut crowds into arbitrary pieces
    for the analyst to read.

    Only where the data has an IP kind. The peeling picks the block that
    maximises density, so a block's density, overlap and cohesion are high
    by construction, in a crowd too; only evidence the peeling does not
    select for, how the block's accounts rotate IPs and networks and how
    much they send, can then tell a farm. Without IPs the score rests on
    those structural features, and on FRAUDAR's injection benchmark (one
    generic kind, unthinned background) peeled cores of real trader groups
    scored as farms: F fell in 18 of the 32 cells from density 0.03 up, by
    up to 0.14 (random camouflage at density 0.09: 0.992 to 0.855), while
    the two sparsest camouflaged cells rose (random at 0.03: 0 to 0.65).

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    roles : KindRoles, optional
    margin : float, default=MERGE_MARGIN
    threshold : float, default=0.5
    min_accounts : int, default=10
        The fewest accounts a block may hold.
    min_cluster_size : int, default=3
        What is left of a community with fewer accounts is dropped.
    n_jobs : int, optional
        Processes that peel and score at once (see
        :func:`acctgraph.blocks.find_blocks_within` and :func:`score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    if roles.ip not in set(graph.links.kinds):
        return communities, scores
    size = np.bincount(
        communities.account_community[communities.account_community >= 0],
        minlength=communities.n_communities,
    )
    community_score = scores.clusters["score"].to_numpy()
    candidates = np.flatnonzero((community_score < threshold) & (size >= 2 * min_accounts))
    blocks = find_blocks_within(
        graph,
        communities.account_community,
        communities.attribute_community,
        candidates,
        min_accounts=min_accounts,
        # Rounds first above 5,000 nodes: peeling the 46 communities of
        # 1,000 or more accounts one node at a time took 0.9 s at 1M
        # accounts, against 0.4 s.
        exact_below=5_000,
        n_jobs=n_jobs,
    )
    if not blocks:
        return communities, scores
    labels = np.array(sorted(blocks))
    # The blocks alone, block i as community i: a community's features come
    # from its own members and attribute nodes only (see _rescore), so this
    # scores each block as it would score carved out, without scoring the
    # remainders of the communities whose block is not adopted (at 10M
    # accounts, most crowds' members).
    account_block = np.full(graph.links.n_accounts, -1, dtype=np.int64)
    attribute_block = np.full(graph.links.n_attributes, -1, dtype=np.int64)
    for i, label in enumerate(labels):
        account_block[blocks[label].accounts] = i
        attribute_block[blocks[label].attributes] = i
    alone = Communities(
        account_community=account_block,
        attribute_community=attribute_block,
        n_communities=len(labels),
        n_components=communities.n_components,
    )
    alone_scores = score_communities(graph, alone, roles=roles, n_jobs=n_jobs)
    block_score = alone_scores.clusters["score"].to_numpy()
    adopted = (block_score >= threshold) & (block_score > community_score[labels] + margin)
    if not adopted.any():
        return communities, scores
    chosen = carve_blocks(
        communities,
        [(blocks[k].accounts, blocks[k].attributes) for k in labels[adopted]],
        min_cluster_size,
    )
    return chosen, _rescore(
        graph, chosen, [(communities, scores), (alone, alone_scores)], roles, n_jobs
    )


def attach_on_evidence(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    *,
    roles: KindRoles | None = None,
    threshold: float = 0.5,
    min_cluster_size: int = 3,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Move an account into a farm's cluster where, judged as its member, it
    would be flagged.

    Leiden places an account with the community holding most of its edge
    weight. A farm account whose proxies are busy carrier-NAT IPs (each also
    used by about 250 people) and whose card is its one tie to the rest of
    its farm lands in the carrier's crowd, scored as the crowd (near 0),
    though it shares that card with 50 accounts of a flagged farm and
    rotates 4-5 IPs over 3 networks as they do.

    A *tie* is an attribute of any kind but the ASN more than half of whose
    accounts are members of flagged clusters (score at least
    ``threshold``): the farms' cards, proxy IPs mostly theirs. Each account
    that is not flagged and has a tie with the members of a flagged cluster
    ``c`` is judged by the account rule of :func:`score_communities` as if
    it were ``c``'s member, against ``c``'s features as they stand::

        score(a, c) = score(c) * sqrt(m(a, c)) * fit(a, c)

    with ``m(a, c) = clip(w(a, c) / (0.5 * ref(c)), 0, 1)``, ``w(a, c)`` the
    summed ``deg(v) ** -0.5`` of every attribute ``a`` shares with ``c``'s
    members (ASNs included) and ``ref(c)`` the weighted median of their own
    shared weights. Where ``score(a, c)`` reaches ``threshold``, ``a`` moves
    to ``c`` (to the highest-scoring ``c``, the smallest label on a tie),
    and an attribute node whose every edge comes from accounts moved to
    ``c`` moves with them; the clusters are then scored again, and a farm
    that its attached accounts would take below ``threshold`` (its core
    diluted) is left as it was.

    A *card tie* counts as full membership, ``m(a, c) = 1``: a payment
    method that is a tie and pays for :data:`CARD_TIE_MEMBERS` (10) or more
    of ``c``'s members. ``w`` weighs a card by its rarity, as it does an IP,
    so a card pooled by 54 farm accounts weighs 0.14 and a farm account
    whose IPs are its own (each used once) reached ``m`` 0.2-0.5 against a
    reference of 1.86 and stayed in the households' community it was
    placed in, scored near 0. A card pooled by ten of a flagged farm's
    members is the farm's own; an office's card is held by the office,
    whose cluster is not flagged. The 10 keeps a family card (a few
    holders, some inside a flagged cluster) out of the rule; no benchmark
    world has one (2, 5, 10 and 30 give the same results on
    ``few_proxies``). So an account joins a farm only if it holds
    some of the farm's own infrastructure and shows the farm's behaviour
    itself: a household whose home IP the farm's proxies resell has the
    tie, but neither rotates nor sends the farm's volume, and stays.

    On the ``few_proxies`` world (20,000 accounts, seeds 1-2) this flags 17
    and 14 more farm accounts: F1 0.961/0.947 to 0.976/0.960, average
    precision 0.954/0.945 to 0.980/0.967, no innocent account more; at
    10,000 accounts (seeds 1-3) recall 0.60/0.70/0.72 to 0.87/0.92/0.91.
    Card ties then move 12 and 19 more farm accounts into their farm's
    cluster (in seed 2 they had scored 0.000-0.002 in household
    communities) and no other account: 2 and 4 of them are flagged (F1
    0.978/0.964), the rest score below the threshold but above the
    households, and average precision rises to 0.999/0.992.
    Every other world is unchanged.

    Why ties, and why not ASNs: without the tie, any account sharing
    attributes with a farm's members was judged. A farm that shares only
    ASNs and cards (``bench_adversarial.py``'s ``spread_farm``, every proxy
    IP used once) has a low ``ref``, so office workers on 3 of the same
    residential networks, with 4-5 IPs of their own, reached its membership
    and fit: 4 office and 3 household accounts were flagged. An ASN is a
    network with thousands of customers; sharing one says where an account
    is, not whose it is. A tie of at least half (not more than half) added
    a household that shared a 2-account IP with one farm account (10,000
    accounts, seed 1).

    Judged so only where the data has an IP kind: without one, ``fit``
    rests on volume alone, which active background users have too. On
    FRAUDAR's injection benchmark (one generic kind) background raters of
    the injected block's products were attached to it: cells at or above
    FRAUDAR fell from 24 to 15 of 32 (thinned background; random camouflage
    at density 0.05: F 0.981 to 0.914) and from 22 to 16 (unthinned).
    Without an IP kind an account joins a flagged cluster where it stands
    on the cluster's attributes instead (:func:`_held_by_flagged`): at
    least 2 attributes, a quarter of its edges, each with 4 or more other
    holders of whom 90% are that cluster's flagged members. A fake user
    whose own ratings (hijacked) or camouflage pulled it into a real
    users' community still rates the block's objects, which only fake
    users rate; a real user rates such an object only by chance, and
    rarely two. A hijacked account's own history dilutes that quarter (3-8
    of 20-36 ratings), so holding as many such attributes as the
    cluster's flagged members do, half their median and a tenth of its
    edges (:func:`_as_its_members`), also counts. Attaching is repeated,
    up to :data:`ATTACH_ROUNDS` (3) times, until no account moves: each
    fake user attached makes more of the block's objects held. With both
    (and the full-member rule of "Footing" for accounts already in the
    cluster), 25 of the 80 cells rose and 3 fell by 0.001 or less; with
    one round, 12 of those cells are lower. The first version, over the
    benchmark's 80 cells (5 trials): 45 rose and none
    fell: mean F from density 0.03 went from 0.9879 to 0.9927 (thinned)
    and from 0.9844 to 0.9905 (unthinned); at 0.03 random camouflage went
    from 0.961 / 0.946 to 0.976 / 0.967, biased from 0.909 / 0.879 to
    0.933 / 0.901, hijacked from 0.931 / 0.926 to 0.945 / 0.931; biased
    camouflage at 0.04 from 0.964 / 0.958 to 0.981 / 0.985. On held-out
    trials 5-14, 45 rose and 1 fell by 0.001. With 3 other holders instead
    of 4, real users rating popular objects that fake users camouflage with
    were attached at density 0.10 (random camouflage, thinned: 0.996 to
    0.993, behind FRAUDAR).

    The accounts outside are judged together (:func:`_standing_together`):
    an attribute's other holders that stand on the cluster themselves, in
    other communities than the account's, count with its flagged members.
    The fake users that the block's cluster misses rate block objects
    that other missed fake users rate too. Over the 80 cells, 11 rose and
    1 fell by 0.0005; biased camouflage at 0.03 went from 0.948 / 0.922 to
    0.960 / 0.964, hijacked from 0.963 / 0.958 to 0.970 / 0.968, random
    from 0.978 / 0.971 to 0.985 / 0.980, so every cell from density 0.03
    reaches 0.95. Held-out trials 5-14: 13 rose, 3 fell by 0.002 or less;
    unthinned biased 0.03 went from 0.914 to 0.963. Counting holders of
    the account's own community too, groups of 8-11 real users that one
    community held together joined the block at densities 0.07-0.10
    (thinned, biased camouflage: 0.996 to 0.984 at 0.10, behind FRAUDAR's
    0.990). The half that anchors an attribute matters little (15 trials:
    0.3 instead raised 2 cells by up to 0.003, 0.7 lowered 3 by up to
    0.005); above half, one cluster at most anchors it.

    Parameters
    ----------
    graph : AttributeGraph
    communities : Communities
    scores : Scores
        The scores of ``communities``.
    roles : KindRoles, optional
    threshold : float, default=0.5
    min_cluster_size : int, default=3
        A community left with fewer accounts is dropped.
    n_jobs : int, optional
        Processes that score at once (see :func:`score_communities`).

    Returns
    -------
    communities : Communities
    scores : Scores
    """
    roles = roles or KindRoles()
    with_ips = roles.ip in set(graph.links.kinds)
    # Without IPs, until nothing moves: each account attached makes more of
    # its attributes held by its new cluster.
    for _ in range(1 if with_ips else ATTACH_ROUNDS):
        if with_ips:
            moved, target = _tied_to_flagged(graph, communities, scores, roles, threshold)
        else:
            moved, target = _held_by_flagged(graph, communities, scores, threshold)
        attached, rescored = _attach_unless_sinking(
            graph, communities, scores, moved, target, roles, threshold, min_cluster_size, n_jobs
        )
        if attached is communities:  # nothing moved
            break
        communities, scores = attached, rescored
    return communities, scores


def _tied_to_flagged(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    roles: KindRoles,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """With an IP kind: the accounts, not flagged, that hold a tie to a
    flagged cluster and would be flagged as its member (sorted), and that
    cluster for each (see :func:`attach_on_evidence`)."""
    links = graph.links
    community = communities.account_community
    cluster_score = scores.clusters["score"].to_numpy()
    is_farm = np.append(cluster_score >= threshold, False)
    slot = np.where(community >= 0, community, communities.n_communities)
    in_farm = is_farm[slot]
    if not in_farm.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edge = graph.edge_mask

    # Each (farm, attribute) pair its members use, sorted by attribute.
    farm_links = links.links_of(np.flatnonzero(in_farm))
    farm_links = farm_links[edge[farm_links]]
    pair_farm = community[links.account[farm_links]]
    pair_attribute = links.attribute[farm_links]
    order = np.lexsort((pair_farm, pair_attribute))
    pair_farm, pair_attribute = pair_farm[order], pair_attribute[order]
    distinct = np.r_[True, (np.diff(pair_attribute) != 0) | (np.diff(pair_farm) != 0)]
    # How many of the farm's members hold each pair's attribute.
    pair_members = np.diff(np.r_[np.flatnonzero(distinct), len(distinct)])
    pair_farm, pair_attribute = pair_farm[distinct], pair_attribute[distinct]

    # Ties: attributes of any kind but the ASN more than half of whose
    # accounts are in flagged clusters.
    in_flagged = np.bincount(links.attribute[farm_links], minlength=links.n_attributes)
    is_tie = 2 * in_flagged > graph.degree
    if roles.asn in set(links.kinds):
        start, stop = links.kind_range(roles.asn)
        is_tie[start:stop] = False
    tied = np.zeros(links.n_accounts, dtype=bool)
    tied[links.account[edge & is_tie[links.attribute]]] = True

    # The edges of tied accounts, not flagged and outside every farm, to
    # attributes the farms' members use.
    uses_farm_attribute = np.zeros(links.n_attributes, dtype=bool)
    uses_farm_attribute[pair_attribute] = True
    open_account = tied & ~in_farm & (scores.account_features["score"].to_numpy() < threshold)
    candidate = np.flatnonzero(
        edge & uses_farm_attribute[links.attribute] & open_account[links.account]
    )
    if len(candidate) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    attribute = links.attribute[candidate]
    first = np.searchsorted(pair_attribute, attribute, side="left")
    n_farms = np.searchsorted(pair_attribute, attribute, side="right") - first
    pair = concatenated_ranges(first, n_farms)
    account = np.repeat(links.account[candidate], n_farms)
    farm = pair_farm[pair]
    weight = graph.degree[pair_attribute[pair]].astype(float) ** -_OVERLAP_EXPONENT
    # Summed per (account, farm); a farm is a target only where the account
    # has a tie with its members.
    key, at = np.unique(account * communities.n_communities + farm, return_inverse=True)
    shared = np.bincount(at.ravel(), weights=weight)
    has_tie = np.bincount(at.ravel(), weights=is_tie[pair_attribute[pair]]) > 0
    # A card tie: a tie of the payment kind that pays for CARD_TIE_MEMBERS
    # or more of the farm's members.
    is_card = np.zeros(links.n_attributes, dtype=bool)
    if roles.payment in set(links.kinds):
        start, stop = links.kind_range(roles.payment)
        is_card[start:stop] = True
    card_pair = (
        is_card[pair_attribute[pair]]
        & is_tie[pair_attribute[pair]]
        & (pair_members[pair] >= CARD_TIE_MEMBERS)
    )
    card_tie = np.bincount(at.ravel(), weights=card_pair, minlength=len(key)) > 0
    account, farm = key // communities.n_communities, key % communities.n_communities
    account, farm, shared = account[has_tie], farm[has_tie], shared[has_tie]
    card_tie = card_tie[has_tie]

    members = np.flatnonzero(in_farm)
    reference = _group_weighted_median(
        scores.account_features["shared_weight"].to_numpy()[members],
        community[members],
        communities.n_communities,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        membership = np.clip(np.nan_to_num(shared / (0.5 * reference[farm]), nan=0.0), 0.0, 1.0)
    membership[card_tie] = 1.0
    features = scores.account_features
    clusters = scores.clusters
    signal = pd.DataFrame(
        {f: clusters[f"contrib_{f}"].to_numpy() / w for f, w in FEATURE_WEIGHTS.items()}
    )
    own = _own_evidence(
        features["n_ips"].to_numpy()[account],
        features["n_asns"].to_numpy()[account],
        features["activity"].to_numpy()[account],
        _population_activity(links.activity),
    )
    # Without footing, which counts only where the data has no IP kind.
    fit = _fit(own, signal, clusters, farm, scores.unavailable)
    judged = cluster_score[farm] * np.sqrt(membership) * fit
    # Each account's best farm: highest score, then smallest label.
    best = _best_per_account(account, farm, judged)
    best = best[judged[best] >= threshold]
    return account[best], farm[best]


def _held_by_flagged(
    graph: AttributeGraph, communities: Communities, scores: Scores, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Without an IP kind: the accounts, not flagged, that stand on a flagged
    cluster's attributes (sorted), and that cluster for each.

    An attribute is *held by* cluster ``c`` where it has at least
    :data:`HELD_MIN_OTHERS` (4) other holders and at least
    :data:`HELD_SHARE` (90%) of them are ``c``'s flagged members or accounts
    that stand on ``c`` themselves. An account with at least
    :data:`HELD_MIN_ATTRIBUTES` (2) attributes held by ``c``, making at least
    :data:`HELD_MIN_EDGE_SHARE` (25%) of its edges or as many as ``c``'s
    flagged members hold (:func:`_as_its_members`), stands on ``c`` and
    moves to it (the ``c`` holding most of them, the smallest label on a
    tie).

    The accounts standing are found together (:func:`_standing_together`),
    among the holders of attributes more than :data:`HELD_ANCHOR_SHARE`
    (half) of whose other holders are ``c``'s flagged members, each counting
    only those of other communities than its own. Why together: camouflage
    scatters the fake users that a block's cluster misses over the real
    communities whose objects they also rate, and the block's objects they
    rate are also rated by other missed fake users, so fewer than 90% of
    the objects' other raters are flagged, though all are fake. Unthinned
    background, biased camouflage, density 0.03, trial 2: 59 fake users
    missed, their objects' other raters 54-100% flagged (median 71%),
    only 0.3 of their objects on average held by flagged members alone.
    Why other communities only: a group of real users whom Leiden keeps in
    one community, rating the same popular objects, would vouch for each
    other where camouflage makes most of those objects' raters fake
    (thinned background, biased camouflage, density 0.10: groups of 8-11
    such real users joined, with 17 of an object's 25 raters fake).
    """
    links = graph.links
    n_attr = links.n_attributes
    community = communities.account_community
    flagged = (scores.account_features["score"].to_numpy() >= threshold) & (community >= 0)
    # Flagged holders per (cluster, attribute), read from the flagged
    # accounts' links only; above half, one cluster at most.
    flagged_links = links.links_of(np.flatnonzero(flagged))
    flagged_links = flagged_links[graph.edge_mask[flagged_links]]
    pairs, n_flagged = np.unique(
        community[links.account[flagged_links]] * n_attr + links.attribute[flagged_links],
        return_counts=True,
    )
    others = graph.degree[pairs % n_attr] - 1
    anchored = (others >= HELD_MIN_OTHERS) & (n_flagged > HELD_ANCHOR_SHARE * others)
    anchor_by = np.full(n_attr, -1, dtype=np.int64)
    anchor_by[pairs[anchored] % n_attr] = pairs[anchored] // n_attr
    flagged_of = np.zeros(n_attr, dtype=np.int64)
    flagged_of[pairs[anchored] % n_attr] = n_flagged[anchored]
    edges = np.flatnonzero(graph.edge_mask & (anchor_by >= 0)[links.attribute])
    account, attribute = links.account[edges], links.attribute[edges]
    cluster = anchor_by[attribute]
    # Each flagged member's count of attributes its own cluster holds, and
    # the median per cluster: what an account outside must hold half of.
    by_member = (
        flagged[account]
        & (community[account] == cluster)
        & (flagged_of[attribute] >= HELD_SHARE * (graph.degree[attribute] - 1))
    )
    member_held = np.bincount(account[by_member], minlength=links.n_accounts)
    members_median = _group_median(
        member_held[flagged], community[flagged], communities.n_communities + 1
    )
    # Members not flagged are judged too, and vouch for accounts outside,
    # but they are already where they would move.
    candidate = ~flagged[account]
    held_account, held_cluster, n_held = _standing_together(
        graph,
        community,
        account[candidate],
        attribute[candidate],
        cluster[candidate],
        flagged_of,
        members_median,
    )
    elsewhere = community[held_account] != held_cluster
    held_account, held_cluster, n_held = (
        held_account[elsewhere],
        held_cluster[elsewhere],
        n_held[elsewhere],
    )
    # Each account's cluster holding most of its attributes, then the smallest label.
    best = _best_per_account(held_account, held_cluster, n_held)
    return held_account[best], held_cluster[best]


def _standing_together(
    graph: AttributeGraph,
    community: np.ndarray,
    account: np.ndarray,
    attribute: np.ndarray,
    cluster: np.ndarray,
    flagged_of: np.ndarray,
    members_median: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The accounts that stand on a cluster together, and how many of its
    attributes each holds.

    ``account``, ``attribute`` and ``cluster`` give the edges of the
    accounts judged to the attributes anchored by ``cluster``;
    ``flagged_of`` each attribute's flagged holders there. Every account
    starts standing. An attribute is held for an account where its flagged
    holders and the accounts still standing from other communities than the
    account's are :data:`HELD_SHARE` of its other holders; an account
    without enough held attributes (see :func:`_held_by_flagged`) falls,
    until none falls (each round only takes accounts out, so it ends).

    Returns
    -------
    account, cluster, n_held : ndarray
        One row per (account, cluster) standing, in the order of the
        accounts' first edges.
    """
    n_labels = int(community.max(initial=-1)) + 2
    pair, keys = pd.factorize(account * n_labels + cluster)
    pair_account, pair_cluster = keys // n_labels, keys % n_labels
    edges_of = graph.account_edges[pair_account]
    # (attribute, community of the holder): whose standing does not count.
    own, _ = pd.factorize(attribute * (n_labels + 1) + community[account] + 1)
    others = graph.degree[attribute] - 1
    standing = np.ones(len(keys), dtype=bool)
    while True:
        standing_of = np.bincount(attribute, weights=standing[pair], minlength=len(flagged_of))
        standing_own = np.bincount(own, weights=standing[pair])
        support = flagged_of[attribute] + standing_of[attribute] - standing_own[own]
        n_held = np.bincount(pair, weights=support >= HELD_SHARE * others, minlength=len(keys))
        enough = (n_held >= HELD_MIN_ATTRIBUTES) & (n_held >= HELD_MIN_EDGE_SHARE * edges_of)
        enough |= _as_its_members(n_held, edges_of, members_median[pair_cluster])
        if not (standing & ~enough).any():
            break
        standing &= enough
    return pair_account[standing], pair_cluster[standing], n_held[standing].astype(np.int64)


def _best_per_account(account: np.ndarray, label: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of each account's row with the highest ``value``, the
    smallest ``label`` on a tie, in account order."""
    best = np.lexsort((label, -value, account))
    return best[np.r_[True, account[best][1:] != account[best][:-1]][: len(best)]]


def _attach_unless_sinking(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    moved: np.ndarray,
    target: np.ndarray,
    roles: KindRoles,
    threshold: float,
    min_cluster_size: int,
    n_jobs: int | None,
) -> tuple[Communities, Scores]:
    """Move ``moved`` (sorted) into the flagged clusters ``target`` and
    score the result, leaving out the accounts of a cluster they would take
    below ``threshold``."""
    if len(moved) == 0:
        return communities, scores
    attached, rescored = _attach(
        graph, communities, scores, moved, target, roles, min_cluster_size, n_jobs
    )
    # A farm that the accounts attached to it would take below the threshold
    # (its core diluted) is left as it was, so attaching never unflags.
    sinks = rescored.clusters["score"].to_numpy()[attached.account_community[moved]] < threshold
    if sinks.any():
        moved, target = moved[~sinks], target[~sinks]
        if len(moved) == 0:
            return communities, scores
        attached, rescored = _attach(
            graph, communities, scores, moved, target, roles, min_cluster_size, n_jobs
        )
    logger.info(
        "scoring: %d accounts attached to %d flagged clusters", len(moved), len(np.unique(target))
    )
    return attached, rescored


def _attach(
    graph: AttributeGraph,
    communities: Communities,
    scores: Scores,
    moved: np.ndarray,
    target: np.ndarray,
    roles: KindRoles,
    min_cluster_size: int,
    n_jobs: int | None = None,
) -> tuple[Communities, Scores]:
    """Move accounts ``moved`` (sorted) into communities ``target``, with the
    attribute nodes whose every edge comes from accounts moved to one of
    them, and score the result."""
    links = graph.links
    edge = graph.edge_mask
    target_of = np.full(links.n_accounts, -1, dtype=np.int64)
    target_of[moved] = target
    moved_links = links.links_of(moved)
    moved_links = moved_links[edge[moved_links]]
    link_target = target_of[links.account[moved_links]]
    link_attribute = links.attribute[moved_links]
    edges_from_moved = np.bincount(link_attribute, minlength=links.n_attributes)
    lowest = np.full(links.n_attributes, np.iinfo(np.int64).max)
    highest = np.full(links.n_attributes, -1)
    np.minimum.at(lowest, link_attribute, link_target)
    np.maximum.at(highest, link_attribute, link_target)
    follows = np.flatnonzero(
        (edges_from_moved > 0) & (edges_from_moved == graph.degree) & (lowest == highest)
    )
    attached = move_accounts(
        communities, moved, target, follows, lowest[follows], min_size=min_cluster_size
    )
    return attached, _rescore(graph, attached, [(communities, scores)], roles, n_jobs)


def trim_block(graph: AttributeGraph, block: DenseBlock) -> DenseBlock:
    """Keep the peeled accounts that live on the block's own attributes.

    Peeling keeps an account whose edges into the block weigh more than the
    block's density, wherever the rest of its edges go. On a rating graph
    with a dense core of real users, that keeps the core: on FRAUDAR's
    injection benchmark (unthinned background, random camouflage, density
    0.04, trial 0) the peeled block was 198 fake users and 178 real ones,
    55 of whom were flagged with it. A real user's edges go to busy objects
    held mostly outside the block; a fake user's to the farm's objects,
    which only the farm holds. An account stays where at least two of its
    graph edges, and at least :data:`TRIM_OWN_SHARE` of their FRAUDAR
    weight ``1 / log(deg + 5)``, go to the block's own attributes (at least
    :data:`BLOCK_OWN_SHARE` of whose holders are the block's accounts).
    Dropping accounts can leave an attribute owned no more, so this repeats
    until no account is dropped.

    The share is low because FRAUDAR's hijacked accounts have long
    histories of their own: one with 17 edges into the block had 0.23 of
    its weight there. At 0.25, unthinned hijacked at density 0.10 fell from
    0.999 to 0.997 F.
    """
    mask = graph.edge_mask
    account = graph.links.account[mask]
    # Only the block's accounts' edges matter: who holds the block's
    # attributes inside it, and where each account's own weight goes.
    inside = np.isin(account, block.accounts)
    account = account[inside]
    attribute = graph.links.attribute[mask][inside]
    accounts = block.accounts
    while True:
        n_into, share = _own_attribute_ties(
            graph, account, attribute, accounts, block.attributes, BLOCK_OWN_SHARE
        )
        kept = accounts[(n_into[accounts] >= 2) & (share[accounts] >= TRIM_OWN_SHARE)]
        if len(kept) == len(accounts):
            return DenseBlock(accounts, block.attributes, block.density)
        accounts = kept
        within = np.isin(account, accounts)
        account, attribute = account[within], attribute[within]


def grow_block(graph: AttributeGraph, block: DenseBlock) -> DenseBlock:
    """Add to a block the accounts it peeled off but that belong to it.

    Peeling drops an account whose edges into the block weigh less than the
    block's density, so a farm account that used only 3 of the farm's
    objects is left out even when it used nothing else. An account joins
    when at least two of its graph edges, and at least half of their
    FRAUDAR weight ``1 / log(deg + 5)``, go to attributes the block clearly
    holds: at least :data:`GROW_OWN_SHARE` of their holders are the block's
    accounts, or at least :data:`BLOCK_OWN_SHARE` with at most
    :data:`GROW_MAX_OUTSIDE` holders outside. Background accounts of a
    rating graph never touch a farm's own objects, whose few holders
    outside are the farm's accounts that peeling missed.

    The block's other attributes are busy ones that the peeling kept, and
    they would bring their crowd along: on FRAUDAR's injection benchmark
    (unthinned background, random camouflage, density 0.04, trial 0) the
    peeled set held 192 fake users, 125 real ones and 236 real objects, and
    growing through every attribute took it from 317 accounts to 628,
    adding 6 fake users and 305 real ones. Under biased camouflage the fake
    users rate popular objects, and the block holds half of the holders of
    some of them: with every attribute held half by the block counting
    (unthinned background, biased camouflage, density 0.03, trial 0),
    growth added 137 real users, through objects the block held 54-93% of
    (median 72%) with 10-68 holders, and 9 fake users.
    """
    mask = graph.edge_mask
    n_into, share = _own_attribute_ties(
        graph,
        graph.links.account[mask],
        graph.links.attribute[mask],
        block.accounts,
        block.attributes,
        GROW_OWN_SHARE,
        GROW_MAX_OUTSIDE,
    )
    joins = np.flatnonzero((n_into >= 2) & (share >= 0.5))
    accounts = np.union1d(block.accounts, joins)
    return DenseBlock(accounts, block.attributes, block.density)


def keep_owning_parts(
    graph: AttributeGraph, block: DenseBlock, *, min_accounts: int = 3
) -> DenseBlock:
    """Keep the parts of a block that own their attributes.

    A farm's camouflage ties it to real users, and on a rating graph with a
    dense core of real users who own objects of their own, the peeled block
    can be the two glued together: trimming keeps both, since each lives on
    objects the block owns. On FRAUDAR's injection benchmark (unthinned
    background, random camouflage, density 0.04, trial 1) the block was 195
    fake users and 118 real ones. Leiden on the block's own edges, at
    resolution :data:`SPLIT_RESOLUTION`, cuts it into 195 fake users, 101
    real ones and 17 real ones.

    Which parts are the farm's: a farm's objects are held by the farm alone,
    a real group's are rated by others too. A part's ownership is the share
    of its inner edges' FRAUDAR weight that goes to attributes it owns, as
    footing counts them (at least :data:`OWNED_MIN_HOLDERS` holders,
    :data:`OWNED_SHARE` of them the part's accounts). Parts owning
    at least :data:`SPLIT_KEEP_SHARE` as much as the part of at least
    ``min_accounts`` accounts that owns most are kept; a farm cut in two
    keeps both halves. A block without inner structure stays whole.

    :func:`adopt_dense_blocks` cuts blocks only where footing counts (the
    data has no IP kind): ownership is what footing measures, and where
    accounts rotate IPs, rotation tells a farm's accounts from a crowd's.
    In bench_quality's worlds, which have IPs, cutting changed no outcome,
    and at 1M accounts it took 2.8 s (Leiden on the 28,852-account block).
    """
    n_acc = len(block.accounts)
    if n_acc == 0 or len(block.attributes) == 0:
        return block
    mask = graph.edge_mask
    account = graph.links.account[mask]
    attribute = graph.links.attribute[mask]
    inside = np.isin(account, block.accounts) & np.isin(attribute, block.attributes)
    # Nodes numbered in the block: its accounts, then its attributes (both sorted).
    src = np.searchsorted(block.accounts, account[inside])
    dst = np.searchsorted(block.attributes, attribute[inside]) + n_acc
    weight = fraudar_weight(graph.degree[attribute[inside]])
    part = modularity_parts(
        n_acc + len(block.attributes), src, dst, weight, resolution=SPLIT_RESOLUTION
    )
    n_parts = int(part.max()) + 1
    if n_parts == 1:
        return block
    # Holders of each attribute among the accounts of its own part.
    same = part[src] == part[dst]
    held = np.bincount(dst[same] - n_acc, minlength=len(block.attributes))
    owned = _owned_attribute(held, graph.degree[block.attributes])
    inner = np.bincount(part[src][same], weights=weight[same], minlength=n_parts)
    inner_owned = np.bincount(
        part[src][same], weights=(weight * owned[dst - n_acc])[same], minlength=n_parts
    )
    ownership = inner_owned / np.maximum(inner, 1e-300)
    sizes = np.bincount(part[:n_acc], minlength=n_parts)
    if not (sizes >= min_accounts).any():
        return block
    kept = ownership >= SPLIT_KEEP_SHARE * ownership[sizes >= min_accounts].max()
    return DenseBlock(
        block.accounts[kept[part[:n_acc]]],
        block.attributes[kept[part[n_acc:]]],
        block.density,
    )


def _own_attribute_ties(
    graph: AttributeGraph,
    account: np.ndarray,
    attribute: np.ndarray,
    block_accounts: np.ndarray,
    block_attributes: np.ndarray,
    min_share: float,
    max_outside: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Each account's graph edges (``account`` -> ``attribute``) to the
    block's own attributes, and their share of its FRAUDAR weight.

    The block's own attributes are those of ``block_attributes`` at least
    ``min_share`` of whose holders are ``block_accounts``, or at least
    :data:`BLOCK_OWN_SHARE` with at most ``max_outside`` holders outside.
    """
    links = graph.links
    weight = fraudar_weight(graph.degree[attribute])
    own = np.zeros(links.n_attributes, dtype=bool)
    own[block_attributes] = True
    in_block = np.zeros(links.n_accounts, dtype=bool)
    in_block[block_accounts] = True
    held_inside = np.bincount(
        attribute[in_block[account] & own[attribute]], minlength=links.n_attributes
    )
    own &= (held_inside >= min_share * graph.degree) | (
        (held_inside >= BLOCK_OWN_SHARE * graph.degree)
        & (graph.degree - held_inside <= max_outside)
    )
    into = own[attribute]
    n = links.n_accounts
    n_into = np.bincount(account[into], minlength=n)
    share = np.bincount(account[into], weights=weight[into], minlength=n) / np.maximum(
        np.bincount(account, weights=weight, minlength=n), 1e-300
    )
    return n_into, share


def _block_density(
    graph: AttributeGraph,
    links: _MemberLinks,
    communities: Communities,
    core: np.ndarray,
    n_comm: int,
    n_core: np.ndarray,
    counted: np.ndarray | None = None,
) -> np.ndarray:
    """FRAUDAR's density of each community's own block: the graph edges
    between its core members and its attribute nodes, each weighing
    ``1 / log(deg + 5)``, per node of the block. Where ``counted`` (a mask
    over ``links``) is given, only those edges count; every node still does."""
    core_comm = np.where(core, communities.account_community, -1)[links.account]
    attr_comm = communities.attribute_community[links.attribute]
    inside = links.member_edge & (core_comm >= 0) & (core_comm == attr_comm)
    if counted is not None:
        inside &= counted
    weight = fraudar_weight(graph.degree[links.attribute[inside]])
    total = np.bincount(core_comm[inside], weights=weight, minlength=n_comm)
    own = communities.attribute_community
    n_attributes = np.bincount(own[own >= 0], minlength=n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(total / (n_core + n_attributes), nan=0.0)


def footing_counts(kinds: list[str], roles: KindRoles) -> bool:
    """Whether footing counts (in cluster scores, account fits and the
    adoption of dense blocks): only where none of ``kinds``, the attribute
    kinds present, is the IP kind (see "Footing" above)."""
    return roles.ip not in kinds


def core_membership(has_ip_kind: bool) -> float:
    """Membership from which an account is in its community's core:
    :data:`CORE_MEMBERSHIP` where the data has the IP kind, else
    :data:`CORE_MEMBERSHIP_WITHOUT_IPS` (see "Membership" above)."""
    return CORE_MEMBERSHIP if has_ip_kind else CORE_MEMBERSHIP_WITHOUT_IPS


def effective_bias(unavailable: list[str]) -> float:
    """:data:`BIAS` scaled to the share of feature weight the data can show,
    but never above ``-(w_specific_overlap + w_size + w_cohesion +
    BEYOND_STRUCTURE)``; :data:`STAND_IN_FEATURES` count in neither share."""
    counted = {f: w for f, w in FEATURE_WEIGHTS.items() if f not in STAND_IN_FEATURES}
    total = sum(counted.values())
    available = total - sum(counted.get(f, 0.0) for f in unavailable)
    # Shared specific attributes, size and cohesion are what make a
    # community at all; they alone must not pass, whatever else the data lacks.
    structure = sum(FEATURE_WEIGHTS[f] for f in ("specific_overlap", "size", "cohesion"))
    return min(BIAS * available / total, -(structure + BEYOND_STRUCTURE))


@dataclass(frozen=True)
class _MemberLinks:
    """The links of some accounts (community members), with the fields of
    :class:`~acctgraph.ingest.Links` that the cluster features read, in link
    order (so sorted by account). ``member_edge`` marks the members' links
    that are graph edges; where the members hold most links, the arrays are
    the whole log's (no copy) and ``member_edge`` also masks out the links
    of other accounts, which no feature reads otherwise (they are in no
    core)."""

    links: Links
    account: np.ndarray
    attribute: np.ndarray
    first_seen: np.ndarray
    member_edge: np.ndarray

    @classmethod
    def of(cls, graph: AttributeGraph, accounts: np.ndarray) -> _MemberLinks:
        links = graph.links
        starts = links.account_starts
        if 2 * int((starts[accounts + 1] - starts[accounts]).sum()) > links.n_links:
            # Copying most of the log would cost more than reading it whole
            # (4 s and 1.3 GB at 10M accounts).
            is_member = np.zeros(links.n_accounts, dtype=bool)
            is_member[accounts] = True
            return cls(
                links=links,
                account=links.account,
                attribute=links.attribute,
                first_seen=links.first_seen,
                member_edge=graph.edge_mask & is_member[links.account],
            )
        index = links.links_of(accounts)
        return cls(
            links=links,
            account=links.account[index],
            attribute=links.attribute[index],
            first_seen=links.first_seen[index],
            member_edge=graph.edge_mask[index],
        )

    @property
    def n_accounts(self) -> int:
        return self.links.n_accounts

    @property
    def n_attributes(self) -> int:
        return self.links.n_attributes

    def link_is_kind(self, kind: str) -> np.ndarray:
        start, stop = self.links.kind_range(kind)
        return (self.attribute >= start) & (self.attribute < stop)


def _population_activity(activity: np.ndarray) -> float:
    """The median account's activity, at least 1: what ``volume`` divides by."""
    return max(float(np.median(activity)) if len(activity) else 1.0, 1.0)


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
    holder: np.ndarray,
    account: np.ndarray,
    community: np.ndarray,
    attribute: np.ndarray,
    graph: AttributeGraph,
    min_others: tuple[int, ...],
) -> list[np.ndarray]:
    """For each account, how many of its links (``account``, ``community``,
    ``attribute``: its community's) go to attributes *held* by its
    community's ``holder`` accounts: at least ``min_others`` other holders,
    at least :data:`HELD_SHARE` of them ``holder`` accounts of the same
    community. One count per value of ``min_others``."""
    n_acc = len(holder)
    codes, _ = pd.factorize(community * graph.links.n_attributes + attribute)
    holders = np.bincount(codes, weights=holder[account])[codes] - holder[account]
    others = graph.degree[attribute] - 1
    nearly_all = holders >= HELD_SHARE * others
    return [
        np.bincount(account[nearly_all & (others >= least)], minlength=n_acc)
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
    holders' mean footing (see "Footing" in the module docstring).

    ``account`` and ``pair`` (community * n_attributes + attribute) give the
    owned links; ``edges`` each account's graph edges.
    """
    if len(account) == 0:
        return np.zeros(len(footing))
    codes, _ = pd.factorize(pair)
    holders_footing = np.bincount(codes, weights=footing[account]) / np.bincount(codes)
    vouched = np.bincount(account, weights=holders_footing[codes], minlength=len(footing))
    return vouched / np.maximum(edges, 1)


def _own_evidence(
    n_ips: np.ndarray,
    n_asns: np.ndarray,
    activity: np.ndarray,
    population_activity: float,
    footing: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The per-account evidence :func:`_fit` compares with its cluster's
    (``footing`` left out where it is not to count)."""
    own = {
        "ip_rotation": n_ips,
        "asn_spread": n_asns,
        "volume": activity / population_activity,
    }
    if footing is not None:
        own["footing"] = footing
    return own


def _fit(
    own: dict[str, np.ndarray],
    signal: pd.DataFrame,
    raw: pd.DataFrame,
    slot: np.ndarray,
    unavailable: list[str],
) -> np.ndarray:
    """Share of its cluster's per-account evidence that each account shows
    itself, times its footing against the cluster's where ``own`` has one
    (see "Account score" in the module docstring). ``raw`` holds the
    clusters' raw ``volume`` and ``footing``; ``slot`` each account's
    cluster."""

    def per_account(values: pd.Series) -> np.ndarray:
        return np.append(values.to_numpy(dtype=float), 0.0)[slot]

    numerator = np.zeros(len(slot))
    denominator = np.zeros(len(slot))
    with np.errstate(divide="ignore", invalid="ignore"):
        for feature in ("ip_rotation", "asn_spread", "volume"):
            if feature in unavailable:
                continue
            values = own[feature]
            cluster = per_account(signal[feature])
            if feature == "volume":
                shown = values / (_VOLUME_FIT_LEVEL * per_account(raw["volume"]))
            else:
                shown = _signal(values, *_LOG_SQUASH[feature]) / cluster
            shown = np.clip(np.nan_to_num(shown, nan=1.0, posinf=1.0), 0.0, 1.0)
            numerator += FEATURE_WEIGHTS[feature] * cluster * shown
            denominator += FEATURE_WEIGHTS[feature] * cluster
        evidence = np.where(denominator > 0, numerator / denominator, 1.0)
        if "footing" not in own:
            return evidence
        # Where the cluster's core owns nothing (median footing 0), no
        # account can show less of it: full footing.
        footing = own["footing"] / (_FOOTING_FIT_LEVEL * per_account(raw["footing"]))
        footing = np.clip(np.nan_to_num(footing, nan=1.0, posinf=1.0), 0.0, 1.0)
        footing = footing**_FOOTING_FIT_POWER
    return evidence * footing


def _group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    if n_groups == 0:
        return np.zeros(0)
    med = pd.Series(np.asarray(values, dtype=float)).groupby(groups).median()
    return med.reindex(range(n_groups)).fillna(0.0).to_numpy()


def _group_weighted_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the value below which half of the group's total value lies
    (each value weighted by itself)."""
    out = np.zeros(n_groups)
    if len(values) == 0:
        return out
    order = np.lexsort((values, groups))
    v, g = values[order].astype(float), groups[order]
    # Summed within each group alone, so that a group's median does not
    # depend on the groups sorted before it (rounding of one running sum).
    within = pd.Series(v).groupby(g).cumsum().to_numpy()
    last = np.r_[np.flatnonzero(g[1:] != g[:-1]), len(g) - 1]
    total = np.zeros(n_groups)
    total[g[last]] = within[last]
    reached = within >= 0.5 * total[g]
    # First position in each group where half the group's weight is reached.
    first = np.full(n_groups, -1)
    idx = np.flatnonzero(reached)
    first_idx = np.unique(g[idx], return_index=True)
    first[first_idx[0]] = idx[first_idx[1]]
    has = first >= 0
    out[has] = v[first[has]]
    return out


def _payment_sharing(
    links: _MemberLinks, kind: str, core: np.ndarray, comm: np.ndarray, n_comm: int
) -> np.ndarray:
    """Core members with a payment method per distinct method among them."""
    is_pay = links.link_is_kind(kind)
    sel = is_pay & core[links.account]
    if not sel.any():
        return np.zeros(n_comm)
    account = links.account[sel]
    # Payers per community: core accounts with a payment link, each counted
    # at its first one (links are sorted by account). Methods: distinct
    # (community, method) pairs, by hashing. A group-by with two nunique took
    # 4.5 s per call at 10M accounts.
    first = np.r_[True, account[1:] != account[:-1]]
    payers = np.bincount(comm[account[first]], minlength=n_comm)
    pairs = pd.factorize(comm[account] * links.n_attributes + links.attribute[sel])[0]
    pair_comm = np.zeros(pairs.max() + 1, dtype=np.int64)
    pair_comm[pairs] = comm[account]
    methods = np.bincount(pair_comm, minlength=n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(payers / methods, nan=0.0)


def _synchrony(
    links: _MemberLinks,
    kind: str,
    core: np.ndarray,
    comm: np.ndarray,
    n_comm: int,
    n_core: np.ndarray,
) -> np.ndarray:
    """Share of core members' ``kind`` links first seen in a UTC hour in which
    at least ``max(3, 5%)`` of the community's core members first saw one."""
    sel = core[links.account] & links.link_is_kind(kind)
    sel &= ~np.isnat(links.first_seen)
    if not sel.any():
        return np.zeros(n_comm)
    hour = links.first_seen[sel].astype("datetime64[ns]").astype(np.int64) // _HOUR_NS
    account = links.account[sel]
    link_comm = comm[account]
    # Each (community, hour) cell's links and distinct members, by hashing
    # (a pandas group-by with nunique took 0.7 s per call at 1M accounts).
    hour_code, n_hours = _dense_codes(hour)
    cell, _ = pd.factorize(link_comm * n_hours + hour_code)
    cell_comm = np.zeros(cell.max() + 1, dtype=np.int64)
    cell_comm[cell] = link_comm
    n_links = np.bincount(cell)
    # A member's links in one cell are its links in one hour (its community
    # is fixed). Links are sorted by account, so sorting by (account, hour)
    # is a stable sort of nearly sorted keys, which timsort does in about
    # linear time: 0.9 s on 28M links, where hashing the pairs took 7 s.
    member_hour = account * n_hours + hour_code
    order = np.argsort(member_hour, kind="stable")
    key = member_hour[order]
    first_of_member = np.empty(len(key), dtype=bool)
    first_of_member[order] = np.r_[True, key[1:] != key[:-1]]
    n_members = np.bincount(cell[first_of_member], minlength=len(n_links))
    busy = n_members >= np.maximum(3, 0.05 * n_core[cell_comm])
    in_busy = np.bincount(cell_comm[busy], weights=n_links[busy], minlength=n_comm)
    total = np.bincount(cell_comm, weights=n_links, minlength=n_comm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(in_busy / total, nan=0.0)


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes ``0..n-1`` for ``values`` (equal values, equal codes)
    and ``n``: offsets from the minimum where the values span a range no
    wider than their number (hours of a log), which needs no hash table
    (factorizing 40M hours took 3 s at 10M accounts), else hashed codes."""
    if len(values) == 0:
        return values, 0
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span <= max(len(values), 1):
        return values - low, span
    codes, uniques = pd.factorize(values)
    return codes, len(uniques)


def _creation_burst(
    created: np.ndarray, core: np.ndarray, comm: np.ndarray, n_comm: int, n_core: np.ndarray
) -> np.ndarray:
    """Share of core members created on a UTC day that holds at least
    ``max(3, 5%)`` of the community's core members."""
    sel = core & ~np.isnat(created)
    if not sel.any():
        return np.zeros(n_comm)
    day = created[sel].astype("datetime64[ns]").astype(np.int64) // _DAY_NS
    frame = pd.DataFrame({"c": comm[sel], "d": day})
    per_day = frame.groupby(["c", "d"]).size().rename("n").reset_index()
    need = np.maximum(3, 0.05 * n_core[per_day["c"].to_numpy()])
    in_burst = per_day.loc[per_day["n"].to_numpy() >= need].groupby("c")["n"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = in_burst.reindex(range(n_comm)).fillna(0.0).to_numpy() / n_core
    return np.nan_to_num(share, nan=0.0)
