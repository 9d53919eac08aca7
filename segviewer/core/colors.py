"""One fixed colour per class index, used by every layer, legend and chart of the plugin."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Distinct, saturated colours that stay readable over a grey image (Okabe-Ito first,
# then Tableau); class i always gets CLASS_COLORS[i % len(CLASS_COLORS)].
CLASS_COLORS = (
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#009e73",  # green
    "#f0e442",  # yellow
    "#cc79a7",  # pink
    "#d55e00",  # vermilion
    "#0072b2",  # blue
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#17becf",  # teal
)
BACKGROUND_COLOR = "#9e9e9e"
CONFLICT_COLOR = "#ff2020"
IGNORE_COLOR = "#ffffff"


def class_color(index: int) -> str:
    """Hex colour of class ``index`` (0 = the first given class, background excluded)."""
    return CLASS_COLORS[index % len(CLASS_COLORS)]


# Conflict combinations (pairs, triples, … of classes) get colours from a generated palette:
# each next colour is the candidate farthest (in CIELAB) from the class colours, the
# background grey, black, white and every colour picked before it (Glasbey et al. 2007).
COMBINATION_PALETTE_SIZE = 64
LIGHTNESS_RANGE = (40.0, 92.0)  # readable over dark and bright images alike


@lru_cache(maxsize=4)
def combination_palette(
    size: int = COMBINATION_PALETTE_SIZE, avoid: tuple[str, ...] = CLASS_COLORS
) -> tuple[str, ...]:
    """``size`` hex colours, each as far as possible from ``avoid`` and from each other."""
    from skimage.color import rgb2lab

    levels = np.linspace(0, 1, 18)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = rgb2lab(rgb[None])[0]
    usable = (lab[:, 0] >= LIGHTNESS_RANGE[0]) & (lab[:, 0] <= LIGHTNESS_RANGE[1])
    rgb, lab = rgb[usable], lab[usable]
    fixed = [*avoid, BACKGROUND_COLOR, "#000000", "#ffffff"]
    taken = rgb2lab(np.array([[_rgb(color) for color in fixed]]))[0]
    nearest = np.min(np.linalg.norm(lab[:, None] - taken[None], axis=-1), axis=1)
    picked: list[int] = []
    for _ in range(size):
        best = int(np.argmax(nearest))
        picked.append(best)
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[best], axis=1))
    return tuple(_hex(rgb[i]) for i in picked)


def combination_color(position: int) -> str:
    """Colour of the ``position``-th combination given one (see ``CombinationColors``)."""
    palette = combination_palette()
    return palette[position % len(palette)]


def _rgb(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb)


# Error map (model predictions against the ground truth); "correct" is transparent.
ERROR_COLORS = {1: "#ff00ff", 2: "#00e5ff", 3: "#ffffff"}  # missed, extra, wrong class
