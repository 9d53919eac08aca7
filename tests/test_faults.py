"""Faults while writing: kill -9 and SIGTERM mid-write, leftovers of dead writers, a full
disk, the umask. Whatever the moment of the fault, no output folder looks complete unless it
is, and the inputs never change.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_bad_inputs import tree_state

from segviewer.cli import main
from segviewer.core.data.sample import Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import partial_prefix
from segviewer.core.io.writers import save_samples

SAMPLES = 20
# what `resolve --format onehot` writes for the 20-sample folder: images, 3 masks each, classes
EXPECTED_FILES = SAMPLES * 4 + 1


def twenty_samples(root: Path) -> Path:
    """A 20-sample dataset folder (cell and spot overlapping) written by segviewer itself."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(SAMPLES):
        masks = np.zeros((2, 192, 192), np.uint8)
        masks[0, 20:150, 30:160] = 1
        masks[1, 100:180, 120:190] = 1
        image = rng.integers(0, 255, (192, 192), dtype=np.uint8)
        samples.append(Sample(f"s{i:02d}", image, masks, ["cell", "spot"]))
    return save_samples(samples, root / "ds", "masks")


def partial_files(parent: Path, pid: int) -> int | None:
    """How many files the temporary folder of process ``pid`` in ``parent`` holds now (None
    before it exists)."""
    folders = list(parent.glob(f".*.sv-*-{pid}-*.partial"))
    return sum(len(files) for _, _, files in os.walk(folders[0])) if folders else None


def resolve_in_a_process(data: Path, out: Path) -> subprocess.Popen:
    argv = ["resolve", str(data), "--rule", "priority", "--out", str(out)]
    return subprocess.Popen(
        [sys.executable, "-m", "segviewer.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def signal_when(process: subprocess.Popen, parent: Path, files: int, signum: int) -> None:
    """Send ``signum`` once the temporary folder holds ``files`` files (or the process ended)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        written = partial_files(parent, process.pid)
        if written is not None and written >= files:
            break
        time.sleep(0.001)
    if process.poll() is None:
        process.send_signal(signum)
    process.communicate(timeout=60)


def assert_complete_or_absent(out: Path) -> None:
    if out.exists():
        assert sum(len(files) for _, _, files in os.walk(out)) == EXPECTED_FILES


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_resolve_leaves_no_complete_looking_output(tmp_path, signum, capsys):
    data = twenty_samples(tmp_path)
    inputs = tree_state(data)
    points = (0, 10, 40, 70) if signum == signal.SIGKILL else (20,)
    for n, files in enumerate(points):
        out = tmp_path / f"out{n}"
        process = resolve_in_a_process(data, out)
        signal_when(process, tmp_path, files, signum)
        assert_complete_or_absent(out)
        if signum == signal.SIGTERM:  # handled like Ctrl+C: cleaned up, status 130
            assert process.returncode in (0, 130)
            assert not list(tmp_path.glob(".*.partial"))
    assert tree_state(data) == inputs
    # the next write into the same folder removes what the killed processes left
    assert main(["resolve", str(data), "--rule", "priority", "--out", str(tmp_path / "last")]) == 0
    assert not list(tmp_path.glob(".*.partial"))
    assert_complete_or_absent(tmp_path / "last")
    assert tree_state(data) == inputs


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_leftovers_of_dead_writers_are_removed(tmp_path, sample2d):
    alive = tmp_path / f"{partial_prefix('busy')}abc.partial"
    dead = tmp_path / f"{partial_prefix('old')}def.partial".replace(
        f"-{os.getpid()}-", f"-{dead_pid()}-"
    )
    dead_file = tmp_path / f"{partial_prefix('m.safetensors')}ghi.partial".replace(
        f"-{os.getpid()}-", f"-{dead_pid()}-"
    )
    foreign = tmp_path / ".mine.partial"
    for folder in (alive, dead, foreign):
        folder.mkdir()
        (folder / "x.png").write_bytes(b"x")
    dead_file.write_bytes(b"half a model")
    save_samples([sample2d], tmp_path / "out", "masks")
    assert alive.exists() and foreign.exists()  # a running writer's, and not ours
    assert not dead.exists() and not dead_file.exists()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_folders_and_files_follow_the_umask(tmp_path, sample2d, umask):
    previous = os.umask(umask)
    try:
        out = save_samples([sample2d], tmp_path / "out", "masks")
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    assert (out / "classes.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_full_disk_reported_without_an_error_number_is_named(tmp_path, monkeypatch, sample2d):
    """numpy's ``tofile`` (used by tifffile) reports a full disk as a bare short write."""
    import shutil
    from types import SimpleNamespace

    import tifffile

    def short_write(*args, **kwargs):
        raise OSError("120000 requested and 102272 written")

    sample2d.source.format = "tiff"
    monkeypatch.setattr(tifffile, "imwrite", short_write)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(free=0))
    with pytest.raises(SegviewerError, match=r"out: writing failed \(no space left on device\)"):
        save_samples([sample2d], tmp_path / "out", "masks")
    assert list(tmp_path.iterdir()) == []


def test_a_model_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import safetensors.torch
    from bad_model_cases import tiny_info

    from segviewer.core.model.files import ModelInfo, build_network, save_model

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    info = ModelInfo(**tiny_info())
    with pytest.raises(SegviewerError, match=r"m.safetensors: cannot write the model \(no space"):
        save_model(tmp_path / "m.safetensors", build_network(info), info)
    assert list(tmp_path.iterdir()) == []


def napari_layers(tmp_path: Path, sample) -> list:
    """The layers napari's reader gives for ``sample`` with its conflicts resolved."""
    from bad_input_cases import npz

    from segviewer._napari.reader import napari_get_reader

    sample.masks[1] &= 1 - sample.masks[0]
    path = npz(tmp_path, image=sample.image, masks=sample.masks, class_names=sample.class_names)
    return napari_get_reader(str(path))(str(path))


def test_the_napari_writer_on_a_full_disk_notifies_and_leaves_nothing(tmp_path, monkeypatch):
    from conftest import small_sample

    import segviewer._napari.writer as writer

    layers = napari_layers(tmp_path, small_sample())
    messages = []
    monkeypatch.setattr(writer, "show_error", messages.append)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.np, "savez_compressed", full)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert writer.write_sample_npz(str(tmp_path / "saved.npz"), layers) == []
    assert len(messages) == 1 and "saved.npz: cannot write the sample (no space" in messages[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_napari_writer_into_an_unwritable_place_notifies(tmp_path, monkeypatch):
    from conftest import small_sample

    import segviewer._napari.writer as writer

    layers = napari_layers(tmp_path, small_sample())
    messages = []
    monkeypatch.setattr(writer, "show_error", messages.append)
    (tmp_path / "file").write_text("x")
    assert writer.write_sample_npz(str(tmp_path / "file" / "saved.npz"), layers) == []
    assert len(messages) == 1 and "saved.npz: cannot write the sample" in messages[0]
    if os.geteuid() != 0:  # root writes into read-only folders
        (tmp_path / "ro").mkdir(mode=0o500)
        assert writer.write_sample_npz(str(tmp_path / "ro" / "saved.npz"), layers) == []
        assert "Permission denied" in messages[-1]
