"""Seeded synthetic data with six overlapping classes, for trying the plugin on many classes.

Each sample is a fluorescence-like image of cells with their organelles and a lesion:

- ``cytoplasm``: the cell bodies, less the inside of the nucleus (the largest class);
- ``nucleus``: one per cell; its annotation overlaps the cytoplasm's by a thin rim;
- ``membrane``: a band across each cell border, overlapping the cytoplasm on its inner side;
- ``mitochondrion``: short rods in the cytoplasm, some touching the nucleus or the membrane;
- ``vesicle``: small bright dots, many on the membrane, some in the cytoplasm or outside;
- ``lesion``: one or two large irregular blobs over several cells, so it overlaps every
  other class (the largest overlap: lesion with cytoplasm).

On top of that, a couple of stray annotations of a few pixels (a mitochondrion speck inside
a nucleus, a vesicle speck on a mitochondrion) make rare combinations. Together they give
pairs, triples and quadruples of classes of very different sizes. No background channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.data.sample import Sample, Source
from segviewer.core.data.synthetic import (
    DEFAULT_SEED,
    _border_points,
    _ellipsoid_masks,
    _smooth_noise,
    _vignette,
)

MANY_CLASS_NAMES = ["nucleus", "cytoplasm", "membrane", "mitochondrion", "vesicle", "lesion"]
MANY_SEED = DEFAULT_SEED


def _points_in(rng: np.random.Generator, region: np.ndarray, count: int) -> np.ndarray:
    """``count`` random pixel coordinates inside ``region`` (none if it is empty)."""
    points = np.argwhere(region)
    if len(points) == 0 or count <= 0:
        return np.empty((0, region.ndim))
    return points[rng.integers(0, len(points), count)].astype(float)


def _rods(
    rng: np.random.Generator, shape: tuple[int, ...], starts: np.ndarray, radius: float
) -> np.ndarray:
    """Short rods: a chain of three small ellipsoids from each start in a random direction."""
    if len(starts) == 0:
        return np.zeros(shape, bool)
    directions = rng.standard_normal(starts.shape)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    step = 1.4 * radius
    centres = np.concatenate([starts + k * step * directions for k in range(3)])
    radii = np.full(len(centres), radius) * rng.uniform(0.85, 1.15, len(centres))
    return _ellipsoid_masks(rng, shape, centres, radii, np.zeros(shape))


def _specks(shape: tuple[int, ...], points: np.ndarray) -> np.ndarray:
    """Stray annotations of a handful of pixels: a cross (2D) or a small ball (3D)."""
    out = np.zeros(shape, bool)
    cross = ndi.generate_binary_structure(len(shape), 1)
    for point in points.astype(int):
        box = tuple(slice(p - 1, p + 2) for p in point)
        if all(0 < p < n - 1 for p, n in zip(point, shape, strict=True)):
            out[box] |= cross
    return out


def make_many_sample(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    name: str,
    absent: Sequence[str] = (),
) -> Sample:
    """One synthetic sample with the six classes of ``MANY_CLASS_NAMES`` (2D or 3D).

    Classes named in ``absent`` are left out: their masks are empty and the image does not
    show them.
    """
    unknown = set(absent) - set(MANY_CLASS_NAMES)
    if unknown:
        raise ValueError(f"unknown classes: {sorted(unknown)}")
    ndim, size = len(shape), np.array(shape, float)
    flat = ndim == 2
    cell_radius = 26.0 if flat else 13.0
    band = 3 if flat else 2  # the membrane's inner width

    # Cells, their nuclei, and the cytoplasm (cell less the inside of the nucleus).
    unit = np.pi * cell_radius**2 if flat else 4 / 3 * np.pi * cell_radius**3
    n_cells = max(3, int(rng.uniform(0.28, 0.36) * size.prod() / unit))
    centres = rng.uniform(0.05, 0.95, (n_cells, ndim)) * size
    radii = cell_radius * rng.uniform(0.8, 1.2, n_cells)
    wobble = _smooth_noise(rng, shape, 4.0)  # one field for every border (it costs in 3D)
    cells = _ellipsoid_masks(rng, shape, centres, radii, wobble)
    offsets = rng.normal(0, 0.15, (n_cells, ndim)) * radii[:, None]
    nucleus = _ellipsoid_masks(rng, shape, centres + offsets, 0.42 * radii, wobble)
    nucleus &= cells
    inner_nucleus = ndi.binary_erosion(nucleus, iterations=2)
    cytoplasm = cells & ~inner_nucleus
    membrane = (cells & ~ndi.binary_erosion(cells, iterations=band)) | (
        ndi.binary_dilation(cells) & ~cells
    )

    # Mitochondria in the cytoplasm, vesicles mostly on the membrane, some in the
    # cytoplasm, a few outside the cells.
    mito_radius = 2.6 if flat else 1.7
    n_mito = max(4, int(3.5 * n_cells))
    reach = int(np.ceil(4 * mito_radius))  # a rod's length: keep most clear of the nucleus
    room = cytoplasm & ~ndi.binary_dilation(nucleus, iterations=reach)
    room &= ndi.binary_erosion(cells, iterations=reach)  # and of the membrane
    mitochondrion = _rods(rng, shape, _points_in(rng, room, n_mito), mito_radius)
    vesicle_radius = 2.4 if flat else 1.6
    n_vesicles = max(6, int(3 * n_cells))
    vesicle_centres = np.concatenate(
        [
            _border_points(rng, cells, int(n_vesicles * 0.5)),
            _points_in(rng, room, int(n_vesicles * 0.3)),
            _points_in(rng, ~ndi.binary_dilation(cells, iterations=4), n_vesicles // 5),
        ]
    )
    vesicle_radii = vesicle_radius * rng.uniform(0.8, 1.25, len(vesicle_centres))
    vesicle = _ellipsoid_masks(rng, shape, vesicle_centres, vesicle_radii, np.zeros(shape))

    # Stray annotations: a mitochondrion speck inside a nucleus, a vesicle speck on a rod.
    deep_nucleus = ndi.binary_erosion(nucleus, iterations=4) & ~mitochondrion & ~vesicle
    mitochondrion |= _specks(shape, _points_in(rng, deep_nucleus, 1))
    vesicle |= _specks(shape, _points_in(rng, mitochondrion & cytoplasm & ~nucleus, 1))

    # One or two large lesions: the first where cells crowd most, a second on any cell.
    n_lesions = 0 if "lesion" in absent else int(rng.integers(1, 3))
    lesion_radius = 0.2 * size[-2:].min() * (1.0 if flat else 1.3)
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    crowded = int(np.argmax((gaps < 2.5 * cell_radius).sum(axis=1)))
    lesion_centres = centres[[crowded, int(rng.integers(0, n_cells))][:n_lesions]]
    lesion = _ellipsoid_masks(
        rng,
        shape,
        lesion_centres,
        lesion_radius * rng.uniform(0.8, 1.1, n_lesions),
        0.7 * wobble,
    )

    masks = np.stack([nucleus, cytoplasm, membrane, mitochondrion, vesicle, lesion])
    for class_name in absent:
        masks[MANY_CLASS_NAMES.index(class_name)] = False
    nucleus, cytoplasm, membrane, mitochondrion, vesicle, lesion = masks

    # The image: each class adds its own brightness and texture, the lesion dims and mottles.
    mottle = _smooth_noise(rng, shape, 2.0)
    texture = 1 + 0.25 * mottle
    chromatin = 1 + 0.35 * _smooth_noise(rng, shape, 1.0)
    signal = (
        70
        + cytoplasm * 200 * texture
        + nucleus * 330 * chromatin
        + membrane * 220
        + mitochondrion * 300
        + vesicle * 700
    )
    signal = signal * np.where(lesion, 0.65 + 0.15 * mottle, 1.0) + lesion * 90
    signal = ndi.gaussian_filter(signal * _vignette(rng, shape), 1.1)
    photons = rng.poisson(np.clip(signal, 0, None)).astype(float)
    image = np.clip(photons + rng.normal(0, 12, shape) + 100, 0, 65535).astype(np.uint16)
    return Sample(name, image, masks.astype(np.uint8), list(MANY_CLASS_NAMES), Source("memory"))


def make_many_samples(
    seed: int = MANY_SEED, count: int = 5, volumes: int = 1, absent_in: int | None = 3
) -> list[Sample]:
    """``count`` 2D samples (256-384 px a side) and ``volumes`` 48×128×128 volumes with the
    six classes, seeded. In the 2D sample ``absent_in`` (if there is one) the lesion is absent.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(count):
        shape = tuple(int(s) for s in rng.choice([256, 320, 384], 2))
        absent = ("lesion",) if i == absent_in else ()
        samples.append(make_many_sample(rng, shape, f"sample_{i:03d}", absent))
    for i in range(volumes):
        samples.append(make_many_sample(rng, (48, 128, 128), f"volume_{i:03d}"))
    return samples
