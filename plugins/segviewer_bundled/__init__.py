"""segviewer's bundled model: a MONAI BasicUNet trained on the sample generator's data by
``scripts/train_bundled.py`` (its settings and scores are in the file's metadata).

Registered in the ``segviewer.models`` entry-point group like any third-party model.
"""

from __future__ import annotations

from importlib.resources import as_file, files

from segviewer.core.model.files import LoadedModel, load_model

WEIGHTS = "bundled.safetensors"


def load(path=None, classes=None) -> LoadedModel:
    """Load the bundled weights (``path`` and ``classes`` are not used)."""
    with as_file(files(__name__) / WEIGHTS) as weights:
        network, info = load_model(weights)
    return LoadedModel(info, network)
