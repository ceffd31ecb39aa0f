"""ag.viz.replay: frames in the engine's own order, holding the real gradients; HTML/GIF/PNG."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.tracing import TRACE

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def neuron():
    """micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b)."""
    x1, x2 = ag.tensor(2.0, requires_grad=True), ag.tensor(0.0, requires_grad=True)
    w1, w2 = ag.tensor(-3.0, requires_grad=True), ag.tensor(1.0, requires_grad=True)
    b = ag.tensor(6.8813735870195432, requires_grad=True)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n, "o": o}


def test_frames_follow_the_engines_own_order():
    applied = []
    previous = TRACE.apply_observer
    TRACE.apply_observer = lambda node, outs, ins: applied.append(node)
    try:
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        x = ag.randn(5, 3, requires_grad=True)
        h = model(x)
        loss = (h * h).sum() + h.mean()  # h feeds two ops
        replay = ag.viz.replay(loss)
    finally:
        TRACE.apply_observer = previous
    assert [f.node for f in replay.frames] == applied  # observers chain; same order
    assert [f.step for f in replay.frames] == list(range(len(applied)))
    assert TRACE.apply_observer is previous and TRACE.grad_observer is None
    # a node runs only after every consumer of its output has run
    position = {id(f.node): f.step for f in replay.frames}
    for frame in replay.frames:
        for edge in frame.node.next_edges:
            if edge is not None and id(edge[0]) in position:
                assert position[id(edge[0])] > frame.step


def test_the_order_is_the_order_of_a_plain_backward():
    def build():
        ag.manual_seed(1)
        x = ag.randn(4, requires_grad=True)
        a = x.exp()
        return (a * x.sin() + a.tanh() * 2).sum()

    seen = []
    previous = TRACE.apply_observer
    TRACE.apply_observer = lambda node, outs, ins: seen.append(node.op_name)
    try:
        build().backward()
    finally:
        TRACE.apply_observer = previous
    assert [f.node.op_name for f in ag.viz.replay(build()).frames] == seen


def test_gradients_in_frames_equal_the_real_ones():
    ag.manual_seed(2)
    x = ag.randn(3, 4, requires_grad=True)
    w = ag.randn(4, 2, requires_grad=True)
    h = x @ w
    a = h.sigmoid()
    s = (a * a).sum(dim=1)
    loss = (s + a.mean()).sum()
    for t in (h, a, s):
        t.retain_grad()
    replay = ag.viz.replay(loss)
    by_node = {id(f.node): f for f in replay.frames}
    for t in (h, a, s):
        received = by_node[id(t.grad_fn)].output_grads[0]
        np.testing.assert_array_equal(received, t.grad.data)
    # what a node sends along an edge is what its input receives from it
    matmul = by_node[id(h.grad_fn)]
    assert matmul.inputs == ("leaf 0", "leaf 1")
    np.testing.assert_array_equal(matmul.input_grads[0], x.grad.data)
    np.testing.assert_array_equal(matmul.input_grads[1], w.grad.data)
    np.testing.assert_allclose(matmul.input_grads[0], h.grad.data @ w.data.T, rtol=1e-6)
    # a feeds mul twice and mean once: the contributions add up to a.grad
    sends_to_a = [
        g
        for f in replay.frames
        for g, edge in zip(f.input_grads, f.node.next_edges)
        if edge is not None and edge[0] is a.grad_fn
    ]
    assert len(sends_to_a) == 3
    np.testing.assert_allclose(sum(sends_to_a), a.grad.data, rtol=1e-6)


def test_micrograd_neuron_frames_and_leaf_grads():
    o, names = neuron()
    replay = ag.viz.replay(o, params=names)
    assert [f.op for f in replay.frames] == ["tanh", "add", "add", "mul", "mul"]
    tanh = replay.frames[0]
    assert tanh.output_grads[0] == 1.0
    assert tanh.input_grads[0] == pytest.approx(0.5, abs=1e-6)  # 1 - o**2, o = 0.7071
    assert tanh.inputs == ("n",)
    x1, w1 = names["x1"], names["w1"]
    assert x1.grad.item() == pytest.approx(-1.5, abs=1e-6)
    assert w1.grad.item() == pytest.approx(1.0, abs=1e-6)
    # leaves' .grad filling in: nothing before the mul of x1*w1 ran, then the real value
    mul_step = next(f.step for f in replay.frames if f.inputs == ("x1", "w1"))
    assert replay.leaf_grad(x1, mul_step - 1) is None
    assert replay.leaf_grad(x1, mul_step) == pytest.approx(-1.5, abs=1e-6)
    assert ("x1", pytest.approx(-1.5, abs=1e-6)) in replay.frames[mul_step].leaf_updates
    assert "step 1: tanh (TanhBackward) received 1.0; sent 0.5 to n" in str(replay)


def test_a_leaf_used_twice_shows_both_contributions():
    a = ag.tensor(3.0, requires_grad=True)
    b = ag.tensor(2.0, requires_grad=True)
    replay = ag.viz.replay(a * b + a, params={"a": a, "b": b})
    updates = [(s, g) for f in replay.frames for s, g in f.leaf_updates if s == "a"]
    assert [float(g) for _, g in updates] == [1.0, 2.0]
    assert replay.leaf_grad(a, len(replay.frames) - 1) == 3.0 == a.grad.item()


def drawn_rows(source: str, title: str) -> list[str]:
    """The text rows of the drawn node whose label starts with ``title`` (tags stripped)."""
    for line in source.splitlines():
        found = re.match(r'\s*\w+ \[label=<(.*)> shape=', line)
        if found is None:
            continue
        rows = [re.sub(r"<[^>]+>", "", row) for row in found.group(1).split("<BR/>")]
        if rows[0] == title:
            return rows
    raise AssertionError(f"no node titled {title!r} in the drawing")


def test_drawn_leaf_used_twice_sums_its_contributions():
    a = ag.tensor(3.0, requires_grad=True)
    b = ag.tensor(2.0, requires_grad=True)
    replay = ag.viz.replay(a * b + a, params={"a": a, "b": b})
    before = drawn_rows(replay.draw(-1).source, "a")
    assert before[-1] == ".grad —"
    # add runs first and sends 1.0 to a; mul then sends b = 2.0: the label adds them up.
    after_add = drawn_rows(replay.draw(0).source, "a")
    assert after_add[-1] == ".grad 1.0"
    last = drawn_rows(replay.draw(len(replay) - 1).source, "a")
    assert " ".join(last[-2:]) == ".grad 1.0 + 2.0 = 3.0" and a.grad.item() == 3.0
    assert drawn_rows(replay.draw(len(replay) - 1).source, "b")[-1] == ".grad 3.0"


def test_drawn_nodes_wait_for_all_their_consumers():
    a = ag.tensor(3.0, requires_grad=True)
    b = ag.tensor(2.0, requires_grad=True)
    h = a.exp()  # feeds both mul and add: exp runs only once both have sent their gradient
    replay = ag.viz.replay(h * b + h, params={"a": a, "b": b})
    assert [frame.op for frame in replay.frames] == ["add", "mul", "exp"]
    states = [drawn_rows(replay.draw(step).source, "exp")[1] for step in range(-1, len(replay))]
    assert states == [
        "waiting: 0 of 2 grads in",  # before backward
        "waiting: 1 of 2 grads in",  # add has run
        "ready: 2 of 2 grads in",  # mul has run too
        "▶ step 3: running",
    ]
    assert drawn_rows(replay.draw(-1).source, "mul")[1] == "waiting: 0 of 1 grads in"
    assert drawn_rows(replay.draw(0).source, "mul")[1] == "ready: 1 of 1 grads in"


def test_existing_grad_is_where_accumulation_starts():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    replay = ag.viz.replay((x * 3).sum(), params={"x": x})
    np.testing.assert_array_equal(replay.leaf_grad(x, -1), [2.0, 2.0])
    np.testing.assert_array_equal(replay.leaf_grad(x, len(replay) - 1), x.grad.data)
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])


def test_large_gradients_are_summaries_and_labels_show_shape_and_norm():
    x = ag.ones(300, 400, requires_grad=True)
    replay = ag.viz.replay((x * 2).sum(), max_elements=1000)
    mul = replay.frames[-1]
    assert isinstance(mul.input_grads[0], ag.viz.GradStats)
    assert mul.input_grads[0].norm == pytest.approx(2 * np.sqrt(120_000))
    source = replay.draw(len(replay) - 1).source
    assert "(300, 400) ‖g‖ 692.8" in source


def test_drawing_highlights_the_running_node_and_its_sends():
    o, names = neuron()
    replay = ag.viz.replay(o, params=names)
    before = replay.draw(-1).source
    assert "running" not in before and "ready: seeded" in before and "grad 1.0" in before
    src = replay.draw(0).source
    running = [line for line in src.splitlines() if "running" in line]
    assert len(running) == 1 and '<B><FONT POINT-SIZE="10">tanh</FONT></B>' in running[0]
    hot_edges = [line for line in src.splitlines() if " -> " in line and "penwidth" in line]
    assert len(hot_edges) == 1 and "◀ 0.5" in hot_edges[0]
    last = replay.draw(len(replay) - 1).source
    assert last.count("✓ step") == len(replay) - 1
    with pytest.raises(IndexError, match="out of range"):
        replay.draw(len(replay))


def test_every_frame_has_the_same_layout():
    o, names = neuron()
    replay = ag.viz.replay(o, params=names)
    shapes = set()
    for step in range(-1, len(replay)):
        src = replay.draw(step).source
        shapes.add(tuple(re.findall(r'width="([\d.]+)" height="([\d.]+)"', src)))
        shapes.add(tuple(re.findall(r'WIDTH="(\d+)" HEIGHT="(\d+)"', src)))
    assert len(shapes) == 2  # node sizes and label cell sizes never change between frames


@needs_dot
def test_html_is_one_offline_file_with_a_slider(tmp_path):
    o, names = neuron()
    replay = ag.viz.replay(o, params=names)
    path = replay.save(tmp_path / "replay.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == len(replay) + 1 == 6
    assert 'type="range"' in page and "ArrowRight" in page and "ArrowLeft" in page
    assert "Step 1 of 5: tanh" in page and "x1.grad is now -1.5" in page
    for external in ("<link", "src=", "@import", "url("):
        assert external not in page
    assert not re.search(r'href="https?:', page)
    script = page[page.index("<script>") + 8 : page.index("</script>")]
    if shutil.which("node"):
        check = subprocess.run(["node", "--check", "-"], input=script.encode(), capture_output=True)
        assert check.returncode == 0, check.stderr.decode()
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # frames do not share element ids
    inline = replay._repr_html_()
    assert inline.startswith('<div class="ggr"') and inline.count("<svg") == 6


@needs_dot
def test_gif_and_png_strip(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    o, names = neuron()
    replay = ag.viz.replay(o, params=names, path=tmp_path / "replay.gif")
    gif = PIL.open(tmp_path / "replay.gif")
    assert gif.n_frames == len(replay) + 1
    strip = PIL.open(replay.save(tmp_path / "replay.png"))
    frame = PIL.open(__import__("io").BytesIO(
        ag.viz.VizGraph.pipe(replay.draw(0), format="png")))  # fmt: skip
    assert strip.width >= 4 * frame.width * 0.95 and strip.height >= 2 * frame.height * 0.95
    with pytest.raises(ValueError, match="use .html, .gif or .png"):
        replay.save(tmp_path / "replay.svg")


def test_errors_name_the_problem():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.viz.replay(x.detach() * 2)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        ag.viz.replay(y)
    with pytest.raises(RuntimeError, match="gradient="):
        ag.viz.replay(x * 2)
    replay = ag.viz.replay(x * 2, gradient=ag.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(replay.frames[0].output_grads[0], [1.0, -1.0])


@needs_dot
def test_replay_example_writes_the_readme_picture(tmp_path, monkeypatch, capsys):
    import runpy
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "replay_neuron.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    assert (tmp_path / "replay_frame.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "replay_neuron.html").read_text().count("<svg") == 6
    assert "step 5: mul (MulBackward) received 0.5; sent -1.5 to x1; 1.0 to w1" in capsys.readouterr().out
