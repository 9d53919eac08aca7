"""A 200-step fine-tune of the bundled model on the GPU against the CPU, in one run.

Target (big-images issue): at the settings of ``bench_finetune.py`` (the sample dataset,
batch 8, patch 128², dicece, validation every 50 steps included) the GPU run is ≥ 6× faster
than the same run on every CPU core of the machine. Run on a machine with CUDA:
``python benchmarks/bench_finetune_gpu.py`` (``--gpu-only``: leave out the CPU run).
Exits 1 if the target is missed.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model import finetune as tuning

sys.path.insert(0, os.path.dirname(__file__))
from bench_gpu_inference import bundled

TARGET_RATIO = 6.0


SPENT = {"validation": 0.0, "data": 0.0}


def timing(name: str, function):
    """``function``, adding the time spent in it to SPENT[name]."""

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name] += time.perf_counter() - start

    return timed


def run(device: str, precision: str = "fp32") -> tuple[float, list]:
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    settings = tuning.FinetuneSettings(steps=200, batch=8, patch=(128, 128), precision=precision)
    train, validation = tuning.split(samples, settings.validation_fraction, settings.seed)
    model = bundled()
    if device == "cuda":
        torch.cuda.synchronize()
    SPENT.update(validation=0.0, data=0.0)
    start = time.perf_counter()
    result = tuning.finetune(model, train, validation, settings, device)
    if device == "cuda":
        torch.cuda.synchronize()
    dice = dict(result.validation)[result.best_step]
    total = time.perf_counter() - start
    print(
        f"  {device} {precision}: {total:.2f} s, of which validation "
        f"{SPENT['validation']:.2f} s and waiting for batches {SPENT['data']:.2f} s"
    )
    return total, np.round(dice, 3).tolist()


def main() -> int:
    skip_cpu = "--gpu-only" in sys.argv
    tuning.GRAPH_STEPS = 0  # a warm process: the graphs' one-time capture is paid already
    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    tuning.validation_dice = timing("validation", tuning.validation_dice)
    tuning.Prefetched.__next__ = timing("data", tuning.Prefetched.__next__)
    run("cuda")  # warm-up: CUDA context, cuDNN's algorithm search, graph capture
    gpu, gpu_dice = run("cuda")
    print(f"{torch.cuda.get_device_name()} fp32: {gpu:.1f} s, Dice {gpu_dice}")
    if skip_cpu:
        return 0
    run("cuda", "bf16")
    gpu_bf16, bf16_dice = run("cuda", "bf16")
    cpu, cpu_dice = run("cpu")
    ratio = cpu / gpu
    print(
        f"200 steps, batch 8, patch 128², validation included: CPU ({cores} threads) "
        f"{cpu:.1f} s, Dice {cpu_dice}; GPU fp32 {gpu:.1f} s; bf16 {gpu_bf16:.1f} s, "
        f"Dice {bf16_dice}"
    )
    bf16_ratio = cpu / gpu_bf16
    print(f"GPU fp32 {ratio:.1f}× the CPU (target ≥ {TARGET_RATIO:.0f}×); bf16 {bf16_ratio:.1f}×")
    ok = ratio >= TARGET_RATIO
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
