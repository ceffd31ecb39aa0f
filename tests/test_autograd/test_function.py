"""Custom ops (ag.Function), gradcheck/gradgradcheck, anomaly detection and ag.functional."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import GradcheckError


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


class WrongCube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x**2  # deliberately wrong


class SplitMax(ag.Function):
    """Two outputs, one non-differentiable, and a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, scale):
        index = ag.tensor(np.argmax(x.detach().numpy(), axis=-1))
        ctx.mark_non_differentiable(index)
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * scale, index

    @staticmethod
    def backward(ctx, grad, grad_index):
        assert ctx.needs_input_grad == (True, False)
        return grad * ctx.scale, None


def test_function_forward_backward_and_repr() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert repr(y.grad_fn) == "<CubeBackward>"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_function_with_multiple_outputs_and_options() -> None:
    x = ag.tensor([[1.0, 5.0, 2.0]], requires_grad=True)
    y, index = SplitMax.apply(x, 3.0)
    assert index.tolist() == [1] and not index.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 3.0, 3.0]])


def test_function_gradients_are_twice_differentiable_when_written_in_tensor_ops() -> None:
    x = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(Cube.apply, (x,))
    assert ag.gradgradcheck(Cube.apply, (x,))


def test_function_saved_tensor_modified_in_place_is_caught() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Cube.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="CubeBackward needs input 0.*modified in place"):
        y.sum().backward()


def test_function_backward_twice_raises() -> None:
    x = ag.tensor([1.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_gradcheck_passes_on_correct_and_fails_on_wrong_rule() -> None:
    x = ag.tensor([0.5, -1.5], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(Cube.apply, (x,))
    with pytest.raises(GradcheckError, match="analytic .* vs numerical"):
        ag.gradcheck(WrongCube.apply, (x,))
    assert ag.gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_fails_on_wrong_second_derivative() -> None:
    class WrongSecond(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            # Right value, but detached: its own derivative is lost.
            return grad * (3 * x.detach() ** 2)

    x = ag.tensor([0.5, 1.5], dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(WrongSecond.apply, (x,))
    with pytest.raises(GradcheckError):
        ag.gradgradcheck(WrongSecond.apply, (x,))


def test_gradcheck_warns_for_float32() -> None:
    x = ag.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        ag.gradcheck(lambda t: t * 2, (x,), raise_exception=False)


def test_detect_anomaly_names_the_forward_op_and_line_in_backward() -> None:
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt()  # sqrt'(0) = inf
        loss = (y * 0).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "SqrtBackward" in message and "nan" in message
    assert "test_function.py" in message and "x.sqrt()" in message


def test_detect_anomaly_reports_nan_in_forward() -> None:
    x = ag.tensor([-1.0], requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(RuntimeError, match="'log' produced nan values"):
            x.log()
    assert not ag.is_anomaly_enabled()


def test_without_anomaly_mode_nan_passes_silently_like_pytorch() -> None:
    x = ag.tensor([0.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


def test_functional_vjp_jvp_jacobian_hessian() -> None:
    f = lambda x: x**2 * 3  # noqa: E731
    x = ag.tensor([1.0, 2.0], dtype=ag.float64)
    out, g = ag.functional.vjp(f, x, ag.tensor([1.0, 1.0], dtype=ag.float64))
    np.testing.assert_allclose(out.numpy(), [3.0, 12.0])
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])
    out, jv = ag.functional.jvp(f, x, ag.tensor([1.0, 0.0], dtype=ag.float64))
    np.testing.assert_allclose(jv.numpy(), [6.0, 0.0])
    jac = ag.functional.jacobian(f, x)
    np.testing.assert_allclose(jac.numpy(), np.diag([6.0, 12.0]))
    hess = ag.functional.hessian(lambda t: (t**3).sum(), x)
    np.testing.assert_allclose(hess.numpy(), np.diag([6.0, 12.0]))


def test_functional_with_tuple_inputs() -> None:
    def f(a, b):
        return (a * b).sum()

    a = ag.tensor([1.0, 2.0], dtype=ag.float64)
    b = ag.tensor([3.0, 4.0], dtype=ag.float64)
    ja, jb = ag.functional.jacobian(f, (a, b))
    np.testing.assert_allclose(ja.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(jb.numpy(), [1.0, 2.0])
    (haa, hab), (hba, hbb) = ag.functional.hessian(f, (a, b))
    np.testing.assert_allclose(hab.numpy(), np.eye(2))
    np.testing.assert_allclose(haa.numpy(), np.zeros((2, 2)))
