"""Module semantics: registration, traversal names, modes, state dicts, hooks, repr (vs PyTorch)."""

from __future__ import annotations

import copy
import io
import json
import pickle
import struct
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import nn

from parity import import_torch, state_from_torch, state_to_torch

torch = import_torch()


def _models(lib):
    """The same architectures built with either library (the APIs match)."""

    class Block(lib.Module):
        def __init__(self, features):
            super().__init__()
            self.norm = lib.LayerNorm(features)
            self.ff = lib.Sequential(lib.Linear(features, 2 * features), lib.GELU(approximate="tanh"),
                                     lib.Dropout(0.25), lib.Linear(2 * features, features))

        def forward(self, x):
            return x + self.ff(self.norm(x))

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.Embedding(10, 6, padding_idx=0)
            self.blocks = lib.ModuleList([Block(6) for _ in range(3)])
            self.heads = lib.ModuleDict({"cls": lib.Linear(6, 3), "reg": lib.Linear(6, 1, bias=False)})
            self.bn = lib.BatchNorm1d(6, momentum=None, affine=False)
            self.act = lib.LeakyReLU(0.2)

        def forward(self, ids):
            h = self.embed(ids).mean(1)
            for block in self.blocks:
                h = block(h)
            h = self.act(self.bn(h))
            return self.heads["cls"](h), self.heads["reg"](h)

    return {
        "mlp": lambda: lib.Sequential(
            lib.Linear(4, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Dropout(0.1), lib.LayerNorm(8),
            lib.GELU(), lib.SiLU(), lib.ELU(alpha=0.5), lib.Tanh(), lib.Sigmoid(),
            lib.Softplus(beta=2.0), lib.Linear(8, 3, bias=False), lib.LogSoftmax(dim=1),
        ),
        "named": lambda: lib.Sequential(OrderedDict([
            ("flatten", lib.Flatten()), ("fc", lib.Linear(12, 4)), ("relu", lib.ReLU(inplace=True)),
            ("unflatten", lib.Unflatten(1, (2, 2))), ("softmax", lib.Softmax(dim=-1)),
            ("id", lib.Identity()), ("bn2", lib.BatchNorm2d(3, eps=1e-3, track_running_stats=False)),
            ("ln", lib.LayerNorm((2, 3), elementwise_affine=False)),
            ("emb", lib.Embedding(5, 2, max_norm=1.0)), ("lrelu", lib.LeakyReLU()),
        ])),
        "net": Net,
        "empty": lambda: lib.Sequential(),
        "modulelist_mixed": lambda: lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.Tanh(), lib.ReLU()]),
    }


OURS, THEIRS = _models(nn), _models(torch.nn)


@pytest.mark.parametrize("name", list(OURS))
def test_repr_matches_pytorch(name):
    assert repr(OURS[name]()) == repr(THEIRS[name]())


@pytest.mark.parametrize("name", list(OURS))
def test_names_match_pytorch(name):
    ours, theirs = OURS[name](), THEIRS[name]()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key in ours_sd:
        assert ours_sd[key].shape == tuple(theirs_sd[key].shape), key
        assert str(ours_sd[key].dtype) == str(theirs_sd[key].dtype).replace("torch.", ""), key


