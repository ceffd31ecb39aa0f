"""Optimizers (``SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, LBFGS``)
and learning-rate schedulers.

>>> import autograd as ag, optim
>>> w = ag.tensor([1.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.5)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
>>> (w * w).sum().backward(); opt.step(); sched.step()
>>> w, sched.get_last_lr()
(tensor([0.], requires_grad=True), [0.05])
"""

from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer, required
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "LBFGS",
    "lr_scheduler",
    "required",
]
