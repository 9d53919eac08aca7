"""The README's compare-losses figures: one short training per loss setting.

Run: .venv/bin/python scripts/compare_losses_chart.py  (about 25 min on 2 CPU cores).
Each run starts from the same fresh random BasicUNet (the bundled model's architecture), so
what the loss does to the rare class shows within a few hundred steps.

1. The sample data's 2D samples: losses, class weights and the background in the Dice term.
   Writes resources/compare-losses.png.
2. Loss weights against sampler weights where the rare class is missing from most samples:
   2 of the 6 training images, and 12 generator images of 256² with cells but no spot,
   validated on the same 2 images. ``--sampler-only`` runs this part alone.
Prints the tables (also as JSON) for the README.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from segviewer._napari.chart_style import BACKDROP
from segviewer._napari.train_chart import draw_comparison
from segviewer.core.data.sample import Sample
from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples, make_sample
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
from segviewer.core.stats.classes import ClassStats, tally

RUNS = ("dice", "dice:uniform:nobg", "dice:inverse_frequency", "ce", "ce:inverse_frequency",
        "dicece", "dicece:inverse_frequency")  # fmt: skip
SAMPLER_RUNS = ("dicece", "dicece:inverse_frequency", "dicece:uniform:sampler",
                "dicece:inverse_frequency:sampler")  # fmt: skip
OUT = Path(__file__).resolve().parents[1] / "resources" / "compare-losses.png"


def spot_free_samples(count: int, seed: int = 7) -> list[Sample]:
    """``count`` generator images of 256² with cells and no spot at all."""
    rng = np.random.default_rng(seed)
    return [make_sample(rng, (256, 256), f"nospot_{i:02d}", with_spots=False) for i in range(count)]


def compare(model, train, validation, specs, base):
    runs = [run_settings(spec, base) for spec in specs]
    results = compare_losses(model, train, validation, runs)
    labels, dice = [run_label(r) for r in runs], [best_dice(r) for r in results]
    for label, row, result in zip(labels, dice, results, strict=True):
        print(f"{label:<40}", " ".join(f"{d:.3f}" for d in row), f"best step {result.best_step}")
    return labels, dice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sampler-only", action="store_true", help="run part 2 only")
    args = parser.parse_args()
    torch.set_num_threads(2)
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)  # the sample data's 2D part
    base = FinetuneSettings(steps=300, lr=3e-3, batch=8, patch=(128, 128), conflicts="ignore")
    train, validation = split(samples, base.validation_fraction, base.seed)
    model = untrained_copy(open_model("bundled"), seed=0)
    if not args.sampler_only:
        loss_figures(model, train, validation, base)
    sampler_figures(model, train, validation, base)


def loss_figures(model, train, validation, base) -> None:
    labels, dice = compare(model, train, validation, RUNS, base)
    figure = Figure(figsize=(6, 3.6), dpi=110, layout="constrained")
    figure.patch.set_facecolor(BACKDROP)
    draw_comparison(figure, labels, dice, model.info.classes)
    figure.savefig(OUT)
    print(json.dumps({"classes": model.info.classes, "runs": dict(zip(RUNS, dice, strict=True)),
                      "train": [s.name for s in train],
                      "validation": [s.name for s in validation]}))  # fmt: skip
    print(f"wrote {OUT}")


def sampler_figures(model, train, validation, base) -> None:
    sparse = train[:2] + spot_free_samples(12)
    stats = ClassStats(sparse[0].class_names, [s.name for s in sparse],
                       np.stack([tally(s.masks) for s in sparse]))  # fmt: skip
    weights = stats.sampler_weights()
    print(f"sampler scenario: {len(sparse)} training samples, spot in "
          f"{stats.present_in[2]}; a sample with spots weighs {weights[0]:.4f}, "
          f"one without {weights[-1]:.4f}")  # fmt: skip
    _, sampler_dice = compare(model, sparse, validation, SAMPLER_RUNS, base)
    print(json.dumps({"sampler_runs": dict(zip(SAMPLER_RUNS, sampler_dice, strict=True))}))


if __name__ == "__main__":
    main()
