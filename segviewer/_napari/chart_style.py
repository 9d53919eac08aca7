"""The look shared by the panel's matplotlib charts: napari's dark theme, class colours."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

from segviewer.core.colors import BACKGROUND_COLOR, class_color

BACKDROP, INK, FRAME = "#262930", "#d0d0d0", "#808080"


def class_colors(count: int) -> list[str]:
    """Colours of ``count`` classes, background first, as the layers show them."""
    return [BACKGROUND_COLOR, *(class_color(i) for i in range(count - 1))]


def style_axes(axes, title: str) -> None:
    axes.set_facecolor(BACKDROP)
    axes.tick_params(colors=INK, labelsize=8)
    axes.set_title(title, fontsize=9, color=INK)
    for spine in axes.spines.values():
        spine.set_color(FRAME)


class ChartCanvas(FigureCanvasQTAgg):
    """A matplotlib figure in the panel, ``height`` pixels tall."""

    def __init__(self, height: int):
        self.figure = Figure(figsize=(5, height / 100), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.figure.patch.set_facecolor(BACKDROP)
        self.setFixedHeight(height)
