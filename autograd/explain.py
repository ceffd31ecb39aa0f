"""``explain_grad``: why a tensor's gradient is None, zero or vanishing, in plain words.

The verdict comes from the graph itself (is there a path, is the tensor a leaf, does it
require grad), from one side-effect-free backward watched node by node (which op turns the
gradient into zeros, which ones shrink it) and, when the forward ran inside
``ag.viz.record(cuts=True)``, from a record of where the forward left the graph
(``detach()``, ``.data``, ``no_grad()``, integer casts, ``argmax``/comparisons) and on which line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _cuts
from ._explain_paths import _path, _reachable, _watched_gradient, _zero_culprits
from ._explain_text import (
    _MODULE_NAMES,
    _describe_tensor,
    _module_names,
    _names,
    _num,
    _op,
    _shape,
    _where,
)
from .graph import Node
from .tensor import Tensor

if TYPE_CHECKING:
    from .viz._render import VizGraph

VANISHING = 1e-6


@dataclass
class Reason:
    """One finding: a kind (``no-path``, ``cut``, ``leaf-no-grad``, ``non-leaf``, ``zero``,
    ``vanishing``, ``integer``, ``no-graph``, ``freed``, ``ok``), the text, and where."""

    kind: str
    text: str
    node: Node | None = None
    slot: int | None = None
    cut: Any = None


@dataclass
class GradExplanation:
    """The answer of ``explain_grad``: ``str()`` is the explanation, ``draw()`` the picture.

    Attributes:
        verdict: ``'none'`` (no gradient reaches ``.grad``), ``'zero'``, ``'vanishing'`` or
            ``'ok'``.
        reasons: the findings, most important first.
        gradient: the gradient of the output with respect to the tensor (an array), when it
            could be computed (None if there is no path or the graph was freed).
        path: the nodes on the paths from the output to the tensor, in backward order.
    """

    tensor: Tensor
    output: Tensor
    verdict: str
    reasons: list[Reason]
    gradient: np.ndarray | None = None
    path: list[Node] = field(default_factory=list)
    name: str = "tensor"
    output_name: str = "output"
    params: Any = None

    def __str__(self) -> str:
        lines = [self.reasons[0].text] if self.reasons else []
        for reason in self.reasons[1:]:
            lines.append("  - " + reason.text)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def draw(self, **kwargs: Any) -> VizGraph:
        """The graph of the output with the path to the tensor in orange and the cut in red.

        Keyword arguments go to ``ag.viz.draw_graph``.
        """
        from .viz._explain_draw import draw_explanation

        return draw_explanation(self, **kwargs)


def explain_grad(
    tensor: Tensor, output: Tensor, *, params: Any = None, vanishing: float = VANISHING
) -> GradExplanation:
    """Explain why ``tensor``'s gradient with respect to ``output`` is None, zero or tiny.

    It names the op and, where known, the line: no path at all; a path cut by ``detach()``,
    ``no_grad()``, ``.data`` or a cast to an integer dtype; an integer-valued op on the way
    (``argmax``, comparisons); a non-leaf without ``retain_grad()``; a leaf with
    ``requires_grad=False``; a zero gradient from dead ReLUs, a saturated sigmoid/tanh,
    ``clamp`` outside its range or a max/min that picked another element (with the fraction
    of zeros); a vanishing gradient (which ops shrink it, by how much). When the gradient is
    fine, it says so. To name the line of a cut, run the forward inside
    ``ag.viz.record(cuts=True)``; ops carry their line under that and under
    ``ag.detect_anomaly()``. Values are read before ``backward()`` frees them (or after
    ``backward(retain_graph=True)``).

    Args:
        params: names for tensors (a Module, a dict or pairs); parameters of the modules that
            built the graph are named automatically.
        vanishing: gradients with a smaller norm are called vanishing.

    Returns:
        A ``GradExplanation``: ``str()`` is the explanation, ``.verdict`` one of ``'none'``,
        ``'zero'``, ``'vanishing'``, ``'ok'``, ``.draw()`` the path with the cut marked.

    Example:
        >>> import autograd as ag
        >>> x = ag.tensor([-1.0, -2.0], requires_grad=True)
        >>> loss = x.relu().sum()
        >>> print(ag.explain_grad(x, loss, params={"x": x}))  # doctest: +ELLIPSIS
        The gradient of output with respect to x is zero everywhere...
    """
    for value, what in ((tensor, "tensor"), (output, "output")):
        if not isinstance(value, Tensor):
            raise TypeError(f"explain_grad: {what} must be a Tensor, got {type(value).__name__}")
    return _Explainer(tensor, output, params, vanishing).run()


class _Explainer:
    def __init__(self, tensor: Tensor, output: Tensor, params: Any, vanishing: float) -> None:
        self.t, self.o = tensor, output
        self.params = params
        self.vanishing = vanishing
        self.nodes, self.leaves = _reachable(output)
        self.names = _names(output, params, self.nodes)
        self.tname = self.names.get(id(tensor)) or _describe_tensor(tensor)
        self.oname = self.names.get(id(output)) or "output"

    def result(self, verdict: str, reasons: list[Reason], **extra: Any) -> GradExplanation:
        return GradExplanation(
            self.t, self.o, verdict, reasons, name=self.tname, output_name=self.oname,
            params=self.params, **extra,
        )  # fmt: skip

    def run(self) -> GradExplanation:
        token = _MODULE_NAMES.set(_module_names(self.nodes))
        try:
            return self._run()
        finally:
            _MODULE_NAMES.reset(token)

    def _run(self) -> GradExplanation:
        t, o = self.t, self.o
        if t.dtype.kind != "f":
            return self.result("none", [Reason("integer", (
                f"{self.tname} has dtype {t.dtype}: only floating-point tensors have gradients "
                "(convert it with .float() before using it, and make that the leaf)"
            ))])  # fmt: skip
        if t.is_leaf and not t._requires_grad:
            reasons = [Reason("leaf-no-grad", (
                f"{self.tname}.grad will be None: {self.tname} is a leaf with "
                "requires_grad=False, so backward never computes its gradient; create it with "
                f"requires_grad=True (or call {self.tname}.requires_grad_()) before the forward"
            ))]  # fmt: skip
            reasons += self._constant_uses()
            return self.result("none", reasons)
        if not o.requires_grad:
            return self.result("none", self._no_graph())
        if not self._reaches():
            return self.result("none", self._no_path())
        return self._with_path()

    def _reaches(self) -> bool:
        if self.t.grad_fn is not None:
            return self.t.grad_fn in self.nodes or self.t is self.o
        return id(self.t) in self.leaves or self.t is self.o

    def _no_graph(self) -> list[Reason]:
        o = self.oname
        reasons = []
        if self.o.dtype.kind != "f":
            reasons.append(Reason("integer", (
                f"{o} has dtype {self.o.dtype}: it was made by an integer-valued op (a comparison, "
                "argmax, a cast to an integer dtype), which has no gradient, so nothing flows "
                f"back to {self.tname}"
            )))  # fmt: skip
        cut = _cuts.cut_of(self.o)
        if cut is not None and _cuts.reaches(cut, self.t):
            chain = _cuts.describe_chain(cut, self.t, self.tname)
            reasons.append(Reason("cut", f"{o} has no graph: {chain}", cut=cut))
        if not reasons:
            reasons.append(Reason("no-graph", (
                f"{o} does not require grad, so it has no graph and backward can't reach "
                f"{self.tname}: it was computed under no_grad(), from detached tensors or "
                "tensors that need no gradient" + _cuts.hint()
            )))  # fmt: skip
        else:
            reasons[0].text = f"{self.tname}'s gradient is None: " + reasons[0].text
        return reasons

    def _no_path(self) -> list[Reason]:
        head = f"No path from {self.tname} to {self.oname}"
        for node in self.nodes:
            for slot, cut in _cuts.node_cuts(node):
                if _cuts.reaches(cut, self.t):
                    where = _where(node)
                    chain = _cuts.describe_chain(cut, self.t, self.tname)
                    text = (
                        f"{head}: the path is cut. {chain}; what comes out reaches "
                        f"{_op(node)}{where} as input {slot}, which needs no gradient"
                    )
                    return [Reason("cut", text, node=node, slot=slot, cut=cut)]
        uses = self._constant_uses()
        if uses:
            first = uses[0]
            first.text = f"{head}: the path is cut. {first.text}"
            return uses
        hint = _cuts.hint() if not _cuts.recorded() else ""
        constants = [
            (n, a)
            for n in self.nodes
            for a, e in enumerate(n.next_edges)
            if e is None and n.input_shapes[a]  # 0-d constants are Python numbers
        ]
        if constants:
            listed = "; ".join(
                f"{_op(n)}{_where(n)} input {a} {_shape(n.input_shapes[a])}"
                for n, a in constants[:4]
            ) + (" ..." if len(constants) > 4 else "")
            return [Reason("no-path", (
                f"{head}: no op of {self.oname}'s graph reads {self.tname}. If {self.tname} was "
                "used, it entered through an input that needs no gradient (made with detach(), "
                f"no_grad(), .data, an integer cast or argmax): {listed}{hint}"
            ))]  # fmt: skip
        return [Reason("no-path", (
            f"{head}: {self.tname} is not used to compute {self.oname} (no op of its graph "
            f"reads it){hint}"
        ))]  # fmt: skip

    def _constant_uses(self) -> list[Reason]:
        """Ops of the output's graph that saved this tensor's memory as a constant input."""
        found = []
        data = self.t._data
        for node in self.nodes:
            for name, array in node.saved_items():
                if array is data or (array.size and np.shares_memory(array, data)):
                    kind = "the same array" if array is data else "a view of its memory"
                    found.append(Reason("cut", (
                        f"{_op(node)}{_where(node)} uses {kind} as {name!r} without a graph "
                        f"edge to {self.tname}: it was detached (detach() or .data) or "
                        f"{self.tname} needed no gradient then"
                    ), node=node))  # fmt: skip
                    break
        return found

    def _with_path(self) -> GradExplanation:
        path, target_node = _path(self.nodes, self.t)
        reasons: list[Reason] = []
        if any(n.freed for n in path) or (target_node is not None and target_node.freed):
            return self._freed(path)
        observed, gradient = _watched_gradient(self.o, self.t, set(path))
        if gradient is None:
            return self.result("none", [Reason("no-path", (
                f"No gradient reaches {self.tname}: every path from {self.oname} goes through an "
                "op that sends it nothing"
            ))], path=path)  # fmt: skip
        structural = []
        if not self.t.is_leaf and not self.t.retains_grad and self.t is not self.o:
            structural.append(Reason("non-leaf", (
                f"{self.tname}.grad will be None even though its gradient exists (norm "
                f"{_num(_norm(gradient))}): {self.tname} is not a leaf (it was made by "
                f"{_op(self.t.grad_fn)}{_where(self.t.grad_fn)}), and backward keeps .grad only for "
                f"leaves; call {self.tname}.retain_grad() before backward(), or use "
                f"ag.grad({self.oname}, {self.tname})"
            ), node=self.t.grad_fn))  # fmt: skip
        size = gradient.size
        zeros = int(np.count_nonzero(gradient == 0)) if size else 0
        norm = _norm(gradient)
        culprits = _zero_culprits(path, observed, self.t, target_node)
        if size and zeros == size:
            head = f"The gradient of {self.oname} with respect to {self.tname} is zero everywhere"
            if culprits:
                node, slot, killed, text = culprits[0]
                reasons.append(Reason("zero", f"{head}: {text}", node=node, slot=slot))
                reasons += [Reason("zero", c[3], node=c[0], slot=c[1]) for c in culprits[1:3]]
            else:
                reasons.append(Reason("zero", head + ": every path multiplies it by zero"))
            verdict = "zero"
        elif math.isfinite(norm) and norm < self.vanishing:
            reasons.append(Reason("vanishing", self._vanishing(norm, path, observed)))
            verdict = "vanishing"
        else:
            stats = (
                f"norm {_num(norm)}, min {_num(float(gradient.min()))}, max "
                f"{_num(float(gradient.max()))}"
            )
            text = (
                f"The gradient of {self.oname} with respect to {self.tname} is fine ({stats})"
                if math.isfinite(norm) else
                f"The gradient of {self.oname} with respect to {self.tname} is not finite "
                f"({stats}); run the backward under ag.detect_anomaly() to find the op"
            )  # fmt: skip
            if zeros:
                text += f"; {zeros / size:.0%} of its elements are 0"
            reasons.append(Reason("ok", text))
            reasons += [Reason("zero", c[3], node=c[0], slot=c[1]) for c in culprits[:2]]
            verdict = "ok" if not structural else "none"
        if structural:
            reasons = structural + reasons
            verdict = "none"
        return self.result(verdict, reasons, gradient=gradient, path=path)

    def _freed(self, path: list[Node]) -> GradExplanation:
        grad = self.t._grad if (self.t.is_leaf or self.t.retains_grad) else None
        text = (
            f"backward() already freed {self.oname}'s graph, so its ops' values can't be "
            "inspected any more; run the forward again and call explain_grad before backward() "
            "(or use backward(retain_graph=True))"
        )
        if grad is None:
            if not self.t.is_leaf and not self.t.retains_grad:
                return self.result("none", [Reason("non-leaf", (
                    f"{self.tname}.grad is None: {self.tname} is not a leaf (made by "
                    f"{_op(self.t.grad_fn)}{_where(self.t.grad_fn)}), and backward keeps .grad "
                    f"only for leaves; call {self.tname}.retain_grad() before backward()"
                )), Reason("freed", text)], path=path)  # fmt: skip
            return self.result("none", [Reason("freed", f"{self.tname}.grad is None and " + text)],
                               path=path)  # fmt: skip
        array = np.asarray(grad._data)
        norm = _norm(array)
        if array.size and not array.any():
            verdict, head = "zero", f"{self.tname}.grad is zero everywhere"
        elif norm < self.vanishing:
            verdict, head = "vanishing", f"{self.tname}.grad is tiny (norm {_num(norm)})"
        else:
            verdict, head = "ok", f"{self.tname}.grad looks fine (norm {_num(norm)})"
        reasons = [Reason(verdict, head), Reason("freed", text)]
        return self.result(verdict, reasons, gradient=array, path=path)

    def _vanishing(self, norm: float, path: list[Node], observed: dict) -> str:
        gains: dict[str, list[float]] = {}
        for node in path:
            seen = observed.get(node)
            if seen is None:
                continue
            outs, ins, slots = seen
            g_out = _norm_all(outs)
            g_in = _norm_all([ins[s] for s in slots])
            if g_out > 0 and g_in > 0:
                gains.setdefault(_op(node), []).append(g_in / g_out)
        seed = 1.0 if self.o._data.size == 1 else float(np.sqrt(self.o._data.size))
        text = (
            f"The gradient of {self.oname} with respect to {self.tname} is vanishing: norm "
            f"{_num(norm)} < {self.vanishing:g}, {_num(norm / seed)} times the output's"
        )
        shrinking = sorted(
            ((op, math.prod(g), len(g)) for op, g in gains.items()), key=lambda item: item[1]
        )
        parts = [
            f"{op} ×{_num(total)} over {count} op{'s' if count > 1 else ''} (×{_num(total ** (1 / count))} each)"
            for op, total, count in shrinking[:3]
            if total < 0.5
        ]
        if parts:
            text += "; it shrinks along the path through " + ", ".join(parts)
        if any(op in ("sigmoid", "tanh") for op, _, _ in shrinking[:3]):
            text += (
                " (sigmoid' ≤ 0.25 and tanh' ≤ 1: each layer of them multiplies the gradient by "
                "a factor below 1; ReLU, careful initialisation, normalisation or residual "
                "connections keep it alive)"
            )
        return text


def _norm(array: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _norm_all(arrays: list) -> float:
    return math.sqrt(sum(_norm(a) ** 2 for a in arrays if a is not None))