def test_state_dict_round_trip_into_pytorch_gives_same_outputs():
    ag.manual_seed(0)
    ours, theirs = OURS["net"](), THEIRS["net"]()
    ids = np.array([[1, 2, 0], [3, 3, 9], [4, 0, 0], [5, 6, 7]])
    ours.train()
    ours(ag.tensor(ids))  # move the running statistics away from their initial values
    result = theirs.load_state_dict(state_to_torch(ours.state_dict()))
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval(), theirs.eval()
    out_ours = ours(ag.tensor(ids))
    with torch.no_grad():
        out_theirs = theirs(torch.from_numpy(ids))
    for a, b in zip(out_ours, out_theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_round_trip_from_pytorch_gives_same_outputs():
    torch.manual_seed(0)
    ours, theirs = OURS["mlp"](), THEIRS["mlp"]()
    theirs.train()
    theirs(torch.randn(16, 4))
    theirs.eval()
    result = ours.load_state_dict(state_from_torch(theirs.state_dict()))
    assert repr(result) == "<All keys matched successfully>"
    assert ours[1].num_batches_tracked.dtype == ag.int64 and ours[1].num_batches_tracked.item() == 1
    ours.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    # PyTorch tensors are accepted directly too.
    ours.load_state_dict(theirs.state_dict())


def test_registration_order_and_routing():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(ag.zeros(1))
            self.register_buffer("stat", ag.ones(2))
            self.register_buffer("scratch", ag.ones(3), persistent=False)
            self.child = nn.Linear(2, 2)
            self.a = nn.Parameter(ag.zeros(2))
            self.plain = ag.zeros(4)  # a plain tensor attribute is not registered

    m = M()
    assert list(m._parameters) == ["b", "a"]
    # A module's own parameters come before its children's, as in PyTorch.
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "child.weight", "child.bias"]
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["b", "a"]
    assert [n for n, _ in m.named_parameters(prefix="model")][0] == "model.b"
    assert [n for n, _ in m.named_buffers()] == ["stat", "scratch"]
    assert list(m.state_dict()) == ["b", "a", "stat", "child.weight", "child.bias"]
    assert "plain" not in dict(m.named_buffers())
    # Reassigning routes to the right table, and None keeps a declared slot.
    m.stat = ag.zeros(2)
    assert m.stat.sum().item() == 0 and "stat" in m._buffers
    m.child = None
    assert list(m.named_children()) == []
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'a'"):
        m.a = ag.zeros(2)
    del m.a
    assert "a" not in m._parameters
    with pytest.raises(AttributeError, match="'M' object has no attribute 'a'"):
        m.a  # noqa: B018


def test_shared_parameters_are_listed_once_unless_asked():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]  # fmt: skip
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert len(list(model.named_modules(remove_duplicate=False))) == 4
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_propagate():
    model = OURS["net"]()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_zero_grad_apply_requires_grad():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    model(ag.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_dtype_conversion_keeps_parameter_identity():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model.double()
    assert model[0].weight is weight and weight.dtype == ag.float64
    assert model[1].running_mean.dtype == ag.float64
    assert model[1].num_batches_tracked.dtype == ag.int64  # integer buffers are left alone
    assert model(ag.randn(4, 3, dtype=ag.float64)).dtype == ag.float64
    model.to(ag.float32)
    assert weight.dtype == ag.float32
    assert model.to("cpu") is model and model.cpu() is model
    with pytest.raises(TypeError, match="floating point"):
        model.to(ag.int64)
    with pytest.raises(RuntimeError, match="not available"):
        model.to("cuda")


def test_load_state_dict_reports_everything_and_loads_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: ag.zeros(*v.shape, dtype=v.dtype) for k, v in model.state_dict().items()}
    del state["1.running_var"]
    state["0.weight"] = ag.zeros(2, 4)
    state["extra"] = ag.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.running_var".' in message
    assert 'Unexpected key(s) in state_dict: "extra".' in message
    assert ("size mismatch for 0.weight: copying a param with shape (2, 4) from checkpoint, the "
            "shape in current model is (2, 3).") in message  # fmt: skip
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # nothing was loaded
    # strict=False: keys are reported, not raised; the shape mismatch still is.
    state["0.weight"] = ag.ones(2, 3)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["extra"]
    assert model[0].weight.sum().item() == 6


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    m = nn.Module()
    m.register_buffer("keep", ag.ones(1))
    m.register_buffer("temp", ag.ones(1), persistent=False)
    assert list(m.state_dict()) == ["keep"]
    assert [n for n, _ in m.named_buffers()] == ["keep", "temp"]


def test_forward_hooks_and_pre_hooks():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = layer(ag.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(layer.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    pre.remove(), post.remove()
    np.testing.assert_allclose(layer(ag.ones(1, 2)).detach().numpy(),
                               ag.ones(1, 2).numpy() @ layer.weight.detach().numpy().T
                               + layer.bias.detach().numpy(), rtol=1e-6)  # fmt: skip
    assert calls == [(3, 2)]
    order = []
    layer.register_forward_hook(lambda *a: order.append("first"))
    layer.register_forward_hook(lambda *a: order.append("prepended"), prepend=True)
    layer(ag.ones(1, 2))
    assert order == ["prepended", "first"]


def test_forward_runs_inside_the_module_scope():
    layer = nn.Linear(2, 2)
    out = layer(ag.ones(1, 2))
    assert out.grad_fn.module_path == (layer,)
    model = nn.Sequential(layer)
    assert model(ag.ones(1, 2)).grad_fn.module_path == (model, layer)


def test_deepcopy_and_pickle():
    model = OURS["net"]()
    clone = copy.deepcopy(model)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), clone.named_parameters()):
        assert n1 == n2 and p1 is not p2 and isinstance(p2, nn.Parameter)
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    assert repr(clone) == repr(model)
    model = OURS["mlp"]()
    restored = pickle.loads(pickle.dumps(model))
    assert list(restored.state_dict()) == list(model.state_dict())
    assert isinstance(restored[0].weight, nn.Parameter) and restored[0].weight.requires_grad
    np.testing.assert_array_equal(restored[0].weight.detach().numpy(), model[0].weight.detach().numpy())


