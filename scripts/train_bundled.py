"""Train the bundled model on synthetic data, reproducibly, in minutes on 2 CPU cores.

    .venv/bin/python scripts/train_bundled.py [--steps N] [--out FILE]

Data: 2D samples of segviewer's generator with seeds 1-6 (48 images); validation on seed
99, never used in training. Targets are exclusive labels (0 background, 1 cell, 2 spot;
a conflict pixel goes to spot, the rare class). Network: MONAI BasicUNet, features
(16, 16, 32, 64, 128, 16), ~0.5 M parameters. Loss: MONAI DiceCELoss on random 128² crops
with flips and 90° rotations, batch 8, Adam with a cosine learning-rate decay.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from monai.inferers import sliding_window_inference
from monai.losses import DiceCELoss
from monai.metrics import DiceMetric

from segviewer.core.models import ModelInfo, build_network, normalize_image, save_model
from segviewer.core.synthetic import CLASS_NAMES, make_dataset_samples

TRAIN_SEEDS, VALIDATION_SEED, TORCH_SEED = (1, 2, 3, 4, 5, 6), 99, 0
OUT = Path(__file__).resolve().parents[1] / "plugins" / "segviewer_bundled" / "bundled.safetensors"


def exclusive_labels(masks: np.ndarray) -> np.ndarray:
    """0 background, c + 1 for class c; later classes win conflicts (spot over cell)."""
    labels = np.zeros(masks.shape[1:], np.int64)
    for c, mask in enumerate(masks):
        labels[mask > 0] = c + 1
    return labels


def load(seeds, info: ModelInfo):
    samples = [s for seed in seeds for s in make_dataset_samples(seed, count=8, volumes=0)]
    images = [normalize_image(s.image, info, None) for s in samples]
    return samples, images, [exclusive_labels(s.masks) for s in samples]


def batches(images, labels, patch: int, batch: int, rng: np.random.Generator):
    while True:
        xs, ys = [], []
        for index in rng.integers(0, len(images), batch):
            image, label = images[index], labels[index]
            y0 = rng.integers(0, label.shape[0] - patch + 1)
            x0 = rng.integers(0, label.shape[1] - patch + 1)
            x = image[:, y0 : y0 + patch, x0 : x0 + patch]
            y = label[None, y0 : y0 + patch, x0 : x0 + patch]
            k = int(rng.integers(4))
            x, y = np.rot90(x, k, (1, 2)), np.rot90(y, k, (1, 2))
            if rng.integers(2):
                x, y = x[:, ::-1], y[:, ::-1]
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        yield torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def validation_dice(network, samples, images, info: ModelInfo) -> list[float]:
    """Per-class Dice (background first), MONAI DiceMetric, ground truth channel by channel."""
    metric = DiceMetric(include_background=True, reduction="mean_batch", ignore_empty=True)
    network.eval()
    with torch.no_grad():
        for sample, image in zip(samples, images, strict=True):
            logits = sliding_window_inference(
                torch.from_numpy(image)[None],
                info.window,
                4,
                network,
                overlap=0.25,
                mode="gaussian",
            )
            predicted = torch.nn.functional.one_hot(logits.argmax(1), len(info.classes))
            predicted = predicted.movedim(-1, 1)
            truth = np.concatenate([(sample.masks.sum(0) == 0)[None], sample.masks > 0])
            metric(predicted, torch.from_numpy(truth[None]).to(predicted.dtype))
    network.train()
    return [float(d) for d in metric.aggregate()]


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
    _, images, labels = load(TRAIN_SEEDS, info)
    val_samples, val_images, _ = load([VALIDATION_SEED], info)
    network = build_network(info)
    loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    data = batches(images, labels, patch, batch, np.random.default_rng(TORCH_SEED))
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
    dice = validation_dice(network, val_samples, val_images, info)
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
