"""Fused recurrent scans: ``rnn_layer``, ``lstm_layer``, ``gru_layer`` (one direction of one layer).

Each is a primitive: the forward loops over time in NumPy (one ``h @ W_hh^T`` per step for all
gates), the VJP recomputes the gates for all steps at once from the saved hidden states and
back-propagates through time. The engine hands the VJP NumPy arrays in a plain ``backward()``
and Tensors under ``create_graph=True``; it computes through a tiny namespace of its own that
covers both (the time loops have array-only fast paths that write into preallocated buffers).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import autograd as ag
from autograd.backends import numba as _numba
from autograd.registry import primitive
from autograd.tensor import Tensor

from . import _scan_kernels

__all__ = ["rnn_layer", "lstm_layer", "gru_layer"]


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: no overflow warning for large |x|, and exact 0.5 at 0.
    return 0.5 * np.tanh(0.5 * x) + 0.5


class _NumPyOps:
    """Array namespace for the NumPy path of the VJPs."""

    tanh: Callable = staticmethod(np.tanh)
    sigmoid: Callable = staticmethod(_np_sigmoid)

    @staticmethod
    def cat(items: Sequence[np.ndarray], axis: int) -> np.ndarray:
        return np.concatenate(items, axis)

    @staticmethod
    def stack(items: Sequence[np.ndarray], axis: int = 0) -> np.ndarray:
        return np.stack(items, axis)

    @staticmethod
    def flip0(x: np.ndarray) -> np.ndarray:
        return x[::-1]

    @staticmethod
    def positive(x: np.ndarray) -> np.ndarray:
        return (x > 0).astype(x.dtype)


class _TensorOps:
    """Array namespace for the Tensor path (recorded, so the gradient is differentiable)."""

    @staticmethod
    def tanh(x: Tensor) -> Tensor:
        return x.tanh()

    @staticmethod
    def sigmoid(x: Tensor) -> Tensor:
        return x.sigmoid()

    @staticmethod
    def cat(items: Sequence[Tensor], axis: int) -> Tensor:
        return ag.cat(list(items), axis)

    @staticmethod
    def stack(items: Sequence[Tensor], axis: int = 0) -> Tensor:
        return ag.stack(list(items), axis)

    @staticmethod
    def flip0(x: Tensor) -> Tensor:
        return ag.flip(x, (0,))

    @staticmethod
    def positive(x: Tensor) -> Tensor:
        return (x.detach() > 0).to(x.dtype)


def _vjp_namespace(*values: Any) -> tuple[Any, list]:
    """The NumPy namespace for arrays (first-order backward), the Tensor one under create_graph."""
    return (_TensorOps if isinstance(values[0], Tensor) else _NumPyOps), list(values)


def _wrap(values: Sequence[Any], needs: Sequence[bool]) -> tuple:
    out: list[Any] = []
    for value, need in zip(values, needs):
        if not need:
            out.append(None)
        elif isinstance(value, Tensor):
            out.append(value)
        else:
            out.append(np.ascontiguousarray(value))
    return tuple(out)


def _steps(n: int, reverse: bool) -> range:
    return range(n - 1, -1, -1) if reverse else range(n)


def _previous(xp: Any, first: Any, seq: Any) -> Any:
    """States entering each step: ``[first, seq[0], ..., seq[T-2]]`` (time-major)."""
    return xp.cat([first[None], seq[:-1]], 0)


def _check_scan(op: str, xw: np.ndarray, states: Sequence[np.ndarray], w_hh: np.ndarray,
                gates: int) -> int:  # fmt: skip
    if xw.ndim != 3:
        raise RuntimeError(f"{op}: xw must be 3-D (T, N, {gates}*H), got shape {xw.shape}")
    hidden = w_hh.shape[-1] if w_hh.ndim == 2 else -1
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * hidden or xw.shape[2] != gates * hidden:
        raise RuntimeError(
            f"{op}: w_hh must be ({gates}*H, H) and xw (T, N, {gates}*H) "
            f"(xw {xw.shape}, w_hh {w_hh.shape})"
        )
    for state in states:
        if state.shape != (xw.shape[1], hidden):
            raise RuntimeError(
                f"{op}: initial state must be (N, H) = {(xw.shape[1], hidden)}, got {state.shape}"
            )
    return hidden


def _scan_sample(gates: int, states: int, extra_bias: bool = False) -> Any:
    from hypothesis import assume
    from hypothesis import strategies as st

    from ._samples import side, tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        steps, batch, hidden = side(draw), side(draw, 1, 2), side(draw, 1, 2)
        xw = tensor(draw, (steps, batch, gates * hidden))
        initial = [tensor(draw, (batch, hidden)) for _ in range(states)]
        w_hh = tensor(draw, (gates * hidden, hidden))
        args = [xw, *initial, w_hh]
        if extra_bias:
            args.append(tensor(draw, (gates * hidden,)))
        kwargs: dict = {"reverse": draw(st.booleans())}
        if gates == 1:
            kwargs["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        if kwargs.get("nonlinearity") == "relu":
            # Keep pre-activations off relu's kink, where finite differences disagree.
            assume(
                _min_abs_relu_preactivation(xw._data, initial[0]._data, w_hh._data, **kwargs) > 1e-3
            )
        return args, kwargs

    return draw_inputs()


def _min_abs_relu_preactivation(xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, reverse: bool,
                                nonlinearity: str) -> float:  # fmt: skip
    h, smallest = h0, np.inf
    for t in _steps(xw.shape[0], reverse):
        pre = xw[t] + h @ w_hh.T
        smallest = min(smallest, float(np.abs(pre).min()))
        h = np.maximum(pre, 0)
    return smallest


def _rnn_check(op: str, xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, **_: Any) -> None:
    _check_scan(op, xw, [h0], w_hh, 1)


@primitive("rnn_layer", method=False, label="rnn", validate=_rnn_check, sample=lambda: _scan_sample(1, 1))
def rnn_layer(xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, *, nonlinearity: str = "tanh",
              reverse: bool = False) -> np.ndarray:  # fmt: skip
    """Run ``h_t = act(xw_t + h_{t-1} W_hh^T)`` over time; ``xw`` holds ``x W_ih^T + b_ih + b_hh``.

    Shape: xw ``(T, N, H)``, h0 ``(N, H)``, w_hh ``(H, H)``, output ``(T, N, H)`` (all ``h_t``).
    ``reverse=True`` runs from ``t = T-1`` down to 0 (the backward direction).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"rnn_layer: unknown nonlinearity '{nonlinearity}', expected 'tanh' or 'relu'"
        )
    out = np.empty_like(xw)
    w_t = np.ascontiguousarray(w_hh.T)  # a contiguous right operand: faster small GEMMs
    h = h0
    for t in _steps(xw.shape[0], reverse):
        pre = xw[t] + h @ w_t
        h = np.tanh(pre, out=pre) if nonlinearity == "tanh" else np.maximum(pre, 0, out=pre)
        out[t] = h
    return out


