"""A 200-step fine-tune of the bundled model on the sample dataset (patch 128², batch 8).

Targets (fine-tuning issue): it finishes in ≤ 3 min on 2 CPU cores, and data loading never
leaves the model waiting more than 10 % of the time (measured: the time spent drawing
batches against the whole run). Validation every 50 steps is included in the total.
Run: ``python benchmarks/bench_finetune.py``. Exits 1 if a target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model import finetune as tuning
from segviewer.core.model.registry import open_model

TARGET_S, WAIT_TARGET = 180.0, 0.10


def main() -> int:
    torch.set_num_threads(2)
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    waiting = []
    draw = tuning.patches

    def timed_patches(*args):
        batches = draw(*args)
        while True:
            start = time.perf_counter()
            batch = next(batches)
            waiting.append(time.perf_counter() - start)
            yield batch

    tuning.patches = timed_patches
    settings = tuning.FinetuneSettings(steps=200, batch=8, patch=(128, 128))
    start = time.perf_counter()
    train, validation = tuning.split(samples, settings.validation_fraction, settings.seed)
    result = tuning.finetune(open_model("bundled"), train, validation, settings)
    total = time.perf_counter() - start
    share = sum(waiting) / total
    print(
        f"200 steps, batch 8, patch 128², dicece: {total:.0f} s (target ≤ {TARGET_S:.0f} s); "
        f"data loading {sum(waiting):.1f} s = {share:.1%} of the run (target ≤ {WAIT_TARGET:.0%}); "
        f"validation Dice {np.round(dict(result.validation)[result.best_step], 3).tolist()}"
    )
    ok = total <= TARGET_S and share <= WAIT_TARGET
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
