"""Anomaly snapshots: the error carries a drawing of the neighbourhood; snapshot= saves it."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import autograd as ag
import nn

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def labels(graph) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"\t(\w+) \[label=(<.*?>) ", graph.source)}


def test_backward_anomaly_carries_the_neighbourhood():
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt()
        with pytest.raises(ag.AnomalyError) as info:
            (y * 0).sum().backward()
    error = info.value
    assert isinstance(error, RuntimeError) and error.snapshot is None
    assert "Function 'SqrtBackward' returned nan values" in str(error)
    assert "A drawing of the neighbourhood is in error.graph" in str(error)
    found = labels(error.graph)
    assert "<B>sqrt</B>" in found["op"] and "test_anomaly.py:" in found["op"]
    assert "(y = x.sqrt())" in found["op"]  # the line that created it
    assert "value [0.0, 4.0]" in found["in0"]  # the leaf's value: sqrt' is inf at 0
    assert "grad received: [0.0, 0.0]" in found["out0"]
    assert "value [0.0, 2.0]" in found["out0"]
    edge = next(line for line in error.graph.source.splitlines() if "in0 -> op" in line)
    assert "grad returned: [nan, 0.0] — 1 NaN of 2" in edge and "#d62728" in edge
    assert 'penwidth="3"' in found_line(error.graph, "op")


def found_line(graph, eid):
    return next(line for line in graph.source.splitlines() if line.strip().startswith(f"{eid} ["))


def test_forward_anomaly_draws_inputs_their_producers_and_the_output():
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    with ag.detect_anomaly():
        shifted = x - 2.0
        with pytest.raises(ag.AnomalyError) as info:
            shifted.log()
    error = info.value
    assert "Function 'log' produced nan values in its forward output" in str(error)
    found = labels(error.graph)
    assert "[-1.0, 1.0]" in found["in0"]
    assert "<B>sub</B>" in found["p0"] and "(shifted = x - 2.0)" in found["p0"]
    assert "[nan, 0.0] — 1 NaN of 2" in found["out"] and "#d62728" in found["out"]
    assert "(shifted.log())" in found["op"]


def test_check_inf_flags_inf_in_the_forward():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly():
        y = x.log()  # -inf is a value, not an anomaly, by default (as NaN is not)
    assert np.isinf(y.data[0])
    with ag.detect_anomaly(check_inf=True):
        with pytest.raises(ag.AnomalyError, match="produced inf values") as info:
            x.log()
    assert "-inf, 0.0] — 1 inf of 2" in labels(info.value.graph)["out"]
    assert not ag.is_anomaly_enabled()


def test_large_tensors_are_summarised_with_the_nonfinite_count():
    x = ag.tensor(np.linspace(-1.0, 1.0, 100), requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError) as info:
            x.sqrt()
    out = labels(info.value.graph)["out"]
    assert "min 0.1005 · mean 0.6702 · max 1.0 — 50 NaN of 100" in out  # the finite part


def test_snapshot_dot_needs_no_graphviz(tmp_path):
    path = tmp_path / "anomaly.dot"
    x = ag.tensor([-1.0], requires_grad=True)
    with ag.detect_anomaly(snapshot=path):
        with pytest.raises(ag.AnomalyError) as info:
            x.sqrt()
    assert info.value.snapshot == str(path)
    assert path.read_text() == info.value.graph.source
    assert f"was saved to {path}" in str(info.value)


@needs_dot
def test_snapshot_svg_when_it_fires_in_a_model(tmp_path):
    path = tmp_path / "anomaly.svg"
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = ag.randn(5, 3)

    @ag.detect_anomaly(snapshot=str(path))
    def step():
        out = model(x).sum()
        (out / (out - out)).backward()  # 0/0 in the forward

    with pytest.raises(ag.AnomalyError):
        step()
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "div" in svg and "NaN" in svg


def test_a_failing_drawing_does_not_hide_the_anomaly(monkeypatch):
    import autograd.viz._anomaly as drawing

    def broken(*args, **kwargs):
        raise ValueError("no drawing today")

    monkeypatch.setattr(drawing, "draw_anomaly", broken)
    x = ag.tensor([-1.0], requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="drawing of the neighbourhood failed") as info:
            x.sqrt()
    assert info.value.graph is None and "produced nan values" in str(info.value)
