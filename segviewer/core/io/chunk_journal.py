"""Rewriting chunks of zarr arrays in a local store so that a crash never leaves a store
half-saved: a write-ahead journal.

A save of edited chunks goes in three steps:

1. *Stage*: every new chunk is encoded by zarr into a mirror of its array (the same
   metadata) inside ``STORE/.segviewer-journal/staged/``, and synced to disk. The store is
   not touched.
2. *Commit*: ``manifest.json`` lists each chunk file to replace (or to delete: a chunk that
   became all zeros, which zarr does not write). It appears by an atomic rename; from then
   on the save is decided.
3. *Apply*: each staged file replaces its chunk file with ``os.replace`` (atomic per file),
   then the journal is removed.

:func:`recover` (run before any read for editing and before every save) finishes a
committed journal and drops one that never got its manifest, so after a crash at any point
the store holds either every chunk of the save or none. Recoveries and saves of a store
take :func:`store_lock` (a thread lock and an advisory lock file in the store), so a save
never meets another one half-way. Only local folder stores are supported, and only arrays
without sharding (one file per chunk).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError

JOURNAL = ".segviewer-journal"
LOCK = ".segviewer-lock"
METADATA_FILES = (".zarray", ".zattrs", "zarr.json")


@dataclass
class ChunkWrite:
    """The new content of one chunk of ``array`` (a zarr array in a local store)."""

    array: object
    index: tuple[int, ...]  # the chunk's position in the chunk grid
    data: np.ndarray  # the chunk's whole content (an edge chunk: only its part in the array)


class ChunkSaveError(SegviewerError):
    """A save that did not complete; ``unsaved`` lists the chunk files not written."""

    def __init__(self, message: str, unsaved: Sequence[str]):
        super().__init__(message)
        self.unsaved = list(unsaved)


def chunk_slices(array, index: tuple[int, ...]) -> tuple[slice, ...]:
    """The region of ``array`` that chunk ``index`` covers."""
    return tuple(
        slice(i * c, min((i + 1) * c, n))
        for i, c, n in zip(index, array.chunks, array.shape, strict=True)
    )


def chunks_touching(array, box: Sequence[slice]) -> list[tuple[int, ...]]:
    """The grid positions of every chunk of ``array`` that overlaps ``box``."""
    ranges = [range(s.start // c, -(-s.stop // c)) for s, c in zip(box, array.chunks, strict=True)]
    return [
        tuple(r[i] for r, i in zip(ranges, index, strict=True))
        for index in np.ndindex(*map(len, ranges))
    ]


def store_root(array) -> Path:
    """The folder of the local store that holds ``array``; refused otherwise."""
    root = getattr(array.store, "root", None)
    if root is None:
        raise SegviewerError(
            f"{array.store}: only zarr stores in a local folder can be edited in place"
        )
    return Path(root)


@contextlib.contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """Exclusive use of the store at ``root`` for a recovery or a save: one thread of this
    process at a time, and one process (an advisory lock file beside the store)."""
    root = Path(root)
    with _THREAD_LOCKS.setdefault(str(root.resolve()), threading.Lock()):
        try:
            descriptor = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only store: no other writer can be saving either
            yield
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock


_THREAD_LOCKS: dict[str, threading.Lock] = {}


def write_chunks(root: Path, changes: Callable[[], Sequence[ChunkWrite]]) -> int:
    """Under :func:`store_lock`: finish any interrupted save, then write the chunks that
    ``changes()`` returns (computed only now, from the store as it then is) through the
    journal; the number of chunk files replaced or deleted. Raises
    :class:`ChunkSaveError` (nothing written, or after the commit a named remainder that
    :func:`recover` finishes later)."""
    root = Path(root)
    with store_lock(root):
        _recover(root)
        writes = changes()
        if not writes:
            return 0
        journal = root / JOURNAL
        try:
            actions = _stage(root, journal, writes)
            _commit(journal, actions)
        except OSError as error:
            _drop(journal)
            names = sorted({_chunk_path(w.array, w.index) for w in writes})
            raise ChunkSaveError(
                f"{root}: could not write the journal ({error.strerror or error}); none of "
                f"the {len(names)} edited chunks was saved and the store is unchanged",
                names,
            ) from None
        return _apply(root, journal, actions)


def recover(root: Path) -> int:
    """Finish a committed journal left in ``root`` by a crash, or drop an uncommitted one;
    the number of chunk files it applied."""
    with store_lock(Path(root)):
        return _recover(Path(root))


def _recover(root: Path) -> int:
    journal = root / JOURNAL
    if not journal.exists():
        return 0
    manifest = journal / "manifest.json"
    if not manifest.is_file():
        shutil.rmtree(journal)  # staged only: the store was never touched
        return 0
    try:
        actions = json.loads(manifest.read_text())["actions"]
    except (OSError, ValueError, KeyError, TypeError):
        raise SegviewerError(
            f"{manifest}: a damaged save journal; expected the list of chunks of an "
            "interrupted save (move the folder away to open the store as it is)"
        ) from None
    return _apply(root, journal, actions)


def _chunk_path(array, index: tuple[int, ...]) -> str:
    """The chunk's file, relative to the store root, with "/" separators."""
    key = array.metadata.encode_chunk_key(index)
    return f"{array.path}/{key}" if array.path else key


