"""The polynomial fits of PyTorch's "Learning PyTorch with Examples", written once.

Fit ``y = a + b x + c x^2 + d x^3`` to ``sin(x)`` on [-pi, pi], three ways: tensors and
autograd with a hand-written update, a custom ``nn.Module`` with ``optim.SGD``, and
``nn.Sequential`` with ``optim.RMSprop``. Every function takes the framework's namespaces
(``torch``, ``nn``, ``optim``) as arguments, so the same source runs on PyTorch and on
graphgrad, and returns the loss of every step and the fitted coefficients.
"""

# ruff: noqa: B007  (loop variables named as the tutorials name them, even when unused)

from __future__ import annotations

import math


def fit_with_autograd(torch, weights, steps, dtype="float64"):
    """Tensors and autograd: the update is written by hand under ``no_grad``."""
    dtype = getattr(torch, dtype)
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(w, dtype=dtype, requires_grad=True) for w in weights)
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


def polynomial_module(torch, nn):
    """A custom module holding the four coefficients as parameters."""

    class Polynomial3(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.randn(()))
            self.b = nn.Parameter(torch.randn(()))
            self.c = nn.Parameter(torch.randn(()))
            self.d = nn.Parameter(torch.randn(()))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"

    return Polynomial3()


def fit_module(torch, nn, optim, model, steps, dtype="float64"):
    """The custom module, ``MSELoss(reduction='sum')`` and SGD."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=getattr(torch, dtype))
    y = torch.sin(x)
    criterion = nn.MSELoss(reduction="sum")
    optimizer = optim.SGD(model.parameters(), lr=1e-6)
    losses = []
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.string()


def sequential_model(torch, nn):
    """``Linear(3, 1)`` on the powers ``(x, x^2, x^3)``, flattened to one output per point."""
    return nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))


def fit_sequential(torch, nn, optim, model, steps, dtype="float64"):
    """``nn.Sequential``, ``MSELoss(reduction='sum')`` and RMSprop."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=getattr(torch, dtype))
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    loss_fn = nn.MSELoss(reduction="sum")
    optimizer = optim.RMSprop(model.parameters(), lr=1e-3)
    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear_layer = model[0]
    coefficients = [linear_layer.bias.item(), linear_layer.weight[:, 0].item(),
                    linear_layer.weight[:, 1].item(), linear_layer.weight[:, 2].item()]
    return losses, coefficients
