"""Learning-rate schedulers: lr (and momentum) sequences against torch.optim.lr_scheduler,
state dicts, chaining and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import optim
from optim import lr_scheduler

try:
    import torch
except ImportError:  # the reference and state tests still run without PyTorch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def lr_half_life(epoch):
    return 1.0 / (1.0 + epoch)


def lr_wave(epoch):
    return 0.5 + 0.5 * np.cos(epoch / 3.0)


CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5), 30),
    ("StepLR", dict(step_size=1), 10),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), 20),
    ("ExponentialLR", dict(gamma=0.9), 40),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01), 45),
    ("CosineAnnealingLR", dict(T_max=7), 30),
    ("LambdaLR", dict(lr_lambda=lr_half_life), 25),
    ("LambdaLR", dict(lr_lambda=[lr_half_life, lr_wave]), 25),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=50), 50),
    ("OneCycleLR", dict(max_lr=[1.0, 0.3], total_steps=40, anneal_strategy="linear"), 40),
    ("OneCycleLR", dict(max_lr=0.5, epochs=4, steps_per_epoch=9, three_phase=True), 36),
    (
        "OneCycleLR",
        dict(
            max_lr=0.5,
            total_steps=30,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
            base_momentum=0.8,
            max_momentum=0.9,
        ),
        30,
    ),  # fmt: skip
    ("OneCycleLR", dict(max_lr=0.5, total_steps=20, cycle_momentum=False), 20),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.95), 30),
    ("MultiplicativeLR", dict(lr_lambda=[lr_half_life, lr_wave]), 25),
    ("ConstantLR", dict(), 10),
    ("ConstantLR", dict(factor=0.5, total_iters=3), 10),
    ("LinearLR", dict(), 10),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=7), 12),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=4), 8),
    ("PolynomialLR", dict(), 8),
    ("PolynomialLR", dict(total_iters=10, power=2.0), 14),
    ("PolynomialLR", dict(total_iters=6, power=0.5), 9),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), 30),
    (
        "CyclicLR",
        dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3, step_size_down=5),
        30,
    ),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"), 40),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9), 40),
    (
        "CyclicLR",
        dict(
            base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lr_half_life, scale_mode="iterations"
        ),
        20,
    ),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lr_half_life), 20),
    (
        "CyclicLR",
        dict(base_lr=0.01, max_lr=0.1, step_size_up=2, base_momentum=0.7, max_momentum=0.95),
        20,
    ),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, cycle_momentum=False), 20),
    ("CosineAnnealingWarmRestarts", dict(T_0=5), 30),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001), 50),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def make_pair(optimizer="SGD", groups=2):
    """Our and torch's optimizer with the same groups (lr 0.1 and 0.02)."""
    kw = dict(momentum=0.9) if optimizer == "SGD" else {}
    ours = [ag.zeros(2, requires_grad=True) for _ in range(groups)]
    lrs = [0.1, 0.02][:groups]
    our_opt = getattr(optim, optimizer)(
        [{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], **kw
    )
    if torch is None:
        return our_opt, None
    theirs = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
    their_opt = getattr(torch.optim, optimizer)(
        [{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], **kw
    )
    return our_opt, their_opt


def assert_groups_equal(our_opt, their_opt, step):
    for ours, theirs in zip(our_opt.param_groups, their_opt.param_groups):
        assert ours["lr"] == theirs["lr"], f"step {step}: lr {ours['lr']} vs {theirs['lr']}"
        for key in ("momentum", "betas"):
            if key in theirs:
                assert tuple(np.atleast_1d(ours[key])) == tuple(np.atleast_1d(theirs[key])), (
                    f"step {step}: {key}"
                )


@needs_torch
@pytest.mark.parametrize(("name", "kwargs", "steps"), CASES, ids=IDS)
def test_lr_sequence_matches_torch_exactly(name, kwargs, steps):
    groups = 2 if isinstance(kwargs.get("lr_lambda"), list) or name != "LambdaLR" else 1
    our_opt, their_opt = make_pair(groups=groups)
    ours = getattr(lr_scheduler, name)(our_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(their_opt, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    assert_groups_equal(our_opt, their_opt, 0)
    for step in range(1, steps):
        our_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), f"step {step}"
        assert ours.last_epoch == theirs.last_epoch
        assert_groups_equal(our_opt, their_opt, step)


@needs_torch
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_cycles_adam_beta1_like_torch(three_phase):
    our_opt, their_opt = make_pair("Adam", groups=1)
    kwargs = dict(max_lr=0.01, total_steps=25, three_phase=three_phase)
    ours = lr_scheduler.OneCycleLR(our_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.OneCycleLR(their_opt, **kwargs)
    for _ in range(24):
        our_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert our_opt.param_groups[0]["betas"] == their_opt.param_groups[0]["betas"]


def test_one_cycle_stepping_past_total_steps_raises():
    opt, _ = make_pair(groups=1)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(
        ValueError, match="Tried to step 4 times. The specified number of total steps is 3"
    ):
        sched.step()


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5,
                   0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.5, 0.5, 0.5, 0.5, 0.5]  # fmt: skip
PLATEAU_CASES = [
    dict(),
    dict(patience=2),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=0, factor=0.5, min_lr=0.004),
    dict(patience=0, factor=0.5, min_lr=[0.01, 0.001]),
    dict(patience=1, threshold=0.1, threshold_mode="abs"),
    dict(patience=1, mode="max", threshold=0.01),
    dict(patience=1, mode="max", threshold_mode="abs", factor=0.2, eps=1e-3),
]


@needs_torch
@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=[str(k) for k in PLATEAU_CASES])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    our_opt, their_opt = make_pair()
    ours = lr_scheduler.ReduceLROnPlateau(our_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(their_opt, **kwargs)
    for step, metric in enumerate(PLATEAU_METRICS * 2):
        our_opt.step()
        their_opt.step()
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == theirs.get_last_lr(), f"step {step}"
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.best,
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )


def test_reduce_lr_on_plateau_accepts_a_tensor_metric_and_validates():
    opt, _ = make_pair(groups=1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(ag.tensor(1.0))
    sched.step(ag.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1]
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


@needs_torch
def test_two_chained_schedulers_match_torch():
    our_opt, their_opt = make_pair()
    ours = [lr_scheduler.ExponentialLR(our_opt, 0.9), lr_scheduler.StepLR(our_opt, 4, 0.5)]
    theirs = [
        torch.optim.lr_scheduler.ExponentialLR(their_opt, 0.9),
        torch.optim.lr_scheduler.StepLR(their_opt, 4, 0.5),
    ]
    for step in range(20):
        our_opt.step()
        their_opt.step()
        for s in ours + theirs:
            s.step()
        assert_groups_equal(our_opt, their_opt, step)


@needs_torch
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
        ("ExponentialLR", dict(gamma=0.9)),
        ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
        ("ConstantLR", dict(factor=0.5, total_iters=4)),
        ("LinearLR", dict(start_factor=0.2, total_iters=9)),
        ("PolynomialLR", dict(total_iters=10, power=2.0)),
        ("CosineAnnealingWarmRestarts", dict(T_0=4)),
        ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ],
)
def test_step_with_epoch_uses_closed_form_like_torch(name, kwargs):
    our_opt, their_opt = make_pair()
    ours = getattr(lr_scheduler, name)(our_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(their_opt, **kwargs)
    our_opt.step()
    their_opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 7, 1, 12]:
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr()
            assert ours.last_epoch == epoch