def _stage(root: Path, journal: Path, writes: Sequence[ChunkWrite]) -> list[list[str]]:
    """Encode every chunk into mirrors of the arrays under ``journal/staged``; the
    actions ``[["replace" | "delete", relative path], ...]``."""
    import zarr

    staged = journal / "staged"
    staged.mkdir(parents=True)
    mirrors: dict[str, object] = {}
    actions = []
    for write in writes:
        array = write.array
        if getattr(array.metadata, "zarr_format", 2) == 3 and _sharded(array):
            raise SegviewerError(f"{root / array.path}: sharded arrays cannot be edited in place")
        if array.path not in mirrors:
            mirror = staged / array.path
            mirror.mkdir(parents=True)
            for name in METADATA_FILES:
                if (root / array.path / name).is_file():
                    shutil.copyfile(root / array.path / name, mirror / name)
            mirrors[array.path] = zarr.open_array(str(mirror), mode="r+")
        mirrors[array.path][chunk_slices(array, write.index)] = write.data
        relative = _chunk_path(array, write.index)
        written = staged / relative
        if written.is_file():
            _sync(written)
            actions.append(["replace", relative])
        else:  # all zeros: zarr writes no file, and the store's must go
            actions.append(["delete", relative])
    return actions


def _sharded(array) -> bool:
    return any("sharding" in type(codec).__name__.lower() for codec in array.metadata.codecs)


def _commit(journal: Path, actions: list[list[str]]) -> None:
    for folder in {(journal / "staged" / r).parent for _, r in actions} | {journal}:
        _sync_folder(folder)  # the staged files' names are on disk before the commit
    partial = journal / "manifest.json.partial"
    with open(partial, "w") as handle:
        json.dump({"actions": actions}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, journal / "manifest.json")
    _sync_folder(journal)


def _drop(journal: Path) -> None:
    """Remove a journal that must not be applied: its manifest first, so that a crash
    while removing the rest leaves nothing ``recover`` would apply."""
    with contextlib.suppress(OSError):
        (journal / "manifest.json").unlink(missing_ok=True)
    shutil.rmtree(journal, ignore_errors=True)


def _apply(root: Path, journal: Path, actions: list[list[str]]) -> int:
    """Carry out the committed ``actions``; idempotent (under the store lock, a staged
    file already gone was moved before a crash), so a crash here is finished by
    :func:`recover`."""
    done = 0
    for position, (kind, relative) in enumerate(actions):
        target = root / relative
        try:
            if kind == "replace":
                source = journal / "staged" / relative
                if not source.exists():
                    continue  # moved before a crash
                target.parent.mkdir(parents=True, exist_ok=True)
                _move(source, target)
            elif target.exists():
                target.unlink()
            done += 1
        except OSError as error:
            rest = [r for _, r in actions[position:]]
            raise ChunkSaveError(
                f"{root}: {len(rest)} of {len(actions)} edited chunks were not written "
                f"({error.strerror or error}), first {rest[0]}; they stay in {journal.name} "
                "and are written when the store is next opened for editing",
                rest,
            ) from None
    for folder in {(root / r).parent for _, r in actions}:
        _sync_folder(folder)  # the renames are on disk before the journal goes
    shutil.rmtree(journal, ignore_errors=True)  # every chunk is in place already
    return done


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)  # atomic: the target holds the old chunk or the new one


def _sync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _sync_folder(path: Path) -> None:
    """Put a folder's entries on disk (where the system allows folders to be synced)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # e.g. EINVAL on file systems that cannot sync a folder
        pass
    finally:
        os.close(descriptor)
