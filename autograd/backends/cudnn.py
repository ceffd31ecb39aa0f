"""``ag.backends.cudnn``: cuDNN is absent; its flags exist so that scripts setting them run.

``benchmark``, ``deterministic`` and ``enabled`` can be read and set (PyTorch scripts often set
``torch.backends.cudnn.benchmark = True``); they change nothing on the CPU.
"""

from __future__ import annotations

__all__ = ["is_available", "version", "benchmark", "deterministic", "enabled"]

benchmark: bool = False
deterministic: bool = False
enabled: bool = True


def is_available() -> bool:
    """Whether cuDNN can be used: never, in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.backends.cudnn.is_available()
        False
    """
    return False


def version() -> None:
    """The cuDNN version: None (not available).

    Example:
        >>> import autograd as ag
        >>> print(ag.backends.cudnn.version())
        None
    """
    return None
