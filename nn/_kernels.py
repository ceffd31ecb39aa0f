"""Compiled loops for pooling and convolution (``graphgrad[fast]``, see ``ag.backends.numba``).

Each loop does in one pass what the NumPy code (the reference, in ``_max_pool.py`` and
``_conv_columns.py``) does in several: max pooling with its argmax, the argmax scatter of its
gradient, and col2im. They work on 2-D windows over ``(B, H, W)`` or ``(N, C, H, W)``
arrays; 1-D ops pass ``H = 1``. Callers use them only when ``ag.backends.numba.active()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd.backends.numba import kernel

from ._window import Window

__all__ = ["max_pool_forward", "max_pool_backward", "col2im_into", "supports",
           "batch_norm_supports", "channel_moments", "channel_affine", "batch_norm_backward",
           "cross_entropy_supports", "cross_entropy_rows", "cross_entropy_grad"]


def supports(window: Window, dtype: np.dtype) -> bool:
    """Whether the kernels cover this window (1 or 2 spatial dims) and dtype (float32/64)."""
    return len(window.kernel) in (1, 2) and dtype in _FLOATS


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _geometry(window: Window) -> tuple[int, ...]:
    """``(kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow)`` of a 1-D or 2-D window."""
    if len(window.kernel) == 1:
        return (1, window.kernel[0], 1, window.stride[0], 1, window.dilation[0], 0,
                window.pad[0], 1, window.in_size[0], 1, window.out_size[0])  # fmt: skip
    (kh, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    (ph, pw), (h, w), (oh, ow) = window.pad, window.in_size, window.out_size
    return kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow


@kernel
def _max_pool_loop(x, out, arg, kh, kw, sh, sw, dh, dw, ph, pw):  # type: ignore[no-untyped-def]
    """Max and first argmax of every window; padding reads as -inf.

    The comparisons are plain ``>`` (fast, predictable); a window holding a NaN is redone in
    NumPy's order: the max is NaN, the argmax the largest value before the first NaN.
    """
    planes, height, width = x.shape
    _, oh, ow = out.shape
    for b in range(planes):
        for i in range(oh):
            y0 = i * sh - ph
            for j in range(ow):
                x0 = j * sw - pw
                best = -np.inf
                best_k = 0
                nan = False
                k = 0
                for ky in range(kh):
                    y = y0 + ky * dh
                    for kx in range(kw):
                        xx = x0 + kx * dw
                        v = x[b, y, xx] if (0 <= y < height and 0 <= xx < width) else -np.inf
                        if k == 0 or v > best:
                            best = v
                            best_k = k
                        nan |= v != v
                        k += 1
                if nan:  # redo in NumPy's order: a NaN sticks, later values can't beat it
                    best_k = 0
                    k = 0
                    for ky in range(kh):
                        y = y0 + ky * dh
                        for kx in range(kw):
                            xx = x0 + kx * dw
                            v = x[b, y, xx] if (0 <= y < height and 0 <= xx < width) else -np.inf
                            if k == 0:
                                best = v
                            elif best == best and v > best:
                                best = v
                                best_k = k
                            elif v != v:
                                best = v
                            k += 1
                out[b, i, j] = best
                arg[b, i, j] = best_k


@kernel
def _max_pool_2x2_loop(x, out, arg):  # type: ignore[no-untyped-def]
    """The common 2x2, stride 2 window without padding, unrolled (NaN as ``_max_pool_loop``)."""
    planes = x.shape[0]
    _, oh, ow = out.shape
    for b in range(planes):
        for i in range(oh):
            for j in range(ow):
                v0 = x[b, 2 * i, 2 * j]
                v1 = x[b, 2 * i, 2 * j + 1]
                v2 = x[b, 2 * i + 1, 2 * j]
                v3 = x[b, 2 * i + 1, 2 * j + 1]
                best = v0
                best_k = 0
                if v1 > best:
                    best = v1
                    best_k = 1
                if v2 > best:
                    best = v2
                    best_k = 2
                if v3 > best:
                    best = v3
                    best_k = 3
                if (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3):
                    # NumPy's order: the largest value before the first NaN, and a NaN max.
                    best = np.nan
                    best_k = 0
                    if v0 == v0 and v1 == v1:
                        top = v0
                        if v1 > top:
                            top = v1
                            best_k = 1
                        if v2 == v2:
                            if v2 > top:
                                top = v2
                                best_k = 2
                            if v3 > top:
                                best_k = 3
                out[b, i, j] = best
                arg[b, i, j] = best_k


@kernel
def _max_pool_scatter_loop(grad, arg, dx, kw, sh, sw, dh, dw, ph, pw):  # type: ignore[no-untyped-def]
    """Add each window's gradient at its argmax (positions in the padding get nothing)."""
    planes, oh, ow = grad.shape
    _, height, width = dx.shape
    for b in range(planes):
        for i in range(oh):
            for j in range(ow):
                k = arg[b, i, j]
                y = i * sh - ph + (k // kw) * dh
                xx = j * sw - pw + (k % kw) * dw
                if 0 <= y < height and 0 <= xx < width:
                    dx[b, y, xx] += grad[b, i, j]


@kernel
def _max_pool_2x2_scatter_loop(grad, arg, dx):  # type: ignore[no-untyped-def]
    """The scatter for 2x2, stride 2 windows that tile the input: every element written once
    (zeros, then the gradient at the argmax: no data-dependent branches)."""
    planes, oh, ow = grad.shape
    for b in range(planes):
        for i in range(oh):
            for j in range(ow):
                k = arg[b, i, j]
                dx[b, 2 * i, 2 * j] = 0.0
                dx[b, 2 * i, 2 * j + 1] = 0.0
                dx[b, 2 * i + 1, 2 * j] = 0.0
                dx[b, 2 * i + 1, 2 * j + 1] = 0.0
                dx[b, 2 * i + (k >> 1), 2 * j + (k & 1)] = grad[b, i, j]


def _planes(shape: tuple, dims: int, size: tuple) -> tuple[int, ...]:
    """``shape``'s leading dims folded into one, with the spatial ``size`` as 2-D."""
    lead = math.prod(shape[: len(shape) - dims])
    return (lead, 1, size[0]) if dims == 1 else (lead, size[0], size[1])


def max_pool_forward(x: np.ndarray, window: Window, index_dtype: type) -> tuple:
    """Max pooling's values and argmax (flat kernel position), as ``_max_pool_forward``."""
    dims = len(window.kernel)
    kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow = _geometry(window)
    lead = x.shape[: x.ndim - dims]
    source = np.ascontiguousarray(x).reshape(_planes(x.shape, dims, window.in_size))
    out = np.empty((source.shape[0], oh, ow), dtype=x.dtype)
    arg: np.ndarray = np.empty((source.shape[0], oh, ow), dtype=index_dtype)
    inside = 2 * oh <= h and 2 * ow <= w  # no window reaches past the input (ceil mode)
    if (kh, kw, sh, sw, dh, dw, ph, pw) == (2, 2, 2, 2, 1, 1, 0, 0) and inside:
        _max_pool_2x2_loop(source, out, arg)
    else:
        _max_pool_loop(source, out, arg, kh, kw, sh, sw, dh, dw, ph, pw)
    return out.reshape(lead + window.out_size), arg.reshape(lead + window.out_size)


def max_pool_backward(grad: np.ndarray, arg: np.ndarray, window: Window) -> np.ndarray:
    """Max pooling's gradient: each window's gradient added at its argmax."""
    dims = len(window.kernel)
    kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow = _geometry(window)
    lead = grad.shape[: grad.ndim - dims]
    planes = _planes(grad.shape, dims, window.out_size)
    grad = np.ascontiguousarray(grad).reshape(planes)
    arg = np.ascontiguousarray(arg).reshape(planes)
    if (kh, kw, sh, sw, dh, dw, ph, pw) == (2, 2, 2, 2, 1, 1, 0, 0) and (2 * oh, 2 * ow) == (h, w):
        dx = np.empty(_planes(grad.shape, dims, window.in_size), dtype=grad.dtype)
        _max_pool_2x2_scatter_loop(grad, arg, dx)
    else:
        dx = np.zeros(_planes(grad.shape, dims, window.in_size), dtype=grad.dtype)
        _max_pool_scatter_loop(grad, arg, dx, kw, sh, sw, dh, dw, ph, pw)
    return dx.reshape(lead + window.in_size)


@kernel
def _col2im_loop(cols, dx, sh, sw, dh, dw, ph, pw):  # type: ignore[no-untyped-def]
    """``dx[n, c, y*sh + ky*dh - ph, x*sw + kx*dw - pw] += cols[n, c, ky, kx, y, x]``."""
    n_count, channels, kh, kw, oh, ow = cols.shape
    height, width = dx.shape[2], dx.shape[3]
    for n in range(n_count):
        for c in range(channels):
            for ky in range(kh):
                for kx in range(kw):
                    offset_x = kx * dw - pw
                    # The output columns whose input column lies inside [0, width).
                    lo = 0 if offset_x >= 0 else (-offset_x + sw - 1) // sw
                    hi = (width - offset_x + sw - 1) // sw
                    if hi > ow:
                        hi = ow
                    for y in range(oh):
                        iy = y * sh + ky * dh - ph
                        if iy < 0 or iy >= height:
                            continue
                        for x in range(lo, hi):
                            dx[n, c, iy, x * sw + offset_x] += cols[n, c, ky, kx, y, x]


@kernel
def _col2im_channels_first_loop(cols, dx, sh, sw, dh, dw, ph, pw):  # type: ignore[no-untyped-def]
    """As ``_col2im_loop`` for columns stored ``(C, kh, kw, N, oh, ow)``, read in order."""
    channels, kh, kw, n_count, oh, ow = cols.shape
    height, width = dx.shape[2], dx.shape[3]
    for c in range(channels):
        for ky in range(kh):
            for kx in range(kw):
                offset_x = kx * dw - pw
                lo = 0 if offset_x >= 0 else (-offset_x + sw - 1) // sw
                hi = (width - offset_x + sw - 1) // sw
                if hi > ow:
                    hi = ow
                for n in range(n_count):
                    for y in range(oh):
                        iy = y * sh + ky * dh - ph
                        if iy < 0 or iy >= height:
                            continue
                        for x in range(lo, hi):
                            dx[n, c, iy, x * sw + offset_x] += cols[c, ky, kx, n, y, x]


def col2im_into(cols: np.ndarray, window: Window, dx: np.ndarray, batch_first: bool) -> None:
    """The adjoint of im2col, added straight into ``dx``, the ``(N, C, *in)`` input gradient.

    ``cols`` holds ``W^T grad`` as the GEMM wrote it: ``(N, G, C/G * prod(kernel), L)``
    (batch first) or ``(G, C/G * prod(kernel), N * L)`` (channels first); ``dx`` is
    C-contiguous (zeros, or a partial sum).
    """
    kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow = _geometry(window)
    n, c = dx.shape[:2]
    planes = dx.reshape(n, c, h, w)
    if batch_first:
        _col2im_loop(cols.reshape(n, c, kh, kw, oh, ow), planes, sh, sw, dh, dw, ph, pw)
    else:
        _col2im_channels_first_loop(cols.reshape(c, kh, kw, n, oh, ow), planes, sh, sw, dh, dw,
                                    ph, pw)  # fmt: skip


# Batch norm over (N, C, L) arrays: per-channel sums in float64, two passes forward (moments,
# then the affine map) and two backward (sums, then the gradient), where NumPy needs five and
# seven with two full-size temporaries.


def batch_norm_supports(x: np.ndarray) -> bool:
    """Whether the batch-norm kernels apply: float32/64, C-contiguous, at least 2-D."""
    return x.ndim >= 2 and x.dtype in _FLOATS and x.flags.c_contiguous and x.size >= 4096


def _as_ncl(x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], x.shape[1], -1)


