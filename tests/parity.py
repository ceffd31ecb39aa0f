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
    "state_from_torch", "assert_close", "error_table",
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
