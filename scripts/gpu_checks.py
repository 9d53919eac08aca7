"""Checks that need CUDA, run once on a GPU machine by ``scripts/gpu_checks.sh``: the
streamed inference gives the CPU's labels on 2D, 3D and odd-sized images, and a short
fine-tune runs on the GPU (fp32 and bf16) and reports its losses."""

from __future__ import annotations

import sys

import numpy as np

sys.path.insert(0, "benchmarks")
from bench_gpu_inference import bundled

from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples, make_sample
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model import finetune as tuning
from segviewer.core.model.inference import predict, predict_labels


def main() -> int:
    model = bundled()
    failures = 0
    for shape in [(1000, 1300), (20, 45), (24, 70, 90)]:
        image = make_sample(np.random.default_rng(5), shape, "x").image
        cpu = predict(model, image, None, "cpu", precision="fp32")
        gpu = predict(model, image, None, "cuda", precision="fp32")
        half = predict_labels(model, image, None, "cuda")
        same = float((cpu.argmax(0) == gpu.argmax(0)).mean())
        same_half = float((cpu.argmax(0) == half).mean())
        diff = float(np.abs(cpu - gpu).max())
        print(
            f"{shape}: fp32 CUDA vs CPU labels {same:.5%} equal, max |Δp| {diff:.1e}; "
            f"fp16 CUDA {same_half:.5%} equal"
        )
        failures += same < 0.9999 or same_half < 0.999
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    train, validation = tuning.split(samples, 0.25, 0)
    for precision in ("fp32", "bf16"):
        settings = tuning.FinetuneSettings(steps=60, validate_every=30, precision=precision)
        seen = []
        result = tuning.finetune(
            bundled(),
            train,
            validation,
            settings,
            "cuda",
            progress=lambda step, loss, seen=seen: seen.append(step),
        )
        print(
            f"fine-tune {precision} on CUDA: {len(result.losses)} losses, steps reported "
            f"{seen[:3]}…{seen[-2:]}, first {result.losses[0]:.3f} last "
            f"{result.losses[-1]:.3f}, stopped {result.stopped}, Dice "
            f"{np.round(dict(result.validation)[result.best_step], 3).tolist()}"
        )
        failures += len(result.losses) != 60 or seen != list(range(1, 61))
    print("PASS" if not failures else f"FAIL ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