@pytest.mark.parametrize(("name", "kwargs", "steps"), CASES[::2], ids=IDS[::2])
def test_state_dict_round_trip_continues_identically(name, kwargs, steps):
    groups = 2 if isinstance(kwargs.get("lr_lambda"), list) or name != "LambdaLR" else 1
    opt, _ = make_pair(groups=groups)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(steps // 2):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    expected = []
    for _ in range(steps // 2, steps - 1):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())

    fresh, _ = make_pair(groups=groups)
    # PyTorch's documented order: build the scheduler (its initial step changes the lrs), then
    # load the optimizer's and the scheduler's states
    resumed = getattr(lr_scheduler, name)(fresh, **kwargs)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    got = []
    for _ in range(steps // 2, steps - 1):
        fresh.step()
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


def test_lambda_state_dict_stores_none_for_functions_and_dict_for_callables():
    class Warmup:
        def __init__(self):
            self.k = 3

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.k)

    opt, _ = make_pair()
    sched = lr_scheduler.LambdaLR(opt, [lr_half_life, Warmup()])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"k": 3}]
    state["lr_lambdas"][1] = {"k": 5}
    sched.load_state_dict(state)
    assert sched.lr_lambdas[1].k == 5


def test_scheduler_before_optimizer_step_warns_and_get_lr_outside_step_warns():
    opt, _ = make_pair()
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_constructor_errors():
    opt, _ = make_pair()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, 2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lr_half_life])
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(opt, max_lr=[1.0], total_steps=5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=1.5)
    adagrad = optim.Adagrad([ag.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(adagrad, max_lr=1.0, total_steps=5)


def reference_lrs(name, kwargs, base_lr, steps):
    """The documented closed forms, written out independently of the implementation."""
    lrs = []
    for t in range(steps):
        if name == "StepLR":
            lrs.append(base_lr * kwargs.get("gamma", 0.1) ** (t // kwargs["step_size"]))
        elif name == "MultiStepLR":
            passed = sum(1 for m in kwargs["milestones"] if m <= t)
            lrs.append(base_lr * kwargs.get("gamma", 0.1) ** passed)
        elif name == "ExponentialLR":
            lrs.append(base_lr * kwargs["gamma"] ** t)
        elif name == "CosineAnnealingLR":
            eta_min, t_max = kwargs.get("eta_min", 0.0), kwargs["T_max"]
            lrs.append(eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / t_max)) / 2)
        elif name == "LambdaLR":
            lrs.append(base_lr * kwargs["lr_lambda"](t))
        elif name == "ConstantLR":
            lrs.append(base_lr * (kwargs["factor"] if t < kwargs["total_iters"] else 1.0))
        elif name == "LinearLR":
            a, b, n = kwargs["start_factor"], kwargs["end_factor"], kwargs["total_iters"]
            lrs.append(base_lr * (a + (b - a) * min(t, n) / n))
        elif name == "PolynomialLR":
            n = kwargs["total_iters"]
            lrs.append(base_lr * (1 - min(t, n) / n) ** kwargs["power"])
        elif name == "CyclicLR":
            low, high, up = kwargs["base_lr"], kwargs["max_lr"], kwargs["step_size_up"]
            phase = t % (2 * up)
            lrs.append(low + (high - low) * (phase if phase <= up else 2 * up - phase) / up)
        elif name == "CosineAnnealingWarmRestarts":
            period, start = kwargs["T_0"], 0
            while t >= start + period:
                start, period = start + period, period * kwargs.get("T_mult", 1)
            lrs.append(base_lr * (1 + np.cos(np.pi * (t - start) / period)) / 2)
        elif name == "OneCycleLR":
            max_lr, total = kwargs["max_lr"], kwargs["total_steps"]
            start, final = max_lr / 25.0, max_lr / 25.0 / 1e4
            up = 0.3 * total - 1
            if t <= up:
                pct, a, b = t / up, start, max_lr
            else:
                pct, a, b = (t - up) / (total - 1 - up), max_lr, final
            if kwargs.get("anneal_strategy", "cos") == "cos":
                lrs.append(b + (a - b) / 2 * (1 + np.cos(np.pi * pct)))
            else:
                lrs.append(a + (b - a) * pct)
    return lrs


REFERENCE_CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5), 30),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), 20),
    ("ExponentialLR", dict(gamma=0.9), 40),
    ("CosineAnnealingLR", dict(T_max=25, eta_min=0.01), 26),
    ("LambdaLR", dict(lr_lambda=lr_wave), 25),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=50), 50),
    ("OneCycleLR", dict(max_lr=0.4, total_steps=31, anneal_strategy="linear"), 31),
    ("ConstantLR", dict(factor=0.25, total_iters=6), 12),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.8, total_iters=9), 15),
    ("PolynomialLR", dict(total_iters=12, power=3.0), 16),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5), 40),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2), 40),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "steps"), REFERENCE_CASES, ids=[c[0] for c in REFERENCE_CASES]
)
def test_lr_sequence_matches_documented_closed_form(name, kwargs, steps):
    opt, _ = make_pair(groups=1)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, reference_lrs(name, kwargs, 0.1, steps), rtol=1e-12, atol=1e-15)


