"""Complete PyTorch-style programs (tests/pytorch_programs/) run on graphgrad and on PyTorch.

Each program is written once, against the framework namespaces it receives (``torch``, ``nn``,
``optim``, ``data``): PyTorch's, or graphgrad's ``autograd``, ``nn``, ``optim`` and
``autograd.data``. Both start from the same weights (PyTorch's initialisation, copied through
the state dict) and the same data, and their losses must agree step by step: tightly in
float64, more loosely in float32.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
import nn
import optim

from parity import copy_weights, import_torch
from pytorch_programs import cnn, polynomial, rnn, transformer_lm

torch = import_torch()

OURS = dict(torch=ag, nn=nn, optim=optim, data=ag.data)
THEIRS = dict(torch=torch, nn=torch.nn, optim=torch.optim, data=torch.utils.data)
# float64: only rounding differs, and it stays at rounding level; float32 drifts further.
TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=2e-4, atol=1e-5)}


def _both(build, dtype, seed=0):
    """The model built by both frameworks, ours holding PyTorch's initial weights."""
    torch.manual_seed(seed)
    theirs = build(**{k: THEIRS[k] for k in ("torch", "nn")})
    ours = build(**{k: OURS[k] for k in ("torch", "nn")})
    if dtype == "float64":
        theirs.double(), ours.double()
    return copy_weights(ours, theirs), theirs


def _close(ours, theirs, dtype, what):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                               err_msg=what, **TOLERANCE[dtype])  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polynomial_fit_with_tensors_and_autograd(dtype):
    weights = np.random.default_rng(0).standard_normal(4)
    ours = polynomial.fit_with_autograd(ag, weights, steps=300, dtype=dtype)
    theirs = polynomial.fit_with_autograd(torch, weights, steps=300, dtype=dtype)
    _close(ours[0], theirs[0], dtype, "losses")
    _close(ours[1], theirs[1], dtype, "coefficients")
    assert theirs[0][-1] < 0.5 * theirs[0][0]


def _numbers(text):
    return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polynomial_fit_with_a_custom_module_and_sgd(dtype):
    ours_model, theirs_model = _both(polynomial.polynomial_module, dtype)
    ours = polynomial.fit_module(ag, nn, optim, ours_model, steps=300, dtype=dtype)
    theirs = polynomial.fit_module(torch, torch.nn, torch.optim, theirs_model, steps=300, dtype=dtype)
    _close(ours[0], theirs[0], dtype, "losses")
    assert ours[1].startswith("y = ") and len(_numbers(ours[1])) == 4
    _close(_numbers(ours[1]), _numbers(theirs[1]), dtype, "the fitted polynomial")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polynomial_fit_with_sequential_and_rmsprop(dtype):
    ours_model, theirs_model = _both(polynomial.sequential_model, dtype)
    ours = polynomial.fit_sequential(ag, nn, optim, ours_model, steps=300, dtype=dtype)
    theirs = polynomial.fit_sequential(torch, torch.nn, torch.optim, theirs_model, steps=300,
                                       dtype=dtype)  # fmt: skip
    _close(ours[0], theirs[0], dtype, "losses")
    _close(ours[1], theirs[1], dtype, "coefficients")
    assert theirs[0][-1] < 0.1 * theirs[0][0]


def _images(rng, n=64):
    """Four classes of 12x12 images: a bright bar in one of four places, plus noise."""
    labels = rng.integers(0, 4, n)
    images = rng.normal(0.0, 0.3, (n, 1, 12, 12))
    for k, label in enumerate(labels):
        row = 2 + 2 * int(label)
        images[k, 0, row : row + 2, 2:10] += 1.5
    return images.astype(np.float32), labels


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cnn_classifier_with_a_dataloader_and_a_sampler(dtype):
    rng = np.random.default_rng(1)
    images, labels = _images(rng)
    order = [rng.permutation(len(labels)).tolist() for _ in range(2)]
    results = []
    for model, names in zip(_both(cnn.build, dtype), (OURS, THEIRS)):
        results.append(cnn.train(**names, net=model, images=images, labels=labels, order=order,
                                 dtype=dtype))  # fmt: skip
    (losses, accuracy, predictions), (losses_t, accuracy_t, predictions_t) = results
    assert len(losses) == 8
    _close(losses, losses_t, dtype, "losses")
    assert accuracy == accuracy_t
    assert predictions == predictions_t


def _names(rng, n=24):
    """Names of three made-up 'languages', each from its own letters."""
    alphabets = ["aeiou", "bcdfg", "klmnr"]
    labels = rng.integers(0, 3, n).tolist()
    names = ["".join(rng.choice(list(alphabets[c] + "st"), size=rng.integers(3, 7))) for c in labels]
    return names, labels


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_char_rnn_classifier(dtype):
    rng = np.random.default_rng(2)
    names, labels = _names(rng)
    letters = "abcdefghijklmnopqrstuvwxyz"
    batches = [rng.permutation(len(names))[:6].tolist() for _ in range(6)]
    results = []
    for model, names_space in zip(
        _both(lambda torch, nn: rnn.build_char_rnn(torch, nn, len(letters), 16, 3), dtype),
        (OURS, THEIRS),
    ):
        results.append(rnn.train_char_rnn(names_space["torch"], names_space["nn"],
                                          names_space["optim"], model, names, labels, letters,
                                          batches, dtype=dtype))  # fmt: skip
    (losses, guesses), (losses_t, guesses_t) = results
    _close(losses, losses_t, dtype, "losses")
    assert guesses == guesses_t


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_packed_lstm_classifier(dtype):
    rng = np.random.default_rng(3)
    names, labels = _names(rng, 32)
    sequences = [[ord(ch) - ord("a") + 1 for ch in name] for name in names]
    batches = [rng.permutation(len(names))[:8].tolist() for _ in range(8)]
    losses = []
    for model, space in zip(_both(lambda torch, nn: rnn.build_lstm(torch, nn, 27, 8, 12, 3), dtype),
                            (OURS, THEIRS)):  # fmt: skip
        losses.append(rnn.train_lstm(space["torch"], space["nn"], space["optim"], model,
                                     sequences, labels, batches))  # fmt: skip
    _close(losses[0], losses[1], dtype, "losses")
    assert losses[1][-1] < losses[1][0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tiny_transformer_language_model(dtype):
    rng = np.random.default_rng(4)
    ntokens = 12
    # A corpus with structure to learn: counting up modulo the vocabulary, with noise.
    tokens = (np.arange(200) + rng.integers(0, 2, 200)) % ntokens
    results = []
    for model, space in zip(_both(lambda torch, nn: transformer_lm.build(torch, nn, ntokens), dtype),
                            (OURS, THEIRS)):  # fmt: skip
        results.append(transformer_lm.train(space["torch"], space["nn"], space["optim"], model,
                                            tokens, ntokens))  # fmt: skip
    (losses, evaluations), (losses_t, evaluations_t) = results
    _close(losses, losses_t, dtype, "losses")
    _close(evaluations, evaluations_t, dtype, "evaluation losses")
    assert evaluations_t[-1] < losses_t[0]
