"""A big TIFF pair opened lazily and counted, beside the same pixels as OME-Zarr.

Writes a synthetic SIZE² OME-Zarr sample (``segviewer sample --big``) unless ``--store``
names one, copies it tile by tile into a TIFF pair (``big.tif``: tiled 512², the store's
pyramid as SubIFDs, zlib; ``big_masks.tif``: one tiled page per class, its own pyramid),
then, each in a fresh process, times: opening the pair lazily; counting it chunk by chunk
(``big_tally``); the statistics twice through the summary index (the second reads the
count back); the same for the OME-Zarr store; and reading the pair into memory the
ordinary way. Prints seconds and peak RSS. Run:
``python benchmarks/bench_big_tiff.py --size 16384``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

TILE = 512

MEASURE = r"""
import resource, sys, tempfile, time
from pathlib import Path
from segviewer.core.io.big import open_big
from segviewer.core.io.ome_zarr import big_tally
from segviewer.core.stats.big import big_stats
from segviewer.core.stats.index import SummaryIndex

import dask.array, tifffile, zarr  # imported before the clock starts
path, what = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if what == "memory":
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.stats.counts import count_pixels
    sample = open_dataset(path).sample(0)
    read = time.perf_counter() - start
    count_pixels(sample.masks)
    times = [read, time.perf_counter() - start]
else:
    sample = open_big(path)
    opened = time.perf_counter() - start
    if what == "count":
        big_tally(sample)
        times = [opened, time.perf_counter() - start]
    else:
        index = SummaryIndex(Path(tempfile.mkdtemp()) / "index.sqlite")
        times = [opened]
        for _ in range(2):
            start = time.perf_counter()
            big_stats(sample, index)
            times.append(time.perf_counter() - start)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(" ".join(f"{t:.2f}" for t in times), f"{rss:.0f}")
"""


def copy_to_tiff(store: Path, folder: Path) -> Path:
    """The store's image and masks as a tiled pyramidal TIFF pair, a tile at a time."""
    import tifffile

    from segviewer.core.io.ome_zarr import open_big

    big = open_big(store)
    names, image_levels = big.class_names, big.levels
    mask_levels = [[m[k] for m in big.mask_levels] for k in range(len(image_levels))]

    def tiles(arrays):
        for array in arrays:
            height, width = array.shape
            for y in range(0, height, TILE):
                for x in range(0, width, TILE):
                    yield array[y : y + TILE, x : x + TILE]

    def write(path, levels, dtype, pages, **extra):
        options = {"tile": (TILE, TILE), "photometric": "minisblack", "compression": "zlib"}
        with tifffile.TiffWriter(path, bigtiff=True) as tif:
            for k, arrays in enumerate(levels):
                shape = (pages, *arrays[0].shape) if pages > 1 else arrays[0].shape
                level = {"subifds": len(levels) - 1, **extra} if k == 0 else {"subfiletype": 1}
                tif.write(tiles(arrays), shape=shape, dtype=dtype, **options, **level)

    image = folder / "big.tif"
    write(image, [[a] for a in image_levels], image_levels[0].dtype, 1)
    write(folder / "big_masks.tif", mask_levels, "uint8", len(names),
          metadata={"class_names": names})  # fmt: skip
    return image


def measure(path: Path, what: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), what],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        sys.exit(done.stderr[-2000:])
    return done.stdout.split()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--store", type=Path, help="an existing OME-Zarr sample (2 classes)")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory read")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or Path(folder, "big.zarr")
        if args.store is None:
            subprocess.run(
                [sys.executable, "-m", "segviewer.cli", "sample", "--big", str(args.size),
                 "--out", str(store)], check=True)  # fmt: skip
        image = copy_to_tiff(store, Path(folder))
        size = sum(p.stat().st_size for p in Path(folder).glob("big*.tif")) / 2**20
        print(f"TIFF pair {size:.0f} MB, tiles {TILE}², zlib")
        for name, path in (("TIFF pair", image), ("OME-Zarr", store)):
            opened, counted, rss = measure(path, "count")
            print(f"{name}: open {opened} s, big_tally {counted} s (peak RSS {rss} MB)")
            opened, first, second, rss = measure(path, "stats")
            print(f"{name}: stats {first} s, again from the summary index {second} s")
        if not args.no_memory:
            read, counted, rss = measure(image, "memory")
            print(f"TIFF pair read into memory: {read} s, counted {counted} s, peak RSS {rss} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
