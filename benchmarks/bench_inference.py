"""Tiled inference of the bundled model on a 2048×2048 image against MONAI.

Target (model issue): segviewer's tiled inference runs at least as fast as MONAI's
``sliding_window_inference`` with the same network, window (256²), overlap (0.25) and
blending, and gives the same output (≤ 1e-5). Both are timed in one run on the same
normalised image. Run: ``python benchmarks/bench_inference.py``. Exits 1 if a target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from monai.inferers import sliding_window_inference

from segviewer.core.data.synthetic import make_sample
from segviewer.core.model.inference import OVERLAP, predict
from segviewer.core.model.registry import open_model


def best(function, repeats: int = 2):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    torch.set_num_threads(2)
    model = open_model("bundled")
    image = make_sample(np.random.default_rng(8), (2048, 2048), "big").image
    window = tuple(model.info.window)

    def monai() -> np.ndarray:
        data = torch.from_numpy(model.prepare(image, None))[None]
        with torch.inference_mode():
            logits = sliding_window_inference(
                data, window, 4, model.network, overlap=OVERLAP, mode="gaussian"
            )
        return torch.softmax(logits, 1)[0].numpy()

    baseline, expected = best(monai)
    ours, got = best(lambda: predict(model, image, None))
    difference = float(np.abs(got - expected).max())
    ratio = ours / baseline
    print(
        f"2048² image, window {window}, overlap {OVERLAP}: MONAI {baseline:.1f} s, segviewer "
        f"{ours:.1f} s, ratio {ratio:.2f} (target ≤ 1, 5 % allowed for timing noise); "
        f"max |difference| {difference:.1e} (target ≤ 1e-5)"
    )
    ok = ratio <= 1.05 and difference <= 1e-5
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
