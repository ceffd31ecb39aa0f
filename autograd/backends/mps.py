"""``ag.backends.mps``: Apple's Metal backend, absent (graphgrad computes on the CPU)."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Whether the MPS device can be used: never, in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.backends.mps.is_available()
        False
    """
    return False


def is_built() -> bool:
    """Whether graphgrad was built with MPS support: no.

    Example:
        >>> import autograd as ag
        >>> ag.backends.mps.is_built()
        False
    """
    return False