@rnn_layer.vjp
def _rnn_layer_vjp(grad: Any, h0: Tensor, w_hh: Tensor, out: Tensor, nonlinearity: str,
                   reverse: bool, needs_input_grad: tuple) -> tuple:  # fmt: skip
    xp, (grad, h0, w_hh, out) = _vjp_namespace(grad, h0, w_hh, out)
    if reverse:
        grad, out = xp.flip0(grad), xp.flip0(out)
    steps, batch, hidden = out.shape
    slope = 1 - out * out if nonlinearity == "tanh" else xp.positive(out)
    dpre: list = [None] * steps
    carry = None
    for t in range(steps - 1, -1, -1):
        dh = grad[t] if carry is None else grad[t] + carry
        dpre[t] = dh * slope[t]
        carry = dpre[t] @ w_hh
    d_xw = xp.stack(dpre)
    h_prev = _previous(xp, h0, out)
    d_w = d_xw.reshape(steps * batch, hidden).T @ h_prev.reshape(steps * batch, hidden)
    if reverse:
        d_xw = xp.flip0(d_xw)
    return _wrap([d_xw, carry, d_w], needs_input_grad)


def _lstm_check(op: str, xw: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray,
                **_: Any) -> None:  # fmt: skip
    _check_scan(op, xw, [h0, c0], w_hh, 4)


