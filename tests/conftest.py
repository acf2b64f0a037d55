import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

import acctgraph as ag

# Property tests: a short profile for CI, a long one for local runs:
#   HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
