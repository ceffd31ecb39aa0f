"""Compiled LSTM time steps (``graphgrad[fast]``, see ``ag.backends.numba``), float32 only.

The NumPy path of ``_scan.py`` (the reference) spends most of an LSTM step outside its matrix
product: a dozen NumPy calls on ``(N, 4H)`` slices, and NumPy's float32 ``tanh``. Here each
step is the GEMM plus one compiled pass: the gates, the cell and the hidden state forward; the
carries and the four gate gradients backward. ``tanh`` is a rational approximation (Eigen's,
as PyTorch's CPU kernels use): within a few float32 ulps of the exact value, and vectorised.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.backends.numba import kernel

__all__ = ["usable", "lstm_forward", "lstm_bptt"]

_F = np.float32
_CLAMP = _F(7.90531110763549805)
_TINY = _F(0.0004)
_A1, _A3, _A5 = _F(4.89352455891786e-03), _F(6.37261928875436e-04), _F(1.48572235717979e-05)
_A7, _A9 = _F(5.12229709037114e-08), _F(-8.60467152213735e-11)
_A11, _A13 = _F(2.00018790482477e-13), _F(-2.76076847742355e-16)
_B0, _B2 = _F(4.89352518554385e-03), _F(2.26843463243900e-03)
_B4, _B6 = _F(1.18534705686654e-04), _F(1.19825839466702e-06)
_HALF, _ONE = _F(0.5), _F(1.0)


def usable(*arrays: Any) -> bool:
    """Whether the kernels apply: every array float32."""
    return all(a.dtype == np.float32 for a in arrays)


@kernel
def _tanh(x):  # type: ignore[no-untyped-def]
    """float32 tanh: odd/even rational polynomial on [-7.9, 7.9], +-1 beyond, x near 0."""
    y = min(max(x, -_CLAMP), _CLAMP)
    y2 = y * y
    p = y2 * _A13 + _A11
    p = y2 * p + _A9
    p = y2 * p + _A7
    p = y2 * p + _A5
    p = y2 * p + _A3
    p = y2 * p + _A1
    p = y * p
    q = y2 * _B6 + _B4
    q = y2 * q + _B2
    q = y2 * q + _B0
    r = p / q
    r = x if abs(x) < _TINY else r
    return r if x == x else x  # selects, not branches: the loops stay vectorised


@kernel
def _lstm_step_loop(z, xw, scale, shift, c_prev, row, c_next, h_next):  # type: ignore[no-untyped-def]
    """One forward step after its GEMM ``z = h_prev @ W_hh^T`` (N, 4H).

    Writes ``[h | c | i | f | g | o]`` into ``row`` and ``c``, ``h`` into the unit-stride
    scratch arrays ``c_next``, ``h_next`` (the next step's inputs). Each loop stores into one
    array at one offset, so each vectorises (stores into one array at several offsets don't).
    The gates are ``scale * tanh(z + xw) + shift`` per column: sigmoid for i, f, o (whose
    pre-activations come halved), tanh for g.
    """
    n, gates = z.shape
    hidden = gates // 4
    for a in range(n):
        for k in range(gates):
            row[a, 2 * hidden + k] = scale[k] * _tanh(z[a, k] + xw[a, k]) + shift[k]
    for a in range(n):
        for j in range(hidden):
            c = row[a, 3 * hidden + j] * c_prev[a, j] + row[a, 2 * hidden + j] * row[a, 4 * hidden + j]
            c_next[a, j] = c
            h_next[a, j] = row[a, 5 * hidden + j] * _tanh(c)
    for a in range(n):
        for j in range(hidden):
            row[a, hidden + j] = c_next[a, j]
    for a in range(n):
        for j in range(hidden):
            row[a, j] = h_next[a, j]


def lstm_forward(xw: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray,
                 reverse: bool) -> np.ndarray:  # fmt: skip
    """``lstm_layer``'s forward: per step one GEMM and one compiled call."""
    steps, batch, gates = xw.shape
    hidden = gates // 4
    out = np.empty((steps, batch, 6 * hidden), dtype=xw.dtype)
    scale = np.full(gates, 0.5, dtype=xw.dtype)  # sigmoid(z) = 0.5 tanh(z / 2) + 0.5
    scale[2 * hidden : 3 * hidden] = 1
    shift = 1 - scale  # 0.5 for i, f, o; 0 for g
    xw = xw * scale
    w_t = np.ascontiguousarray(w_hh.T * scale)
    z = np.empty((batch, gates), dtype=xw.dtype)
    h, c = np.ascontiguousarray(h0), np.ascontiguousarray(c0)
    h_next, c_next = np.empty_like(h), np.empty_like(c)  # ping-pong with h, c
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        np.matmul(h, w_t, out=z)
        _lstm_step_loop(z, xw[t], scale, shift, c, out[t], c_next, h_next)
        if t == (steps - 1 if reverse else 0):  # h0 and c0 are the caller's: don't write them
            h, c = np.empty_like(h), np.empty_like(c)
        h, h_next, c, c_next = h_next, h, c_next, c
    return out


@kernel
def _lstm_bptt_loop(grad_t, carry_h, carry_c, out_t, prev, d_z, carry_c_out):  # type: ignore[no-untyped-def]
    """One backward step. ``out_t`` and ``prev`` hold ``[h | c | i | f | g | o]`` of this step
    and the previous one (or a row holding ``c0``); ``d_z`` (N, 4H) gets
    the gate pre-activation gradients *interleaved* (column ``4 j + k`` for gate ``k`` of unit
    ``j``: one store stream, so the loop vectorises) and ``carry_c_out`` the gradient reaching
    ``c_{t-1}``."""
    n, hidden = carry_c.shape
    for a in range(n):
        for j in range(hidden):
            i = out_t[a, 2 * hidden + j]
            f = out_t[a, 3 * hidden + j]
            g = out_t[a, 4 * hidden + j]
            o = out_t[a, 5 * hidden + j]
            th = _tanh(out_t[a, hidden + j])
            dh = grad_t[a, j] + carry_h[a, j]
            dc = grad_t[a, hidden + j] + carry_c[a, j] + dh * o * (_ONE - th * th)
            # each gate: from c or h, plus what reached the gate activation itself (zero in
            # nn.LSTM, which reads only h and c)
            di = (dc * g + grad_t[a, 2 * hidden + j]) * i * (_ONE - i)
            df = (dc * prev[a, hidden + j] + grad_t[a, 3 * hidden + j]) * f * (_ONE - f)
            dg = (dc * i + grad_t[a, 4 * hidden + j]) * (_ONE - g * g)
            do = (dh * th + grad_t[a, 5 * hidden + j]) * o * (_ONE - o)
            d_z[a, 4 * j] = di
            d_z[a, 4 * j + 1] = df
            d_z[a, 4 * j + 2] = dg
            d_z[a, 4 * j + 3] = do
            carry_c_out[a, j] = dc * f


def _interleave(w: np.ndarray) -> np.ndarray:
    """Rows ``[i..., f..., g..., o...]`` of a ``(4H, ...)`` array to ``[i0 f0 g0 o0 i1 ...]``."""
    hidden = w.shape[0] // 4
    return np.ascontiguousarray(w.reshape((4, hidden) + w.shape[1:]).swapaxes(0, 1)).reshape(w.shape)


def _deinterleave(w: np.ndarray) -> np.ndarray:
    """The inverse of ``_interleave`` (on the first dim)."""
    hidden = w.shape[0] // 4
    return np.ascontiguousarray(w.reshape((hidden, 4) + w.shape[1:]).swapaxes(0, 1)).reshape(w.shape)


def lstm_bptt(grad: Any, h0: Any, c0: Any, w_hh: Any,
              out: Any, reverse: bool) -> tuple:  # fmt: skip
    """``lstm_layer``'s VJP on arrays: ``(d_xw, d_h0, d_c0, d_w_hh)``.

    Runs in the interleaved gate order (``_lstm_bptt_loop``): ``w_hh``'s rows are interleaved
    to match, and the results are put back in PyTorch's ``i, f, g, o`` blocks at the end.
    """
    steps, batch, width = out.shape
    hidden = width // 6
    grad = np.ascontiguousarray(grad)
    out = np.ascontiguousarray(out)
    w_perm = _interleave(w_hh)
    d_z = np.empty((steps, batch, 4 * hidden), dtype=out.dtype)
    carry_h = np.zeros((batch, hidden), dtype=out.dtype)
    carry_c = np.zeros((batch, hidden), dtype=out.dtype)
    initial = np.zeros((batch, width), dtype=out.dtype)  # a row holding c0, for the first step
    initial[:, hidden : 2 * hidden] = c0
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    first = steps - 1 if reverse else 0
    for t in order:
        prev = initial if t == first else out[t + 1 if reverse else t - 1]
        carry_c_next = np.empty_like(carry_c)
        _lstm_bptt_loop(grad[t], carry_h, carry_c, out[t], prev, d_z[t], carry_c_next)
        carry_c = carry_c_next
        carry_h = d_z[t] @ w_perm
    # d_w_hh: every step's d_z against the h that entered it (h0 for the first step).
    flat = d_z.reshape(steps * batch, 4 * hidden)
    h_all = out[:, :, :hidden]
    if reverse:  # step t read h[t + 1]
        d_w = d_z[-1].T @ h0 + (flat[: (steps - 1) * batch].T @
                                h_all[1:].reshape((steps - 1) * batch, hidden))  # fmt: skip
    else:
        d_w = d_z[0].T @ h0 + (flat[batch:].T @ h_all[:-1].reshape((steps - 1) * batch, hidden))
    d_xw = np.ascontiguousarray(d_z.reshape(steps, batch, hidden, 4).swapaxes(2, 3))
    return d_xw.reshape(steps, batch, 4 * hidden), carry_h, carry_c, _deinterleave(d_w)
