"""Shared machinery of the tests that compare graphgrad with PyTorch (the oracle).

Test modules import it by name (``tests/conftest.py`` puts ``tests/`` on ``sys.path``)::

    from parity import assert_close, copy_weights, import_torch, to_ours

    torch = import_torch()         # skips the whole module when PyTorch is not installed
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import autograd as ag

__all__ = [
    "import_torch", "to_numpy", "to_ours", "to_torch", "pair", "copy_weights", "state_to_torch",
    "state_from_torch", "assert_close", "error_table", "module_parity",
]  # fmt: skip


def import_torch() -> Any:
    """Return the ``torch`` module, or skip the calling test module when it is missing."""
    return pytest.importorskip(
        "torch",
        reason="PyTorch, the parity oracle, is not installed (bash scripts/test.sh installs it; "
        "GRAPHGRAD_NO_TORCH=1 skips it)",
    )


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def to_numpy(value: Any) -> np.ndarray:
    """Return an ag.Tensor, a torch tensor or anything array-like as a (detached) ndarray."""
    if isinstance(value, ag.Tensor):
        return value.detach().numpy()
    if _is_torch(value):
        if value._is_zerotensor():  # torch's structurally zero second derivatives
            return np.zeros(tuple(value.shape), dtype=str(value.dtype).removeprefix("torch."))
        return value.detach().cpu().numpy()
    return np.asarray(value)


def to_ours(value: Any, requires_grad: bool | None = None) -> Any:
    """Return a torch tensor as an ag.Tensor copy (keeping ``requires_grad`` unless given).

    None and anything that is not a torch tensor pass through unchanged.
    """
    if not _is_torch(value):
        return value
    grad = value.requires_grad if requires_grad is None else requires_grad
    return ag.tensor(value.detach().numpy().copy(), requires_grad=grad)


def to_torch(value: Any, requires_grad: bool | None = None) -> Any:
    """Return an ag.Tensor (or an ndarray) as a torch tensor copy; None passes through."""
    torch = import_torch()
    if value is None:
        return None
    if requires_grad is None:
        requires_grad = isinstance(value, ag.Tensor) and value.requires_grad
    return torch.tensor(to_numpy(value).copy(), requires_grad=requires_grad)


def pair(array: Any, requires_grad: bool = True) -> tuple[Any, Any]:
    """Return ``(ag.Tensor, torch.Tensor)`` copies of ``array`` (integer arrays never need grad).

    ``None`` gives ``(None, None)``.
    """
    if array is None:
        return None, None
    array = np.asarray(array)
    grad = requires_grad and not np.issubdtype(array.dtype, np.integer)
    return ag.tensor(array.copy(), requires_grad=grad), to_torch(array, requires_grad=grad)


def copy_weights(ours: Any, theirs: Any) -> Any:
    """Load a torch module's parameters and buffers into ours; the keys must match in order."""
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state), (
        f"state-dict keys differ: ours {list(ours.state_dict())}, torch {list(state)}"
    )
    ours.load_state_dict(state)
    return ours


def state_to_torch(state: dict[str, Any]) -> dict[str, Any]:
    """Return a state dict of ag.Tensors as torch tensors (copies)."""
    torch = import_torch()
    return {k: torch.from_numpy(np.array(to_numpy(v))) for k, v in state.items()}


def state_from_torch(state: dict[str, Any]) -> dict[str, Any]:
    """Return a torch state dict as ag.Tensors (copies)."""
    return {k: ag.tensor(to_numpy(v).copy()) for k, v in state.items()}


def assert_close(ours: Any, theirs: Any, rtol: float = 1e-9, atol: float = 1e-10,
                 msg: str = "", check_dtype: bool = False) -> None:  # fmt: skip
    """Assert that two tensors (ag, torch or arrays) hold the same shape and close values."""
    actual, expected = to_numpy(ours), to_numpy(theirs)
    assert actual.shape == expected.shape, f"{msg}: shape {actual.shape} vs {expected.shape}"
    if check_dtype:
        assert str(actual.dtype) == str(expected.dtype), f"{msg}: {actual.dtype} vs {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=msg, equal_nan=True)


