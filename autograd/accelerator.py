"""``ag.accelerator``, as ``torch.accelerator`` without an accelerator: graphgrad uses the CPU."""

from __future__ import annotations

__all__ = ["is_available", "device_count", "current_accelerator"]


def is_available() -> bool:
    """Whether an accelerator (GPU, MPS, ...) can be used: never, in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.accelerator.is_available(), ag.accelerator.device_count()
        (False, 0)
    """
    return False


def device_count() -> int:
    """The number of accelerator devices: 0.

    Example:
        >>> import autograd as ag
        >>> ag.accelerator.device_count()
        0
    """
    return 0


def current_accelerator(check_available: bool = False) -> None:
    """The current accelerator device: None, as PyTorch returns when there is none.

    PyTorch-style code writes ``device = ag.accelerator.current_accelerator() if
    ag.accelerator.is_available() else 'cpu'``.

    Example:
        >>> import autograd as ag
        >>> print(ag.accelerator.current_accelerator())
        None
    """
    return None
