"""autograd.viz: DOT structure, gradient-flow classes, module clusters, rendering, draw_module."""

from __future__ import annotations

import pathlib
import re
import runpy
import shutil
import sys
import time

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.tracing import TRACE

viz = ag.viz
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
ROOT = pathlib.Path(__file__).resolve().parents[2]


def node_lines(source: str) -> dict[str, str]:
    """DOT node statements by node id."""
    found = {}
    for line in source.splitlines():
        match = re.match(r"\s*(\w+) \[label=", line)
        if match:
            found[match.group(1)] = line
    return found


def edge_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if " -> " in line]


def visible_edges(source: str) -> list[str]:
    return [line for line in edge_lines(source) if "invis" not in line]


def line_with(source: str, text: str) -> str:
    """The (unique) node statement whose label contains ``text``."""
    hits = [line for line in node_lines(source).values() if text in line and "legend_" not in line]
    assert len(hits) == 1, f"{len(hits)} nodes contain {text!r}"
    return hits[0]


def attr(line: str, name: str) -> str | None:
    match = re.search(rf'\b{name}="([^"]*)"', line)
    return match.group(1) if match else None


def clusters_of(source: str) -> dict[str, list[str]]:
    """For each node id, the labels of the clusters it is nested in (outermost first)."""
    stack: list[str] = []
    result = {}
    pending = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster"):
            stack.append("?")
            pending = True
        elif stripped.startswith("graph [") and pending:
            label = re.search(r"label=<(.*?)> style", stripped)
            stack[-1] = re.sub("<[^>]*>", "", label.group(1)) if label else ""
            pending = False
        elif stripped == "}" and stack:
            stack.pop()
        else:
            match = re.match(r"(\w+) \[label=", stripped)
            if match:
                result[match.group(1)] = list(stack)
    return result


def micrograd_example():
    a = ag.tensor(2.0, requires_grad=True)
    b = ag.tensor(-3.0, requires_grad=True)
    c = ag.tensor(10.0, requires_grad=True)
    f = ag.tensor(-2.0, requires_grad=True)
    with viz.record(values=True):
        e = a * b
        d = e + c
        loss = d * f
        loss.backward()
    names = {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": loss}
    return loss, names


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.features(x).tanh())


def deep_net(kind: str, depth: int = 10, width: int = 32) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(16, width)]
    for _ in range(depth):
        if kind == "sigmoid":
            layers += [nn.Sigmoid(), nn.Linear(width, width)]
        else:  # the bias of a layer followed by batch norm gets no gradient: leave it out
            layers += [nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width, bias=False)]
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def test_lazy_import_gives_the_package():
    assert callable(ag.viz.draw_graph) and callable(ag.viz.draw_module)
    assert ag.viz.record is viz.record


def test_micrograd_scalar_graph_shows_value_and_grad_on_every_node():
    loss, names = micrograd_example()
    dot = viz.draw_graph(loss, names, show_values=True, show_grads=True, rankdir="LR")
    src = dot.source
    assert isinstance(dot, __import__("graphviz").Digraph)
    assert "rankdir=LR" in src
    expected = {
        "a": (2, 6),
        "b": (-3, -4),
        "c": (10, -2),
        "f": (-2, 4),
        "e": (-6, -2),
        "d": (4, -2),
        "L": (-8, 1),
    }
    for name, (value, grad) in expected.items():
        line = line_with(src, f"<B>{name}</B>")
        assert f"data {value:.1f}" in line and f"grad {grad:.1f}" in line, line
        assert "() float32" in line
    ops = [
        line
        for line in node_lines(src).values()
        if 'shape="ellipse"' in line and "legend_" not in line
    ]
    assert sorted(re.search(r"<B>(\w+)</B>", op).group(1) for op in ops) == ["add", "mul", "mul"]
    assert len(visible_edges(src)) == 9  # 4 leaves -> ops, 3 ops -> tensors, 2 tensors -> ops
    assert dot.meta["kinds"] == {"input": 4, "intermediate": 2, "output": 1, "op": 3}


