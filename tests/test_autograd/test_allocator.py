"""``autograd._allocator``: glibc keeps a training step's freed arrays for the next step."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _keep_freed_memory(**env: str) -> str:
    """``keep_freed_memory()`` in a fresh interpreter (the import of autograd already ran it)."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("GRAPHGRAD_KEEP_FREED_MEMORY", "MALLOC_MMAP_THRESHOLD_",
                          "MALLOC_TRIM_THRESHOLD_")}  # fmt: skip
    code = "from autograd import _allocator; print(_allocator.keep_freed_memory())"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_thresholds_are_set_on_glibc() -> None:
    assert _keep_freed_memory() == "True"


def test_opt_out_and_users_own_glibc_settings_are_respected() -> None:
    assert _keep_freed_memory(GRAPHGRAD_KEEP_FREED_MEMORY="0") == "False"
    assert _keep_freed_memory(MALLOC_TRIM_THRESHOLD_="1000000") == "False"
    assert _keep_freed_memory(MALLOC_MMAP_THRESHOLD_="1000000") == "False"
