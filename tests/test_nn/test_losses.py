"""Losses against PyTorch: every option and reduction, input/target gradients, stability, errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from parity import error_table, import_torch, pair

torch = import_torch()
TF = torch.nn.functional

RNG = np.random.default_rng(3)
REDUCTIONS = ["mean", "sum", "none"]
# PyTorch keeps float options (label_smoothing, delta, beta) in float32 internally.
RTOL, ATOL = 1e-6, 1e-9


def _check(ours_fn, torch_fn, arrays, grad_of=(0,)):
    """Run both on the same arrays; compare values and the gradients of ``grad_of`` inputs."""
    pairs = [pair(a, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    ours = ours_fn(*[p[0] for p in pairs])
    theirs = torch_fn(*[p[1] for p in pairs])
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL, equal_nan=True
    )
    g = RNG.standard_normal(tuple(theirs.shape))
    (ours * ag.tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(
            pairs[i][0].grad.numpy(),
            pairs[i][1].grad.numpy(),
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"input {i}",
        )
    return ours


CLASS_SHAPES = [((6, 5), (6,)), ((4,), ()), ((3, 4, 2, 3), (3, 2, 3)), ((2, 3, 5), (2, 5))]
CE_CASES = list(
    itertools.product(REDUCTIONS, range(len(CLASS_SHAPES)), [False, True], [-100, 1], [0.0, 0.25])
)


def _class_inputs(shape_index, weighted, ignore_index, scale=3.0):
    shape, target_shape = CLASS_SHAPES[shape_index]
    classes = shape[0] if len(shape) == 1 else shape[1]
    target = RNG.integers(0, classes, target_shape)
    if ignore_index == 1 and target.size > 1:
        target.flat[0] = 1  # at least one ignored entry
        target.flat[-1] = 0  # and at least one kept
    weight = RNG.uniform(0.5, 2.0, classes) if weighted else None
    return RNG.standard_normal(shape) * scale, target, weight


@pytest.mark.parametrize(
    "reduction, shape_index, weighted, ignore_index, label_smoothing", CE_CASES
)
def test_cross_entropy_class_indices_match_torch(
    reduction, shape_index, weighted, ignore_index, label_smoothing
):
    x, target, weight = _class_inputs(shape_index, weighted, ignore_index)
    options = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    _check(
        lambda a, t, w: F.cross_entropy(a, t, w, **options),
        lambda a, t, w: TF.cross_entropy(a, t, w, **options),
        [x, target, weight],
    )


@pytest.mark.parametrize(
    "reduction, shape_index, weighted, label_smoothing",
    list(itertools.product(REDUCTIONS, [0, 1, 2], [False, True], [0.0, 0.25])),
)
def test_cross_entropy_probability_targets_match_torch(
    reduction, shape_index, weighted, label_smoothing
):
    x, _, weight = _class_inputs(shape_index, weighted, -100)
    probabilities = RNG.dirichlet(
        np.ones(x.shape[0] if x.ndim == 1 else x.shape[1]),
        size=x.shape[:1] + x.shape[2:] if x.ndim > 1 else None,
    )
    probabilities = np.moveaxis(probabilities, -1, 1) if x.ndim > 1 else probabilities
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    _check(
        lambda a, t, w: F.cross_entropy(a, t, w, **options),
        lambda a, t, w: TF.cross_entropy(a, t, w, **options),
        [x, probabilities, weight],
        grad_of=(0, 1),
    )


@pytest.mark.parametrize(
    "reduction, shape_index, weighted, ignore_index",
    list(itertools.product(REDUCTIONS, range(len(CLASS_SHAPES)), [False, True], [-100, 1])),
)
def test_nll_loss_matches_torch(reduction, shape_index, weighted, ignore_index):
    x, target, weight = _class_inputs(shape_index, weighted, ignore_index)
    options = dict(ignore_index=ignore_index, reduction=reduction)
    _check(
        lambda a, t, w: F.nll_loss(a, t, w, **options),
        lambda a, t, w: TF.nll_loss(a, t, w, **options),
        [x, target, weight],
    )


def test_weighted_mean_divides_by_the_targets_weights():
    x = ag.tensor([[0.0, -1.0], [-2.0, 0.0], [-4.0, 0.0]])
    loss = F.nll_loss(x, ag.tensor([1, 0, -100]), weight=ag.tensor([3.0, 1.0]))
    assert loss.item() == pytest.approx((1.0 * 1 + 3.0 * 2) / (1.0 + 3.0))


def test_all_targets_ignored_gives_nan_with_zero_gradient_like_torch():
    x = RNG.standard_normal((3, 4))
    target = np.full(3, -100)
    for fn, tfn in [(F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)]:
        out = _check(fn, tfn, [x, target])
        assert np.isnan(out.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, options",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.75}),
        ("huber_loss", {"delta": 2.5}),
    ],
)
def test_regression_losses_match_torch(name, options, reduction):
    x, y = RNG.standard_normal((4, 5)) * 2, RNG.standard_normal((4, 5)) * 2
    y[0, 0] = x[0, 0]  # a zero difference: the subgradient there is 0 for |.|, as PyTorch
    _check(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, **options),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **options),
        [x, y],
        grad_of=(0, 1),
    )


def test_regression_broadcasting_warns_like_torch():
    with pytest.warns(
        UserWarning, match=r"target size \(3,\) that is different from the input size \(3, 1\)"
    ):
        out = F.mse_loss(ag.ones(3, 1), ag.zeros(3))
    assert out.item() == 1.0


@pytest.mark.parametrize(
    "reduction, weighted, shape", list(itertools.product(REDUCTIONS, [False, True], [(4, 3), (5,)]))
)
def test_binary_cross_entropy_matches_torch(reduction, weighted, shape):
    probabilities = RNG.uniform(0.02, 0.98, shape)
    probabilities.flat[0], probabilities.flat[1] = 0.0, 1.0  # clamped logs at the ends
    target = RNG.uniform(0, 1, shape)
    weight = RNG.uniform(0.5, 2.0, shape[-1:]) if weighted else None
    _check(lambda a, t, w: F.binary_cross_entropy(a, t, w, reduction=reduction), lambda a, t, w: TF.binary_cross_entropy(a, t, w, reduction=reduction),
           [probabilities, target, weight], grad_of=(0,))  # fmt: skip
    # The target gradient too, away from 0 and 1 (see the next test for the ends).
    interior = probabilities.copy()
    interior.flat[0], interior.flat[1] = 0.3, 0.6
    _check(lambda a, t, w: F.binary_cross_entropy(a, t, w, reduction=reduction), lambda a, t, w: TF.binary_cross_entropy(a, t, w, reduction=reduction),
           [interior, target, weight], grad_of=(0, 1))  # fmt: skip


def test_binary_cross_entropy_target_gradient_at_the_ends_follows_the_clamped_logs():
    # PyTorch returns inf here; the loss is computed with logs clamped at -100, so its slope in
    # the target is finite: log(1 - x) - log(x) clamped = +-100.
    x = ag.tensor([0.0, 1.0])
    target = ag.tensor([0.5, 0.5], requires_grad=True)
    F.binary_cross_entropy(x, target, reduction="sum").backward()
    assert target.grad.tolist() == [100.0, -100.0]


@pytest.mark.parametrize(
    "reduction, weighted, pos_weighted",
    list(itertools.product(REDUCTIONS, [False, True], [False, True])),
)
def test_binary_cross_entropy_with_logits_matches_torch(reduction, weighted, pos_weighted):
    logits = RNG.standard_normal((4, 3)) * 4
    logits[0, 0] = 0.0  # the softplus gradient at exactly 0 is sigmoid(0) = 0.5
    target = RNG.uniform(0, 1, (4, 3))
    weight = RNG.uniform(0.5, 2.0, (3,)) if weighted else None
    pos_weight = RNG.uniform(0.5, 3.0, (3,)) if pos_weighted else None
    _check(
        lambda a, t, w, p: F.binary_cross_entropy_with_logits(
            a, t, w, reduction=reduction, pos_weight=p
        ),
        lambda a, t, w, p: TF.binary_cross_entropy_with_logits(
            a, t, w, reduction=reduction, pos_weight=p
        ),
        [logits, target, weight, pos_weight],
        grad_of=(0, 1),
    )


@pytest.mark.parametrize(
    "reduction, log_target", list(itertools.product(REDUCTIONS + ["batchmean"], [False, True]))
)
def test_kl_div_matches_torch(reduction, log_target):
    log_q = np.log(RNG.dirichlet(np.ones(5), size=3))
    p = RNG.dirichlet(np.ones(5), size=3)
    p[0, 0] = 0.0  # 0 log 0 = 0
    target = np.log(p + 1e-3) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # both warn about reduction='mean'
        _check(lambda a, t: F.kl_div(a, t, reduction=reduction, log_target=log_target), lambda a, t: TF.kl_div(a, t, reduction=reduction, log_target=log_target),
               [log_q, target], grad_of=(0,) if not log_target else (0, 1))  # fmt: skip


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(ag.zeros(2, 2), ag.ones(2, 2) / 2)


STABILITY = [
    ("cross_entropy", lambda x: F.cross_entropy(x, ag.tensor([0, 1, 2]))),
    (
        "cross_entropy_smoothed",
        lambda x: F.cross_entropy(
            x, ag.tensor([0, 1, 2]), label_smoothing=0.1, weight=ag.tensor([1.0, 2.0, 3.0])
        ),
    ),
    ("cross_entropy_probabilities", lambda x: F.cross_entropy(x, ag.tensor([[0.2, 0.3, 0.5]] * 3))),
    ("nll_of_log_softmax", lambda x: F.nll_loss(x.log_softmax(dim=1), ag.tensor([2, 2, 0]))),
    (
        "bce_with_logits",
        lambda x: F.binary_cross_entropy_with_logits(
            x, ag.ones(3, 3) * 0.3, pos_weight=ag.tensor([1.0, 2.0, 3.0])
        ),
    ),
    (
        "bce_with_logits_hard_targets",
        lambda x: F.binary_cross_entropy_with_logits(x, (x.detach() < 0).to(x.dtype)),
    ),
    (
        "bce_of_sigmoid",
        lambda x: F.binary_cross_entropy(x.sigmoid(), ag.tensor([[1.0, 0.0, 1.0]] * 3)),
    ),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss_fn", [s[1] for s in STABILITY], ids=[s[0] for s in STABILITY])
def test_logits_of_magnitude_1e4_give_finite_values_and_gradients(loss_fn, dtype):
    x = ag.tensor(
        [[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [0.0, -1e4, 1e4]],
        dtype=getattr(ag, dtype),
        requires_grad=True,
    )
    loss = loss_fn(x)
    loss.backward()
    assert np.isfinite(loss.item())
    assert np.isfinite(x.grad.numpy()).all()


def test_cross_entropy_at_1e4_matches_torch():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]])
    _check(
        lambda a, t: F.cross_entropy(a, t),
        lambda a, t: TF.cross_entropy(a, t),
        [x, np.array([1, 1])],
    )
    _check(
        lambda a, t: F.binary_cross_entropy_with_logits(a, t),
        lambda a, t: TF.binary_cross_entropy_with_logits(a, t),
        [x, np.full(x.shape, 0.25)],
    )


MODULES = [
    ("MSELoss", {}, "regression"),
    ("L1Loss", {"reduction": "sum"}, "regression"),
    ("SmoothL1Loss", {"beta": 0.5}, "regression"),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}, "regression"),
    (
        "CrossEntropyLoss",
        {"weight": [1.0, 2.0, 0.5], "ignore_index": 0, "label_smoothing": 0.25},
        "classes",
    ),
    ("NLLLoss", {"weight": [1.0, 2.0, 0.5], "reduction": "sum"}, "classes"),
    ("BCELoss", {"weight": [1.0, 2.0, 0.5]}, "probabilities"),
    ("BCEWithLogitsLoss", {"pos_weight": [1.0, 2.0, 0.5]}, "regression"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, "regression"),
]


@pytest.mark.parametrize("name, options, kind", MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules_match_torch_repr_buffers_and_values(name, options, kind):
    ours_options = {k: ag.tensor(v) if isinstance(v, list) else v for k, v in options.items()}
    theirs_options = {
        k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v
        for k, v in options.items()
    }
    ours, theirs = getattr(nn, name)(**ours_options), getattr(torch.nn, name)(**theirs_options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = RNG.standard_normal((4, 3))
    if kind == "classes":
        arrays = [x, RNG.integers(0, 3, (4,))]
    elif kind == "probabilities":
        arrays = [RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))]
    else:
        arrays = [
            x,
            RNG.standard_normal((4, 3))
            if name != "BCEWithLogitsLoss"
            else RNG.uniform(0, 1, (4, 3)),
        ]
    _check(ours, theirs, arrays)


def test_legacy_size_average_and_reduce_flags():
    with pytest.warns(UserWarning, match="deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.CrossEntropyLoss(None, True, -100, False).reduction == "none"


ERRORS = [
    (
        "ce_float_target_wrong_shape",
        lambda: F.cross_entropy(ag.randn(4, 3), ag.randn(4)),
        RuntimeError,
        r"cross_entropy: float targets are class probabilities and must have the input's shape \(4, 3\), got \(4,\)",
    ),
    (
        "ce_int_target_wrong_shape",
        lambda: F.cross_entropy(ag.randn(4, 3), ag.tensor([[0, 1, 2, 0]])),
        ValueError,  # as PyTorch
        r"cross_entropy: expected input batch_size \(4\) to match target batch_size \(1\)",
    ),
    (
        "nll_batch_mismatch",
        lambda: F.nll_loss(ag.randn(4, 3), ag.tensor([0, 1, 2])),
        ValueError,
        r"nll_loss: expected input batch_size \(4\) to match target batch_size \(3\)",
    ),
    (
        "ce_spatial_mismatch",
        lambda: F.cross_entropy(ag.randn(2, 3, 4), ag.tensor([[0, 1, 2], [0, 0, 0]])),
        RuntimeError,
        r"expected target of shape \(2, 4\) for input of shape \(2, 3, 4\)",
    ),
    (
        "ce_weight_requires_grad",
        lambda: F.cross_entropy(ag.randn(2, 3), ag.tensor([0, 1]),
                                weight=ag.ones(3, requires_grad=True)),
        RuntimeError,
        r"cross_entropy: the loss is not differentiable with respect to weight",
    ),
    (
        "ce_out_of_range",
        lambda: F.cross_entropy(ag.randn(2, 3), ag.tensor([0, 3])),
        IndexError,
        r"cross_entropy: target 3 is out of bounds for 3 classes \(input \(2, 3\), target \(2,\)\); class indices must be in \[0, 3\) or equal ignore_index=-100",
    ),
    (
        "ce_negative",
        lambda: F.cross_entropy(ag.randn(2, 3), ag.tensor([-1, 0])),
        IndexError,
        r"target -1 is out of bounds",
    ),
    (
        "ce_weight_shape",
        lambda: F.cross_entropy(ag.randn(2, 3), ag.tensor([0, 1]), weight=ag.ones(2)),
        RuntimeError,
        r"cross_entropy: weight must have shape \(3,\), one value per class, got \(2,\)",
    ),
    (
        "ce_zero_dim",
        lambda: F.cross_entropy(ag.tensor(1.0), ag.tensor(0)),
        RuntimeError,
        r"input must have a class dim",
    ),
    (
        "ce_label_smoothing",
        lambda: F.cross_entropy(ag.randn(2, 3), ag.tensor([0, 1]), label_smoothing=1.5),
        ValueError,
        r"label_smoothing must be between 0.0 and 1.0",
    ),
    (
        "nll_float_target",
        lambda: F.nll_loss(ag.randn(2, 3), ag.tensor([0.0, 1.0])),
        RuntimeError,
        r"nll_loss: class-index targets must be an integer \(int64\) tensor, got dtype float32 \(input \(2, 3\), target \(2,\)\)",
    ),
    (
        "bad_reduction",
        lambda: F.mse_loss(ag.ones(2), ag.ones(2), reduction="avg"),
        ValueError,
        r"mse_loss: 'avg' is not a valid value for reduction",
    ),
    (
        "batchmean_only_kl",
        lambda: F.l1_loss(ag.ones(2), ag.ones(2), reduction="batchmean"),
        ValueError,
        r"not a valid value",
    ),
    (
        "mse_not_broadcastable",
        lambda: F.mse_loss(ag.ones(2, 3), ag.ones(4)),
        RuntimeError,
        r"mse_loss: input \(2, 3\) and target \(4,\) have different, non-broadcastable shapes",
    ),
    (
        "bce_out_of_range",
        lambda: F.binary_cross_entropy(ag.tensor([0.5, 1.5]), ag.tensor([0.0, 1.0])),
        RuntimeError,
        r"binary_cross_entropy: all elements of input should be between 0 and 1",
    ),
    (
        "bce_shape",
        lambda: F.binary_cross_entropy(ag.tensor([0.5, 0.5]), ag.tensor([[0.0, 1.0]])),
        ValueError,
        r"binary_cross_entropy: target size \(1, 2\) must be the same as the input size \(2,\)",
    ),
    (
        "bce_logits_shape",
        lambda: F.binary_cross_entropy_with_logits(ag.zeros(3), ag.zeros(3, 1)),
        ValueError,
        r"target size \(3, 1\) must be the same as the input size \(3,\)",
    ),
    (
        "bce_int_target",
        lambda: F.binary_cross_entropy_with_logits(ag.zeros(2), ag.tensor([0, 1])),
        RuntimeError,
        r"expected a floating-point target, got dtype int64",
    ),
    (
        "huber_delta",
        lambda: F.huber_loss(ag.ones(2), ag.ones(2), delta=0.0),
        RuntimeError,
        r"delta must be positive",
    ),
    (
        "smooth_l1_beta",
        lambda: F.smooth_l1_loss(ag.ones(2), ag.ones(2), beta=-1.0),
        RuntimeError,
        r"beta must be non-negative",
    ),
]


test_errors_name_the_problem = error_table(ERRORS)


def test_float32_stays_float32():
    x = ag.randn(4, 3, requires_grad=True)
    losses = [
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(3), label_smoothing=0.1),
        F.nll_loss(x, ag.tensor([0, 1, 2, 0])),
        F.mse_loss(x, ag.zeros(4, 3)),
        F.binary_cross_entropy(x.sigmoid(), ag.ones(4, 3)),
        F.binary_cross_entropy_with_logits(x, ag.ones(4, 3), pos_weight=ag.ones(3)),
        F.kl_div(x.log_softmax(dim=1), ag.ones(4, 3) / 3, reduction="batchmean"),
    ]
    for loss in losses:
        assert loss.dtype == ag.float32
        (grad,) = ag.grad(loss, [x])
        assert grad.dtype == ag.float32
