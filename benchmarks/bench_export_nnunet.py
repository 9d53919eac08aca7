"""nnU-Net export of 100 synthetic volumes against writing the same files with nibabel alone.

Target (3D training issue): the export (reading the samples, finding the label scheme,
encoding the labels and writing images, labels and dataset.json) takes ≤ 2× the time
nibabel needs to write the same images and label images. The volumes (48×96×96, 2 classes
with overlaps) are saved once as a dataset folder and read back by both runs.
Run: ``python benchmarks/bench_export_nnunet.py``; exits 1 if the target is missed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nibabel
import numpy as np

from segviewer.core.data.synthetic import make_sample
from segviewer.core.io.nnunet import export_nnunet
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples

COUNT, SHAPE, TARGET = 100, (48, 96, 96), 2.0


def nibabel_only(folder: Path, out: Path) -> float:
    """Read each sample (the same reader) and write its image and hand-made labels with
    nibabel."""
    out.mkdir()
    start = time.perf_counter()
    for sample in open_dataset(folder):
        image, masks = sample.image, sample.masks
        labels = np.zeros(image.shape, np.uint8)  # the labels a user would write by hand
        labels[masks[0] > 0] = 1
        labels[masks[1] > 0] = 2
        labels[(masks[0] > 0) & (masks[1] > 0)] = 3
        name = sample.name
        nibabel.save(nibabel.Nifti1Image(image, np.eye(4)), out / f"{name}_0000.nii.gz")
        nibabel.save(nibabel.Nifti1Image(labels, np.eye(4)), out / f"{name}.nii.gz")
    return time.perf_counter() - start


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="segviewer-bench-export-"))
    try:
        rng = np.random.default_rng(0)
        samples = [make_sample(rng, SHAPE, f"vol_{i:03d}") for i in range(COUNT)]
        save_samples(samples, root / "data", "masks")
        baseline = nibabel_only(root / "data", root / "plain")
        start = time.perf_counter()
        export_nnunet(open_dataset(root / "data"), root / "raw", 1, "bench")
        export = time.perf_counter() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ratio = export / baseline
    print(
        f"{COUNT} volumes of {'×'.join(map(str, SHAPE))}: nnU-Net export {export:.1f} s, "
        f"nibabel alone {baseline:.1f} s: {ratio:.2f}× (target ≤ {TARGET:.0f}×)"
    )
    print("PASS" if ratio <= TARGET else "FAIL")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
