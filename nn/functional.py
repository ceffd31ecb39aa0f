"""``nn.functional`` (imported as ``F``): re-exports of the functions defined next to each layer.

There is no second implementation here: ``F.linear`` is ``nn.linear.linear``, and so on.
"""

from __future__ import annotations

from .activation import (
    celu,
    elu,
    gelu,
    gumbel_softmax,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
    tanhshrink,
)
from .activation_piecewise import hardsigmoid, hardswish, hardtanh, prelu, relu6, threshold
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .conv import conv1d, conv2d
from .conv_transpose import conv_transpose1d, conv_transpose2d
from .distance import cosine_similarity, pairwise_distance
from .dropout import dropout, dropout1d, dropout2d, dropout3d
from .fold import fold, unfold
from .linear import bilinear, linear
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import batch_norm, group_norm, layer_norm, normalize
from .padding import one_hot, pad
from .pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from .pooling_adaptive import adaptive_max_pool1d, adaptive_max_pool2d
from .sparse import embedding
from .upsampling import interpolate, upsample, upsample_bilinear, upsample_nearest

__all__ = [
    "linear", "relu", "leaky_relu", "gelu", "silu", "elu", "tanh", "sigmoid", "softplus",
    "softmax", "log_softmax", "dropout", "batch_norm", "layer_norm", "embedding", "pad",
    "one_hot", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "mse_loss", "l1_loss", "smooth_l1_loss",
    "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "scaled_dot_product_attention",
    "multi_head_attention_forward", "relu6", "hardtanh", "prelu", "mish", "selu", "celu",
    "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "threshold",
    "group_norm", "normalize", "dropout1d", "dropout2d", "dropout3d", "bilinear",
    "cosine_similarity", "pairwise_distance", "gumbel_softmax", "conv_transpose1d",
    "conv_transpose2d", "unfold", "fold", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear", "adaptive_max_pool1d", "adaptive_max_pool2d",
]  # fmt: skip