@kernel(reassociate=True)
def _channel_moments_loop(x, mean, var):  # type: ignore[no-untyped-def]
    n, channels, length = x.shape
    count = n * length
    for c in range(channels):
        total = 0.0
        for a in range(n):
            for i in range(length):
                total += x[a, c, i]
        m = total / count
        squares = 0.0
        for a in range(n):
            for i in range(length):
                d = x[a, c, i] - m
                squares += d * d
        mean[c] = m
        var[c] = squares / count


def channel_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (dim 1) mean and biased variance, accumulated in float64."""
    mean = np.empty(x.shape[1], dtype=np.float64)
    var = np.empty(x.shape[1], dtype=np.float64)
    _channel_moments_loop(_as_ncl(x), mean, var)
    return mean.astype(x.dtype), var.astype(x.dtype)


@kernel
def _channel_affine_loop(x, scale, shift, out):  # type: ignore[no-untyped-def]
    n, channels, length = x.shape
    for a in range(n):
        for c in range(channels):
            s = scale[c]
            t = shift[c]
            for i in range(length):
                out[a, c, i] = x[a, c, i] * s + t


def channel_affine(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``x * scale + shift`` with per-channel (dim 1) ``scale`` and ``shift``, in one pass."""
    out = np.empty_like(x)
    _channel_affine_loop(_as_ncl(x), scale.astype(x.dtype), shift.astype(x.dtype), _as_ncl(out))
    return out


