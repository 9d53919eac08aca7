"""The README's architecture figures: MONAI networks from fresh weights on the sample data.

Run: .venv/bin/python scripts/compare_architectures.py [--steps N]  (~15 min on 2 CPU cores).
Each network (``finetune --arch``) trains the same way on the sample data's 2D samples:
weighted Dice + CE (inverse-frequency weights), conflict pixels ignored, batch 8, patch
128², Adam 3e-3, the same seed, split and patches; prints the validation Dice per class of
the kept weights, the parameters and the seconds per step.
"""

from __future__ import annotations

import argparse
import time

import torch

from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.model.files import ARCHITECTURES, fresh_model
from segviewer.core.model.finetune import FinetuneSettings, best_dice, finetune, split
from segviewer.core.model.losses import LossSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(2)
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    settings = FinetuneSettings(
        LossSettings("dicece"), "inverse_frequency", args.steps, 3e-3, 8, (128, 128),
        conflicts="ignore",
    )  # fmt: skip
    train, validation = split(samples, settings.validation_fraction, settings.seed)
    classes = ["background", *samples[0].class_names]
    for arch in ARCHITECTURES:
        torch.manual_seed(0)
        model = fresh_model(arch, classes, 1, 2, (256, 256))
        parameters = sum(p.numel() for p in model.network.parameters())
        start = time.perf_counter()
        result = finetune(model, train, validation, settings)
        seconds = (time.perf_counter() - start) / args.steps
        dice = " ".join(f"{d:.3f}" for d in best_dice(result))
        print(f"{arch:<11} {parameters / 1e6:.2f} M  {seconds:.2f} s/step  Dice {dice}  "
              f"best step {result.best_step}")  # fmt: skip


if __name__ == "__main__":
    main()
