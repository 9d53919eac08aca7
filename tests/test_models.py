"""Model files, the adapters' registry, tiled inference, and its bad inputs."""

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel, ModelInfo, build_network, load_model, save_model
from segviewer.core.model.inference import Cancelled, predict, window_count
from segviewer.core.model.registry import open_model, registered_models

CLASSES = ["background", "cell", "spot"]


class Thresholds(torch.nn.Module):
    """A fully convolutional stand-in: logits from intensity (background < cell < spot)."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.classes = classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        levels = torch.arange(self.classes, dtype=x.dtype).view(1, -1, 1, 1)
        return -((x[:, :1] - levels * 100.0) ** 2) / 1000.0


def scripted(tmp_path, module=None, name="model.pt"):
    path = tmp_path / name
    torch.jit.script(module or Thresholds()).save(str(path))
    return path


def small_info(**changes) -> ModelInfo:
    info = ModelInfo(
        name="tiny",
        classes=CLASSES,
        architecture={"name": "BasicUNet", "features": [4, 4, 8, 8, 16, 4]},
        window=[64, 64],
    )
    for key, value in changes.items():
        setattr(info, key, value)
    return info


def test_a_model_file_round_trips_without_pickle(tmp_path):
    torch.manual_seed(0)
    info = small_info(scores={"dice": {"cell": 0.9}})
    network = build_network(info).eval()
    save_model(tmp_path / "m.safetensors", network, info)
    loaded, loaded_info = load_model(tmp_path / "m.safetensors")
    assert loaded_info == info
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), network(x))
    assert not list(tmp_path.glob(".*partial"))


def test_files_that_are_not_models_are_refused(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"not a model at all")
    with pytest.raises(SegviewerError, match="not a segviewer model file"):
        load_model(tmp_path / "junk.safetensors")
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04 pickled? no")
    with pytest.raises(SegviewerError, match="not a TorchScript file"):
        open_model(tmp_path / "junk.pt", CLASSES)
    with pytest.raises(SegviewerError, match="neither a registered model"):
        open_model("no-such-model")


def test_the_adapters_are_registered_through_entry_points():
    assert registered_models()[:1] == ["bundled"] and "torchscript" in registered_models()


def test_tiled_inference_equals_monai_and_the_whole_image(tmp_path):
    model = open_model(scripted(tmp_path), CLASSES)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 250, (150, 170)).astype(np.float32)
    model.info.window = [64, 64]
    seen = []
    tiled = predict(model, image, None, progress=lambda done, total: seen.append((done, total)))
    whole = torch.softmax(model.network(torch.from_numpy(image)[None, None]), 1)[0].numpy()
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    monai = sliding_window_inference(
        torch.from_numpy(image)[None, None], (64, 64), 4, model.network, 0.25, "gaussian"
    )
    np.testing.assert_allclose(tiled, torch.softmax(monai, 1)[0].numpy(), atol=1e-5)
    assert seen[-1] == (window_count((150, 170), (64, 64), 0.25),) * 2


def test_a_2d_model_runs_slice_by_slice_on_a_volume(tmp_path):
    model = open_model(scripted(tmp_path), CLASSES)
    volume = np.random.default_rng(1).integers(0, 250, (3, 40, 50)).astype(np.float32)
    out = predict(model, volume, None)
    assert out.shape == (3, 3, 40, 50)
    np.testing.assert_allclose(out[:, 1], predict(model, volume[1], None), atol=1e-6)


def test_cancel_stops_between_windows(tmp_path):
    model = open_model(scripted(tmp_path), CLASSES)
    model.info.window = [32, 32]
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        predict(model, np.zeros((200, 200), np.float32), None, should_stop=stop)


@pytest.mark.parametrize(
    "module, classes, message",
    [
        (Thresholds(4), CLASSES, r"returned logits of shape \(\d+, 4, 64, 64\)"),
        (torch.nn.MaxPool2d(2), CLASSES[:1], r"expected \(\d+, 1\) \+ \(64, 64\)"),
    ],
)
def test_wrong_model_outputs_are_explained(tmp_path, module, classes, message):
    model = open_model(scripted(tmp_path, module), classes)
    model.info.window = [64, 64]
    with pytest.raises(SegviewerError, match=message):
        predict(model, np.zeros((64, 64), np.float32), None)


def test_channel_count_and_cuda_are_checked():
    model = LoadedModel(small_info(), build_network(small_info()))
    with pytest.raises(SegviewerError, match="the image has 3 channel"):
        predict(model, np.zeros((32, 32, 3), np.float32), -1)
    if not torch.cuda.is_available():
        with pytest.raises(SegviewerError, match="CUDA was requested but no GPU"):
            predict(model, np.zeros((32, 32), np.float32), None, device="cuda")
