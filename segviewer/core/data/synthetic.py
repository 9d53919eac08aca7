"""Seeded synthetic data that looks like our users': a large class, a rare class, overlaps.

Each sample is a fluorescence-like image of cells (the large class, ~15-30 % of pixels)
and bright spots (the rare class, ~0.5-2 %). Many spots sit on cell borders, so the two
annotations overlap there (~1-5 % of labelled pixels) and there is no background channel.
The image has uneven illumination, texture, blur, shot noise and read noise.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.data.sample import Sample, Source

CLASS_NAMES = ["cell", "spot"]
DEFAULT_SEED = 2024


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    field = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    return field / (field.std() + 1e-12)


def _vignette(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uneven illumination: brightest at a random point, 30 % dimmer towards the far corner."""
    coords = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape), indexing="ij", sparse=True)
    centre = rng.uniform(-0.5, 0.5, len(shape))
    squared = sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True))
    return 1 - 0.3 * squared / squared.max()


def _ellipsoid_masks(rng, shape, centres, radii, wobble) -> np.ndarray:
    """Union of randomly oriented ellipsoids with wobbly borders (``wobble`` a smooth field)."""
    out = np.zeros(shape, bool)
    grid = np.indices(shape, dtype=np.float32)
    for centre, radius in zip(centres, radii, strict=True):
        axes = radius * rng.uniform(0.7, 1.3, len(shape))
        rotation, _ = np.linalg.qr(rng.standard_normal((len(shape), len(shape))))
        reach = int(np.ceil(axes.max() * 1.3)) + 1
        box = tuple(
            slice(max(0, int(c) - reach), min(n, int(c) + reach + 1))
            for c, n in zip(centre, shape, strict=True)
        )
        offsets = np.stack([g[box] - c for g, c in zip(grid, centre, strict=True)])
        scale = axes.reshape((-1,) + (1,) * len(shape))
        local = np.tensordot(rotation.T, offsets, axes=1) / scale
        distance = np.sqrt((local**2).sum(axis=0))
        out[box] |= distance < 1 + 0.15 * wobble[box]
    return out


def _border_points(rng, cells: np.ndarray, count: int) -> np.ndarray:
    border = cells & ~ndi.binary_erosion(cells)
    points = np.argwhere(border)
    if len(points) == 0:
        return np.empty((0, cells.ndim))
    return points[rng.integers(0, len(points), count)].astype(float)


def make_sample(
    rng: np.random.Generator, shape: tuple[int, ...], name: str, with_spots: bool = True
) -> Sample:
    """One synthetic sample of the given spatial shape (2D or 3D); ``with_spots=False`` gives
    cells only (a sample where the rare class is absent)."""
    ndim, area = len(shape), float(np.prod(shape))
    cell_radius = 22.0 if ndim == 2 else 9.0
    spot_radius = 2.6 if ndim == 2 else 1.8
    unit = np.pi * cell_radius**2 if ndim == 2 else 4 / 3 * np.pi * cell_radius**3
    n_cells = max(2, int(rng.uniform(0.25, 0.33) * area / unit))
    centres = rng.uniform(0, 1, (n_cells, ndim)) * np.array(shape)
    radii = cell_radius * rng.uniform(0.75, 1.25, n_cells)
    cells = _ellipsoid_masks(rng, shape, centres, radii, _smooth_noise(rng, shape, 4.0))

    spot_unit = np.pi * spot_radius**2 if ndim == 2 else 4 / 3 * np.pi * spot_radius**3
    n_spots = max(3, int(rng.uniform(0.008, 0.016) * area / spot_unit))
    on_border = _border_points(rng, cells, int(n_spots * 0.55))
    anywhere = rng.uniform(0, 1, (n_spots - len(on_border), ndim)) * np.array(shape)
    spot_centres = np.concatenate([on_border, anywhere])
    spot_radii = spot_radius * rng.uniform(0.8, 1.25, len(spot_centres))
    spots = _ellipsoid_masks(rng, shape, spot_centres, spot_radii, np.zeros(shape)) & with_spots

    illumination = _vignette(rng, shape)
    texture = 1 + 0.25 * _smooth_noise(rng, shape, 2.0)
    signal = 60 + cells * 260 * texture + spots * 650
    signal = ndi.gaussian_filter(signal * illumination, 1.2)
    photons = rng.poisson(np.clip(signal, 0, None)).astype(float)
    image = np.clip(photons + rng.normal(0, 12, shape) + 100, 0, 65535).astype(np.uint16)
    masks = np.stack([cells, spots]).astype(np.uint8)
    return Sample(name, image, masks, list(CLASS_NAMES), Source("memory"))


def make_dataset_samples(
    seed: int = DEFAULT_SEED, count: int = 8, volumes: int = 1
) -> list[Sample]:
    """``count`` 2D samples (256-512 px a side) and ``volumes`` small 3D samples, seeded."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(count):
        shape = tuple(int(s) for s in rng.choice([256, 320, 384, 448, 512], 2))
        samples.append(make_sample(rng, shape, f"sample_{i:03d}"))
    for i in range(volumes):
        samples.append(make_sample(rng, (32, 128, 128), f"volume_{i:03d}"))
    return samples