def test_kinds_are_visually_distinct_and_in_the_legend():
    model = nn.Linear(3, 2)
    x = ag.randn(4, 3, requires_grad=True)
    out = model(x * 2.0).sum()
    src = viz.draw_graph(out, {"x": x}).source
    fills = {
        kind: attr(line_with(src, text), "fillcolor")
        for kind, text in [
            ("input", "<B>x</B>"),
            ("parameter", "<B>weight</B>"),
            ("output", "() float32"),
        ]
    }
    intermediate = next(
        l for l in node_lines(src).values() if "(4, 2) float32" in l and "legend" not in l
    )
    fills["intermediate"] = attr(intermediate, "fillcolor")
    assert len(set(fills.values())) == 4, fills
    assert 'peripheries="2"' in line_with(src, "() float32")
    assert "subgraph cluster_legend" in src
    for kind in ("input", "parameter", "op", "intermediate", "output"):
        assert f"legend_{kind} " in src
    assert "legend_module" not in src  # only kinds present are explained
    assert "legend" not in viz.draw_graph(out, legend=False).source


def test_op_labels_show_non_default_options_only():
    x = ag.randn(2, 3, 4, requires_grad=True)
    y = x.sum(dim=1, keepdim=True).permute(2, 0, 1).reshape(4, 2).sum()
    src = viz.draw_graph(y).source
    assert "dim=1, keepdim=True" in src
    assert "dims=(2, 0, 1)" in src
    assert "shape=(4, 2)" in src
    last_sum = [l for l in node_lines(src).values() if "<B>sum</B>" in l]
    assert len(last_sum) == 2 and sum("dim=" in l for l in last_sum) == 1


def test_tensor_nodes_of_any_rank_show_shape_and_dtype():
    x = ag.randn(2, 3, 4, 5, dtype=ag.float64, requires_grad=True)
    y = (x.exp() * 3).mean()
    src = viz.draw_graph(y).source
    assert "(2, 3, 4, 5) float64" in src and "() float64" in src


def test_constants_are_drawn_dashed_except_scalars():
    w = ag.randn(3, requires_grad=True)
    x = ag.randn(5, 3)  # needs no grad
    src = viz.draw_graph(((x * w) * 2.0).sum()).source
    const = line_with(src, "constant")
    assert "(5, 3) float32" in const and "dashed" in const
    assert "constant" not in viz.draw_graph(((x * w) * 2.0).sum(), show_constants=False).source


def test_parameters_are_named_by_module_path_without_a_dict():
    model = Net()
    out = model(ag.randn(5, 4)).sum()
    dot = viz.draw_graph(out)
    for name in (
        "features.0.weight",
        "features.0.bias",
        "features.2.weight",
        "head.weight",
        "head.bias",
    ):
        assert f"<B>{name}</B>" in dot.source
        assert 'fillcolor="#d4f0d0"' in line_with(dot.source, f"<B>{name}</B>")
    # a dict still works, and names other tensors too
    x = ag.randn(5, 4, requires_grad=True)
    hidden = model.features(x)
    dot = viz.draw_graph(
        model.head(hidden).sum(), {"x": x, "hidden": hidden, "W": model.head.weight}
    )
    assert "<B>x</B>" in dot.source and "<B>hidden</B>" in dot.source and "<B>W</B>" in dot.source
    assert "head.weight" not in dot.source  # the user's name wins


def test_module_clusters_are_nested_and_labelled_with_path_and_type():
    model = Net()
    out = model(ag.randn(5, 4)).sum()
    src = viz.draw_graph(out).source
    nesting = clusters_of(src)
    weight = re.match(r"\s*(\w+) ", line_with(src, "<B>features.2.weight</B>")).group(1)
    assert nesting[weight] == ["Net", "features · Sequential", "features.2 · Linear"]
    relu = re.match(r"\s*(\w+) ", line_with(src, "<B>relu</B>")).group(1)
    assert nesting[relu] == ["Net", "features · Sequential", "features.1 · ReLU"]
    tanh = re.match(r"\s*(\w+) ", line_with(src, "<B>tanh</B>")).group(1)
    assert nesting[tanh] == ["Net"]  # created in Net.forward itself
    final_sum = [n for n, line in node_lines(src).items() if "<B>sum</B>" in line]
    assert nesting[final_sum[0]] == []  # outside every module
    assert src.count("subgraph cluster_m") == 6  # Net, features, 0, 1, 2, head
    assert "subgraph cluster_m" not in viz.draw_graph(out, group_modules=False).source


