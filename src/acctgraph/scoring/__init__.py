"""Scoring: how likely each community is a coordinated farm, and why.

Farms and innocent crowds both share attributes; what differs is *how*. An
office shares one egress IP and one card; a farm's accounts each rotate
through many proxy IPs spread over many networks, share specific (rarely
used) IPs with each other, draw on a pool of cards, are created in bursts and
send far more requests. No single signal separates them, so the score needs
several to agree.

The modules, in the order the pipeline uses them:

- :mod:`.features`: the cluster features, each with its formula and why it
  separates farms from crowds, the score they add up to, and each account's
  score within its cluster;
- :mod:`.footing_rules`: where the data has no IP kind, what an account stands on
  (the attributes its community owns), which stands in for IP rotation;
- :mod:`.score`: :func:`score_communities`, every community and account at
  once;
- :mod:`.adopting`: :func:`adopt_dense_blocks`, peeled dense blocks reported
  as clusters of their own where they score as farms;
- :mod:`.merging`: :func:`merge_on_evidence`, groups of communities reported
  whole where they score higher together;
- :mod:`.splitting`: :func:`split_on_evidence`, a community's densest block
  cut out where it scores as a farm;
- :mod:`.card_groups`: :func:`adopt_card_groups`, the accounts linked by
  shared cards reported as one cluster where Leiden scattered them or left
  them inside a larger community, and whole they score as a farm;
- :mod:`.evidence_groups`: :func:`adopt_evidence_groups`, the accounts that
  show a farm's behaviour themselves, linked through what mostly they hold,
  reported as one cluster where they score as a farm;
- :mod:`.attaching`: :func:`attach_on_evidence`, single accounts moved to the
  flagged cluster they are tied to.

Each rule's settings are module constants where the rule is computed
(``acctgraph.scoring.footing_rules.OWNED_SHARE``, say), documented beside it with
the measurements that set them. Modules read another module's number through
that module, so that setting it there (as the tests do) reaches every rule
that uses it.
"""

from . import (
    adopting,
    attaching,
    card_groups,
    evidence_groups,
    features,
    footing_rules,
    merging,
    score,
    splitting,
)
from .adopting import (
    SPARE_BLOCKS,
    adopt_dense_blocks,
    grow_block,
    keep_owning_parts,
    prepare_blocks,
    trim_block,
)
from .attaching import attach_on_evidence
from .card_groups import adopt_card_groups, find_card_groups, score_groups
from .evidence_groups import adopt_evidence_groups, find_evidence_groups
from .features import FEATURE_WEIGHTS, KindRoles, core_membership, effective_bias, footing_counts
from .merging import merge_on_evidence
from .score import Scores, score_communities
from .splitting import peel_candidates, split_on_evidence

__all__ = [
    "FEATURE_WEIGHTS",
    "KindRoles",
    "SPARE_BLOCKS",
    "Scores",
    "adopt_card_groups",
    "adopt_dense_blocks",
    "adopt_evidence_groups",
    "adopting",
    "attach_on_evidence",
    "attaching",
    "card_groups",
    "core_membership",
    "effective_bias",
    "evidence_groups",
    "features",
    "find_card_groups",
    "find_evidence_groups",
    "footing_counts",
    "footing_rules",
    "grow_block",
    "keep_owning_parts",
    "merge_on_evidence",
    "merging",
    "peel_candidates",
    "prepare_blocks",
    "score",
    "score_communities",
    "score_groups",
    "split_on_evidence",
    "splitting",
    "trim_block",
]
