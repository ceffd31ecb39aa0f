"""Attention: ``F.scaled_dot_product_attention``, ``F.multi_head_attention_forward`` and
``MultiheadAttention``, with PyTorch's parameter names, mask conventions and return values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd as ag
from autograd.registry import composite
from autograd.tensor import Tensor

from . import init
from .dropout import dropout
from .linear import Linear, linear
from .module import Module, Parameter

__all__ = [
    "scaled_dot_product_attention", "multi_head_attention_forward", "MultiheadAttention",
    "NonDynamicallyQuantizableLinear",
]  # fmt: skip

_NEG_INF = float("-inf")


def _sdpa_sample() -> Any:
    from hypothesis import strategies as st

    from ._samples import side, tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        lead = tuple(draw(st.lists(st.integers(1, 2), min_size=0, max_size=2)))
        target, source, embed, embed_v = side(draw), side(draw), side(draw), side(draw)
        query = tensor(draw, lead + (target, embed))
        key = tensor(draw, lead + (source, embed))
        value = tensor(draw, lead + (source, embed_v))
        kwargs: dict = {}
        kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
        if kind == "causal":
            kwargs["is_causal"] = True
        elif kind == "bool":
            flags = draw(
                st.lists(st.booleans(), min_size=target * source, max_size=target * source)
            )
            mask = np.asarray(flags, dtype=bool).reshape(target, source)
            mask[:, 0] = True  # every query attends somewhere, so no row is all -inf
            kwargs["attn_mask"] = Tensor._from_array(mask)
        elif kind == "float":
            kwargs["attn_mask"] = tensor(draw, (target, source), requires_grad=False)
        if draw(st.booleans()):
            kwargs["scale"] = draw(st.floats(0.1, 1.0))
        return [query, key, value], kwargs

    return draw_inputs()


@composite("scaled_dot_product_attention", method=False, tensors=3, sample=_sdpa_sample)
def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
    dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:  # fmt: skip
    """Compute ``softmax(Q K^T * scale + mask) V``.

    ``attn_mask`` is a bool mask (True: the position takes part, as PyTorch) or a float mask
    added to the scores; ``is_causal`` lets query ``i`` attend to keys ``j <= i``. ``scale``
    defaults to ``1 / sqrt(E)``. ``dropout_p`` drops attention weights (always, as PyTorch's
    function; pass ``0.0`` in evaluation). Rows with every key masked give zeros, as PyTorch.
    With ``enable_gqa``, key and value may have fewer heads (dim -3) than the query.

    Shape: query ``(*, L, E)``, key ``(*, S, E)``, value ``(*, S, Ev)``, mask broadcastable to
    ``(*, L, S)``; output ``(*, L, Ev)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> q = k = v = ag.randn(2, 4, 5, 8)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 5, 8)
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must be at least 2-D "
            f"(query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)})"
        )
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query (*, L, E), key (*, S, E) and value "
            f"(*, S, Ev), got query {tuple(query.shape)}, key {tuple(key.shape)}, value "
            f"{tuple(value.shape)}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "scaled_dot_product_attention: explicit attn_mask should not be set when is_causal=True"
        )
    if enable_gqa:
        key, value = _repeat_kv_heads(query, key), _repeat_kv_heads(query, value)
    target, source = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale_factor
    keep = None
    if is_causal:
        keep = Tensor._from_array(np.tril(np.ones((target, source), dtype=bool)))
    elif attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = ag.tensor(attn_mask)
        if attn_mask.dtype == ag.bool:
            keep = attn_mask
        elif attn_mask.dtype.kind == "f":
            scores = scores + attn_mask.to(scores.dtype)
        else:
            raise RuntimeError(
                "scaled_dot_product_attention: attn_mask must be bool or floating, got "
                f"{attn_mask.dtype}"
            )
    if keep is not None:
        scores = scores.masked_fill(~keep, _NEG_INF)
    weights = scores.softmax(-1)
    if keep is not None or attn_mask is not None:
        # PyTorch's "safe softmax": a query that may attend to nothing gets zero weights, not NaN.
        dead = (scores.detach() == _NEG_INF).all(-1, keepdim=True)
        if bool(dead.any()):
            weights = ag.where(dead, ag.zeros((), dtype=weights.dtype), weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def _repeat_kv_heads(query: Tensor, kv: Tensor) -> Tensor:
    """Repeat each key/value head ``Hq / Hkv`` times along dim -3 (grouped-query attention)."""
    if query.ndim < 3 or kv.ndim < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa needs (*, H, L, E) inputs")
    heads, kv_heads = query.shape[-3], kv.shape[-3]
    if heads % kv_heads:
        raise RuntimeError(
            f"scaled_dot_product_attention: number of heads in key/value ({kv_heads}) must "
            f"divide the number of heads in query ({heads})"
        )
    repeats = heads // kv_heads
    if repeats == 1:
        return kv
    lead = tuple(kv.shape[:-3])
    expanded = kv.unsqueeze(-3).expand(*lead, kv_heads, repeats, *kv.shape[-2:])
    return expanded.reshape(*lead, heads, *kv.shape[-2:])


def _canonical_mask(mask: Any, name: str, dtype: Any) -> Tensor | None:
    """Turn a bool mask (True = masked out, MultiheadAttention's convention) into an additive one."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = ag.tensor(mask)
    if mask.dtype == ag.bool:
        additive = np.where(
            mask._data, np.asarray(_NEG_INF, dtype=dtype), np.asarray(0.0, dtype=dtype)
        )
        return Tensor._from_array(additive)
    if mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask.to(dtype)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
    bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
    out_proj_bias: Tensor | None, training: bool = True, key_padding_mask: Tensor | None = None,
    need_weights: bool = True, attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
    average_attn_weights: bool = True, is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:  # fmt: skip
    """Multi-head attention on time-major inputs, as ``torch.nn.functional``'s.

    Masks follow ``MultiheadAttention``: bool True means *not allowed*; float masks are added.

    Shape: query ``(L, N, E)`` (or ``(L, E)``), key ``(S, N, E_k)``, value ``(S, N, E_v)``,
    key_padding_mask ``(N, S)``, attn_mask ``(L, S)`` or ``(N * num_heads, L, S)``; returns
    ``(L, N, E)`` and weights ``(N, L, S)`` (``(N, num_heads, L, S)`` unaveraged) or None.
    """
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            "query, key and value must all be 3-D (batched) or 2-D (unbatched), got "
            f"{query.ndim}-D, {key.ndim}-D and {value.ndim}-D"
        )
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    target, batch, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    dtype = query.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )
    attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)

    if not use_separate_proj_weight:
        if key.shape != value.shape:
            raise AssertionError(
                f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q, k, v = (
            linear(query, q_proj_weight, b_q),
            linear(key, k_proj_weight, b_k),
            linear(value, v_proj_weight, b_v),
        )

    source = key.shape[0]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (target, source):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(target, source)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (batch * num_heads, target, source):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(batch * num_heads, target, source)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        k = ag.cat([k, bias_k.expand(1, batch, embed_dim)])
        v = ag.cat([v, bias_v.expand(1, batch, embed_dim)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    q = q.reshape(target, batch * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], batch * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], batch * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = ag.zeros(batch * num_heads, 1, head_dim, dtype=k.dtype)
        k, v = ag.cat([k, zeros], 1), ag.cat([v, zeros], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    source = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(batch, source)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        padding = key_padding_mask.reshape(batch, 1, 1, source).expand(batch, num_heads, 1, source)
        padding = padding.reshape(batch * num_heads, 1, source)
        attn_mask = padding if attn_mask is None else attn_mask + padding

    scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = scores.softmax(-1)
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    out = (weights @ v).transpose(0, 1).reshape(target * batch, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(target, batch, -1)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.reshape(batch, num_heads, target, source)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """Append one zero (= attend) column to an additive mask."""
    if mask is None:
        return None
    zeros = ag.zeros(*mask.shape[:-1], 1, dtype=mask.dtype)
    return ag.cat([mask, zeros], -1)


def _in_projection_packed(query: Tensor, key: Tensor, value: Tensor, weight: Tensor,
                          bias: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    embed_dim = query.shape[-1]
    if key is value and query is key:
        # Self-attention: one GEMM for all three projections.
        qkv = linear(query, weight, bias)
        return qkv[..., :embed_dim], qkv[..., embed_dim : 2 * embed_dim], qkv[..., 2 * embed_dim :]
    w_q, w_k, w_v = weight.chunk(3)
    b_q = b_k = b_v = None
    if bias is not None:
        b_q, b_k, b_v = bias.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under PyTorch's name for ``MultiheadAttention.out_proj`` (same repr)."""


class MultiheadAttention(Module):
    """Multi-head attention: project, attend per head with scaled dot products, project back.

    Parameters as PyTorch: ``in_proj_weight`` ``(3E, E)`` (or ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from ``embed_dim``),
    ``in_proj_bias`` ``(3E,)``, ``out_proj`` (a Linear), optional ``bias_k``/``bias_v``.
    ``forward`` returns ``(attn_output, attn_weights)``; masks use True = *not allowed*.

    Shape: query ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``, or ``(L, E)``), key and
    value ``(S, N, E_k)``/``(S, N, E_v)``; output like query, weights ``(N, L, S)``.

    Example:
        >>> import autograd as ag, nn
        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = ag.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    bias_k: Parameter | None
    bias_v: Parameter | None

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(ag.empty(embed_dim, embed_dim, dtype=dtype))
            self.k_proj_weight = Parameter(ag.empty(embed_dim, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(ag.empty(embed_dim, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(ag.empty(3 * embed_dim, embed_dim, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ag.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, dtype=dtype
        )
        if add_bias_kv:
            self.bias_k = Parameter(ag.empty(1, 1, embed_dim, dtype=dtype))
            self.bias_v = Parameter(ag.empty(1, 1, embed_dim, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:  # fmt: skip
        batched = query.ndim == 3
        if self.batch_first and batched:
            # Keep identities (self-attention uses one fused projection).
            if key is value:
                if query is key:
                    query = key = value = query.transpose(0, 1)
                else:
                    query, key = query.transpose(0, 1), key.transpose(0, 1)
                    value = key
            else:
                query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )  # fmt: skip
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        return out, weights
