"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, ...),
RNN/LSTM/GRU on PackedSequence inputs and LSTM proj_size, against PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from nn.utils import rnn as ours_rnn

from parity import assert_close, copy_weights, error_table, import_torch, pair

torch = import_torch()
theirs_rnn = torch.nn.utils.rnn

RNG = np.random.default_rng(17)


def _x(*shape):
    return np.asarray(RNG.standard_normal(shape))


def _same_packed(ours, theirs):
    assert_close(ours.data, theirs.data, rtol=1e-12, msg="data")
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            assert a.dtype == ag.int64


@pytest.mark.parametrize("lengths,enforce_sorted,batch_first", [
    ([4, 3, 1], True, False), ([2, 4, 2], False, False), ([1, 3, 3, 2], False, True),
    ([5], True, True), ([3, 3, 3], True, False),
])  # fmt: skip
def test_pack_and_pad_round_trip_like_pytorch(lengths, enforce_sorted, batch_first):
    steps, batch = max(lengths) + 1, len(lengths)
    x, x_t = pair(_x(batch, steps, 2) if batch_first else _x(steps, batch, 2))
    packed = ours_rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    packed_t = theirs_rnn.pack_padded_sequence(x_t, lengths, batch_first, enforce_sorted)
    _same_packed(packed, packed_t)
    for kwargs in ({}, {"batch_first": True, "padding_value": -1.5}, {"total_length": steps + 2}):
        padded, lengths_o = ours_rnn.pad_packed_sequence(packed, **kwargs)
        padded_t, lengths_t = theirs_rnn.pad_packed_sequence(packed_t, **kwargs)
        assert_close(padded, padded_t, rtol=1e-12)
        np.testing.assert_array_equal(lengths_o.numpy(), lengths_t.numpy())
        assert lengths_o.dtype == ag.int64
    # Gradients flow through packing and unpacking to the padded input (zero on the padding).
    padded, _ = ours_rnn.pad_packed_sequence(packed, batch_first=True)
    padded_t, _ = theirs_rnn.pad_packed_sequence(packed_t, batch_first=True)
    g = _x(*padded_t.shape)
    padded.backward(ag.tensor(g))
    padded_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_like_pytorch(batch_first, padding_side):
    arrays = [_x(3, 2), _x(1, 2), _x(4, 2)]
    seqs, seqs_t = zip(*(pair(a) for a in arrays))
    out = ours_rnn.pad_sequence(seqs, batch_first, 0.5, padding_side)
    out_t = theirs_rnn.pad_sequence(seqs_t, batch_first, 0.5, padding_side)
    assert_close(out, out_t)
    g = _x(*out_t.shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    for a, b in zip(seqs, seqs_t):
        assert_close(a.grad, b.grad)


def test_pack_sequence_unpack_and_unpad():
    arrays = [_x(2, 3), _x(4, 3), _x(1, 3)]
    seqs, seqs_t = zip(*(pair(a, requires_grad=False) for a in arrays))
    for enforce in (False,):
        _same_packed(ours_rnn.pack_sequence(seqs, enforce), theirs_rnn.pack_sequence(seqs_t, enforce))
    for got, want in zip(ours_rnn.unpack_sequence(ours_rnn.pack_sequence(seqs, False)), arrays):
        assert_close(got, want)
    padded = ours_rnn.pad_sequence(seqs, batch_first=True)
    for got, want in zip(ours_rnn.unpad_sequence(padded, ag.tensor([2, 4, 1]), batch_first=True), arrays):
        assert_close(got, want)
    packed = ours_rnn.pack_sequence(seqs, False)
    assert packed.double() is packed and packed.float().data.dtype == ag.float32
    assert packed.cpu() is packed and not packed.is_cuda
    assert isinstance(packed, tuple) and packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")


RECURRENT_CASES = [
    ("RNN", {}, [4, 3, 1], True, False, False),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, [3, 3, 1], True, True, True),
    ("GRU", {"bidirectional": True}, [2, 4, 1, 4], False, False, False),
    ("GRU", {"num_layers": 2, "bias": False}, [1, 5, 2], False, True, True),
    ("LSTM", {}, [5, 2, 2], True, False, True),
    ("LSTM", {"bidirectional": True, "num_layers": 2}, [2, 5, 3], False, True, False),
    ("LSTM", {"proj_size": 2}, [3, 1, 2], False, False, False),
    ("LSTM", {"proj_size": 3, "bidirectional": True, "num_layers": 2}, [3, 1, 2], False, True, True),
]  # fmt: skip


