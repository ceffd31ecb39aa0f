"""Linear algebra: matmul (batched, broadcasting), mm, bmm, dot, outer, einsum."""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from .._typing import Operand
from ..registry import composite, primitive
from ..tensor import Tensor
from ._samples import matmul_shapes, tensor
from ._shapes import shape_str

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum", "mv", "tensordot"]


def _check_matmul(op: str, x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(
            f"{op}: both arguments need at least 1 dim, got shapes {shape_str(x.shape)} and "
            f"{shape_str(y.shape)}"
        )
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise RuntimeError(
            f"{op}: shapes {shape_str(x.shape)} and {shape_str(y.shape)} cannot be multiplied "
            f"({inner_x} vs {inner_y} in the contracted dim)"
        )
    if x.ndim > 2 or y.ndim > 2:
        try:
            np.broadcast_shapes(x.shape[:-2], y.shape[:-2] if y.ndim > 1 else ())
        except ValueError:
            raise RuntimeError(
                f"{op}: batch dims of {shape_str(x.shape)} and {shape_str(y.shape)} are not "
                "broadcastable"
            ) from None


@primitive("matmul", shapes=matmul_shapes(), explain=_check_matmul)
def matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.matmul(x, y)


@matmul.vjp
def _matmul_vjp(grad: Operand, x: Operand, y: Operand, needs_input_grad: tuple,
                xp: Any) -> tuple:  # fmt: skip
    grad_x = grad_y = None
    if x.ndim == 1 and y.ndim == 1:
        return (
            grad * y if needs_input_grad[0] else None,
            grad * x if needs_input_grad[1] else None,
        )
    if x.ndim == 1:
        if needs_input_grad[0]:
            grad_x = xp.squeeze(xp.unsqueeze(grad, -2) @ y.mT, -2)
        if needs_input_grad[1]:
            grad_y = xp.unsqueeze(x, -1) @ xp.unsqueeze(grad, -2)
        return grad_x, grad_y
    if y.ndim == 1:
        if needs_input_grad[0]:
            grad_x = xp.unsqueeze(grad, -1) @ xp.unsqueeze(y, -2)
        if needs_input_grad[1]:
            grad_y = xp.squeeze(x.mT @ xp.unsqueeze(grad, -1), -1)
        return grad_x, grad_y
    # Batch dims that were broadcast are summed back by the engine.
    if needs_input_grad[0]:
        grad_x = grad @ y.mT
    if needs_input_grad[1]:
        grad_y = x.mT @ grad
    return grad_x, grad_y


def _require(op: str, t: Tensor, ndim: int, name: str) -> None:
    if t.ndim != ndim:
        raise RuntimeError(f"{op}: {name} must be {ndim}-D, got shape {shape_str(t.shape)}")


@composite("mm", shapes=matmul_shapes("mm"))
def mm(x: Tensor, y: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    _require("mm", x, 2, "self")
    _require("mm", y, 2, "mat2")
    _check_matmul("mm", x._data, y._data)
    return matmul(x, y)


@composite("bmm", shapes=matmul_shapes("bmm"))
def bmm(x: Tensor, y: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors with the same batch size."""
    _require("bmm", x, 3, "self")
    _require("bmm", y, 3, "mat2")
    _check_matmul("bmm", x._data, y._data)
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {shape_str(x.shape)} vs {shape_str(y.shape)}")
    return matmul(x, y)


@composite("dot", shapes=matmul_shapes("dot"))
def dot(x: Tensor, y: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of equal length."""
    _require("dot", x, 1, "self")
    _require("dot", y, 1, "tensor")
    _check_matmul("dot", x._data, y._data)
    return matmul(x, y)


@composite("mv", shapes=matmul_shapes("mv"))
def mv(x: Tensor, y: Tensor) -> Tensor:
    """Matrix-vector product."""
    _require("mv", x, 2, "self")
    _require("mv", y, 1, "vec")
    _check_matmul("mv", x._data, y._data)
    return matmul(x, y)


@composite("outer", shapes=matmul_shapes("dot"))
def outer(x: Tensor, y: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    _require("outer", x, 1, "self")
    _require("outer", y, 1, "vec2")
    return x.unsqueeze(1) * y.unsqueeze(0)


def _parse_equation(equation: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """Expand ``...`` into letters and add the implicit output, giving explicit subscripts."""
    equation = equation.replace(" ", "")
    inputs_part, arrow, output = equation.partition("->")
    subscripts = inputs_part.split(",")
    if len(subscripts) != len(shapes):
        raise RuntimeError(
            f"einsum: the equation has {len(subscripts)} operands but {len(shapes)} were given"
        )
    used = set(equation) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = 0
    for sub, shape in zip(subscripts, shapes):
        if "..." in sub:
            ellipsis_rank = max(ellipsis_rank, len(shape) - (len(sub) - 3))
    ellipsis = "".join(spare[:ellipsis_rank])
    expanded = []
    for sub, shape in zip(subscripts, shapes):
        if "..." in sub:
            rank = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ellipsis[ellipsis_rank - rank :])
        if len(sub) != len(shape):
            raise RuntimeError(
                f"einsum: subscripts {sub!r} do not match an operand of shape {shape_str(shape)}"
            )
        expanded.append(sub)
    _check_sizes(expanded, shapes)
    if arrow:
        output = output.replace("...", ellipsis)
        for c in output:
            if not any(c in sub for sub in expanded):
                raise RuntimeError(
                    f"einsum: output subscript {c!r} does not appear in any input operand"
                )
    else:
        counts: dict[str, int] = {}
        for sub in expanded:
            for c in sub:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis)
        )
    return expanded, output


def _check_sizes(subscripts: list[str], shapes: list[tuple]) -> None:
    seen: dict[str, int] = {}
    for i, (sub, shape) in enumerate(zip(subscripts, shapes)):
        for c, size in zip(sub, shape):
            known = seen.setdefault(c, size)
            if known != size and 1 not in (known, size):
                raise RuntimeError(
                    f"einsum: subscript {c!r} has size {size} for operand {i} which does not "
                    f"broadcast with size {known} seen before (shapes "
                    f"{', '.join(shape_str(s) for s in shapes)})"
                )
            seen[c] = size if known == 1 else known


_EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij,j->i", [(2, 3), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),
    ("ijk,ik->j", [(2, 3, 2), (2, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ii->i", [(3, 3)]),
]


def _einsum_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        equation, shapes = draw(st.sampled_from(_EINSUM_CASES))
        return [tensor(draw, s) for s in shapes], {"equation": equation}

    return draw_inputs()


@primitive("einsum", method=False, sample=_einsum_sample)
def _einsum(*operands: np.ndarray, equation: str) -> np.ndarray:
    subscripts, output = _parse_equation(equation, [o.shape for o in operands])
    return np.einsum(",".join(subscripts) + "->" + output, *operands, optimize=len(operands) > 2)


@_einsum.vjp
def _einsum_vjp(grad: Operand, operands: list, equation: str, needs_input_grad: tuple,
                xp: Any) -> tuple:  # fmt: skip
    subscripts, output = _parse_equation(equation, [tuple(o.shape) for o in operands])
    grads: list[Operand | None] = []
    for i, sub in enumerate(subscripts):
        if not needs_input_grad[i]:
            grads.append(None)
            continue
        shape = tuple(operands[i].shape)
        sizes = {c: shape[sub.index(c)] for c in sub}
        unique = "".join(dict.fromkeys(sub))
        others = [s for j, s in enumerate(subscripts) if j != i]
        available = set(output).union(*others) if others else set(output)
        kept = "".join(c for c in unique if c in available)
        terms = [output] + others
        tensors = [grad] + [o for j, o in enumerate(operands) if j != i]
        partial = xp.einsum(*tensors, equation=",".join(terms) + "->" + kept)
        # Size-1 dims of this operand broadcast against the others: the gradient keeps the
        # full size and the engine sums it back.
        sizes.update({c: max(sizes[c], partial.shape[k]) for k, c in enumerate(kept)})
        if kept != unique:
            # Letters summed away inside this operand alone: the gradient is constant along them.
            view = tuple(sizes[c] if c in kept else 1 for c in unique)
            partial = partial.reshape(view)
        target = tuple(sizes[c] for c in unique)
        if tuple(partial.shape) != target:
            partial = xp.expand(partial, shape=target)  # the others' size-1 dims broadcast
        if unique != sub:
            partial = _embed_diagonals(partial, unique, sub, sizes, xp)
        grads.append(partial)
    return tuple(grads)


def _embed_diagonals(partial: Operand, unique: str, sub: str, sizes: dict, xp: Any) -> Operand:
    """Place the gradient of ``einsum('ii->i')``-style diagonals back on the diagonal.

    Each repeated letter gets a fresh name joined to the first by an identity matrix, so this
    is one more einsum and stays twice differentiable.
    """
    spare = iter(c for c in string.ascii_letters if c not in sub)
    renamed, eyes, terms, seen = "", [], [unique], set()
    for c in sub:
        if c in seen:
            fresh = next(spare)
            renamed += fresh
            terms.append(c + fresh)
            eyes.append(np.eye(sizes[c], dtype=partial.dtype))
        else:
            renamed += c
            seen.add(c)
    return xp.einsum(partial, *eyes, equation=",".join(terms) + "->" + renamed)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum`` (operands as arguments or one list).

    Example:
        >>> import autograd as ag
        >>> ag.einsum("ij,jk->ik", ag.ones(2, 3), ag.ones(3, 4)).shape
        (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(*operands, equation=equation)


def _tensordot_sample() -> Any:
    from hypothesis import strategies as st

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        contracted = draw(st.lists(st.integers(1, 3), max_size=2))
        free_a = draw(st.lists(st.integers(1, 3), max_size=2))
        free_b = draw(st.lists(st.integers(1, 3), max_size=2))
        if draw(st.booleans()):  # dims=n: the last n of a against the first n of b
            a, b = tensor(draw, free_a + contracted), tensor(draw, contracted + free_b)
            return [a, b], {"dims": len(contracted)}
        order_a = draw(st.permutations(list(range(len(free_a) + len(contracted)))))
        order_b = draw(st.permutations(list(range(len(free_b) + len(contracted)))))
        shape_a, shape_b = [0] * len(order_a), [0] * len(order_b)
        for k, size in enumerate(free_a + contracted):
            shape_a[order_a[k]] = size
        for k, size in enumerate(contracted + free_b):
            shape_b[order_b[k]] = size
        dims_a = [order_a[len(free_a) + k] for k in range(len(contracted))]
        dims_b = [order_b[k] for k in range(len(contracted))]
        a, b = tensor(draw, tuple(shape_a)), tensor(draw, tuple(shape_b))
        return [a, b], {"dims": (dims_a, dims_b)}

    return draw_inputs()


@composite("tensordot", method=False, sample=_tensordot_sample)
def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract dims of ``a`` with dims of ``b``: ``dims=n`` pairs the last ``n`` dims of ``a``
    with the first ``n`` of ``b``; ``dims=([1, 0], [0, 2])`` names them.

    Example:
        >>> import autograd as ag
        >>> ag.tensordot(ag.ones(2, 3, 4), ag.ones(3, 4, 5)).shape
        (2, 5)
    """
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot: expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} exceeds the dims of {shape_str(a.shape)} "
                               f"or {shape_str(b.shape)}")  # fmt: skip
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        first, second = dims
        dims_a = [first] if isinstance(first, int) else list(first)
        dims_b = [second] if isinstance(second, int) else list(second)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got "
                           f"{dims_a} and {dims_b}")  # fmt: skip
    from ._shapes import normalize_dim

    dims_a = [normalize_dim(d, a.shape, "tensordot") for d in dims_a]
    dims_b = [normalize_dim(d, b.shape, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in dim {db}"
            )
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    inner = int(np.prod([a.shape[d] for d in dims_a], dtype=np.int64))
    left = a.permute(*(free_a + dims_a)).reshape(-1, inner)
    right = b.permute(*(dims_b + free_b)).reshape(inner, -1)
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return matmul(left, right).reshape(shape)
