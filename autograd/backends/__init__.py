"""``ag.backends``, as ``torch.backends``: ``mps`` and ``cudnn`` report that they are absent;
``numba`` holds the optional compiled kernels (``graphgrad[fast]``).

>>> import autograd as ag
>>> ag.backends.mps.is_available(), ag.backends.cudnn.is_available()
(False, False)
"""

from __future__ import annotations

from . import cudnn, mps, numba

__all__ = ["mps", "cudnn", "numba"]
