"""graphgrad-train end to end on a tiny synthetic IDX dataset: artifacts, exact resume, Ctrl-C,
argument and data errors."""

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from graphgrad import datasets, reports, train
from graphgrad.datasets import write_idx

from parity import import_torch

REPO = Path(__file__).resolve().parents[2]
TIME_KEYS = {"epoch_time", "samples_per_s", "eval_time"}


def _write_dataset(root: Path, n_train: int = 192, n_test: int = 96) -> Path:
    """Fashion-MNIST-shaped IDX files whose classes are learnable: a bright bar per class."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for c in range(10):
            images[labels == c, 2 + 2 * c : 4 + 2 * c, 4:24] = 250
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return _write_dataset(tmp_path_factory.mktemp("fashion"))


def _run(data_root, out, *extra):
    argv = ["--data-root", str(data_root), "--out", str(out), "--no-progress", *extra]
    return train.main(argv)


def _without_times(history):
    return [{k: v for k, v in row.items() if k not in TIME_KEYS} for row in history]


def _state(out):
    return {k: v.numpy() for k, v in ag.load(out / "model.safetensors").items()}


@pytest.fixture(scope="module")
def cnn_run(data_root, tmp_path_factory):
    """The main job's recipe (the CNN), two epochs on the synthetic data: (folder, stderr)."""
    out = tmp_path_factory.mktemp("cnn") / "run"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(data_root, out, "--model", "cnn", "--epochs", "2", "--batch-size", "64") == 0
    return out, err.getvalue()