SEQUENCES = {
    "warmup-then-cosine": lambda S, opt: S.SequentialLR(
        opt, [S.LinearLR(opt, 0.1, total_iters=5), S.CosineAnnealingLR(opt, T_max=20)], [5]
    ),
    "three-phases": lambda S, opt: S.SequentialLR(
        opt,
        [S.ConstantLR(opt, 0.5, total_iters=10), S.ExponentialLR(opt, 0.9), S.StepLR(opt, 3)],
        milestones=[3, 8],
    ),
    "milestone-at-zero": lambda S, opt: S.SequentialLR(
        opt, [S.ExponentialLR(opt, 0.5), S.MultiplicativeLR(opt, lambda e: 0.9)], [0]
    ),
    "nested": lambda S, opt: S.SequentialLR(
        opt,
        [
            S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, 2), S.LinearLR(opt, 0.2, 1.0, 4)], [2]),
            S.PolynomialLR(opt, total_iters=8, power=2.0),
        ],
        milestones=[6],
    ),
    "chain-constant-exponential": lambda S, opt: S.ChainedScheduler(
        [S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)]
    ),
    "chain-three-with-optimizer": lambda S, opt: S.ChainedScheduler(
        [
            S.LinearLR(opt, 0.5, total_iters=4),
            S.StepLR(opt, 3, 0.5),
            S.MultiplicativeLR(opt, lr_wave),
        ],
        optimizer=opt,
    ),
    "warmup-then-cyclic-with-momentum": lambda S, opt: S.SequentialLR(
        opt, [S.LinearLR(opt, 0.1, total_iters=4), S.CyclicLR(opt, 0.01, 0.1, step_size_up=3)], [4]
    ),
}


