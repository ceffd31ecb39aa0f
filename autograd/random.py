"""The global random generator behind every random draw, seeded by ``manual_seed``."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()
_initial_seed: int | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed every random draw: factories, dropout, ``nn.init`` and DataLoader shuffling.

    Example:
        >>> import autograd as ag
        >>> _ = ag.manual_seed(0); a = ag.rand(2)
        >>> _ = ag.manual_seed(0); bool((a == ag.rand(2)).all())
        True
    """
    global _generator, _initial_seed
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _initial_seed = int(seed)
    _generator = np.random.default_rng(int(seed))
    return _generator


def initial_seed() -> int | None:
    """Return the seed last given to ``manual_seed`` (None if never seeded)."""
    return _initial_seed


def default_generator() -> np.random.Generator:
    """Return the generator that every random draw in the library uses."""
    return _generator


def get_rng_state() -> dict:
    """Return the generator's state, to restore later with ``set_rng_state``."""
    return dict(_generator.bit_generator.state)


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    _generator.bit_generator.state = state
