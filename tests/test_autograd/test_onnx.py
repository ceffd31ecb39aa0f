"""ag.onnx.export: onnxruntime gives graphgrad's outputs (float32, within 1e-5) for the models
people build here, at two batch sizes when the batch axis is dynamic; onnx.checker passes;
clear errors for what cannot be exported."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from graphgrad.models import CNN, MLP

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install '.[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the onnx extra)")

TOLERANCE = dict(rtol=1e-5, atol=1e-5)


class SequenceClassifier(nn.Module):
    """Embedding -> recurrent layer -> the last step's state -> linear."""

    def __init__(self, cell: str = "LSTM", **kwargs):
        super().__init__()
        self.embedding = nn.Embedding(30, 8, padding_idx=0)
        self.rnn = getattr(nn, cell)(8, 16, batch_first=True, **kwargs)
        width = 16 * (2 if kwargs.get("bidirectional") else 1)
        self.head = nn.Linear(width, 4)

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.head(out[:, -1])


class Zoo(nn.Module):
    """Conv1d + BatchNorm1d, both poolings, dropout, activations, cat/permute/reshape/slices,
    softmax and log-softmax heads."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 3, padding=1)
        self.norm = nn.BatchNorm1d(8)
        self.avg = nn.AvgPool1d(3, stride=1, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.acts = nn.ModuleList([nn.GELU(), nn.SiLU(), nn.LeakyReLU(0.1), nn.ELU(),
                                   nn.Softplus(), nn.Tanh(), nn.Sigmoid(), nn.ReLU()])  # fmt: skip
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(8 * 4, 5)

    def forward(self, x):
        h = self.pool(self.avg(F.relu(self.norm(self.conv(x)))))  # (N, 8, 4)
        h = sum((act(h) for act in self.acts), ag.zeros(())) / len(self.acts)
        h = ag.cat([h[:, 4:], h[:, :4].flip(1)], dim=1).permute(0, 2, 1).reshape(h.shape[0], -1)
        h = self.drop(ag.cat([h[:, 1:], h[:, :1]], dim=1).clamp(-3.0, 3.0))
        return F.log_softmax(self.head(h), dim=1), F.softmax(self.head(h), dim=-1)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x)


def _models():
    yield "mlp", MLP, (3, 1, 28, 28), 0
    yield "cnn", CNN, (3, 1, 28, 28), 0
    yield "lstm", SequenceClassifier, (2, 7), 0
    yield "lstm-2-layers-bidirectional", lambda: SequenceClassifier(num_layers=2, bidirectional=True), (2, 7), 0
    yield "gru", lambda: SequenceClassifier("GRU"), (2, 7), 0
    yield "rnn", lambda: SequenceClassifier("RNN", nonlinearity="relu"), (2, 7), 0
    yield "transformer-encoder-layer", lambda: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), (2, 5, 16), 0
    yield "transformer-seq-first-gelu", lambda: nn.TransformerEncoderLayer(16, 4, 32, activation="gelu", norm_first=True), (5, 2, 16), 1
    yield "multihead-attention", Attention, (2, 5, 16), 0
    yield "zoo", Zoo, (2, 3, 8), 0  # fmt: skip


MODELS = list(_models())


def _input(shape, integer=False):
    if integer:
        return ag.randint(0, 30, shape)
    return ag.randn(*shape)


def _outputs(result):
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _outputs(item)]
    return [result]


def _export(model, x, batch_axis, **kwargs):
    f = io.BytesIO()
    proto = ag.onnx.export(model, x, f, input_names=["x"],
                           dynamic_axes={"x": {batch_axis: "batch"}}, **kwargs)  # fmt: skip
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    return proto, session


@pytest.mark.parametrize("build, shape, batch_axis", [m[1:] for m in MODELS],
                         ids=[m[0] for m in MODELS])  # fmt: skip
def test_onnxruntime_gives_our_outputs_at_two_batch_sizes(build, shape, batch_axis):
    ag.manual_seed(0)
    model = build()
    model.train()  # export switches to eval mode and back
    integer = len(shape) == 2
    proto, session = _export(model, _input(shape, integer), batch_axis)
    assert model.training
    onnx.checker.check_model(proto, full_check=True)
    model.eval()
    for batch in (shape[batch_axis], shape[batch_axis] + 3):
        size = list(shape)
        size[batch_axis] = batch
        x = _input(tuple(size), integer)
        with ag.no_grad():
            ours = _outputs(model(x))
        theirs = session.run(None, {"x": x.numpy()})
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert b.dtype == np.float32 and b.shape == a.shape
            np.testing.assert_allclose(b, a.numpy(), **TOLERANCE)


def test_parameters_are_named_by_module_path_and_the_batch_axis_is_free():
    model = CNN()
    proto, _ = _export(model, ag.randn(2, 1, 28, 28), 0)
    names = {i.name for i in proto.graph.initializer}
    assert {"features.0.weight", "features.4.weight", "classifier.2.weight",
            "classifier.2.bias", "features.1.running_var"} <= names  # fmt: skip
    (x,) = proto.graph.input
    dims = x.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [1, 28, 28]
    assert proto.opset_import[0].version == 17
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 2 and ops.count("MaxPool") == 2 and "Gemm" in ops


def test_recurrent_layers_become_one_onnx_op_each():
    proto, _ = _export(SequenceClassifier(num_layers=2), ag.randint(0, 30, (2, 7)), 0)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("LSTM") == 2 and "Gemm" in ops
    proto, _ = _export(SequenceClassifier("GRU"), ag.randint(0, 30, (2, 7)), 0)
    (gru,) = [n for n in proto.graph.node if n.op_type == "GRU"]
    assert onnx.helper.get_attribute_value(gru.attribute[[a.name for a in gru.attribute]
                                                         .index("linear_before_reset")]) == 1  # fmt: skip


def test_names_file_and_several_inputs(tmp_path):
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 3), nn.Linear(6, 3)

        def forward(self, x, y):
            return self.a(x) + self.b(y), x.sum(dim=1)

    model = Two()
    x, y = ag.randn(2, 4), ag.randn(2, 6)
    path = tmp_path / "two.onnx"
    ag.onnx.export(model, (x, y), path, input_names=["x", "y"], output_names=["z", "s"],
                   dynamic_axes={"x": [0], "y": [0], "z": [0], "s": [0]}, opset_version=18)  # fmt: skip
    loaded = onnx.load(str(path))
    assert [i.name for i in loaded.graph.input] == ["x", "y"]
    assert [o.name for o in loaded.graph.output] == ["z", "s"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x, y = ag.randn(5, 4), ag.randn(5, 6)
    z, s = session.run(None, {"x": x.numpy(), "y": y.numpy()})
    expected = model(x, y)
    np.testing.assert_allclose(z, expected[0].detach().numpy(), **TOLERANCE)
    np.testing.assert_allclose(s, expected[1].detach().numpy(), **TOLERANCE)


def test_masks_computed_from_the_input_are_exported_as_ops():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10, 4)

        def forward(self, ids):
            vectors = self.embedding(ids)
            keep = (ids != 0).unsqueeze(-1).to(vectors.dtype)  # padding tokens count for nothing
            return (vectors * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)

    model = Masked()
    _, session = _export(model, ag.tensor([[1, 2, 0], [3, 0, 0]]), 0)
    ids = ag.tensor([[0, 0, 5], [4, 4, 4], [9, 0, 1]])
    (got,) = session.run(None, {"x": ids.numpy()})
    np.testing.assert_allclose(got, model(ids).detach().numpy(), **TOLERANCE)


def test_an_op_without_translation_names_the_op_and_its_module():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Block(nn.Module):
        def forward(self, x):
            return Cube.apply(x)

    model = nn.Sequential(nn.Linear(3, 3), Block())
    with pytest.raises(ag.onnx.OnnxExportError, match=r"op 'Cube' \(CubeBackward\) in module 1 \(Block\) has no ONNX translation"):
        ag.onnx.export(model, ag.randn(2, 3), io.BytesIO())  # fmt: skip


def test_a_new_translation_is_one_table_entry():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            return grad

    @ag.onnx.translates("Cube")
    def _cube(ctx):
        x = ctx.input(0)
        ctx.emit1("Mul", [ctx.emit1("Mul", [x, x]), x], ctx.output())

    try:
        model = nn.Sequential(nn.Linear(3, 3), nn.Module())
        model[1].forward = lambda x: Cube.apply(x)
        _, session = _export(model, ag.randn(2, 3), 0)
        x = ag.randn(4, 3)
        (got,) = session.run(None, {"x": x.numpy()})
        np.testing.assert_allclose(got, model(x).detach().numpy(), **TOLERANCE)
    finally:
        del ag.onnx.TRANSLATIONS["Cube"]


def test_values_that_depend_on_the_input_outside_the_graph_are_an_error():
    class Centre(nn.Module):
        def forward(self, x):
            return x - ag.tensor(x.detach().numpy().mean())  # a fresh tensor: no graph, no op

    with pytest.raises(ag.onnx.OnnxExportError, match=r"sub \(SubBackward\) in module \(root\) "
                       r"\(Centre\).*differs between two runs"):  # fmt: skip
        ag.onnx.export(Centre(), ag.randn(2, 3), io.BytesIO())


def test_bad_arguments():
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="opset_version must be an int >= 13"):
        ag.onnx.export(model, ag.randn(2, 3), io.BytesIO(), opset_version=11)
    with pytest.raises(ValueError, match="dynamic_axes names 'y'"):
        ag.onnx.export(model, ag.randn(2, 3), io.BytesIO(), dynamic_axes={"y": [0]})
    with pytest.raises(ValueError, match="2 input_names for 1 tensor arguments"):
        ag.onnx.export(model, ag.randn(2, 3), io.BytesIO(), input_names=["a", "b"])


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'graphgrad\[onnx\]'"):
        ag.onnx.export(nn.Linear(3, 2), ag.randn(2, 3), io.BytesIO())


ACTIVATIONS = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
               "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid",
               "Tanhshrink", "Tanh", "Sigmoid", "Softmax", "LogSoftmax"]  # fmt: skip


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_exports(name):
    layer = getattr(nn, name)(dim=-1) if name in ("Softmax", "LogSoftmax") else getattr(nn, name)()
    model = nn.Sequential(nn.Linear(4, 6), layer)
    _, session = _export(model, ag.randn(3, 4), 0)
    x = ag.randn(5, 4) * 3
    (got,) = session.run(None, {"x": x.numpy()})
    np.testing.assert_allclose(got, model(x).detach().numpy(), **TOLERANCE)


def test_two_dynamic_axes_in_one_reshape():
    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)

        def forward(self, x):  # (N, L, 4): batch and length both free
            y = self.linear(x.reshape(-1, 4))
            return y.reshape(x.shape[0], x.shape[1], 4).sum(dim=1)

    model = Tokens()
    f = io.BytesIO()
    ag.onnx.export(model, ag.randn(2, 3, 4), f, input_names=["x"], dynamic_axes={"x": [0, 1]})
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    for shape in ((2, 3, 4), (5, 7, 4)):
        x = ag.randn(*shape)
        (got,) = session.run(None, {"x": x.numpy()})
        np.testing.assert_allclose(got, model(x).detach().numpy(), **TOLERANCE)


W3 = ag.tensor([0.5, 2.0, 1.0])
LOSSES = [
    # name, loss of (output, target), target kind
    ("mse", lambda y, t: F.mse_loss(y, t), "float"),
    ("mse_none", lambda y, t: F.mse_loss(y, t, reduction="none"), "float"),
    ("l1_sum", lambda y, t: F.l1_loss(y, t, reduction="sum"), "float"),
    ("smooth_l1", lambda y, t: F.smooth_l1_loss(y, t, beta=0.5), "float"),
    ("huber", lambda y, t: F.huber_loss(y, t, delta=0.7, reduction="none"), "float"),
    ("bce", lambda y, t: F.binary_cross_entropy(y.sigmoid(), t, weight=W3), "probability"),
    ("bce_logits", lambda y, t: F.binary_cross_entropy_with_logits(y, t, pos_weight=W3), "probability"),
    ("kl_div", lambda y, t: F.kl_div(y.log_softmax(dim=1), t, reduction="batchmean"), "probability"),
    ("kl_div_log_target", lambda y, t: F.kl_div(y, t, reduction="sum", log_target=True), "float"),
    ("nll", lambda y, t: F.nll_loss(y.log_softmax(dim=1), t, weight=W3), "class"),
    ("cross_entropy", lambda y, t: F.cross_entropy(y, t), "class"),
    ("cross_entropy_none", lambda y, t: F.cross_entropy(y, t, reduction="none", ignore_index=1), "class"),
    ("cross_entropy_smoothed", lambda y, t: F.cross_entropy(y, t, weight=W3, ignore_index=2, label_smoothing=0.2), "class"),
]  # fmt: skip


def _target(kind, batch):
    if kind == "class":
        return ag.tensor(np.arange(batch) % 3)
    if kind == "probability":
        return ag.rand(batch, 3)
    return ag.randn(batch, 3)


@pytest.mark.parametrize("name, loss_fn, kind", LOSSES, ids=[row[0] for row in LOSSES])
def test_losses_export_with_the_target_as_an_input(name, loss_fn, kind):
    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 3)

        def forward(self, x, target):
            return loss_fn(self.linear(x), target)

    ag.manual_seed(0)
    model = WithLoss()
    f = io.BytesIO()
    ag.onnx.export(model, (ag.randn(4, 4), _target(kind, 4)), f, input_names=["x", "t"],
                   dynamic_axes={"x": [0], "t": [0]})  # fmt: skip
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    for batch in (4, 7):
        x, target = ag.randn(batch, 4), _target(kind, batch)
        (got,) = session.run(None, {"x": x.numpy(), "t": target.numpy()})
        np.testing.assert_allclose(got, model(x, target).detach().numpy(), **TOLERANCE)
