"""Streamed sliding-window inference: the same numbers as MONAI's sliding_window_inference,
band by band, into any array, for 2D, 3D, padded, uint16 and RGB images."""

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from segviewer.core.data.synthetic import make_sample
from segviewer.core.model.files import fresh_model
from segviewer.core.model.inference import predict, predict_into, predict_labels
from segviewer.core.model.registry import open_model
from segviewer.core.model.sliding import Normalizer, window_starts


@pytest.fixture(scope="module")
def bundled():
    return open_model("bundled")


def monai_probabilities(model, image, channel_axis=None):
    """MONAI's own sliding window over the image as the model prepares it."""
    data = model.prepare(image, channel_axis)
    window = tuple(
        min(w, max(s, 32)) for w, s in zip(model.info.window, data.shape[1:], strict=True)
    )
    with torch.inference_mode():
        logits = sliding_window_inference(
            torch.from_numpy(data)[None], window, 4, model.network, overlap=0.25, mode="gaussian"
        )
    return torch.softmax(logits, 1)[0].numpy()


@pytest.mark.parametrize("shape", [(300, 500), (20, 45), (256, 256), (257, 600)])
def test_probabilities_equal_monai(bundled, shape):
    image = make_sample(np.random.default_rng(3), shape, "x").image
    np.testing.assert_allclose(
        predict(bundled, image, None), monai_probabilities(bundled, image), atol=1e-5
    )


def test_window_starts_are_monais():
    from monai.data.utils import dense_patch_slices

    for size, window in [(500, 256), (256, 256), (257, 256), (1000, 64), (33, 32)]:
        interval = window if window == size else int(window * 0.75)
        slices = dense_patch_slices((size,), (window,), (interval,))
        assert window_starts(size, window) == [s[0].start for s in slices]


def test_3d_volumes_run_the_bundled_volume_model_like_monai(bundled):
    volume = make_sample(np.random.default_rng(4), (24, 70, 90), "v").image
    expected = monai_probabilities(bundled.volume_model, volume)
    np.testing.assert_allclose(predict(bundled, volume, None), expected, atol=1e-5)


def test_a_2d_model_runs_a_volume_plane_by_plane():
    torch.manual_seed(0)
    model = fresh_model("basicunet", ["background", "a", "b"], 1, 2, window=(64, 64))
    volume = make_sample(np.random.default_rng(4), (3, 70, 90), "v").image
    whole = predict_labels(model, volume, None)
    for z in range(3):
        # each plane is normalised by the whole volume's percentiles, as a 2D image by its own
        plane = volume[z].astype(np.float32)
        norm = Normalizer.of(volume, None, model.info.normalization)
        scaled = (plane - norm.low[0]) / (norm.high[0] - norm.low[0])
        model.info.normalization, saved = None, model.info.normalization
        try:
            np.testing.assert_array_equal(whole[z], predict_labels(model, scaled, None))
        finally:
            model.info.normalization = saved


def test_rgb_images_with_channels_last_match_monai():
    torch.manual_seed(1)
    model = fresh_model("basicunet", ["background", "a"], 3, 2, window=(64, 64))
    image = np.random.default_rng(2).integers(0, 255, (90, 130, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        predict(model, image, -1), monai_probabilities(model, image, -1), atol=1e-5
    )


def test_uint16_beyond_32767_is_read_as_unsigned(bundled):
    image = make_sample(np.random.default_rng(6), (200, 240), "x").image.astype(np.uint32)
    image = (image * 40 + 30000).clip(0, 65535)
    as_uint16 = predict(bundled, image.astype(np.uint16), None)
    as_float = predict(bundled, image.astype(np.float32), None)
    np.testing.assert_allclose(as_uint16, as_float, atol=1e-6)


class BandsOnly:
    """An array-like that records the rows each read asks for (a lazy store's view)."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, index):
        rows = index[0] if isinstance(index, tuple) else index
        if isinstance(rows, slice) and rows.step in (None, 1):
            self.reads.append(rows.indices(self.shape[0]))
        return self.array[index]


def test_a_large_image_is_read_and_written_band_by_band(bundled, tmp_path):
    image = make_sample(np.random.default_rng(7), (1400, 300), "tall").image
    lazy = BandsOnly(image)
    labels = np.lib.format.open_memmap(tmp_path / "labels.npy", "w+", np.uint8, image.shape)
    probabilities = np.zeros((3, *image.shape), np.float16)
    written = []

    class Recording(np.ndarray):
        def __setitem__(self, key, value):
            written.append(key)
            super().__setitem__(key, value)

    predict_into(bundled, lazy, None, labels, probabilities.view(Recording))
    expected = predict(bundled, image, None)
    np.testing.assert_array_equal(labels, expected.argmax(0))
    np.testing.assert_allclose(probabilities, expected, atol=1e-3)
    normalizer, *bands = lazy.reads  # a small image's percentiles read it whole, once
    assert normalizer[:2] == (0, 1400)
    assert len(bands) > 3 and max(b - a for a, b, _ in bands) < 600
    assert len(written) > 3  # bands, not one whole image at the end


def test_precisions_agree_and_a_bad_one_is_refused(bundled):
    from segviewer.core.errors import SegviewerError

    image = make_sample(np.random.default_rng(9), (256, 300), "x").image
    fp32 = predict_labels(bundled, image, None, precision="fp32")
    bf16 = predict_labels(bundled, image, None, precision="bf16")
    assert (fp32 == bf16).mean() > 0.99
    np.testing.assert_array_equal(fp32, predict_labels(bundled, image, None))  # auto: fp32
    with pytest.raises(SegviewerError, match="--precision 'fp8': expected one of auto"):
        predict_labels(bundled, image, None, precision="fp8")
