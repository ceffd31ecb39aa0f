"""scripts/train.sh's set-up, run against a stand-in venv: what it installs, and only once."""

import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The stand-in interpreter logs its arguments; its `pip install -e` provides a graphgrad-train
# that logs its arguments too.
FAKE_PYTHON = """#!/bin/sh
echo "python $*" >> "$LOG"
case "$*" in *"pip install -e"*)
    printf '#!/bin/sh\\necho "graphgrad-train $*" >> "$LOG"\\n' > "$(dirname "$0")/graphgrad-train"
    chmod +x "$(dirname "$0")/graphgrad-train" ;;
esac
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def checkout(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    root = tmp_path / "graphgrad"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "train.sh", root / "scripts" / "train.sh")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / ".venv" / "bin").mkdir(parents=True)
    _executable(root / ".venv" / "bin" / "python", FAKE_PYTHON)
    tools = tmp_path / "tools"
    tools.mkdir()
    _executable(tools / "dot", "#!/bin/sh\n")  # Graphviz "installed": no apt-get
    return root, tools


def _train_sh(root: Path, tools: Path, *args: str) -> tuple[str, list[str]]:
    log = root / "calls.log"
    log.unlink(missing_ok=True)
    env = {**os.environ, "LOG": str(log), "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(root / "scripts" / "train.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr, log.read_text().splitlines()


def _requirements(extras: str) -> list[str]:
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*table["dependencies"],
            *(r for e in extras.split(",") for r in table["optional-dependencies"][e])]  # fmt: skip


def test_train_sh_installs_onnx_for_model_onnx_once_and_quietly(checkout):
    root, tools = checkout
    err, calls = _train_sh(root, tools, "--model", "mlp")
    installs = [c for c in calls if "pip install -e" in c]
    assert len(installs) == 1, calls
    extras = installs[0].split(".[", 1)[1].rstrip("]")
    names = {r.split(">")[0].split("=")[0].split("[")[0].strip() for r in _requirements(extras)}
    assert "onnx" in names, f"graphgrad[{extras}] does not install onnx: no model.onnx"
    assert "onnxruntime" not in names, "writing model.onnx needs only onnx"
    assert err.count("\n") == 1 and "installing graphgrad" in err  # the log takes pip's output
    assert calls[-1] == "graphgrad-train --model mlp"

    err, calls = _train_sh(root, tools, "--model", "mlp")  # installed: straight to the job
    assert err == "" and not [c for c in calls if c.startswith("python")], calls
    assert calls == ["graphgrad-train --check-data --model mlp", "graphgrad-train --model mlp"]

