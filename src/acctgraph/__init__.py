"""acctgraph: find coordinated account farms in the attributes accounts share.

The data flows one way through one module per stage::

    ingest (+ networks) -> graph -> communities -> blocks -> scoring -> results -> pipeline (detect) -> cli

>>> import acctgraph as ag
>>> world = ag.synth.make_world(2_000, seed=3)
>>> result = ag.detect(world.events, accounts=world.accounts)
>>> list(result.accounts.columns[:4])
['account_id', 'cluster_id', 'score', 'flagged']
"""

from importlib import metadata as _metadata

from . import evaluation, scoring, synth
from .communities import Communities, find_communities
from .evaluation import evaluate
from .exceptions import (
    AcctGraphError,
    AcctGraphWarning,
    ConfigError,
    HubAttributesDropped,
    InputFileError,
    OutputError,
    SchemaError,
    UnknownClusterError,
)
from .graph import AttributeGraph, build_graph
from .ingest import IngestReport, Links, load_links, read_table
from .networks import with_ip_networks
from .pipeline import DetectConfig, detect
from .privacy import Pseudonymizer
from .report import write_report
from .results import ClusterExplanation, DetectionResult, build_result
from .scoring import KindRoles, Scores, score_communities

try:
    __version__ = _metadata.version("acctgraph")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "AcctGraphError",
    "AcctGraphWarning",
    "AttributeGraph",
    "ClusterExplanation",
    "Communities",
    "ConfigError",
    "DetectConfig",
    "DetectionResult",
    "HubAttributesDropped",
    "IngestReport",
    "InputFileError",
    "KindRoles",
    "Links",
    "OutputError",
    "Pseudonymizer",
    "SchemaError",
    "Scores",
    "UnknownClusterError",
    "build_graph",
    "build_result",
    "detect",
    "evaluate",
    "evaluation",
    "find_communities",
    "load_links",
    "read_table",
    "score_communities",
    "scoring",
    "synth",
    "with_ip_networks",
    "write_report",
]
