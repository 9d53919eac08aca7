#!/usr/bin/env bash
# Install what is needed (scripts/setup.sh), then open napari with the SegViewer panel and
# the sample dataset. With no display it says so and exits non-zero; to render the window
# to a PNG on a headless machine, pass --screenshot FILE (Xvfb is used automatically).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/segviewer demo "$@"
