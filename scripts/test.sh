#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine (Python 3.11+), then run them.
#   bash scripts/test.sh            # the whole suite (what CI runs)
#   bash scripts/test.sh -k conv    # extra arguments go to pytest
# Environment: GRAPHGRAD_NO_TORCH=1 skips installing PyTorch (the parity oracle; its tests then
# report as skipped), PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e '.[test,plot,notebooks,dev]'
if [ "${GRAPHGRAD_NO_TORCH:-0}" != "1" ]; then
    # PyTorch is only an oracle for parity tests and benchmarks (the CPU build).
    .venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install --quiet 'torch==2.13.0'
fi

# Debian packages the tests use: Graphviz's `dot` renders the graph pictures test_viz checks;
# dataset-fashion-mnist gives the real data the dataset test and notebook 04 read.
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "warning: missing ${missing[*]} (Debian/Ubuntu: apt-get install ${missing[*]};" \
             "macOS: brew install graphviz); the tests that need them will be skipped" >&2
    fi
fi

export PYTHONHASHSEED=0
# Two pytest workers on two cores: one BLAS thread each (several threads per worker fight over
# the cores and make small matrix products ~100x slower).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
workers=$(.venv/bin/python -c "import os; print(min(os.cpu_count() or 1, 2))")
exec .venv/bin/python -m pytest -n "$workers" -q -rs "$@"
