"""Save in every container and format, read back bit for bit; refusals leave nothing behind."""

import os

import numpy as np
import pytest
from conftest import small_sample, write_nifti_pair, write_npz, write_tiff_pair

from segviewer.cli import main
from segviewer.core.editing.rules import apply, plan
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples


def source_dataset(tmp_path, container):
    """A two-sample dataset (one 3D) stored in ``container``."""
    src = tmp_path / "src"
    src.mkdir()
    flat, volume = small_sample(seed=1, name="a"), small_sample((6, 20, 24), seed=2, name="b")
    if container == "npz":
        write_npz(src / "a.npz", flat), write_npz(src / "b.npz", volume)
    elif container == "tiff":
        write_tiff_pair(src, flat), write_tiff_pair(src, volume)
    elif container == "nifti":
        write_nifti_pair(src, volume.image, np.moveaxis(volume.masks, 0, -1))
    else:
        save_samples([flat, volume], src / "ds", "masks")
        return open_dataset(src / "ds")
    return open_dataset(src)


@pytest.mark.parametrize("container", ["npz", "tiff", "nifti", "folder"])
@pytest.mark.parametrize("fmt", ["onehot", "index", "masks"])
def test_save_then_load_gives_the_same_arrays(tmp_path, container, fmt):
    dataset = source_dataset(tmp_path, container)
    samples = list(dataset)
    if fmt != "masks":
        for i, sample in enumerate(samples):  # exclusive formats need resolved labels
            sample.ignore = apply(sample.masks, plan(sample.masks, "ignore" if i else "nearest"))
    save_samples(samples, tmp_path / "out", fmt)
    back = open_dataset(tmp_path / "out")
    assert back.names == [s.name for s in samples]
    for got, want in zip(back, samples, strict=True):
        np.testing.assert_array_equal(got.image, want.image)
        assert got.image.dtype == want.image.dtype
        np.testing.assert_array_equal(got.masks, want.masks)
        assert (got.ignore is None) == (want.ignore is None or not want.ignore.any())
        if want.ignore is not None and want.ignore.any():
            np.testing.assert_array_equal(got.ignore, want.ignore)
        if container != "nifti" or fmt == "masks":
            assert (
                got.class_names[: len(want.class_names)] == want.class_names or container == "nifti"
            )
        if container == "nifti":
            np.testing.assert_array_equal(got.source.affine, want.source.affine)


def test_exclusive_formats_refuse_conflicts_and_write_nothing(tmp_path, sample2d):
    with pytest.raises(
        SegviewerError, match=r"s0: \d[\d,]* conflict pixels remain .* resolve them first"
    ):
        save_samples([sample2d], tmp_path / "out", "index")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
    save_samples([sample2d], tmp_path / "out", "masks")  # as they are: allowed
    assert open_dataset(tmp_path / "out").sample(0).masks.tolist() == sample2d.masks.tolist()


def test_resolve_cli_writes_exclusive_labels_in_the_input_container(tmp_path, capsys):
    dataset = source_dataset(tmp_path, "tiff")
    assert (
        main(
            [
                "resolve",
                str(tmp_path / "src"),
                "--rule",
                "priority",
                "--priority",
                "spot",
                "--format",
                "index",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.tif",
        "a_labels.tif",
        "b.tif",
        "b_labels.tif",
    ]
    out = capsys.readouterr().out
    assert "cell → spot" in out and "spot → cell" not in out
    for got, want in zip(open_dataset(tmp_path / "out"), dataset, strict=True):
        assert got.masks.sum(axis=0).max() <= 1
        np.testing.assert_array_equal(got.masks[1], want.masks[1])  # spot kept every pixel
    assert main(["info", str(tmp_path / "out"), "--json"]) == 0
    assert '"conflicts": 0' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "coin"], "unknown rule 'coin'"),
        (["--rule", "priority", "--priority", "nucleus"], "unknown class 'nucleus'"),
    ],
)
def test_resolve_cli_bad_input(tmp_path, capsys, args, message):
    source_dataset(tmp_path, "npz")
    assert main(["resolve", str(tmp_path / "src"), *args, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_resolve_cli_refuses_the_input_folder_and_an_unwritable_place(tmp_path, capsys):
    source_dataset(tmp_path, "npz")
    before = sorted(os.listdir(tmp_path / "src"))
    assert (
        main(
            [
                "resolve",
                str(tmp_path / "src"),
                "--rule",
                "background",
                "--out",
                str(tmp_path / "src"),
            ]
        )
        == 2
    )
    assert "is the input's own folder" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "src")) == before
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        main(
            ["resolve", str(tmp_path / "src"), "--rule", "background", "--out", str(blocker / "o")]
        )
        == 2
    )
    assert "cannot write here" in capsys.readouterr().err


def test_resolve_cli_on_a_sample_without_conflicts_says_so(tmp_path, capsys):
    sample = small_sample(name="clean")
    sample.masks[1] = 0  # no spot, so no overlap; an entirely empty class
    write_npz(tmp_path / "clean.npz", sample)
    assert (
        main(
            [
                "resolve",
                str(tmp_path / "clean.npz"),
                "--rule",
                "nearest",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "clean: no conflicts, nothing to resolve" in captured.err
    assert "none (no conflicts)" in captured.out


def test_a_full_disk_midway_leaves_nothing_half_written(tmp_path, monkeypatch, capsys):
    import errno

    import segviewer.core.io.writers as writers

    source_dataset(tmp_path, "npz")
    calls = []
    real = np.savez_compressed

    def fills_up(file, **arrays):
        calls.append(file)
        if len(calls) == 2:  # the second sample hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        real(file, **arrays)

    monkeypatch.setattr(writers.np, "savez_compressed", fills_up)
    assert (
        main(
            ["resolve", str(tmp_path / "src"), "--rule", "priority", "--out", str(tmp_path / "out")]
        )
        == 2
    )
    assert (
        "writing failed (no space left on device); nothing was written" in capsys.readouterr().err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no output, no temp folder


@pytest.mark.parametrize("container", ["tiff", "folder"])
def test_a_three_slice_volume_stays_a_volume(tmp_path, container):
    from segviewer.core.data.sample import Source

    volume = small_sample((3, 20, 24), name="v")  # tifffile would guess RGB for (3, Y, X)
    volume.source = Source(container)
    save_samples([volume], tmp_path / "out", "masks")
    back = open_dataset(tmp_path / "out").sample(0)
    assert back.image.shape == (3, 20, 24) and not back.rgb
    np.testing.assert_array_equal(back.masks, volume.masks)
