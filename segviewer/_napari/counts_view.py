"""The "Counts of the shown sample" table: pixels and share of each class, background,
conflicts and ignore."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QTableWidget

from segviewer._napari.tables import fit_height, set_cell
from segviewer.core.colors import BACKGROUND_COLOR, CONFLICT_COLOR, IGNORE_COLOR, class_color
from segviewer.core.data.sample import Sample


def fill_counts(table: QTableWidget, sample: Sample, row: np.ndarray) -> None:
    """Fill ``table`` from the sample's tally ``row`` ``[background, *classes, conflicts]``."""
    names = sample.class_names
    rows = [(n, c, class_color(i)) for i, (n, c) in enumerate(zip(names, row[1:-1], strict=True))]
    rows += [("background", row[0], BACKGROUND_COLOR), ("conflicts", row[-1], CONFLICT_COLOR)]
    ignored = 0 if sample.ignore is None else int(np.count_nonzero(sample.ignore))
    if ignored:
        rows.append(("ignore", ignored, IGNORE_COLOR))
    total = sample.masks[0].size
    table.setRowCount(len(rows))
    for row_index, (name, pixels, color) in enumerate(rows):
        set_cell(table, row_index, 0, f"■ {name}", color=color)
        set_cell(table, row_index, 1, f"{pixels:,}", numeric=True)
        set_cell(table, row_index, 2, f"{100 * pixels / total:.2f}", numeric=True)
    fit_height(table)
