"""Progress of a detection run: a bar over its stages, on stderr.

Shown when someone is watching: stderr is a terminal, or the run is inside a
Jupyter kernel. Pipelines (cron jobs, CI, anything with stderr in a file) see
nothing. ``progress=True`` / ``False`` on :func:`acctgraph.detect` (CLI:
``--progress`` / ``--no-progress``) or the environment variable
``ACCTGRAPH_PROGRESS=1`` / ``0`` decide instead; the argument wins. The bar
names stages and their sizes (rows, accounts, clusters), never an identifier.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["StageProgress", "should_show"]

ENV = "ACCTGRAPH_PROGRESS"


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    ipython = getattr(shell, "get_ipython", lambda: None)()
    return ipython is not None and "IPKernelApp" in getattr(ipython, "config", {})


def should_show(progress: bool | None) -> bool:
    """Whether to draw progress: the argument, else ``$ACCTGRAPH_PROGRESS``,
    else whether stderr is a terminal or the code runs in Jupyter."""
    if progress is not None:
        return bool(progress)
    setting = os.environ.get(ENV, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or _in_jupyter()


class StageProgress:
    """Times the stages of a run and, if shown, draws a bar over them.

    Parameters
    ----------
    stages : list of str
        Stage names, in order.
    show : bool
        Draw the bar (on stderr).

    Attributes
    ----------
    timings : dict of str to float
        Wall seconds of each finished stage.
    """

    def __init__(self, stages: list[str], show: bool) -> None:
        self.timings: dict[str, float] = {}
        self._bar = None
        if show:
            from tqdm import tqdm

            self._bar = tqdm(
                total=len(stages),
                desc="acctgraph",
                unit="stage",
                file=sys.stderr,
                bar_format="{desc}: {n}/{total} stages |{bar}| {elapsed}{postfix}",
                dynamic_ncols=True,
            )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage, naming it on the bar while it runs."""
        if self._bar is not None:
            self._bar.set_postfix_str(f"{name}...")
        mark = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - mark
        if self._bar is not None:
            self._bar.update(1)

    def note(self, text: str) -> None:
        """Show ``text`` (sizes, never identifiers) beside the bar."""
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
