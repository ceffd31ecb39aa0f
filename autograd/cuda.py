"""``ag.cuda``, as ``torch.cuda`` on a machine without CUDA: graphgrad computes on the CPU.

``is_available()`` is False and ``device_count()`` 0, so the usual
``device = 'cuda' if ag.cuda.is_available() else 'cpu'`` picks the CPU; the seeding functions
seed graphgrad's one generator (the same as ``ag.manual_seed``).
"""

from __future__ import annotations

from .random import manual_seed as _manual_seed

__all__ = [
    "is_available",
    "device_count",
    "manual_seed",
    "manual_seed_all",
    "is_initialized",
    "empty_cache",
    "synchronize",
    "current_device",
]

_NO_CUDA = (
    "graphgrad computes on the CPU only: there is no CUDA device (ag.cuda.is_available() is "
    "False); use device='cpu'"
)


def is_available() -> bool:
    """Whether a CUDA device can be used: never, in graphgrad.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.is_available(), ag.cuda.device_count()
        (False, 0)
    """
    return False


def device_count() -> int:
    """The number of CUDA devices: 0.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.device_count()
        0
    """
    return 0


def manual_seed(seed: int) -> None:
    """Seed graphgrad's generator (there is no separate CUDA generator), as ``ag.manual_seed``.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.manual_seed(0); a = ag.rand(2)
        >>> _ = ag.manual_seed(0); bool((a == ag.rand(2)).all())
        True
    """
    _manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed graphgrad's generator, as ``ag.manual_seed`` (PyTorch: every GPU's generator).

    Example:
        >>> import autograd as ag
        >>> ag.cuda.manual_seed_all(0)
    """
    _manual_seed(seed)


def is_initialized() -> bool:
    """Whether CUDA has been initialised: never.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.is_initialized()
        False
    """
    return False


def empty_cache() -> None:
    """Release cached GPU memory: nothing to do (PyTorch also accepts it without CUDA).

    Example:
        >>> import autograd as ag
        >>> ag.cuda.empty_cache()
    """


def synchronize(device: object = None) -> None:
    """Wait for the GPU: there is none, so this raises, as PyTorch's does without CUDA.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.synchronize()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.synchronize: graphgrad computes on the CPU only: ...
    """
    raise RuntimeError(f"cuda.synchronize: {_NO_CUDA}")


def current_device() -> int:
    """The current CUDA device: there is none, so this raises, as PyTorch's does without CUDA.

    Example:
        >>> import autograd as ag
        >>> ag.cuda.current_device()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.current_device: graphgrad computes on the CPU only: ...
    """
    raise RuntimeError(f"cuda.current_device: {_NO_CUDA}")
