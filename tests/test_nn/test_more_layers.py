"""GroupNorm, channel dropout, Bilinear, distances, gumbel_softmax, ParameterList/Dict against
PyTorch: float64 values and gradients with copied weights, reprs, and the errors PyTorch raises."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import assert_close, error_table, import_torch, module_parity, pair

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(11)


def _x(*shape, scale=1.0):
    return np.asarray(RNG.standard_normal(shape) * scale)


@pytest.mark.parametrize("groups,channels,shape,kwargs", [
    (2, 6, (3, 6, 5), {}),
    (3, 6, (2, 6, 2, 3), {"eps": 1e-3}),
    (1, 4, (2, 4), {}),
    (4, 4, (2, 4, 3), {}),
    (2, 4, (2, 4, 2, 2, 2), {"affine": False}),
    (2, 6, (3, 6, 5), {"bias": False}),
])  # fmt: skip
def test_group_norm_matches_pytorch(groups, channels, shape, kwargs):
    module_parity(lambda lib: lib.GroupNorm(groups, channels, **kwargs), [_x(*shape, scale=2) + 1])


def test_group_norm_functional_and_repr():
    x, x_t = pair(_x(2, 6, 4))
    w, w_t = pair(_x(6))
    out, out_t = F.group_norm(x, 3, w, None, 1e-4), TF.group_norm(x_t, 3, w_t, None, 1e-4)
    assert_close(out, out_t)
    g = _x(2, 6, 4)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad)
    assert_close(w.grad, w_t.grad)
    for build in (lambda lib: lib.GroupNorm(2, 6), lambda lib: lib.GroupNorm(3, 6, eps=1e-3, affine=False)):
        assert repr(build(nn)) == repr(build(torch.nn))


def test_group_norm_second_order():
    from autograd.gradcheck import gradgradcheck

    x = ag.tensor(_x(2, 4, 3), requires_grad=True)
    w = ag.tensor(_x(4), requires_grad=True)
    assert gradgradcheck(lambda a, b: F.group_norm(a, 2, b), (x, w))


@pytest.mark.parametrize("p,dim,shape", [(2.0, 1, (3, 4)), (1.0, 0, (3, 4)), (3.0, -1, (2, 3, 4)),
                                         (float("inf"), 1, (2, 5)), (2.0, (1, 2), (2, 3, 4))])  # fmt: skip
def test_normalize_matches_pytorch(p, dim, shape):
    x, x_t = pair(_x(*shape))
    out, out_t = F.normalize(x, p=p, dim=dim), TF.normalize(x_t, p=p, dim=dim)
    assert_close(out, out_t, rtol=1e-12)
    g = _x(*shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    assert_close(x.grad, x_t.grad, rtol=1e-10)


def test_normalize_of_zero_rows_uses_eps():
    x, x_t = pair(np.zeros((2, 3)))
    F.normalize(x).sum().backward()
    TF.normalize(x_t).sum().backward()
    assert_close(x.grad, x_t.grad)
    out = ag.zeros(1, 2)
    assert F.normalize(ag.tensor([[3.0, 4.0]]), out=out) is out and out.tolist() == [[0.6000000238418579, 0.800000011920929]]


@pytest.mark.parametrize("shape1,shape2,dim", [((4, 5), (4, 5), 1), ((4, 5), (5,), -1), ((2, 3, 4), (1, 3, 4), 0),
                                               ((3,), (3,), 0), ((2, 3, 4), (2, 1, 4), 2)])  # fmt: skip
def test_cosine_similarity_matches_pytorch(shape1, shape2, dim):
    (a, a_t), (b, b_t) = pair(_x(*shape1)), pair(_x(*shape2))
    out, out_t = F.cosine_similarity(a, b, dim=dim), TF.cosine_similarity(a_t, b_t, dim=dim)
    assert_close(out, out_t, rtol=1e-12)
    g = _x(*out_t.shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    assert_close(a.grad, a_t.grad, rtol=1e-10)
    assert_close(b.grad, b_t.grad, rtol=1e-10)


def test_cosine_similarity_of_a_zero_vector_as_pytorch():
    (a, a_t), (b, b_t) = pair(np.zeros((2, 3))), pair(np.ones((2, 3)))
    out, out_t = F.cosine_similarity(a, b), TF.cosine_similarity(a_t, b_t)
    assert_close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    assert_close(a.grad, a_t.grad, rtol=1e-7)


@pytest.mark.parametrize("shape1,shape2,kwargs", [((4, 5), (4, 5), {}), ((4, 5), (5,), {"p": 1.0}),
                                                  ((2, 3, 4), (2, 3, 4), {"keepdim": True}),
                                                  ((3, 4), (3, 4), {"p": float("inf"), "eps": 0.0}),
                                                  ((3, 4), (3, 4), {"p": 3.0, "eps": 1e-3}), ((4,), (4,), {})])  # fmt: skip
def test_pairwise_distance_matches_pytorch(shape1, shape2, kwargs):
    (a, a_t), (b, b_t) = pair(_x(*shape1)), pair(_x(*shape2))
    out, out_t = F.pairwise_distance(a, b, **kwargs), TF.pairwise_distance(a_t, b_t, **kwargs)
    assert_close(out, out_t, rtol=1e-12)
    g = _x(*out_t.shape)
    out.backward(ag.tensor(g))
    out_t.backward(torch.from_numpy(g))
    assert_close(a.grad, a_t.grad, rtol=1e-10)
    assert_close(b.grad, b_t.grad, rtol=1e-10)


def test_distance_modules_match_pytorch():
    module_parity(lambda lib: lib.CosineSimilarity(dim=0, eps=1e-6), [_x(4, 3), _x(4, 3)])
    module_parity(lambda lib: lib.PairwiseDistance(p=1.0, keepdim=True), [_x(4, 3), _x(4, 3)])
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance()" and repr(nn.CosineSimilarity()) == "CosineSimilarity()"


@pytest.mark.parametrize("lead", [(), (6,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_pytorch(lead, bias):
    module_parity(lambda lib: lib.Bilinear(3, 4, 5, bias=bias), [_x(*lead, 3), _x(*lead, 4)])


def test_bilinear_initialisation_and_repr():
    layer = nn.Bilinear(4, 2, 3)
    assert layer.weight.shape == (3, 4, 2) and layer.bias.shape == (3,)
    assert np.abs(layer.weight.detach().numpy()).max() <= 0.5 and np.abs(layer.bias.detach().numpy()).max() <= 0.5
    assert repr(layer) == repr(torch.nn.Bilinear(4, 2, 3))
    assert repr(nn.Bilinear(4, 2, 3, bias=False)) == repr(torch.nn.Bilinear(4, 2, 3, bias=False))


@pytest.mark.parametrize("name,shape", [("dropout1d", (20, 30, 4)), ("dropout1d", (50, 3)),
                                        ("dropout2d", (20, 30, 2, 2)), ("dropout3d", (10, 20, 2, 1, 2)),
                                        ("dropout3d", (40, 2, 1, 2))])  # fmt: skip
def test_channel_dropout_zeroes_whole_channels(name, shape):
    x = ag.tensor(np.abs(_x(*shape)) + 1)  # no zeros, so dropped positions are exactly the zeros
    out = getattr(F, name)(x, p=0.3).numpy()
    channel_axes = tuple(range(2, len(shape))) if len(shape) in (3, 4, 5) and name != "dropout3d" or len(shape) == 5 else tuple(range(1, len(shape)))
    kept = out != 0
    assert (kept.all(axis=channel_axes) | (~kept).all(axis=channel_axes)).all()
    fraction = 1 - kept.all(axis=channel_axes).mean()
    assert 0.15 < fraction < 0.45
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / 0.7, rtol=1e-12)


def test_channel_dropout_gradient_is_the_scaled_mask():
    x = ag.tensor(np.abs(_x(8, 16, 3)) + 1, requires_grad=True)
    out = F.dropout1d(x, p=0.5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (out.detach().numpy() != 0) * 2.0)


def test_channel_dropout_modules():
    x = ag.randn(2, 3, 4)
    for cls, inp in ((nn.Dropout1d, x), (nn.Dropout2d, x[None]), (nn.Dropout3d, x[None, None])):
        assert repr(cls(0.2)) == repr(getattr(torch.nn, cls.__name__)(0.2))
        assert repr(cls(0.2, inplace=True)) == repr(getattr(torch.nn, cls.__name__)(0.2, inplace=True))
        assert cls().eval()(inp) is inp
    y = ag.ones(4, 5, 3)
    assert nn.Dropout1d(0.5, inplace=True)(y) is y
    unbatched = ag.ones(5, 3)
    assert nn.Dropout1d(0.5, inplace=True)(unbatched) is unbatched
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ag.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(ag.ones(2, 3))
    with pytest.warns(UserWarning, match="dropout3d: Expected 4D or 5D input"):
        assert F.dropout3d(ag.ones(2, 3, 4)).shape == (2, 3, 4)
    ag.manual_seed(5)
    first = F.dropout2d(ag.ones(4, 6, 2, 2)).numpy()
    ag.manual_seed(5)
    np.testing.assert_array_equal(F.dropout2d(ag.ones(4, 6, 2, 2)).numpy(), first)


def test_gumbel_softmax_samples_and_straight_through_gradient():
    logits = ag.tensor(np.log([[0.1, 0.2, 0.7]]).repeat(20000, axis=0))
    soft = F.gumbel_softmax(logits, tau=1.0)
    np.testing.assert_allclose(soft.sum(dim=-1).numpy(), 1.0, rtol=1e-12)
    # The Gumbel-max trick: argmax of the perturbed logits is a draw from softmax(logits).
    frequencies = np.bincount(soft.numpy().argmax(-1), minlength=3) / 20000
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.7], atol=0.015)
    x = ag.tensor(_x(5, 4), requires_grad=True)
    x_soft = ag.tensor(x.detach().numpy(), requires_grad=True)
    g = ag.tensor(_x(5, 4))
    ag.manual_seed(3)
    hard = F.gumbel_softmax(x, tau=0.5, hard=True)
    hard.backward(g)
    ag.manual_seed(3)
    soft = F.gumbel_softmax(x_soft, tau=0.5)
    soft.backward(g)
    values = hard.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0} and (values.sum(-1) == 1).all()
    assert (soft.detach().numpy().argmax(-1) == values.argmax(-1)).all()
    # Same noise and same upstream: the hard sample's gradient is the soft sample's.
    assert_close(x.grad, x_soft.grad, rtol=1e-12)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(x, eps=1e-5)


def test_gumbel_softmax_gradient_matches_pytorch_with_the_same_noise():
    # Draw PyTorch's noise ourselves: softmax((logits + g) / tau) with g fixed.
    logits = _x(3, 5)
    ag.manual_seed(9)
    out = F.gumbel_softmax(ag.tensor(logits, requires_grad=True), tau=0.7)
    ag.manual_seed(9)
    from autograd.random import default_generator

    noise = -np.log(default_generator().exponential(size=(3, 5)))
    expected = TF.softmax((torch.tensor(logits) + torch.tensor(noise)) / 0.7, dim=-1)
    assert_close(out, expected, rtol=1e-12)


def test_parameter_list_behaves_as_pytorch():
    params = nn.ParameterList([nn.Parameter(ag.ones(3, 4)), ag.zeros(2), "x"])
    assert isinstance(params[1], nn.Parameter) and params[1].requires_grad
    assert len(params) == 3 and params[2] == "x" and params[-1] == "x"
    assert [n for n, _ in params.named_parameters()] == ["0", "1"]
    assert repr(params) == (
        "ParameterList(\n    (0): Parameter containing: [float32 of size 3x4]\n"
        "    (1): Parameter containing: [float32 of size 2]\n    (2): Object of type: str\n)"
    )
    params.append(ag.ones(1))
    params.extend([ag.ones(5)])
    params[0] = ag.full((2,), 3.0)
    assert [tuple(p.shape) for p in params.parameters()] == [(2,), (2,), (1,), (5,)]
    assert isinstance(params[1:3], nn.ParameterList) and len(params[1:3]) == 2
    with pytest.raises(IndexError, match="out of range"):
        params[7]
    with pytest.raises(TypeError, match="should be called with an iterable"):
        params.extend(ag.ones(3))
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        params(1)

    def net(lib, ones):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.p = lib.ParameterList([lib.Parameter(ones(2))])
                self.l = lib.Linear(2, 2)

        return Net()

    ours, theirs = net(nn, ag.ones), net(torch.nn, torch.ones)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["p.0", "l.weight", "l.bias"]
    assert repr(ours) == repr(theirs).replace("torch.float32", "float32")


def test_parameter_dict_behaves_as_pytorch():
    params = nn.ParameterDict({"b": ag.ones(2), "a": nn.Parameter(ag.ones(3, dtype=ag.float64)), "c": 3})
    assert list(params.keys()) == ["a", "b", "c"]  # a plain dict is inserted in sorted order
    assert [n for n, _ in params.named_parameters()] == ["a", "b"]
    assert isinstance(params["b"], nn.Parameter) and "c" in params and params.get("z", 5) == 5
    ordered = nn.ParameterDict(OrderedDict([("z", ag.ones(1)), ("y", ag.ones(1))]))
    assert list(ordered) == ["z", "y"]
    pairs = nn.ParameterDict([("q", ag.ones(1)), ("p", ag.ones(2))])
    assert list(pairs) == ["q", "p"]
    assert repr(pairs) == ("ParameterDict(\n    (q): Parameter containing: [float32 of size 1]\n"
                           "    (p): Parameter containing: [float32 of size 2]\n)")  # fmt: skip
    merged = ordered | pairs
    assert list(merged) == ["z", "y", "q", "p"]
    assert pairs.pop("q").shape == (1,) and list(pairs) == ["p"]
    assert pairs.popitem()[0] == "p" and len(pairs) == 0
    assert pairs.setdefault("w", ag.zeros(2)).shape == (2,) and list(pairs.state_dict()) == ["w"]
    del params["a"]
    assert "a" not in params and [n for n, _ in params.named_parameters()] == ["b"]
    params.clear()
    assert len(params) == 0 and list(params.parameters()) == []
    with pytest.raises(TypeError, match="not a string"):
        params[1] = ag.ones(1)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        nn.ParameterDict([("a", 1, 2)])
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        params(1)
    # State dicts port between the two libraries.
    theirs = torch.nn.ParameterDict({"w": torch.nn.Parameter(torch.randn(2, 3))})
    ours = nn.ParameterDict({"w": ag.zeros(2, 3)})
    ours.load_state_dict(theirs.state_dict())
    assert_close(ours["w"], theirs["w"])


ERRORS = [
    ("group_norm_module_divisible", lambda: nn.GroupNorm(4, 6), ValueError, r"num_channels \(6\) must be divisible by num_groups \(4\)"),
    ("group_norm_input_divisible", lambda: F.group_norm(ag.ones(2, 5, 3), 2), RuntimeError,
     r"Expected number of channels in input to be divisible by num_groups, but got input of shape \[2, 5, 3\] and num_groups=2"),
    ("group_norm_1d", lambda: F.group_norm(ag.ones(5), 1), RuntimeError, "Expected at least 2 dimensions for input tensor but received 1"),
    ("group_norm_weight", lambda: F.group_norm(ag.ones(2, 6), 2, ag.ones(5)), RuntimeError,
     r"Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape \[5\]"),
    ("group_norm_module_channels", lambda: nn.GroupNorm(2, 6)(ag.ones(2, 4, 3)), RuntimeError, "Expected weight to be a vector"),
    ("group_norm_one_value", lambda: F.group_norm(ag.ones(1, 6, 1), 6), ValueError, "Expected more than 1 value per channel"),
    ("bilinear_input2", lambda: nn.Bilinear(3, 4, 5)(ag.ones(2, 3), ag.ones(2, 5)), RuntimeError,
     "input2 size does not match weight size: got 5 but expected 4"),
    ("bilinear_input1", lambda: nn.Bilinear(3, 4, 5)(ag.ones(2, 2), ag.ones(2, 4)), RuntimeError,
     "input1 size does not match weight size: got 2 but expected 3"),
    ("bilinear_batch", lambda: nn.Bilinear(3, 4, 5)(ag.ones(2, 3), ag.ones(3, 4)), RuntimeError,
     "input batch dimensions do not match at dim 0: got 2 and 3"),
    ("bilinear_ndim", lambda: nn.Bilinear(3, 4, 5)(ag.ones(2, 3), ag.ones(2, 1, 4)), RuntimeError,
     "input dimensions do not match: got 2 and 3"),
    ("bilinear_bias", lambda: F.bilinear(ag.ones(2, 3), ag.ones(2, 4), ag.ones(5, 3, 4), ag.ones(6)), RuntimeError,
     "bias size does not match weight size: got 6 but expected 5"),
    ("bilinear_dtype", lambda: nn.Bilinear(3, 4, 5)(ag.ones(2, 3, dtype=ag.float64), ag.ones(2, 4)), RuntimeError, "Double and Float"),
    ("dropout1d_rank", lambda: F.dropout1d(ag.ones(2, 3, 4, 5)), RuntimeError, "dropout1d: Expected 2D or 3D input, but received a 4D input"),
    ("dropout_p", lambda: nn.Dropout2d(1.5), ValueError, "between 0 and 1, but got 1.5"),
    ("cosine_shapes", lambda: F.cosine_similarity(ag.ones(2, 3), ag.ones(2, 4)), RuntimeError, "not broadcastable"),
    ("cosine_dim", lambda: F.cosine_similarity(ag.ones(3), ag.ones(3)), IndexError, "Dimension out of range"),
    ("pairwise_shapes", lambda: F.pairwise_distance(ag.ones(2, 3), ag.ones(2, 4)), RuntimeError, "not broadcastable"),
]  # fmt: skip

test_errors_name_the_problem = error_table(ERRORS)


def test_the_same_errors_in_pytorch():
    for case_id, _, error, _ in ERRORS:
        if case_id.startswith(("group_norm_module_divisible", "bilinear_input", "bilinear_batch", "bilinear_ndim",
                               "bilinear_bias", "dropout1d", "dropout_p", "cosine", "pairwise")):
            torch_call = {
                "group_norm_module_divisible": lambda: torch.nn.GroupNorm(4, 6),
                "bilinear_input2": lambda: torch.nn.Bilinear(3, 4, 5)(torch.ones(2, 3), torch.ones(2, 5)),
                "bilinear_input1": lambda: torch.nn.Bilinear(3, 4, 5)(torch.ones(2, 2), torch.ones(2, 4)),
                "bilinear_batch": lambda: torch.nn.Bilinear(3, 4, 5)(torch.ones(2, 3), torch.ones(3, 4)),
                "bilinear_ndim": lambda: torch.nn.Bilinear(3, 4, 5)(torch.ones(2, 3), torch.ones(2, 1, 4)),
                "bilinear_bias": lambda: TF.bilinear(torch.ones(2, 3), torch.ones(2, 4), torch.ones(5, 3, 4), torch.ones(6)),
                "dropout1d_rank": lambda: TF.dropout1d(torch.ones(2, 3, 4, 5)),
                "dropout_p": lambda: torch.nn.Dropout2d(1.5),
                "cosine_shapes": lambda: TF.cosine_similarity(torch.ones(2, 3), torch.ones(2, 4)),
                "cosine_dim": lambda: TF.cosine_similarity(torch.ones(3), torch.ones(3)),
                "pairwise_shapes": lambda: TF.pairwise_distance(torch.ones(2, 3), torch.ones(2, 4)),
            }[case_id]
            with pytest.raises(error):
                torch_call()
