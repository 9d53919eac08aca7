"""Predictions kept on disk: each sample's labels and probabilities become memory-mapped
``.npy`` files in a folder of this process in segviewer's cache folder. A workspace's
memory then does not grow with the number of predicted samples: the OS reads a sample's
pages when it is shown and may drop them after. The folder goes at exit."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from segviewer.core.stats.index import cache_folder


class PredictionFiles:
    """Arrays moved to read-only memory-mapped files; in memory where the disk refuses."""

    def __init__(self, root: Path | None = None):
        self._root = root
        self._folder: Path | None = None
        self._numbers = itertools.count()

    def folder(self) -> Path:
        if self._folder is None:
            root = self._root or cache_folder() / "predictions"
            self._folder = root / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self._folder.mkdir(parents=True)
            atexit.register(shutil.rmtree, self._folder, True)
        return self._folder

    def keep(self, array: np.ndarray | None) -> np.ndarray | None:
        """``array`` as a read-only memory map of a new file (itself if that fails)."""
        if array is None or isinstance(array, np.memmap):
            return array
        try:
            path = self.folder() / f"{next(self._numbers)}.npy"
            mapped = np.lib.format.open_memmap(path, "w+", array.dtype, array.shape)
            mapped[...] = array
            mapped.flush()
            del mapped
            return np.load(path, mmap_mode="r")
        except OSError:  # a full or read-only disk: the prediction stays in memory
            return array

    def drop(self, array: np.ndarray | None) -> None:
        """Delete the file behind ``array`` (the mapping stays valid until released)."""
        name = getattr(array, "filename", None)
        if name and self._folder is not None and Path(name).parent == self._folder:
            Path(name).unlink(missing_ok=True)
