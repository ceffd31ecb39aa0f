"""Optimizers (``SGD, Adam, AdamW, RMSprop, Adagrad``) and learning-rate schedulers.

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
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler", "required"]
