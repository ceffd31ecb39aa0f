#!/usr/bin/env bash
# The main job on a fresh machine (Python 3.11+): create .venv, install graphgrad with its
# training extras, make Fashion-MNIST available, then train the CNN recipe (>= 91% test accuracy)
# and write metrics, plots, graphs, a checkpoint and model.onnx to runs/.
#   bash scripts/train.sh                                   # the CNN recipe (README numbers)
#   bash scripts/train.sh --model mlp                       # the MLP recipe
#   bash scripts/train.sh --model mlp --epochs 1 --subset 2000   # a quick smoke run
#   bash scripts/train.sh --out runs/fashion-mnist-cnn --resume  # continue after Ctrl-C
# Every argument goes to graphgrad-train (see `bash scripts/train.sh --help`).
# Data: the local copy (--data-root, /usr/share/datasets/fashion-mnist, ~/.cache/graphgrad);
# if there is none, as root on Debian/Ubuntu `apt-get install dataset-fashion-mnist`, else a
# checked download (--download). PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "train.sh: graphgrad needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    echo "train.sh: creating .venv with $("$PYTHON" --version)" >&2
    "$PYTHON" -m venv .venv
fi
# Install once: the editable install follows the code, so only a changed pyproject.toml (new
# dependencies, entry points) needs a new one; the stamp records the one installed.
# train: what graphgrad-train writes with (matplotlib, threadpoolctl, onnx for model.onnx);
# testing: Hypothesis (the README's property-testing example); fast: Numba kernels
extras=train,testing,fast
stamp=.venv/.graphgrad-install-stamp
want="$(cat pyproject.toml scripts/train.sh | cksum | cut -d' ' -f1) [$extras] $PWD"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! [ -x .venv/bin/graphgrad-train ]; then
    echo "train.sh: installing graphgrad[$extras] into .venv (once; the log is in .venv/install.log)" >&2
    rm -f "$stamp"
    if ! { .venv/bin/python -m pip install --upgrade pip || true
           .venv/bin/python -m pip install -e ".[$extras]"; } >.venv/install.log 2>&1; then
        tail -n 30 .venv/install.log >&2
        echo "train.sh: installing graphgrad failed (the full log is in .venv/install.log)" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi

as_root_with_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }

# Graphviz's `dot` renders graph.svg and grad_flow.svg (without it the run still trains).
if ! command -v dot >/dev/null 2>&1; then
    if as_root_with_apt; then
        apt-get update -qq && apt-get install -y -qq graphviz >/dev/null || true
    fi
    command -v dot >/dev/null 2>&1 ||
        echo "train.sh: warning: Graphviz 'dot' is missing, so no graph drawings (apt-get install graphviz / brew install graphviz)" >&2
fi

extra=()
status=0
.venv/bin/graphgrad-train --check-data "$@" >/dev/null 2>&1 || status=$?
if [ "$status" = "1" ]; then  # 1: the data is missing (2: bad arguments, reported below)
    dataset=fashion-mnist
    previous=""
    for arg in "$@"; do
        case "$previous" in --dataset) dataset=$arg ;; esac
        case "$arg" in --dataset=*) dataset=${arg#--dataset=} ;; esac
        previous=$arg
    done
    if [ "$dataset" = "fashion-mnist" ] && as_root_with_apt; then
        echo "train.sh: installing Debian's dataset-fashion-mnist" >&2
        { apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }; } || true
    fi
    if ! .venv/bin/graphgrad-train --check-data "$@" >/dev/null 2>&1; then
        echo "train.sh: no local copy of $dataset; downloading it (checked against MD5 sums)" >&2
        extra=(--download)
    fi
fi

exec .venv/bin/graphgrad-train ${extra[@]+"${extra[@]}"} "$@"