def _states(name, kwargs, batch, lib, rng_state):
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h = rng_state.standard_normal((layers, batch, kwargs.get("proj_size") or 5))
    c = rng_state.standard_normal((layers, batch, 5))
    make = torch.tensor if lib is torch.nn else ag.tensor
    return (make(h), make(c)) if name == "LSTM" else make(h)


@pytest.mark.parametrize("name,kwargs,lengths,enforce_sorted,with_state,batch_first", RECURRENT_CASES)
def test_recurrent_layers_on_packed_sequences_match_pytorch(name, kwargs, lengths, enforce_sorted,
                                                            with_state, batch_first):  # fmt: skip
    theirs = getattr(torch.nn, name)(3, 5, batch_first=batch_first, **kwargs).double()
    ours = copy_weights(getattr(nn, name)(3, 5, batch_first=batch_first, dtype=ag.float64, **kwargs), theirs)
    batch, steps = len(lengths), max(lengths)
    x, x_t = pair(_x(batch, steps, 3) if batch_first else _x(steps, batch, 3))
    args = args_t = ()
    if with_state:
        args = (_states(name, kwargs, batch, nn, np.random.default_rng(1)),)
        args_t = (_states(name, kwargs, batch, torch.nn, np.random.default_rng(1)),)
    out, state = ours(ours_rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted), *args)
    out_t, state_t = theirs(theirs_rnn.pack_padded_sequence(x_t, lengths, batch_first, enforce_sorted), *args_t)
    assert isinstance(out, ours_rnn.PackedSequence)
    _same_packed(out, out_t)
    states = state if isinstance(state, tuple) else (state,)
    states_t = state_t if isinstance(state_t, tuple) else (state_t,)
    for a, b in zip(states, states_t):
        assert_close(a, b, rtol=1e-11, msg="final state")
    # Gradients of the input and of every parameter, through the output and the final states.
    g = _x(*out_t.data.shape)
    gs = [_x(*s.shape) for s in states_t]
    loss = (out.data * ag.tensor(g)).sum() + sum((s * ag.tensor(q)).sum() for s, q in zip(states, gs))
    loss_t = (out_t.data * torch.from_numpy(g)).sum() + sum((s * torch.from_numpy(q)).sum() for s, q in zip(states_t, gs))
    loss.backward()
    loss_t.backward()
    assert_close(x.grad, x_t.grad, rtol=1e-10, atol=1e-12)
    grads_t = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert_close(p.grad, grads_t[n].grad, rtol=1e-10, atol=1e-12, msg=n)
    # The padded output, unpacked, is PyTorch's too.
    padded, _ = ours_rnn.pad_packed_sequence(out, batch_first=batch_first)
    padded_t, _ = theirs_rnn.pad_packed_sequence(out_t, batch_first=batch_first)
    assert_close(padded, padded_t, rtol=1e-11)


