"""Errors and warnings raised by acctgraph.

Every error derives from :class:`AcctGraphError` and from the builtin that
fits, so ``except ValueError`` keeps working for callers who do not know
acctgraph::

    Exception
    ├── AcctGraphError
    │   ├── SchemaError(AcctGraphError, ValueError)      bad columns or values
    │   ├── ConfigError(AcctGraphError, ValueError)      bad parameter
    │   ├── InputFileError(AcctGraphError, OSError)      unreadable input file
    │   ├── OutputError(AcctGraphError, OSError)         cannot write results
    │   └── UnknownClusterError(AcctGraphError, KeyError)
    └── Warning
        └── AcctGraphWarning(UserWarning)
            └── HubAttributesDropped                     degree cap applied

Messages name the column, rows and value at fault but never echo raw
identifiers (account ids, IPs, payment fingerprints): a bad identifier is
always null or empty, so its row number is what the caller needs.
"""

from __future__ import annotations

__all__ = [
    "AcctGraphError",
    "AcctGraphWarning",
    "ConfigError",
    "HubAttributesDropped",
    "InputFileError",
    "OutputError",
    "SchemaError",
    "UnknownClusterError",
]


class AcctGraphError(Exception):
    """Base class of every error acctgraph raises."""


class SchemaError(AcctGraphError, ValueError):
    """Input data lacks a required column or holds values that cannot be used.

    Parameters
    ----------
    problems : list of str
        One line per problem found; all of them are reported at once.
    source : str
        What was being read (``"events"`` or ``"accounts"``).
    """

    def __init__(self, problems: list[str], source: str = "input") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in {source}:\n{lines}")


class ConfigError(AcctGraphError, ValueError):
    """A parameter has a value outside its allowed range or type."""


class InputFileError(AcctGraphError, OSError):
    """An input file is missing, unreadable or not in the expected format."""


class OutputError(AcctGraphError, OSError):
    """Results cannot be written where the caller asked."""


class UnknownClusterError(AcctGraphError, KeyError):
    """A cluster id that the result does not hold."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the sentence readable
        return str(self.args[0]) if self.args else ""


class AcctGraphWarning(UserWarning):
    """Base class of every warning acctgraph emits."""


class HubAttributesDropped(AcctGraphWarning):
    """Attributes above the degree cap were left out of the graph."""
