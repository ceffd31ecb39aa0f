"""The run folder and its checkpoint: checked before anything runs, created when training
starts, removed again if the run fails before its first checkpoint, read back by ``--resume``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import autograd as ag

__all__ = ["CHECKPOINT", "WEIGHTS", "ONNX_FILE", "TrainError", "RunFolder", "read_for_resume"]

CHECKPOINT = "checkpoint.safetensors"
WEIGHTS = "model.safetensors"
ONNX_FILE = "model.onnx"

# Arguments that define the computation: a resumed run must keep them.
FIXED_ON_RESUME = (
    "dataset", "model", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "scheduler",
    "seed", "subset", "augment",
)  # fmt: skip


class TrainError(Exception):
    """A problem the user can fix (missing data, a bad checkpoint): printed without traceback."""


class RunFolder:
    """The ``--out`` folder of a run: nothing is written until :meth:`create`.

    If the run ends before its first checkpoint (an error, an interrupt during start-up),
    :meth:`discard` removes what this run wrote, so no stub folders are left behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._created: Path | None = None  # the topmost folder this run created
        self._before: set[Path] = set()

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    def check_writable(self) -> None:
        """Raise TrainError if the folder cannot be created or written (before any work)."""
        ancestor = self.path
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise TrainError(f"--out {self.path}: cannot create the run folder ({ancestor} is "
                             "a file, not a folder)")  # fmt: skip
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise TrainError(f"--out {self.path}: cannot create the run folder ({ancestor} is "
                             "not writable); choose another --out")  # fmt: skip

    def create(self) -> None:
        """Create the folder (and its parents) and remember what was already in it."""
        missing = self.path
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        existed = self.path.is_dir()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TrainError(
                f"--out {self.path}: cannot create the run folder ({error.strerror or error})"
            ) from None
        self._created = None if existed else missing
        self._before = set(self.path.iterdir())

    def discard(self) -> None:
        """Remove what this run wrote, unless a checkpoint exists (then the run is resumable)."""
        if self.checkpoint.exists() or not self.path.is_dir():
            return
        if self._created is not None:
            shutil.rmtree(self._created, ignore_errors=True)
            return
        for entry in set(self.path.iterdir()) - self._before:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def read_for_resume(config: dict[str, Any]) -> dict[str, Any]:
    """Load ``--out``'s checkpoint and take the recipe from it (in ``config``, in place).

    Arguments that define the computation (``FIXED_ON_RESUME``) must match the checkpoint's
    when they are given again; ``--epochs`` may be raised to extend a finished run.
    """
    path = Path(config["out"]) / CHECKPOINT
    if not path.is_file():
        raise TrainError(
            f"--resume: no checkpoint at {path}; start the run without --resume "
            "(or point --out at the run folder)"
        )
    try:
        state = ag.load(path)
    except RuntimeError as error:
        raise TrainError(f"--resume: cannot read the checkpoint: {error}") from None
    saved = state["config"]
    for key in FIXED_ON_RESUME:
        given = config["_given"].get(key)
        if given is not None and given != saved[key]:
            raise TrainError(
                f"--resume: --{key.replace('_', '-')} {given} differs from the checkpoint's "
                f"{saved[key]}; a resumed run keeps its recipe (start a new --out instead)"
            )
        config[key] = saved[key]
    if config["_given"].get("epochs") is None:
        config["epochs"] = saved["epochs"]
    return state
