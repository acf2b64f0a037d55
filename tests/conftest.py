import pandas as pd
import pytest

import acctgraph as ag


@pytest.fixture(scope="session")
def small_world():
    """A 5,000-account world with four planted farm campaigns."""
    return ag.synth.make_world(5_000, seed=7)


@pytest.fixture(scope="session")
def small_result(small_world):
    return ag.detect(small_world.events, accounts=small_world.accounts)


def long_events(rows):
    """Build a long events frame from (account_id, kind, value) tuples."""
    return pd.DataFrame(rows, columns=["account_id", "kind", "value"])
