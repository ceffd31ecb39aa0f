"""``nn.utils``: gradient clipping, flattening parameters to one vector, and (in
``nn.utils.rnn``) packing of variable-length sequences."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import autograd as ag
from autograd.tensor import Tensor

from . import rnn

TensorOrTensors = Tensor | Iterable[Tensor]

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
    "rnn",
]


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """``torch.linalg.vector_norm`` of a flattened array, in the array's dtype."""
    flat = array.reshape(-1)
    if flat.size == 0:
        return np.zeros((), dtype=array.dtype)
    if norm_type == 2.0:
        return np.sqrt(np.dot(flat, flat)).astype(array.dtype)
    return np.asarray(np.linalg.norm(flat, ord=norm_type)).astype(array.dtype)


def get_total_norm(
    tensors: TensorOrTensors,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` together, as if concatenated into one vector.

    ``norm_type`` may be ``float('inf')`` (or ``'inf'``) for the largest absolute value.

    Example:
        >>> import autograd as ag, nn.utils
        >>> nn.utils.get_total_norm([ag.tensor([3.0]), ag.tensor([4.0])])
        tensor(5.)
    """
    norm_type = float(norm_type)
    tensors = [t for t in _as_list(tensors) if t is not None]
    if not tensors:
        return ag.tensor(0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = [_vector_norm(t._data, norm_type) for t in tensors]
        dtype = np.result_type(*norms)
        total = _vector_norm(np.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._from_array(np.asarray(total))


def clip_grads_with_norm_(
    parameters: TensorOrTensors, max_norm: float, total_norm: Tensor | float
) -> None:
    """Scale the gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(max_norm / (total + 1e-6), 1.0).astype(total.dtype)
    for grad in grads:
        if not grad._data.flags.writeable:
            grad._data = np.array(grad._data)
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 gives nan, as in PyTorch
            np.multiply(grad._data, coef, out=grad._data, casting="unsafe")
        grad._version_counter[0] += 1


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale gradients in place so that their total norm is at most ``max_norm``.

    The norm is over all gradients together; each is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm before clipping (a 0-d
    Tensor). ``norm_type`` may be ``inf``. With ``error_if_nonfinite``, a nan or inf norm raises
    instead of turning every gradient into nan. ``foreach`` is accepted for PyTorch
    compatibility and ignored (every gradient is one vectorised NumPy operation).

    Example:
        >>> import autograd as ag, nn.utils
        >>> w = ag.tensor([3.0, 4.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
        tensor(10.)
        >>> w.grad
        tensor([0.6000, 0.8000])
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_norm(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_` (kept, as in PyTorch)."""
    import warnings

    warnings.warn(
        "`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(
    parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``.

    Example:
        >>> import autograd as ag, nn.utils
        >>> w = ag.tensor([1.0, -3.0], requires_grad=True)
        >>> (w * w).sum().backward()
        >>> nn.utils.clip_grad_value_([w], 1.0); w.grad
        tensor([ 1., -1.])
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        grad = p.grad
        if grad is None:
            continue
        if not grad._data.flags.writeable:
            grad._data = np.array(grad._data)
        np.clip(grad._data, -clip_value, clip_value, out=grad._data)
        grad._version_counter[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one vector (differentiable, as PyTorch).

    Shape: ``sum of numel`` -> ``(N,)``.

    Example:
        >>> import autograd as ag, nn.utils
        >>> nn.utils.parameters_to_vector([ag.ones(2, 2), ag.zeros(1)])
        tensor([1., 1., 1., 1., 0.])
    """
    parameters = _as_list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, but got {type(p).__name__}")
    return ag.cat([p.reshape(-1) for p in parameters])  # type: ignore[attr-defined]


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of ``vec`` into the parameters' data, in order (the inverse of the above).

    Like PyTorch's, it replaces each parameter's ``.data`` (bumping its version) and records no
    graph.

    Example:
        >>> import autograd as ag, nn.utils
        >>> a, b = ag.zeros(2), ag.zeros(1)
        >>> nn.utils.vector_to_parameters(ag.tensor([1.0, 2.0, 3.0]), [a, b]); a, b
        (tensor([1., 2.]), tensor([3.]))
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor for vec, but got: {type(vec).__name__}")
    parameters = _as_list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(
            f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not match the "
            f"parameters' {total} elements; expected shape ({total},)"
        )
    offset = 0
    for p in parameters:
        n = p.numel()
        p.data = Tensor._from_array(vec._data[offset : offset + n].reshape(p.shape))
        offset += n
