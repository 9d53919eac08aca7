"""Unusual inputs that are valid (issue 12): they are read, written and predicted, with a
warning where something is left out, never refused and never silently changed."""

from __future__ import annotations

import tracemalloc

import nibabel
import numpy as np
import pytest
from bad_input_cases import dataset, image, masks, npz
from PIL import Image

from segviewer.cli import main
from segviewer.core.data.encodings import from_index
from segviewer.core.data.sample import Sample, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples


def test_hidden_and_apple_double_files_are_skipped(tmp_path, capsys):
    folder = dataset(tmp_path)
    for sub in ("images", "masks/cell"):
        (folder / sub / "._s0.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
        (folder / sub / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "masks" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "loose").mkdir()
    npz(tmp_path / "loose")
    (tmp_path / "loose" / "._a.npz").write_bytes(b"\x00\x05\x16\x07")
    assert main(["info", str(folder), "--json"]) == 0
    assert main(["info", str(tmp_path / "loose"), "--json"]) == 0
    assert capsys.readouterr().err == ""
    assert open_dataset(folder).names == ["s0", "s1"]


def test_a_mask_without_an_image_is_a_warning(tmp_path, capsys):
    folder = dataset(tmp_path)
    Image.fromarray(masks()[0] * np.uint8(255)).save(folder / "masks" / "cell" / "extra.png")
    assert main(["info", str(folder)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("segviewer: warning: ")
    assert "1 mask file(s) with no image" in err[0] and "masks/cell/extra.png" in err[0]
    with pytest.warns(UserWarning, match="extra.png"):  # Python users get a Python warning
        open_dataset(folder)


def test_sample_names_with_dots_keep_every_file(tmp_path):
    exclusive = masks()
    exclusive[1] &= 1 - exclusive[0]
    samples = [Sample(f"scan.00{i}", image(), exclusive, ["cell", "spot"]) for i in (1, 2)]
    for fmt in ("masks", "index"):
        back = open_dataset(save_samples(samples, tmp_path / fmt, fmt))
        assert back.names == ["scan.001", "scan.002"]
        np.testing.assert_array_equal(back.sample(1).masks[0], masks()[0])


def test_an_int64_nifti_image_is_written_in_a_nifti_type(tmp_path):
    volume = image((4, 16, 20)).astype(np.int64) - 100
    sample = Sample("v", volume, masks((4, 16, 20)), ["cell", "spot"], Source("nifti"))
    out = save_samples([sample], tmp_path / "out", "onehot")
    written = nibabel.load(out / "v.nii.gz")
    assert written.get_data_dtype() == np.int32
    np.testing.assert_array_equal(np.asanyarray(written.dataobj), volume)


def test_a_bool_nifti_image_is_written_as_uint8(tmp_path):
    sample = Sample("v", image((4, 16, 20)) > 100, masks((4, 16, 20)), ["c", "s"], Source("nifti"))
    out = save_samples([sample], tmp_path / "out", "masks")
    np.testing.assert_array_equal(open_dataset(out).sample(0).image, sample.image)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (5, 17)])
def test_tiny_images_predict(shape):
    from segviewer.core.model.inference import predict
    from segviewer.core.model.registry import open_model

    probabilities = predict(open_model("bundled"), image(shape), None)
    assert probabilities.shape == (3, *shape) and np.isfinite(probabilities).all()


def test_an_output_name_of_245_characters_is_written(tmp_path):
    out = tmp_path / ("O" * 245)
    argv = ["resolve", str(npz(tmp_path)), "--rule", "priority", "--out", str(out)]
    assert main(argv) == 0
    assert open_dataset(out).names == ["a"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "tab\there"])
def test_the_writer_refuses_class_and_sample_names_that_are_not_plain(tmp_path, name):
    for sample in (
        Sample("s", image(), masks(), [name, "spot"]),
        Sample(name or " ", image(), masks(), ["cell", "spot"]),
    ):
        with pytest.raises(SegviewerError, match="expected a plain name"):
            save_samples([sample], tmp_path / "out", "masks")
        assert list(tmp_path.iterdir()) == []


def test_a_huge_label_value_is_refused_before_anything_is_allocated():
    labels = np.zeros((8, 8), np.int64)
    labels[3, 3] = 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(SegviewerError, match="label values 2000000 are not classes"):
            from_index(labels, None, "x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
