"""One fixed colour per class index, used by every layer, legend and chart of the plugin."""

from __future__ import annotations

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


# Conflict combinations (pairs, triples, … of classes) get colours unlike any class colour.
CONFLICT_COLORS = (
    "#ff2020",  # red
    "#ff00ff",  # magenta
    "#ffffff",  # white
    "#00ffff",  # cyan
    "#7fff00",  # chartreuse
    "#ff8080",  # salmon
    "#8080ff",  # periwinkle
    "#ffff80",  # pale yellow
)


def conflict_color(position: int) -> str:
    """Colour of the ``position``-th conflict combination (in ``possible_conflicts`` order)."""
    return CONFLICT_COLORS[position % len(CONFLICT_COLORS)]


# Error map (model predictions against the ground truth); "correct" is transparent.
ERROR_COLORS = {1: "#ff00ff", 2: "#00e5ff", 3: "#ffffff"}  # missed, extra, wrong class
