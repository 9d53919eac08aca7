"""The README's compare-losses chart: the sample data, one short training per loss setting.

Run: .venv/bin/python scripts/compare_losses_chart.py  (about 10 min on 2 CPU cores).
Each run starts from the same fresh random BasicUNet (the bundled model's architecture), so
what the loss does to the rare class shows within a few hundred steps. Writes
resources/compare-losses.png and prints the table (also as JSON) for the README.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from matplotlib.figure import Figure

from segviewer._napari.chart_style import BACKDROP
from segviewer._napari.train_chart import draw_comparison
from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.model.finetune import (
    FinetuneSettings,
    best_dice,
    compare_losses,
    run_label,
    run_settings,
    split,
    untrained_copy,
)
from segviewer.core.model.registry import open_model

RUNS = ("dice", "dice:inverse_frequency", "ce", "ce:inverse_frequency", "dicece",
        "dicece:inverse_frequency")  # fmt: skip
OUT = Path(__file__).resolve().parents[1] / "resources" / "compare-losses.png"


def main() -> None:
    torch.set_num_threads(2)
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)  # the sample data's 2D part
    base = FinetuneSettings(steps=300, lr=3e-3, batch=8, patch=(128, 128), conflicts="ignore")
    train, validation = split(samples, base.validation_fraction, base.seed)
    model = untrained_copy(open_model("bundled"), seed=0)
    runs = [run_settings(spec, base) for spec in RUNS]
    results = compare_losses(model, train, validation, runs)
    labels, dice = [run_label(r) for r in runs], [best_dice(r) for r in results]
    figure = Figure(figsize=(6, 3.6), dpi=110, layout="constrained")
    figure.patch.set_facecolor(BACKDROP)
    draw_comparison(figure, labels, dice, model.info.classes)
    figure.savefig(OUT)
    for label, row, result in zip(labels, dice, results, strict=True):
        print(f"{label:<34}", " ".join(f"{d:.3f}" for d in row), f"best step {result.best_step}")
    print(json.dumps({"classes": model.info.classes, "runs": dict(zip(RUNS, dice, strict=True)),
                      "train": [s.name for s in train],
                      "validation": [s.name for s in validation]}))  # fmt: skip
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
