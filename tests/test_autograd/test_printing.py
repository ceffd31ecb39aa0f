"""``repr`` of tensors against PyTorch's: number formatting, summaries, line breaks, suffixes."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag

from parity import import_torch

torch = import_torch()

_RNG = np.random.default_rng(16)

TENSORS = {
    "random": _RNG.standard_normal((3, 4)).astype(np.float32),
    "random_float64": _RNG.standard_normal(3),
    "gradient_1e-4": np.array([1.7569e-04], np.float32),
    "tiny_and_one": np.array([1.7569e-04, 2.0], np.float32),
    "huge": np.array([1e10, 1.0], np.float32),
    "huge_one": np.array([12345678912.0], np.float32),
    "ratio_over_1000": np.array([0.5, 600.0], np.float32),
    "mixed_magnitudes": np.array([1e-8, 1e8, 3.5, -2.0]),
    "integral_floats": np.array([1.0, 2.0, 300.0], np.float32),
    "integral_huge": np.array([1e10, 1.0]),
    "negative_zero": np.array([0.0, -0.0], np.float32),
    "negative_zero_and_half": np.array([-0.0, 1.5], np.float32),
    "nan_inf": np.array([np.nan, np.inf, -np.inf, 1.0], np.float32),
    "nan_and_fraction": np.array([np.nan, 1.25]),
    "all_nan": np.array([np.nan, np.nan], np.float32),
    "int64": np.array([[1, -200], [3, 4]]),
    "int32": np.array([1, 2], np.int32),
    "uint8": np.array([1, 255], np.uint8),
    "float16": np.array([1.5, 2.25], np.float16),
    "bool": np.array([True, False]),
    "bool_all_true": np.array([[True, True]]),
    "0d_float": np.float32(3.25),
    "0d_negative": np.float32(-0.5),
    "0d_tiny": np.float32(1e-6),
    "0d_int": np.int64(-5),
    "0d_bool": np.bool_(True),
    "0d_float64": np.float64(2.0),
    "empty": np.zeros((0,), np.float32),
    "empty_2d": np.zeros((2, 0), np.float32),
    "empty_int": np.zeros((0,), np.int64),
    "empty_float64": np.zeros((0, 3)),
    "wraps_lines": _RNG.standard_normal(30).astype(np.float32),
    "wide_ints": np.arange(40) * 1000,
    "4d": _RNG.standard_normal((2, 2, 2, 3)).astype(np.float32),
    "summarised_2d": np.arange(2000, dtype=np.float32).reshape(40, 50) / 7,
    "summarised_1d_int": np.arange(5000),
    "summarised_3d": _RNG.standard_normal((12, 12, 12)),
    "summarised_bool": np.arange(1200) % 3 == 0,
}

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 6},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 3, "edgeitems": 0},
    {"linewidth": 40},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
]


def normalized(text: str) -> str:
    """PyTorch's repr with graphgrad's spellings: ``float64`` for ``torch.float64``, node names
    without the version digit; a suffix moved to its own line joins the line before (ours are
    shorter without ``torch.``, so a wrap may fall differently)."""
    text = text.replace("torch.", "")
    text = re.sub(r"Backward\d*>", "Backward>", text)
    return re.sub(r",\n\s+(dtype=|requires_grad=|grad_fn=|size=)", r", \1", text)


@pytest.fixture(autouse=True)
def _restore_print_options():
    yield
    ag.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
@pytest.mark.parametrize("name", list(TENSORS))
def test_repr_matches_torch(name, options):
    ag.set_printoptions(**options)
    torch.set_printoptions(**options)
    array = TENSORS[name]
    ours, theirs = repr(ag.tensor(array)), repr(torch.tensor(array))
    assert normalized(ours) == normalized(theirs)
    assert str(ag.tensor(array)) == ours


def test_full_profile_never_summarises():
    ag.set_printoptions(profile="full")
    torch.set_printoptions(profile="full")
    array = np.arange(1500)
    assert repr(ag.tensor(array)) == repr(torch.tensor(array))
    assert "..." not in repr(ag.tensor(array))


def test_a_small_gradient_next_to_a_large_one_prints_in_scientific_notation():
    grads = []
    for m in (ag, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * m.tensor([1.7569e-04, 0.5])).sum().backward()
        grads.append(repr(x.grad))
    assert grads[0] == grads[1] == "tensor([1.7569e-04, 5.0000e-01])"


def _graph_tensors(m):
    x = m.tensor([1.0, -2.0], requires_grad=True)
    w = m.tensor(np.linspace(-1, 1, 18).reshape(2, 9), requires_grad=True)
    return [x, x * 2, (x * x).sum(), w, (w * 1e-5).exp(), x.detach()]


def test_requires_grad_and_grad_fn_suffixes_match_torch():
    for ours, theirs in zip(_graph_tensors(ag), _graph_tensors(torch)):
        assert normalized(repr(ours)) == normalized(repr(theirs))


def test_default_dtype_changes_which_dtype_is_named():
    array = np.array([1.5, 2.0])
    previous = ag.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for dtype in (np.float32, np.float64):
            assert normalized(repr(torch.tensor(array.astype(dtype)))) == repr(
                ag.tensor(array.astype(dtype))
            )
    finally:
        ag.set_default_dtype(previous)
        torch.set_default_dtype(torch.float32)


def test_sci_mode_none_restores_automatic_choice():
    ag.set_printoptions(sci_mode=True)
    assert repr(ag.tensor([1.5])) == "tensor([1.5000e+00])"
    ag.set_printoptions(precision=4)  # sci_mode omitted: back to automatic, as in PyTorch
    assert repr(ag.tensor([1.5])) == "tensor([1.5000])"


def test_printoptions_context_manager_restores_options():
    from autograd._format import get_printoptions, printoptions

    before = get_printoptions()
    with printoptions(precision=1):
        assert repr(ag.tensor([1.25])) == "tensor([1.2])"
    assert get_printoptions() == before


def test_unknown_profile_raises():
    with pytest.raises(ValueError, match="unknown profile 'tiny'"):
        ag.set_printoptions(profile="tiny")
