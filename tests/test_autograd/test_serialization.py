"""ag.save / ag.load: safetensors compatibility, exact round trips of nested checkpoints,
training resumption bit for bit, atomic writes and clear errors for damaged or foreign files."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import optim
from autograd import serialization

from parity import import_torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def flat_state_dict():
    return {
        "layer.weight": ag.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 7),
        "layer.bias": ag.tensor(np.array([1e-30, -0.0, np.inf], dtype=np.float64)),
        "bn.num_batches_tracked": ag.tensor(np.array(7, dtype=np.int64)),
        "mask": ag.tensor(np.array([True, False])),
        "half": ag.tensor(np.array([0.5, 65504.0], dtype=np.float16)),
        "bytes": ag.tensor(np.array([0, 255], dtype=np.uint8)),
        "empty": ag.zeros(0, 3),
        "a_after_z": ag.tensor([1.0]),
    }


def assert_same(a, b, where="obj"):
    """Exact equality of nested structures, including types, dtypes and float bit patterns."""
    if isinstance(a, ag.Tensor):
        assert isinstance(b, ag.Tensor), where
        assert b.dtype == a.dtype and b.shape == a.shape, where
        assert not b.requires_grad, where
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy(), err_msg=where)
        return
    if isinstance(a, dict):
        assert type(b) is dict, where
        assert list(a.keys()) == list(b.keys()), where
        for key in a:
            assert type(key) is type(next(k for k in b if k == key)), where
            assert_same(a[key], b[key], f"{where}[{key!r}]")
        return
    assert type(a) is type(b), f"{where}: {type(a)} vs {type(b)}"
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    elif isinstance(a, float):
        assert struct.pack("<d", a) == struct.pack("<d", b), where
    else:
        assert a == b, where


def test_flat_state_dict_round_trips_in_order_with_dtypes(tmp_path):
    path = tmp_path / "model.safetensors"
    sd = flat_state_dict()
    ag.save(sd, path)
    loaded = ag.load(path)
    assert_same(sd, loaded)
    assert loaded["bn.num_batches_tracked"].shape == ()


def test_torch_reads_our_flat_file(tmp_path):
    torch = import_torch()
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = tmp_path / "model.safetensors"
    sd = flat_state_dict()
    ag.save(sd, str(path))
    theirs = load_file(str(path))
    assert set(theirs) == set(sd)
    for name, tensor in sd.items():
        assert theirs[name].dtype == getattr(torch, str(tensor.dtype))
        np.testing.assert_array_equal(theirs[name].numpy(), tensor.detach().numpy())
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["format"] == "pt"
    # and torch's module API accepts it
    linear = torch.nn.Linear(4, 3)
    linear.load_state_dict({"weight": theirs["layer.weight"], "bias": theirs["layer.bias"]})


def test_we_read_a_file_written_by_torch(tmp_path):
    torch = import_torch()
    from safetensors.torch import save_file

    path = tmp_path / "torch.safetensors"
    save_file(
        {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": torch.tensor(3)}, str(path)
    )
    loaded = ag.load(path)
    assert set(loaded) == {"w", "n"}
    assert loaded["w"].dtype == np.float32 and loaded["n"].dtype == np.int64
    np.testing.assert_array_equal(loaded["w"].detach().numpy(), np.arange(6).reshape(2, 3))


def training_setup(seed=0):
    ag.manual_seed(seed)
    params = {"w": ag.randn(4, 3, requires_grad=True), "b": ag.zeros(3, requires_grad=True)}
    return params


def loss_fn(params, step):
    x = ag.tensor(np.random.default_rng(step).normal(size=(8, 4)))
    y = ag.tensor(np.random.default_rng(100 + step).normal(size=(8, 3)))
    pred = (x @ params["w"].double() + params["b"].double()).tanh()
    return ((pred - y) ** 2).mean()


def train(params, opt, sched, steps, start=0, plateau=False):
    for step in range(start, start + steps):
        opt.zero_grad()
        loss = loss_fn(params, step)
        loss.backward()
        opt.step()
        if plateau:
            sched.step(round(loss.item(), 1))
        else:
            sched.step()


SETUPS = [
    ("Adam", dict(lr=0.05, amsgrad=True), "OneCycleLR", dict(max_lr=0.1, total_steps=30)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "MultiStepLR", dict(milestones=[5, 9, 9])),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5), "ReduceLROnPlateau", dict(patience=1)),
    ("AdamW", dict(lr=0.02), "CosineAnnealingLR", dict(T_max=7, eta_min=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01), "ExponentialLR", dict(gamma=0.95)),
]


@pytest.mark.parametrize(
    ("opt_name", "opt_kw", "sched_name", "sched_kw"), SETUPS, ids=[s[0] for s in SETUPS]
)
def test_resume_from_checkpoint_is_bit_identical(tmp_path, opt_name, opt_kw, sched_name, sched_kw):
    plateau = sched_name == "ReduceLROnPlateau"
    total, split = 20, 8

    params = training_setup()
    opt = getattr(optim, opt_name)(list(params.values()), **opt_kw)
    sched = getattr(optim.lr_scheduler, sched_name)(opt, **sched_kw)
    train(params, opt, sched, total, plateau=plateau)

    params = training_setup()
    opt = getattr(optim, opt_name)(list(params.values()), **opt_kw)
    sched = getattr(optim.lr_scheduler, sched_name)(opt, **sched_kw)
    train(params, opt, sched, split, plateau=plateau)
    path = tmp_path / "checkpoint.safetensors"
    ag.save(
        {
            "model": params,
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "epoch": split,
            "metrics": {"loss": [0.5, float("nan")], "best": float("inf")},
        },
        path,
    )
    checkpoint = ag.load(path)
    assert_same(opt.state_dict(), checkpoint["optimizer"])
    assert checkpoint["epoch"] == split and checkpoint["metrics"]["best"] == math.inf

    fresh = training_setup(seed=123)  # different weights, overwritten by the checkpoint
    with ag.no_grad():
        for name, tensor in fresh.items():
            tensor.copy_(checkpoint["model"][name])
    new_opt = getattr(optim, opt_name)(list(fresh.values()), **opt_kw)
    # PyTorch's order: create the scheduler first, since creating one sets the groups' lr
    new_sched = getattr(optim.lr_scheduler, sched_name)(new_opt, **sched_kw)
    new_opt.load_state_dict(checkpoint["optimizer"])
    new_sched.load_state_dict(checkpoint["scheduler"])
    train(fresh, new_opt, new_sched, total - split, start=split, plateau=plateau)

    expected = training_setup()
    opt = getattr(optim, opt_name)(list(expected.values()), **opt_kw)
    sched = getattr(optim.lr_scheduler, sched_name)(opt, **sched_kw)
    train(expected, opt, sched, total, plateau=plateau)
    for name in expected:
        np.testing.assert_array_equal(fresh[name].detach().numpy(), expected[name].detach().numpy())
    assert new_sched.get_last_lr() == sched.get_last_lr()


def test_nested_objects_round_trip_exactly(tmp_path):
    shared = ag.tensor([1.0, 2.0])
    obj = {
        "ints": {0: "zero", -5: [1, 2, 3], 10**20: None},
        "keys": {(1, "a"): 1.5, 2.5: True, None: False, True: "t", "": "empty"},
        "floats": [0.1, -0.0, 1e308, 5e-324, float("inf"), float("-inf"), float("nan")],
        "tuple": (1, (2, (3,)), []),
        "empty": {"d": {}, "l": [], "t": ()},
        "bytes": b"\x00\xffabc",
        "numpy": np.arange(6, dtype=np.int16).reshape(2, 3),
        "scalars": [np.float64(0.25), np.int32(-7), np.bool_(True)],
        "tensors": [
            shared,
            shared,
            ag.tensor(3, dtype=ag.int64),
            ag.ones(2, 2, requires_grad=True),
        ],
        "ordered": OrderedDict(b=1, a=2),
        "counter": Counter([3, 3, 5]),
        "text": 'ünïcødé "quoted" $dict',
        "$dict": {"$tensor": "not a tag"},
    }
    path = tmp_path / "nested.safetensors"
    ag.save(obj, path)
    loaded = ag.load(path)
    expected = dict(obj)
    expected["ordered"] = dict(obj["ordered"])
    expected["counter"] = dict(obj["counter"])
    expected["tensors"] = [t.detach() for t in obj["tensors"]]
    assert_same(expected, loaded)
    assert loaded["tensors"][0] is loaded["tensors"][1]  # sharing survives
    assert type(loaded["scalars"][0]) is np.float64 and type(loaded["scalars"][1]) is np.int32


def test_nested_file_is_still_readable_by_plain_safetensors(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ag.save(
        {"model": {"w": ag.ones(2)}, "optimizer": {"state": {0: {"exp_avg": ag.zeros(2)}}}}, path
    )
    arrays = safetensors.numpy.load_file(str(path))
    assert sorted(arrays) == ["model.w", "optimizer.state.0.exp_avg"]


def test_colliding_generated_keys_are_made_unique(tmp_path):
    obj = {
        "a.b": ag.tensor([1.0]),
        "a": {"b": ag.tensor([2.0])},
        "__metadata__": [ag.tensor([3.0])],
    }
    path = tmp_path / "c.safetensors"
    ag.save(obj, path)
    assert_same(obj, ag.load(path))


def test_top_level_values_other_than_dicts(tmp_path):
    for obj in [ag.tensor([1.0, 2.0]), [ag.ones(1), 3], 42, None, {}, "text"]:
        buffer = io.BytesIO()
        ag.save(obj, buffer)
        assert_same(obj, ag.load(io.BytesIO(buffer.getvalue())))


def test_unsupported_objects_raise_type_errors_naming_the_place():
    class Model:
        def state_dict(self):
            return {}

    with pytest.raises(TypeError, match=r"at obj\['model'\].*save its state_dict\(\) instead"):
        ag.save({"model": Model()}, io.BytesIO())
    with pytest.raises(TypeError, match=r"type builtins.function at obj\['f'\]\[0\]"):
        ag.save({"f": [lambda: 0]}, io.BytesIO())
    with pytest.raises(TypeError, match="dtype complex128 is not supported"):
        ag.save({"z": np.zeros(2, dtype=complex)}, io.BytesIO())
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="reference cycle"):
        ag.save(cyclic, io.BytesIO())


def list_dir(path):
    return sorted(os.listdir(path))


@pytest.mark.parametrize("failing", ["fsync", "replace", "serialize", "interrupt"])
def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, failing):
    path = tmp_path / "ckpt.safetensors"
    old = {"w": ag.ones(3)}
    ag.save(old, path)
    before = list_dir(tmp_path)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt if failing == "interrupt" else OSError("disk on fire")

    if failing in ("fsync", "interrupt"):
        monkeypatch.setattr(serialization.os, "fsync", boom)
    elif failing == "replace":
        monkeypatch.setattr(serialization.os, "replace", boom)
    else:
        monkeypatch.setattr(serialization.safetensors.numpy, "save", boom)
    with pytest.raises(KeyboardInterrupt if failing == "interrupt" else OSError):
        ag.save({"w": ag.zeros(3), "extra": ag.ones(1000)}, path)
    monkeypatch.undo()
    assert list_dir(tmp_path) == before
    assert_same(old, ag.load(path))


def test_crash_mid_save_leaves_the_old_file_loadable(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ag.save({"w": ag.ones(3)}, path)
    script = f"""
