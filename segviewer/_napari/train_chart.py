"""Charts of the Train tab: live training curves, and the compare-losses bars."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

from segviewer.core.colors import BACKGROUND_COLOR, class_color

BACKDROP, INK, FRAME = "#262930", "#d0d0d0", "#808080"  # napari's dark theme


def class_colors(count: int) -> list[str]:
    """Colours of ``count`` classes, background first, as the layers show them."""
    return [BACKGROUND_COLOR, *(class_color(i) for i in range(count - 1))]


def _style(axes, title: str) -> None:
    axes.set_facecolor(BACKDROP)
    axes.tick_params(colors=INK, labelsize=8)
    axes.set_title(title, fontsize=9, color=INK)
    for spine in axes.spines.values():
        spine.set_color(FRAME)


class _Canvas(FigureCanvasQTAgg):
    def __init__(self, height: int):
        self.figure = Figure(figsize=(5, height / 100), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.figure.patch.set_facecolor(BACKDROP)
        self.setFixedHeight(height)


class TrainingChart(_Canvas):
    """Training loss per step (one line per run) | validation Dice per class (last run)."""

    def __init__(self):
        super().__init__(190)

    def draw_history(self, labels, losses, validation, classes) -> None:
        """``losses[r]``: run r's loss per step; ``validation[r]``: its ``(step, dice)``."""
        self.figure.clear()
        left, right = self.figure.subplots(1, 2)
        for label, run in zip(labels, losses, strict=False):
            if run:
                left.plot(np.arange(1, len(run) + 1), run, linewidth=1, label=label)
        if len(labels) > 1:
            left.legend(fontsize=7, labelcolor=INK, facecolor=BACKDROP, edgecolor=FRAME)
        left.set_xlabel("step", fontsize=8, color=INK)
        _style(left, "training loss")
        points = validation[-1] if validation else []
        steps = [step for step, _ in points]
        for c, (name, color) in enumerate(zip(classes, class_colors(len(classes)), strict=True)):
            dice = [np.nan if d[c] is None else d[c] for _, d in points]
            right.plot(steps, dice, marker="o", markersize=3, color=color, label=name)
        known = [d for _, dice in points for d in dice if d is not None]
        right.set_ylim(max(0.0, min(known, default=0.0) - 0.05), 1.01)
        right.set_xlabel("step", fontsize=8, color=INK)
        if classes:
            right.legend(fontsize=7, labelcolor=INK, facecolor=BACKDROP, edgecolor=FRAME)
        _style(right, "validation Dice" + (f" ({labels[-1]})" if len(labels) > 1 else ""))
        self.draw_idle()


def draw_comparison(figure, labels: list[str], dice: list[list], classes: list[str]) -> None:
    """Grouped bars on ``figure``: per class, one bar per run's validation Dice."""
    figure.clear()
    axes = figure.subplots()
    width = 0.8 / max(len(labels), 1)
    positions = np.arange(len(classes))
    for r, (label, row) in enumerate(zip(labels, dice, strict=True)):
        values = [np.nan if d is None else d for d in row]
        axes.bar(positions + (r - (len(labels) - 1) / 2) * width, values, width, label=label)
    axes.set_xticks(positions, classes)
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=7, labelcolor=INK, facecolor=BACKDROP, edgecolor=FRAME, ncols=2)
    _style(axes, "validation Dice per class, by loss")


class CompareChart(_Canvas):
    """Validation Dice per class (groups), one bar per compared run."""

    def __init__(self):
        super().__init__(200)

    def draw_comparison(self, labels: list[str], dice: list[list], classes: list[str]) -> None:
        draw_comparison(self.figure, labels, dice, classes)
        self.draw_idle()
