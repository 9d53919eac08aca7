"""Train the bundled 3D model on synthetic volumes, reproducibly, on 2 CPU cores.

    .venv/bin/python scripts/train_bundled_3d.py [--steps N] [--out FILE]

Data: 3D samples of segviewer's generator (the sample data's classes: cell, spot), 16
volumes of 48×96×96 voxels from seeds 1-4; validation on 4 volumes of seed 99, never used
in training. Targets are exclusive labels (0 background, 1 cell, 2 spot; a conflict voxel
goes to spot, the rare class). Patches are segviewer's own (core.finetune: flips, in-plane
rotations, a third of the patches centred on a foreground voxel), 32×64×64, batch 4.
Network: MONAI BasicUNet 3D, features (16, 16, 32, 48, 64, 16), ~0.68 M parameters
(2.7 MB). Loss: MONAI DiceCELoss; Adam with a cosine learning-rate decay.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from monai.losses import DiceCELoss

from segviewer.core.data.synthetic import CLASS_NAMES, make_sample
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

TRAIN_SEEDS, VALIDATION_SEED, TORCH_SEED = (1, 2, 3, 4), 99, 0
SHAPE, PATCH, BATCH = (48, 96, 96), (32, 64, 64), 4
FEATURES = [16, 16, 32, 48, 64, 16]
OUT = Path(__file__).resolve().parents[1] / "plugins" / "segviewer_bundled"
OUT = OUT / "bundled_3d.safetensors"


def volumes(seed: int, count: int = 4):
    """``count`` synthetic volumes of the generator, seeded."""
    rng = np.random.default_rng(seed)
    return [make_sample(rng, SHAPE, f"volume_{seed}_{i}") for i in range(count)]


def training_data(info: ModelInfo):
    """Normalised volumes and exclusive labels (conflicts resolved in favour of spot)."""
    samples = [s for seed in TRAIN_SEEDS for s in volumes(seed)]
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    return [normalize_image(s.image, info, None) for s in samples], [
        training_labels(s) for s in samples
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.manual_seed(TORCH_SEED)
    torch.set_num_threads(2)
    lr = 3e-3
    info = ModelInfo(
        name="bundled-3d",
        classes=["background", *CLASS_NAMES],
        spatial_dims=3,
        architecture={"name": "BasicUNet", "features": FEATURES},
        window=list(PATCH),
    )
    images, labels = training_data(info)
    network = build_network(info)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    rng = np.random.default_rng(TORCH_SEED)
    data = patches(images, labels, PATCH, BATCH, rng, foreground=0.33)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = next(data)
        loss = loss_function(network(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0:
            print(f"step {step}: loss {loss.item():.4f} ({time.perf_counter() - start:.0f} s)")
    dice = validation_dice(LoadedModel(info, network), volumes(VALIDATION_SEED), "cpu")
    minutes = (time.perf_counter() - start) / 60
    print(
        f"validation Dice (seed {VALIDATION_SEED}): "
        + ", ".join(f"{name} {d:.3f}" for name, d in zip(info.classes, dice, strict=True))
    )
    info.training = {
        "data": f"segviewer generator, seeds {list(TRAIN_SEEDS)}, 4 volumes of "
        f"{'×'.join(map(str, SHAPE))} each",
        "targets": "exclusive labels; conflict voxels go to the later class (spot)",
        "loss": "monai DiceCELoss(to_onehot_y=True, softmax=True)",
        "optimizer": f"Adam lr {lr}, cosine decay",
        "steps": args.steps,
        "batch": BATCH,
        "patch": list(PATCH),
        "augmentation": "flips, in-plane 90° rotations, 1/3 of patches on foreground",
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