import os, autograd as ag
from autograd import serialization
serialization.os.fsync = lambda fd: os._exit(17)   # the process dies before the rename
ag.save({{"w": ag.zeros(3)}}, {str(path)!r})
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)
    assert result.returncode == 17, result.stderr.decode()
    np.testing.assert_array_equal(ag.load(path)["w"].detach().numpy(), np.ones(3, np.float32))


def test_save_keeps_file_permissions_and_replaces_content(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ag.save({"w": ag.ones(1)}, path)
    os.chmod(path, 0o640)
    ag.save({"w": ag.zeros(1)}, path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert ag.load(path)["w"].item() == 0.0


def test_save_to_missing_folder_or_directory_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ag.save({"w": ag.ones(1)}, tmp_path / "missing" / "x.safetensors")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ag.save({"w": ag.ones(1)}, tmp_path)
    with pytest.raises(FileNotFoundError):
        ag.load(tmp_path / "nothing.safetensors")


def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    ag.save({"model": {"w": ag.randn(10, 10)}, "step": 3}, path)
    return path, path.read_bytes()


def test_every_truncation_gives_a_clear_error(tmp_path):
    path, data = good_file(tmp_path)
    cut_path = tmp_path / "cut.safetensors"
    for cut in list(range(0, 12)) + list(range(12, len(data) - 1, 37)) + [len(data) - 1]:
        cut_path.write_bytes(data[:cut])
        with pytest.raises(
            RuntimeError, match="ag.load: .*cut.safetensors is (truncated|empty|not a safetensors)"
        ):
            ag.load(cut_path)


def test_truncated_data_message_gives_sizes(tmp_path):
    path, data = good_file(tmp_path)
    (header_size,) = struct.unpack("<Q", data[:8])
    path.write_bytes(data[:-200])
    data_size = len(data) - 8 - header_size
    expected = f"is truncated (header says {data_size} bytes of data, file has {data_size - 200})"
    with pytest.raises(RuntimeError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        ag.load(path)


def test_flipped_data_byte_is_caught_by_the_checksum(tmp_path):
    path, data = good_file(tmp_path)
    damaged = bytearray(data)
    damaged[-17] ^= 0x40
    path.write_bytes(bytes(damaged))
    with pytest.raises(RuntimeError, match="is corrupt .*CRC-32"):
        ag.load(path)


def test_damaged_header_is_reported(tmp_path):
    path, data = good_file(tmp_path)
    (header_size,) = struct.unpack("<Q", data[:8])
    header = data[8 : 8 + header_size]
    broken = header.replace(b'"shape":[10,10]', b'"shape":[10,11]')
    assert broken != header
    path.write_bytes(data[:8] + broken + data[8 + header_size :])
    with pytest.raises(RuntimeError, match=r"is corrupt \(tensor 'model.w' of shape \(10, 11\)"):
        ag.load(path)
    path.write_bytes(data[:8] + header.replace(b'"', b"'", 3) + data[8 + header_size :])
    with pytest.raises(RuntimeError, match="is corrupt \\(the header is not valid JSON"):
        ag.load(path)


def crafted(tmp_path, tree, arrays=None, version="1"):
    metadata = {"graphgrad.version": version, "graphgrad.tree": tree}
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(safetensors.numpy.save(arrays or {"x": np.zeros(1)}, metadata=metadata))
    return path


@pytest.mark.parametrize(
    ("tree", "match"),
    [
        ('{"$tensor": "missing"}', "refers to a missing tensor 'missing'"),
        (
            '{"$pickle": "gASVAAAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAR0cnVllIWUUpQu"}',
            "unknown type tag '\\$pickle'",
        ),
        ('{"$dict": [[1]]}', "not a list of \\[key, value\\] pairs"),
        ('{"$float": "1e999"}', "bad \\$float"),
        ('{"a": 1, "b": 2}', "unexpected structure node"),
        ("{not json", "structure is not valid JSON"),
    ],
)
def test_bad_structure_metadata_is_reported(tmp_path, tree, match):
    path = crafted(tmp_path, tree)
    with pytest.raises(RuntimeError, match="crafted.safetensors is corrupt .*" + match):
        ag.load(path)


def test_newer_container_version_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match="container version '3'"):
        ag.load(crafted(tmp_path, "1", version="3"))


def test_foreign_files_are_rejected_without_executing_anything(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickle_path = tmp_path / "evil.pt"
    pickle_path.write_bytes(pickle.dumps({"w": Exploit()}))
    with pytest.raises(
        RuntimeError, match="evil.pt is not a safetensors file .*pickle.*never unpickles"
    ):
        ag.load(pickle_path)

    zip_path = tmp_path / "torch_style.pt"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": Exploit()}))
    with pytest.raises(
        RuntimeError, match="torch_style.pt is not a safetensors file .*zip archive"
    ):
        ag.load(zip_path)

    text_path = tmp_path / "notes.txt"
    text_path.write_text("hello, this is not a checkpoint at all\n")
    with pytest.raises(RuntimeError, match="notes.txt is not a safetensors file"):
        ag.load(text_path)

    json_path = tmp_path / "header_only.json"
    header = json.dumps({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    json_path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(
        RuntimeError, match="is truncated \\(header says 8 bytes of data, file has 0\\)"
    ):
        ag.load(json_path)

    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(RuntimeError, match="empty.safetensors is empty"):
        ag.load(empty)
    assert not marker.exists()


def test_torch_save_checkpoint_is_rejected_with_a_conversion_hint(tmp_path):
    torch = import_torch()
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RuntimeError, match="safetensors.torch.save_file"):
        ag.load(path)


def test_unsupported_dtype_in_foreign_file_is_reported(tmp_path):
    header = json.dumps({"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}).encode()
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\x00\x00")
    with pytest.raises(RuntimeError, match="unsupported dtype \\(tensor 'x'"):
        ag.load(path)


def test_module_checkpoint_resume_is_bit_identical(tmp_path):
    import nn

    def make():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.AdamW(model.parameters(), lr=0.01)
        sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        return model, opt, sched

    def run(model, opt, sched, steps, start=0):
        for step in range(start, start + steps):
            x = ag.tensor(np.random.default_rng(step).normal(size=(8, 4)), dtype=ag.float32)
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            sched.step()

    model, opt, sched = make()
    run(model, opt, sched, 12)
    expected = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}

    model, opt, sched = make()
    run(model, opt, sched, 5)
    path = tmp_path / "run.safetensors"
    ag.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": 5}, path)  # fmt: skip
    ag.manual_seed(99)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.AdamW(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    checkpoint = ag.load(path)
    model.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["optimizer"])
    sched.load_state_dict(checkpoint["scheduler"])
    run(model, opt, sched, 12 - checkpoint["epoch"], start=checkpoint["epoch"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), expected[name], err_msg=name)


# whole modules: ag.save(model, path); ag.load(path, weights_only=False)

import importlib  # noqa: E402
import textwrap  # noqa: E402

import nn  # noqa: E402

MODEL_SOURCE = textwrap.dedent(
    """
    import autograd as ag
    import nn
    import nn.functional as F


    class Classifier(nn.Module):
        def __init__(self, hidden, classes=3, activation=F.relu):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(4, hidden), nn.Tanh())
            self.head = nn.Linear(hidden, classes)
            self.tied = self.head  # the same module twice
            self.activation = activation  # a top-level function, saved by import path
            self.temperature = 2.0
            self.labels = ("cat", "dog", "eel")
            self.config = {"hidden": hidden, "dropout": [0.1, 0.2], "dtype": ag.float64}
            self.register_buffer("calls", ag.tensor(0))
            self.register_buffer("scratch", ag.zeros(2), persistent=False)
            self.scale = nn.Parameter(ag.ones(1))
            self.frozen = nn.Parameter(ag.tensor([0.5]), requires_grad=False)

        def forward(self, x):
            return self.head(self.activation(self.encoder(x))) * self.scale / self.temperature
    """
)


@pytest.fixture
def model_module(tmp_path, monkeypatch):
    """An importable module defining a model class (as a user's models.py would)."""
    name = f"user_models_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(MODEL_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


def save_bytes(obj):
    buffer = io.BytesIO()
    ag.save(obj, buffer)
    return buffer.getvalue()


def test_whole_model_round_trip_with_weights_only_false(model_module, tmp_path):
    ag.manual_seed(0)
    model = model_module.Classifier(hidden=5).double()
    model.eval()
    path = tmp_path / "model.pt"
    ag.save(model, path)
    loaded = ag.load(path, weights_only=False)
    assert type(loaded) is model_module.Classifier and loaded is not model
    assert not loaded.training and not loaded.encoder[0].training
    assert loaded.tied is loaded.head and loaded.activation is model.activation
    assert loaded.temperature == 2.0 and loaded.labels == ("cat", "dog", "eel")
    assert loaded.config == {"hidden": 5, "dropout": [0.1, 0.2], "dtype": ag.float64}
    assert list(loaded.state_dict()) == list(model.state_dict())
    for (name, ours), (_, theirs) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert theirs.dtype == ours.dtype, name
        np.testing.assert_array_equal(theirs.detach().numpy(), ours.detach().numpy(), err_msg=name)
    assert "scratch" in loaded._buffers and "scratch" not in loaded.state_dict()
    assert loaded.scale.requires_grad and not loaded.frozen.requires_grad
    assert isinstance(loaded.scale, nn.Parameter)
    x = ag.randn(6, 4, dtype=ag.float64)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert repr(loaded) == repr(model)
    # it trains like the original
    loaded.train()
    opt = optim.SGD(loaded.parameters(), lr=0.1)
    loss = loaded(x).sum()
    loss.backward()
    opt.step()
    assert loaded.head.weight.grad is not None


def test_weights_only_true_refuses_a_whole_module_and_says_how_to_load_it(model_module):
    data = save_bytes({"model": model_module.Classifier(hidden=3), "epoch": 4})
    with pytest.raises(serialization.WeightsOnlyError) as info:
        ag.load(io.BytesIO(data))
    message = str(info.value)
    assert f"{model_module.__name__}.Classifier" in message
    assert "weights_only=False" in message and "imports and runs the code" in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, pickle.UnpicklingError)
    checkpoint = ag.load(io.BytesIO(data), weights_only=False)
    assert checkpoint["epoch"] == 4 and isinstance(checkpoint["model"], model_module.Classifier)



@pytest.mark.parametrize("weights_only", [True, False, None, "yes", "no", "False", 1, 0, "", []])
def test_weights_only_counts_by_truth_and_none_means_true_as_torch_load(weights_only):
    torch = import_torch()
    theirs = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), theirs)
    try:
        torch.load(io.BytesIO(theirs.getvalue()), weights_only=weights_only)
        torch_refuses = False
    except pickle.UnpicklingError:
        torch_refuses = True
    data = save_bytes(nn.Linear(2, 2))
    if torch_refuses:
        with pytest.raises(serialization.WeightsOnlyError):
            ag.load(io.BytesIO(data), weights_only=weights_only)
    else:
        assert isinstance(ag.load(io.BytesIO(data), weights_only=weights_only), nn.Linear)


LAYERS = {
    "mlp": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2)),
        lambda: (ag.randn(2, 3),),
    ),
    "conv2d": (
        lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False),
        lambda: (ag.randn(1, 2, 5, 5),),
    ),
    "conv-bn-pool": (
        lambda: nn.Sequential(nn.Conv1d(2, 4, 3), nn.BatchNorm1d(4), nn.MaxPool1d(2)),
        lambda: (ag.randn(2, 2, 9),),
    ),
    "lstm": (
        lambda: nn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True),
        lambda: (ag.randn(2, 4, 3),),
    ),
    "gru": (lambda: nn.GRU(3, 4), lambda: (ag.randn(4, 2, 3),)),
    "embedding": (lambda: nn.Embedding(10, 3, padding_idx=0), lambda: (ag.tensor([[0, 3, 9]]),)),
    "attention": (
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        lambda: (ag.randn(2, 3, 8), ag.randn(2, 3, 8), ag.randn(2, 3, 8)),
    ),
    "transformer-layer": (
        lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16),
        lambda: (ag.randn(3, 2, 8),),
    ),
    "containers": (
        lambda: nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ModuleList([nn.ReLU(), nn.GELU()])}),
        None,
    ),
}


