"""Read the user's resolved versions of some samples as learning examples.

An examples folder holds fixed versions of some of the input samples, under the same
names, in any format segviewer reads (e.g. an earlier ``segviewer resolve`` output that the
user corrected by hand). Classes are matched by name; a folder whose files carry no class
names (NIfTI labels) is matched by position when the number of classes agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset
from segviewer.core.editing.learning import Example
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset


def read_examples(
    folder: Path, dataset: Dataset, class_axis: str = "auto", warn: Callable[[str], None] = print
) -> dict[int, Example]:
    """The examples of ``folder`` by the index of their sample in ``dataset``."""
    examples = open_dataset([str(folder)], class_axis=class_axis, warn=warn)
    by_name = {name: index for index, name in enumerate(dataset.names)}
    found: dict[int, Example] = {}
    for ref in examples.refs:
        index = by_name.get(ref.name)
        if index is None:
            warn(f"{folder}: no input sample is named {ref.name!r}; that example is not used")
            continue
        original, fixed = dataset.refs[index].load(), ref.load()
        where = ", ".join(str(p) for p in fixed.source.paths) or ref.name
        if fixed.spatial_shape != original.spatial_shape:
            raise SegviewerError(
                f"{where}: the example is {fixed.spatial_shape} but its sample is "
                f"{original.spatial_shape}; an example must be the same sample, resolved"
            )
        masks, ignore = _in_class_order(fixed, original.class_names, where, warn)
        found[index] = Example(ref.name, original.class_names, original.masks, masks, ignore)
    if not found:
        raise SegviewerError(
            f"{folder}: none of its samples has the name of an input sample; the examples "
            f"must keep the names (e.g. {dataset.names[0]!r})"
        )
    return found


def _in_class_order(fixed, class_names: list[str], where: str, warn):
    """The example's masks in the input's class order (by name, else by position)."""
    if set(class_names) <= set(fixed.class_names):
        order = [fixed.class_names.index(name) for name in class_names]
        return np.ascontiguousarray(fixed.masks[order]), fixed.ignore
    if len(fixed.class_names) == len(class_names):
        warn(f"{where}: class names differ from the inputs'; matched by position")
        return fixed.masks, fixed.ignore
    raise SegviewerError(
        f"{where}: the example has classes {fixed.class_names} but the inputs have "
        f"{class_names}; an example needs the same classes"
    )
