"""Train the bundled model on synthetic data, reproducibly, in minutes on 2 CPU cores.

    .venv/bin/python scripts/train_bundled.py [--steps N] [--out FILE]

Data: 2D samples of segviewer's generator with seeds 1-6 (48 images); validation on seed
99, never used in training. Targets are exclusive labels (0 background, 1 cell, 2 spot;
a conflict pixel goes to spot, the rare class). Patches, exclusive labels and the
validation Dice are segviewer's own (core.finetune), as `segviewer finetune` uses them.
Network: MONAI BasicUNet, features
(16, 16, 32, 64, 128, 16), ~0.5 M parameters. Loss: MONAI DiceCELoss on random 128² crops
with flips and 90° rotations, batch 8, Adam with a cosine learning-rate decay.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from monai.losses import DiceCELoss

from segviewer.core.data.synthetic import CLASS_NAMES, make_dataset_samples
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model.files import (
    LoadedModel,
    ModelInfo,
    build_network,
    normalize_image,
    save_model,
)
from segviewer.core.model.finetune import training_labels, validation_dice
from segviewer.core.model.patches import patches

TRAIN_SEEDS, VALIDATION_SEED, TORCH_SEED = (1, 2, 3, 4, 5, 6), 99, 0
OUT = Path(__file__).resolve().parents[1] / "plugins" / "segviewer_bundled" / "bundled.safetensors"


def training_data(info: ModelInfo):
    """Normalised images and exclusive labels (conflicts resolved in favour of spot)."""
    samples = [s for seed in TRAIN_SEEDS for s in make_dataset_samples(seed, count=8, volumes=0)]
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    return [normalize_image(s.image, info, None) for s in samples], [
        training_labels(s) for s in samples
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.manual_seed(TORCH_SEED)
    torch.set_num_threads(2)
    patch, batch, lr = 128, 8, 3e-3
    info = ModelInfo(
        name="bundled",
        classes=["background", *CLASS_NAMES],
        architecture={"name": "BasicUNet", "features": [16, 16, 32, 64, 128, 16]},
    )
    images, labels = training_data(info)
    val_samples = make_dataset_samples(VALIDATION_SEED, count=8, volumes=0)  # as generated
    network = build_network(info)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    data = patches(images, labels, (patch, patch), batch, np.random.default_rng(TORCH_SEED))
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = next(data)
        loss = loss_function(network(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 100 == 0:
            print(f"step {step}: loss {loss.item():.4f} ({time.perf_counter() - start:.0f} s)")
    dice = validation_dice(LoadedModel(info, network), val_samples, "cpu")
    minutes = (time.perf_counter() - start) / 60
    print(
        f"validation Dice (seed {VALIDATION_SEED}): "
        + ", ".join(f"{name} {d:.3f}" for name, d in zip(info.classes, dice, strict=True))
    )
    info.training = {
        "data": f"segviewer generator, seeds {list(TRAIN_SEEDS)}, 8 2D samples each",
        "targets": "exclusive labels; conflict pixels go to the later class (spot)",
        "loss": "monai DiceCELoss(to_onehot_y=True, softmax=True)",
        "optimizer": f"Adam lr {lr}, cosine decay",
        "steps": args.steps,
        "batch": batch,
        "patch": [patch, patch],
        "augmentation": "random 90° rotations and flips",
        "torch_seed": TORCH_SEED,
        "minutes_on_2_cpu_cores": round(minutes, 1),
    }
    info.scores = {
        "validation_seed": VALIDATION_SEED,
        "dice": dict(zip(info.classes, dice, strict=True)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(args.out, network, info)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {minutes:.1f} min")


if __name__ == "__main__":
    main()
