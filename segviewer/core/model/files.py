"""Segmentation models as files: a network's weights plus what is needed to use it.

A model file is a safetensors file (tensors only: loading runs no pickled code) whose
header metadata holds :class:`ModelInfo` as JSON: the class names (background first), the
input normalisation, the architecture, how it was trained and the scores it reached.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError

INFO_KEY = "segviewer"


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
    def from_json(cls, text: str) -> ModelInfo:
        return cls(**json.loads(text))


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


def build_network(info: ModelInfo):
    """The torch network ``info.architecture`` names (MONAI BasicUNet)."""
    from monai.networks.nets import BasicUNet

    architecture = info.architecture
    if architecture.get("name") != "BasicUNet":
        raise SegviewerError(f"model '{info.name}': unknown architecture {architecture!r}")
    return BasicUNet(
        spatial_dims=info.spatial_dims,
        in_channels=info.in_channels,
        out_channels=len(info.classes),
        features=tuple(architecture["features"]),
    )


def save_model(path: Path, network, info: ModelInfo) -> None:
    """Write the network's weights and ``info`` to a safetensors file, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    try:
        save_file(state, str(partial), metadata={INFO_KEY: info.to_json()})
        umask = os.umask(0)
        os.umask(umask)
        partial.chmod(0o666 & ~umask)  # like any file the user writes (safetensors uses 0600)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise SegviewerError(f"{path}: cannot write the model ({error.strerror})") from None


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
    info = ModelInfo.from_json(metadata[INFO_KEY])
    network = build_network(info)
    try:
        network.load_state_dict(state)
    except RuntimeError as error:
        raise SegviewerError(f"{path}: weights do not fit the architecture ({error})") from None
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
