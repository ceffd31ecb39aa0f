"""Attention and the transformer encoder against PyTorch (weights copied): values, gradients, names."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn.transformer import generate_square_subsequent_mask

from parity import assert_close, copy_weights, import_torch, to_ours

torch = import_torch()
TF = torch.nn.functional


def _randn(*shape, grad=True):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=grad)


def _mask(kind, target, source, lead=()):
    if kind == "bool":
        mask = torch.rand(*lead, target, source) > 0.4
        mask[..., 0] = True  # every query attends somewhere
        return mask
    if kind == "float":
        return torch.randn(*lead, target, source, dtype=torch.float64)
    return None


@pytest.mark.parametrize(
    "mask, is_causal, scale, lead, mask_lead",
    [
        (None, False, None, (2, 3), ()),
        (None, True, None, (2,), ()),
        (None, True, 0.5, (), ()),
        ("bool", False, None, (2, 3), ()),
        ("bool", False, 0.3, (2, 3), (2, 1)),
        ("float", False, None, (2, 3), ()),
        ("float", False, 1.0, (3,), (3,)),
    ],
)
def test_sdpa_matches_torch(mask, is_causal, scale, lead, mask_lead):
    torch.manual_seed(0)
    q, k, v = _randn(*lead, 4, 5), _randn(*lead, 6, 5), _randn(*lead, 6, 7)
    if is_causal:
        k, v = _randn(*lead, 4, 5), _randn(*lead, 4, 7)
    attn_mask = _mask(mask, 4, k.shape[-2], mask_lead)
    out_t = TF.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, scale=scale)
    q_o, k_o, v_o = to_ours(q), to_ours(k), to_ours(v)
    out_o = F.scaled_dot_product_attention(q_o, k_o, v_o, attn_mask=to_ours(attn_mask), is_causal=is_causal,
                                           scale=scale)  # fmt: skip
    assert_close(out_o, out_t)
    grad = torch.randn_like(out_t)
    out_t.backward(grad)
    (out_o * ag.tensor(grad.numpy())).sum().backward()
    for o, t in [(q_o, q), (k_o, k), (v_o, v)]:
        assert_close(o.grad, t.grad)


def test_sdpa_row_with_every_key_masked_gives_zeros_as_torch():
    q, k, v = _randn(1, 3, 4, grad=False), _randn(1, 5, 4, grad=False), _randn(1, 5, 2, grad=False)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    expected = TF.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    got = F.scaled_dot_product_attention(to_ours(q), to_ours(k), to_ours(v), attn_mask=to_ours(mask))
    assert_close(got, expected)
    assert np.all(got.detach().numpy()[0, 1] == 0)


def test_sdpa_grouped_query_attention_matches_torch():
    q, k, v = _randn(2, 4, 3, 5), _randn(2, 2, 6, 5), _randn(2, 2, 6, 5)
    out_t = TF.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    q_o, k_o, v_o = to_ours(q), to_ours(k), to_ours(v)
    out_o = F.scaled_dot_product_attention(q_o, k_o, v_o, enable_gqa=True)
    assert_close(out_o, out_t)
    out_t.sum().backward()
    out_o.sum().backward()
    assert_close(k_o.grad, k.grad)


def test_sdpa_dropout_is_seeded_and_keeps_the_expectation():
    q = k = v = ag.randn(2, 8, 4)
    ag.manual_seed(0)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ag.manual_seed(0)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(first.data, again.detach().numpy())
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(first.data, plain.detach().numpy())


def test_sdpa_float32_stays_float32_with_a_float64_mask():
    q = ag.randn(3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=ag.zeros(3, 3, dtype=ag.float64))
    assert out.dtype == ag.float32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(attn_mask=ag.ones(3, 3, dtype=ag.bool), is_causal=True), "should not be set when is_causal"),
        (dict(attn_mask=ag.ones(3, 3, dtype=ag.int64)), "attn_mask must be bool or floating"),
    ],
)  # fmt: skip
def test_sdpa_errors(kwargs, message):
    q = ag.randn(3, 4)
    with pytest.raises(RuntimeError, match=message):
        F.scaled_dot_product_attention(q, q, q, **kwargs)


MHA_CASES = [
    # (module kwargs, self-attention, key_padding_mask, attn_mask, need_weights, average)
    (dict(), True, None, None, True, True),
    (dict(batch_first=True), True, "bool", None, True, False),
    (dict(batch_first=True), False, None, "bool", False, True),
    (dict(bias=False), False, "float", "float", True, True),
    (dict(kdim=3, vdim=5), False, "bool", "bool", True, False),
    (dict(kdim=3, vdim=5, batch_first=True), False, None, "3d", True, True),
    (dict(add_bias_kv=True), True, "bool", "bool", True, True),
    (dict(add_zero_attn=True, batch_first=True), True, "float", "float", True, False),
    (dict(add_bias_kv=True, add_zero_attn=True, bias=False), False, None, "3d", False, True),
]


@pytest.mark.parametrize("kwargs, self_attention, padding, mask, need_weights, average", MHA_CASES)
def test_multihead_attention_matches_torch(kwargs, self_attention, padding, mask, need_weights, average):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kwargs).double()
    ours = nn.MultiheadAttention(8, 2, **kwargs, dtype=ag.float64)
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    batch, target, source = 3, 4, 4 if self_attention else 5
    bf = kwargs.get("batch_first", False)

    def seq(length, dim):
        return _randn(batch, length, dim) if bf else _randn(length, batch, dim)

    q = seq(target, 8)
    k, v = (q, q) if self_attention else (seq(source, kwargs.get("kdim", 8)), seq(source, kwargs.get("vdim", 8)))
    extra = {}
    if padding == "bool":
        pad = torch.zeros(batch, source, dtype=torch.bool)
        pad[0, -2:] = True
        extra["key_padding_mask"] = pad
    elif padding == "float":
        extra["key_padding_mask"] = torch.randn(batch, source, dtype=torch.float64)
    if mask == "bool":
        extra["attn_mask"] = ~_mask("bool", target, source)  # True = not allowed in MHA
    elif mask == "float":
        extra["attn_mask"] = _mask("float", target, source)
    elif mask == "3d":
        extra["attn_mask"] = _mask("float", target, source, (batch * 2,))
    out_t, w_t = theirs(q, k, v, need_weights=need_weights, average_attn_weights=average, **extra)
    q_o = to_ours(q)
    k_o, v_o = (q_o, q_o) if self_attention else (to_ours(k), to_ours(v))
    extra_o = {key: to_ours(value) for key, value in extra.items()}
    out_o, w_o = ours(q_o, k_o, v_o, need_weights=need_weights, average_attn_weights=average, **extra_o)
    assert_close(out_o, out_t)
    if need_weights:
        assert w_o.shape == tuple(w_t.shape)
        assert_close(w_o, w_t)
    else:
        assert w_o is None and w_t is None
    grad = torch.randn_like(out_t)
    out_t.backward(grad)
    (out_o * ag.tensor(grad.numpy())).sum().backward()
    assert_close(q_o.grad, q.grad)
    if not self_attention:
        assert_close(k_o.grad, k.grad)
        assert_close(v_o.grad, v.grad)
    for (n_o, p_o), (n_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n_o == n_t
        assert_close(p_o.grad, p_t.grad)


def test_multihead_attention_unbatched_matches_torch():
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(6, 3).double()
    ours = nn.MultiheadAttention(6, 3, dtype=ag.float64)
    copy_weights(ours, theirs)
    q, k = _randn(4, 6), _randn(5, 6)
    pad = torch.tensor([False, False, True, False, True])
    out_t, w_t = theirs(q, k, k, key_padding_mask=pad, average_attn_weights=False)
    out_o, w_o = ours(to_ours(q), to_ours(k), to_ours(k), key_padding_mask=to_ours(pad), average_attn_weights=False)
    assert_close(out_o, out_t)
    assert_close(w_o, w_t)
    assert w_o.shape == (3, 4, 5)


def test_multihead_attention_state_dict_and_init_as_torch():
    for kwargs in [dict(), dict(kdim=3, vdim=5), dict(bias=False, add_bias_kv=True)]:
        ours, theirs = nn.MultiheadAttention(8, 2, **kwargs), torch.nn.MultiheadAttention(8, 2, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
    mha = nn.MultiheadAttention(8, 2)
    assert np.all(mha.in_proj_bias.detach().numpy() == 0) and np.all(mha.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (8 + 24))  # xavier_uniform_ on the (24, 8) packed weight
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(4, 2)
    x = ag.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is \\(2, 3\\), but should be \\(3, 3\\)"):
        mha(x, x, x, attn_mask=ag.zeros(2, 3))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        mha(x, x, x, is_causal=True)


ENCODER_CASES = [
    # (layer kwargs, src_mask, key padding, is_causal)
    (dict(), None, None, False),
    (dict(batch_first=True, norm_first=True), "bool", None, False),
    (dict(activation="gelu"), "float", None, False),
    (dict(activation="gelu", norm_first=True, batch_first=True), None, "bool", False),
    (dict(layer_norm_eps=1e-3), "causal", None, True),
    (dict(bias=False, norm_first=True), "bool", "bool", False),
]


@pytest.mark.parametrize("kwargs, mask, padding, is_causal", ENCODER_CASES)
@pytest.mark.parametrize("stacked", [False, True])
def test_transformer_encoder_matches_torch(kwargs, mask, padding, is_causal, stacked):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs).double()
    ours = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs, dtype=ag.float64)
    mask_name = "src_mask"
    if stacked:
        theirs = torch.nn.TransformerEncoder(theirs, 2, norm=torch.nn.LayerNorm(8).double(),
                                             enable_nested_tensor=False)  # fmt: skip
        ours = nn.TransformerEncoder(ours, 2, norm=nn.LayerNorm(8, dtype=ag.float64))
        mask_name = "mask"
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    batch, length = 3, 5
    x = _randn(batch, length, 8) if kwargs.get("batch_first") else _randn(length, batch, 8)
    extra = {}
    if mask == "bool":
        extra[mask_name] = ~_mask("bool", length, length)
    elif mask == "float":
        extra[mask_name] = _mask("float", length, length)
    elif mask == "causal":
        extra[mask_name] = torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=torch.float64)
        extra["is_causal"] = True
    if padding == "bool":
        pad = torch.zeros(batch, length, dtype=torch.bool)
        pad[1, -2:] = True
        extra["src_key_padding_mask"] = pad
    out_t = theirs(x, **extra)
    x_o = to_ours(x)
    out_o = ours(x_o, **{key: to_ours(value) for key, value in extra.items()})
    assert_close(out_o, out_t)
    grad = torch.randn_like(out_t)
    out_t.backward(grad)
    (out_o * ag.tensor(grad.numpy())).sum().backward()
    assert_close(x_o.grad, x.grad)
    for (n_o, p_o), (n_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n_o == n_t
        assert_close(p_o.grad, p_t.grad)


def test_transformer_encoder_layer_names_and_callable_activation():
    ours = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.GELU())
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_transformer_encoder_layer_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = ag.randn(5, 2, 8)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_square_subsequent_mask_matches_torch():
    expected = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(generate_square_subsequent_mask(4).detach().numpy(), expected.numpy())
