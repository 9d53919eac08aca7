"""How the shown sample looks in napari's 3D view, and back in 2D.

In 3D the classes and conflicts are drawn as surfaces (napari's ``iso_categorical``) in
their own colours; the background, a box around everything, is hidden; the image is drawn
faintly and added to (not over) the surfaces, so it never hides them; the camera looks at
the volume from an angle, not straight down the first axis. Back in 2D, the layers are
drawn as the panel's display modes say.
"""

from __future__ import annotations

from napari.layers import Layer

from segviewer._napari import display_modes

CAMERA_ANGLES = (-20.0, 30.0, 60.0)  # napari's (roll, pitch, yaw) in degrees
IMAGE_3D = {"blending": "additive", "opacity": 0.35}
IMAGE_2D = {"blending": "translucent", "opacity": 1.0}


def apply(layers: list[tuple[Layer, str]], ndisplay: int, modes: dict[str, str]) -> None:
    """Draw each ``(layer, role)`` for ``ndisplay`` (2 or 3) dimensions."""
    for layer, role in layers:
        if role == "image":
            _set(layer, IMAGE_3D if ndisplay == 3 else IMAGE_2D)
        elif role in modes and ndisplay == 2:
            display_modes.apply(layer, role, modes[role])
        elif role == "background":
            _set(layer, {"visible": False, "contour": 0})
        elif role == "conflicts":
            shown = modes["conflicts"] != "hidden"
            _set(layer, {"visible": shown, "contour": 0, "opacity": 1.0})
        if role in ("class", "conflicts") and ndisplay == 3:
            _set(layer, {"rendering": "iso_categorical"})


def _set(layer: Layer, values: dict) -> None:
    for name, value in values.items():
        if getattr(layer, name) != value:
            setattr(layer, name, value)
