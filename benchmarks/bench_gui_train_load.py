"""Fine-tuning in the panel against the CLI, on a quiet machine and beside a CPU-burning
process on the same cores (the views issue: panel ≤ 1.2× the CLI quiet, ≤ 1.5× under load).

Both train the bundled model on the sample dataset (written by ``segviewer sample``) with
the same settings: dicece, 20 steps, batch 8, patch 128², conflict pixels ignored, the
default split and its validations. The CLI's time is opening the model and the samples
plus its ``finetune`` call (process start and imports left out); the panel's is from the
click on Fine-tune to the end, which does the same (torch already imported, as for a user
who filled in the form). The load is one ``while True: pass``
process per core (``BURNERS=N`` for another number). Run under a display:
``xvfb-run -a .venv/bin/python benchmarks/bench_gui_train_load.py``. Exits 1 on a miss.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import napari
from bench_gui_actions import run_until
from closing import close_discarding_edits  # benchmarks run as scripts, side by side

STEPS = 20
BURNERS = int(os.environ.get("BURNERS", os.cpu_count() or 1))  # CPU-burning processes
QUIET_TARGET, LOADED_TARGET = 1.2, 1.5
CLI_TIMED = """
import sys, time
import segviewer.cli_models as cli
import segviewer.core.model.finetune as module
from segviewer.cli import main
spent = []
def timed(inner):
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)
    return run
cli._finetune_inputs, module.finetune = timed(cli._finetune_inputs), timed(module.finetune)
code = main(sys.argv[1:])
print(f"TRAINED {sum(spent):.3f}", file=sys.stderr)
sys.exit(code)
"""


def cli_seconds(folder: Path, out: Path) -> float:
    command = [sys.executable, "-c", CLI_TIMED, "finetune", str(folder), "--loss", "dicece",
               "--steps", str(STEPS), "--conflicts", "ignore", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stderr.splitlines() if x.startswith("TRAINED"))
    return float(line.split()[1])


def panel_seconds(tab) -> float:
    tab.form.steps.setValue(STEPS)
    tab.form.loss_combo.setCurrentText("dicece")
    start = time.perf_counter()
    tab.train()
    run_until(lambda: not tab.running, timeout=900)
    return time.perf_counter() - start


def burn(cores: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]


def main() -> int:
    folder = Path(tempfile.mkdtemp()) / "cells"
    cli = "import sys; from segviewer.cli import main; sys.exit(main(sys.argv[1:]))"
    subprocess.run([sys.executable, "-c", cli, "sample", "--out", str(folder)],
                   check=True, capture_output=True)  # fmt: skip
    viewer = napari.Viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.open_paths([str(folder)])
    run_until(lambda: not widget._workers)
    tab = widget.training
    widget.show_panel(tab)
    run_until(lambda: widget.model.libraries_loaded)
    figures = {}
    for load in ("quiet", "loaded"):
        burners = burn(BURNERS) if load == "loaded" else []
        try:
            cli = cli_seconds(folder, folder.parent / "cli.safetensors")
            panel = panel_seconds(tab)
        finally:
            for process in burners:
                process.kill()
        figures[load] = (cli, panel)
        print(f"{load:>6}: CLI {cli:6.1f} s, panel {panel:6.1f} s → {panel / cli:.2f}×", flush=True)
    close_discarding_edits(viewer)
    quiet, loaded = (figures[k][1] / figures[k][0] for k in ("quiet", "loaded"))
    ok = quiet <= QUIET_TARGET and loaded <= LOADED_TARGET
    print(
        f"targets: quiet ≤ {QUIET_TARGET}×, loaded ≤ {LOADED_TARGET}×: {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