def error_table(cases: Sequence[tuple[str, Callable[[], Any], type[BaseException], str]]) -> Any:
    """Return the test that every ``(id, call, exception type, message regex)`` case raises.

    Assign it in a test module: ``test_errors_name_the_problem = error_table(ERRORS)``.
    """

    @pytest.mark.parametrize(
        "call, error, pattern", [case[1:] for case in cases], ids=[case[0] for case in cases]
    )
    def test_errors_name_the_problem(call: Callable[[], Any], error: type, pattern: str) -> None:
        with pytest.raises(error, match=pattern):
            call()

    return test_errors_name_the_problem


def _flat(value: Any) -> list:
    """The tensors of a (possibly nested) module output, in order."""
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat(item)]
    return [value] if value is not None and hasattr(value, "shape") else []


def module_parity(builder: Callable[[Any], Any], inputs: Sequence[Any], *, training: bool = True,
                  forward: Callable[..., Any] | None = None, perturb: bool = True,
                  rtol: float = 1e-7, atol: float = 1e-9, dtype: str = "float64",
                  seed: int = 0) -> tuple:  # fmt: skip
    """Run ``builder(torch.nn)`` and ``builder(nn)`` with the same weights and inputs.

    Compares every output, the gradients of the floating inputs and of every parameter, and
    the state dicts afterwards. ``forward(module, *inputs)`` overrides ``module(*inputs)``.
    Returns ``(ours, theirs, outputs_ours, outputs_theirs)`` for extra checks.
    """
    torch = import_torch()
    import nn

    rng = np.random.default_rng(seed)
    theirs = builder(torch.nn)
    ours = builder(nn)
    if dtype == "float64":
        theirs.double()
        ours.double()
    if perturb:
        with torch.no_grad():
            for tensor in theirs.state_dict().values():
                if tensor.dtype.is_floating_point:
                    tensor.add_(torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(tensor.shape))).to(tensor.dtype))
    ours.load_state_dict(theirs.state_dict())
    theirs.train(training)
    ours.train(training)
    xs_t, xs_o = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            floating = x.dtype.kind == "f"
            xs_t.append(torch.tensor(x, requires_grad=floating))
            xs_o.append(ag.tensor(x, requires_grad=floating))
        else:
            xs_t.append(x)
            xs_o.append(x)
    call = forward or (lambda module, *args: module(*args))
    out_t, out_o = call(theirs, *xs_t), call(ours, *xs_o)
    flat_t, flat_o = _flat(out_t), _flat(out_o)
    assert len(flat_t) == len(flat_o), (len(flat_t), len(flat_o))
    total_t = total_o = None
    for k, (a, b) in enumerate(zip(flat_t, flat_o)):
        assert tuple(b.shape) == tuple(a.shape), f"output {k}: {tuple(b.shape)} vs {tuple(a.shape)}"
        assert b.dtype == ag.tensor(a.detach().numpy()).dtype, f"output {k}: {b.dtype} vs {a.dtype}"
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
        if a.requires_grad:
            upstream = rng.standard_normal(tuple(a.shape))
            term_t = (a * torch.from_numpy(upstream).to(a.dtype)).sum()
            term_o = (b * ag.tensor(upstream).to(b.dtype)).sum()
            total_t = term_t if total_t is None else total_t + term_t
            total_o = term_o if total_o is None else total_o + term_o
    if total_t is not None:
        total_t.backward()
        total_o.backward()
        for k, (a, b) in enumerate(zip(xs_t, xs_o)):
            if isinstance(a, torch.Tensor) and a.requires_grad:
                assert (a.grad is None) == (b.grad is None), f"input {k} gradient presence"
                if a.grad is not None:
                    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol * 10,
                                               atol=atol * 10, err_msg=f"input {k} gradient")
        grads_t = {n: p.grad for n, p in theirs.named_parameters()}
        for name, p in ours.named_parameters():
            if grads_t[name] is None:
                assert p.grad is None or not np.any(p.grad.numpy()), name
                continue
            assert p.grad is not None, f"{name}: no gradient"
            np.testing.assert_allclose(p.grad.numpy(), grads_t[name].numpy(), rtol=rtol * 10,
                                       atol=atol * 10, err_msg=f"gradient of {name}")
    state_t = theirs.state_dict()
    state_o = ours.state_dict()
    assert list(state_o) == list(state_t)
    for name, value in state_o.items():
        np.testing.assert_allclose(value.numpy(), state_t[name].numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)
    return ours, theirs, out_o, out_t


