"""``F.pad`` (constant, reflect, replicate, circular) and ``F.one_hot``.

``pad`` and its adjoint ``pad_backward`` are a pair of linear primitives, each the other's
VJP, so gradients of any order work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd._typing import Operand
from autograd.registry import primitive
from autograd.tensor import Tensor

from ._samples import side, tensor

__all__ = ["pad", "one_hot"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _pairs(pad: Sequence[int], ndim: int) -> list[tuple[int, int]]:
    """PyTorch's flat ``(last_left, last_right, prev_left, ...)`` as per-dim pairs, dim 0 first."""
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return pairs


def _pad_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        mode = draw(st.sampled_from(_MODES))
        ndim = draw(st.integers(1, 3))
        shape = tuple(side(draw, 2, 3) for _ in range(ndim))
        padded_dims = draw(st.integers(1, ndim))
        amounts: list[int] = []
        for k in range(padded_dims):
            size = shape[ndim - 1 - k]
            low = -1 if mode == "constant" else 0
            high = size - 1 if mode == "reflect" else 2
            amounts += [draw(st.integers(low, high)), draw(st.integers(low, high))]
        kwargs: dict = {"pad": tuple(amounts), "mode": mode}
        if mode == "constant":
            kwargs["value"] = draw(st.sampled_from([0.0, 1.5]))
        return [tensor(draw, shape)], kwargs

    return draw_inputs()


def _check_pad(op: str, shape: tuple, pad: Sequence[int], mode: str) -> None:
    if len(pad) % 2:
        raise RuntimeError(f"{op}: padding length must be divisible by 2, got {len(pad)} ({tuple(pad)})")
    if len(pad) // 2 > len(shape):
        raise RuntimeError(
            f"{op}: padding length {len(pad)} is too large for a {len(shape)}-D input of shape "
            f"{shape} (at most {2 * len(shape)})"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: unsupported padding mode {mode!r}; use one of {_MODES}")
    for axis, (left, right) in enumerate(_pairs(pad, len(shape))):
        size = shape[axis]
        if mode == "constant":
            if size + left + right < 0:
                raise RuntimeError(f"{op}: negative padding {(left, right)} removes more than dim {axis} of shape {shape}")
            continue
        if left < 0 or right < 0:
            raise RuntimeError(f"{op}: negative padding {(left, right)} is only supported in constant mode")
        if mode == "reflect" and (left >= size or right >= size) and (left or right):
            raise RuntimeError(
                f"{op}: padding size should be less than the corresponding input dimension, but got "
                f"padding {(left, right)} at dimension {axis} of input shape {shape}"
            )
        if mode == "circular" and (left > size or right > size):
            raise RuntimeError(
                f"{op}: padding {(left, right)} at dimension {axis} is larger than the input "
                f"size {size} (circular mode wraps at most once)"
            )
        if mode == "replicate" and size == 0 and (left or right):
            raise RuntimeError(f"{op}: cannot replicate-pad an empty dim {axis} of shape {shape}")


@primitive("pad", method=False, sample=_pad_sample)
def _pad(x: np.ndarray, *, pad: tuple, mode: str = "constant", value: float = 0.0) -> np.ndarray:
    pairs = _pairs(pad, x.ndim)
    if mode == "constant":
        # Negative amounts crop (PyTorch allows this in constant mode): crop, then pad.
        crop = tuple(slice(max(-lo, 0), x.shape[a] - max(-hi, 0)) for a, (lo, hi) in enumerate(pairs))
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        return np.pad(x[crop], widths, mode="constant", constant_values=value)
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(x, pairs, mode=numpy_mode)  # type: ignore[call-overload]


@_pad.vjp
def _pad_vjp(grad: Operand, x_shape: tuple, pad: tuple, mode: str, xp: Any) -> Operand:
    if mode == "constant":
        # Cropping and zero-padding are each other's adjoints: pad by the negated amounts.
        return xp.pad(grad, pad=tuple(-p for p in pad), mode="constant", value=0.0)
    return xp.pad_backward(grad, pad=pad, mode=mode, shape=x_shape)


@primitive("pad_backward", method=False,
           untested="pad's gradient: tested through pad's second order")  # fmt: skip
def _pad_backward(grad: np.ndarray, *, pad: tuple, mode: str, shape: tuple) -> np.ndarray:
    # Fold the border regions back onto the input positions they were copied from, one dim
    # at a time (the padded dims are independent).
    out = grad
    for axis, (left, right) in enumerate(_pairs(pad, len(shape))):
        if not left and not right:
            continue
        size = shape[axis]
        out = np.moveaxis(out, axis, 0)
        core = out[left : left + size].copy()
        head, tail = out[:left], out[left + size :]
        if mode == "reflect":
            core[1 : left + 1] += head[::-1]
            core[size - 1 - right : size - 1] += tail[::-1]
        elif mode == "replicate":
            core[0] += head.sum(axis=0)
            core[-1] += tail.sum(axis=0)
        else:  # circular
            core[size - left :] += head
            core[:right] += tail
        out = np.moveaxis(core, 0, axis)
    return np.ascontiguousarray(out)


@_pad_backward.vjp
def _pad_backward_vjp(grad: Operand, pad: tuple, mode: str, xp: Any) -> Operand:
    return xp.pad(grad, pad=pad, mode=mode)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the trailing dims: ``pad = (last_left, last_right, second_last_left, ...)``.

    Modes: ``'constant'`` (with ``value``; negative amounts crop), ``'reflect'`` (mirror
    without repeating the edge), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap).

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.pad(ag.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(p) for p in pad)
    _check_pad("pad", tuple(input.shape), pad, mode)
    if mode != "constant" and value:
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if mode == "constant":
        return _pad(input, pad=pad, mode=mode, value=0.0 if value is None else float(value))
    return _pad(input, pad=pad, mode=mode)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Return an int64 tensor with a 1 at each index's class.

    ``num_classes=-1`` means ``max + 1``.  Shape: ``(*) -> (*, num_classes)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.one_hot(ag.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    indices = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"one_hot: is only applicable to index tensors of an integer type, got dtype "
            f"{indices.dtype}; convert with .long()"
        )
    if indices.size and indices.min() < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(indices.max()) + 1 if indices.size else 0
        if not indices.size:
            raise RuntimeError("one_hot: cannot infer the number of classes from an empty tensor")
    elif indices.size and indices.max() >= num_classes:
        raise RuntimeError(
            f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
            f"{int(indices.max())}"
        )
    out = (indices[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor._from_array(out)
