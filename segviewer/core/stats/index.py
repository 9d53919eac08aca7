"""The summary index: each sample's summary in SQLite, so a dataset reopens without reading.

A summary is what ``segviewer info`` prints of a sample (shapes, class names, pixels per
class, background, conflicts, ignore) with the sample's warnings; statistics and the
panel's sample list are made from it. Entries are keyed by the sample's files (absolute
path, size and modification time of each, plus a folder dataset's ``classes.txt``) and by
how the masks were read (the class axis): a changed or new file is simply not found and is
read again. The index lives in the user's cache folder (``platformdirs``), never in the
data folder; ``SEGVIEWER_CACHE_DIR`` moves it. A file that is not a readable index is
replaced (with a warning), never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segviewer.core.data.sample import Sample, SampleRef
from segviewer.core.stats.classes import SampleSummary
from segviewer.core.stats.counts import sample_info

VERSION = 1
FIELDS = {"name", "image_shape", "spatial_shape", "classes", "counts", "background"}
FIELDS |= {"conflicts", "ignore", "warnings"}


def summary_record(sample: Sample) -> dict:
    """The summary of a sample: ``info``'s record and the sample's warnings."""
    return {**sample_info(sample), "warnings": list(sample.warnings)}


def as_summary(record: dict) -> SampleSummary:
    """The sample list's and the statistics' view of a summary record."""
    row = [record["background"], *record["counts"], record["conflicts"]]
    return SampleSummary(
        tuple(record["spatial_shape"]), tuple(record["classes"]), np.array(row, np.int64)
    )


def cache_folder() -> Path:
    """segviewer's cache folder: ``SEGVIEWER_CACHE_DIR``, else the user's cache directory."""
    folder = os.environ.get("SEGVIEWER_CACHE_DIR")
    if folder:
        return Path(folder)
    from platformdirs import user_cache_path

    return user_cache_path("segviewer")


def default_path() -> Path:
    return cache_folder() / "summaries.sqlite"


class SummaryIndex:
    """Summaries by sample files; see the module's docstring."""

    def __init__(self, path: Path | None = None, warn: Callable[[str], None] = print):
        self.path = Path(path) if path is not None else default_path()
        self.warn = warn
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._connection = self._open()
            except sqlite3.DatabaseError as error:
                self.warn(f"{self.path}: not a readable summary index ({error}); rebuilding it")
                self.path.unlink(missing_ok=True)
                self._connection = self._open()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS summaries (key TEXT PRIMARY KEY, record TEXT NOT NULL)"
        )
        connection.execute("SELECT count(*) FROM summaries").fetchone()  # a corrupt file fails
        return connection

    def get(
        self,
        refs: Sequence[SampleRef],
        class_axis: str = "auto",
        convert: Callable[[dict], Any] | None = None,
    ) -> dict[int, Any]:
        """The summaries found, by position in ``refs`` (changed files are not found), each
        passed through ``convert`` as soon as it is read, if given (so that 10,000 parsed
        records, ~20 Python objects each, are never alive at once)."""
        keys = {key: i for i, key in enumerate(keys_of(refs, class_axis)) if key is not None}
        found: dict[int, Any] = {}
        try:
            connection = self._connect()
            names = list(keys)
            for start in range(0, len(names), 500):
                batch = names[start : start + 500]
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, record FROM summaries WHERE key IN ({marks})"
                for key, text in connection.execute(query, batch):
                    record = _valid(text, refs[keys[key]].name)
                    if record is not None:
                        found[keys[key]] = record if convert is None else convert(record)
        except sqlite3.DatabaseError as error:
            self._rebuild(error)
            return {}
        return found

    def put(self, items: Sequence[tuple[SampleRef, dict]], class_axis: str = "auto") -> None:
        """Remember these summaries (samples without files are not indexed)."""
        keys = keys_of([ref for ref, _ in items], class_axis)
        rows = [
            (key, json.dumps(record))
            for key, (_, record) in zip(keys, items, strict=True)
            if key is not None
        ]
        if not rows:
            return
        try:
            connection = self._connect()
            with connection:
                connection.executemany("INSERT OR REPLACE INTO summaries VALUES (?, ?)", rows)
        except sqlite3.DatabaseError as error:
            self._rebuild(error)

    def clear(self) -> None:
        """Forget every summary (delete the index file)."""
        self.close()
        self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        try:
            return self._connect().execute("SELECT count(*) FROM summaries").fetchone()[0]
        except sqlite3.DatabaseError as error:
            self._rebuild(error)
            return 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _rebuild(self, error: Exception) -> None:
        self.warn(f"{self.path}: not a readable summary index ({error}); rebuilding it")
        self.clear()


def keys_of(refs: Sequence[SampleRef], class_axis: str) -> list[str | None]:
    """What identifies each sample's content: its files' absolute paths, sizes and
    modification times (and its folder's ``classes.txt``); None for a sample without files."""
    listings: dict[str, list] = {}  # a folder's classes.txt, stamped once

    def listing(root: str) -> list:
        if root not in listings:
            stamp = _stamp(os.path.join(root, "classes.txt"))
            listings[root] = [stamp] if stamp else []
        return listings[root]

    keys = []
    for ref in refs:
        stamps = [_stamp(p) for p in ref.source.paths]
        root = ref.source.extra.get("root")
        if root is not None:
            stamps += listing(str(root))
        if not stamps or None in stamps:
            keys.append(None)
        else:
            keys.append(json.dumps([VERSION, class_axis, ref.name, stamps]))
    return keys


def _stamp(path) -> tuple[str, int, int] | None:
    """Path, size and modification time. A folder sample (OME-Zarr) is stamped by all its
    files (rewriting a chunk does not touch the folder's own time): their total size and a
    digest of each file's name, size and time, so a chunk rewritten, removed or put back
    with an older time makes another stamp."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            return (os.path.abspath(path), *_folder_stamp(path))
    except OSError:
        return None
    return os.path.abspath(path), info.st_size, info.st_mtime_ns


def _folder_stamp(folder) -> tuple[int, int]:
    digest, size = hashlib.blake2b(digest_size=8), 0
    for root, folders, names in os.walk(folder, onerror=_raise):
        folders.sort()
        for name in sorted(names):
            file = os.path.join(root, name)
            info = os.stat(file)
            size += info.st_size
            relative = os.path.relpath(file, folder)
            digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return size, int.from_bytes(digest.digest(), "big")


def _raise(error: OSError) -> None:
    raise error  # an unreadable folder: not stamped, so not indexed


def _valid(text: str, name: str) -> dict | None:
    """A stored record, if it is one (anything else is read again, never trusted)."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or set(record) != FIELDS or record["name"] != name:
        return None
    if len(record["counts"]) != len(record["classes"]):
        return None
    return record
