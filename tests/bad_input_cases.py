"""The bad-input corpus, data side: every reader, dataset assembly and output folder.

Each case writes one bad input under a folder and returns the ``segviewer`` command line
that must refuse it; ``expected`` are texts its one error line must hold (the file it names,
and what was wrong or expected). ``test_bad_inputs.py`` runs them all; model files are in
``bad_model_cases.py``.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import nibabel
import numpy as np
import tifffile
from PIL import Image

Build = Callable[[Path], list[str]]
CASES: dict[str, tuple[Build, tuple[str, ...]]] = {}


def case(*expected: str) -> Callable[[Build], Build]:
    """Register a bad input under its function's name."""

    def register(build: Build) -> Build:
        CASES[build.__name__] = (build, expected)
        return build

    return register


# -- small valid pieces ------------------------------------------------------------------------
def image(shape=(16, 20)) -> np.ndarray:
    return (np.arange(np.prod(shape)) % 251).astype(np.uint8).reshape(shape)


def masks(shape=(16, 20)) -> np.ndarray:
    """Two overlapping classes ``cell`` and ``spot``."""
    out = np.zeros((2, *shape), np.uint8)
    out[0, 2:10, 2:12] = 1
    out[1, 8:14, 10:18] = 1
    return out


def npz(root: Path, name: str = "a", **arrays) -> Path:
    """``NAME.npz`` with a valid image, masks and class names, changed by ``arrays`` (None
    leaves an array out)."""
    content = {"image": image(), "masks": masks(), "class_names": np.array(["cell", "spot"])}
    content.update(arrays)
    path = root / f"{name}.npz"
    np.savez(path, **{k: v for k, v in content.items() if v is not None})
    return path


def tiff_pair(root: Path, partner=None, tag="_masks", metadata=None, name="a") -> Path:
    tifffile.imwrite(root / f"{name}.tif", image())
    meta = {"class_names": ["cell", "spot"]} if metadata is None else metadata
    array = masks() if partner is None else partner
    tifffile.imwrite(root / f"{name}{tag}.tif", array, metadata=meta)
    return root / f"{name}.tif"


def nifti_pair(root: Path, partner=None, tag="_masks", names=None, volume=None) -> Path:
    volume = image((4, 16, 20)) if volume is None else volume
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4), dtype=volume.dtype), root / "v.nii.gz")
    array = np.moveaxis(np.stack([volume > 100, volume > 200]), 0, -1).astype(np.uint8)
    labels = nibabel.Nifti1Image(array if partner is None else partner, np.eye(4))
    if names is not None:
        note = json.dumps({"class_names": names}).encode()
        labels.header.extensions.append(nibabel.nifti1.Nifti1Extension("comment", note))
    nibabel.save(labels, root / f"v{tag}.nii.gz")
    return root / "v.nii.gz"


def dataset(root: Path, count: int = 2, name: str = "ds") -> Path:
    """A dataset folder ``images/`` + ``masks/CLASS/`` + ``classes.txt`` with PNG files."""
    folder = root / name
    for cls in ("cell", "spot"):
        (folder / "masks" / cls).mkdir(parents=True)
    (folder / "images").mkdir()
    for i in range(count):
        Image.fromarray(image()).save(folder / "images" / f"s{i}.png")
        for c, cls in enumerate(("cell", "spot")):
            Image.fromarray(masks()[c] * np.uint8(255)).save(folder / "masks" / cls / f"s{i}.png")
    (folder / "classes.txt").write_text("cell\nspot\n")
    return folder


def info(*paths: Path) -> list[str]:
    return ["info", *map(str, paths)]


def resolve(*paths: Path, out: Path, fmt: str = "onehot") -> list[str]:
    return ["resolve", *map(str, paths), "--rule", "priority", "--format", fmt, "--out", str(out)]