def test_files_from_before_parameter_moved_to_nn_parameter_still_load(tmp_path):
    import nn.module
    import nn.parameter

    assert nn.module.Parameter is nn.parameter.Parameter is nn.Parameter
    layer = nn.Linear(2, 3)
    # a pickle that names nn.module.Parameter, as pickles written before the move do
    old_pickle = pickle.dumps(layer, protocol=0).replace(b"cnn.parameter\n", b"cnn.module\n")
    assert b"cnn.module\nParameter" in old_pickle
    assert type(pickle.loads(old_pickle).bias) is nn.Parameter
    # ag.save names plain Parameters by their public path, valid wherever the class lives
    buffer = io.BytesIO()
    ag.save(layer, buffer)
    data = buffer.getvalue()
    header = json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])
    tree = json.loads(header["__metadata__"]["graphgrad.tree"])
    assert [entry[3] for entry in tree["$module"]["parameters"]] == ["nn:Parameter"] * 2
    # an ag.save file written before the move names nn.module:Parameter
    for entry in tree["$module"]["parameters"]:
        entry[3] = "nn.module:Parameter"
    metadata = dict(header["__metadata__"], **{"graphgrad.tree": json.dumps(tree)})
    path = tmp_path / "old.safetensors"
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(data), metadata=metadata))
    loaded = ag.load(path, weights_only=False)
    assert type(loaded.weight) is nn.Parameter and loaded.weight.requires_grad
    np.testing.assert_array_equal(loaded.weight.detach().numpy(), layer.weight.detach().numpy())


def test_parameter_basics():
    p = nn.Parameter(ag.zeros(2))
    assert p.requires_grad and p.is_leaf
    assert repr(p) == repr(torch.nn.Parameter(torch.zeros(2)))
    assert not nn.Parameter(ag.zeros(2), requires_grad=False).requires_grad
    source = ag.zeros(3)
    shared = nn.Parameter(source)
    source.detach().numpy()[0] = 5
    assert shared[0].item() == 5  # shares memory, as PyTorch's Parameter shares storage
    assert type(p * 2) is ag.Tensor


def test_sequential_container_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert head(ag.ones(4, 2)).shape == (4, 3)
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is c
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]  # noqa: B018
    named = nn.Sequential(OrderedDict([("enc", a), ("act", b)]))
    assert named.enc is a and named[1] is b
    assert repr(named[1:]) == "Sequential(\n  (act): ReLU()\n)"


def test_modulelist_and_moduledict_api():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and isinstance(layers[1:], nn.ModuleList)
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "ReLU", "Tanh"]
    assert len(list(layers.parameters())) == 6
    assert repr(layers) == repr(torch.nn.ModuleList(
        [torch.nn.Identity()] + [torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU(), torch.nn.Tanh()]))
    d = nn.ModuleDict({"x": nn.ReLU()})
    d["y"] = nn.Linear(1, 1)
    d.update([("z", nn.Tanh())])
    assert list(d) == ["x", "y", "z"] and "y" in d and len(d) == 3
    assert [n for n, _ in d.named_parameters()] == ["y.weight", "y.bias"]
    assert isinstance(d.pop("x"), nn.ReLU) and list(d.keys()) == ["y", "z"]


def test_forward_missing_is_a_clear_error():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(ag.ones(1))


def test_get_submodule_and_parameter():
    model = OURS["net"]()
    assert model.get_submodule("blocks.1.ff.0") is model.blocks[1].ff[0]
    assert model.get_parameter("heads.cls.bias") is model.heads["cls"].bias
    with pytest.raises(AttributeError):
        model.get_submodule("blocks.9")