def _leaves(value: Any) -> list:
    """The leaves of a nested output (tuples, lists and named tuples of tensors or values)."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def op_parity(fn: Callable[..., Any], arrays: Sequence[Any], *, grad: bool = True,
              rtol: float = 1e-8, atol: float = 1e-10, seed: int = 0, where: str = "") -> tuple:  # fmt: skip
    """Compare ``fn(ag, *tensors)`` with ``fn(torch, *tensors)`` on copies of ``arrays``.

    Every output leaf must agree in shape, dtype and value (Python numbers and bools too);
    then the same random upstream gradient flows back through both and every floating
    input's ``.grad`` must agree (None on one side means zeros on the other). Returns
    ``(ours, theirs)``, the two raw outputs, for further checks (named-tuple fields, ...).
    """
    torch = import_torch()
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a) for a in arrays]
    floating = [grad and a.dtype.kind == "f" for a in arrays]
    ours_in = [ag.tensor(a.copy(), requires_grad=f) for a, f in zip(arrays, floating)]
    theirs_in = [torch.tensor(a.copy(), requires_grad=f) for a, f in zip(arrays, floating)]
    ours, theirs = fn(ag, *ours_in), fn(torch, *theirs_in)
    leaves_o, leaves_t = _leaves(ours), _leaves(theirs)
    assert len(leaves_o) == len(leaves_t), f"{where}: {len(leaves_o)} outputs vs {len(leaves_t)}"
    total_o = total_t = None
    for k, (o, t) in enumerate(zip(leaves_o, leaves_t)):
        if not _is_torch(t):
            assert not isinstance(o, ag.Tensor), f"{where}: output {k} is a Tensor, torch's a {t!r}"
            assert type(o) is type(t) and o == t, f"{where}: output {k}: {o!r} vs torch {t!r}"
            continue
        assert_close(o, t, rtol=rtol, atol=atol, msg=f"{where}: output {k}", check_dtype=True)
        if t.requires_grad:
            upstream = rng.standard_normal(tuple(t.shape))
            term_o = (o * ag.tensor(upstream).to(o.dtype)).sum()
            term_t = (t * torch.from_numpy(upstream).to(t.dtype)).sum()
            total_o = term_o if total_o is None else total_o + term_o
            total_t = term_t if total_t is None else total_t + term_t
    if total_t is not None:
        total_t.backward()
        if total_o is not None and total_o.requires_grad:
            total_o.backward()
        for k, (x, t) in enumerate(zip(ours_in, theirs_in)):
            if not t.requires_grad:
                continue
            expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
            actual = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol,
                                       err_msg=f"{where}: gradient of input {k}")  # fmt: skip
    return ours, theirs


def raises_like_torch(fn: Callable[[Any], Any], parts: Sequence[str] = ()) -> BaseException:
    """Assert that ``fn(torch)`` and ``fn(ag)`` raise the same exception type; ours must
    mention every string of ``parts``. Returns our exception."""
    torch = import_torch()
    try:
        fn(torch)
    except Exception as error:  # noqa: BLE001 - whatever torch raises is the reference
        expected: type[BaseException] = type(error)
    else:
        raise AssertionError("torch raised nothing: the case is not an error there")
    with pytest.raises(Exception) as info:  # noqa: B017, PT011
        fn(ag)
    assert isinstance(info.value, expected), (
        f"raised {type(info.value).__name__}({info.value}), torch raises {expected.__name__}"
    )
    for part in parts:
        assert part in str(info.value), f"{part!r} not in {str(info.value)!r}"
    return info.value
