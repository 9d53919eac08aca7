"""Write files without ever leaving a half-written result or touching existing files."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError


@contextlib.contextmanager
def new_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out`` that becomes ``out`` only if all went well.

    ``out`` must not exist or be an empty folder; nothing of the user's is overwritten.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SegviewerError(f"{out}: already exists and is not an empty folder; choose a new one")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as error:
        raise SegviewerError(f"{out}: cannot write here ({error.strerror})") from None
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SegviewerError(
            f"{out}: writing failed ({error.strerror}); nothing was written"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_image(path: Path, array: np.ndarray) -> Path:
    """2D arrays as PNG (imageio), 3D as TIFF (tifffile); returns the path written."""
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        import imageio.v3 as iio

        path = path.with_suffix(".png")
        iio.imwrite(path, array)
    else:
        import tifffile

        path = path.with_suffix(".tif")
        tifffile.imwrite(path, array, photometric="minisblack")  # a volume, never RGB
    return path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place, so ``path``
    holds either its old content or the whole new text."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise SegviewerError(
            f"{path}: cannot write ({error.strerror}); nothing was written"
        ) from None
