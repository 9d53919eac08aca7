"""Segmentation models as files: a network's weights plus what is needed to use it.

A model file is a safetensors file (tensors only: loading runs no pickled code) whose
header metadata holds :class:`ModelInfo` as JSON: the class names (background first), the
input normalisation, the architecture, how it was trained and the scores it reached.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from segviewer.core.data.names import check_class_names
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_file

INFO_KEY = "segviewer"
INFO_HELP = (
    "expected a JSON object with the fields name, classes (background first) and optionally "
    "in_channels, spatial_dims, normalization, architecture, window, training, scores"
)
JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number"}


@dataclass
class ModelInfo:
    """Everything but the weights."""

    name: str
    classes: list[str]  # K = 1 + C output channels, background first
    in_channels: int | None = 1  # None: any (the network takes what the image has)
    spatial_dims: int = 2
    # percentile normalisation per image and channel: (x − p_low) / (p_high − p_low);
    # None: the network takes the image as it is (float32)
    normalization: dict | None = field(default_factory=lambda: {"low": 1.0, "high": 99.8})
    architecture: dict = field(default_factory=dict)  # {"name": "BasicUNet", "features": [...]}
    window: list[int] = field(default_factory=lambda: [256, 256])  # sliding-window size
    training: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> ModelInfo:
        """The info stored as JSON in a model file; refused with one line if it is not valid."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise SegviewerError(
                f"{where}: its segviewer metadata is not valid JSON ({error}); {INFO_HELP}"
            ) from None
        if not isinstance(data, dict):
            kind = JSON_TYPES.get(type(data), "value")
            raise SegviewerError(f"{where}: its segviewer metadata is a JSON {kind}; {INFO_HELP}")
        names = [f.name for f in fields(cls)]
        unknown = [key for key in data if key not in names]
        required = [
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        ]
        missing = [name for name in required if name not in data]
        if unknown or missing:
            problem = f"unknown field {unknown[0]!r}" if unknown else f"no field {missing[0]!r}"
            raise SegviewerError(f"{where}: its segviewer metadata has {problem}; {INFO_HELP}")
        info = cls(**data)
        info.check(where)
        return info

    def check(self, where: str) -> None:
        """Refuse field values of the wrong type or range, naming the field."""
        problem = _info_problem(self)
        if problem:
            raise SegviewerError(f"{where}: its segviewer metadata has {problem}; {INFO_HELP}")
        check_class_names(self.classes, where)


def _info_problem(info: ModelInfo) -> str | None:
    """What is wrong with ``info``'s fields, or None."""

    def positive_ints(value) -> bool:
        return isinstance(value, list) and all(isinstance(v, int) and v > 0 for v in value)

    checks = {
        "name": isinstance(info.name, str),
        "classes": isinstance(info.classes, list) and len(info.classes) >= 2,
        "in_channels": info.in_channels is None or positive_ints([info.in_channels]),
        "spatial_dims": info.spatial_dims in (2, 3),
        "normalization": info.normalization is None
        or (
            isinstance(info.normalization, dict)
            and all(isinstance(info.normalization.get(k), int | float) for k in ("low", "high"))
        ),
        "architecture": isinstance(info.architecture, dict),
        "window": positive_ints(info.window) and len(info.window) == info.spatial_dims,
        "training": isinstance(info.training, dict),
        "scores": isinstance(info.scores, dict),
    }
    bad = [name for name, ok in checks.items() if not ok]
    return f"a bad {bad[0]!r} ({repr(getattr(info, bad[0]))[:80]})" if bad else None


def normalize_image(image: np.ndarray, info: ModelInfo, channel_axis: int | None) -> np.ndarray:
    """``image`` as float32 ``(channels, *spatial)``, each channel scaled by its percentiles."""
    data = np.asarray(image, dtype=np.float32)
    data = data[None] if channel_axis is None else np.moveaxis(data, channel_axis, 0)
    low, high = info.normalization["low"], info.normalization["high"]
    out = np.empty_like(data)
    for c, channel in enumerate(data):
        p_low, p_high = np.percentile(channel, [low, high])
        out[c] = (channel - p_low) / max(float(p_high - p_low), 1e-6)
    return out


# The MONAI networks a model file may name, with the settings a fresh one gets
# (``finetune --arch``). HighResNet keeps the image size (dilated convolutions, no pooling).
ARCHITECTURES = {
    "basicunet": {"name": "BasicUNet", "features": [16, 16, 32, 64, 128, 16]},
    "unet": {"name": "UNet", "channels": [16, 32, 64, 128], "strides": [2, 2, 2], "res_units": 2},
    "segresnet": {"name": "SegResNet", "init_filters": 8},
    "highresnet": {"name": "HighResNet"},
}