@primitive("lstm_layer", method=False, label="lstm", validate=_lstm_check, sample=lambda: _scan_sample(4, 2))
def lstm_layer(xw: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_hh: np.ndarray, *,
               reverse: bool = False) -> np.ndarray:  # fmt: skip
    """Run an LSTM over time; ``xw`` holds ``x W_ih^T + b_ih + b_hh`` with gates ``i, f, g, o``.

    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``. The output also carries the gate
    activations, which backward reuses instead of recomputing them (as PyTorch keeps its
    gate workspace); ``nn.LSTM`` only reads ``h`` and ``c``.

    Shape: xw ``(T, N, 4H)``, h0 and c0 ``(N, H)``, w_hh ``(4H, H)``; output ``(T, N, 6H)``
    holding ``[h_t | c_t | i_t | f_t | g_t | o_t]`` for every step.
    """
    if _numba.active() and _scan_kernels.usable(xw, h0, c0, w_hh):
        return _scan_kernels.lstm_forward(xw, h0, c0, w_hh, reverse)  # one pass per step
    steps, batch, gates = xw.shape
    hidden = gates // 4
    out = np.empty((steps, batch, 6 * hidden), dtype=xw.dtype)
    # sigmoid(z) = 0.5 * tanh(z / 2) + 0.5: with the i, f, o columns halved once, up front, one
    # tanh per step gives all four gates (g needs tanh(z) itself).
    half = np.full(gates, 0.5, dtype=xw.dtype)
    half[2 * hidden : 3 * hidden] = 1
    xw = xw * half
    w_t = np.ascontiguousarray(w_hh.T * half)
    h, c = h0, c0
    for t in _steps(steps, reverse):
        act = out[t, :, 2 * hidden :]
        np.matmul(h, w_t, out=act)
        act += xw[t]
        np.tanh(act, out=act)
        for gate in (act[:, : 2 * hidden], act[:, 3 * hidden :]):  # i, f and o
            gate *= 0.5
            gate += 0.5
        c = np.multiply(act[:, hidden : 2 * hidden], c, out=out[t, :, hidden : 2 * hidden])
        c += act[:, :hidden] * act[:, 2 * hidden : 3 * hidden]
        h = np.tanh(c, out=out[t, :, :hidden])
        h *= act[:, 3 * hidden :]
    return out


@lstm_layer.vjp
def _lstm_layer_vjp(grad: Any, h0: Tensor, c0: Tensor, w_hh: Tensor, out: Tensor,
                    reverse: bool, needs_input_grad: tuple) -> tuple:  # fmt: skip
    xp, (grad, h0, c0, w_hh, out) = _vjp_namespace(grad, h0, c0, w_hh, out)
    if xp is _NumPyOps and _numba.active() and _scan_kernels.usable(grad, h0, c0, w_hh, out):
        return _wrap(_scan_kernels.lstm_bptt(grad, h0, c0, w_hh, out, reverse), needs_input_grad)
    if reverse:
        grad, out = xp.flip0(grad), xp.flip0(out)
    steps, batch, width = out.shape
    hidden = width // 6
    h, c = out[..., :hidden], out[..., hidden : 2 * hidden]
    i, f = out[..., 2 * hidden : 3 * hidden], out[..., 3 * hidden : 4 * hidden]
    g, o = out[..., 4 * hidden : 5 * hidden], out[..., 5 * hidden :]
    h_prev, c_prev = _previous(xp, h0, h), _previous(xp, c0, c)
    tanh_c = xp.tanh(c)
    # Every gate gradient is dc_t or dh_t times a factor known from the forward values, so
    # only the two carries run step by step; the gate gradients are formed for all t at once.
    c_from_h = o * (1 - tanh_c * tanh_c)
    di, df, dg = i * (1 - i), f * (1 - f), 1 - g * g
    if xp is _NumPyOps:  # written in place: stacking would copy three (T, N, H) arrays again
        factors_ifg = np.empty(c.shape[:2] + (3, hidden), dtype=c.dtype)
        for k, (a, b) in enumerate([(g, di), (c_prev, df), (i, dg)]):
            np.multiply(a, b, out=factors_ifg[:, :, k])
    else:
        factors_ifg = xp.stack([g * di, c_prev * df, i * dg], 2)
    do = o * (1 - o)
    factor_o = tanh_c * do
    # Gradients that reach the gate activations directly (zero when only h and c are used).
    grad_gates = grad[..., 2 * hidden :]
    direct = None
    if xp is not _NumPyOps or grad_gates.any():
        direct = grad_gates * xp.cat([di, df, dg, do], 2)
    bptt = _lstm_bptt_numpy if xp is _NumPyOps else _lstm_bptt_tensor
    d_z, carry_h, carry_c = bptt(grad[..., :hidden], grad[..., hidden : 2 * hidden], c_from_h,
                                 factors_ifg, factor_o, f, w_hh, direct)  # fmt: skip
    d_w = d_z.reshape(steps * batch, 4 * hidden).T @ h_prev.reshape(steps * batch, hidden)
    if reverse:
        d_z = xp.flip0(d_z)
    return _wrap([d_z, carry_h, carry_c, d_w], needs_input_grad)


