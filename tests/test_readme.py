"""The README's Python examples run as printed: the first taste, learning to add (its printed
output, numbers within 5%), and the property test."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def _blocks() -> list[tuple[str, str | None]]:
    """Return each ```python block with the plain ``` block right after it (its output)."""
    text = README.read_text()
    found = []
    for match in re.finditer(r"```python\n(.*?)```\n(?:\n```\n(.*?)```\n)?", text, re.S):
        found.append((match.group(1), match.group(2)))
    return found


def _block(marker: str) -> tuple[str, str | None]:
    matches = [block for block in _blocks() if marker in block[0]]
    assert len(matches) == 1, f"README: expected one python block containing {marker!r}"
    return matches[0]


def _run(code: str) -> tuple[str, dict]:
    namespace: dict = {"__name__": "readme_example"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<README.md example>", "exec"), namespace)
    return out.getvalue(), namespace


def test_first_taste_runs():
    _run(_block("(g,) = ag.grad(")[0])


def test_learn_to_add_prints_what_the_readme_shows():
    code, expected = _block("# learn to add")
    assert expected is not None, "the README shows the example's output after it"
    printed, _ = _run(code)
    got_lines, want_lines = printed.strip().splitlines(), expected.strip().splitlines()
    assert len(got_lines) == len(want_lines), printed
    for got, want in zip(got_lines, want_lines):
        assert NUMBER.sub("#", got) == NUMBER.sub("#", want), (got, want)
        for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
            assert float(a) == pytest.approx(float(b), rel=0.05, abs=1e-3), (got, want)


def test_property_testing_example_runs():
    pytest.importorskip("hypothesis")
    _, namespace = _run(_block("@given(tensors(")[0])
    namespace["test_my_function"]()


def test_onnx_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    _, namespace = _run(_block('"cnn.onnx"')[0])
    assert namespace["logits"].shape == (5, 10)
