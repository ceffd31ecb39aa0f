"""The device API: ag.device, device= on factories and to(), the cuda/accelerator/backends
namespaces, and the clear error for any device but the CPU (PyTorch as the oracle for parsing)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import autograd as ag
import nn

from parity import import_torch

torch = import_torch()

FACTORIES = {
    "zeros": lambda **kw: ag.zeros(2, 3, **kw),
    "ones": lambda **kw: ag.ones((2, 3), **kw),
    "empty": lambda **kw: ag.empty(2, **kw),
    "full": lambda **kw: ag.full((2,), 1.5, **kw),
    "zeros_like": lambda **kw: ag.zeros_like(ag.ones(2), **kw),
    "ones_like": lambda **kw: ag.ones_like(ag.ones(2), **kw),
    "empty_like": lambda **kw: ag.empty_like(ag.ones(2), **kw),
    "full_like": lambda **kw: ag.full_like(ag.ones(2), 7.0, **kw),
    "rand_like": lambda **kw: ag.rand_like(ag.ones(2), **kw),
    "randn_like": lambda **kw: ag.randn_like(ag.ones(2), **kw),
    "arange": lambda **kw: ag.arange(0, 5, **kw),
    "linspace": lambda **kw: ag.linspace(0, 1, 5, **kw),
    "eye": lambda **kw: ag.eye(3, **kw),
    "rand": lambda **kw: ag.rand(2, 2, **kw),
    "randn": lambda **kw: ag.randn(2, **kw),
    "randint": lambda **kw: ag.randint(0, 10, (3,), **kw),
    "randperm": lambda **kw: ag.randperm(4, **kw),
    "tensor": lambda **kw: ag.tensor([1.0, 2.0], **kw),
    "as_tensor": lambda **kw: ag.as_tensor([1.0, 2.0], **kw),
}


def test_device_objects_like_torch_device():
    for text in ["cpu", "cuda", "cuda:1", "mps", "cpu:0", "meta"]:
        ours, theirs = ag.device(text), torch.device(text)
        assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
        assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert (
        repr(ag.device("cuda", 2))
        == repr(torch.device("cuda", 2))
        == "device(type='cuda', index=2)"
    )
    assert ag.device(ag.device("cpu")) == ag.device("cpu")
    assert ag.device("cpu") == "cpu" and ag.device("cuda:0") == "cuda:0"
    assert ag.device("cpu") != ag.device("cuda") and ag.device("cpu") != "cpu:0"
    assert ag.device("cpu") != "not a device" and ag.device("cpu") != 3
    assert hash(ag.device("cpu")) == hash(ag.device("cpu"))
    assert {ag.device("cpu"): 1}[ag.device("cpu")] == 1
    assert pickle.loads(pickle.dumps(ag.device("cuda:1"))) == ag.device("cuda:1")


@pytest.mark.parametrize("text", ["gpu", "cuda:x", "cpu:-1", "cuda:"])
def test_invalid_device_strings_raise_runtime_error_like_torch(text):
    with pytest.raises(RuntimeError):
        ag.device(text)
    with pytest.raises(RuntimeError):
        torch.device(text)


def test_device_argument_errors():
    with pytest.raises(TypeError, match="device string"):
        ag.device(3.0)
    with pytest.raises(RuntimeError, match="index alone names an accelerator"):
        ag.device(0)
    with pytest.raises(RuntimeError, match="must not include an index"):
        ag.device("cuda:0", 1)
    with pytest.raises(RuntimeError, match="must not be negative"):
        ag.device("cuda", -1)


def test_tensor_device_is_the_cpu_device():
    t = ag.tensor([1.0])
    assert t.device == ag.device("cpu") and t.device == "cpu" and t.device.type == "cpu"
    assert repr(t.device) == "device(type='cpu')" and not t.is_cuda


@pytest.mark.parametrize("name", list(FACTORIES))
def test_every_factory_accepts_the_cpu_and_refuses_other_devices(name):
    make = FACTORIES[name]
    for device in (None, "cpu", ag.device("cpu"), "cpu:0"):
        t = make(device=device)
        assert isinstance(t, ag.Tensor) and t.device == "cpu"
    np.testing.assert_array_equal(make(device="cpu").shape, make().shape)
    for device in ("cuda", "cuda:0", ag.device("cuda", 1), "mps"):
        with pytest.raises(RuntimeError, match=f"{name}: device .* graphgrad computes on the CPU"):
            make(device=device)


def test_to_accepts_devices_and_dtypes_in_torchs_forms():
    t = ag.tensor([1.0, 2.0])
    assert t.to("cpu") is t and t.to(ag.device("cpu")) is t and t.to(device="cpu") is t
    assert t.to("cpu", ag.float64).dtype == np.float64
    assert t.to(device="cpu", dtype=ag.float64).dtype == np.float64
    assert t.to(ag.tensor([1], dtype=ag.int64)).dtype == np.int64
    copied = t.to("cpu", copy=True)
    assert copied is not t and np.array_equal(copied.numpy(), t.numpy())
    assert t.to(ag.float32, False, True) is not t  # (dtype, non_blocking, copy) positionally
    assert t.cpu() is t
    w = ag.tensor([1.0], requires_grad=True)
    (w.to("cpu", ag.float64) * 2).sum().backward()  # the conversion stays differentiable
    np.testing.assert_array_equal(w.grad.numpy(), [2.0])


@pytest.mark.parametrize(
    "move",
    [
        lambda t: t.cuda(),
        lambda t: t.cuda(0),
        lambda t: t.to("cuda"),
        lambda t: t.to("cuda:0"),
        lambda t: t.to(ag.device("cuda")),
        lambda t: t.to(device="mps"),
        lambda t: t.to("mps", ag.float64),
    ],
)
def test_other_devices_raise_a_clear_runtime_error(move):
    with pytest.raises(RuntimeError, match="graphgrad computes on the CPU only"):
        move(ag.tensor([1.0]))


def test_module_to_and_cuda():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert model.to("cpu") is model and model.to(ag.device("cpu")) is model
    assert model.to(device="cpu") is model and model.cpu() is model
    assert model.to("cpu", ag.float64)[0].weight.dtype == np.float64
    for move in (
        lambda m: m.cuda(),
        lambda m: m.cuda(1),
        lambda m: m.to("cuda"),
        lambda m: m.to(ag.device("cuda", 0)),
        lambda m: m.to(device="mps"),
    ):
        with pytest.raises(RuntimeError, match="Sequential.* graphgrad computes on the CPU only"):
            move(model)


def test_the_usual_pytorch_device_selection_runs():
    device = "cuda" if ag.cuda.is_available() else "cpu"
    device = ag.device(device)
    if ag.backends.mps.is_available():
        device = ag.device("mps")
    model = nn.Linear(2, 1).to(device)
    x = ag.randn(4, 2, device=device)
    assert model(x.to(device)).device == device
    accel = ag.accelerator.current_accelerator().type if ag.accelerator.is_available() else "cpu"
    assert accel == "cpu"


def test_namespaces_report_no_accelerator_like_a_cpu_only_torch():
    assert ag.cuda.is_available() is torch.cuda.is_available() is False
    assert ag.cuda.device_count() == torch.cuda.device_count() == 0
    assert ag.accelerator.is_available() is False and ag.accelerator.device_count() == 0
    assert ag.accelerator.current_accelerator() is None
    assert ag.backends.mps.is_available() is False and ag.backends.mps.is_built() is False
    assert ag.backends.cudnn.is_available() is False and ag.cuda.is_initialized() is False
    ag.cuda.empty_cache()
    import autograd.backends.cudnn as cudnn

    cudnn.benchmark = True  # scripts set these; harmless here
    assert ag.backends.cudnn.benchmark is True
    cudnn.benchmark = False
    for call in (ag.cuda.current_device, ag.cuda.synchronize):
        with pytest.raises(RuntimeError, match="graphgrad computes on the CPU only"):
            call()


def test_cuda_seeding_seeds_the_one_generator():
    ag.cuda.manual_seed(3)
    a = ag.rand(4)
    ag.cuda.manual_seed_all(3)
    b = ag.rand(4)
    ag.manual_seed(3)
    c = ag.rand(4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_default_device():
    ag.set_default_device("cpu")
    ag.set_default_device(ag.device("cpu"))
    ag.set_default_device(None)
    assert ag.get_default_device() == ag.device("cpu")
    with pytest.raises(RuntimeError, match="set_default_device: device 'cuda'"):
        ag.set_default_device("cuda")