def flat_outputs(value):
    if isinstance(value, ag.Tensor):
        return [value.detach().numpy()]
    if isinstance(value, (tuple, list)):
        return [array for item in value for array in flat_outputs(item)]
    return []


@pytest.mark.parametrize("name", list(LAYERS))
def test_builtin_layers_round_trip(name):
    make, inputs = LAYERS[name]
    ag.manual_seed(1)
    model = make()
    if inputs is not None and name == "conv-bn-pool":
        model(*inputs())  # move the running statistics away from their start
    model.eval()
    loaded = ag.load(io.BytesIO(save_bytes(model)), weights_only=False)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert not any(m.training for m in loaded.modules())
    assert list(loaded.state_dict()) == list(model.state_dict())
    for (key, ours), (_, theirs) in zip(model.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(theirs.detach().numpy(), ours.detach().numpy(), err_msg=key)
    if inputs is not None:
        args = inputs()
        for a, b in zip(flat_outputs(model(*args)), flat_outputs(loaded(*args)), strict=True):
            np.testing.assert_array_equal(b, a)


def test_a_saved_module_file_holds_the_weights_under_state_dict_names():
    torch = import_torch()
    from safetensors.torch import load as torch_load

    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    weights = torch_load(save_bytes(model))
    assert sorted(weights) == sorted(model.state_dict())
    twin = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    twin.load_state_dict(weights)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(
        twin(torch.from_numpy(x)).detach().numpy(), model(ag.tensor(x)).detach().numpy(), rtol=1e-6
    )


def test_missing_or_renamed_classes_are_named(model_module, tmp_path):
    data = save_bytes(model_module.Classifier(hidden=3))
    name = model_module.__name__
    sys.modules.pop(name)
    (tmp_path / f"{name}.py").unlink()
    with pytest.raises(
        ModuleNotFoundError,
        match=f"can't find the class {name}.Classifier.*{name!r} can't be imported",
    ):
        ag.load(io.BytesIO(data), weights_only=False)
    (tmp_path / f"{name}.py").write_text(MODEL_SOURCE.replace("class Classifier", "class Renamed"))
    importlib.invalidate_caches()
    with pytest.raises(AttributeError, match=f"{name}.Classifier.*no attribute 'Classifier'"):
        ag.load(io.BytesIO(data), weights_only=False)
    sys.modules.pop(name, None)


def test_classes_that_are_not_modules_are_refused(tmp_path):
    data = save_bytes(nn.Linear(2, 2))
    header_size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + header_size])
    tree = json.loads(header["__metadata__"]["graphgrad.tree"])
    for target, error, match in [
        (
            "collections:OrderedDict",
            TypeError,
            "collections.OrderedDict .* is not an nn.Module subclass",
        ),
        ("os:system", TypeError, "os.system .* is not an nn.Module subclass"),
    ]:
        tree["$module"]["class"] = target
        arrays = safetensors.numpy.load(data)
        metadata = dict(header["__metadata__"], **{"graphgrad.tree": json.dumps(tree)})
        path = tmp_path / "crafted.safetensors"
        path.write_bytes(safetensors.numpy.save(arrays, metadata=metadata))
        with pytest.raises(error, match=match):
            ag.load(path, weights_only=False)
        with pytest.raises(
            serialization.WeightsOnlyError, match="collections.OrderedDict|os.system"
        ):
            ag.load(path)


