"""Optimizers: trajectories against torch.optim and against NumPy references of the documented
algorithms, state dicts, resuming, param groups, zero_grad, closures and error messages."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import autograd as ag
import optim

try:
    import torch
except ImportError:  # the NumPy-reference tests still run without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(3, 4), (4,), (2, 3, 2)]
STEPS = 25

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True, betas=(0.5, 0.6))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-5, maximize=True)),
]


def option_products(name, base, **options):
    """One case per combination of the listed option values (on top of ``base``)."""
    keys = list(options)
    return [
        (name, {**base, **dict(zip(keys, values))})
        for values in itertools.product(*(options[k] for k in keys))
    ]


# every combination of the switches, each with non-default hyperparameters in some cases
CASES += [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4)),
    *option_products("Adadelta", dict(lr=0.5), weight_decay=[0.0, 0.1], maximize=[False, True]),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6)),
    *option_products("Adamax", dict(lr=0.05), weight_decay=[0.0, 0.1], maximize=[False, True]),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, momentum_decay=0.05)),
    *option_products(
        "NAdam",
        dict(lr=0.05),
        weight_decay=[0.0, 0.1],
        decoupled_weight_decay=[False, True],
        maximize=[False, True],
    ),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6)),
    *option_products(
        "RAdam",
        dict(lr=0.05),
        weight_decay=[0.0, 0.1],
        decoupled_weight_decay=[False, True],
        maximize=[False, True],
    ),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def initial_arrays(dtype=np.float64):
    rng = np.random.default_rng(1234)
    return [rng.normal(size=shape).astype(dtype) for shape in SHAPES]


def gradient(step, index, param):
    """A deterministic gradient that depends on the current parameter (so errors compound)."""
    rng = np.random.default_rng(1000 * step + index)
    noise = rng.normal(scale=0.3, size=param.shape).astype(param.dtype)
    return (np.sin(3 * param) + 0.5 * param + noise).astype(param.dtype)


def make_ours(arrays, name, kwargs):
    params = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    return params, getattr(optim, name)(params, **kwargs)


def make_torch(arrays, name, kwargs):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return params, getattr(torch.optim, name)(params, **kwargs)


def step_ours(params, opt, step):
    for i, p in enumerate(params):
        p.grad = ag.tensor(gradient(step, i, p.detach().numpy()))
    opt.step()


def step_torch(params, opt, step):
    for i, p in enumerate(params):
        p.grad = torch.from_numpy(gradient(step, i, p.detach().numpy()))
    opt.step()


def run_ours(arrays, name, kwargs, steps=STEPS):
    params, opt = make_ours(arrays, name, kwargs)
    for step in range(steps):
        step_ours(params, opt, step)
    return params, opt


def run_torch(arrays, name, kwargs, steps=STEPS):
    params, opt = make_torch(arrays, name, kwargs)
    for step in range(steps):
        step_torch(params, opt, step)
    return params, opt


@needs_torch
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_trajectory_matches_torch_float64(name, kwargs):
    arrays = initial_arrays()
    ours, our_opt = make_ours(arrays, name, kwargs)
    theirs, their_opt = make_torch(arrays, name, kwargs)
    for step in range(STEPS):
        step_ours(ours, our_opt, step)
        step_torch(theirs, their_opt, step)
        for i, (p, q) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(
                p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"step {step} param {i}"
            )
    # the state has PyTorch's names and values
    ours_state, theirs_state = our_opt.state_dict(), their_opt.state_dict()
    assert sorted(ours_state["state"]) == sorted(theirs_state["state"])
    for index, entry in theirs_state["state"].items():
        assert sorted(ours_state["state"][index]) == sorted(entry)
        for key, value in entry.items():
            np.testing.assert_allclose(
                ours_state["state"][index][key].detach().numpy(), value.numpy(), rtol=1e-12, atol=1e-12
            )
    torch_only = {"foreach", "capturable", "differentiable", "fused"}
    for group, their_group in zip(ours_state["param_groups"], theirs_state["param_groups"]):
        assert {k: v for k, v in their_group.items() if k not in torch_only} == group


@needs_torch
@pytest.mark.parametrize(
    "name",
    ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"],
)
def test_trajectory_matches_torch_float32(name):
    kwargs = dict(CASES[[n for n, _ in CASES].index(name) + 1][1])
    arrays = initial_arrays(np.float32)
    ours, _ = run_ours(arrays, name, kwargs)
    theirs, _ = run_torch(arrays, name, kwargs)
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def reference_trajectory(name, kwargs, arrays, steps=STEPS):
    """The documented algorithms of the PyTorch docs, written plainly in NumPy."""
    params = [a.copy() for a in arrays]
    default_lr = {"SGD": 1e-3, "Adam": 1e-3, "AdamW": 1e-3, "RAdam": 1e-3, "Adadelta": 1.0}
    lr = kwargs.get("lr", default_lr.get(name, 2e-3 if name in ("Adamax", "NAdam") else 1e-2))
    wd = kwargs.get("weight_decay", 1e-2 if name == "AdamW" else 0.0)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    state = [dict() for _ in params]
    for t in range(1, steps + 1):
        for i, p in enumerate(params):
            g = sign * gradient(t - 1, i, p)
            s = state[i]
            if name == "SGD":
                mu, tau = kwargs.get("momentum", 0.0), kwargs.get("dampening", 0.0)
                g = g + wd * p
                if mu:
                    s["b"] = g if t == 1 else mu * s["b"] + (1 - tau) * g
                    g = g + mu * s["b"] if kwargs.get("nesterov") else s["b"]
                p -= lr * g
            elif name in ("Adam", "AdamW"):
                b1, b2 = kwargs.get("betas", (0.9, 0.999))
                eps = kwargs.get("eps", 1e-8)
                if name == "AdamW" or kwargs.get("decoupled_weight_decay"):
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
                s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
                if kwargs.get("amsgrad"):
                    s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
                    v_hat = s["vmax"] / (1 - b2**t)
                else:
                    v_hat = s["v"] / (1 - b2**t)
                p -= lr * (s["m"] / (1 - b1**t)) / (np.sqrt(v_hat) + eps)
            elif name == "RMSprop":
                alpha, eps, mu = (
                    kwargs.get("alpha", 0.99),
                    kwargs.get("eps", 1e-8),
                    kwargs.get("momentum", 0),
                )
                g = g + wd * p
                s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
                v = s["v"]
                if kwargs.get("centered"):
                    s["g"] = alpha * s.get("g", 0) + (1 - alpha) * g
                    v = v - s["g"] ** 2
                if mu > 0:
                    s["b"] = mu * s.get("b", 0) + g / (np.sqrt(v) + eps)
                    p -= lr * s["b"]
                else:
                    p -= lr * g / (np.sqrt(v) + eps)
            elif name == "Adagrad":
                eps = kwargs.get("eps", 1e-10)
                g = g + wd * p
                clr = lr / (1 + (t - 1) * kwargs.get("lr_decay", 0.0))
                s["sum"] = s.get("sum", kwargs.get("initial_accumulator_value", 0.0)) + g * g
                p -= clr * g / (np.sqrt(s["sum"]) + eps)
            elif name == "Adadelta":
                rho, eps = kwargs.get("rho", 0.9), kwargs.get("eps", 1e-6)
                g = g + wd * p
                s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
                delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
                s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
                p -= lr * delta
            elif name == "Adamax":
                b1, b2 = kwargs.get("betas", (0.9, 0.999))
                eps = kwargs.get("eps", 1e-8)
                g = g + wd * p
                s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
                p -= lr * s["m"] / ((1 - b1**t) * s["u"])
            elif name in ("NAdam", "RAdam"):
                b1, b2 = kwargs.get("betas", (0.9, 0.999))
                eps = kwargs.get("eps", 1e-8)
                if kwargs.get("decoupled_weight_decay"):
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
                s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
                s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
                if name == "NAdam":
                    psi = kwargs.get("momentum_decay", 4e-3)
                    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
                    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
                    # PyTorch keeps the product of the mu_t in a float32 tensor
                    s["mu_prod"] = np.float32(s.get("mu_prod", np.float32(1.0)) * np.float32(mu))
                    prod = float(s["mu_prod"])
                    m_hat = mu_next * s["m"] / (1 - prod * mu_next) + (1 - mu) * g / (1 - prod)
                    p -= lr * m_hat / (np.sqrt(s["v"] / (1 - b2**t)) + eps)
                else:
                    m_hat = s["m"] / (1 - b1**t)
                    rho_inf = 2 / (1 - b2) - 1
                    rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
                    if rho_t > 5:
                        rect = np.sqrt(
                            (rho_t - 4)
                            * (rho_t - 2)
                            * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                        )
                        adaptive = np.sqrt(1 - b2**t) / (np.sqrt(s["v"]) + eps)
                        p -= lr * m_hat * rect * adaptive
                    else:
                        p -= lr * m_hat
    return params


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_trajectory_matches_numpy_reference_of_documented_algorithm(name, kwargs):
    arrays = initial_arrays()
    ours, _ = run_ours(arrays, name, kwargs)
    expected = reference_trajectory(name, kwargs, arrays)
    for p, e in zip(ours, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(("name", "kwargs"), CASES[1::3], ids=IDS[1::3])
def test_load_state_dict_then_continue_is_bit_identical(name, kwargs):
    arrays = initial_arrays()
    straight, _ = run_ours(arrays, name, kwargs, steps=20)

    params, opt = run_ours(arrays, name, kwargs, steps=8)
    saved_params = [p.detach().numpy().copy() for p in params]
    saved = opt.state_dict()
    fresh = [ag.tensor(a, requires_grad=True) for a in saved_params]
    resumed = getattr(optim, name)(fresh, lr=123.0)  # hyperparameters come from the state dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for step in range(8, 20):
        step_ours(fresh, resumed, step)
    for p, q in zip(straight, fresh):
        if name == "NAdam":
            # PyTorch's load_state_dict casts every state tensor but `step` to the parameter's
            # dtype, so NAdam's float32 mu_product continues in float64 after resuming
            assert resumed.state[fresh[0]]["mu_product"].dtype == np.float64
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@needs_torch
def test_nadam_resumed_from_a_state_dict_continues_like_torch():
    arrays = initial_arrays()
    runs = []
    for make, step_fn, load in [
        (make_ours, step_ours, lambda a: ag.tensor(a, requires_grad=True)),
        (make_torch, step_torch, lambda a: torch.tensor(a, requires_grad=True)),
    ]:
        params, opt = make(arrays, "NAdam", dict(lr=0.05))
        for step in range(8):
            step_fn(params, opt, step)
        fresh = [
            load(np.array(p.detach().numpy() if torch.is_tensor(p) else p.detach().numpy())) for p in params
        ]
        resumed = type(opt)(fresh)
        resumed.load_state_dict(opt.state_dict())
        for step in range(8, 20):
            step_fn(fresh, resumed, step)
        runs.append([np.array(p.detach().numpy() if torch.is_tensor(p) else p.detach().numpy()) for p in fresh])
    for p, q in zip(*runs):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-12)


def test_load_state_dict_copies_state_and_casts_to_param_dtype():
    p = ag.tensor([1.0, 2.0], dtype=ag.float32, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ag.tensor([1.0, 1.0], dtype=ag.float32)
    opt.step()
    state = opt.state_dict()
    q = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    other = optim.Adam([q], lr=0.1)
    other.load_state_dict(state)
    assert other.state[q]["exp_avg"].dtype == np.float64
    assert other.state[q]["step"].dtype == np.float32  # step keeps PyTorch's float32
    assert other.state[q]["exp_avg"] is not opt.state[p]["exp_avg"]
    q.grad = ag.tensor([1.0, 1.0])
    other.step()
    np.testing.assert_allclose(opt.state[p]["step"].detach().numpy(), 1.0)  # the original is untouched


def test_state_dict_layout_matches_torch_with_groups_and_names():
    w, b = ag.randn(3, 2, requires_grad=True), ag.zeros(3, requires_grad=True)
    c = ag.ones(2, requires_grad=True)
    opt = optim.SGD(
        [{"params": [("w", w), ("b", b)], "lr": 0.5}, {"params": [("c", c)]}], lr=0.1, momentum=0.9
    )
    for t in (w, b, c):
        t.grad = ag.ones_like(t)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["param_names"] == ["w", "b"]
    assert sd["param_groups"][1]["params"] == [2]
    assert sd["param_groups"][0]["lr"] == 0.5 and sd["param_groups"][1]["lr"] == 0.1
    assert set(sd["state"][0]) == {"momentum_buffer"}


@needs_torch
def test_param_groups_with_per_group_options_match_torch():
    arrays = initial_arrays()
    ours = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    our_opt = optim.Adam(
        [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.1, "amsgrad": True}], lr=0.01
    )
    their_opt = torch.optim.Adam(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.1, "amsgrad": True}], lr=0.01
    )
    for step in range(10):
        step_ours(ours, our_opt, step)
        step_torch(theirs, their_opt, step)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_add_param_group_and_parameters_without_grad_are_skipped():
    a, b = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.5)
    opt.add_param_group({"params": b, "lr": 0.25})
    assert opt.param_groups[1]["lr"] == 0.25 and opt.param_groups[1]["momentum"] == 0.0
    a.grad = ag.ones(2)
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert opt.state == {}  # plain SGD keeps no state, as PyTorch


def test_step_updates_in_place_bumps_version_and_records_no_graph():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    data, version = p.detach().numpy(), p._version
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.detach().numpy() is data  # in place
    assert p._version == version + 1
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert all(t.grad_fn is None for t in opt.state[p].values())


def test_zero_grad_set_to_none_and_to_zero():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad.detach().numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_runs_with_grad_enabled_and_returns_loss():
    p = ag.tensor([3.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(p.detach().numpy(), [2.4])


def test_step_hooks_run_before_and_after():
    p = ag.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", p.detach().numpy().item())))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", p.detach().numpy().item())))
    p.grad = ag.ones(1)
    opt.step()
    pre.remove()
    opt.step()
    assert calls == [("pre", 1.0), ("post", 0.0), ("post", -1.0)]


def test_adagrad_creates_state_eagerly_like_torch():
    p = ag.zeros(2, requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.3)
    np.testing.assert_array_equal(opt.state[p]["sum"].detach().numpy(), np.full(2, 0.3, np.float32))
    assert float(opt.state[p]["step"].detach().numpy()) == 0.0
    q = ag.zeros(3, requires_grad=True)
    opt.add_param_group({"params": [q]})
    assert opt.state[q]["sum"].shape == (3,)


def test_repr_lists_groups():
    opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0.0\n")


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: optim.SGD(p[0], lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: optim.SGD({p[0]}, lr=0.1), TypeError, "ordered collections"),
        (lambda p: optim.SGD([p[0] * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda p: optim.SGD([ag.tensor([1, 2])], lr=0.1), TypeError, "floating-point.*int64"),
        (lambda p: optim.SGD([p[0], 3.0], lr=0.1), TypeError, "only optimize Tensors"),
        (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, "same parameter twice"),
        (
            lambda p: optim.SGD([{"params": [p[0]]}, {"params": [p[0]]}], lr=0.1),
            ValueError,
            "more than one parameter group",
        ),
        (lambda p: optim.SGD(p, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD(p, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum requires"),
        (
            lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
            ValueError,
            "zero dampening",
        ),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, "beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
        (lambda p: optim.AdamW(p, eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda p: optim.Adam(p, weight_decay=-0.1), ValueError, "Invalid weight_decay"),
        (lambda p: optim.RMSprop(p, alpha=-0.1), ValueError, "Invalid alpha value"),
        (lambda p: optim.RMSprop(p, momentum=-0.1), ValueError, "Invalid momentum value"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.1), ValueError, "Invalid lr_decay value"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0),
            ValueError,
            "Invalid initial_accumulator_value",
        ),
        (
            lambda p: optim.SGD([{"params": p, "lr": -1.0}], lr=0.1),
            ValueError,
            "Invalid learning rate",
        ),
        (lambda p: optim.Optimizer(p, {"lr": optim.required}), ValueError, "required optimization"),
    ],
)
def test_invalid_arguments_raise_clear_errors(make, error, match):
    params = [ag.ones(2, requires_grad=True), ag.ones(3, requires_grad=True)]
    with pytest.raises(error, match=match):
        make(params)


def test_load_state_dict_mismatch_errors():
    a, b = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    saved = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a], lr=0.1).load_state_dict({"lr": 0.1})


def test_adamw_default_weight_decay_and_lr():
    opt = optim.AdamW([ag.zeros(1, requires_grad=True)])
    group = opt.param_groups[0]
    assert group["weight_decay"] == 0.01 and group["lr"] == 1e-3 and group["decoupled_weight_decay"]
    assert math.isclose(group["eps"], 1e-8) and group["betas"] == (0.9, 0.999)


@needs_torch
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)), ("RMSprop", dict(lr=0.01))],
)
def test_training_an_nn_module_matches_torch(name, kwargs):
    import nn

    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    reference = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)
    ).double()
    with torch.no_grad():
        for (_, ours), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
            theirs.copy_(torch.from_numpy(ours.detach().numpy().copy()))
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    their_opt = getattr(torch.optim, name)(reference.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 2))
        opt.zero_grad()
        ((model(ag.tensor(x)) - ag.tensor(y)) ** 2).mean().backward()
        opt.step()
        their_opt.zero_grad()
        ((reference(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        their_opt.step()
    for (_, ours), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def lbfgs_objective(flat):
    """A smooth, well-conditioned loss (log-cosh, coupling, quartic) and its gradient.

    Well-conditioned so that rounding differences (PyTorch fuses ``add(alpha=)`` into an FMA and
    sums dot products in another order) stay at the last bits instead of growing as they do on
    an ill-conditioned valley such as Rosenbrock's, where both libraries drift apart by 1e-9
    within 40 iterations.
    """
    z = flat - np.linspace(-1, 1, flat.size)
    loss = np.sum(np.log(np.cosh(2 * z)))
    loss += 0.25 * np.sum((flat[1:] - flat[:-1]) ** 2) + 0.05 * np.sum(flat**4)
    grad = 2 * np.tanh(2 * z) + 0.2 * flat**3
    coupling = 0.5 * (flat[1:] - flat[:-1])
    grad[1:] += coupling
    grad[:-1] -= coupling
    return loss, grad


def lbfgs_closure(params, opt, to_tensor, evals):
    """The objective computed in NumPy for both libraries, so only the optimizers differ."""

    def closure():
        opt.zero_grad()
        arrays = [
            np.array(p.detach().numpy() if torch and torch.is_tensor(p) else p.detach().numpy()) for p in params
        ]
        flat = np.concatenate([a.ravel() for a in arrays])
        loss, grad = lbfgs_objective(flat)
        offset = 0
        for p, a in zip(params, arrays):
            p.grad = to_tensor(grad[offset : offset + a.size].reshape(a.shape).astype(a.dtype))
            offset += a.size
        evals.append(loss)
        return to_tensor(np.array(loss, dtype=arrays[0].dtype))

    return closure


LBFGS_CASES = [
    dict(),
    dict(lr=0.5),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=3),
    dict(history_size=2, max_iter=7),
    dict(max_iter=4, max_eval=6, line_search_fn="strong_wolfe"),
    dict(lr=0.2, tolerance_grad=1e-3, tolerance_change=1e-4),
    dict(line_search_fn="strong_wolfe", tolerance_grad=1e-5, tolerance_change=1e-6, lr=0.8),
    dict(max_iter=1),
    dict(lr=5.0, line_search_fn="strong_wolfe"),  # too long a first step: bracket and zoom
    dict(lr=0.01, line_search_fn="strong_wolfe"),  # too short: extrapolate
]


def lbfgs_state_values(value):
    if torch is not None and torch.is_tensor(value):
        return value.detach().numpy()
    if isinstance(value, ag.Tensor):
        return np.asarray(value.detach().numpy())
    if isinstance(value, list):
        return [lbfgs_state_values(v) for v in value]
    return value


def assert_states_close(ours, theirs, path="state"):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_states_close(a, b, f"{path}[{i}]")
    elif theirs is None:
        assert ours is None, path
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9, err_msg=path)


# float32 runs whose line search decisions do not hinge on the last bit of a float32 sum
LBFGS_FLOAT32_CASES = [k for k in LBFGS_CASES if k.get("lr") not in (5.0, 0.01)]


@needs_torch
@pytest.mark.parametrize(
    ("kwargs", "dtype"),
    [(k, np.float64) for k in LBFGS_CASES] + [(k, np.float32) for k in LBFGS_FLOAT32_CASES],
    ids=[f"float64-{k}" for k in LBFGS_CASES] + [f"float32-{k}" for k in LBFGS_FLOAT32_CASES],
)
def test_lbfgs_matches_torch_step_for_step(kwargs, dtype):
    arrays = [2 * a for a in initial_arrays(dtype)]
    ours = [ag.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    our_opt, their_opt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)
    our_evals, their_evals = [], []
    our_closure = lbfgs_closure(ours, our_opt, ag.tensor, our_evals)
    their_closure = lbfgs_closure(theirs, their_opt, torch.from_numpy, their_evals)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for step in range(5):
        our_loss = our_opt.step(our_closure)
        their_loss = their_opt.step(their_closure)
        assert float(our_loss) == pytest.approx(float(their_loss), rel=tol["rtol"])
        assert len(our_evals) == len(their_evals), f"step {step}: closure calls differ"
        np.testing.assert_allclose(our_evals, their_evals, **tol)
        for p, q in zip(ours, theirs):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), err_msg=f"step {step}", **tol)
    if dtype == np.float64:
        # the same keys and values; near convergence the newest curvature pairs are differences
        # of nearly equal gradients, so last-bit differences grow relative to them (to 1e-7 in
        # `ro`); `al` is scratch space of the two-loop recursion, compared in structure only
        ours_state = our_opt.state_dict()["state"][0]
        theirs_state = their_opt.state_dict()["state"][0]
        assert sorted(ours_state) == sorted(theirs_state)
        for key, value in theirs_state.items():
            ours_value, their_value = lbfgs_state_values(ours_state[key]), lbfgs_state_values(value)
            if key == "al":
                assert [v is None for v in ours_value] == [v is None for v in their_value]
            else:
                assert_states_close(ours_value, their_value, key)


@needs_torch
def test_lbfgs_trains_an_nn_model_like_torch_and_resumes_from_a_state_dict():
    import nn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3))
    y = np.tanh(x @ np.array([[1.0], [-2.0], [0.5]])) + 0.3
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    twin = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).double()
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), twin.parameters()):
            theirs.copy_(torch.from_numpy(np.array(ours.detach().numpy())))
    kwargs = dict(line_search_fn="strong_wolfe", history_size=5, max_iter=10)
    opt = optim.LBFGS(model.parameters(), **kwargs)
    their_opt = torch.optim.LBFGS(twin.parameters(), **kwargs)

    def closure():
        opt.zero_grad()
        loss = ((model(ag.tensor(x)) - ag.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    def their_closure():
        their_opt.zero_grad()
        loss = ((twin(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    their_opt.step(their_closure)
    saved = opt.state_dict()
    assert saved["state"][0]["n_iter"] == 10 and len(saved["state"][0]["old_dirs"]) == 5
    opt = optim.LBFGS(model.parameters(), **kwargs)
    opt.load_state_dict(saved)
    for _ in range(2):
        opt.step(closure)
        their_opt.step(their_closure)
    assert (
        opt.state_dict()["state"][0]["func_evals"] == their_opt.state[twin[0].weight]["func_evals"]
    )
    for ours, theirs in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-8, atol=1e-10)


def test_lbfgs_stops_at_once_when_the_gradient_is_below_tolerance():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * 0.0).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert len(calls) == 1 and opt.state[w] == {"func_evals": 1, "n_iter": 0}
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda p: optim.LBFGS([{"params": [p[0]]}, {"params": [p[1]]}]),
            ValueError,
            "parameter groups",
        ),
        (
            lambda p: optim.LBFGS(p, line_search_fn="backtracking"),
            RuntimeError,
            "only 'strong_wolfe'",
        ),
        (lambda p: optim.LBFGS(p, lr=-1.0), ValueError, "Invalid learning rate"),
        (lambda p: optim.LBFGS(p).step(), TypeError, "needs a closure"),
        (lambda p: optim.Adadelta(p, rho=1.5), ValueError, "Invalid rho value: 1.5"),
        (lambda p: optim.Adadelta(p, eps=-1.0), ValueError, "Invalid epsilon value"),
        (lambda p: optim.Adamax(p, betas=(0.9, 1.0)), ValueError, "beta parameter at index 1"),
        (lambda p: optim.NAdam(p, momentum_decay=-1.0), ValueError, "Invalid momentum_decay"),
        (lambda p: optim.NAdam(p, weight_decay=-1.0), ValueError, "Invalid weight_decay"),
        (lambda p: optim.RAdam(p, betas=(-0.1, 0.9)), ValueError, "beta parameter at index 0"),
    ],
)
def test_new_optimizers_reject_invalid_arguments(make, error, match):
    params = [ag.ones(2, requires_grad=True), ag.ones(3, requires_grad=True)]
    with pytest.raises(error, match=match):
        make(params)


@pytest.mark.parametrize("size", [4, 1000])  # below and above the compiled update's size
def test_plain_sgd_updates_a_parameter_whose_storage_is_read_only(size):
    storage = np.linspace(-1.0, 1.0, size).astype(np.float32)
    storage.flags.writeable = False
    p = ag.tensor(storage, requires_grad=True)
    p._data = storage  # a parameter over a read-only array (e.g. memory-mapped weights)
    (p * p).sum().backward()
    optim.SGD([p], lr=0.1).step()
    expected = storage + np.multiply(2 * storage, np.float32(-0.1))
    np.testing.assert_array_equal(p.detach().numpy(), expected)
    assert p._data is not storage and p._version == 1
    np.testing.assert_array_equal(storage, np.linspace(-1.0, 1.0, size).astype(np.float32))