def test_smoke_run_writes_every_artifact(cnn_run):
    out, err = cnn_run
    assert "epoch 2/2" in err and "done: test accuracy" in err

    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "cnn" and config["epochs"] == 2 and config["optimizer"] == "adamw"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "finished" and metrics["train_samples"] == 192
    assert [row["epoch"] for row in metrics["epochs"]] == [1, 2]
    for row in metrics["epochs"]:
        assert set(row) == set(reports.METRIC_FIELDS)
        assert 0 <= row["test_acc"] <= 1 and row["train_loss"] > 0 and row["samples_per_s"] > 0
    # the synthetic classes are easy: two epochs must already beat chance clearly
    assert metrics["final_test_acc"] > 0.3
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and float(rows[1]["test_acc"]) == metrics["epochs"][1]["test_acc"]

    for name in ("curves.png", "grad_flow.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    for name in ("graph.svg", "grad_flow.svg"):
        text = (out / name).read_text()
        assert "<svg" in text and "</svg>" in text, name
    assert "features.0.weight" in (out / "graph.svg").read_text()  # grouped/named by module

    checkpoint = ag.load(out / "checkpoint.safetensors")
    assert checkpoint["epoch"] == 2 and checkpoint["step_in_epoch"] == 0
    assert {"model", "optimizer", "scheduler", "rng_state", "metrics"} <= set(checkpoint)
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    weights = safetensors_numpy.load_file(str(out / "model.safetensors"))
    assert weights["classifier.2.weight"].shape == (10, 64 * 7 * 7)


def _torch_twin_of_the_cnn(torch):
    """The CNN recipe written with torch.nn, with the same module names."""
    tnn = torch.nn

    class CNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(),
                tnn.MaxPool2d(2),
                tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(),
                tnn.MaxPool2d(2),
            )  # fmt: skip
            self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.25), tnn.Linear(3136, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    return CNN()


def test_model_safetensors_loads_into_the_pytorch_twin(cnn_run):
    """Leaving for PyTorch: the weights file and the state-dict keys are PyTorch's."""
    torch = import_torch()
    from safetensors.torch import load_file

    from graphgrad.models import CNN

    out, _ = cnn_run
    state = load_file(str(out / "model.safetensors"))
    twin = _torch_twin_of_the_cnn(torch)
    twin.load_state_dict(state, strict=True)  # same keys, same shapes
    twin.eval()
    ours = CNN()
    ours.load_state_dict(ag.load(out / "model.safetensors"))
    ours.eval()
    x = ag.randn(5, 1, 28, 28)
    with torch.no_grad():
        expected = twin(torch.from_numpy(x.numpy())).numpy()
    with ag.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_model_onnx_gives_the_same_outputs(cnn_run):
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from graphgrad.models import CNN

    out, _ = cnn_run
    ours = CNN()
    ours.load_state_dict(ag.load(out / "model.safetensors"))
    ours.eval()
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["images"]
    for batch in (1, 7):
        x = ag.randn(batch, 1, 28, 28)
        (logits,) = session.run(["logits"], {"images": x.numpy()})
        with ag.no_grad():
            np.testing.assert_allclose(logits, ours(x).numpy(), rtol=1e-5, atol=1e-5)


def test_without_onnx_the_run_says_model_onnx_is_skipped(data_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert _run(data_root, tmp_path / "run", "--model", "mlp", "--epochs", "1", "--no-viz") == 0
    assert "model.onnx not written: the onnx package is missing" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.onnx").exists()


def test_model_onnx_is_written_without_onnxruntime(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from graphgrad.models import build_model

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as after `pip install graphgrad[train]`
    ag.manual_seed(0)
    note = train._export_onnx(build_model("mlp"), ag.randn(2, 1, 28, 28), tmp_path / "model.onnx")
    assert note == "" and (tmp_path / "model.onnx").stat().st_size > 0


@pytest.fixture(scope="module")
def straight_run(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    assert _run(data_root, out, *RESUME_ARGS) == 0
    return out


RESUME_ARGS = ("--model", "mlp", "--epochs", "2", "--batch-size", "48", "--no-viz")


# 192 / 48 = 4 steps per epoch: stop in the middle of epoch 2, or right after epoch 1's last
# step (the stop request then also skips that epoch's evaluation, which the resumed run does)
@pytest.mark.parametrize("max_steps, position", [(6, (1, 2)), (4, (0, 4))])
def test_resume_continues_bit_for_bit(data_root, straight_run, tmp_path, max_steps, position):
    straight, stopped = straight_run, tmp_path / "stopped"
    assert _run(data_root, stopped, *RESUME_ARGS, "--max-steps", str(max_steps)) == 0
    partial = ag.load(stopped / "checkpoint.safetensors")
    assert (partial["epoch"], partial["step_in_epoch"]) == position
    assert json.loads((stopped / "metrics.json").read_text())["status"] == "stopped"
    assert train.main(["--out", str(stopped), "--resume", "--no-progress", "--data-root",
                       str(data_root)]) == 0  # fmt: skip

    a, b = _state(straight), _state(stopped)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    history_a = json.loads((straight / "metrics.json").read_text())["epochs"]
    history_b = json.loads((stopped / "metrics.json").read_text())["epochs"]
    assert _without_times(history_a) == _without_times(history_b)


def test_resume_can_extend_a_finished_run(data_root, tmp_path, capsys):
    out = tmp_path / "run"
    args = ("--model", "mlp", "--batch-size", "64", "--no-viz", "--scheduler", "none", "--augment")
    assert _run(data_root, out, *args, "--epochs", "1") == 0
    assert train.main(["--out", str(out), "--resume", "--epochs", "2", "--no-progress",
                       "--data-root", str(data_root)]) == 0  # fmt: skip
    assert "resumed at epoch 2, step 0" in capsys.readouterr().err
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 2


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])  # fmt: skip
def test_a_signal_saves_a_resumable_checkpoint(data_root, tmp_path, signum, status, word):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "graphgrad.train", "--model", "mlp", "--epochs", "10000",
               "--batch-size", "16", "--no-viz", "--no-progress", "--data-root", str(data_root),
               "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:  # the banner is printed once the handler is installed
            if line.startswith("graphgrad-train: mlp"):
                break
        time.sleep(0.5)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status, err
    assert f"{word} at epoch" in err and "--resume" in err
    checkpoint = ag.load(out / "checkpoint.safetensors")
    assert checkpoint["total_steps"] > 0
    assert json.loads((out / "metrics.json").read_text())["status"] == "stopped"
    # the checkpoint is resumable: continue for a few steps
    assert train.main(["--out", str(out), "--resume", "--no-progress", "--data-root",
                       str(data_root), "--max-steps", str(checkpoint["total_steps"] + 2)]) == 0  # fmt: skip
    assert ag.load(out / "checkpoint.safetensors")["total_steps"] == checkpoint["total_steps"] + 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs: expected a positive integer, got 0"),
        (["--lr", "-1"], "--lr: expected a positive finite number, got -1"),
        (["--batch-size", "many"], "--batch-size: expected a positive integer, got 'many'"),
        (["--model", "resnet"], "--model: invalid choice: 'resnet'"),
        (["--optimizer", "lbfgs"], "--optimizer: invalid choice: 'lbfgs'"),
        (["--resume"], "--resume needs --out"),
        (["--subset", "1"], "--subset must be at least 2"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        train.main(argv)
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


def test_existing_run_needs_resume_and_keeps_its_recipe(data_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(data_root, out, "--model", "mlp", "--epochs", "1", "--no-viz") == 0
    with pytest.raises(SystemExit):
        _run(data_root, out, "--model", "mlp")
    assert "already holds a run" in capsys.readouterr().err
    assert train.main(["--out", str(out), "--resume", "--lr", "0.5"]) == 1
    assert "--lr 0.5 differs from the checkpoint's 0.002" in capsys.readouterr().err


def test_resume_without_checkpoint_is_an_error(tmp_path, capsys):
    assert train.main(["--out", str(tmp_path / "nothing"), "--resume"]) == 1
    assert "no checkpoint at" in capsys.readouterr().err


def test_missing_data_points_to_download_and_debian(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", ())
    monkeypatch.setenv("GRAPHGRAD_DATA", str(tmp_path / "cache"))
    assert train.main(["--out", str(tmp_path / "run"), "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "the train split was not found" in err
    assert "--download" in err and "apt-get install dataset-fashion-mnist" in err
    assert not (tmp_path / "run").exists()  # no stub run folder


@pytest.mark.parametrize("check", [[], ["--check-data"]])
def test_missing_data_root_is_an_error_naming_it(tmp_path, capsys, check):
    missing = tmp_path / "nonexistent"
    with pytest.raises(SystemExit) as excinfo:
        train.main(["--data-root", str(missing), "--out", str(tmp_path / "run"), *check])
    assert excinfo.value.code == 2
    assert f"--data-root {missing} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("check", [[], ["--check-data"]])
def test_a_data_root_without_the_data_is_an_error_naming_it(
    data_root, tmp_path, monkeypatch, capsys, check
):
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", (str(data_root),))
    empty = tmp_path / "empty"  # a system copy exists, but the folder named must hold the data
    empty.mkdir()
    argv = ["--data-root", str(empty), "--out", str(tmp_path / "run"), *check]
    assert train.main(argv) == 1
    err = capsys.readouterr().err
    assert f"in: {empty}, {empty / 'FashionMNIST' / 'raw'})" in err
    assert "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]" in err
    assert "leave out --data-root" in err and "--download" in err and "found in" not in err
    assert not (tmp_path / "run").exists()


def test_check_data_names_the_folder(data_root, capsys):
    assert train.main(["--data-root", str(data_root), "--check-data"]) == 0
    assert f"fashion-mnist found in {data_root}: 192 train / 96 test images" in capsys.readouterr().err


def test_unwritable_out_is_a_one_line_error(data_root, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert _run(data_root, blocker / "run", "--model", "mlp", "--epochs", "1") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"--out {blocker / 'run'}: cannot create the run folder ({blocker} is a file" in err


def _not_writable_folder(tmp_path):
    """A folder this process may not write to: a read-only one, or /proc/sys for root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    for folder in (locked, Path("/proc/sys")):
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            return folder
    pytest.skip("no folder here is closed to this user (root without /proc/sys)")


def test_out_in_a_folder_that_is_not_writable_is_a_one_line_error(data_root, tmp_path, capsys):
    folder = _not_writable_folder(tmp_path)
    try:
        assert _run(data_root, folder / "run", "--model", "mlp", "--epochs", "1") == 1
    finally:
        (tmp_path / "locked").chmod(0o755)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot create the run folder ({folder} is not writable); choose another --out" in err
    assert not (folder / "run").exists()


def test_out_where_no_folder_can_be_made_is_a_one_line_error(data_root, capsys):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc (where mkdir fails even for root)")
    assert _run(data_root, "/proc/graphgrad-run", "--model", "mlp", "--epochs", "1") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "error: --out /proc/graphgrad-run: cannot create the run folder (" in err


def test_a_failing_run_leaves_no_stub_folder(data_root, tmp_path, monkeypatch):
    from graphgrad.trainer import Trainer

    def fail(self, stop, bar):
        raise RuntimeError("boom")

    monkeypatch.setattr(Trainer, "train_epoch", fail)
    out = tmp_path / "runs" / "run"
    with pytest.raises(RuntimeError, match="boom"):
        _run(data_root, out, "--model", "mlp", "--epochs", "1")
    assert not (tmp_path / "runs").exists()
    # a folder that existed before keeps what it held, and only that
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError, match="boom"):
        _run(data_root, out, "--model", "mlp", "--epochs", "1")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_run_killed_before_its_first_checkpoint_leaves_no_stub(tmp_path, monkeypatch, capsys):
    data = _write_dataset(tmp_path / "data", n_train=2000)  # 2,000 CNN steps: a slow first epoch
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "graphgrad.train", "--model", "cnn", "--batch-size", "1",
               "--no-progress", "--data-root", str(data)]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:  # the banner: config.json and graph.svg are written
            if line.startswith("graphgrad-train: cnn"):
                break
        staged = sorted(set(os.listdir(tmp_path)) - {"data"})
        process.kill()  # SIGKILL, as the OOM killer does: no handler, no clean-up
        process.wait(timeout=60)
    finally:
        process.kill()
    # staged in the nearest folder that exists (runs/ does not yet), hidden
    assert staged == [f".fashion-mnist-cnn.partial-{process.pid}"], staged
    assert "config.json" in os.listdir(tmp_path / staged[0])
    assert not (tmp_path / "runs").exists()

    # the next run takes the same name and removes the killed run's staging folder
    monkeypatch.chdir(tmp_path)
    argv = ["--data-root", str(data), "--model", "cnn", "--epochs", "1", "--subset", "64",
            "--no-progress", "--no-viz"]  # fmt: skip
    assert train.main(argv) == 0
    assert sorted(os.listdir(tmp_path)) == ["data", "runs"]
    assert os.listdir(tmp_path / "runs") == ["fashion-mnist-cnn"]
    out = tmp_path / "runs" / "fashion-mnist-cnn"
    assert {"config.json", "checkpoint.safetensors", "metrics.json"} <= set(os.listdir(out))
    assert ag.load(out / "checkpoint.safetensors")["config"]["out"] == "runs/fashion-mnist-cnn"


def test_the_first_checkpoint_moves_into_an_existing_folder(data_root, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / ".run.partial-999999999").mkdir()  # a killed run's leftover (no such process)
    assert _run(data_root, out, "--model", "mlp", "--epochs", "1", "--no-viz") == 0
    names = sorted(os.listdir(out))
    assert "notes.txt" in names and "checkpoint.safetensors" in names and "config.json" in names
    assert not [name for name in names if ".partial-" in name]


def test_one_epoch_is_singular(data_root, tmp_path, capsys):
    assert _run(data_root, tmp_path / "run", "--model", "mlp", "--epochs", "1", "--no-viz") == 0
    err = capsys.readouterr().err
    assert "1 epoch of 2 steps" in err and "after 1 epoch;" in err and "1 epochs" not in err


def test_module_and_console_script_entry_points():
    help_text = subprocess.run(
        [sys.executable, "-m", "graphgrad.train", "--help"], cwd=REPO, capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    ).stdout  # fmt: skip
    assert "--resume" in help_text and "--subset" in help_text and "recipe" in help_text
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'graphgrad-train = "graphgrad.train:main"' in pyproject


def test_the_installed_console_script_runs():
    script = Path(sys.executable).parent / "graphgrad-train"
    if not script.is_file():
        pytest.skip(f"graphgrad-train is not installed beside {sys.executable}")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: graphgrad-train") and "--data-root" in done.stdout