def test_modules_that_cannot_be_saved_are_named():
    class Local(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="defined inside a function"):
        ag.save(Local(), io.BytesIO())
    holder = nn.Sequential(nn.Linear(2, 2))
    holder.transform = lambda x: x
    with pytest.raises(TypeError, match=r"at obj\.transform.*lambda"):
        ag.save(holder, io.BytesIO())
    holder = nn.Sequential(nn.Linear(2, 2))
    holder.config = object()
    with pytest.raises(TypeError, match=r"builtins.object at obj\.config"):
        ag.save(holder, io.BytesIO())
    hooked = nn.Linear(2, 2)
    hooked.register_forward_hook(lambda module, args, out: None)
    with pytest.warns(UserWarning, match="hooks registered on obj .* are not saved"):
        ag.save(hooked, io.BytesIO())


@pytest.mark.parametrize(
    "map_location",
    [None, "cpu", ag.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage],
    ids=["none", "str", "device", "dict", "callable"],
)
def test_map_location_accepts_the_cpu(map_location):
    data = save_bytes({"w": ag.ones(2)})
    loaded = ag.load(io.BytesIO(data), map_location=map_location)
    np.testing.assert_array_equal(loaded["w"].detach().numpy(), [1.0, 1.0])


def test_map_location_to_another_device_is_refused():
    data = save_bytes({"w": ag.ones(2)})
    for target in ("cuda", {"cpu": "cuda:0"}, ag.device("mps")):
        with pytest.raises(RuntimeError, match="graphgrad computes on the CPU"):
            ag.load(io.BytesIO(data), map_location=target)
    with pytest.raises(TypeError, match="unexpected arguments"):
        ag.load(io.BytesIO(data), encoding="latin1")


def test_plain_values_new_in_version_2_load_with_weights_only():
    value = {
        "dtype": ag.float32,
        "device": ag.device("cpu"),
        "tags": {1, 2},
        "frozen": frozenset("ab"),
    }
    loaded = ag.load(io.BytesIO(save_bytes(value)))
    assert loaded == value and type(loaded["tags"]) is set and type(loaded["frozen"]) is frozenset
