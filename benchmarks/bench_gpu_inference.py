"""GPU inference of the bundled 2D model: MONAI's sliding window against segviewer's stream.

Target (big-images issue): ≥ 250 Mpx/s on an 8192² image on an H100/H200, with ≥ 99.99 %
of the labels equal to fp32 (MONAI's Gaussian-blended fp32 output, which segviewer's fp32
reproduces), printed beside MONAI in the same run on the same GPU. Every figure is from a
host image to host uint8 labels; MONAI is handed its input already normalised on the GPU
(in its favour). ``--big 32768`` adds a 1-gigapixel run of segviewer alone, with its peak
GPU and host memory. Run: ``python benchmarks/bench_gpu_inference.py``; exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import torch

from segviewer.core.data.synthetic import make_sample
from segviewer.core.model import sliding
from segviewer.core.model.inference import OVERLAP, predict_labels
from segviewer.core.model.sliding import Normalizer

TARGET_MPX, TARGET_EQUAL = 250.0, 0.9999


def bundled():
    """The bundled model, also where segviewer is on the path but not installed."""
    try:
        from segviewer.core.model.registry import open_model

        return open_model("bundled")
    except Exception:
        sys.path.insert(0, "plugins")
        from segviewer_bundled import load

        return load()


def image_of(size: int) -> np.ndarray:
    """A synthetic image of size² (a 2048² sample tiled)."""
    tile = make_sample(np.random.default_rng(8), (2048, 2048), "big").image
    return np.tile(tile, (size // 2048, size // 2048))


def timed(function, repeats: int = 3):
    """(best seconds, last result) after one warm-up run."""
    result = function()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        result = function()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times), result


def monai_labels(model, data, batch: int, mode: str, dtype) -> np.ndarray:
    from monai.inferers import sliding_window_inference

    window = tuple(model.info.window)
    with (
        torch.inference_mode(),
        torch.autocast("cuda", dtype or torch.float32, enabled=dtype is not None),
    ):
        logits = sliding_window_inference(
            data, window, batch, model.network, overlap=OVERLAP, mode=mode
        )
    return logits[0].argmax(0).to(torch.uint8).cpu().numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--big", type=int, default=0, help="also a SIZE² run (e.g. 32768)")
    parser.add_argument("--quick", action="store_true", help="leave out MONAI's slow defaults")
    args = parser.parse_args()
    model = bundled()
    model.network.to("cuda").eval()
    image = image_of(args.size)
    pixels = image.size / 1e6
    print(
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, image {image.shape} "
        f"{image.dtype}, window {model.info.window}, overlap {OVERLAP}"
    )
    norm = Normalizer.of(image, None, model.info.normalization)
    data = norm.apply(torch.from_numpy(image[None].astype(np.float32)).cuda())[None]
    rows = []

    def run_monai(label, batch, mode, dtype, repeats=3):
        seconds, labels = timed(lambda: monai_labels(model, data, batch, mode, dtype), repeats)
        rows.append((label, seconds, labels))

    if not args.quick:
        run_monai(
            "MONAI defaults (sw_batch_size 1, constant blending, fp32)", 1, "constant", None, 1
        )
    run_monai("MONAI, batch 4, gaussian, fp32 (segviewer's earlier use)", 4, "gaussian", None)
    run_monai("MONAI, batch 128, gaussian, fp16 autocast", 128, "gaussian", torch.float16)
    reference = monai_labels(model, data, 128, "gaussian", None)
    default_search = sliding.CUDNN_BENCHMARK
    sliding.CUDNN_BENCHMARK = not default_search
    seconds, labels = timed(lambda: predict_labels(model, image, None, "cuda", "fp16"))
    with_or_without = "without" if default_search else "with"
    rows.append((f"  fp16 {with_or_without} cuDNN's algorithm search", seconds, labels))
    sliding.CUDNN_BENCHMARK = default_search
    for precision in ("fp32", "bf16", "fp16"):
        seconds, labels = timed(lambda p=precision: predict_labels(model, image, None, "cuda", p))
        rows.append((f"segviewer stream, {precision}", seconds, labels))
    data = None  # frees the GPU copy
    print(f"{'run':<62} {'s':>6} {'Mpx/s':>7} {'= fp32':>9}")
    for label, seconds, labels in rows:
        equal = float((labels == reference).mean())
        print(f"{label:<62} {seconds:6.3f} {pixels / seconds:7.1f} {equal:9.5%}")
    ours = rows[-1]
    monai_fp16 = next(r[1] for r in rows if r[0].startswith("MONAI, batch 128"))
    speed, equal = pixels / ours[1], float((ours[2] == reference).mean())
    ok = speed >= TARGET_MPX and equal >= TARGET_EQUAL
    print(
        f"segviewer fp16 (the CUDA default): {speed:.0f} Mpx/s (target ≥ {TARGET_MPX:.0f}), "
        f"{equal:.4%} labels equal to fp32 (target ≥ {TARGET_EQUAL:.2%}); "
        f"{speed / (pixels / monai_fp16):.2f}× MONAI batch 128 fp16"
    )
    if args.big:
        del rows, reference
        big = image_of(args.big)
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        labels = predict_labels(model, big, None, "cuda", "fp16")
        seconds = time.perf_counter() - start
        print(
            f"{args.big}² ({big.size / 1e9:.2f} Gpx, {big.dtype}): {seconds:.1f} s, "
            f"{big.size / 1e6 / seconds:.0f} Mpx/s, peak GPU memory "
            f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB, host peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB "
            f"(image {big.nbytes / 2**30:.1f} GiB + labels {labels.nbytes / 2**30:.1f} GiB)"
        )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
