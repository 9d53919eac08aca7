#!/usr/bin/env bash
# Install everything segviewer needs on a fresh Debian machine: the system libraries
# that Qt and napari need (with Xvfb for headless use), then a virtual environment in
# .venv with segviewer and its test tools. Safe to run again; it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  xvfb xauth libgl1-mesa-dri libegl1 libglx-mesa0 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xfixes0 libdbus-1-3 libfontconfig1
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then missing+=(python3-venv); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "segviewer setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "segviewer setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.segviewer-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "segviewer setup: installing segviewer and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned: on this project's machines 2.13.0 is a local CPU build, while an
  # open `torch>=2.4` would pull the newest CUDA build (several GB). Override with e.g.
  # SEGVIEWER_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu".
  # shellcheck disable=SC2086
  .venv/bin/python -m pip install -q ${SEGVIEWER_TORCH:-torch==2.13.0}
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi

# nnU-Net's own dataset check for the export tests, in a venv of its own: nnunetv2 pulls a
# torchvision that does not import beside the pinned torch, so it stays out of .venv.
nnunet_stamp=.venv-nnunet/.segviewer-installed
if [ ! -f "$nnunet_stamp" ]; then
  echo "segviewer setup: installing nnU-Net (for its dataset check) into .venv-nnunet"
  python3 -m venv .venv-nnunet
  # shellcheck disable=SC2086
  .venv-nnunet/bin/python -m pip install -q ${SEGVIEWER_TORCH:-torch==2.13.0} "nnunetv2==2.8.1"
  touch "$nnunet_stamp"
fi
