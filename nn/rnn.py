"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameter names, shapes, gate order (LSTM ``i, f, g, o``; GRU ``r, z, n``), initialisation and
return values follow PyTorch, so state dicts move between the two unchanged. The math lives in
the fused scans of ``nn/_scan.py`` (one direction of one layer per call); LSTM projections
(``proj_size``) step through time with Tensor ops.

A ``PackedSequence`` input is run as its padded batch: the forward direction is unaffected by
the padding after each sequence, the reverse direction runs over each sequence reversed within
its own length, and every final state is read at its sequence's last step. Outputs and
gradients equal PyTorch's.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

import autograd as ag
from autograd.tensor import Tensor

from . import init
from ._scan import gru_layer, lstm_layer, rnn_layer
from .dropout import dropout as _dropout
from .linear import linear
from .module import Module, Parameter
from .utils.rnn import PackedSequence, _pack_indices, pad_packed_sequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NAMES = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


def _check_sizes(input_size: Any, hidden_size: Any) -> None:
    if not isinstance(input_size, int) or isinstance(input_size, bool):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU``: parameters, checks, the layer loop.

    Parameters are registered per layer and direction as ``weight_ih_l{k}{suffix}``,
    ``weight_hh_l{k}{suffix}``, ``bias_ih_l{k}{suffix}``, ``bias_hh_l{k}{suffix}`` with
    ``suffix`` empty or ``_reverse``, in PyTorch's order.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}"
            )
        _check_sizes(input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes: dict[str, tuple[int, ...]] = {
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": (gate_size, real_hidden),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gate_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gate_size,)
                if proj_size > 0:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(ag.empty(*shape, dtype=dtype)))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Do nothing (PyTorch compacts cuDNN weights here; kept so ported code runs)."""

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        name = _NAMES[self.mode]
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead"
            )
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"{name} input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )

    def _check_hidden(self, hx: Tensor, expected: tuple, which: str = "") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden{which} size {expected}, got {list(hx.shape)}")

    def _state_sizes(self) -> list[int]:
        """The last dim of each state: ``h`` (``proj_size`` if projecting) and, for LSTM, ``c``."""
        h_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return [h_size, self.hidden_size] if self.mode == "LSTM" else [h_size]

    def _prepare(self, input: Any, states: list[Tensor | None]) -> tuple:  # noqa: A002
        """Check the input and states; return time-major ``(T, N, I)``, 3-D states, the mode.

        The mode is ``(batched, lengths)``: ``lengths`` holds each sequence's length for a
        ``PackedSequence`` input (whose padded batch is returned, time-major), else None.
        """
        lengths = None
        if isinstance(input, PackedSequence):
            padded, length_tensor = pad_packed_sequence(input)
            self._check_input(padded)
            lengths = length_tensor.numpy()
            input = padded
        else:
            self._check_input(input)
        batched = input.ndim == 3
        name = _NAMES[self.mode]
        given = [s for s in states if s is not None]
        for state in given:
            if batched and state.ndim != 3:
                raise RuntimeError(
                    f"{name}: for batched 3-D input, hx should also be 3-D but got "
                    f"{state.ndim}-D tensor"
                )
            if not batched and state.ndim != 2:
                raise RuntimeError(
                    f"{name}: for unbatched 2-D input, hx should also be 2-D but got "
                    f"{state.ndim}-D tensor"
                )
        if not batched:
            input = input.unsqueeze(1)
            states = [None if s is None else s.unsqueeze(1) for s in states]
        elif self.batch_first and lengths is None:
            input = input.transpose(0, 1)
        num_directions = 2 if self.bidirectional else 1
        filled: list[Tensor] = []
        for k, (initial, size) in enumerate(zip(states, self._state_sizes())):
            expected = (self.num_layers * num_directions, input.shape[1], size)
            if initial is None:
                filled.append(ag.zeros(*expected, dtype=input.dtype))
            else:
                self._check_hidden(initial, expected, f"[{k}]" if len(states) > 1 else "")
                filled.append(initial)
        return input, filled, (batched, lengths)

    def _finish(self, output: Tensor, mode: tuple, input: Any) -> Any:  # noqa: A002
        batched, lengths = mode
        if lengths is not None:
            # Pack the valid steps of the padded output as the input was packed.
            batch_sizes = np.asarray(input.batch_sizes._data, dtype=np.int64)
            order = (
                np.arange(output.shape[1])
                if input.sorted_indices is None
                else np.asarray(input.sorted_indices._data, dtype=np.int64)
            )
            time_index, batch_index = _pack_indices(batch_sizes, order)
            data = output[Tensor._from_array(time_index), Tensor._from_array(batch_index)]
            return PackedSequence(data, input.batch_sizes, input.sorted_indices,
                                  input.unsorted_indices)  # fmt: skip
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output

    def _layer_params(self, layer: int, direction: int) -> tuple:
        suffix = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        if not self.bias:
            return w_ih, w_hh, None, None
        return (
            w_ih,
            w_hh,
            getattr(self, f"bias_ih_l{layer}{suffix}"),
            getattr(self, f"bias_hh_l{layer}{suffix}"),
        )

    def _scan(self, x: Tensor, states: list[Tensor], layer: int, direction: int,
              reverse: bool) -> tuple[Tensor, list[Tensor]]:  # fmt: skip
        """Run one direction of one layer over ``x`` (backwards in time if ``reverse``).

        Return the outputs ``(T, N, H_out)`` and the sequence of every state ``(T, N, H)``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _scan (RNN, LSTM and GRU do)")

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:  # noqa: A002
        """Run RNN and GRU (one state): return ``(output, h_n)``; LSTM overrides it."""
        x, (h0,), mode = self._prepare(input, [hx])
        output, (finals,) = self._layers(x, [h0], mode[1])
        h_n = ag.stack(finals)
        return self._finish(output, mode, input), (h_n if mode[0] else h_n.squeeze(1))

    def _layers(self, x: Tensor, states: list[Tensor],
                lengths: np.ndarray | None = None) -> tuple[Tensor, list[list[Tensor]]]:  # fmt: skip
        num_directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        flip = last_step = None
        if lengths is not None:
            flip = _reversal_index(x.shape[0], lengths)
            last_step = Tensor._from_array(np.asarray(lengths, dtype=np.int64) - 1)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                initial = [s[index] for s in states]
                if flip is None:
                    y, sequences = self._scan(x, initial, layer, direction, reverse=direction == 1)
                    last = [seq[0] if direction == 1 else seq[-1] for seq in sequences]
                else:
                    # Reverse each sequence within its own length, so that the padding comes
                    # after it in both directions; then read every state at its last step.
                    x_in = x if direction == 0 else x[flip, _columns(x.shape[1])]
                    y, sequences = self._scan(x_in, initial, layer, direction, reverse=False)
                    last = [seq[last_step, _columns(x.shape[1])] for seq in sequences]
                    if direction == 1:
                        y = y[flip, _columns(x.shape[1])]
                outputs.append(y)
                for k, value in enumerate(last):
                    finals[k].append(value)
            x = outputs[0] if num_directions == 1 else ag.cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, finals


def _reversal_index(steps: int, lengths: np.ndarray) -> Tensor:
    """``(T, B)`` time indices that reverse each sequence within its length (padding stays)."""
    t = np.arange(steps)[:, None]
    flipped = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    return Tensor._from_array(flipped.astype(np.int64))


def _columns(batch: int) -> Tensor:
    """The batch indices ``0..B-1`` (the second index of a per-sequence gather)."""
    return Tensor._from_array(np.arange(batch, dtype=np.int64))


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    Shape: input ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``, or unbatched
    ``(L, H_in)``), h_0 ``(D * num_layers, N, H_out)``; returns ``(output, h_n)`` with output
    ``(L, N, D * H_out)`` and h_n ``(D * num_layers, N, H_out)``.

    Example:
        >>> import autograd as ag, nn
        >>> output, h_n = nn.RNN(10, 20, 2)(ag.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip

    def _scan(self, x: Tensor, states: list[Tensor], layer: int, direction: int,
              reverse: bool) -> tuple[Tensor, list[Tensor]]:  # fmt: skip
        w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
        xw = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
        y = rnn_layer(xw, states[0], w_hh, nonlinearity=self.nonlinearity, reverse=reverse)
        return y, [y]


class LSTM(RNNBase):
    """Long short-term memory: gates ``i, f, g, o``; ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.

    Shape: input ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``, or unbatched
    ``(L, H_in)``); optional ``(h_0, c_0)`` each ``(D * num_layers, N, H)``; returns
    ``(output, (h_n, c_n))`` with output ``(L, N, D * H)``.

    Example:
        >>> import autograd as ag, nn
        >>> output, (h_n, c_n) = nn.LSTM(10, 20, batch_first=True)(ag.randn(3, 5, 10))
        >>> output.shape, h_n.shape, c_n.shape
        ((3, 5, 20), (1, 3, 20), (1, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # fmt: skip

    def _scan(self, x: Tensor, states: list[Tensor], layer: int, direction: int,
              reverse: bool) -> tuple[Tensor, list[Tensor]]:  # fmt: skip
        w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
        xw = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
        if self.proj_size > 0:
            suffix = "_reverse" if direction == 1 else ""
            w_hr = getattr(self, f"weight_hr_l{layer}{suffix}")
            h, c = _projected_lstm(xw, states[0], states[1], w_hh, w_hr, reverse)
            return h, [h, c]
        out = lstm_layer(xw, states[0], states[1], w_hh, reverse=reverse)
        hidden = self.hidden_size
        h = out[..., :hidden]
        return h, [h, out[..., hidden : 2 * hidden]]

    def forward(self, input: Any, hx: tuple[Tensor, Tensor] | None = None) -> tuple:  # type: ignore[override]  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        x, states, mode = self._prepare(input, [None, None] if hx is None else list(hx))
        output, (h_finals, c_finals) = self._layers(x, states, mode[1])
        h_n, c_n = ag.stack(h_finals), ag.stack(c_finals)
        if not mode[0]:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, mode, input), (h_n, c_n)


def _projected_lstm(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, w_hr: Tensor,
                    reverse: bool) -> tuple[Tensor, Tensor]:  # fmt: skip
    """An LSTM with a projected hidden state ``h_t = W_hr (o_t * tanh(c_t))``, step by step.

    Shape: xw ``(T, N, 4H)`` (``x W_ih^T + b_ih + b_hh``), h0 ``(N, P)``, c0 ``(N, H)``, w_hh
    ``(4H, P)``, w_hr ``(P, H)``; returns the ``h`` ``(T, N, P)`` and ``c`` ``(T, N, H)``
    sequences (in time order).
    """
    steps = xw.shape[0]
    hs: list[Tensor] = [h0] * steps
    cs: list[Tensor] = [c0] * steps
    h, c = h0, c0
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        i, f, g, o = (xw[t] + h @ w_hh.T).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = (o.sigmoid() * c.tanh()) @ w_hr.T
        hs[t], cs[t] = h, c
    return ag.stack(hs), ag.stack(cs)


class GRU(RNNBase):
    """Gated recurrent unit: gates ``r, z, n``; ``n_t = tanh(W_in x + b_in + r (W_hn h + b_hn))``.

    ``h_t = (1 - z) n_t + z h_{t-1}``. Shapes as ``RNN``; returns ``(output, h_n)``.

    Example:
        >>> import autograd as ag, nn
        >>> output, h_n = nn.GRU(10, 20, bidirectional=True)(ag.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip

    def _scan(self, x: Tensor, states: list[Tensor], layer: int, direction: int,
              reverse: bool) -> tuple[Tensor, list[Tensor]]:  # fmt: skip
        w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
        if b_hh is None:
            b_hh = ag.zeros(w_hh.shape[0], dtype=w_hh.dtype)
        y = gru_layer(linear(x, w_ih, b_ih), states[0], w_hh, b_hh, reverse=reverse)
        return y, [y]


class RNNCellBase(Module):
    """Shared parameters of the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(ag.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(ag.empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(ag.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(ag.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input: Tensor, states: list[Tensor | None]) -> tuple:  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for state in states:
            if state is not None and state.ndim not in (1, 2):
                raise ValueError(
                    f"{name}: Expected hidden to be 1D or 2D, got {state.ndim}D instead"
                )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        filled = []
        for state in states:
            if state is None:
                state = ag.zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
            elif not batched:
                state = state.unsqueeze(0)
            if tuple(state.shape) != (input.shape[0], self.hidden_size):
                raise RuntimeError(
                    f"{name}: hidden state has shape {tuple(state.shape)}, expected "
                    f"{(input.shape[0], self.hidden_size)}"
                )
            filled.append(state)
        return input, filled, batched

    def _projected(self, input: Tensor, fold_bias: bool) -> Tensor:  # noqa: A002
        bias: Tensor | None = self.bias_ih
        if bias is not None and fold_bias:
            bias = bias + self.bias_hh
        return linear(input, self.weight_ih, bias).unsqueeze(0)


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Shape: input ``(N, H_in)`` or ``(H_in,)``, hidden ``(N, H)``; returns ``h'`` ``(N, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), batched = self._prepare(input, [hx])
        out = rnn_layer(
            self._projected(x, True), h, self.weight_hh, nonlinearity=self.nonlinearity
        )[0]
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``.

    Shape: input ``(N, H_in)`` or ``(H_in,)``, ``hx = (h, c)`` each ``(N, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple:  # noqa: A002
        x, (h, c), batched = self._prepare(input, [None, None] if hx is None else list(hx))
        out = lstm_layer(self._projected(x, True), h, c, self.weight_hh)[0]
        hidden = self.hidden_size
        h_new, c_new = out[:, :hidden], out[:, hidden : 2 * hidden]
        if not batched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(RNNCellBase):
    """One GRU step; returns ``h'``.

    Shape: input ``(N, H_in)`` or ``(H_in,)``, hidden ``(N, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, [hx])
        b_hh = self.bias_hh
        if b_hh is None:
            b_hh = ag.zeros(self.weight_hh.shape[0], dtype=self.weight_hh.dtype)
        out = gru_layer(self._projected(x, False), h, self.weight_hh, b_hh)[0]
        return out if batched else out.squeeze(0)
