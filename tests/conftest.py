"""Test configuration: Hypothesis profiles, a guard that the repository's packages are imported,
and ``tests/`` on ``sys.path`` so that test modules share helpers (``parity.py``) by name."""

from __future__ import annotations

import os
import pathlib
import sys

import hypothesis
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# --import-mode=importlib does not put test folders on sys.path: add tests/ for parity.py
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

hypothesis.settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_sessionstart(session: pytest.Session) -> None:
    # `autograd` is also a PyPI package (HIPS autograd): make sure we test this repository's.
    import importlib

    for name in ("autograd", "nn", "optim", "graphgrad"):
        if name != "autograd" and not (ROOT / name / "__init__.py").is_file():
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:
            if name == "autograd":
                raise
            continue  # a broken package fails the tests that use it, with its own traceback
        location = pathlib.Path(module.__file__).resolve()
        if ROOT not in location.parents:
            raise RuntimeError(f"tests imported {name} from {location}, not from {ROOT}")


@pytest.fixture(autouse=True)
def _seed() -> None:
    import autograd as ag

    ag.manual_seed(0)
    np.random.seed(0)
