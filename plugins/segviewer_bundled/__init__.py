"""segviewer's bundled models: MONAI BasicUNets trained on the sample generator's data, a 2D
one by ``scripts/train_bundled.py`` and a 3D one by ``scripts/train_bundled_3d.py`` (their
settings and scores are in the files' metadata). The 2D model carries the 3D one as its
``volume_model``: 3D images are predicted in 3D, not slice by slice.

Registered in the ``segviewer.models`` entry-point group like any third-party model.
"""

from __future__ import annotations

from importlib.resources import as_file, files

from segviewer.core.model.files import LoadedModel, load_model

WEIGHTS = "bundled.safetensors"
WEIGHTS_3D = "bundled_3d.safetensors"


def _load(name: str) -> LoadedModel:
    with as_file(files(__name__) / name) as weights:
        network, info = load_model(weights)
    return LoadedModel(info, network)


def load(path=None, classes=None) -> LoadedModel:
    """The bundled 2D model with the 3D one for volumes (``path`` and ``classes`` are not
    used)."""
    model = _load(WEIGHTS)
    model.volume_model = _load(WEIGHTS_3D)
    return model
