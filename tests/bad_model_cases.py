"""The bad-input corpus, model side: model files (safetensors, TorchScript) and model runs.

Registered in the same ``CASES`` as ``bad_input_cases.py``; ``test_bad_inputs.py`` runs them.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import numpy as np
import torch
from bad_input_cases import case, image, npz
from safetensors.torch import save_file

from segviewer.core.model.files import ModelInfo, build_network


def tiny_info(**changes) -> dict:
    """The metadata of a small valid BasicUNet model file, changed by ``changes``."""
    info = {
        "name": "tiny",
        "classes": ["background", "cell", "spot"],
        "in_channels": 1,
        "spatial_dims": 2,
        "normalization": {"low": 1.0, "high": 99.8},
        "architecture": {"name": "BasicUNet", "features": [4, 4, 8, 8, 16, 4]},
        "window": [32, 32],
        "training": {},
        "scores": {},
    }
    info.update(changes)
    return info


@cache
def tiny_state(features: tuple[int, ...] = (4, 4, 8, 8, 16, 4)) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    network = build_network(
        ModelInfo(**tiny_info(architecture={"name": "BasicUNet", "features": list(features)}))
    )
    return {k: v.contiguous() for k, v in network.state_dict().items()}


def model_file(root: Path, metadata: str | None, state=None) -> Path:
    path = root / "m.safetensors"
    content = {"segviewer": metadata} if metadata is not None else None
    save_file(tiny_state() if state is None else state, str(path), metadata=content)
    return path


def predict(root: Path, model: Path | str, *extra: str) -> list[str]:
    return ["predict", str(npz(root)), "--model", str(model), *extra, "--out", str(root / "pred")]


class Raises(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() > -1.0):
            raise ValueError("boom inside the model")
        return x


class NaNs(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 3, x.shape[2], x.shape[3]), float("nan"))


class TwoChannels(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros((x.shape[0], 2, x.shape[2], x.shape[3]))


class Thresholds(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        levels = torch.arange(3, dtype=x.dtype).view(1, -1, 1, 1)
        return -((x[:, :1] - levels * 100.0) ** 2)


@cache
def scripted(module: type[torch.nn.Module]) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(module()), buffer)
    return buffer.getvalue()


def torchscript(root: Path, module: type[torch.nn.Module]) -> Path:
    path = root / f"{module.__name__.lower()}.pt"
    path.write_bytes(scripted(module))
    return path


# -- finding the model ------------------------------------------------------------------------
@case("none.safetensors", "neither a registered model", "nor a model file")
def model_missing(root):
    return predict(root, root / "none.safetensors")


@case("models", "not a regular file", "expected a model file")
def model_is_a_folder(root):
    (root / "models").mkdir()
    return predict(root, root / "models")


@case("m.safetensors", "not a segviewer model file")
def model_junk_safetensors(root):
    (root / "m.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    return predict(root, root / "m.safetensors")


@case("m.safetensors", "without segviewer model metadata")
def model_without_metadata(root):
    return predict(root, model_file(root, None))


# -- safetensors metadata ----------------------------------------------------------------------
@case("m.safetensors", "not valid JSON", "expected a JSON object")
def metadata_bad_json(root):
    return predict(root, model_file(root, '{"name": "tiny", classes'))


@case("m.safetensors", "is a JSON array", "expected a JSON object")
def metadata_json_list(root):
    return predict(root, model_file(root, json.dumps([tiny_info()])))


@case("m.safetensors", "unknown field 'colour'", "expected a JSON object")
def metadata_unknown_key(root):
    return predict(root, model_file(root, json.dumps(tiny_info(colour="red"))))


@case("m.safetensors", "no field 'classes'", "expected a JSON object")
def metadata_missing_field(root):
    info = tiny_info()
    del info["classes"]
    return predict(root, model_file(root, json.dumps(info)))


@case("m.safetensors", "a bad 'classes'")
def metadata_classes_not_a_list(root):
    return predict(root, model_file(root, json.dumps(tiny_info(classes="background,cell"))))


@case("m.safetensors", "'../x'", "expected a plain name")
def metadata_class_name_traversal(root):
    info = tiny_info(classes=["background", "../x", "spot"])
    return predict(root, model_file(root, json.dumps(info)))


@case("m.safetensors", "a bad 'window'")
def metadata_bad_window(root):
    return predict(root, model_file(root, json.dumps(tiny_info(window=[0, -3]))))


@case("m.safetensors", "a bad 'normalization'")
def metadata_bad_normalization(root):
    return predict(root, model_file(root, json.dumps(tiny_info(normalization={"low": "1"}))))


@case("m.safetensors: unknown architecture", "expected one of: {'name': 'BasicUNet'")
def metadata_unknown_architecture_of_a_model_named_bundled(root):
    info = tiny_info(name="bundled", architecture={"name": "ResNet50"})
    return predict(root, model_file(root, json.dumps(info)))


@case("m.safetensors", "BasicUNet features [4, 4]", "six positive numbers")
def metadata_bad_features(root):
    info = tiny_info(architecture={"name": "BasicUNet", "features": [4, 4]})
    return predict(root, model_file(root, json.dumps(info)))


@case("m.safetensors", "weights do not fit the architecture", "size mismatch")
def weights_of_another_network(root):
    """torch lists every mismatched key on its own line: the message must stay one line."""
    state = tiny_state((8, 8, 8, 8, 16, 8))
    return predict(root, model_file(root, json.dumps(tiny_info()), state))


@case("m.safetensors", "weights do not fit the architecture", "Missing key")
def weights_missing(root):
    state = dict(list(tiny_state().items())[:3])
    return predict(root, model_file(root, json.dumps(tiny_info()), state))


# -- TorchScript files and model runs ----------------------------------------------------------
@case("junk.pt", "not a TorchScript file", "torch.jit.script")
def torchscript_junk(root):
    (root / "junk.pt").write_bytes(b"\x80\x04 pickled? no")
    return predict(root, root / "junk.pt")


@case("a: model 'raises' failed", "boom inside the model")
def torchscript_raising_when_run(root):
    return predict(root, torchscript(root, Raises))


@case("a: model 'nans' returned NaN or infinite logits", "expected finite numbers")
def torchscript_nan_logits(root):
    return predict(root, torchscript(root, NaNs))


@case("a: model 'twochannels' returned logits of shape", "3 classes")
def torchscript_wrong_number_of_classes(root):
    return predict(root, torchscript(root, TwoChannels))


@case("class name '../x'", "expected a plain name")
def torchscript_classes_with_traversal(root):
    return predict(root, torchscript(root, Thresholds), "--classes", "background,../x,spot")


@case("a: the model's classes", "differ from the ground truth's")
def evaluate_with_other_classes(root):
    model = torchscript(root, Thresholds)
    argv = ["evaluate", str(npz(root)), "--model", str(model), "--classes", "background,x,y"]
    return argv


@case("a.npz", "infinite values", "expected finite intensities")
def predict_on_an_infinite_image(root):
    values = image().astype(np.float64)
    values[4, 4] = -np.inf
    return ["predict", str(npz(root, image=values)), "--out", str(root.parent / "pred")]


@case("--device must be cpu or cuda")
def predict_on_a_bogus_device(root):
    return predict(root, "bundled", "--device", "tpu")


@case("is the input's own folder")
def predict_into_the_inputs_folder(root):
    return ["predict", str(npz(root)), "--out", str(root)]


@case("none", "no such file or folder")
def evaluate_missing_predictions(root):
    return ["evaluate", str(npz(root)), "--pred", str(root / "none")]


@case("m.txt", "the output must be a .safetensors file")
def finetune_out_not_safetensors(root):
    return ["finetune", str(npz(root)), "--loss", "dice", "--out", str(root / "m.txt")]
