"""Layers against PyTorch with weights copied: outputs, input and parameter gradients; edge cases."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import import_torch

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(1234)


def _normal(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _ids(*shape, high=10):
    return RNG.integers(0, high, shape).astype(np.int64)


# (id, builder taking the library, input array, mode): the builders are the same code for both.
LAYERS = [
    ("linear", lambda lib: lib.Linear(4, 3), _normal(5, 4), "train"),
    ("linear_no_bias", lambda lib: lib.Linear(4, 3, bias=False), _normal(5, 4), "train"),
    ("linear_3d_input", lambda lib: lib.Linear(4, 2), _normal(2, 3, 4), "train"),
    ("linear_1d_input", lambda lib: lib.Linear(4, 2), _normal(4), "train"),
    ("relu", lambda lib: lib.ReLU(), _normal(4, 5), "train"),
    ("leaky_relu", lambda lib: lib.LeakyReLU(0.2), _normal(4, 5), "train"),
    ("gelu", lambda lib: lib.GELU(), _normal(4, 5, scale=3), "train"),
    ("gelu_tanh", lambda lib: lib.GELU(approximate="tanh"), _normal(4, 5, scale=3), "train"),
    ("silu", lambda lib: lib.SiLU(), _normal(4, 5, scale=3), "train"),
    ("elu", lambda lib: lib.ELU(alpha=0.7), _normal(4, 5, scale=3), "train"),
    ("elu_large", lambda lib: lib.ELU(), _normal(3, 4, scale=1e4), "train"),
    ("tanh", lambda lib: lib.Tanh(), _normal(4, 5, scale=3), "train"),
    ("sigmoid", lambda lib: lib.Sigmoid(), _normal(4, 5, scale=30), "train"),
    ("softplus", lambda lib: lib.Softplus(), _normal(4, 5, scale=3), "train"),
    ("softplus_threshold", lambda lib: lib.Softplus(beta=2.0, threshold=5.0), _normal(4, 5, scale=5), "train"),
    ("softplus_large", lambda lib: lib.Softplus(), _normal(3, 4, scale=1e4), "train"),
    ("softmax", lambda lib: lib.Softmax(dim=1), _normal(3, 6, scale=1e3), "train"),
    ("log_softmax", lambda lib: lib.LogSoftmax(dim=-1), _normal(3, 6, scale=1e3), "train"),
    ("relu6", lambda lib: lib.ReLU6(), _normal(4, 5, scale=5), "train"),
    ("hardtanh", lambda lib: lib.Hardtanh(-0.5, 1.5), _normal(4, 5), "train"),
    ("prelu", lambda lib: lib.PReLU(), _normal(4, 5), "train"),
    ("prelu_channels", lambda lib: lib.PReLU(3, init=0.1), _normal(2, 3, 4), "train"),
    ("mish", lambda lib: lib.Mish(), _normal(4, 5, scale=3), "train"),
    ("selu", lambda lib: lib.SELU(), _normal(4, 5, scale=3), "train"),
    ("celu", lambda lib: lib.CELU(0.5), _normal(4, 5, scale=3), "train"),
    ("hardsigmoid", lambda lib: lib.Hardsigmoid(), _normal(4, 5, scale=4), "train"),
    ("hardswish", lambda lib: lib.Hardswish(), _normal(4, 5, scale=4), "train"),
    ("logsigmoid", lambda lib: lib.LogSigmoid(), _normal(4, 5, scale=30), "train"),
    ("softsign", lambda lib: lib.Softsign(), _normal(4, 5, scale=3), "train"),
    ("tanhshrink", lambda lib: lib.Tanhshrink(), _normal(4, 5, scale=3), "train"),
    ("threshold", lambda lib: lib.Threshold(0.1, 20.0), _normal(4, 5), "train"),
    ("flatten", lambda lib: lib.Flatten(), _normal(2, 3, 4), "train"),
    ("unflatten", lambda lib: lib.Unflatten(1, (2, 3)), _normal(4, 6), "train"),
    ("identity", lambda lib: lib.Identity(7, unused=True), _normal(3, 2), "train"),
    ("dropout_eval", lambda lib: lib.Dropout(0.5), _normal(3, 4), "eval"),
    ("batchnorm1d_2d", lambda lib: lib.BatchNorm1d(3), _normal(6, 3, scale=2) + 1, "train"),
    ("batchnorm1d_3d", lambda lib: lib.BatchNorm1d(3), _normal(4, 3, 5), "train"),
    ("batchnorm1d_no_affine", lambda lib: lib.BatchNorm1d(3, affine=False), _normal(5, 3), "train"),
    ("batchnorm1d_no_bias", lambda lib: lib.BatchNorm1d(3, bias=False), _normal(5, 3), "train"),
    ("batchnorm1d_eval", lambda lib: lib.BatchNorm1d(3), _normal(5, 3), "eval"),
    ("batchnorm2d", lambda lib: lib.BatchNorm2d(3), _normal(4, 3, 2, 5), "train"),
    ("batchnorm2d_eval", lambda lib: lib.BatchNorm2d(3, eps=1e-3), _normal(2, 3, 2, 2), "eval"),
    ("batchnorm2d_untracked", lambda lib: lib.BatchNorm2d(3, track_running_stats=False), _normal(2, 3, 2, 2), "eval"),
    ("layernorm", lambda lib: lib.LayerNorm(5), _normal(4, 5, scale=3) + 2, "train"),
    ("layernorm_2d_shape", lambda lib: lib.LayerNorm((3, 5)), _normal(2, 3, 5), "train"),
    ("layernorm_no_affine", lambda lib: lib.LayerNorm(5, elementwise_affine=False), _normal(4, 5), "train"),
    ("layernorm_no_bias", lambda lib: lib.LayerNorm(5, bias=False), _normal(4, 5), "train"),
    ("groupnorm", lambda lib: lib.GroupNorm(2, 6), _normal(3, 6, 4, scale=2) + 1, "train"),
    ("groupnorm_no_affine", lambda lib: lib.GroupNorm(3, 6, affine=False), _normal(2, 6, 2, 2), "train"),
    ("dropout1d_eval", lambda lib: lib.Dropout1d(0.5), _normal(3, 4, 5), "eval"),
    ("dropout2d_eval", lambda lib: lib.Dropout2d(0.5), _normal(2, 3, 4, 5), "eval"),
    ("conv_transpose1d", lambda lib: lib.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1), _normal(2, 3, 5), "train"),
    ("conv_transpose2d", lambda lib: lib.ConvTranspose2d(4, 6, 3, stride=2, groups=2), _normal(2, 4, 3, 4), "train"),
    ("unfold", lambda lib: lib.Unfold(2, padding=1), _normal(2, 3, 4, 4), "train"),
    ("fold", lambda lib: lib.Fold((3, 4), 2), _normal(2, 8, 6), "train"),
    ("upsample_nearest", lambda lib: lib.Upsample(scale_factor=2), _normal(2, 3, 3, 4), "train"),
    ("upsample_bilinear", lambda lib: lib.Upsample(size=(5, 7), mode="bilinear"), _normal(2, 3, 3, 4), "train"),
    ("adaptive_max_pool1d", lambda lib: lib.AdaptiveMaxPool1d(3), _normal(2, 3, 7), "train"),
    ("adaptive_max_pool2d", lambda lib: lib.AdaptiveMaxPool2d((2, 3)), _normal(2, 3, 5, 7), "train"),
    ("dropout3d_eval", lambda lib: lib.Dropout3d(0.5), _normal(2, 3, 2, 2, 2), "eval"),
    ("upsampling_bilinear2d", lambda lib: lib.UpsamplingBilinear2d(scale_factor=2), _normal(2, 3, 3, 4), "train"),
    ("upsampling_nearest2d", lambda lib: lib.UpsamplingNearest2d(size=(5, 6)), _normal(2, 3, 3, 4), "train"),
    ("bilinear", lambda lib: lib.Bilinear(3, 4, 5), (_normal(6, 3), _normal(6, 4)), "train"),
    ("cosine_similarity", lambda lib: lib.CosineSimilarity(dim=1), (_normal(4, 6), _normal(4, 6)), "train"),
    ("pairwise_distance", lambda lib: lib.PairwiseDistance(p=2.0), (_normal(4, 6), _normal(4, 6)), "train"),
    ("transformer_decoder_layer", lambda lib: lib.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
     (_normal(5, 2, 8), _normal(4, 2, 8)), "train"),
    ("transformer", lambda lib: lib.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True),
     (_normal(2, 4, 8), _normal(2, 5, 8)), "train"),
    ("embedding", lambda lib: lib.Embedding(10, 4), np.array([[1, 2, 1], [9, 1, 0]]), "train"),
    ("embedding_padding", lambda lib: lib.Embedding(10, 4, padding_idx=2), np.array([[2, 3, 2], [3, 1, 2]]), "train"),
    ("sequential_mlp", lambda lib: lib.Sequential(lib.Linear(4, 6), lib.BatchNorm1d(6), lib.GELU(),
                                                  lib.LayerNorm(6), lib.Linear(6, 2)), _normal(8, 4), "train"),
]  # fmt: skip


def _perturb(module):
    """Make affine weights and running statistics non-trivial (identical in both libraries)."""
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.dtype.is_floating_point:
                tensor.add_(torch.from_numpy(RNG.uniform(0.1, 0.5, tuple(tensor.shape)).astype(np.float32)))


@pytest.mark.parametrize("builder,x,mode", [row[1:] for row in LAYERS], ids=[row[0] for row in LAYERS])
def test_layer_matches_pytorch(builder, x, mode):
    theirs = builder(torch.nn)
    _perturb(theirs)
    ours = builder(nn)
    ours.load_state_dict(theirs.state_dict())
    theirs.train(mode == "train"), ours.train(mode == "train")

    inputs = x if isinstance(x, tuple) else (x,)  # a tuple: a layer with several inputs
    xs_t = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    xs_o = [ag.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out_t, out_o = theirs(*xs_t), ours(*xs_o)
    assert out_o.shape == tuple(out_t.shape) and out_o.dtype == ag.float32
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-5)

    upstream = _normal(*out_t.shape)
    out_t.backward(torch.from_numpy(upstream))
    out_o.backward(ag.tensor(upstream))
    for x_o, x_t in zip(xs_o, xs_t):
        if x_t.requires_grad:
            assert np.isfinite(x_o.grad.numpy()).all()
            np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-4, atol=1e-5)
    grads_t = {n: p.grad for n, p in theirs.named_parameters()}
    for name, p in ours.named_parameters():
        assert p.grad is not None and p.grad.dtype == ag.float32, name
        np.testing.assert_allclose(p.grad.numpy(), grads_t[name].numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    # Buffers (running statistics, batch counts) evolve identically.
    state_t = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), state_t[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 3, 2, 4))])
def test_batchnorm_running_statistics_over_several_steps(cls, shape, momentum):
    theirs = getattr(torch.nn, cls)(3, momentum=momentum)
    ours = getattr(nn, cls)(3, momentum=momentum)
    mean, var = np.zeros(3), np.ones(3)
    axes = (0,) + tuple(range(2, len(shape)))
    for step in range(1, 5):
        x = _normal(*shape, scale=step) + step
        theirs(torch.from_numpy(x))
        ours(ag.tensor(x))
        # NumPy reference: biased variance normalises, the unbiased one goes into the running stat.
        factor = 1.0 / step if momentum is None else momentum
        n = x.size // 3
        mean = (1 - factor) * mean + factor * x.mean(axis=axes)
        var = (1 - factor) * var + factor * x.var(axis=axes) * n / (n - 1)
        np.testing.assert_allclose(ours.running_mean.numpy(), mean, rtol=1e-5)
        np.testing.assert_allclose(ours.running_var.numpy(), var, rtol=1e-5)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
        assert ours.num_batches_tracked.item() == step
    ours.eval(), theirs.eval()
    x = _normal(*shape)
    np.testing.assert_allclose(ours(ag.tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert ours.num_batches_tracked.item() == 4  # eval leaves the statistics alone


def test_batchnorm_without_running_stats_uses_batch_statistics_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    x = ag.tensor([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(bn(x).detach().numpy(), [[-1, -1], [1, 1]], atol=1e-4)


def test_batchnorm_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \(1, 3\)"):
        nn.BatchNorm1d(3)(ag.randn(1, 3))
    nn.BatchNorm1d(3).eval()(ag.randn(1, 3))  # fine in eval
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\): expected input with 3 channels in dim 1, got input of shape \(4, 5\)"):
        nn.BatchNorm1d(3)(ag.randn(4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(ag.randn(4, 3, 5))
    with pytest.raises(RuntimeError, match=r"batch_norm: input has 5 channels \(dim 1\) but running_mean has 3"):
        F.batch_norm(ag.randn(4, 5), ag.zeros(3), ag.ones(3))


def test_linear_wrong_features_error():
    with pytest.raises(RuntimeError, match=r"^linear: input has 5 features but weight expects 4 \(input \(2, 5\), weight \(3, 4\)\)$"):
        F.linear(ag.randn(2, 5), ag.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=3\): expected input with 4 features .* \(2, 5\)"):
        nn.Linear(4, 3)(ag.randn(2, 5))


@pytest.mark.parametrize("dtype,name", [(np.int64, "Long"), (np.float64, "Double"), (np.float16, "Half")])
def test_linear_rejects_an_input_dtype_other_than_its_weights(dtype, name):
    x = np.ones((2, 3), dtype=dtype)
    with pytest.raises(RuntimeError):
        torch.nn.Linear(3, 4)(torch.from_numpy(x))  # PyTorch raises too
    message = rf"mat1 and mat2 must have the same dtype, but got {name} and Float"
    with pytest.raises(RuntimeError, match=message):
        nn.Linear(3, 4)(ag.tensor(x))
    with pytest.raises(RuntimeError, match=message):
        F.linear(ag.tensor(x), ag.ones(4, 3))
    with pytest.raises(RuntimeError, match="bias and weight must have the same dtype, but got Double and Float"):
        F.linear(ag.ones(2, 3), ag.ones(4, 3), ag.ones(4, dtype=ag.float64))
    assert nn.Linear(3, 4).double()(ag.ones(2, 3, dtype=ag.float64)).dtype == ag.float64


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"layer_norm: expected input with shape \(\*, 4\) for normalized_shape \(4,\), got input of shape \(2, 5\)"):
        nn.LayerNorm(4)(ag.randn(2, 5))


def test_embedding_accumulates_repeated_ids_and_skips_padding():
    emb = nn.Embedding(5, 2, padding_idx=1)
    np.testing.assert_array_equal(emb.weight[1].detach().numpy(), [0, 0])
    ids = ag.tensor([[0, 0, 1], [3, 0, 1]])
    emb(ids).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [3, 0, 0, 1, 0])
    assert emb(ag.tensor([2])).grad_fn is not None
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for a table of 5 rows"):
        emb(ag.tensor([5]))
    with pytest.raises(RuntimeError, match="integer"):
        emb(ag.tensor([1.0]))


def test_embedding_max_norm_renormalises_like_pytorch():
    weight = _normal(6, 3, scale=2)
    ids = np.array([0, 2, 2, 5])
    w_t, w_o = torch.tensor(weight), ag.tensor(weight)
    out_t = TF.embedding(torch.from_numpy(ids), w_t, max_norm=1.5)
    out_o = F.embedding(ag.tensor(ids), w_o, max_norm=1.5)
    np.testing.assert_allclose(out_o.numpy(), out_t.numpy(), rtol=1e-5)
    np.testing.assert_allclose(w_o.numpy(), w_t.numpy(), rtol=1e-5)  # rows renormalised in place


def test_embedding_from_pretrained():
    table = ag.arange(6.0).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(emb(ag.tensor([2])).numpy(), [[4, 5]])
    assert repr(emb) == "Embedding(3, 2)"


PADS = [
    ((3, 4), (1, 2), "constant", 0.0),
    ((2, 3, 4), (1, 0, 2, 1), "constant", -1.5),
    ((2, 3, 4), (-1, 2, 0, -1), "constant", 0.0),
    ((2, 3, 5), (2, 1), "reflect", None),
    ((1, 2, 4, 5), (3, 1, 2, 3), "reflect", None),
    ((2, 3, 4), (2, 3), "replicate", None),
    ((1, 2, 3, 4), (1, 2, 3, 1), "replicate", None),
    ((2, 3, 4), (2, 3), "circular", None),
    ((1, 2, 3, 4), (1, 2, 3, 1), "circular", None),
]


@pytest.mark.parametrize("shape,pad,mode,value", PADS)
def test_pad_matches_pytorch(shape, pad, mode, value):
    x = _normal(*shape)
    x_t, x_o = torch.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    kwargs = {} if value is None else {"value": value}
    out_t, out_o = TF.pad(x_t, pad, mode=mode, **kwargs), F.pad(x_o, pad, mode=mode, **kwargs)
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy())
    upstream = _normal(*out_t.shape)
    out_t.backward(torch.from_numpy(upstream))
    out_o.backward(ag.tensor(upstream))
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_pad_errors():
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(ag.zeros(2, 2), (1,))
    with pytest.raises(RuntimeError, match="padding size should be less than"):
        F.pad(ag.zeros(1, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="unsupported padding mode"):
        F.pad(ag.zeros(1, 3), (1, 1), mode="mirror")


def test_one_hot_matches_pytorch():
    ids = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(F.one_hot(ag.tensor(ids)).numpy(), TF.one_hot(torch.from_numpy(ids)).numpy())
    out = F.one_hot(ag.tensor(ids), 6)
    assert out.dtype == ag.int64 and out.shape == (2, 2, 6)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ag.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ag.tensor([-1]), 3)


def test_functional_activations_match_pytorch():
    x = _normal(4, 6, scale=4)
    cases = [
        (F.leaky_relu, TF.leaky_relu, {"negative_slope": -0.3}),
        (F.elu, TF.elu, {"alpha": 2.0}),
        (F.softplus, TF.softplus, {"beta": 0.5, "threshold": 1.0}),
        (F.gelu, TF.gelu, {"approximate": "tanh"}),
        (F.softmax, TF.softmax, {"dim": 0}),
        (F.log_softmax, TF.log_softmax, {"dim": 1}),
        (F.silu, TF.silu, {}),
        (F.relu, TF.relu, {}),
    ]
    for ours, theirs, kwargs in cases:
        np.testing.assert_allclose(ours(ag.tensor(x), **kwargs).numpy(), theirs(torch.tensor(x), **kwargs).numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=ours.__name__ if hasattr(ours, "__name__") else str(ours))  # fmt: skip


def test_inplace_activations_modify_the_input():
    x = ag.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    y = ag.tensor([-1.0, 2.0])
    nn.LeakyReLU(0.5, inplace=True)(y)
    assert y.tolist() == [-0.5, 2.0]


def test_large_logits_give_finite_values_and_gradients():
    x = ag.tensor([[-1e4, 0.0, 1e4]], requires_grad=True)
    for fn in (F.softplus, F.silu, F.gelu, F.elu, F.sigmoid, lambda t: F.log_softmax(t, dim=1)):
        x.grad = None
        out = fn(x)
        out.sum().backward()
        assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_dropout_scaling_statistics():
    ag.manual_seed(0)
    out = F.dropout(ag.ones(200_000), p=0.3).numpy()
    kept = out != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_eval_is_identity_and_edge_probabilities():
    x = ag.randn(3, 4)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert F.dropout(x, p=0.0) is x
    assert not F.dropout(x, p=1.0).numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_under_manual_seed():
    ag.manual_seed(7)
    first = F.dropout(ag.ones(50), 0.5).numpy().copy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(ag.ones(50), 0.5).numpy(), first)


def test_dropout_gradient_is_the_scaled_mask():
    # Finite differences cannot check dropout (every call draws a new mask), so check the
    # gradient directly: with the mask fixed by the forward, d(sum y)/dx = mask / (1 - p).
    ag.manual_seed(3)
    x = ag.tensor(_normal(10, 10) + 5, requires_grad=True)  # no zeros, so the mask is out / x
    out = F.dropout(x, p=0.4)
    out.sum().backward()
    mask = out.detach().numpy() / x.detach().numpy()
    dropped, kept = np.isclose(mask, 0), np.isclose(mask, 1 / 0.6, rtol=1e-5)
    assert (dropped | kept).all() and dropped.any() and kept.any()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)


def test_float32_stays_float32_and_float64_stays_float64():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.GELU(), nn.LayerNorm(4))
    assert model(ag.randn(5, 3)).dtype == ag.float32
    model.double()
    assert model(ag.randn(5, 3, dtype=ag.float64)).dtype == ag.float64


def test_batch_norm_second_order_gradient():
    from autograd.gradcheck import gradgradcheck

    x = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    w = ag.randn(3, dtype=ag.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: F.batch_norm(a, None, None, b, None, training=True), (x, w))


def test_linear_is_one_op_with_a_weight_shaped_gradient() -> None:
    layer = nn.Linear(3, 2)
    x = ag.randn(4, 3, requires_grad=True)
    out = layer(x)
    assert out.grad_fn.type_name() == "AddmmBackward"  # as PyTorch names it
    assert nn.Linear(3, 2, bias=False)(x).grad_fn.type_name() == "MmBackward"
    g = ag.randn(4, 2)
    out.backward(g)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() @ w.T + b, rtol=1e-5)
    np.testing.assert_allclose(layer.weight.grad.numpy(), g.numpy().T @ x.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g.numpy().sum(0), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), g.numpy() @ w, rtol=1e-5)
    # Batched input goes through one 2-D GEMM and comes back in its own shape.
    assert layer(ag.randn(2, 5, 3)).shape == (2, 5, 2)


def test_batch_norm_in_float16_sums_in_float32() -> None:
    # 102,400 values per channel: float16 sums (of squares, of gradients) would overflow.
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 4, 20, 20)) * 3 + 1).astype(np.float16)
    g = rng.standard_normal(x.shape).astype(np.float16)
    x16 = ag.tensor(x, requires_grad=True)
    x64 = ag.tensor(x.astype(np.float64), requires_grad=True)
    out16 = F.batch_norm(x16, None, None, training=True)
    out64 = F.batch_norm(x64, None, None, training=True)
    out16.backward(ag.tensor(g))
    out64.backward(ag.tensor(g.astype(np.float64)))
    assert out16.dtype == ag.float16 and x16.grad.dtype == ag.float16
    np.testing.assert_allclose(out16.detach().numpy(), out64.detach().numpy(), atol=1e-2)
    np.testing.assert_allclose(x16.grad.numpy(), x64.grad.numpy(), atol=1e-2)
