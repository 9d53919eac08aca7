"""The bad-input corpus: every case is refused with status 2 and one stderr line naming the
file and what was expected; no traceback, nothing written, inputs unchanged. napari's
reader hook declines foreign files without raising.

The cases are in ``bad_input_cases.py`` (files, datasets, output folders) and
``bad_model_cases.py`` (model files and runs).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import bad_model_cases  # noqa: F401  (registers the model cases)
import numpy as np
import pytest
import tifffile
from bad_input_cases import CASES, dataset, npz, png_bomb, tiff_pair

from segviewer.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def tree_state(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its kind, mode and (for files) content hash; pipes and
    links are recorded, never opened or followed."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            digest = None
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_mode, digest)
    return state


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_refused_on_one_line(name, tmp_path, capsys):
    build, expected = CASES[name]
    root = tmp_path / "data"
    root.mkdir()
    argv = build(root)
    before = tree_state(tmp_path)
    capsys.readouterr()
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("segviewer: error: "), err
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert tree_state(tmp_path) == before  # nothing written, nothing changed


def test_the_cli_as_a_process_gives_one_line_for_library_chatter(tmp_path):
    """tifffile's log line and Pillow's warning would reach stderr outside the CLI's
    in-process capture too: run the installed command."""
    import subprocess
    import sys

    tiff = tiff_pair(tmp_path)
    data = bytearray(tiff.read_bytes())
    data[4:8] = (10**6).to_bytes(4, "little")
    tiff.write_bytes(bytes(data))
    folder = dataset(tmp_path)
    png_bomb(folder / "images" / "s0.png")
    command = Path(sys.executable).with_name("segviewer")
    for target in (tiff, folder):
        result = subprocess.run(
            [str(command), "info", str(target)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1, result.stderr


FOREIGN = {
    "notes.txt": lambda p: p.write_text("hello"),
    "table.csv": lambda p: p.write_text("a,b\n1,2\n"),
    "config.json": lambda p: p.write_text("{}"),
    "photo.png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n"),
    "photo.jpg": lambda p: p.write_bytes(b"\xff\xd8\xff\xe0"),
    "plain.tif": lambda p: tifffile.imwrite(p, np.zeros((4, 4), np.uint8)),
    "scan.nii.gz": lambda p: p.write_bytes(b"\x1f\x8b"),
    "data.h5": lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n"),
    "movie.mp4": lambda p: p.write_bytes(b"\x00\x00\x00\x18ftypmp42"),
    "paper.pdf": lambda p: p.write_bytes(b"%PDF-1.4"),
    "store.zarr": lambda p: (p.mkdir(), (p / ".zarray").write_text("{}")),
    "empty": lambda p: p.mkdir(),
    "pictures": lambda p: (p.mkdir(), (p / "a.png").write_bytes(b"\x89PNG")),
    "pipe.npz": lambda p: os.mkfifo(p),
    "loop.npz": lambda p: os.symlink(p.name, p),
    "broken.npz": lambda p: os.symlink("nowhere.npz", p),
    "._a.npz": lambda p: p.write_bytes(b"\x00\x05\x16\x07"),
    "hidden": lambda p: (p.mkdir(), (p / ".DS_Store").write_bytes(b"\x00")),
    "missing.npz": lambda p: None,
    "L" * 250 + ".tif": lambda p: tifffile.imwrite(p, np.zeros((4, 4), np.uint8)),
    "no\x00such.npz": lambda p: None,
}


def test_napari_reader_declines_foreign_files_without_raising(tmp_path):
    from segviewer._napari.reader import napari_get_reader

    for name, make in FOREIGN.items():
        if "\x00" not in name:
            make(tmp_path / name)
    assert len(FOREIGN) >= 15
    for name in FOREIGN:
        assert napari_get_reader(str(tmp_path / name)) is None, name
    assert napari_get_reader([str(tmp_path / n) for n in FOREIGN]) is None
    assert napari_get_reader(str(npz(tmp_path))) is not None  # ours still read
