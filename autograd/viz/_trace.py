"""Recording what a drawing needs: gradient statistics during backward, values during forward."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..graph import Node
from ..tracing import TRACE

if TYPE_CHECKING:
    from ..tensor import Tensor

SMALL_GRAD = 16  # gradients with at most this many elements are kept in full (for labels)
METRICS = ("norm", "rms", "absmax", "absmean")


@dataclass(frozen=True)
class GradStats:
    """Summary of one gradient: what the gradient-flow view draws, without the array itself.

    ``values`` holds a copy of the gradient only when it has at most 16 elements (so 0-d,
    micrograd-style graphs can print exact gradients).
    """

    norm: float
    rms: float
    absmax: float
    absmean: float
    min: float
    mean: float
    max: float
    numel: int
    shape: tuple[int, ...]
    nonfinite: bool
    values: np.ndarray | None = None

    @classmethod
    def of(cls, array: np.ndarray) -> GradStats:
        """Summarise a gradient array."""
        array = np.asarray(array)
        numel = int(array.size)
        if numel == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, array.shape, False, array.copy())
        with np.errstate(over="ignore", invalid="ignore"):
            values = array.astype(np.float64, copy=False)
            absolute = np.abs(values)
            norm = float(np.sqrt(np.dot(values.ravel(), values.ravel())))
            # An infinite norm of finite values is an overflow, not a NaN/inf gradient.
            nonfinite = not math.isfinite(norm) and not bool(np.isfinite(values).all())
            stats = cls(
                norm=norm,
                rms=norm / math.sqrt(numel),
                absmax=float(absolute.max()),
                absmean=float(absolute.mean()),
                min=float(values.min()),
                mean=float(values.mean()),
                max=float(values.max()),
                numel=numel,
                shape=tuple(array.shape),
                nonfinite=nonfinite,
                values=array.copy() if numel <= SMALL_GRAD else None,
            )
        return stats

    @classmethod
    def combine(cls, parts: Sequence[GradStats]) -> GradStats:
        """Statistics of several gradients taken together (as if concatenated)."""
        numel = sum(p.numel for p in parts)
        if not parts or numel == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, (0,), False)
        norm = math.sqrt(sum(p.norm**2 for p in parts))
        return cls(
            norm=norm,
            rms=norm / math.sqrt(numel),
            absmax=max(p.absmax for p in parts),
            absmean=sum(p.absmean * p.numel for p in parts) / numel,
            min=min(p.min for p in parts),
            mean=sum(p.mean * p.numel for p in parts) / numel,
            max=max(p.max for p in parts),
            numel=numel,
            shape=(numel,),
            nonfinite=any(p.nonfinite for p in parts),
        )

    def metric(self, name: str) -> float:
        """The magnitude used for colouring: ``norm``, ``rms``, ``absmax`` or ``absmean``."""
        return float(getattr(self, name))


def stats_of(grad: Any) -> GradStats | None:
    """``GradStats`` of a gradient Tensor or array (``None`` stays ``None``)."""
    if grad is None:
        return None
    array = grad._data if hasattr(grad, "_data") else np.asarray(grad)
    return GradStats.of(array)


def _observe(target: Any, grads: Sequence[Any]) -> None:
    # Leaves are skipped: one leaf may be reached several times per backward (one partial
    # gradient per use); their total is read from ``.grad`` when drawing.
    if isinstance(target, Node):
        target.grad_stats = tuple(stats_of(g) for g in grads)


class record:
    """Record what ``draw_graph`` shows after backward, without keeping the saved arrays.

    Inside the block, every backward stores a small ``GradStats`` summary (norm, min, mean,
    max, NaN/inf flag; the full gradient only when it has at most 16 elements) on each node
    it reaches, so ``draw_graph(..., grad_flow=True)`` or ``show_grads=True`` works after a
    normal ``backward()`` that freed the graph. With ``values=True`` the forward ops run in
    the block also keep a reference to their output arrays, for ``show_values=True`` (this
    keeps those arrays alive as long as the graph is: use it for small graphs or debugging).
    With ``cuts=True`` the block also records where the forward leaves the graph
    (``detach()``, ``.data``, ``no_grad()``, integer casts, ``argmax``/comparisons) and the line
    of every op, so ``ag.explain_grad`` can name the op and line that cut a path (this watches
    every op call: meant for debugging).

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> with ag.viz.record(values=True):
        ...     loss = (x.sigmoid() * 3).sum()
        ...     loss.backward()
        >>> dot = ag.viz.draw_graph(loss, show_values=True, grad_flow=True)
    """

    def __init__(self, values: bool = False, grads: bool = True, cuts: bool = False) -> None:
        self.values = values
        self.grads = grads
        self.cuts = cuts
        self._saved: tuple[bool, Callable | None] | None = None
        self._track: Any = None

    def __enter__(self) -> record:
        if self.cuts:
            from .._cuts import track

            self._track = track()
            self._track.__enter__()
        self._saved = (TRACE.keep_values, TRACE.grad_observer)
        if self.values:
            TRACE.keep_values = True
        if self.grads:
            previous = TRACE.grad_observer
            if previous is None:
                TRACE.grad_observer = _observe
            else:

                def chained(target: Any, grads: list) -> None:
                    _observe(target, grads)
                    previous(target, grads)

                TRACE.grad_observer = chained
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self._saved is not None, "record.__exit__ without __enter__"
        TRACE.keep_values, TRACE.grad_observer = self._saved
        self._saved = None
        if self._track is not None:
            self._track.__exit__(*exc_info)
            self._track = None


def compute_gradients(roots: Sequence[Tensor], leaves: Sequence[Tensor]) -> dict[int, GradStats]:
    """Run a side-effect-free backward (``ag.grad`` with ``retain_graph=True``) while recording.

    Node statistics land on the nodes; the leaves' gradient statistics are returned by
    ``id``. ``.grad`` attributes are not touched.
    """
    from ..engine import grad

    for root in roots:
        if root._data.size != 1:
            raise RuntimeError(
                f"draw_graph: gradients were requested but none were recorded, and the root has "
                f"shape {tuple(root.shape)} (not a scalar); run your backward inside "
                "`with ag.viz.record():` and draw afterwards"
            )
    wanted = [leaf for leaf in leaves if leaf.requires_grad]
    if not wanted:
        return {}
    with record():
        results = grad(list(roots), wanted, retain_graph=True, allow_unused=True)
    return {
        id(leaf): stats for leaf, g in zip(wanted, results) if (stats := stats_of(g)) is not None
    }