# a nested SequentialLR steps its inner scheduler at construction; PyTorch warns too
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")
@needs_torch
@pytest.mark.parametrize("build", list(SEQUENCES.values()), ids=list(SEQUENCES))
def test_sequential_and_chained_schedulers_match_torch(build):
    our_opt, their_opt = make_pair()
    ours, theirs = build(lr_scheduler, our_opt), build(torch.optim.lr_scheduler, their_opt)
    assert ours.get_last_lr() == theirs.get_last_lr()
    assert_groups_equal(our_opt, their_opt, 0)
    for step in range(1, 25):
        our_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr(), f"step {step}"
        assert ours.last_epoch == theirs.last_epoch if hasattr(theirs, "last_epoch") else True
        assert_groups_equal(our_opt, their_opt, step)


# a nested SequentialLR steps its inner scheduler at construction; PyTorch warns too
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`")
@pytest.mark.parametrize("name", ["warmup-then-cosine", "nested", "chain-constant-exponential"])
def test_sequential_and_chained_state_dicts_resume_identically(name):
    build = SEQUENCES[name]
    opt, _ = make_pair()
    sched = build(lr_scheduler, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert all(isinstance(s, dict) for s in sched_state["_schedulers"])
    expected = []
    for _ in range(10):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())
    fresh, _ = make_pair()
    resumed = build(lr_scheduler, fresh)
    fresh.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    got = []
    for _ in range(10):
        fresh.step()
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


@needs_torch
@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_cycles_adam_beta1_like_torch(mode):
    our_opt, their_opt = make_pair("Adam", groups=1)
    kwargs = dict(base_lr=0.001, max_lr=0.01, step_size_up=3, mode=mode, gamma=0.95)
    ours = lr_scheduler.CyclicLR(our_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.CyclicLR(their_opt, **kwargs)
    for _ in range(20):
        our_opt.step()
        their_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert our_opt.param_groups[0]["betas"] == their_opt.param_groups[0]["betas"]


@needs_torch
def test_cosine_warm_restarts_with_fractional_epochs_matches_torch():
    our_opt, their_opt = make_pair()
    ours = lr_scheduler.CosineAnnealingWarmRestarts(our_opt, T_0=2, T_mult=3, eta_min=0.001)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        their_opt, T_0=2, T_mult=3, eta_min=0.001
    )
    iters = 4
    for epoch in range(12):
        for i in range(iters):
            our_opt.step()
            their_opt.step()
            ours.step(epoch + i / iters)
            theirs.step(epoch + i / iters)
            assert ours.get_last_lr() == theirs.get_last_lr()
            assert (ours.T_cur, ours.T_i, ours.last_epoch) == (
                theirs.T_cur,
                theirs.T_i,
                theirs.last_epoch,
            )


def test_cyclic_lr_state_dict_drops_functions_and_keeps_callable_objects():
    class Halving:
        def __init__(self):
            self.base = 2.0

        def __call__(self, x):
            return 1 / self.base ** (x - 1)

    opt, _ = make_pair()
    sched = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, mode="exp_range", gamma=0.9)
    state = sched.state_dict()
    assert "_scale_fn_ref" not in state and state["_scale_fn_custom"] is None
    sched.load_state_dict(state)
    assert sched.scale_fn(2) == 0.9**2
    custom = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, scale_fn=Halving())
    state = custom.state_dict()
    assert state["_scale_fn_custom"] == {"base": 2.0}
    state["_scale_fn_custom"] = {"base": 4.0}
    custom.load_state_dict(state)
    assert custom.scale_fn(2) == 0.25


SCHEDULER_ERRORS = [
    (lambda S, o, o2: S.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda S, o, o2: S.LinearLR(o, start_factor=0.0), ValueError, "greater than 0"),
    (lambda S, o, o2: S.LinearLR(o, end_factor=2.0), ValueError, "between 0 and 1"),
    (lambda S, o, o2: S.MultiplicativeLR(o, [lr_wave]), ValueError, "Expected 2 lr_lambdas"),
    (lambda S, o, o2: S.MultiplicativeLR(o, 0.5), TypeError, "should be a function"),
    (lambda S, o, o2: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda S, o, o2: S.CosineAnnealingWarmRestarts(o, T_0=2.5), ValueError, "T_0"),
    (lambda S, o, o2: S.CosineAnnealingWarmRestarts(o, 2, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda S, o, o2: S.CosineAnnealingWarmRestarts(o, 2).step(-1), ValueError, "non-negative"),
    (lambda S, o, o2: S.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode is invalid"),
    (lambda S, o, o2: S.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length"),
    (lambda S, o, o2: S.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (
        lambda S, o, o2: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [1, 2]),
        ValueError,
        "number of milestones",
    ),
    (
        lambda S, o, o2: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [1]),
        ValueError,
        "does not support `ReduceLROnPlateau`",
    ),
    (
        lambda S, o, o2: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o2, 2)], [1]),
        ValueError,
        "same optimizer",
    ),
    (lambda S, o, o2: S.SequentialLR(o, [S.StepLR(o, 2), 3], [1]), TypeError, "`optimizer`"),
    (lambda S, o, o2: S.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (
        lambda S, o, o2: S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(o2, 2)]),
        ValueError,
        "same optimizer",
    ),
]


@pytest.mark.parametrize(("build", "error", "match"), SCHEDULER_ERRORS)
def test_new_scheduler_errors_have_torchs_types(build, error, match):
    opt, their_opt = make_pair()
    other, their_other = make_pair()
    with pytest.raises(error, match=match):
        build(lr_scheduler, opt, other)
    adagrad = optim.Adagrad([ag.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.CyclicLR(adagrad, 0.1, 1.0)
    if torch is not None:
        with pytest.raises(error):
            build(torch.optim.lr_scheduler, their_opt, their_other)
