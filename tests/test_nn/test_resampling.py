"""ConvTranspose1d/2d, Unfold/Fold, Upsample/interpolate and adaptive max pooling against
PyTorch: float64 values and gradients (weights copied), options, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import assert_close, error_table, import_torch, module_parity, pair

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(5)


def _x(*shape):
    return np.asarray(RNG.standard_normal(shape))


def _functional_parity(name, arrays, rtol=1e-11, **kwargs):
    """``F.<name>`` and ``torch.nn.functional.<name>`` on the same float64 inputs, with gradients."""
    ours_in, theirs_in = zip(*(pair(a) for a in arrays))
    out = getattr(F, name)(*ours_in, **kwargs)
    out_t = getattr(TF, name)(*theirs_in, **kwargs)
    assert_close(out, out_t, rtol=rtol, atol=1e-12, msg=f"{name} values")
    g = _x(*out_t.shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    for k, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b is not None and b.requires_grad:
            assert_close(a.grad, b.grad, rtol=rtol, atol=1e-12, msg=f"{name} gradient of input {k}")
    return out


CONV_TRANSPOSE = [
    (1, (2, 4, 5), (4, 3, 3), {}),
    (1, (2, 4, 5), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    (1, (4, 6), (4, 2, 2), {"groups": 2, "dilation": 2, "stride": 3}),
    (1, (1, 2, 3), (2, 1, 3), {"output_padding": 1, "dilation": 2}),
    (2, (2, 4, 5, 6), (4, 2, 3, 2), {"stride": (2, 3), "padding": (1, 2), "output_padding": (1, 0), "groups": 2, "dilation": (1, 2)}),
    (2, (4, 5, 6), (4, 3, 3, 3), {"padding": 1}),
    (2, (2, 3, 4, 4), (3, 5, 4, 4), {"stride": 2, "padding": 1}),
    (2, (1, 2, 3, 3), (2, 2, 1, 1), {"stride": 2, "output_padding": 1}),
]  # fmt: skip


@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs", CONV_TRANSPOSE)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose_functional_matches_pytorch(dims, x_shape, w_shape, kwargs, bias):
    groups = kwargs.get("groups", 1)
    arrays = [_x(*x_shape), _x(*w_shape), _x(w_shape[1] * groups) if bias else None]
    _functional_parity(f"conv_transpose{dims}d", arrays, **kwargs)


@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs", CONV_TRANSPOSE)
def test_conv_transpose_module_matches_pytorch(dims, x_shape, w_shape, kwargs):
    groups = kwargs.get("groups", 1)
    cls = f"ConvTranspose{dims}d"
    module_parity(lambda lib: getattr(lib, cls)(w_shape[0], w_shape[1] * groups, w_shape[2:], **kwargs),
                  [_x(*x_shape)], rtol=1e-11)  # fmt: skip


def test_conv_transpose_is_the_adjoint_of_conv():
    x, w = ag.tensor(_x(2, 3, 6, 7)), ag.tensor(_x(4, 3, 3, 3))
    y = ag.tensor(_x(2, 4, 3, 4))
    # <conv(x), y> = <x, conv_transpose(y)> for the same weight and geometry.
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=(1, 0))).sum()
    np.testing.assert_allclose(lhs.item(), rhs.item(), rtol=1e-12)


def test_conv_transpose_second_order():
    from autograd.gradcheck import gradgradcheck

    x = ag.tensor(_x(1, 2, 3, 3), requires_grad=True)
    w = ag.tensor(_x(2, 2, 2, 2), requires_grad=True)
    assert gradgradcheck(lambda a, b: F.conv_transpose2d(a, b, stride=2, output_padding=1), (x, w))


@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transpose_output_size(dims):
    def build(lib):
        return getattr(lib, f"ConvTranspose{dims}d")(3, 4, 3, stride=2, padding=1)

    x = _x(*(2, 3) + (5,) * dims)
    module_parity(build, [x], forward=lambda m, t: m(t, output_size=[10] * dims), rtol=1e-11)
    ours = build(nn)
    x32 = ag.tensor(x.astype(np.float32))
    assert ours(x32, output_size=[2, 4] + [10] * dims).shape == (2, 4) + (10,) * dims
    with pytest.raises(ValueError, match=r"requested an output size of \[12"):
        ours(x32, output_size=[12] * dims)


def test_conv_transpose_repr_and_parameters():
    for build in (lambda lib: lib.ConvTranspose2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2)),
                  lambda lib: lib.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1, groups=2, bias=False, dilation=2)):
        assert repr(build(nn)) == repr(build(torch.nn))
        assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())
        assert [p.shape for p in build(nn).parameters()] == [tuple(p.shape) for p in build(torch.nn).parameters()]


def test_conv_transpose_initialisation_bounds():
    layer = nn.ConvTranspose2d(8, 4, 3)
    fan_in = 4 * 9  # PyTorch's fan_in of a (in, out, k, k) weight is out * k * k
    assert np.abs(layer.weight.detach().numpy()).max() <= 1 / np.sqrt(fan_in) + 1e-7
    assert np.abs(layer.bias.detach().numpy()).max() <= 1 / np.sqrt(fan_in) + 1e-7


FOLDS = [
    ((2, 3, 5, 6), {"kernel_size": (2, 3), "dilation": (1, 2), "padding": (1, 0), "stride": (2, 1)}),
    ((3, 4, 4), {"kernel_size": 2}),
    ((1, 2, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 1, 4, 4), {"kernel_size": 4}),
]


@pytest.mark.parametrize("shape,kwargs", FOLDS)
def test_unfold_and_fold_match_pytorch(shape, kwargs):
    cols = _functional_parity("unfold", [_x(*shape)], **kwargs)
    _functional_parity("fold", [_x(*cols.shape)], output_size=shape[-2:], **kwargs)
    module_parity(lambda lib: lib.Unfold(**kwargs), [_x(*shape)])
    module_parity(lambda lib: lib.Fold(shape[-2:], **kwargs), [_x(*cols.shape)])


def test_fold_of_unfold_counts_the_blocks_and_reprs():
    x = ag.ones(1, 1, 3, 3)
    np.testing.assert_array_equal(F.fold(F.unfold(x, 2), (3, 3), 2).numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    for build in (lambda lib: lib.Unfold(2), lambda lib: lib.Fold((4, 5), 2),
                  lambda lib: lib.Unfold((2, 3), dilation=2, padding=1, stride=2)):
        assert repr(build(nn)) == repr(build(torch.nn))


INTERPOLATIONS = [
    ((2, 3, 5), {"scale_factor": 1.5}),
    ((2, 3, 5), {"size": 7}),
    ((2, 3, 5), {"size": 3, "mode": "linear"}),
    ((2, 3, 5), {"scale_factor": 2.5, "mode": "linear", "align_corners": True}),
    ((1, 2, 4, 5), {"scale_factor": 2}),
    ((1, 2, 4, 5), {"size": (7, 3), "mode": "bilinear"}),
    ((1, 2, 4, 5), {"size": (7, 3), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 4, 5), {"scale_factor": (1.7, 0.6), "mode": "bilinear"}),
    ((1, 2, 4, 5), {"scale_factor": (1.7, 0.6), "mode": "nearest-exact"}),
    ((1, 2, 4, 5), {"scale_factor": 3, "mode": "nearest"}),
    ((1, 2, 4, 5), {"size": (3, 2), "mode": "area"}),
    ((2, 3, 6), {"scale_factor": 0.5, "mode": "area"}),
    ((1, 2, 3, 4, 2), {"scale_factor": 2, "mode": "trilinear"}),
    ((1, 2, 3, 4, 2), {"size": (5, 1, 3), "mode": "nearest"}),
    ((1, 2, 4, 5), {"scale_factor": 1.3, "mode": "bilinear", "recompute_scale_factor": True}),
    ((1, 1, 7, 7), {"scale_factor": 0.3}),
    ((1, 1, 13, 13), {"scale_factor": 1 / 3}),
    ((1, 1, 1, 1), {"size": (3, 4), "mode": "bilinear", "align_corners": True}),
]


@pytest.mark.parametrize("shape,kwargs", INTERPOLATIONS)
def test_interpolate_matches_pytorch(shape, kwargs):
    _functional_parity("interpolate", [_x(*shape)], **kwargs)


@pytest.mark.parametrize("shape,kwargs", INTERPOLATIONS[:14])
def test_interpolate_float32_matches_pytorch(shape, kwargs):
    x = _x(*shape).astype(np.float32)
    out = F.interpolate(ag.tensor(x), **kwargs)
    assert out.dtype == ag.float32
    assert_close(out, TF.interpolate(torch.from_numpy(x), **kwargs), rtol=1e-5, atol=1e-6)


def test_upsample_modules_match_pytorch():
    cases = [
        lambda lib: lib.Upsample(scale_factor=2),
        lambda lib: lib.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
        lambda lib: lib.Upsample(scale_factor=(2, 3)),
        lambda lib: lib.Upsample(scale_factor=1.5, mode="bilinear"),
        lambda lib: lib.UpsamplingNearest2d(scale_factor=2),
        lambda lib: lib.UpsamplingBilinear2d(size=4),
    ]
    for build in cases:
        assert repr(build(nn)) == repr(build(torch.nn))
        module_parity(build, [_x(2, 3, 3, 2)], rtol=1e-11)


def test_deprecated_upsample_functions_warn_and_resize():
    x = ag.ones(1, 1, 2, 2)
    with pytest.warns(UserWarning, match="upsample is deprecated"):
        assert F.upsample(x, scale_factor=2).shape == (1, 1, 4, 4)
    with pytest.warns(UserWarning, match="deprecated"):
        assert F.upsample_nearest(x, size=3).shape == (1, 1, 3, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        assert F.upsample_bilinear(x, size=(3, 5)).shape == (1, 1, 3, 5)


ADAPTIVE = [
    (1, (2, 3, 5), 3), (1, (3, 7), 4), (1, (2, 3, 5), 5), (1, (2, 3, 3), 7),
    (2, (2, 3, 4, 5), (2, 3)), (2, (3, 7, 6), (3, 4)), (2, (1, 2, 5, 5), (5, None)),
    (2, (1, 2, 5, 3), (8, 2)), (2, (1, 1, 4, 4), 1),
]  # fmt: skip


@pytest.mark.parametrize("dims,shape,size", ADAPTIVE)
@pytest.mark.parametrize("ties", [False, True])
def test_adaptive_max_pool_matches_pytorch(dims, shape, size, ties):
    x = _x(*shape)
    if ties:
        x = np.round(x)  # the gradient goes to the first maximum of each bin, as PyTorch
    (a, a_t) = pair(x)
    out, index = getattr(F, f"adaptive_max_pool{dims}d")(a, size, return_indices=True)
    out_t, index_t = getattr(TF, f"adaptive_max_pool{dims}d")(a_t, size, return_indices=True)
    assert_close(out, out_t)
    np.testing.assert_array_equal(index.numpy(), index_t.numpy())
    assert index.dtype == ag.int64
    g = _x(*out_t.shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    assert_close(a.grad, a_t.grad)
    module_parity(lambda lib: getattr(lib, f"AdaptiveMaxPool{dims}d")(size), [_x(*shape)])


def test_adaptive_max_pool_modules():
    for build in (lambda lib: lib.AdaptiveMaxPool2d((2, 3)), lambda lib: lib.AdaptiveMaxPool1d(3, return_indices=True)):
        assert repr(build(nn)) == repr(build(torch.nn))
    values, indices = nn.AdaptiveMaxPool1d(2, return_indices=True)(ag.tensor([[[1.0, 5.0, 2.0, 4.0]]]))
    assert values.tolist() == [[[5.0, 4.0]]] and indices.tolist() == [[[1, 3]]]


ERRORS = [
    ("conv_transpose_output_padding", lambda: F.conv_transpose2d(ag.ones(1, 2, 3, 3), ag.ones(2, 1, 3, 3), stride=2, output_padding=2),
     RuntimeError, "output padding must be smaller than either stride or dilation"),
    ("conv_transpose_padding_mode", lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    ("conv_transpose_channels", lambda: F.conv_transpose2d(ag.ones(1, 3, 3, 3), ag.ones(2, 1, 3, 3)), RuntimeError,
     r"expected input \[1, 3, 3, 3\] to have 2 channels, but got 3 channels instead"),
    ("conv_transpose_dtype", lambda: F.conv_transpose2d(ag.ones(1, 2, 3, 3, dtype=ag.float64), ag.ones(2, 1, 3, 3)), RuntimeError,
     "Double and Float"),
    ("conv_transpose_too_small", lambda: F.conv_transpose2d(ag.ones(1, 2, 1, 1), ag.ones(2, 1, 1, 1), padding=1), RuntimeError,
     "Output size is too small"),
    ("conv_transpose_rank", lambda: F.conv_transpose1d(ag.ones(2, 3, 4, 5), ag.ones(3, 1, 2)), RuntimeError, "expected a 2-D .* or 3-D"),
    ("unfold_rank", lambda: F.unfold(ag.ones(5, 5), 2), RuntimeError, "unfold: Expected 3D .* or 4D"),
    ("unfold_too_small", lambda: F.unfold(ag.ones(1, 3, 5, 5), 6), RuntimeError,
     r"calculated shape of the array of sliding blocks as \(0, 0\), but its components must be at least one"),
    ("fold_blocks", lambda: F.fold(ag.ones(1, 12, 10), (4, 5), 2), RuntimeError,
     r"expected size of input's dimension 2 to match the calculated number of sliding blocks 3 \* 4 = 12, but got input.size\(2\)=10"),
    ("fold_kernel", lambda: F.fold(ag.ones(1, 5, 12), (4, 5), 2), RuntimeError,
     r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size\(1\)=5"),
    ("fold_rank", lambda: F.fold(ag.ones(1, 12, 12, 1), (4, 5), 2), RuntimeError, "Expected 2D or 3D"),
    ("interpolate_both", lambda: F.interpolate(ag.ones(1, 1, 4), size=2, scale_factor=2.0), ValueError,
     "only one of size or scale_factor should be defined"),
    ("interpolate_neither", lambda: F.interpolate(ag.ones(1, 1, 4)), ValueError, "either size or scale_factor should be defined"),
    ("interpolate_align_nearest", lambda: F.interpolate(ag.ones(1, 1, 4), size=2, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    ("interpolate_bilinear_3d", lambda: F.interpolate(ag.ones(1, 1, 4), size=2, mode="bilinear"), NotImplementedError,
     "Got 3D input, but bilinear mode needs 4D input"),
    ("interpolate_linear_4d", lambda: F.interpolate(ag.ones(1, 1, 4, 4), size=2, mode="linear"), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input"),
    ("interpolate_size_length", lambda: F.interpolate(ag.ones(1, 1, 4), size=(2, 2)), ValueError,
     "Input and output must have the same number of spatial dimensions"),
    ("interpolate_rank", lambda: F.interpolate(ag.ones(4, 4), size=2), NotImplementedError, "Only 3D, 4D and 5D input Tensors supported"),
    ("adaptive_max_rank", lambda: F.adaptive_max_pool2d(ag.ones(2, 3), 2), RuntimeError, r"Expected 3D or 4D tensor, but got: \[2, 3\]"),
    ("adaptive_max_int", lambda: F.adaptive_max_pool2d(ag.ones(2, 3, 4, 5, dtype=ag.int64), 2), NotImplementedError, "not implemented"),
]  # fmt: skip

test_errors_name_the_problem = error_table(ERRORS)

TORCH_ERRORS = {
    "conv_transpose_output_padding": lambda: TF.conv_transpose2d(torch.ones(1, 2, 3, 3), torch.ones(2, 1, 3, 3), stride=2, output_padding=2),
    "conv_transpose_padding_mode": lambda: torch.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
    "conv_transpose_channels": lambda: TF.conv_transpose2d(torch.ones(1, 3, 3, 3), torch.ones(2, 1, 3, 3)),
    "conv_transpose_dtype": lambda: TF.conv_transpose2d(torch.ones(1, 2, 3, 3, dtype=torch.float64), torch.ones(2, 1, 3, 3)),
    "conv_transpose_too_small": lambda: TF.conv_transpose2d(torch.ones(1, 2, 1, 1), torch.ones(2, 1, 1, 1), padding=1),
    "unfold_too_small": lambda: TF.unfold(torch.ones(1, 3, 5, 5), 6),
    "fold_blocks": lambda: TF.fold(torch.ones(1, 12, 10), (4, 5), 2),
    "fold_kernel": lambda: TF.fold(torch.ones(1, 5, 12), (4, 5), 2),
    "fold_rank": lambda: TF.fold(torch.ones(1, 12, 12, 1), (4, 5), 2),
    "interpolate_both": lambda: TF.interpolate(torch.ones(1, 1, 4), size=2, scale_factor=2.0),
    "interpolate_neither": lambda: TF.interpolate(torch.ones(1, 1, 4)),
    "interpolate_align_nearest": lambda: TF.interpolate(torch.ones(1, 1, 4), size=2, align_corners=True),
    "interpolate_bilinear_3d": lambda: TF.interpolate(torch.ones(1, 1, 4), size=2, mode="bilinear"),
    "interpolate_linear_4d": lambda: TF.interpolate(torch.ones(1, 1, 4, 4), size=2, mode="linear"),
    "interpolate_size_length": lambda: TF.interpolate(torch.ones(1, 1, 4), size=(2, 2)),
    "adaptive_max_rank": lambda: TF.adaptive_max_pool2d(torch.ones(2, 3), 2),
    "adaptive_max_int": lambda: TF.adaptive_max_pool2d(torch.ones(2, 3, 4, 5, dtype=torch.int64), 2),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(TORCH_ERRORS))
def test_pytorch_raises_the_same_exception_type(case):
    expected = next(row[2] for row in ERRORS if row[0] == case)
    with pytest.raises(expected):
        TORCH_ERRORS[case]()
