"""Rating graphs shared by the tests of dense blocks and footing (not a test module)."""

import numpy as np


def power_law_ratings(rng: np.random.Generator) -> list[tuple[str, str]]:
    """1,000 real users rating objects drawn by a power law: the first 30
    users 10-30 objects each, the rest 1-3. Pairs ``(user, object)``."""
    popularity = 1.0 / np.arange(1, 1_001) ** 1.1
    popularity /= popularity.sum()
    pairs = []
    for user in range(1_000):
        k = rng.integers(10, 30) if user < 30 else rng.choice([1, 1, 1, 1, 2, 2, 3])
        pairs += [(f"u{user:04d}", f"o{o}") for o in rng.choice(1_000, k, False, popularity)]
    return pairs