def _lstm_bptt_numpy(grad_h: Any, grad_c: Any, c_from_h: Any, factors_ifg: Any, factor_o: Any,
                     f: Any, w_hh: Any, direct: Any) -> tuple:  # fmt: skip
    # (All NumPy arrays: typed Any because the VJP's names hold arrays or Tensors.)
    # Writes each step's gate gradients straight into one buffer: one GEMM per step, no stacking.
    steps, batch, hidden = grad_h.shape
    d_z = np.empty((steps, batch, 4, hidden), dtype=grad_h.dtype)
    carry_h = np.zeros((batch, hidden), dtype=grad_h.dtype)
    carry_c = np.zeros((batch, hidden), dtype=grad_h.dtype)
    for t in range(steps - 1, -1, -1):
        dh = grad_h[t] + carry_h
        dc = grad_c[t] + carry_c
        dc += dh * c_from_h[t]
        np.multiply(dc[:, None, :], factors_ifg[t], out=d_z[t, :, :3])
        np.multiply(dh, factor_o[t], out=d_z[t, :, 3])
        d_z_t = d_z[t].reshape(batch, 4 * hidden)
        if direct is not None:
            d_z_t += direct[t]
        carry_h = d_z_t @ w_hh
        carry_c = dc * f[t]
    return d_z.reshape(steps, batch, 4 * hidden), carry_h, carry_c


def _lstm_bptt_tensor(grad_h: Any, grad_c: Any, c_from_h: Any, factors_ifg: Any, factor_o: Any,
                      f: Any, w_hh: Any, direct: Any) -> tuple:  # fmt: skip
    steps, batch, hidden = grad_h.shape
    d_z_steps: list = [None] * steps
    carry_h = carry_c = None
    for t in range(steps - 1, -1, -1):
        dh = grad_h[t] if carry_h is None else grad_h[t] + carry_h
        dc = grad_c[t] + dh * c_from_h[t]
        if carry_c is not None:
            dc = dc + carry_c
        d_ifg = (dc[:, None, :] * factors_ifg[t]).reshape(batch, 3 * hidden)
        d_z_steps[t] = ag.cat([d_ifg, dh * factor_o[t]], 1) + direct[t]
        carry_h = d_z_steps[t] @ w_hh
        carry_c = dc * f[t]
    return ag.stack(d_z_steps), carry_h, carry_c


def _gru_check(op: str, xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray,
               **_: Any) -> None:  # fmt: skip
    hidden = _check_scan(op, xw, [h0], w_hh, 3)
    if b_hh.shape != (3 * hidden,):
        raise RuntimeError(f"{op}: b_hh must be (3*H,) = {(3 * hidden,)}, got {b_hh.shape}")