def build_network(info: ModelInfo, where: str | None = None):
    """The torch network ``info.architecture`` names (one of :data:`ARCHITECTURES`' MONAI
    networks); ``where`` names the model file in errors (default: the model's name)."""
    from monai.networks import nets

    where = where or f"model '{info.name}'"
    architecture = dict(info.architecture)
    name = architecture.pop("name", None)
    common = {
        "spatial_dims": info.spatial_dims,
        "in_channels": info.in_channels,
        "out_channels": len(info.classes),
    }
    if name == "BasicUNet":
        features = architecture.get("features")
        if not (_positive_ints(features) and len(features) == 6):
            raise SegviewerError(
                f"{where}: BasicUNet features {features!r}; expected a list of six positive numbers"
            )
        return nets.BasicUNet(**common, features=tuple(features))
    if name == "UNet" and _positive_ints(architecture.get("channels")):
        channels, strides = architecture["channels"], architecture.get("strides")
        if _positive_ints(strides) and len(strides) == len(channels) - 1:
            units = int(architecture.get("res_units", 0))
            return nets.UNet(**common, channels=channels, strides=strides, num_res_units=units)
    if name == "SegResNet" and _positive_ints([architecture.get("init_filters")]):
        return nets.SegResNet(**common, init_filters=architecture["init_filters"])
    if name == "HighResNet" and not architecture:
        return nets.HighResNet(**common)
    known = "; ".join(str(a) for a in ARCHITECTURES.values())
    raise SegviewerError(
        f"{where}: unknown architecture {info.architecture!r}; expected one of: {known}"
    )


def _positive_ints(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and v > 0 for v in value)


FRESH_WINDOW = {2: (256, 256), 3: (64, 64, 64)}  # a fresh model's sliding window


def fresh_model(
    arch: str, classes: list[str], in_channels: int, spatial_dims: int, window=None
) -> LoadedModel:
    """A new model of architecture ``arch`` (a key of :data:`ARCHITECTURES`) with random
    weights, for ``classes`` (background first); ``window`` defaults to
    :data:`FRESH_WINDOW`."""
    window = FRESH_WINDOW.get(spatial_dims, ()) if window is None else window
    if arch not in ARCHITECTURES:
        raise SegviewerError(
            f"--arch {arch!r}: unknown architecture; expected one of {', '.join(ARCHITECTURES)}"
        )
    info = ModelInfo(
        name=f"{arch} (fresh)",
        classes=list(classes),
        in_channels=in_channels,
        spatial_dims=spatial_dims,
        architecture=dict(ARCHITECTURES[arch]),
        window=[int(w) for w in window],
    )
    info.check(f"--arch {arch}")
    return LoadedModel(info, build_network(info))


def save_model(path: Path, network, info: ModelInfo) -> None:
    """Write the network's weights and ``info`` to a safetensors file, atomically."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    with new_file(Path(path), "model") as partial:
        try:
            save_file(state, str(partial), metadata={INFO_KEY: info.to_json()})
        except SafetensorError as error:  # how safetensors reports a failed write
            raise OSError(str(error)) from None


def load_model(path: Path):
    """``(network, info)`` from a file written by :func:`save_model` (no pickled code runs)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(str(path))
    except (OSError, SafetensorError) as error:
        raise SegviewerError(f"{path}: not a segviewer model file ({error})") from None
    if INFO_KEY not in metadata:
        raise SegviewerError(f"{path}: a safetensors file without segviewer model metadata")
    info = ModelInfo.from_json(metadata[INFO_KEY], str(path))
    network = build_network(info, str(path))
    try:
        network.load_state_dict(state)
    except RuntimeError as error:
        reason = " ".join(str(error).split())  # torch lists every key, on many lines
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        raise SegviewerError(f"{path}: weights do not fit the architecture ({reason})") from None
    return network.eval(), info


@dataclass
class LoadedModel:
    """A model ready to run: what every adapter of the ``segviewer.models`` group returns.

    ``network`` maps a float32 batch ``(B, in_channels, *window)`` to logits
    ``(B, K, *window)`` with K = len(info.classes), background first. ``info.normalization``
    says what :meth:`prepare` does to an image first (``None``: nothing).
    """

    info: ModelInfo
    network: object  # a torch module (or TorchScript module)
    volume_model: LoadedModel | None = None  # runs 3D images instead (the bundled pair)

    def prepare(self, image: np.ndarray, channel_axis: int | None) -> np.ndarray:
        """The image as the network's float32 ``(channels, *spatial)`` input."""
        channels = 1 if channel_axis is None else image.shape[channel_axis]
        if self.info.in_channels is not None and channels != self.info.in_channels:
            raise SegviewerError(
                f"the image has {channels} channel(s); model '{self.info.name}' expects "
                f"{self.info.in_channels}"
            )
        if self.info.normalization is None:
            data = np.asarray(image, dtype=np.float32)
            return data[None] if channel_axis is None else np.moveaxis(data, channel_axis, 0)
        return normalize_image(image, self.info, channel_axis)
