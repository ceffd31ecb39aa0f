"""The run folder and its checkpoint: checked before anything runs, staged in a hidden folder
until the first checkpoint (so a run that ends earlier leaves nothing), read back by ``--resume``.
"""

from __future__ import annotations

import glob
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
    """The ``--out`` folder of a run: nothing appears there until the first checkpoint.

    A new run writes its first files (``config.json``, ``graph.svg``) into a hidden staging
    folder beside the run folder (``.<name>.partial-<pid>``), and :meth:`commit` renames it into
    place together with the first checkpoint, in one step. So a run that ends before its first
    checkpoint leaves no stub, whatever ends it: an error and Ctrl-C call :meth:`discard`, and
    the staging folder of a killed run (SIGKILL, out of memory) is removed by the next run.
    Into a folder that already exists (``--resume``, or one the user made) files are moved one
    by one, the checkpoint first, so a run is resumable as soon as anything of it is there.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._staging: Path | None = None  # None once committed (or before create)

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def work(self) -> Path:
        """The folder to write into now: the staging folder until :meth:`commit`."""
        return self._staging if self._staging is not None else self.path

    def _base(self) -> Path:
        """The nearest folder that exists: the run folder, or the ancestor it will be made in."""
        base = self.path
        while not base.exists() and base != base.parent:
            base = base.parent
        return base

    def check_writable(self) -> None:
        """Raise TrainError if the folder cannot be created or written (before any work)."""
        ancestor = self._base()
        if not ancestor.is_dir():
            raise TrainError(f"--out {self.path}: cannot create the run folder ({ancestor} is "
                             "a file, not a folder)")  # fmt: skip
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise TrainError(f"--out {self.path}: cannot create the run folder ({ancestor} is "
                             "not writable); choose another --out")  # fmt: skip

    def _remove_stale_staging(self) -> None:
        """Remove the staging folders that runs killed before their first checkpoint left.

        A killed run staged in the nearest folder that existed then: this one or an ancestor.
        """
        prefix = f".{self.path.name}.partial-"
        for folder in (self.path, *self.path.parents):
            if not folder.is_dir():
                continue
            for entry in folder.glob(f"{glob.escape(prefix)}*"):
                pid = entry.name[len(prefix) :]
                if not pid.isdigit() or (int(pid) != os.getpid() and _alive(int(pid))):
                    continue  # not ours, or a run still starting up in the same --out
                shutil.rmtree(entry, ignore_errors=True)

    def create(self) -> None:
        """Make the staging folder, or write into the run folder if it holds a checkpoint."""
        if self.checkpoint.exists():
            self._staging = None
            return
        self._remove_stale_staging()
        staging = self._base() / f".{self.path.name}.partial-{os.getpid()}"
        try:
            staging.mkdir()
        except OSError as error:
            raise TrainError(
                f"--out {self.path}: cannot create the run folder ({error.strerror or error})"
            ) from None
        self._staging = staging

    def commit(self) -> None:
        """Put the staged files into the run folder (call once the first checkpoint is staged)."""
        staging = self._staging
        if staging is None:
            return
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, self.path)  # atomic: the whole folder appears at once
            except OSError:
                self.path.mkdir(exist_ok=True)  # made meanwhile by someone else: move file by file
            else:
                self._staging = None
                return
        names = sorted(os.listdir(staging), key=lambda name: name != CHECKPOINT)
        for name in names:
            os.replace(staging / name, self.path / name)
        staging.rmdir()
        self._staging = None

    def discard(self) -> None:
        """Remove what this run wrote, unless it reached its first checkpoint (then it resumes)."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


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