@pytest.mark.parametrize("collapse", [["features"], "Sequential", nn.Sequential, 1])
def test_collapse_draws_a_module_as_one_node(collapse):
    model = Net()
    out = model(ag.randn(5, 4)).sum()
    dot = viz.draw_graph(out, collapse=collapse)
    src = dot.source
    modules = [l for l in node_lines(src).values() if 'shape="box3d"' in l and "legend" not in l]
    names = sorted(re.search(r"<B>([\w.]+)( · \w+)?</B>", l).group(1) for l in modules)
    assert names[:1] == ["features"]
    features = line_with(src, "<B>features · Sequential</B>")
    assert "3 ops" in features and "112 params" in features  # one op per Linear + relu
    assert "features.0.weight" not in src and "relu" not in src  # absorbed
    if collapse == 1:
        assert names == ["features", "head"]
        assert "head.weight" not in src
    else:
        assert "<B>head.weight</B>" in src
    # the collapsed module's output tensor is drawn outside it, then tanh
    assert "(5, 8) float32" in src and "<B>tanh</B>" in src
    assert dot.meta["kinds"]["module"] == len(names)


def test_collapse_depth_zero_and_unknown_names():
    model = Net()
    out = model(ag.randn(5, 4)).sum()
    src = viz.draw_graph(out, collapse=0).source
    assert "<B>Net</B>" in src and "5 ops · 130 params" in src  # 3 linear, relu, tanh
    with pytest.raises(ValueError, match=r"collapse='nope' matches no module.*features"):
        viz.draw_graph(out, collapse="nope")


def test_show_intermediates_false_puts_shapes_on_ops():
    x = ag.randn(3, 4, requires_grad=True)
    y = (x.exp() + 1.0).sum()
    dot = viz.draw_graph(y, show_intermediates=False)
    assert "→ (3, 4)" in dot.source
    assert dot.meta["kinds"] == {"input": 1, "op": 3, "output": 1}


def test_max_depth_truncates_with_a_placeholder():
    x = ag.randn(3, requires_grad=True)
    y = x
    for _ in range(20):
        y = y.sin()
    dot = viz.draw_graph(y.sum(), max_depth=3)
    assert dot.meta["kinds"]["op"] == 3
    assert "earlier ops (max_depth=3)" in dot.source
    assert "invalid" not in dot.source


def test_grad_flow_sigmoid_network_vanishes_early_relu_batchnorm_does_not():
    ag.manual_seed(0)
    x = ag.randn(64, 16)
    classes = {}
    for kind in ("sigmoid", "relu_bn"):
        model = deep_net(kind)
        with viz.record():
            loss = model(x).pow(2).mean()
            loss.backward()
        src = viz.draw_graph(loss, grad_flow=True).source
        weights = [
            n
            for n, _ in model.named_parameters()
            if n.endswith("weight") and n.split(".")[0] not in ()
        ]
        classes[kind] = {n: attr(line_with(src, f"<B>{n}</B>"), "class") for n in weights}
        assert "subgraph cluster_legend" in src and "grad norm (log scale)" in src
    sigmoid = list(classes["sigmoid"].values())
    assert sigmoid[:3] == ["grad-vanishing"] * 3, classes["sigmoid"]
    assert sigmoid[-3:] == ["grad-ok"] * 3
    assert set(classes["relu_bn"].values()) == {"grad-ok"}, classes["relu_bn"]


