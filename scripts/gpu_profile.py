"""Where a CUDA fine-tune step spends its time: the floor of a bare step (fixed batch on
the GPU, forward, loss, backward, Adam) against the full fine-tune, and torch's profiler's
top operators over 30 steps of it. Run once on a GPU machine by ``scripts/gpu_checks.sh``."""

from __future__ import annotations

import sys
import time

import torch

sys.path.insert(0, "benchmarks")
from bench_gpu_inference import bundled

from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.model import finetune as tuning
from segviewer.core.model.losses import LossSettings, make_loss


def bare_steps(steps: int = 100) -> float:
    """Milliseconds per training step with the batch already on the GPU."""
    network = bundled().network.cuda().train()
    loss_function = make_loss(LossSettings("dicece"), torch.ones(3).cuda())
    optimizer = torch.optim.Adam(network.parameters(), 1e-4, fused=True)
    x = torch.randn(8, 1, 128, 128, device="cuda")
    y = torch.randint(0, 3, (8, 1, 128, 128), device="cuda")
    for step in range(steps + 10):
        if step == 10:
            torch.cuda.synchronize()
            start = time.perf_counter()
        loss = loss_function(network(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    torch.backends.cudnn.benchmark = True
    print(f"bare step (batch on the GPU): {bare_steps():.2f} ms")
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    train, validation = tuning.split(samples, 0.25, 0)
    settings = tuning.FinetuneSettings(steps=30, validate_every=1000)
    tuning.finetune(bundled(), train, validation, settings, "cuda")  # warm-up
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as profile:
        start = time.perf_counter()
        tuning.finetune(bundled(), train, validation, settings, "cuda")
        torch.cuda.synchronize()
    print(f"full fine-tune, 30 steps + 2 validations: {time.perf_counter() - start:.2f} s")
    table = profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=22)
    print(table)


if __name__ == "__main__":
    main()