@kernel(reassociate=True)
def _bn_sums_loop(grad, x, mean, grad_sum, grad_dot):  # type: ignore[no-untyped-def]
    n, channels, length = x.shape
    for c in range(channels):
        m = mean[c]
        total = 0.0
        dot = 0.0
        for a in range(n):
            for i in range(length):
                g = grad[a, c, i]
                total += g
                dot += g * (x[a, c, i] - m)
        grad_sum[c] = total
        grad_dot[c] = dot


@kernel
def _bn_grad_loop(grad, x, mean, a_scale, b_scale, offset, out):  # type: ignore[no-untyped-def]
    n, channels, length = x.shape
    for a in range(n):
        for c in range(channels):
            p = a_scale[c]
            q = b_scale[c]
            m = mean[c]
            r = offset[c]
            for i in range(length):
                out[a, c, i] = p * grad[a, c, i] - q * (x[a, c, i] - m) - r


def batch_norm_backward(grad: np.ndarray, x: np.ndarray, weight: np.ndarray, mean: np.ndarray,
                        var: np.ndarray, eps: float, needs_input_grad: tuple) -> tuple:  # fmt: skip
    """Batch norm's VJP (batch statistics) in two passes: per-channel sums, then the input
    gradient ``weight * invstd * (grad - mean(grad) - normalized * mean(grad * normalized))``."""
    dtype = x.dtype
    grad = np.ascontiguousarray(grad)
    channels = x.shape[1]
    count = x.size // channels
    mean64 = np.asarray(mean, dtype=np.float64)
    invstd = 1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + eps)
    grad_sum = np.empty(channels, dtype=np.float64)
    grad_dot = np.empty(channels, dtype=np.float64)  # sum(grad * (x - mean))
    _bn_sums_loop(_as_ncl(grad), _as_ncl(x), mean64, grad_sum, grad_dot)
    grad_x = None
    if needs_input_grad[0]:
        scale = np.asarray(weight, dtype=np.float64) * invstd
        grad_x = np.empty_like(x)
        _bn_grad_loop(_as_ncl(grad), _as_ncl(x), mean64.astype(dtype), scale.astype(dtype),
                      (scale * invstd * invstd * grad_dot / count).astype(dtype),
                      (scale * grad_sum / count).astype(dtype), _as_ncl(grad_x))  # fmt: skip
    grad_weight = (grad_dot * invstd).astype(dtype) if needs_input_grad[1] else None
    grad_bias = grad_sum.astype(dtype) if needs_input_grad[2] else None
    return grad_x, grad_weight, grad_bias