def test_grad_flow_colours_edges_on_a_log_scale():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    small = (x * 1e-3).sum()
    big = (x * 10.0).sum()
    colors = []
    for y in (small, big):
        src = viz.draw_graph(y, grad_flow=True).source
        edge = next(l for l in edge_lines(src) if l.strip().startswith("l0 ->"))
        assert 'class="grad-ok"' in edge
        colors.append((attr(edge, "color"), float(attr(edge, "penwidth"))))
    assert colors[0][0] != colors[1][0] and colors[0][1] < colors[1][1]


def test_grad_flow_flags_vanishing_exploding_and_nonfinite():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    src = viz.draw_graph(x.sqrt().sum(), grad_flow=True).source  # d sqrt / dx at 0 is inf
    leaf = node_lines(src)["l0"]
    assert 'class="grad-nonfinite"' in leaf and 'fillcolor="#d62728"' in leaf and "NaN/inf" in leaf
    y = ag.tensor([1.0, 2.0], requires_grad=True)
    src = viz.draw_graph((y * 1e5).sum(), grad_flow=True).source
    assert 'class="grad-exploding"' in node_lines(src)["l0"] and "EXPLODING" in src
    src = viz.draw_graph((y * 1e-9).sum(), grad_flow=True, vanishing=1e-6).source
    assert 'class="grad-vanishing"' in node_lines(src)["l0"]
    src = viz.draw_graph((y * 1e-9).sum(), grad_flow=True, vanishing=1e-12).source
    assert 'class="grad-ok"' in node_lines(src)["l0"]


def test_grads_before_backward_are_computed_without_touching_dot_grad():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    y = (x * 3.0).sum()
    src = viz.draw_graph(y, {"x": x}, show_grads=True).source
    assert "grad [3.0, 3.0]" in line_with(src, "<B>x</B>")
    assert x.grad is None
    y.backward()  # the graph is still intact
    assert np.allclose(x.grad.detach().numpy(), [3.0, 3.0])


def test_grads_after_a_plain_backward_explain_how_to_record():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    y = (x.exp() * 3.0).sum()
    y.backward()
    viz.draw_graph(y)  # structure survives backward
    with pytest.raises(RuntimeError, match=r"already freed.*ag\.viz\.record\(\)"):
        viz.draw_graph(y, grad_flow=True)


def test_record_keeps_gradient_summaries_but_backward_still_frees_arrays():
    before = (TRACE.keep_values, TRACE.grad_observer)
    x = ag.randn(50, 50, requires_grad=True)
    with viz.record():
        y = x.tanh()
        loss = (y * y).sum()
        loss.backward()
    assert (TRACE.keep_values, TRACE.grad_observer) == before
    node = y.grad_fn
    assert node.freed and list(node.saved_arrays()) == [] and node.values is None
    stats = node.grad_stats[0]
    assert stats.values is None and stats.shape == (50, 50)  # big gradients: summary only
    expected = 2 * y.detach().numpy()
    assert stats.norm == pytest.approx(float(np.linalg.norm(expected)), rel=1e-5)
    src = viz.draw_graph(loss, grad_flow=True, show_grads=True).source
    assert f"grad norm {stats.norm:.4g}" in src


def test_values_need_recording_and_large_tensors_are_summarised():
    x = ag.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    y = (x * 2.0).sum()
    with pytest.warns(UserWarning, match=r"record\(values=True\)"):
        src = viz.draw_graph(y, {"x": x}, show_values=True).source
    assert "data: not recorded" in src
    assert "data min 0.0 · mean 9.5 · max 19.0" in line_with(src, "<B>x</B>")
    with viz.record(values=True):
        y = (x * 2.0).sum()
    src = viz.draw_graph(y, show_values=True).source
    assert "not recorded" not in src and "data min 0.0 · mean 19.0 · max 38.0" in src
    assert "data 380.0" in src


