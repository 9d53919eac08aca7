"""A 200-step fine-tune in a fresh process: the GPU's first run against the CPU's.

``bench_finetune_gpu.py`` times a warm process. A user's ``segviewer finetune`` is a cold
one: cuDNN's algorithm search, CUDA graph capture and lazy module loading are paid inside
the run. Each configuration here runs in its own process (the settings of
``bench_finetune.py``: the sample dataset, batch 8, patch 128², dicece, validation every 50
steps included); the time is that of ``finetune()`` after the CUDA context exists (the CPU
run likewise starts after torch is imported). Configurations: training the GroupNorm twin
(core/model/streamline.py) or MONAI's InstanceNorm network itself, eagerly or with CUDA
graphs, cuDNN's algorithm search on or off.

Run on a CUDA machine: ``python benchmarks/bench_finetune_gpu_cold.py``; exits 1 when the
default configuration is under 6× the CPU run on every core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

TARGET_RATIO = 6.0
CONFIGS = {  # name: (network trained, CUDA graphs, cuDNN's algorithm search)
    "segviewer default (GroupNorm twin, graphs, no search)": ("group", True, False),
    "the same, again (a second fresh process)": ("group", True, False),
    "GroupNorm twin, eager, no search": ("group", False, False),
    "MONAI's InstanceNorm, graphs, no search": ("instance", True, False),
    "MONAI's InstanceNorm, eager, cuDNN search (before)": ("instance", False, True),
}


def child(device: str, norm: str, graphed: bool, search: bool) -> dict:
    """One fine-tune in this process; its times as a dict."""
    start = time.perf_counter()
    import torch

    from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
    from segviewer.core.editing.rules import resolve_sample
    from segviewer.core.model import finetune as tuning
    from segviewer.core.model import sliding

    sys.path.insert(0, os.path.dirname(__file__))
    from bench_gpu_inference import bundled

    imported = time.perf_counter()
    if device == "cuda":
        torch.zeros(1, device="cuda")
        torch.cuda.synchronize()
    else:
        torch.set_num_threads(os.cpu_count() or 1)
    context = time.perf_counter()
    samples = make_dataset_samples(DEFAULT_SEED, count=8, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    settings = tuning.FinetuneSettings(steps=200, batch=8, patch=(128, 128))
    train, validation = tuning.split(samples, settings.validation_fraction, settings.seed)
    model = bundled()
    tuning.STREAMLINE = norm == "group"
    tuning.GRAPH_STEPS = 0 if graphed else 10**9
    tuning.CUDNN_BENCHMARK = sliding.CUDNN_BENCHMARK = search
    spent = {"validation": 0.0, "capture": 0.0}
    tuning.validation_dice = _timing(tuning.validation_dice, spent, "validation", device)
    tuning._graphed = _timing(tuning._graphed, spent, "capture", device)
    began = time.perf_counter()
    result = tuning.finetune(model, train, validation, settings, device)
    if device == "cuda":
        torch.cuda.synchronize()
    done = time.perf_counter()
    dice = [round(d, 3) for d in dict(result.validation)[result.best_step]]
    return {
        "imports": imported - start,
        "context": context - imported,
        "finetune": done - began,
        **spent,
        "dice": dice,
    }


def _timing(function, spent: dict, name: str, device: str):
    """``function``, adding its time (GPU work included) to ``spent[name]``."""
    import torch

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            if device == "cuda":
                torch.cuda.synchronize()
            spent[name] += time.perf_counter() - start

    return timed


def run_child(device: str, config: tuple) -> dict:
    norm, graphed, search = config
    command = [sys.executable, __file__, "--child", device, norm, str(graphed), str(search)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["?"]}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process"] = time.perf_counter() - start
    return figures


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        device, norm, graphed, search = sys.argv[2:6]
        print(json.dumps(child(device, norm, graphed == "True", search == "True")))
        return 0
    cores = os.cpu_count() or 1
    cpu = run_child("cpu", next(iter(CONFIGS.values())))
    print(f"CPU, {cores} threads, the default: {cpu}", flush=True)
    print(
        f"{'GPU configuration (a fresh process each)':<52} {'fine-tune s':>11} "
        f"{'process s':>9} {'× CPU':>6}  Dice"
    )
    ratios = {}
    for name, config in CONFIGS.items():
        figures = run_child("cuda", config)
        if "error" in figures:
            print(f"{name:<52} failed: {figures['error']}", flush=True)
            continue
        ratios[name] = cpu["finetune"] / figures["finetune"]
        print(
            f"{name:<52} {figures['finetune']:11.2f} {figures['process']:9.1f} "
            f"{ratios[name]:6.1f}  {figures['dice']} (validation "
            f"{figures['validation']:.2f} s, graph capture {figures['capture']:.2f} s)",
            flush=True,
        )
    default = next(iter(CONFIGS))
    ratio = ratios.get(default, 0.0)
    print(
        f"cold 200-step fine-tune: GPU default {ratio:.1f}× the CPU's {cpu['finetune']:.1f} s "
        f"on {cores} threads (target ≥ {TARGET_RATIO:.0f}×)"
    )
    print("PASS" if ratio >= TARGET_RATIO else "FAIL")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