# Cross-entropy of (N, C) logits with class-index labels: the log-softmax and the picked
# log-probabilities in one pass over each row, where NumPy needs about ten calls (each of which
# costs more than its arithmetic at the sizes of a classifier's output).


def cross_entropy_supports(logits: np.ndarray, labels: np.ndarray) -> bool:
    """Whether the cross-entropy kernels apply: 2-D float32/64 C-contiguous logits, int64 labels."""
    return (
        logits.dtype in _FLOATS
        and logits.flags.c_contiguous
        and labels.dtype == np.int64
        and labels.flags.c_contiguous
    )


@kernel
def _cross_entropy_loop(logits, labels, log_probs):  # type: ignore[no-untyped-def]
    """Row log-softmax into ``log_probs``; returns the sum of the labels' log-probabilities.

    Returns NaN for a label outside ``[0, C)`` (the caller then takes the NumPy path, which
    raises); a row holding NaN or inf gives a non-finite sum too.
    """
    rows, classes = logits.shape
    total = 0.0
    for i in range(rows):
        label = labels[i]
        if label < 0 or label >= classes:
            return np.nan
        top = logits[i, 0]
        for j in range(1, classes):
            if logits[i, j] > top:
                top = logits[i, j]
        exp_sum = 0.0
        for j in range(classes):
            exp_sum += np.exp(logits[i, j] - top)
        log_sum = np.log(exp_sum)
        for j in range(classes):
            log_probs[i, j] = (logits[i, j] - top) - log_sum
        total += log_probs[i, label]
    return total


def cross_entropy_rows(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The sum of the labels' log-probabilities (NaN if a label is out of range or a row is not
    finite) and the log-softmax of each row."""
    log_probs = np.empty_like(logits)
    return _cross_entropy_loop(logits, labels, log_probs), log_probs


@kernel
def _cross_entropy_grad_loop(log_probs, labels, scale, out):  # type: ignore[no-untyped-def]
    rows, classes = log_probs.shape
    for i in range(rows):
        label = labels[i]
        for j in range(classes):
            p = np.exp(log_probs[i, j])
            if j == label:
                p -= 1
            out[i, j] = p * scale


def cross_entropy_grad(log_probs: np.ndarray, labels: np.ndarray, scale: Any) -> np.ndarray:
    """``(softmax - onehot(labels)) * scale``, the gradient of the summed loss times ``scale``."""
    out = np.empty_like(log_probs)
    _cross_entropy_grad_loop(log_probs, labels, log_probs.dtype.type(scale), out)
    return out
