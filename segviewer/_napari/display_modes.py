"""How the derived layers are drawn: a light tint, outlines only, or (not) at all.

The background and conflicts layers cover much of an image; by default they tint it lightly
(or outline it), so the image stays readable beneath. The panel's Edit tab switches them.
"""

from __future__ import annotations

from napari.layers import Layer

MODES = {
    "background": ("outline", "tint", "hidden"),
    "conflicts": ("tint", "outline", "solid", "hidden"),
}
DEFAULTS = {"background": "outline", "conflicts": "tint"}
TINT_OPACITY = {"background": 0.25, "conflicts": 0.55}
OUTLINE_WIDTH = 2  # napari contour thickness, in data pixels


def settings(role: str, mode: str) -> dict:
    """The layer attributes that draw a ``role`` layer in ``mode``."""
    if mode not in MODES[role]:
        raise ValueError(f"{role} layers are drawn as one of {MODES[role]}, not {mode!r}")
    return {
        "visible": mode != "hidden",
        "opacity": TINT_OPACITY[role] if mode == "tint" else 1.0,
        "contour": OUTLINE_WIDTH if mode == "outline" else 0,
    }


def layer_options(role: str, mode: str) -> dict:
    """The options of napari's Labels constructor among ``settings`` (it takes no contour:
    the session applies the mode once the layer is adopted)."""
    options = settings(role, mode)
    del options["contour"]
    return options


def apply(layer: Layer, role: str, mode: str) -> None:
    """Draw ``layer`` in ``mode``, setting only what changes (each change redraws)."""
    for name, value in settings(role, mode).items():
        if getattr(layer, name) != value:
            setattr(layer, name, value)
