"""Write files without ever leaving a half-written result or touching existing files.

Everything is written under a hidden temporary name ``.NAME.sv-HOST-PID-XXXX.partial`` next
to the target and renamed into place when complete. A process killed mid-write (SIGKILL,
power loss) leaves its ``.partial`` behind; the next write into the same folder removes those
whose process on this host is gone. What we create follows the umask, like any file the
user writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError

PARTIAL = ".partial"
NO_SPACE = "no space left on device"
_LOW_SPACE = 1 << 20  # bytes: below this, a write that failed for no stated reason ran out
_STALE = re.compile(r"^\..*\.sv-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[^.]*\.partial$", re.DOTALL)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:20]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def partial_prefix(name: str) -> str:
    """The hidden prefix of our temporary names for ``name``: it says who is writing."""
    short = name.encode("utf-8", "surrogateescape")[:64].decode("utf-8", "ignore")
    return f".{short}.sv-{_host()}-{os.getpid()}-"


def remove_stale_partials(folder: Path) -> None:
    """Remove the ``.partial`` files and folders in ``folder`` left by dead processes of ours
    on this host (a running writer's are kept)."""
    import psutil

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _STALE.match(entry.name)
        if not match or match["host"] != _host() or psutil.pid_exists(int(match["pid"])):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def describe(error: OSError, where: Path | None = None) -> str:
    """A short reason for a failed write: "no space left on device" when that is why (some
    libraries report a full disk as a short write without an error number)."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return NO_SPACE
    if error.errno is None and where is not None:
        with contextlib.suppress(OSError):
            if shutil.disk_usage(where).free < _LOW_SPACE:
                return NO_SPACE
    reason = error.strerror or str(error) or type(error).__name__
    named = isinstance(error.filename, str | os.PathLike)  # it may be None, bytes or a number
    return f"{reason}: {Path(error.filename).name}" if named else reason


def refuse_output_in_inputs(out: Path, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output folder that is an input's folder or lies inside an input folder (the
    input would change: a phantom class, unreadable images), or that holds an input."""
    target = Path(os.path.realpath(out))
    for raw in inputs:
        real = Path(os.path.realpath(raw))
        is_folder = os.path.isdir(raw)
        folder = real if is_folder else real.parent
        if target == folder:
            raise SegviewerError(
                f"{out}: is the input's own folder; choose a new output folder (sources are "
                "never overwritten)"
            )
        if is_folder and target.is_relative_to(real):
            raise SegviewerError(
                f"{out}: is inside the input {raw}; choose an output folder outside every input "
                "(sources are never changed)"
            )
        if real.is_relative_to(target):
            raise SegviewerError(
                f"{out}: holds the input {raw}; choose a new output folder outside every input"
            )


def _partial_folder(out: Path) -> Path:
    """A new hidden folder next to ``out``, with the permissions of a folder the user makes."""
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(parent)
        tmp = Path(tempfile.mkdtemp(prefix=partial_prefix(out.name), suffix=PARTIAL, dir=parent))
        tmp.chmod(0o777 & ~_umask())
    except OSError as error:
        raise SegviewerError(f"{out}: cannot write here ({describe(error, parent)})") from None
    return tmp


@contextlib.contextmanager
def new_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out`` that becomes ``out`` only if all went well.

    ``out`` must not exist or be an empty folder; nothing of the user's is overwritten.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SegviewerError(f"{out}: already exists and is not an empty folder; choose a new one")
    tmp = _partial_folder(out)
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except OSError as error:
        reason = describe(error, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        raise SegviewerError(f"{out}: writing failed ({reason}); nothing was written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def new_file(path: Path, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path next to ``path`` to write; it replaces ``path`` only if the
    writing succeeded, with the permissions of a file the user makes."""
    path = Path(path)
    parent = path.absolute().parent
    remove_stale_partials(parent)
    try:
        handle, name = tempfile.mkstemp(
            prefix=partial_prefix(path.name), suffix=PARTIAL, dir=parent
        )
        os.close(handle)
    except OSError as error:
        raise SegviewerError(
            f"{path}: cannot write the {what} ({describe(error, parent)})"
        ) from None
    partial = Path(name)
    try:
        yield partial
        partial.chmod(0o666 & ~_umask())
        os.replace(partial, path)
    except OSError as error:
        reason = describe(error, parent)
        partial.unlink(missing_ok=True)
        raise SegviewerError(
            f"{path}: cannot write the {what} ({reason}); nothing was written"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_image(path: Path, array: np.ndarray) -> Path:
    """2D arrays as PNG (imageio), 3D as TIFF (tifffile); returns the path written."""
    if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)):
        import imageio.v3 as iio

        path = path.with_name(f"{path.name}.png")  # not with_suffix: "scan.001" stays whole
        iio.imwrite(path, array)
    else:
        import tifffile

        path = path.with_name(f"{path.name}.tif")
        tifffile.imwrite(path, array, photometric="minisblack")  # a volume, never RGB
    return path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed into place, so ``path``
    holds either its old content or the whole new text."""
    with new_file(path) as partial:
        partial.write_text(text, encoding="utf-8")
