"""napari's reader contract: None for foreign paths (never raising), clear messages for ours."""

import numpy as np
import tifffile
from conftest import write_npz, write_tiff_pair

from segviewer._napari.layers import sample_of_ids
from segviewer._napari.reader import NULL_LAYER, napari_get_reader


def test_foreign_paths_get_none_and_never_raise(tmp_path, sample2d):
    tifffile.imwrite(tmp_path / "plain.tif", sample2d.image)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    for path in ["plain.tif", "notes.txt", "empty", "missing.tif", "missing.png"]:
        assert napari_get_reader(str(tmp_path / path)) is None
    assert napari_get_reader([str(tmp_path / "plain.tif")]) is None
    assert napari_get_reader([]) is None


def test_our_files_read_to_image_and_class_layers_sharing_arrays(tmp_path, sample2d):
    image_path, _ = write_tiff_pair(tmp_path, sample2d)
    reader = napari_get_reader(str(image_path))
    layers = reader(str(image_path))
    assert [(kw["name"], kind) for _, kw, kind in layers] == [
        ("s0", "image"),
        ("background", "labels"),
        ("cell", "labels"),
        ("spot", "labels"),
        ("conflicts", "labels"),
    ]
    meta = layers[0][1]["metadata"]["segviewer"]
    assert set(meta) == {"dataset", "index", "role", "class"}  # ids only
    masks = sample_of_ids(meta["dataset"], meta["index"]).masks
    for c, (array, _, _) in enumerate(layers[2:4]):
        assert array.dtype == np.uint8 and np.shares_memory(array, masks)
        np.testing.assert_array_equal(array, sample2d.masks[c])


def test_a_bad_file_of_ours_is_a_notification_not_a_traceback(tmp_path, sample2d):
    from napari.utils.notifications import notification_manager

    path = write_npz(tmp_path / "a.npz", sample2d, masks=sample2d.masks * np.uint8(5))
    reader = napari_get_reader(str(path))
    notification_manager.records.clear()
    assert reader(str(path)) == NULL_LAYER
    assert any(
        "a.npz: mask values must be 0/1" in str(n.message) for n in notification_manager.records
    )
