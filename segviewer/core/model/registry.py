"""The models segviewer can run: adapters registered in the ``segviewer.models`` group.

An entry point names a loader ``load(path=None, classes=None) -> LoadedModel``. The bundled
model and the TorchScript adapter register exactly as a third party does::

    [project.entry-points."segviewer.models"]
    my_model = "my_package.segviewer_adapter:load"
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

from segviewer.core.data.names import check_class_names
from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel, load_model

GROUP = "segviewer.models"
FILE_ADAPTER = "torchscript"  # the adapter for model files that are not segviewer's own


def registered_models() -> list[str]:
    """Names of the registered models, the bundled one first."""
    names = sorted(ep.name for ep in entry_points(group=GROUP))
    return sorted(names, key=lambda name: name != "bundled")


def open_model(spec: str | Path, classes: list[str] | None = None) -> LoadedModel:
    """A registered model by name, or a model file: a segviewer ``.safetensors`` file, or
    any TorchScript file (then ``classes``, background first, are needed)."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    name = str(spec)
    if name in found and name != FILE_ADAPTER:
        return _call(found[name], name)
    path = Path(spec)
    if os.path.lexists(path) and not os.path.isfile(path):
        raise SegviewerError(f"{spec}: not a regular file; expected a model file")
    if not os.path.isfile(path):
        known = ", ".join(n for n in registered_models() if n != FILE_ADAPTER)
        raise SegviewerError(f"{spec}: neither a registered model ({known}) nor a model file")
    if path.suffix == ".safetensors":
        network, info = load_model(path)
        return LoadedModel(info, network)
    if FILE_ADAPTER not in found:
        raise SegviewerError(f"{path}: no '{FILE_ADAPTER}' adapter is installed")
    return _call(found[FILE_ADAPTER], FILE_ADAPTER, path, classes)


def _call(entry_point, name: str, *args) -> LoadedModel:
    """Run an adapter; whatever goes wrong in it is one line naming the model."""
    try:
        model = entry_point.load()(*args)
    except SegviewerError:
        raise
    except Exception as error:  # a third party's broken adapter must not take us down
        raise SegviewerError(f"model '{name}': its adapter failed ({_first_line(error)})") from None
    if not isinstance(model, LoadedModel):
        raise SegviewerError(f"model '{name}': its adapter returned {type(model).__name__}")
    check_class_names(model.info.classes, f"model '{model.info.name}'")
    return model


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