def test_multiple_roots_and_custom_functions():
    class Double(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = ag.randn(3, requires_grad=True)
    a = Double.apply(x)
    b = a.exp()
    dot = viz.draw_graph([a, b])
    assert "<B>Double</B>" in dot.source
    assert dot.meta["kinds"]["output"] == 2
    assert dot.meta["kinds"]["op"] == 2


def test_bad_arguments_raise_clear_errors():
    x = ag.randn(2, requires_grad=True)
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(x * 2, rankdir="XY")
    with pytest.raises(ValueError, match="grad_metric"):
        viz.draw_graph(x * 2, grad_metric="l3")
    with pytest.raises(TypeError, match="params must map names to Tensors"):
        viz.draw_graph(x * 2, {"x": 3})


def test_hundred_thousand_node_graph_is_walked_without_recursion():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursive walk over the graph would fail
    try:
        with pytest.warns(UserWarning, match="collapse="):
            dot = viz.draw_graph(y, show_intermediates=False, legend=False)
    finally:
        sys.setrecursionlimit(limit)
    assert dot.meta["kinds"]["op"] == 100_000
    assert dot.meta["edges"] == 100_001


def test_ten_thousand_node_graph_draws_in_seconds():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(5_000):
        y = y + 1.0
    start = time.perf_counter()
    with pytest.warns(UserWarning):
        dot = viz.draw_graph(y.sum(), show_values=False)
    elapsed = time.perf_counter() - start
    assert dot.meta["nodes"] >= 10_000
    assert elapsed < 5.0, elapsed


@needs_dot
def test_render_svg_png_pdf_and_jupyter(tmp_path):
    model = Net()
    out = model(ag.randn(2, 4)).sum()
    dot = viz.draw_graph(out)
    svg = viz.save(dot, tmp_path / "graph.svg").read_text()
    for text in ("linear", "tanh", "features.0.weight", "head.bias", "features.0"):
        assert text in svg
    assert viz.save(dot, tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.save(dot, tmp_path / "graph.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "graph.dot").exists() is False
    assert viz.save(dot, tmp_path / "graph.dot").read_text() == dot.source
    bundle = dot._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "features.0.weight" in bundle["image/svg+xml"]
    rendered = dot.render(tmp_path / "rendered", format="svg")
    assert rendered.endswith(".svg")
    with pytest.raises(ValueError, match="cannot tell the format"):
        viz.save(dot, tmp_path / "graph.bmpx")


def test_missing_graphviz_explains_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = ag.randn(2, requires_grad=True)
    dot = viz.draw_graph((x * 2).sum())
    assert dot.source.startswith("digraph")
    for action in (
        lambda: viz.save(dot, tmp_path / "g.png"),
        lambda: dot.pipe(format="svg"),
        lambda: dot.render(tmp_path / "g", format="pdf"),
    ):
        with pytest.raises(viz.GraphvizNotFoundError) as info:
            action()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert isinstance(info.value, RuntimeError)
    assert "apt-get install graphviz" in dot._repr_mimebundle_()["text/plain"]
    assert viz.save(dot, tmp_path / "g.gv").read_text() == dot.source  # no dot needed


def test_draw_module_shows_types_params_and_shapes():
    model = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2))
    )
    model.train()
    running = model[1].running_mean.detach().numpy().copy()
    dot = viz.draw_module(model, ag.randn(3, 4))
    src = dot.source
    assert "<B>0 · Linear</B>" in src and "in_features=4, out_features=8" in src
    assert "weight (8, 4)" in src and "40 params" in src
    assert "<B>3.0 · Linear</B>" in src and "18 params in total" in src
    assert "in (3, 4)  →  out (3, 8)" in src and "out (3, 2)" in src
    assert "<B>74 parameters</B>" in src  # 40 + 16 + 18
    assert src.count(" -> ") == 5
    assert dot.meta == {"modules": 6, "parameters": 74, "trainable": 74}
    assert model.training and model[1].training  # the mode is restored
    assert np.array_equal(model[1].running_mean.detach().numpy(), running)  # stats untouched
    shallow = viz.draw_module(model, max_depth=1).source
    assert "3.0" not in shallow and "+ 1 submodules not drawn" in shallow


def test_plot_grad_flow_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    ag.manual_seed(0)
    model = deep_net("sigmoid", depth=4)
    model(ag.randn(8, 16)).pow(2).mean().backward()
    model[0].bias.grad = None  # one parameter without gradient
    fig = viz.plot_grad_flow(model)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [n for n, _ in model.named_parameters()]
    assert ax.get_yscale() == "log"
    path = tmp_path / "flow.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:4] == b"\x89PNG"
    fig = viz.plot_grad_flow(model.named_parameters(), skip_bias=True)
    assert all(not t.get_text().endswith("bias") for t in fig.axes[0].get_xticklabels())


