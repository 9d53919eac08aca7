"""Seeded synthetic scenes with a known answer to every conflict: objects that hide others.

Objects (ellipses, or ellipsoids in 3D) of several classes are drawn back to front in a
fixed order of the classes. Each class's mask is the full shape of its objects, as an
annotator who outlines whole objects draws them, so the masks overlap where one object
hides another; the truth at such a pixel is the class in front. One consistent order of
the classes explains every conflict, which is what the ``learned`` rule should find.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segviewer.core.data.sample import Sample

OCCLUSION_CLASSES = ("fruit", "insect", "label", "leaf", "stem")
OCCLUSION_DEPTH = ("leaf", "fruit", "stem", "label", "insect")  # back to front


def occlusion_sample(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    name: str,
    class_names: Sequence[str] = OCCLUSION_CLASSES,
    depth: Sequence[str] = OCCLUSION_DEPTH,
    objects: int = 14,
) -> tuple[Sample, np.ndarray]:
    """A sample of ``class_names`` drawn in the order ``depth`` (back to front), and its
    true exclusive labels (0 background, 1 + the class index of the visible object)."""
    class_names = [str(n) for n in class_names]
    masks = np.zeros((len(class_names), *shape), np.uint8)
    truth = np.zeros(shape, np.uint8)
    grid = np.indices(shape, dtype=np.float32)
    drawn = rng.choice([class_names.index(n) for n in depth], objects)
    rank = {class_names.index(n): i for i, n in enumerate(depth)}
    for c in sorted(drawn.tolist(), key=rank.__getitem__):  # back to front
        inside = _ellipsoid(rng, grid, shape)
        masks[c][inside] = 1
        truth[inside] = c + 1
    shades = np.linspace(0.2, 1.0, len(class_names) + 1)
    image = 220 * shades[truth] + 10 * rng.standard_normal(shape)
    return Sample(name, image.clip(0, 255).astype(np.uint8), masks, class_names), truth


def _ellipsoid(rng: np.random.Generator, grid: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    size = min(shape)
    centre = [rng.uniform(0.1 * n, 0.9 * n) for n in shape]
    radii = rng.uniform(0.08 * size, 0.25 * size, len(shape))
    rotation, _ = np.linalg.qr(rng.standard_normal((len(shape), len(shape))))
    offsets = np.stack([g - c for g, c in zip(grid, centre, strict=True)])
    local = np.tensordot(rotation.T, offsets, axes=1)
    scaled = local / radii.reshape((-1,) + (1,) * len(shape))
    return (scaled**2).sum(axis=0) < 1
