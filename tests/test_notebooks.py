"""The teaching notebooks: committed without outputs, and each runs top to bottom in small-data mode.

The run uses a kernel spec written into a temporary folder that points at ``sys.executable``,
so the notebooks execute in the interpreter running pytest (a fresh venv after
``pip install -e .[test,notebooks]`` is enough: no ``ipykernel install`` step). The kernel's
working directory is a temporary folder and ``GRAPHGRAD_SMALL=1`` shrinks every dataset and
training run.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import sys

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_scalar_autograd",
    "02_tensors_and_broadcasting",
    "03_learning_to_add",
    "04_fashion_mnist",
    "05_vanishing_gradients",
    "06_property_testing_gradients",
    "07_regularisation",
    "08_sequence_models",
    "09_debugging_gradients",
]

# Text each notebook must print (besides running without errors and drawing pictures): the
# sentence that shows its point was made, so a notebook that silently skips its core is caught.
KEY_OUTPUTS = {
    "01_scalar_autograd": ["d o / d w1: graphgrad +1.000000   by hand +1.000000", "dy/da = 5.0"],
    "02_tensors_and_broadcasting": ["b.grad == dout summed over axis 0: True"],
    "03_learning_to_add": ["one example", "many examples"],
    "04_fashion_mnist": ["MLP test accuracy", "CNN test accuracy"],
    "05_vanishing_gradients": ["first-layer gradient norm"],
    "06_property_testing_gradients": ["Hypothesis caught the bug", "no counterexample"],
    "07_regularisation": ["early stopping", "test accuracy"],
    "08_sequence_models": ["sample", "attention"],
    "09_debugging_gradients": [
        "step 1: tanh (TanhBackward) received 1.0; sent 0.5 to n",
        "replay gradients equal backward's: True",
        "hidden.grad will be None even though its gradient exists",
        "w goes through detach() at",
        "verdict: vanishing",
        "verdict: ok",
        "dead ReLUs: relu outputs 0 for 100% of its inputs",
        "away from kinks: no counterexample",
        "Hypothesis caught the kink bug",
        "analytic nan vs numerical 0",
        "kink at x[0] = 0.0: one-sided slopes -1 and 1, analytic 0",
        "total kept for backward:",
        "backward has freed",
        "AnomalyError: Function 'log' produced nan values",
        "snapshot: anomaly.svg",
        "‖grad‖",
    ],
}
# Numbers that must show learning happened even in small-data mode: (pattern, minimum, maximum).
KEY_NUMBERS = {
    "03_learning_to_add": [
        (r"many examples \(\d+\): training loss \S+, loss on unseen pairs (\S+)", 0.0, 1.0)
    ],
    "04_fashion_mnist": [
        (r"MLP test accuracy: ([\d.]+)%", 60.0, 100.0),
        (r"CNN test accuracy: ([\d.]+)%", 60.0, 100.0),
    ],
    "05_vanishing_gradients": [(r"sigmoid +first-layer gradient norm +(\S+)", 0.0, 1e-6)],
    "08_sequence_models": [(r"digits reversed correctly ([\d.]+)%", 90.0, 100.0)],
    "09_debugging_gradients": [(r"is vanishing: norm (\S+) <", 0.0, 1e-6)],
}
# Notebooks that read Fashion-MNIST from a local copy (Debian's dataset-fashion-mnist or the cache).
NEEDS_FASHION_MNIST = {"04_fashion_mnist", "07_regularisation"}
# Minimum number of pictures (PNG plots or SVG graph drawings) each notebook shows.
MIN_IMAGES = {name: 3 for name in EXPECTED}


def _code_cells(path: pathlib.Path) -> list:
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_every_notebook_is_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: pathlib.Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], (
            f"{path.name} cell {index} has outputs; strip them before committing"
        )
        assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
    assert "widgets" not in notebook.metadata, f"{path.name} carries widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_one_title(path: pathlib.Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.stem[:2]} · ")
    titles = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            fenced ^= line.startswith("```")
            if not fenced and line.startswith("# "):
                titles.append(line)
    assert titles == [first.source.splitlines()[0]], f"{path.name}: level-1 headings {titles}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_the_small_mode_switch(path: pathlib.Path) -> None:
    sources = "\n".join(cell.source for cell in _code_cells(path))
    assert "GRAPHGRAD_SMALL" in sources, f"{path.name} ignores GRAPHGRAD_SMALL"
    for forbidden in ("import torch", "from torch"):
        assert forbidden not in sources, f"{path.name} uses PyTorch; notebooks teach graphgrad"


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A kernel spec that runs ipykernel in this interpreter, with small-data mode switched on."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    root = tmp_path_factory.mktemp("kernels")
    spec_dir = root / "graphgrad-notebook-test"
    spec_dir.mkdir()
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "graphgrad (test)",
        "language": "python",
        "env": {
            "GRAPHGRAD_SMALL": "1",
            # this repository's packages first (HIPS autograd shares the name `autograd`)
            "PYTHONPATH": python_path,
            # one BLAS thread per kernel: under pytest-xdist the cores are already shared, and
            # oversubscribed OpenBLAS threads spin, making a GEMM up to 100x slower
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            # a fresh IPython profile: no user startup files or config in the way
            "IPYTHONDIR": str(root / "ipython"),
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return root


def _have_fashion_mnist() -> bool:
    from graphgrad.datasets import FashionMNIST

    try:
        FashionMNIST(train=False)
    except RuntimeError:
        return False
    return True


def _images(cell: dict) -> int:
    return sum(
        1
        for output in cell.get("outputs", [])
        if {"image/png", "image/svg+xml"} & set(output.get("data", {}))
    )


def _text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(
    path: pathlib.Path, kernel_dir: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed (the notebooks draw graphs)")
    if path.stem in NEEDS_FASHION_MNIST and not _have_fashion_mnist():
        pytest.skip("Fashion-MNIST not found locally (apt-get install dataset-fashion-mnist)")

    notebook = nbformat.read(path, as_version=4)
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)], ensure_native_kernel=False)
    manager = KernelManager(
        kernel_name="graphgrad-notebook-test",
        kernel_spec_manager=specs,
        connection_file=str(tmp_path / "kernel-connection.json"),
    )
    work = tmp_path / "cwd"
    work.mkdir()
    repo_files = {p for p in NOTEBOOK_DIR.rglob("*")}
    client = NotebookClient(
        notebook, km=manager, timeout=600, resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on any error

    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [o for c in cells for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, errors
    images = sum(_images(cell) for cell in cells)
    assert images >= MIN_IMAGES[path.stem], f"{path.name} showed only {images} pictures"
    text = "".join(_text(cell) for cell in cells)
    for key in KEY_OUTPUTS[path.stem]:
        assert key in text, f"{path.name} did not print {key!r}"
    for pattern, low, high in KEY_NUMBERS.get(path.stem, []):
        match = re.search(pattern, text)
        assert match, f"{path.name} did not print a line matching {pattern!r}"
        assert low <= float(match.group(1)) <= high, (
            f"{path.name}: {match.group(0)!r} not in [{low}, {high}]"
        )
    assert {p for p in NOTEBOOK_DIR.rglob("*")} == repo_files, f"{path.name} wrote into notebooks/"