def png_bomb(path: Path, width: int = 10_000, height: int = 9_000) -> None:
    """A PNG header declaring more pixels than Pillow's limit, and no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + ihdr + iend)


# -- paths given as arguments ------------------------------------------------------------------
@case("missing.npz", "no such file or folder")
def missing_file(root):
    return info(root / "missing.npz")


@case("empty", "this folder is empty", "expected")
def empty_folder(root):
    (root / "empty").mkdir()
    return info(root / "empty")


@case("notes", "holds no segviewer samples", "expected")
def folder_of_foreign_files(root):
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("hello")
    (root / "notes" / "._a.npz").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    return info(root / "notes")


@case("x.npz", "not a regular file", "expected")
def fifo_named_npz(root):
    os.mkfifo(root / "x.npz")
    return info(root / "x.npz")


@case("loop.npz", "symbolic link that leads nowhere")
def symlink_loop(root):
    os.symlink("loop.npz", root / "loop.npz")
    return resolve(root / "loop.npz", out=root.parent / "out")


@case("gone.npz", "symbolic link that leads nowhere")
def broken_symlink(root):
    os.symlink(root / "nothing.npz", root / "gone.npz")
    return info(root / "gone.npz")


@case("L" * 245 + ".tif", "no masks file", "a TIFF sample is a pair")
def name_of_245_characters(root):
    tifffile.imwrite(root / ("L" * 245 + ".tif"), image())
    return info(root / ("L" * 245 + ".tif"))


# -- npz ---------------------------------------------------------------------------------------
@case("a.npz", "truncated or corrupt")
def npz_not_a_zip(root):
    (root / "a.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return info(root / "a.npz")


@case("a.npz", "truncated or corrupt")
def npz_truncated(root):
    path = npz(root)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return info(path)


@case("a.npz", "missing array 'masks'", "expected arrays 'image' and 'masks'")
def npz_without_masks(root):
    return info(npz(root, masks=None))


@case("a.npz", "missing array 'image'")
def npz_without_image(root):
    return info(npz(root, image=None))


@case("a.npz", "truncated or corrupt")
def npz_with_pickled_objects(root):
    return info(npz(root, class_names=np.array([{"cell": 1}, None], dtype=object)))


@case("a.npz", "mask values must be 0/1 or 0/255", "3")
def npz_masks_not_binary(root):
    return info(npz(root, masks=masks() * np.uint8(3)))


@case("a.npz", "mask values must be 0/1")
def npz_masks_fractional(root):
    return info(npz(root, masks=masks().astype(np.float32) * 0.5))


@case("a.npz", "do not match the image's spatial shape", "expected (C, 16, 20)")
def npz_masks_of_another_shape(root):
    return info(npz(root, masks=masks((8, 8))))


@case("a.npz", "could have their class axis first or last", "--class-axis")
def npz_ambiguous_class_axis(root):
    return info(npz(root, image=image((4, 4)), masks=np.zeros((4, 4, 4), np.uint8)))


@case("a.npz", "image has shape (320,)", "expected a 2D")
def npz_image_1d(root):
    return info(npz(root, image=image().ravel()))


@case("a.npz", "image has shape (2, 2, 16, 20)", "expected a 2D")
def npz_image_4d(root):
    return info(npz(root, image=np.zeros((2, 2, 16, 20), np.uint8)))


@case("a.npz", "image has shape (0, 0)")
def npz_image_empty(root):
    return info(npz(root, image=np.zeros((0, 0), np.uint8), masks=np.zeros((2, 0, 0), np.uint8)))


@case("a.npz", "1 NaN values", "expected finite intensities")
def npz_image_nan(root):
    values = image().astype(np.float32)
    values[3, 3] = np.nan
    return info(npz(root, image=values))


@case("a.npz", "2 infinite values", "expected finite intensities")
def npz_image_plus_minus_inf(root):
    values = image().astype(np.float32)
    values[0, 0], values[1, 1] = np.inf, -np.inf
    return info(npz(root, image=values))


@case("a.npz", "unsupported dtype complex128")
def npz_image_complex(root):
    return info(npz(root, image=image().astype(complex)))


@case("a.npz", "3 class names", "for 2 masks", "expected one name per mask")
def npz_class_name_count(root):
    return info(npz(root, class_names=np.array(["cell", "spot", "extra"])))


@case("a.npz", "class 'cell' is named twice", "expected unique class names")
def npz_duplicate_class_names(root):
    return info(npz(root, class_names=np.array(["cell", "cell"])))


@case("a.npz", "'../../escape'", "path separator", "expected a plain name")
def npz_class_name_traversal(root):
    return resolve(npz(root, class_names=np.array(["../../escape", "spot"])), out=root / "out")


@case("a.npz", "'..'", "starts with '.'", "expected a plain name")
def npz_class_name_dot_dot(root):
    return resolve(npz(root, class_names=np.array(["..", "spot"])), out=root / "out")


@case("a.npz", "control character", "expected a plain name")
def npz_class_name_newline(root):
    return info(npz(root, class_names=np.array(["cell\nspot", "spot"])))


@case("a.npz", "class name '' is empty")
def npz_class_name_empty(root):
    return info(npz(root, class_names=np.array(["", "spot"])))


@case("a.npz", "path separator")
def npz_class_name_backslash(root):
    return info(npz(root, class_names=np.array(["a\\b", "spot"])))


@case("a.npz", "class names stored as ndarray", "expected a list of names")
def npz_class_names_2d(root):
    return info(npz(root, class_names=np.array([["cell"], ["spot"]])))


@case("a.npz", "masks of shape (0, 16, 20) hold no class", "at least one class")
def npz_zero_classes(root):
    return resolve(
        npz(root, masks=np.zeros((0, 16, 20), np.uint8), class_names=None), out=root / "o"
    )


@case("a.npz", "hold no class", "at least one class")
def npz_only_a_background_channel(root):
    return info(
        npz(root, masks=np.ones((1, 16, 20), np.uint8), class_names=np.array(["background"]))
    )


@case("a.npz", "index labels hold no class", "expected labels 1..C, or class names")
def npz_labels_all_background(root):
    return info(npz(root, masks=None, class_names=None, labels=np.zeros((16, 20), np.uint8)))


@case("a.npz", "label values 2000000000 are not classes", "expected 0 (background), 1..254")
def npz_labels_huge_value(root):
    labels = np.zeros((16, 20), np.int64)
    labels[0, 0] = 2_000_000_000
    return info(npz(root, masks=None, class_names=None, labels=labels))


@case("a.npz", "label values -1 are not classes")
def npz_labels_negative(root):
    labels = np.zeros((16, 20), np.int16)
    labels[0, 0] = -1
    return info(npz(root, masks=None, class_names=None, labels=labels))


@case("a.npz", "index labels must be integers, found float32")
def npz_labels_float(root):
    return info(npz(root, masks=None, labels=np.zeros((16, 20), np.float32)))


@case("a.npz", "labels of shape (4, 4) do not match")
def npz_labels_of_another_shape(root):
    return info(npz(root, masks=None, labels=np.ones((4, 4), np.uint8)))


@case("a.npz", "label values 3 are not classes", "1..2")
def npz_labels_above_the_class_names(root):
    labels = np.full((16, 20), 3, np.uint8)
    return info(npz(root, masks=None, labels=labels))


# -- TIFF --------------------------------------------------------------------------------------
@case("a.tif", "no masks file a_masks.tif", "a TIFF sample is a pair")
def tiff_without_partner(root):
    tifffile.imwrite(root / "a.tif", image())
    return info(root / "a.tif")


@case("a_masks.tif", "the image file a.tif", "is missing", "expected it next to")
def tiff_masks_without_image(root):
    tiff_pair(root)
    (root / "a.tif").unlink()
    return info(root / "a_masks.tif")


@case("a.tif", "truncated or corrupt")
def tiff_not_a_tiff(root):
    tiff_pair(root)
    (root / "a.tif").write_bytes(b"II*\x00garbage")
    return info(root / "a.tif")


@case("a_masks.tif", "truncated or corrupt")
def tiff_truncated(root):
    tiff_pair(root)
    data = (root / "a_masks.tif").read_bytes()
    (root / "a_masks.tif").write_bytes(data[:200])
    return info(root / "a.tif")


@case("a.tif", "no image data", "truncated or corrupt")
def tiff_bad_first_page_offset(root):
    """tifffile logs a line about this file (it must not reach stderr) and reads nothing."""
    tiff_pair(root)
    data = bytearray((root / "a.tif").read_bytes())
    data[4:8] = (10**6).to_bytes(4, "little")
    (root / "a.tif").write_bytes(bytes(data))
    return info(root / "a.tif")


@case("a_labels.tif", "index labels hold no class")
def tiff_labels_all_background(root):
    return info(tiff_pair(root, np.zeros((16, 20), np.uint8), "_labels", metadata={}))


@case("a_masks.tif", "'../../escape'", "expected a plain name")
def tiff_class_name_traversal(root):
    return resolve(tiff_pair(root, metadata={"class_names": ["../../escape", "x"]}), out=root / "o")


@case("a_masks.tif", "class 'cell' is named twice")
def tiff_duplicate_class_names(root):
    return info(tiff_pair(root, metadata={"class_names": ["cell", "cell"]}))


@case("a_masks.tif", "class names stored as int", "expected a list of names")
def tiff_class_names_a_number(root):
    return info(tiff_pair(root, metadata={"class_names": 7}))


@case("a_masks.tif", "mask values must be 0/1")
def tiff_masks_not_binary(root):
    return info(tiff_pair(root, masks() * np.uint8(7)))


# -- NIfTI -------------------------------------------------------------------------------------
@case("v.nii.gz", "no masks file v_masks.nii.gz")
def nifti_without_partner(root):
    nibabel.save(nibabel.Nifti1Image(image((4, 16, 20)), np.eye(4)), root / "v.nii.gz")
    return info(root / "v.nii.gz")


@case("v_masks.nii.gz", "truncated or corrupt")
def nifti_corrupt(root):
    nifti_pair(root)
    (root / "v_masks.nii.gz").write_bytes(b"\x1f\x8b\x08\x00 not gzip")
    return info(root / "v.nii.gz")


@case("v_masks.nii.gz", "'../escape'", "expected a plain name")
def nifti_class_name_traversal(root):
    return resolve(nifti_pair(root, names=["../escape", "spot"]), out=root / "out")


@case("v_masks.nii.gz", "do not match the image's spatial shape")
def nifti_masks_of_another_shape(root):
    return info(nifti_pair(root, partner=np.zeros((4, 8, 8, 2), np.uint8)))


@case("v_labels.nii.gz", "index labels hold no class")
def nifti_labels_all_background(root):
    return info(nifti_pair(root, partner=np.zeros((4, 16, 20), np.uint8), tag="_labels"))


@case("v", "image values", "do not fit a NIfTI integer type")
def nifti_int64_beyond_32_bits(root):
    volume = image((4, 16, 20)).astype(np.int64) << 40
    return resolve(nifti_pair(root, volume=volume), out=root / "out")


# -- dataset folders ---------------------------------------------------------------------------
@case("classes.txt line 1", "'../../escape'", "expected a plain name")
def classes_txt_traversal(root):
    folder = dataset(root)
    (root / "escape").mkdir()
    Image.fromarray(masks()[0] * np.uint8(255)).save(root / "escape" / "s0.png")
    (folder / "classes.txt").write_text("../../escape\nspot\n")
    return resolve(folder, out=root / "out")


@case("classes.txt line 3", "'cell' is listed twice (first on line 1)")
def classes_txt_duplicate(root):
    folder = dataset(root)
    (folder / "classes.txt").write_text("cell\nspot\ncell\n")
    return info(folder)


@case("classes.txt", "truncated or corrupt")
def classes_txt_not_utf8(root):
    folder = dataset(root)
    (folder / "classes.txt").write_bytes(b"cell\n\xff\xfe\n")
    return info(folder)


@case("ds", "no images in", "expected files NAME.png")
def dataset_without_images(root):
    folder = dataset(root)
    for path in (folder / "images").iterdir():
        path.unlink()
    return info(folder)


@case("ds", "no images in")
def dataset_of_apple_double_files_only(root):
    folder = dataset(root)
    for path in (folder / "images").iterdir():
        path.rename(path.with_name("._" + path.name))
    return info(folder)


@case("images", "s0.png and s0.tif are both sample 's0'", "expected one file per sample")
def dataset_png_beside_tif(root):
    folder = dataset(root)
    tifffile.imwrite(folder / "images" / "s0.tif", image())
    return resolve(folder, out=root / "out")


@case("masks/cell", "s1.png and s1.tiff are both sample 's1'")
def dataset_two_masks_of_one_name(root):
    folder = dataset(root)
    tifffile.imwrite(folder / "masks" / "cell" / "s1.tiff", masks()[0])
    return info(folder)


@case("ds", "2 images but no masks", "expected one binary mask per class")
def dataset_without_masks(root):
    folder = dataset(root)
    for cls in ("cell", "spot"):
        for path in (folder / "masks" / cls).iterdir():
            path.unlink()
    return info(folder)


@case("s0.png", "truncated or corrupt")
def dataset_corrupt_png(root):
    folder = dataset(root)
    (folder / "images" / "s0.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return info(folder)


@case("s0.png", "truncated or corrupt")
def dataset_png_decompression_bomb(root):
    """Pillow warns about the size first: the warning must not reach stderr."""
    folder = dataset(root)
    png_bomb(folder / "images" / "s0.png")
    return info(folder)


@case("s0.png", "mask values must be 0/1 or 0/255")
def dataset_mask_not_binary(root):
    folder = dataset(root)
    Image.fromarray(masks()[0] * np.uint8(3)).save(folder / "masks" / "cell" / "s0.png")
    return info(folder)


@case("s0.png", "do not match the image's spatial shape")
def dataset_mask_of_another_size(root):
    folder = dataset(root)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "masks" / "spot" / "s0.png")
    return info(folder)


def _labels_dataset(root: Path, labels: np.ndarray) -> Path:
    folder = root / "lab"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    Image.fromarray(image()).save(folder / "images" / "s0.png")
    tifffile.imwrite(folder / "labels" / "s0.tif", labels)
    return folder


@case("s0.tif", "index labels hold no class")
def dataset_labels_all_background(root):
    return resolve(_labels_dataset(root, np.zeros((16, 20), np.uint8)), out=root / "o")


@case("s0.tif", "label values 300 are not classes")
def dataset_labels_value_300(root):
    labels = np.zeros((16, 20), np.uint16)
    labels[2, 2] = 300
    return info(_labels_dataset(root, labels))


@case("labels", "no label image for s1.png")
def dataset_label_image_missing(root):
    folder = _labels_dataset(root, np.ones((16, 20), np.uint8))
    Image.fromarray(image()).save(folder / "images" / "s1.png")
    return info(folder)


@case("masks", "control character")
def dataset_class_folder_with_newline(root):
    folder = dataset(root)
    (folder / "classes.txt").unlink()
    (folder / "masks" / "cell\nx").mkdir()
    return info(folder)


# -- datasets assembled from several paths -----------------------------------------------------
@case("b/a.npz", "sample name 'a' is also the name of", "a/a.npz", "expected unique sample names")
def same_sample_name_in_two_folders(root):
    (root / "a").mkdir()
    (root / "b").mkdir()
    return resolve(npz(root / "a"), npz(root / "b"), out=root / "out")


@case("a.tif", "sample name 'a' is also the name of", "a.npz")
def npz_and_tiff_pair_of_one_name(root):
    npz(root)
    tiff_pair(root)
    return resolve(root, out=root.parent / "out")


@case("s0.png", "sample name 's0' is also the name of")
def two_dataset_folders_with_the_same_names(root):
    return info(dataset(root, name="one"), dataset(root, name="two"))


@case("b: classes ['cell', 'spot'] differ from a's ['cell', 'nucleus']", "the same classes")
def stats_classes_differ(root):
    npz(root, name="a", class_names=np.array(["cell", "nucleus"]))
    npz(root, name="b")
    return ["stats", str(root), "--workers", "1"]


# -- output folders ----------------------------------------------------------------------------
@case("is the input's own folder", "choose a new output folder")
def out_is_the_inputs_folder(root):
    return resolve(npz(root), out=root)


@case("ds/images", "is inside the input", "choose an output folder outside every input")
def out_inside_the_input_images(root):
    folder = dataset(root)
    return resolve(folder, out=folder / "images")


@case("ds/masks/new", "is inside the input")
def out_inside_the_input_masks(root):
    folder = dataset(root)
    return resolve(folder, out=folder / "masks" / "new")


@case("holds the input", "outside every input")
def out_holds_the_input(root):
    folder = dataset(root)
    return resolve(folder, out=root)


@case("taken", "already exists and is not an empty folder")
def out_exists_with_files(root):
    (root / "taken").mkdir()
    (root / "taken" / "mine.txt").write_text("mine")
    return resolve(npz(root), out=root / "taken")


@case("file.txt", "already exists and is not an empty folder")
def out_is_a_file(root):
    (root / "file.txt").write_text("mine")
    return resolve(npz(root), out=root / "file.txt")


@case("blocker", "cannot write here")
def out_under_a_file(root):
    (root / "blocker").write_text("x")
    return resolve(npz(root), out=root / "blocker" / "out")


@case("unknown rule 'tallest'", "expected one of")
def resolve_unknown_rule(root):
    return ["resolve", str(npz(root)), "--rule", "tallest", "--out", str(root / "out")]


@case("unknown class 'nucleus'", "priority order")
def resolve_unknown_priority_class(root):
    argv = resolve(npz(root), out=root / "out")
    return [*argv, "--priority", "nucleus"]
