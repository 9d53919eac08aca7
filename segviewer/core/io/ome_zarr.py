"""Big samples as OME-Zarr (NGFF 0.4 and 0.5): an image pyramid plus a ``labels/`` group
holding one binary label image per class (the one-hot masks, overlaps kept).

Nothing here reads pixel data up front: :func:`open_big` checks the metadata and returns
zarr arrays; :func:`big_tally` counts classes, background and conflicts chunk by chunk on
Dask; :func:`write_big_sample` writes a synthetic sample tile by tile without holding it
(core.model.big streams a model's labels into a new OME-Zarr).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder

VERSIONS = ("0.4", "0.5")
EXPECTED = (
    "expected an OME-Zarr (NGFF 0.4 or 0.5) image with a labels/ group holding one binary "
    "label image per class, of the image's shape and chunks"
)


@dataclass
class BigSample:
    """A big sample, read lazily: level 0 of the image and of each class's mask. An
    OME-Zarr store here, or a big TIFF pair (core.io.big_tiff)."""

    path: Path  # the store, or a TIFF pair's image file
    image: object  # a zarr array (y, x) or (z, y, x)
    masks: list  # one lazy array per class (zarr; Dask over a TIFF's pages), 0/1, image's shape
    class_names: list[str]
    levels: list  # the image pyramid, finest first
    version: str  # the NGFF version, or "tiff"
    mask_levels: list  # per class, its pyramid, finest first (level 0 is in ``masks``)
    channel_axis: int | None = None  # the image's axis of type "channel" (RGB), if any
    label_values: dict | None = None  # one index label image: value → class name
    files: tuple[Path, ...] = ()  # a TIFF pair's (image, masks); () for a store at ``path``

    @property
    def shape(self) -> tuple[int, ...]:
        """The spatial shape (the masks' shape)."""
        return tuple(self.masks[0].shape)


def is_ome_zarr(path: Path) -> bool:
    """Whether ``path`` is a zarr group folder (v2 or v3) that says it is OME-Zarr."""
    path = Path(path)
    if not path.is_dir():
        return False
    for name in ("zarr.json", ".zattrs"):
        if (path / name).is_file():
            try:
                attrs = json.loads((path / name).read_text())
            except (OSError, ValueError):
                return False
            attrs = attrs.get("attributes", attrs)
            return "ome" in attrs or "multiscales" in attrs
    return False


def _ome(attrs: dict, where: str) -> tuple[dict, str]:
    """The OME metadata of a group and its NGFF version (0.5 nests it under "ome")."""
    if "ome" in attrs:
        ome = dict(attrs["ome"])
        version = str(ome.get("version", "?"))
    else:
        ome = dict(attrs)
        found = [m.get("version") for m in ome.get("multiscales", []) if isinstance(m, dict)]
        version = str(ome.get("version", found[0] if found else "?"))
    if version not in VERSIONS:
        raise SegviewerError(f"{where}: NGFF version {version} is not supported; {EXPECTED}")
    return ome, version


def _level_arrays(group, ome: dict, where: str) -> list:
    try:
        datasets = ome["multiscales"][0]["datasets"]
        return [group[d["path"]] for d in datasets]
    except (KeyError, IndexError, TypeError):
        raise SegviewerError(f"{where}: no readable multiscales metadata; {EXPECTED}") from None


def open_big(path: Path) -> BigSample:
    """The sample at ``path``, its metadata checked; refused on one line."""
    import zarr

    path = Path(path)
    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception as error:  # zarr raises many types for a folder that is not a group
        raise SegviewerError(f"{path}: not a zarr group ({error}); {EXPECTED}") from None
    ome, version = _ome(dict(group.attrs), str(path))
    levels = _level_arrays(group, ome, str(path))
    axes = ome["multiscales"][0].get("axes", [])
    kinds = [a.get("type") if isinstance(a, dict) else None for a in axes]
    channel_axis = kinds.index("channel") if "channel" in kinds else None
    if "labels" not in group:
        raise SegviewerError(f"{path}: no labels group; {EXPECTED}")
    labels_group = group["labels"]
    label_meta, _ = _ome({"version": version, **dict(labels_group.attrs)}, f"{path}/labels")
    names = [str(n) for n in label_meta.get("labels", [])]
    if not names:
        raise SegviewerError(f"{path}/labels: lists no label images; {EXPECTED}")
    image, masks, mask_levels, values = levels[0], [], [], None
    spatial = [n for a, n in enumerate(image.shape) if a != channel_axis]
    chunks = [n for a, n in enumerate(image.chunks) if a != channel_axis]
    for name in names:
        where = f"{path}/labels/{name}"
        if name not in labels_group:
            raise SegviewerError(f"{where}: listed in labels/ but missing; {EXPECTED}")
        meta, _ = _ome(dict(labels_group[name].attrs), where)
        pyramid = _level_arrays(labels_group[name], meta, where)
        mask = pyramid[0]
        if list(mask.shape) != spatial or list(mask.chunks) != chunks:
            raise SegviewerError(
                f"{where}: shape {tuple(mask.shape)} in chunks {tuple(mask.chunks)}, but the "
                f"image is {tuple(spatial)} in chunks {tuple(chunks)}; {EXPECTED}"
            )
        masks.append(mask)
        mask_levels.append(pyramid)
        properties = meta.get("image-label", {}).get("properties")
        if len(names) == 1 and properties:
            values = {int(p["label-value"]): str(p["class"]) for p in properties}
    return BigSample(path, image, masks, names, levels, version, mask_levels, channel_axis, values)


def as_dask(array):
    """A Dask array over a lazy array of a big sample (zarr, or already Dask)."""
    import dask.array as da

    return array if isinstance(array, da.Array) else da.from_zarr(array)


def big_tally(sample: BigSample, scheduler: str = "threads") -> np.ndarray:
    """``[background, *class pixels, conflicts]`` (as ``core.stats.classes.tally``), counted
    chunk by chunk in parallel on Dask; a chunk of every mask is in memory at a time. A
    chunk that cannot be read is refused on one line."""
    import dask
    import dask.array as da

    stack = da.stack([as_dask(m) for m in sample.masks]).astype(bool)
    claims = stack.sum(axis=0, dtype=np.uint16)
    classes = stack.sum(axis=tuple(range(1, stack.ndim)), dtype=np.int64)
    background = (claims == 0).sum(dtype=np.int64)
    conflicts = (claims > 1).sum(dtype=np.int64)
    try:
        with dask.config.set(scheduler=scheduler):
            classes, background, conflicts = da.compute(classes, background, conflicts)
    except MemoryError:
        raise
    except Exception as error:  # a truncated or corrupt chunk: any library's error
        reason = (str(error).strip() or type(error).__name__).splitlines()[0]
        where = sample.files[-1] if sample.files else sample.path
        raise SegviewerError(f"{where}: cannot read a chunk of the masks ({reason})") from None
    return np.array([background, *classes, conflicts], dtype=np.int64)


def multiscales(name: str, levels: int, dims: int, channels: bool = False) -> dict:
    axes = [{"name": a, "type": "space"} for a in "zyx"[-dims:]]
    scale = [1.0] if channels else []
    if channels:
        axes.insert(0, {"name": "c", "type": "channel"})
    datasets = [
        {
            "path": str(k),
            "coordinateTransformations": [{"type": "scale", "scale": scale + [2.0**k] * dims}],
        }
        for k in range(levels)
    ]
    return {"name": name, "axes": axes, "datasets": datasets}


def ngff_metadata(version: str, content: dict) -> dict:
    """Group attributes for ``content``: nested under "ome" in 0.5, flat in 0.4."""
    if version == "0.5":
        return {"ome": {"version": "0.5", **content}}
    if "multiscales" in content:
        content = {**content, "multiscales": [{**content["multiscales"][0], "version": "0.4"}]}
    return content


class BigWriter:
    """An OME-Zarr being written into a folder: image levels and one label image per class."""

    def __init__(
        self, folder: Path, shape, classes, chunk: int, levels: int, version: str, dtype=np.uint16
    ):
        import zarr

        self.version, self.levels = version, levels
        fmt = 3 if version == "0.5" else 2
        self.root = zarr.open_group(str(folder), mode="w", zarr_format=fmt)
        dims = len(shape)
        self.root.attrs.update(
            ngff_metadata(version, {"multiscales": [multiscales("image", levels, dims)]})
        )
        self.image = self._pyramid(self.root, shape, chunk, dtype)
        labels = self.root.create_group("labels")
        labels.attrs.update(ngff_metadata(version, {"labels": list(classes)}))
        self.masks = []
        for name in classes:
            group = labels.create_group(name)
            meta = {"multiscales": [multiscales(name, levels, dims)], "image-label": {}}
            group.attrs.update(ngff_metadata(version, meta))
            self.masks.append(self._pyramid(group, shape, chunk, np.uint8))

    def _pyramid(self, group, shape, chunk, dtype) -> list:
        arrays = []
        for k in range(self.levels):
            size = tuple(max(s >> k, 1) for s in shape)
            chunks = tuple(min(chunk, s) for s in size)
            arrays.append(
                group.create_array(str(k), shape=size, chunks=chunks, dtype=dtype, fill_value=0)
            )
        return arrays

    def write(self, corner: tuple[int, ...], image: np.ndarray, masks: np.ndarray) -> None:
        """A tile at ``corner`` (level-0 pixels, multiples of 2**(levels - 1)), into every
        level: block means for the image, every other pixel for the masks."""
        for k in range(self.levels):
            step = 1 << k
            size = [s // step for s in image.shape]
            at = tuple(slice(c >> k, (c >> k) + n) for c, n in zip(corner, size, strict=True))
            self.image[k][at] = _downsample(image, step)
            strided = tuple(slice(0, n * step, step) for n in size)
            for array, mask in zip([m[k] for m in self.masks], masks, strict=True):
                array[at] = mask[strided]


def _downsample(image: np.ndarray, step: int) -> np.ndarray:
    if step == 1:
        return image
    shape = [s // step for s in image.shape]
    view = image[tuple(slice(0, s * step) for s in shape)]
    blocks = view.reshape([x for s in shape for x in (s, step)])
    return blocks.mean(axis=tuple(range(1, 2 * len(shape), 2))).astype(image.dtype)


def write_big_sample(
    out: Path,
    size: int,
    seed: int = 0,
    tile: int = 2048,
    chunk: int = 512,
    version: str = "0.5",
    progress=None,
) -> None:
    """A synthetic 2-class sample of ``size``² as OME-Zarr at ``out``, tile by tile (a tile
    of the image and masks in memory at a time), written beside ``out`` and renamed."""
    from segviewer.core.data.synthetic import CLASS_NAMES, make_sample

    if version not in VERSIONS:
        raise SegviewerError(f"NGFF version {version}: expected one of {', '.join(VERSIONS)}")
    tile = min(tile, size)
    if size % tile or size < 64:
        raise SegviewerError(f"--big {size}: expected at least 64 and a multiple of {tile}")
    levels = max(1, min(int(np.log2(size / 128)) + 1, int(np.log2(tile)) - 4))  # to ~128 px
    corners = [(y, x) for y in range(0, size, tile) for x in range(0, size, tile)]
    with new_folder(Path(out)) as folder:
        writer = BigWriter(folder, (size, size), CLASS_NAMES, chunk, levels, version)
        for n, corner in enumerate(corners):
            sample = make_sample(np.random.default_rng([seed, n]), (tile, tile), f"tile{n}")
            writer.write(corner, sample.image, sample.masks)
            if progress is not None:
                progress(n + 1, len(corners))


def level_count(spatial: tuple[int, ...], smallest: int = 256) -> int:
    """Pyramid levels, halving until the largest axis is at most ``smallest`` pixels."""
    return 1 + max(0, int(np.ceil(np.log2(max(spatial) / smallest))))


def write_sample_zarr(
    path: Path,
    image: np.ndarray,
    label_images: dict[str, np.ndarray],
    channels_last: bool = False,
    values: dict[int, str] | None = None,
    version: str = "0.5",
) -> None:
    """An in-memory sample as OME-Zarr at ``path`` (a new folder): the image pyramid (an
    RGB image as a channel axis, one level) and one label image per name, with ``values``
    (label value → class) for a single index label image."""
    import zarr

    data = np.moveaxis(image, -1, 0) if channels_last else image
    spatial = data.shape[1:] if channels_last else data.shape
    dims, levels = len(spatial), 1 if channels_last else level_count(spatial)
    chunk = 512 if dims == 2 else 64
    root = zarr.open_group(str(path), mode="w-", zarr_format=3 if version == "0.5" else 2)
    meta = {"multiscales": [multiscales("image", levels, dims, channels_last)]}
    root.attrs.update(ngff_metadata(version, meta))
    chunks = tuple(min(chunk, s) for s in spatial)
    for k in range(levels):
        level = _downsample(data, 1 << k)
        spatial_chunks = tuple(min(c, n) for c, n in zip(chunks, level.shape[-dims:], strict=True))
        lead = (data.shape[0],) if channels_last else ()
        root.create_array(str(k), data=level, chunks=lead + spatial_chunks)
    labels = root.create_group("labels")
    labels.attrs.update(ngff_metadata(version, {"labels": list(label_images)}))
    for name, array in label_images.items():
        group = labels.create_group(name)
        label_meta: dict = {"multiscales": [multiscales(name, 1, dims)], "image-label": {}}
        if values is not None:
            label_meta["image-label"]["properties"] = [
                {"label-value": int(v), "class": c} for v, c in values.items()
            ]
        group.attrs.update(ngff_metadata(version, label_meta))
        group.create_array("0", data=array, chunks=chunks)


MAX_IN_MEMORY = 1 << 28  # pixels: above, a store is streamed (stats, predict) or viewed


def read_sample_arrays(path: Path):
    """``(image, label arrays, names, values)`` of a store small enough for memory, with
    an RGB image's channels last; refused on one line above :data:`MAX_IN_MEMORY`."""
    big = open_big(path)
    pixels = int(np.prod(big.shape))
    if pixels > MAX_IN_MEMORY:
        raise SegviewerError(
            f"{path}: {pixels:,} pixels is more than segviewer edits in memory "
            f"({MAX_IN_MEMORY:,}); count it with `segviewer stats`, predict it with "
            "`segviewer predict` (both stream), or view it in napari"
        )
    image = np.asarray(big.image[...])
    if big.channel_axis is not None:
        image = np.moveaxis(image, big.channel_axis, -1)
    arrays = [np.asarray(m[...]) for m in big.masks]
    return image, arrays, big.class_names, big.label_values