@pytest.mark.parametrize("kwargs", [{"proj_size": 2}, {"proj_size": 3, "num_layers": 2, "bidirectional": True, "batch_first": True}])
def test_lstm_projection_matches_pytorch_on_padded_input(kwargs):
    theirs = torch.nn.LSTM(4, 5, **kwargs).double()
    ours = copy_weights(nn.LSTM(4, 5, dtype=ag.float64, **kwargs), theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x, x_t = pair(_x(3, 6, 4))
    (out, (h, c)), (out_t, (h_t, c_t)) = ours(x), theirs(x_t)
    for a, b in ((out, out_t), (h, h_t), (c, c_t)):
        assert_close(a, b, rtol=1e-11)
    (out.sum() + (h * 2).sum() + c.sum()).backward()
    (out_t.sum() + (h_t * 2).sum() + c_t.sum()).backward()
    assert_close(x.grad, x_t.grad, rtol=1e-10)
    grads_t = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert_close(p.grad, grads_t[n].grad, rtol=1e-10, atol=1e-12, msg=n)
    unbatched, _ = ours(ag.tensor(_x(6, 4)))
    assert unbatched.shape == (6, kwargs["proj_size"] * (2 if kwargs.get("bidirectional") else 1))


ERRORS = [
    ("unsorted", lambda: ours_rnn.pack_padded_sequence(ag.ones(4, 3, 2), [2, 3, 1]), RuntimeError,
     "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
    ("zero_length", lambda: ours_rnn.pack_padded_sequence(ag.ones(4, 3, 2), [2, 0, 1], enforce_sorted=False), RuntimeError,
     "Length of all samples has to be greater than 0"),
    ("batch_mismatch", lambda: ours_rnn.pack_padded_sequence(ag.ones(4, 3, 2), [3, 2]), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
    ("too_long", lambda: ours_rnn.pack_padded_sequence(ag.ones(4, 3, 2), [5, 3, 1]), RuntimeError, "longer than the padded input"),
    ("total_length", lambda: ours_rnn.pad_packed_sequence(ours_rnn.pack_sequence([ag.ones(4), ag.ones(2)]), total_length=3),
     ValueError, "Expected total_length to be at least the length of the longest sequence in input, but got total_length=3"),
    ("empty", lambda: ours_rnn.pad_sequence([]), RuntimeError, "received an empty list of sequences"),
    ("trailing", lambda: ours_rnn.pad_sequence([ag.ones(2, 3), ag.ones(3, 4)]), RuntimeError, "every sequence must be"),
    ("padding_side", lambda: ours_rnn.pad_sequence([ag.ones(2)], padding_side="middle"), RuntimeError,
     "Expected padding_side to be one of left or right, but got middle."),
    ("packed_hidden", lambda: nn.GRU(2, 3)(ours_rnn.pack_sequence([ag.ones(3, 2), ag.ones(2, 2)]), ag.zeros(1, 3, 3)),
     RuntimeError, r"Expected hidden size \(1, 2, 3\), got \[1, 3, 3\]"),
    ("proj_hidden", lambda: nn.LSTM(2, 4, proj_size=2)(ag.ones(3, 1, 2), (ag.zeros(1, 1, 4), ag.zeros(1, 1, 4))),
     RuntimeError, r"Expected hidden\[0\] size \(1, 1, 2\), got \[1, 1, 4\]"),
]  # fmt: skip

test_errors_name_the_problem = error_table(ERRORS)


def test_pytorch_raises_the_same_errors():
    cases = {
        "unsorted": lambda: theirs_rnn.pack_padded_sequence(torch.ones(4, 3, 2), [2, 3, 1]),
        "zero_length": lambda: theirs_rnn.pack_padded_sequence(torch.ones(4, 3, 2), [2, 0, 1], enforce_sorted=False),
        "batch_mismatch": lambda: theirs_rnn.pack_padded_sequence(torch.ones(4, 3, 2), [3, 2]),
        "total_length": lambda: theirs_rnn.pad_packed_sequence(theirs_rnn.pack_sequence([torch.ones(4), torch.ones(2)]), total_length=3),
        "empty": lambda: theirs_rnn.pad_sequence([]),
        "padding_side": lambda: theirs_rnn.pad_sequence([torch.ones(2)], padding_side="middle"),
        "packed_hidden": lambda: torch.nn.GRU(2, 3)(theirs_rnn.pack_sequence([torch.ones(3, 2), torch.ones(2, 2)]), torch.zeros(1, 3, 3)),
        "proj_hidden": lambda: torch.nn.LSTM(2, 4, proj_size=2)(torch.ones(3, 1, 2), (torch.zeros(1, 1, 4), torch.zeros(1, 1, 4))),
    }  # fmt: skip
    for case, call in cases.items():
        expected = next(row[2] for row in ERRORS if row[0] == case)
        with pytest.raises(expected):
            call()
