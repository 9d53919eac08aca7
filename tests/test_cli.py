"""The ``segviewer`` command: JSON equal to the core's numbers, bad input exits 2 on one line."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import small_sample, write_npz

from segviewer.cli import main


def run_cli(*args, env=None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would."""
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "segviewer"), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_info_json_matches_an_independent_count(tmp_path):
    samples = [small_sample(seed=1, name="a"), small_sample((6, 20, 24), seed=2, name="b")]
    paths = [write_npz(tmp_path / f"{s.name}.npz", s) for s in samples]
    result = run_cli("info", *paths, "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)["samples"]
    for record, sample in zip(records, samples, strict=True):
        masks = sample.masks.astype(bool)
        assert record == {
            "name": sample.name,
            "image_shape": list(sample.image.shape),
            "spatial_shape": list(sample.image.shape),
            "classes": ["cell", "spot"],
            "counts": [int(m.sum()) for m in masks],
            "background": int((~masks.any(axis=0)).sum()),
            "conflicts": int((masks.sum(axis=0) >= 2).sum()),
            "ignore": 0,
        }


def test_info_table_on_a_dataset_folder(dataset_folder, capsys):
    assert main(["info", str(dataset_folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["sample", "shape", "cell", "spot", "background", "conflicts"]
    assert [line.split()[0] for line in lines[2:]] == [
        "sample_000",
        "sample_001",
        "sample_002",
        "volume_000",
    ]


def test_info_warns_about_a_missing_class_file(dataset_folder, capsys):
    (dataset_folder / "masks" / "cell" / "sample_000.png").unlink()
    assert main(["info", str(dataset_folder), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["samples"][0]["counts"][0] == 0
    assert "segviewer: warning: sample_000: no mask file for class 'cell'" in captured.err


@pytest.mark.parametrize("case", ["missing", "bad_values", "empty_dir", "mismatch", "corrupt"])
def test_bad_input_is_one_line_on_stderr_and_status_2(tmp_path, case):
    sample = small_sample()
    if case == "missing":
        path = tmp_path / "missing.npz"
    elif case == "bad_values":
        path = write_npz(tmp_path / "a.npz", sample, masks=sample.masks * np.uint8(3))
    elif case == "empty_dir":
        path = tmp_path / "empty"
        path.mkdir()
    elif case == "mismatch":
        path = write_npz(tmp_path / "a.npz", sample, image=sample.image[:10])
    else:
        path = tmp_path / "a.npz"
        path.write_bytes(b"PK\x03\x04 broken")
    result = run_cli("info", path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"segviewer: error: {path}")
    assert "Traceback" not in result.stderr


def test_sample_writes_a_seeded_dataset_that_info_reads(tmp_path):
    out = tmp_path / "ds"
    assert (
        run_cli("sample", "--out", out, "--seed", 11, "--count", 2, "--volumes", 1).returncode == 0
    )
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "sample_000.png",
        "sample_001.png",
        "volume_000.tif",
    ]
    assert (out / "classes.txt").read_text() == "cell\nspot\n"
    from segviewer.core.data.synthetic import make_dataset_samples
    from segviewer.core.io.readers import open_dataset

    for got, want in zip(open_dataset(out), make_dataset_samples(11, 2, 1), strict=True):
        np.testing.assert_array_equal(got.image, want.image)
        np.testing.assert_array_equal(got.masks, want.masks)


def test_sample_refuses_an_existing_folder_and_leaves_nothing_behind(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_cli("sample", "--out", out)
    assert result.returncode == 2 and "already exists and is not an empty folder" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no partial folder


def test_sample_into_an_unwritable_place_leaves_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("sample", "--out", blocker / "ds")
    assert result.returncode == 2 and result.stderr.startswith("segviewer: error:")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_demo_without_a_display_says_so_and_exits_nonzero():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = run_cli("demo", env=env)
    assert result.returncode == 2
    assert "no display found" in result.stderr and "--screenshot" in result.stderr
