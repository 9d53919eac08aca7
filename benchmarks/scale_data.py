"""A generated dataset of 10,000 samples of 256² in a PNG folder (cached in /tmp): 50
synthetic samples, each written once and copied under 200 names."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from segviewer.core.data.synthetic import make_sample
from segviewer.core.io.writers import save_samples

FOLDER = Path("/tmp/segviewer-bench/png-10k")
COUNT, DISTINCT, SHAPE = 10_000, 50, (256, 256)


def dataset_10k() -> Path:
    if (FOLDER / "classes.txt").exists() and len(list((FOLDER / "images").iterdir())) == COUNT:
        return FOLDER
    shutil.rmtree(FOLDER, ignore_errors=True)
    rng = np.random.default_rng(0)
    bases = [make_sample(rng, SHAPE, f"base_{i:02d}") for i in range(DISTINCT)]
    seed = FOLDER.with_name("seed")
    shutil.rmtree(seed, ignore_errors=True)
    save_samples(bases, seed, "masks")
    for sub in ("images", "masks/cell", "masks/spot"):
        (FOLDER / sub).mkdir(parents=True)
    shutil.copyfile(seed / "classes.txt", FOLDER / "classes.txt")
    for i in range(COUNT):
        base = f"base_{i % DISTINCT:02d}.png"
        for sub in ("images", "masks/cell", "masks/spot"):
            shutil.copyfile(seed / sub / base, FOLDER / sub / f"s{i:05d}.png")
    return FOLDER


if __name__ == "__main__":
    print(dataset_10k())
