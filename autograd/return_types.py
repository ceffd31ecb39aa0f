"""Named ``(values, indices)`` results, as ``torch.return_types``: ``ag.sort(x).indices``.

Each is a tuple (so ``values, indices = x.max(1)`` unpacks) with the two fields named, and
prints like PyTorch's (``autograd.return_types.sort(values=..., indices=...)``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
]  # fmt: skip


def _repr(self: Any) -> str:
    return (
        f"autograd.return_types.{type(self).__name__}(\nvalues={self.values!r},\n"
        f"indices={self.indices!r})"
    )


class max(NamedTuple):  # noqa: A001, N801 - PyTorch's names
    """``(values, indices)`` of ``max(dim)``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class min(NamedTuple):  # noqa: A001, N801
    """``(values, indices)`` of ``min(dim)``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class sort(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``sort``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class topk(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``topk``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class kthvalue(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``kthvalue``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class median(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``median(dim)``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class nanmedian(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``nanmedian(dim)``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class mode(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``mode``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class cummax(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``cummax``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)


class cummin(NamedTuple):  # noqa: N801
    """``(values, indices)`` of ``cummin``."""

    values: Any
    indices: Any

    def __repr__(self) -> str:
        return _repr(self)
