"""Reference models for 28x28 grey images (Fashion-MNIST, MNIST): the MLP and CNN that
``graphgrad-train`` trains, built from ``nn`` layers only.
"""

from __future__ import annotations

from typing import Any

import nn

__all__ = ["MLP", "CNN", "MODELS", "build_model"]


class MLP(nn.Sequential):
    """A multilayer perceptron ``784 -> 256 -> 128 -> 10`` with ReLU and dropout.

    Shape: ``(N, 1, 28, 28)`` or ``(N, 784)`` -> ``(N, num_classes)`` logits.

    Example:
        >>> import autograd as ag
        >>> from graphgrad.models import MLP
        >>> MLP()(ag.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, in_features: int = 784, hidden: tuple[int, ...] = (256, 128),
                 num_classes: int = 10, dropout: float = 0.2) -> None:  # fmt: skip
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)


class CNN(nn.Module):
    """Two conv-batchnorm-relu-maxpool blocks (1->32->64 channels), dropout, a linear head.

    Shape: ``(N, 1, 28, 28)`` -> ``(N, num_classes)`` logits.

    Example:
        >>> import autograd as ag
        >>> from graphgrad.models import CNN
        >>> CNN()(ag.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, num_classes: int = 10, channels: tuple[int, int] = (32, 64),
                 dropout: float = 0.25) -> None:  # fmt: skip
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False),  # bias is redundant before BatchNorm
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 7 * 7, num_classes)
        )

    def forward(self, x: Any) -> Any:
        return self.classifier(self.features(x))


MODELS = {"mlp": MLP, "cnn": CNN}


def build_model(name: str, num_classes: int = 10) -> nn.Module:
    """Return a freshly initialised model by name (``'mlp'`` or ``'cnn'``)."""
    if name not in MODELS:
        raise ValueError(f"build_model: unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](num_classes=num_classes)
