"""Lookup tables: ``F.embedding`` and ``Embedding``.

The lookup is a pair of primitives (gather rows / scatter-add rows), each the other's VJP,
so repeated ids accumulate gradient and second-order gradients work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd as ag
from autograd._typing import Operand
from autograd.grad_mode import no_grad
from autograd.registry import composite, primitive
from autograd.tensor import Tensor

from . import init
from ._samples import integers, side, tensor
from .module import Module, Parameter

__all__ = ["embedding", "Embedding"]


@primitive("embedding_lookup", method=False, label="embedding", untested="tested through embedding, below")
def _embedding_lookup(weight: np.ndarray, *, indices: np.ndarray, padding_idx: int | None) -> np.ndarray:
    return weight[indices]


@_embedding_lookup.vjp
def _embedding_lookup_vjp(grad: Operand, weight_shape: tuple, indices: np.ndarray,
                          padding_idx: int | None, xp: Any) -> Operand:  # fmt: skip
    return xp.embedding_scatter(grad, indices=indices, num_weights=weight_shape[0],
                                padding_idx=padding_idx)  # fmt: skip


@primitive("embedding_scatter", method=False,
           untested="embedding's gradient: tested through embedding's second order")  # fmt: skip
def _embedding_scatter(grad: np.ndarray, *, indices: np.ndarray, num_weights: int,
                       padding_idx: int | None) -> np.ndarray:  # fmt: skip
    dim = grad.shape[-1]
    out = np.zeros((num_weights, dim), dtype=grad.dtype)
    # Repeated ids add up (np.add.at does not buffer); the padding row gets no gradient.
    np.add.at(out, indices.reshape(-1), grad.reshape(-1, dim))
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


@_embedding_scatter.vjp
def _embedding_scatter_vjp(grad: Operand, indices: np.ndarray, padding_idx: int | None,
                           xp: Any) -> Operand:  # fmt: skip
    out = xp.embedding_lookup(grad, indices=indices, padding_idx=padding_idx)
    if padding_idx is not None:
        out = out * (indices != padding_idx)[..., None].astype(grad.dtype)
    return out


def _embedding_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        rows, dim = side(draw, 2, 4), side(draw)
        index_shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
        indices = Tensor._from_array(integers(draw, index_shape, rows))  # repeats likely
        # No padding_idx here: it deliberately withholds a true gradient, which finite
        # differences would flag; tests/test_nn/test_layers.py checks it against PyTorch.
        return [indices, tensor(draw, (rows, dim))], {}

    return draw_inputs()


def _check_indices(op: str, input: Any, num_weights: int) -> np.ndarray:  # noqa: A002
    indices = input._data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected an integer (Long or Int) index tensor, got dtype {indices.dtype}; "
            "convert with .long()"
        )
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_weights:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}: index {bad} is out of range for a table of {num_weights} rows "
                f"(indices must be in [0, {num_weights - 1}])"
            )
    return indices


@composite("embedding", method=False, sample=_embedding_sample)
def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight`` by integer ids.

    ``padding_idx``'s row gets no gradient; with ``max_norm``, looked-up rows whose
    ``norm_type``-norm exceeds it are renormalised in place first (as PyTorch).

    Shape: input ``(*)`` integer, weight ``(num_embeddings, embedding_dim)``, output
    ``(*, embedding_dim)``.

    Example:
        >>> import autograd as ag, nn.functional as F
        >>> F.embedding(ag.tensor([2, 0]), ag.arange(6.0).reshape(3, 2))
        tensor([[4., 5.],
                [0., 1.]])
    """
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D, got shape {tuple(weight.shape)}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    num_weights = weight.shape[0]
    indices = _check_indices("embedding", input, num_weights)
    if padding_idx is not None:
        if not -num_weights <= padding_idx < num_weights:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings")
        padding_idx = padding_idx % num_weights
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    return _embedding_lookup(weight, indices=indices, padding_idx=padding_idx)


def _renorm_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    rows = np.unique(indices)
    with no_grad():
        data = weight._data
        norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
        over = norms > max_norm
        if over.any():
            scale = max_norm / (norms[over] + 1e-7)
            new = data.copy()
            new[rows[over]] *= scale[:, None].astype(data.dtype)
            weight.copy_(Tensor._from_array(new))


class Embedding(Module):
    """A learned table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by id.

    Initialised from N(0, 1) with the ``padding_idx`` row zeroed, as in PyTorch.

    Shape: ``(*) -> (*, embedding_dim)``.

    Example:
        >>> import autograd as ag, nn
        >>> nn.Embedding(10, 3, padding_idx=0)(ag.tensor([[0, 4]])).shape
        (1, 2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(ag.empty(num_embeddings, embedding_dim, dtype=dtype),
                                    requires_grad=not _freeze)  # fmt: skip
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Re-draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)  # fmt: skip

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:  # fmt: skip
        """Build an ``Embedding`` around a 2-D ``embeddings`` table (frozen by default)."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)  # fmt: skip
