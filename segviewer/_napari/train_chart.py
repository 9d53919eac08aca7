"""Charts of the Train tab: live training curves, and the compare-losses bars."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QWidget

from segviewer._napari.chart_style import (
    BACKDROP,
    FRAME,
    INK,
    ChartCanvas,
    class_colors,
    style_axes,
)


class TrainingChart(QWidget):
    """Training loss per step (one line per run) | validation Dice per class (last run).

    pyqtgraph, not matplotlib: it redraws in a few milliseconds while training keeps the
    CPU busy (matplotlib took 150-200 ms per redraw there, blocking the window).
    """

    def __init__(self):
        super().__init__()
        import pyqtgraph

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = self._plot(pyqtgraph, "training loss")
        self.dice_plot = self._plot(pyqtgraph, "validation Dice")
        self.loss_plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.dice_plot.addLegend(offset=(-5, -5), labelTextSize="7pt")
        self.dice_plot.setYRange(0, 1)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.dice_plot)
        self.setFixedHeight(190)
        self._loss_curves: list = []
        self._dice_curves: dict[str, object] = {}

    @staticmethod
    def _plot(pyqtgraph, title: str):
        plot = pyqtgraph.PlotWidget(background=BACKDROP)
        plot.setTitle(title, color=INK, size="9pt")
        plot.setLabel("bottom", "step", color=INK)
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(FRAME)
            axis.setTextPen(INK)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        return plot

    def draw_history(self, labels, losses, validation, classes, current: int = 0) -> None:
        """``losses[r]``: run r's loss per step; ``validation[r]``: its ``(step, dice)``;
        the Dice plot shows run ``current``."""
        import pyqtgraph

        for run, label in enumerate(labels):
            if run == len(self._loss_curves) and losses[run]:
                look = run % len(RUN_SHADES)
                style = getattr(Qt.PenStyle, RUN_DASHES[look % len(RUN_DASHES)])
                pen = pyqtgraph.mkPen(RUN_SHADES[look], width=1, style=style)
                name = label if len(labels) > 1 else None
                self._loss_curves.append(self.loss_plot.plot(pen=pen, name=name))
            if run < len(self._loss_curves):
                values = np.asarray(losses[run], dtype=float)
                self._loss_curves[run].setData(np.arange(1, len(values) + 1), values)
        points = validation[current] if current < len(validation) else []
        steps = np.array([step for step, _ in points], dtype=float)
        for c, (name, color) in enumerate(zip(classes, class_colors(len(classes)), strict=True)):
            if name not in self._dice_curves:
                self._dice_curves[name] = self.dice_plot.plot(
                    pen=pyqtgraph.mkPen(color, width=1.5),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    symbolPen=None,
                    name=name,
                )
            dice = np.array([np.nan if d[c] is None else d[c] for _, d in points], dtype=float)
            self._dice_curves[name].setData(steps, dice, connect="finite")
        self.dice_plot.setYRange(*dice_range([d for _, row in points for d in row]))

    def clear(self) -> None:
        """Remove every curve (a new training starts)."""
        for plot in (self.loss_plot, self.dice_plot):
            plot.clear()
            plot.addLegend().clear()
        self._loss_curves, self._dice_curves = [], {}


# Runs are told apart by shade and pattern, never by hue: hues mean classes in this plugin.
RUN_SHADES = ("#f2f2f2", "#a6a6a6", "#d4d4d4", "#7a7a7a", "#c0c0c0", "#5e5e5e", "#e3e3e3")
RUN_HATCHES = ("", "///", "...", "xxx", "\\\\\\", "+++", "ooo")
RUN_DASHES = ("SolidLine", "DashLine", "DotLine", "DashDotLine", "DashDotDotLine")


def draw_comparison(figure, labels: list[str], dice: list[list], classes: list[str]) -> None:
    """Grouped bars on ``figure``: per class, one bar per run's validation Dice."""
    figure.clear()
    axes = figure.subplots()
    width = 0.8 / max(len(labels), 1)
    positions = np.arange(len(classes))
    for r, (label, row) in enumerate(zip(labels, dice, strict=True)):
        values = [np.nan if d is None else d for d in row]
        look = r % len(RUN_SHADES)
        axes.bar(
            positions + (r - (len(labels) - 1) / 2) * width, values, width, label=label,
            color=RUN_SHADES[look], hatch=RUN_HATCHES[look], edgecolor=BACKDROP,
        )  # fmt: skip
    axes.set_xticks(positions, classes)
    known = [d for row in dice for d in row if d is not None]
    axes.set_ylim(max(0.0, np.floor((min(known, default=0.0) - 0.03) * 20) / 20), 1.0)
    axes.grid(axis="y", color=FRAME, linewidth=0.5, alpha=0.5)
    axes.set_axisbelow(True)
    axes.legend(
        fontsize=7, labelcolor=INK, facecolor=BACKDROP, edgecolor=FRAME, ncols=2,
        loc="upper center", bbox_to_anchor=(0.5, -0.1),
    )  # fmt: skip
    style_axes(axes, "validation Dice per class, by loss")


def dice_range(values: list) -> tuple[float, float]:
    """A y range that shows the differences between Dice scores (0.88 against 0.91), in
    steps of 0.05, never beyond 0-1."""
    known = [v for v in values if v is not None and np.isfinite(v)]
    if not known:
        return 0.0, 1.0
    low = max(0.0, np.floor((min(known) - 0.02) * 20) / 20)
    return low, min(1.0, max(low + 0.05, np.ceil((max(known) + 0.02) * 20) / 20))


class CompareChart(ChartCanvas):
    """Validation Dice per class (groups), one bar per compared run."""

    def __init__(self):
        super().__init__(300)

    def draw_comparison(self, labels: list[str], dice: list[list], classes: list[str]) -> None:
        draw_comparison(self.figure, labels, dice, classes)
        self.draw_idle()