def test_two_models_in_one_drawing_get_distinct_parameter_names():
    first, second = nn.Linear(3, 2), nn.Linear(2, 1)
    loss = second(first(ag.randn(4, 3))).sum()
    src = viz.draw_graph(loss).source
    assert "<B>weight</B>" in src and "<B>Linear.weight</B>" in src


@needs_dot
def test_grad_flow_example_renders_both_networks(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    script = ROOT / "examples" / "grad_flow.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--out", str(tmp_path), "--depth", "2"])
    runpy.run_path(str(script), run_name="__main__")
    for name in ("grad_flow.svg", "grad_flow.png", "sigmoid_graph.svg", "relu_bn_graph.svg",
                 "sigmoid_grad_flow.png", "relu_bn_module.svg"):  # fmt: skip
        assert (tmp_path / name).stat().st_size > 1000, name
    svg = (tmp_path / "grad_flow.svg").read_text()
    assert "SigmoidNet" in svg and "ReluBNNet" in svg and "grad norm (log scale)" in svg


def test_a_tensor_used_twice_by_one_op_gets_two_edges() -> None:
    a = ag.tensor(3.0, requires_grad=True)
    src = ag.viz.draw_graph(a * a).source
    leaf_edges = [line for line in src.splitlines() if line.strip().startswith("l0 ->")]
    assert len(leaf_edges) == 2


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(36, 2),
    )  # fmt: skip


@needs_dot
def test_cluster_titles_are_one_text_run_so_they_cannot_overlap(tmp_path):
    # Graphviz places each font run of a line at a fixed x; a viewer with a wider font than
    # Graphviz's estimate drew "features.3MaxPool2d" when path and type were two runs.
    model = nn.Sequential()
    model.add_module("features", cnn())
    svg = viz.save(viz.draw_graph(model(ag.randn(2, 1, 8, 8)).sum()), tmp_path / "g.svg")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.read_text())
    assert "features.3 · MaxPool2d" in texts and "features.0 · Conv2d" in texts
    assert not any(t.strip() in ("MaxPool2d", "Conv2d") for t in texts)
    module_svg = viz.save(viz.draw_module(model), tmp_path / "m.svg").read_text()
    assert "features.3 · MaxPool2d" in re.findall(r"<text[^>]*>([^<]*)</text>", module_svg)


def test_labels_show_public_op_names_not_internal_ones():
    model = cnn()
    src = viz.draw_graph(model(ag.randn(2, 1, 8, 8)).sum()).source
    ops = [re.search(r"<B>([^<]*)</B>", l).group(1) for l in node_lines(src).values()
           if 'shape="ellipse"' in l and "legend_" not in l]  # fmt: skip
    assert sorted(ops) == ["batch_norm", "convolution", "linear", "max_pool", "relu", "reshape",
                           "sum"]  # fmt: skip
    for internal in ("native_batch_norm", "_MaxPool", "linear_addmm", "array(4,)", "mean="):
        assert internal not in src
    assert "eps=1e-05" in src  # real options stay


def test_user_functions_keep_their_class_name():
    class MyOp(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    src = viz.draw_graph(MyOp.apply(ag.randn(2, requires_grad=True))).source
    assert "<B>MyOp</B>" in src


def test_plot_grad_flow_legend_is_outside_the_axes():
    pytest.importorskip("matplotlib")
    ag.manual_seed(0)
    model = deep_net("sigmoid", depth=4)
    model(ag.randn(8, 16)).pow(2).mean().backward()
    fig = viz.plot_grad_flow(model)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1
    legend_box = fig.legends[0].get_window_extent()
    assert not legend_box.overlaps(ax.get_window_extent())  # covers no line, no bar
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "exploding > 1000" in labels and "vanishing < 1e-06" in labels
