#!/usr/bin/env bash
# Install real robomimic 0.3.0 and a CPU-capable torch into this Python, so that
# robomimic's own scripts/train.py trains (tests/integration, python -m pytest -m integration).
#
# Why two commands: robomimic 0.3.0 declares egl_probe (built with cmake, only for
# rendering) and imageio-ffmpeg, which training does not need, so it goes in with
# --no-deps; its real imports go in by name. matplotlib and six are imported at import
# time although (six) undeclared. torch 2.14.1 with torchvision 0.29.1 is the pair that
# imports here: PyPI's torchvision next to the CPU-only torch 2.13.0 wheel fails with
# "operator torchvision::nms does not exist". This torch is the CUDA build (about 5.5 GB
# installed with its nvidia-* wheels); it runs on the CPU.
#
# Idempotent (pip skips what is installed), non-interactive, from any directory.
# Set PYTHON to install into another interpreter (default: python).
# Measured on the project's machine (2 cores, the local package mirror): 2 min 19 s into
# a fresh Python 3.11 venv, 10 s when everything is there already (mostly the import check).
set -euo pipefail

PYTHON="${PYTHON:-python}"
PIP=("$PYTHON" -m pip install --no-input --disable-pip-version-check)

run() {
    echo "+ $*"
    "$@"
}

run "${PIP[@]}" --no-deps robomimic==0.3.0
run "${PIP[@]}" \
    torch==2.14.1 torchvision==0.29.1 \
    h5py==3.16.0 psutil==7.2.2 tqdm==4.70.1 termcolor==3.3.0 \
    tensorboard==2.21.0 tensorboardX==2.6.5 imageio==2.38.1 six==1.17.0 matplotlib==3.11.2
run "$PYTHON" -c "import robomimic, torch, torchvision; from robomimic.scripts import train; \
print('robomimic', robomimic.__version__, '| torch', torch.__version__, '| torchvision', torchvision.__version__)"
