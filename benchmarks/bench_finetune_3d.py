"""A 200-step 3D fine-tune (patch 64³, batch 2) of the bundled 3D model on synthetic volumes.

Target (3D training issue): ≤ 5 min on 2 CPU cores (with bf16 mixed precision; the fp32 run
is printed beside it); on a CUDA GPU, the speed-up over the CPU run is printed
(``--device cuda``). Validation every 50 steps on one held-out volume is
included. Run: ``python benchmarks/bench_finetune_3d.py [--device cuda]``; exits 1 if the
CPU target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from segviewer.core.data.synthetic import make_sample
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model.finetune import FinetuneSettings, finetune
from segviewer.core.model.registry import open_model

TARGET_S = 300.0


def volumes(seed: int, count: int) -> list:
    rng = np.random.default_rng(seed)
    samples = [make_sample(rng, (64, 96, 96), f"vol_{seed}_{i}") for i in range(count)]
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    return samples


def run(device: str, precision: str = "fp32") -> tuple[float, list]:
    model = open_model("bundled").volume_model
    settings = FinetuneSettings(
        steps=200, batch=2, patch=(64, 64, 64), lr=1e-4, precision=precision
    )
    start = time.perf_counter()
    result = finetune(model, volumes(1, 4), volumes(2, 1), settings, device)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, dict(result.validation)[result.best_step]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(2 if args.device == "cpu" else torch.get_num_threads())
    if args.device == "cpu":
        full, full_dice = run("cpu")
        print(f"fp32: {full:.0f} s; validation Dice {np.round(full_dice, 3).tolist()}")
    seconds, dice = run(args.device, "bf16")
    print(
        f"200 steps, batch 2, patch 64³, dicece, bf16 autocast, on {args.device}: "
        f"{seconds:.0f} s (CPU target ≤ {TARGET_S:.0f} s); validation Dice "
        f"{np.round(dice, 3).tolist()}"
    )
    if args.device == "cuda":
        torch.set_num_threads(2)
        cpu, _ = run("cpu", "bf16")
        print(f"same run on 2 CPU threads: {cpu:.0f} s; GPU speed-up {cpu / seconds:.1f}×")
        return 0
    ok = seconds <= TARGET_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