@primitive(
    "gru_layer", method=False, label="gru", validate=_gru_check,
    sample=lambda: _scan_sample(3, 1, extra_bias=True),
)  # fmt: skip
def gru_layer(xw: np.ndarray, h0: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray, *,
              reverse: bool = False) -> np.ndarray:  # fmt: skip
    """Run a GRU over time; ``xw`` holds ``x W_ih^T + b_ih`` with gates ``r, z, n``.

    ``n_t = tanh(xw_n + r * (h_{t-1} W_hn^T + b_hn))``, ``h_t = (1 - z) * n_t + z * h_{t-1}``;
    ``b_hh`` stays separate because its ``n`` part sits inside the reset gate, as in PyTorch.

    Shape: xw ``(T, N, 3H)``, h0 ``(N, H)``, w_hh ``(3H, H)``, b_hh ``(3H,)``; output
    ``(T, N, H)``.
    """
    steps, batch, gates = xw.shape
    hidden = gates // 3
    out = np.empty((steps, batch, hidden), dtype=xw.dtype)
    w_t = np.ascontiguousarray(w_hh.T)
    h = h0
    for t in _steps(steps, reverse):
        gh = h @ w_t + b_hh
        rz = _np_sigmoid(xw[t, :, : 2 * hidden] + gh[:, : 2 * hidden])
        n = np.tanh(xw[t, :, 2 * hidden :] + rz[:, :hidden] * gh[:, 2 * hidden :])
        h = n + rz[:, hidden:] * (h - n)
        out[t] = h
    return out


@gru_layer.vjp
def _gru_layer_vjp(grad: Any, xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor, out: Tensor,
                   reverse: bool, needs_input_grad: tuple) -> tuple:  # fmt: skip
    xp, (grad, xw, h0, w_hh, b_hh, out) = _vjp_namespace(grad, xw, h0, w_hh, b_hh, out)
    if reverse:
        grad, xw, out = xp.flip0(grad), xp.flip0(xw), xp.flip0(out)
    steps, batch, gates = xw.shape
    hidden = gates // 3
    h_prev = _previous(xp, h0, out)
    gh = (h_prev.reshape(steps * batch, hidden) @ w_hh.T).reshape(steps, batch, gates) + b_hh
    r = xp.sigmoid(xw[..., :hidden] + gh[..., :hidden])
    z = xp.sigmoid(xw[..., hidden : 2 * hidden] + gh[..., hidden : 2 * hidden])
    gh_n = gh[..., 2 * hidden :]
    n = xp.tanh(xw[..., 2 * hidden :] + r * gh_n)
    # dL/d(pre-activation of n) per unit dh_t; the r, z and hidden-n gradients follow from it.
    n_pre = (1 - z) * (1 - n * n)
    factors = xp.stack([n_pre * gh_n * r * (1 - r), (h_prev - n) * z * (1 - z), n_pre * r], 2)
    if xp is _NumPyOps:
        dh_all, d_gh, carry = _gru_bptt_numpy(grad, factors, z, w_hh)
    else:
        dh_steps: list = [None] * steps
        carry = None
        for t in range(steps - 1, -1, -1):
            dh = grad[t] if carry is None else grad[t] + carry
            d_gh_t = (dh[:, None, :] * factors[t]).reshape(batch, gates)
            carry = dh * z[t] + d_gh_t @ w_hh
            dh_steps[t] = dh
        dh_all = ag.stack(dh_steps)
        d_gh = (dh_all[:, :, None, :] * factors).reshape(steps, batch, gates)
    d_xw = xp.cat([d_gh[..., : 2 * hidden], dh_all * n_pre], 2)
    flat = d_gh.reshape(steps * batch, gates)
    d_w = flat.T @ h_prev.reshape(steps * batch, hidden)
    d_b = flat.sum(0)
    if reverse:
        d_xw = xp.flip0(d_xw)
    return _wrap([d_xw, carry, d_w, d_b], needs_input_grad)


def _gru_bptt_numpy(grad: Any, factors: Any, z: Any, w_hh: Any) -> tuple:
    steps, batch, hidden = grad.shape
    dh_all = np.empty_like(grad)
    d_gh = np.empty((steps, batch, 3, hidden), dtype=grad.dtype)
    carry = np.zeros((batch, hidden), dtype=grad.dtype)
    for t in range(steps - 1, -1, -1):
        dh = np.add(grad[t], carry, out=dh_all[t])
        np.multiply(dh[:, None, :], factors[t], out=d_gh[t])
        carry = dh * z[t]
        carry += d_gh[t].reshape(batch, 3 * hidden) @ w_hh
    return dh_all, d_gh.reshape(steps, batch, 3 * hidden), carry
