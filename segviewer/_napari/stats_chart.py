"""Bar chart of class fractions and class weights (matplotlib in a Qt canvas)."""

from __future__ import annotations

import numpy as np

from segviewer._napari.chart_style import ChartCanvas, class_colors, style_axes

LOG_SCALE_SPAN = 50  # fractions spanning more than this factor are drawn on a log axis


class StatsChart(ChartCanvas):
    """Two bar charts side by side, one bar per class: pixel fraction | weight."""

    def __init__(self):
        super().__init__(150)

    def draw_stats(self, classes: list[str], fractions: np.ndarray, weights: np.ndarray, scheme):
        self.figure.clear()
        if not len(classes):
            self.draw_idle()
            return
        self.setFixedHeight(70 + 24 * len(classes))
        left, right = self.figure.subplots(1, 2, sharey=True)
        colors = class_colors(len(classes))
        rows = np.arange(len(classes))
        left.barh(rows, fractions, color=colors)
        present = fractions[fractions > 0]
        if len(present) and present.max() / present.min() > LOG_SCALE_SPAN:
            left.set_xscale("log")
            style_axes(left, "pixel fraction (log scale)")
        else:
            style_axes(left, "pixel fraction")
        right.barh(rows, weights, color=colors)
        style_axes(right, f"weight: {scheme}")
        left.set_yticks(rows, classes)
        left.invert_yaxis()
        self.draw_idle()
