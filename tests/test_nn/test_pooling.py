"""Pooling against PyTorch: values, indices, input gradients, module reprs and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import error_table, import_torch

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(11)


def _compare(ours_fn, torch_fn, x, multi_output=False):
    xo, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = ours_fn(xo), torch_fn(xt)
    if multi_output:
        (ours, ours_idx), (theirs, theirs_idx) = ours, theirs
        np.testing.assert_array_equal(ours_idx.numpy(), theirs_idx.numpy())
        assert ours_idx.dtype == ag.int64
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12
    )
    g = RNG.standard_normal(tuple(theirs.shape))
    (ours * ag.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def _valid_max_configs():
    configs = []
    for k, s, p, d, c in itertools.product(
        [1, 2, 3, (2, 3)], [None, 1, 2, (3, 1)], [0, 1, (1, 0)], [1, 2, (1, 2)], [False, True]
    ):
        kernel = (k, k) if isinstance(k, int) else k
        pads = (p, p) if isinstance(p, int) else p
        if all(pp <= kk // 2 for pp, kk in zip(pads, kernel)):
            configs.append((k, s, p, d, c))
    return configs


MAX_CONFIGS = _valid_max_configs()


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_CONFIGS)
def test_max_pool2d_matches_torch_with_indices(kernel, stride, padding, dilation, ceil_mode):
    x = RNG.standard_normal((2, 3, 8, 7))
    options = dict(
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        return_indices=True,
    )
    _compare(
        lambda t: F.max_pool2d(t, **options),
        lambda t: TF.max_pool2d(t, **options),
        x,
        multi_output=True,
    )


@pytest.mark.parametrize(
    "kernel, stride, padding, dilation, ceil_mode",
    [
        (2, None, 0, 1, False),
        (3, 2, 1, 1, True),
        (3, 1, 1, 2, False),
        (4, 3, 2, 1, True),
        (2, 3, 1, 3, True),
    ],
)
def test_max_pool1d_matches_torch(kernel, stride, padding, dilation, ceil_mode):
    options = dict(
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        return_indices=True,
    )
    _compare(
        lambda t: F.max_pool1d(t, **options),
        lambda t: TF.max_pool1d(t, **options),
        RNG.standard_normal((2, 3, 11)),
        multi_output=True,
    )


def test_max_pool_unbatched_and_modules():
    x = RNG.standard_normal((3, 7, 6))
    _compare(nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), x)
    _compare(nn.MaxPool1d(2), torch.nn.MaxPool1d(2), RNG.standard_normal((4, 9)))
    _compare(
        nn.MaxPool2d(2, return_indices=True),
        torch.nn.MaxPool2d(2, return_indices=True),
        x,
        multi_output=True,
    )


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = 5.0  # a tie across overlapping windows
    _compare(
        lambda t: F.max_pool2d(t, 2, 1, return_indices=True),
        lambda t: TF.max_pool2d(t, 2, 1, return_indices=True),
        x,
        multi_output=True,
    )
    _compare(
        lambda t: F.max_pool2d(t, 3, 2, 1),
        lambda t: TF.max_pool2d(t, 3, 2, 1),
        np.ones((2, 2, 5, 5)),
    )


def test_max_pool_overlapping_windows_accumulate_gradient():
    x = ag.tensor([[[0.0, 9.0, 1.0, 2.0]]], requires_grad=True)
    F.max_pool1d(x, 3, stride=1).sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0, 0.0]]]


def test_max_pool_propagates_nan_and_infinities():
    x = torch.tensor(
        [
            [
                [[1.0, float("nan")], [3.0, 2.0]],
                [[-float("inf"), -float("inf")], [-float("inf"), 1.0]],
            ]
        ]
    )
    ours = F.max_pool2d(ag.tensor(x.numpy()), 2).numpy()
    np.testing.assert_array_equal(ours, TF.max_pool2d(x, 2).numpy())


def test_max_pool_second_order_through_the_gather_scatter_pair():
    x = ag.tensor(RNG.permutation(36).reshape(1, 1, 6, 6) / 7.0, requires_grad=True)
    assert ag.gradgradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True) ** 2, (x,))


AVG_CONFIGS = [
    (k, s, p, c, cip, dov)
    for k, s, p, c, cip, dov in itertools.product(
        [1, 2, 3, (3, 2)], [None, 1, 2, (2, 3)], [0, 1], [False, True], [False, True], [None, 3]
    )
    if all(p <= kk // 2 for kk in ((k, k) if isinstance(k, int) else k))
]


@pytest.mark.parametrize(
    "kernel, stride, padding, ceil_mode, count_include_pad, divisor_override", AVG_CONFIGS
)
def test_avg_pool2d_matches_torch(
    kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    options = dict(
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )
    _compare(
        lambda t: F.avg_pool2d(t, **options),
        lambda t: TF.avg_pool2d(t, **options),
        RNG.standard_normal((2, 2, 7, 8)),
    )


@pytest.mark.parametrize(
    "kernel, stride, padding, ceil_mode, count_include_pad",
    list(itertools.product([2, 3], [None, 2], [0, 1], [False, True], [False, True])),
)
def test_avg_pool1d_matches_torch(kernel, stride, padding, ceil_mode, count_include_pad):
    options = dict(
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )
    _compare(
        lambda t: F.avg_pool1d(t, **options),
        lambda t: TF.avg_pool1d(t, **options),
        RNG.standard_normal((2, 3, 9)),
    )


def test_avg_pool_ceil_window_wholly_in_padding_is_zero_like_torch():
    options = dict(kernel_size=2, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    _compare(
        lambda t: F.avg_pool2d(t, **options),
        lambda t: TF.avg_pool2d(t, **options),
        RNG.standard_normal((1, 1, 4, 4)),
    )


@pytest.mark.parametrize(
    "shape, output_size",
    [
        ((2, 3, 7, 6), (3, 4)),
        ((3, 5, 5), 2),
        ((2, 3, 7, 6), (None, 4)),
        ((1, 2, 10, 9), (7, 7)),
        ((2, 2, 4, 4), 1),
        ((1, 1, 3, 3), (5, 6)),
    ],
)
def test_adaptive_avg_pool2d_matches_torch(shape, output_size):
    _compare(
        lambda t: F.adaptive_avg_pool2d(t, output_size),
        lambda t: TF.adaptive_avg_pool2d(t, output_size),
        RNG.standard_normal(shape),
    )


@pytest.mark.parametrize("shape, output_size", [((2, 3, 10), 3), ((3, 7), 4), ((1, 2, 5), 5)])
def test_adaptive_avg_pool1d_matches_torch(shape, output_size):
    _compare(
        lambda t: F.adaptive_avg_pool1d(t, output_size),
        lambda t: TF.adaptive_avg_pool1d(t, output_size),
        RNG.standard_normal(shape),
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.MaxPool2d(2),
        lambda lib: lib.MaxPool2d(
            (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True
        ),
        lambda lib: lib.MaxPool1d(3, stride=2, padding=1),
        lambda lib: lib.AvgPool2d(3, padding=1),
        lambda lib: lib.AvgPool2d((2, 3), stride=1, ceil_mode=True, count_include_pad=False),
        lambda lib: lib.AvgPool1d(4, stride=2),
        lambda lib: lib.AdaptiveAvgPool2d((1, 1)),
        lambda lib: lib.AdaptiveAvgPool2d(5),
        lambda lib: lib.AdaptiveAvgPool2d((None, 3)),
        lambda lib: lib.AdaptiveAvgPool1d(4),
    ],
)
def test_module_repr_and_output_match_torch(build):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == []
    shape = (2, 3, 9) if "1d" in type(ours).__name__ else (2, 3, 9, 8)
    _compare(ours, theirs, RNG.standard_normal(shape))


def test_float32_stays_float32():
    x = ag.randn(2, 3, 6, 6, requires_grad=True)
    for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 1, 1), F.adaptive_avg_pool2d(x, 4)):
        assert out.dtype == ag.float32
        (grad,) = ag.grad(out.sum(), [x])
        assert grad.dtype == ag.float32


ERRORS = [
    (
        "pad_too_big",
        lambda: F.max_pool2d(ag.randn(1, 1, 5, 5), 2, padding=2),
        RuntimeError,
        r"max_pool2d: padding \(2, 2\) must be at most half of the kernel size \(2, 2\)",
    ),
    (
        "avg_pad_too_big",
        lambda: F.avg_pool2d(ag.randn(1, 1, 5, 5), 3, padding=2),
        RuntimeError,
        r"avg_pool2d: padding \(2, 2\) must be at most half of the kernel size \(3, 3\)",
    ),
    (
        "output_too_small",
        lambda: F.max_pool2d(ag.randn(1, 1, 2, 2), 3),
        RuntimeError,
        r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small for kernel \(3, 3\)",
    ),
    (
        "wrong_ndim",
        lambda: F.max_pool2d(ag.randn(4, 4), 2),
        RuntimeError,
        r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input \(N, C, H, W\), got shape \(4, 4\)",
    ),
    (
        "wrong_ndim_1d",
        lambda: F.avg_pool1d(ag.randn(1, 2, 3, 4), 2),
        RuntimeError,
        r"avg_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input \(N, C, L\)",
    ),
    (
        "int_input",
        lambda: F.max_pool2d(ag.ones(1, 1, 4, 4, dtype=ag.int64), 2),
        RuntimeError,
        r"expected a floating-point input, got dtype int64",
    ),
    (
        "zero_kernel",
        lambda: F.max_pool2d(ag.randn(1, 1, 4, 4), 0),
        ValueError,
        r"kernel_size must be ints >= 1",
    ),
    (
        "bad_kernel_type",
        lambda: F.avg_pool2d(ag.randn(1, 1, 4, 4), (2, 2, 2)),
        TypeError,
        r"kernel_size must be an int or a tuple of 2 ints",
    ),
    (
        "adaptive_ndim",
        lambda: F.adaptive_avg_pool2d(ag.randn(4, 4), 2),
        RuntimeError,
        r"expected a 3-D or 4-D input",
    ),
    (
        "adaptive_size",
        lambda: F.adaptive_avg_pool2d(ag.randn(1, 4, 4), (0, 2)),
        ValueError,
        r"output_size must be positive",
    ),
]


test_errors_name_the_problem = error_table(ERRORS)


@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("shape, kernel", [((3, 4, 6, 8), 2), ((2, 3, 6, 6), (3, 2)), ((2, 3, 12), 4)])
def test_tiling_windows_match_the_general_loop(monkeypatch, shape, kernel, nan):
    # Windows that tile the input take one transposing copy and contiguous passes; ties (small
    # integers) go to the first maximum and a NaN max to the general loop, as before.
    from nn import _max_pool, pooling

    x = RNG.integers(-2, 3, size=shape).astype(np.float64)
    if nan:
        x.reshape(-1)[5] = np.nan
    window = pooling._pool_window("max_pool", shape, len(shape) - 2, kernel, None, 0, 1, False)
    tiled = _max_pool._max_pool_forward(x, window)
    monkeypatch.setattr(_max_pool, "_tiles", lambda window: False)
    general = _max_pool._max_pool_forward(x, window)
    np.testing.assert_array_equal(tiled[0], general[0])
    np.testing.assert_array_equal(tiled[1], general[1])
    assert tiled[1].dtype == general[1].dtype
