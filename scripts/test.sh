#!/usr/bin/env bash
# Install what is needed (scripts/setup.sh), then lint and run the whole test suite.
# GUI tests need a display: they run under Xvfb with Mesa, started here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check segviewer tests benchmarks scripts
exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest "$@"
