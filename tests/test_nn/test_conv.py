"""Convolution against PyTorch (weights copied): values, input/weight/bias gradients, modules, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn._conv_columns as columns_module
import nn.conv as conv_module
import nn.functional as F
from autograd.backends import numba as numba_backend
from nn.conv import _convolution, _convolution_input_grad, _convolution_weight_grad

from parity import copy_weights, error_table, import_torch

torch = import_torch()
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")

RNG = np.random.default_rng(7)


@pytest.fixture(params=["batch_first", "channels_first"])
def layout(request, monkeypatch):
    """Run a test under each im2col layout (the size rule alone would pick only one here)."""
    batch_first = request.param == "batch_first"
    monkeypatch.setattr(conv_module, "_batch_first", lambda weight_shape: batch_first)
    return request.param

# (id, input shape, weight shape, options); float64 throughout.
CONV2D_CASES = [
    ("plain", (2, 3, 6, 5), (4, 3, 3, 3), {}),
    ("pad1", (2, 1, 7, 7), (5, 1, 3, 3), dict(padding=1)),
    ("pad_tuple", (1, 2, 5, 6), (3, 2, 3, 2), dict(padding=(2, 1))),
    ("stride2", (2, 2, 8, 7), (3, 2, 3, 3), dict(stride=2)),
    ("stride_tuple_pad", (2, 2, 9, 8), (3, 2, 3, 3), dict(stride=(2, 3), padding=1)),
    ("stride_skips_tail", (1, 2, 8, 8), (2, 2, 2, 2), dict(stride=3)),
    ("dilation2", (2, 2, 9, 9), (3, 2, 3, 3), dict(dilation=2)),
    ("dilation_tuple_pad", (1, 3, 8, 10), (2, 3, 3, 2), dict(dilation=(2, 3), padding=(2, 1))),
    ("same_odd", (2, 3, 6, 7), (4, 3, 3, 3), dict(padding="same")),
    ("same_even_kernel", (2, 2, 6, 5), (3, 2, 4, 2), dict(padding="same")),
    ("same_dilated", (1, 2, 9, 8), (2, 2, 3, 2), dict(padding="same", dilation=(2, 3))),
    ("valid", (2, 2, 5, 5), (3, 2, 3, 3), dict(padding="valid")),
    ("groups2", (2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ("depthwise", (2, 3, 7, 6), (6, 1, 3, 3), dict(groups=3, stride=2, padding=1)),
    (
        "groups_dilation_stride",
        (1, 6, 11, 9),
        (4, 3, 2, 3),
        dict(groups=2, dilation=2, stride=(1, 2)),
    ),
    ("1x1", (3, 5, 4, 4), (2, 5, 1, 1), {}),
    ("kernel_equals_input", (2, 2, 3, 3), (2, 2, 3, 3), {}),
    ("unbatched", (3, 6, 5), (4, 3, 3, 3), dict(padding=1)),
]

CONV1D_CASES = [
    ("plain", (2, 3, 10), (4, 3, 3), {}),
    ("stride_pad", (2, 2, 11), (3, 2, 4), dict(stride=2, padding=2)),
    ("dilation", (1, 2, 12), (2, 2, 3), dict(dilation=3, padding=1)),
    ("same_even", (2, 2, 7), (3, 2, 4), dict(padding="same")),
    ("valid", (2, 2, 7), (3, 2, 4), dict(padding="valid")),
    ("groups", (2, 4, 9), (8, 1, 3), dict(groups=4, padding=1)),
    ("unbatched", (3, 8), (2, 3, 3), dict(stride=2)),
]


def _run_both(ours_fn, torch_fn, x, w, b, options):
    g = RNG.standard_normal(
        torch_fn(
            torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b), **options
        ).shape
    )
    xs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ws = ag.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    bs = (
        (None, None)
        if b is None
        else (ag.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True))
    )
    ours = ours_fn(xs[0], ws[0], bs[0], **options)
    theirs = torch_fn(xs[1], ws[1], bs[1], **options)
    (ours * ag.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12
    )
    for a, t in zip((xs, ws, bs), ("input", "weight", "bias")):
        if a[0] is not None:
            np.testing.assert_allclose(
                a[0].grad.numpy(), a[1].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=t
            )


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize(
    "x_shape, w_shape, options", [c[1:] for c in CONV2D_CASES], ids=[c[0] for c in CONV2D_CASES]
)
def test_conv2d_matches_torch_values_and_gradients(x_shape, w_shape, options, bias, layout):
    b = RNG.standard_normal(w_shape[0]) if bias else None
    _run_both(
        F.conv2d, TF.conv2d, RNG.standard_normal(x_shape), RNG.standard_normal(w_shape), b, options
    )


@pytest.mark.parametrize(
    "x_shape, w_shape, options", [c[1:] for c in CONV1D_CASES], ids=[c[0] for c in CONV1D_CASES]
)
def test_conv1d_matches_torch_values_and_gradients(x_shape, w_shape, options, layout):
    b = RNG.standard_normal(w_shape[0])
    _run_both(
        F.conv1d, TF.conv1d, RNG.standard_normal(x_shape), RNG.standard_normal(w_shape), b, options
    )


def test_conv2d_against_a_direct_numpy_loop():
    # An independent reference for padding, stride, dilation and groups together.
    x, w = RNG.standard_normal((2, 4, 7, 6)), RNG.standard_normal((6, 2, 2, 3))
    stride, pad, dil, groups = (2, 1), (1, 2), (2, 1), 2
    out = F.conv2d(
        ag.tensor(x), ag.tensor(w), stride=stride, padding=pad, dilation=dil, groups=groups
    ).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    expected = np.zeros(out.shape)
    for n in range(2):
        for o in range(6):
            g = o // 3
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    for c in range(2):
                        for p in range(2):
                            for q in range(3):
                                expected[n, o, i, j] += (
                                    w[o, c, p, q]
                                    * xp[
                                        n,
                                        g * 2 + c,
                                        i * stride[0] + p * dil[0],
                                        j * stride[1] + q * dil[1],
                                    ]
                                )
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_float32_stays_float32():
    x = ag.randn(2, 3, 5, 5, requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    out = conv(x)
    out.sum().backward()
    assert (
        out.dtype == ag.float32
        and x.grad.dtype == ag.float32
        and conv.weight.grad.dtype == ag.float32
    )


def test_backward_primitives_are_differentiable_in_every_input():
    # Second order through conv exercises these VJPs only partly; check all of them directly.
    options = dict(stride=(2, 1), padding=((1, 1), (0, 1)), dilation=(1, 2), groups=2)
    x_shape, w_shape = (2, 4, 5, 6), (2, 2, 2, 2)
    x = ag.tensor(RNG.standard_normal(x_shape), requires_grad=True)
    w = ag.tensor(RNG.standard_normal(w_shape), requires_grad=True)
    b = ag.tensor(RNG.standard_normal(w_shape[0]), requires_grad=True)
    out_shape = _convolution(x, w, b, **options).shape  # asymmetric W padding, as 'same' makes
    g = ag.tensor(RNG.standard_normal(out_shape), requires_grad=True)
    assert ag.gradcheck(
        lambda g_, w_: _convolution_input_grad(g_, w_, input_shape=x_shape, **options), (g, w)
    )
    assert ag.gradcheck(
        lambda x_, g_: _convolution_weight_grad(x_, g_, weight_shape=w_shape, **options), (x, g)
    )
    assert ag.gradgradcheck(lambda x_, w_, b_: _convolution(x_, w_, b_, **options), (x, w, b))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_channels=1, out_channels=32, kernel_size=3, padding=1),
        dict(in_channels=2, out_channels=4, kernel_size=(3, 2), stride=2),
        dict(
            in_channels=4,
            out_channels=8,
            kernel_size=3,
            padding="same",
            dilation=2,
            groups=2,
            bias=False,
        ),
        dict(in_channels=3, out_channels=6, kernel_size=3, padding="valid"),
        dict(in_channels=3, out_channels=6, kernel_size=3, padding=1, padding_mode="reflect"),
    ],
)
def test_conv2d_module_repr_and_parameters_match_torch(kwargs):
    ours, theirs = nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    for name in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_conv1d_module_repr_matches_torch():
    for kwargs in [
        dict(in_channels=2, out_channels=3, kernel_size=5),
        dict(in_channels=2, out_channels=4, kernel_size=3, stride=2, padding=1, groups=2),
    ]:
        assert repr(nn.Conv1d(**kwargs)) == repr(torch.nn.Conv1d(**kwargs))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("cls, x_shape", [("Conv2d", (2, 3, 6, 5)), ("Conv1d", (2, 3, 7))])
def test_conv_module_with_weights_loaded_from_torch(cls, x_shape, padding_mode):
    theirs = getattr(torch.nn, cls)(
        3, 4, 3, stride=1, padding=2 if padding_mode == "zeros" else 1, padding_mode=padding_mode
    ).double()
    ours = getattr(nn, cls)(
        3, 4, 3, stride=1, padding=2 if padding_mode == "zeros" else 1, padding_mode=padding_mode
    ).double()
    copy_weights(ours, theirs)
    x = RNG.standard_normal(x_shape)
    xo, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = ours(xo), theirs(xt)
    np.testing.assert_allclose(
        out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12
    )
    (out_o**2).sum().backward()
    (out_t**2).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(
        ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-10
    )


def test_default_init_follows_torch_bounds_and_seed():
    ag.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, groups=2)
    fan_in = 4 * 9
    bound = 1 / math.sqrt(fan_in)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # Uniform on [-bound, bound]: the spread fills the interval (std = bound / sqrt(3)).
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    ag.manual_seed(0)
    assert np.array_equal(nn.Conv2d(8, 16, 3, groups=2).weight.detach().numpy(), w)


def test_conv_unbatched_input_and_shape():
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    assert conv(ag.randn(3, 9, 8)).shape == (5, 5, 4)
    assert nn.Conv1d(2, 4, 3, padding="same")(ag.randn(2, 9)).shape == (4, 9)


ERRORS = [
    (
        "wrong_channels",
        lambda: F.conv2d(ag.randn(2, 4, 5, 5), ag.randn(3, 3, 3, 3)),
        RuntimeError,
        r"conv2d: expected input with 3 channels \(weight \(3, 3, 3, 3\), groups=1\), got input of shape \(2, 4, 5, 5\)",
    ),
    (
        "wrong_ndim",
        lambda: F.conv2d(ag.randn(5, 5), ag.randn(3, 3, 3, 3)),
        RuntimeError,
        r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input \(N, C, H, W\), got shape \(5, 5\)",
    ),
    (
        "weight_ndim",
        lambda: F.conv1d(ag.randn(2, 3, 5), ag.randn(3, 3)),
        RuntimeError,
        r"conv1d: expected a 3-D weight",
    ),
    (
        "same_strided",
        lambda: F.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), stride=2, padding="same"),
        RuntimeError,
        r"padding='same' is not supported for strided convolutions",
    ),
    (
        "bad_padding_string",
        lambda: F.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), padding="full"),
        RuntimeError,
        r"invalid padding string 'full'",
    ),
    (
        "kernel_too_big",
        lambda: F.conv2d(ag.randn(1, 1, 2, 2), ag.randn(1, 1, 3, 3)),
        RuntimeError,
        r"padded input size \(2, 2\) is smaller than the dilated kernel \(3, 3\)",
    ),
    (
        "groups_out",
        lambda: F.conv2d(ag.randn(1, 4, 5, 5), ag.randn(3, 2, 3, 3), groups=2),
        RuntimeError,
        r"out_channels 3 .* must be divisible by groups=2",
    ),
    (
        "bias_shape",
        lambda: F.conv2d(ag.randn(1, 1, 5, 5), ag.randn(2, 1, 3, 3), ag.randn(3)),
        RuntimeError,
        r"expected bias of shape \(2,\), got \(3,\)",
    ),
    (
        "negative_padding",
        lambda: F.conv2d(ag.randn(1, 1, 5, 5), ag.randn(1, 1, 3, 3), padding=-1),
        ValueError,
        r"padding must be ints >= 0",
    ),
    (
        "int_input",
        lambda: F.conv2d(ag.ones(1, 1, 5, 5, dtype=ag.int64), ag.randn(1, 1, 3, 3)),
        RuntimeError,
        r"expected floating-point input and weight",
    ),
    (
        "module_channels",
        lambda: nn.Conv2d(1, 32, 3, padding=1)(ag.randn(8, 3, 28, 28)),
        RuntimeError,
        r"Conv2d\(1, 32, kernel_size=\(3, 3\), stride=\(1, 1\), padding=\(1, 1\)\): expected input of shape \(N, 1, H, W\) or \(1, H, W\) with 1 channels, got \(8, 3, 28, 28\)",
    ),
    (
        "module_ndim",
        lambda: nn.Conv1d(2, 3, 3)(ag.randn(2)),
        RuntimeError,
        r"Conv1d\(2, 3, kernel_size=\(3,\), stride=\(1,\)\): expected input of shape \(N, 2, L\)",
    ),
    (
        "module_groups",
        lambda: nn.Conv2d(3, 4, 3, groups=2),
        ValueError,
        r"in_channels \(3\) must be divisible by groups \(2\)",
    ),
    (
        "module_same_strided",
        lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"),
        ValueError,
        r"not supported for strided",
    ),
    (
        "module_bad_padding_mode",
        lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"),
        ValueError,
        r"padding_mode must be one of",
    ),
]


test_errors_name_the_problem = error_table(ERRORS)


def test_conv_second_order_matches_torch(layout):
    x, w = RNG.standard_normal((1, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3))
    xo, wo = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (go,) = ag.grad(F.conv2d(xo, wo, stride=2, padding=1).pow(2).sum(), [xo], create_graph=True)
    (gt,) = torch.autograd.grad(
        TF.conv2d(xt, wt, stride=2, padding=1).pow(2).sum(), [xt], create_graph=True
    )
    go.pow(2).sum().backward()
    gt.pow(2).sum().backward()
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_backward_twice_with_retain_graph_reuses_the_columns(layout):
    conv = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    x = ag.randn(2, 2, 5, 5, requires_grad=True)
    out = conv(x)
    assert out.grad_fn.type_name() == "ConvolutionBackward"
    out.sum().backward(retain_graph=True)
    first_w, first_x = conv.weight.grad.numpy().copy(), x.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(conv.weight.grad.numpy(), 2 * first_w, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first_x, rtol=1e-6)


@pytest.mark.parametrize(
    "w_shape, batch_first", [((32, 1, 3, 3), True), ((64, 32, 3, 3), False), ((8, 4, 3, 3), True)]
)
def test_layout_rule_picks_batch_first_for_short_columns(w_shape, batch_first):
    # Short columns (C/G * kernel < 64): memory-bound GEMMs, written in place per sample.
    assert conv_module._batch_first(w_shape) is batch_first


def test_layouts_agree_on_a_real_size_layer(monkeypatch):
    x, w = ag.randn(4, 16, 9, 9, dtype=ag.float64), ag.randn(8, 16, 3, 3, dtype=ag.float64)
    g = ag.randn(4, 8, 9, 9, dtype=ag.float64)
    results = []
    for batch_first in (True, False):
        monkeypatch.setattr(conv_module, "_batch_first", lambda shape, b=batch_first: b)
        xs, ws = x.detach().requires_grad_(), w.detach().requires_grad_()
        out = F.conv2d(xs, ws, padding=1)
        out.backward(g)
        results.append([out.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_mixed_float32_float64_inputs_raise_as_torch():
    with pytest.raises(RuntimeError, match="conv2d: expected input and weight to have the same "
                                           "dtype, but got Float and Double"):  # fmt: skip
        F.conv2d(ag.randn(1, 2, 4, 4), ag.randn(3, 2, 3, 3, dtype=ag.float64))


def test_large_batches_build_their_columns_in_chunks(layout, monkeypatch):
    # Above the budget the forward keeps no columns and every pass works a chunk of samples
    # at a time (memory bounded at evaluation's batch 1000); the results must not change.
    monkeypatch.setattr(columns_module, "_KEEP_COLUMNS_BYTES", 1024)
    monkeypatch.setattr(columns_module, "_CHUNK_BYTES", 3000)
    x, w = RNG.standard_normal((7, 4, 9, 8)), RNG.standard_normal((6, 2, 3, 3))
    xo, wo = ag.tensor(x, requires_grad=True), ag.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = F.conv2d(xo, wo, stride=(2, 1), padding=1, groups=2)
    assert "residuals" not in [name for name, _ in out.grad_fn.saved_items()]  # no columns
    out.pow(2).sum().backward()
    TF.conv2d(xt, wt, stride=(2, 1), padding=1, groups=2).pow(2).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), TF.conv2d(xt, wt, stride=(2, 1), padding=1,
                               groups=2).detach().numpy(), rtol=1e-12, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x_shape, w_shape, options",
    [
        ((4, 16, 9, 9), (8, 16, 3, 3), dict(padding=1)),
        ((2, 8, 9, 7), (4, 4, 3, 2), dict(padding=(2, 1), dilation=(2, 1), groups=2)),
        ((3, 6, 11), (4, 3, 3), dict(padding=2, dilation=2, groups=2)),
        # The grid's extent per dim (_grid_extent): padding shared between rows (pad + in),
        # uneven 'same' padding (need - pad), padding wider than the kernel (out), none.
        ((3, 5, 6, 5), (4, 5, 2, 3), dict(padding="same")),
        ((2, 2, 4, 3), (3, 2, 2, 2), dict(padding=3)),
        ((2, 3, 5, 6), (2, 3, 3, 3), dict(padding=(0, 1))),
        ((2, 3, 7), (2, 3, 4), dict(padding="same", dilation=2)),
    ],
)
def test_input_gradient_on_the_padded_grid_equals_col2im(monkeypatch, x_shape, w_shape, options):
    # Stride-1 channels-first input gradients add shifted rows of a padded grid; the plain
    # col2im gives the same sums (the NumPy path: the compiled col2im takes neither).
    monkeypatch.setattr(numba_backend, "enabled", False)
    monkeypatch.setattr(conv_module, "_batch_first", lambda weight_shape: False)
    x, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    conv = F.conv2d if len(x_shape) == 4 else F.conv1d
    g = RNG.standard_normal(conv(ag.tensor(x), ag.tensor(w), **options).shape)
    grads = []
    for on_grid in (True, False):
        monkeypatch.setattr(columns_module, "_grid_pays", lambda window, rows, b=on_grid: b)
        xs = ag.tensor(x, requires_grad=True)
        conv(xs, ag.tensor(w), **options).backward(ag.tensor(g))
        grads.append(xs.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    (TF.conv2d if len(x_shape) == 4 else TF.conv1d)(xt, torch.tensor(w), **options).backward(
        torch.tensor(g)
    )
    np.testing.assert_allclose(grads[0], xt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_the_grid_shares_padding_between_rows():
    # The CNN's 14x14 plane padded by 1: the bottom/right padding of one row (sample) and the
    # top/left padding of the next are one cell, so the grid is 15x15 rather than 16x16.
    window = conv_module._window_for((64, 16, 14, 14), (32, 16, 3, 3), (1, 1), ((1, 1), (1, 1)),
                                     (1, 1))  # fmt: skip
    assert columns_module._grid_extent(window) == (15, 15)
    assert columns_module._grid_pays(window, 32)


def test_infinite_weights_keep_the_plain_col2im(monkeypatch):
    # On the grid, positions outside the output would add W^T 0 = nan for an infinite weight.
    monkeypatch.setattr(numba_backend, "enabled", False)
    monkeypatch.setattr(conv_module, "_batch_first", lambda weight_shape: False)
    x = ag.tensor(RNG.standard_normal((2, 4, 5, 5)), requires_grad=True)
    w = RNG.standard_normal((3, 4, 3, 3))
    w[0, 1, 2, 2] = np.inf  # a corner: its shift wraps rows outside the output onto inputs
    F.conv2d(x, ag.tensor(w), padding=1).sum().backward()
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    TF.conv2d(xt, torch.tensor(w), padding=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize(
    "x_shape, w_shape, groups",
    [((3, 16, 6, 5), (8, 16, 3, 3), 1), ((2, 8, 6, 6), (80, 8, 3, 3), 1),
     ((2, 32, 5, 5), (12, 16, 2, 2), 2), ((2, 16, 5, 5), (160, 8, 3, 3), 2)],
)  # fmt: skip
def test_channels_first_weight_gradient_either_product_order(x_shape, w_shape, groups):
    # Channels-first weight gradients take (cols @ grad^T)^T when the columns have more rows
    # than the gradient, else grad @ cols^T: both against PyTorch.
    assert not conv_module._batch_first(w_shape)
    x, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    g = RNG.standard_normal(TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1,
                                      groups=groups).shape)  # fmt: skip
    wo = ag.tensor(w, requires_grad=True)
    F.conv2d(ag.tensor(x), wo, padding=1, groups=groups).backward(ag.tensor(g))
    wt = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x), wt, padding=1, groups=groups).backward(torch.tensor(g))
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert wo.grad.numpy().flags.c_contiguous
