"""Bar chart of class fractions and class weights (matplotlib in a Qt canvas)."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

from segviewer.core.colors import BACKGROUND_COLOR, class_color

LOG_SCALE_SPAN = 50  # fractions spanning more than this factor are drawn on a log axis


class StatsChart(FigureCanvasQTAgg):
    """Two bar charts side by side, one bar per class: pixel fraction | weight."""

    def __init__(self):
        self.figure = Figure(figsize=(5, 1.8), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.figure.patch.set_facecolor("#262930")  # napari's dark theme
        self.setFixedHeight(150)

    def draw_stats(self, classes: list[str], fractions: np.ndarray, weights: np.ndarray, scheme):
        self.figure.clear()
        if not len(classes):
            self.draw_idle()
            return
        self.setFixedHeight(70 + 24 * len(classes))
        left, right = self.figure.subplots(1, 2, sharey=True)
        colors = [BACKGROUND_COLOR, *(class_color(i) for i in range(len(classes) - 1))]
        rows = np.arange(len(classes))
        left.barh(rows, fractions, color=colors)
        present = fractions[fractions > 0]
        if len(present) and present.max() / present.min() > LOG_SCALE_SPAN:
            left.set_xscale("log")
            left.set_title("pixel fraction (log scale)", fontsize=9)
        else:
            left.set_title("pixel fraction", fontsize=9)
        right.barh(rows, weights, color=colors)
        right.set_title(f"weight: {scheme}", fontsize=9)
        left.set_yticks(rows, classes)
        left.invert_yaxis()
        for axes in (left, right):
            axes.set_facecolor("#262930")
            axes.tick_params(colors="#d0d0d0", labelsize=8)
            axes.title.set_color("#d0d0d0")
            for spine in axes.spines.values():
                spine.set_color("#808080")
        self.draw_idle()
