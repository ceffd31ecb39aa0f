"""The packages stack in one direction: autograd (the engine) <- nn, optim <- graphgrad (the
application). No module imports a package above it, not even lazily inside a function."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ABOVE = {
    "autograd": {"nn", "optim", "graphgrad"},
    "nn": {"optim", "graphgrad"},
    "optim": {"graphgrad"},
}


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_no_package_imports_one_above_it(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & ABOVE[package])
        for path in sorted((ROOT / package).rglob("*.py"))
        if _imports(path) & ABOVE[package]
    }
    assert not offenders, f"{package} must not import {sorted(ABOVE[package])}: {offenders}"
