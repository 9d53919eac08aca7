"""napari's Labels history atoms: where a stroke changed pixels, and from what to what.

napari ≥ 0.8 records ``_MaskedPaintAtom(slice_key, mask, old_values, new_value)``: a
bounding box, the changed pixels in it (``None`` for all) and their old values.
``data_setitem`` and older napari record ``(indices, old_values, new_values)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Region = tuple[slice, ...]


def atom_region(atom, shape: tuple[int, ...]) -> Region:
    """Bounding box of one napari history atom (either form, see the module docstring)."""
    slice_key = getattr(atom, "slice_key", None)
    if slice_key is not None:
        return tuple(slice_key)
    indices = atom[0]
    if isinstance(indices, tuple) and all(isinstance(i, slice) for i in indices):
        return indices
    if not isinstance(indices, tuple) or any(np.size(i) == 0 for i in indices):
        return tuple(slice(0, n) for n in shape)  # unknown form: recompute everything
    return tuple(slice(int(np.min(i)), int(np.max(i)) + 1) for i in indices)


def local_index(atom, region: Region):
    """Where, inside ``region``, an atom changed pixels (``...`` for all of it)."""
    if getattr(atom, "slice_key", None) is not None:
        return Ellipsis if atom.mask is None else atom.mask
    indices = atom[0]
    if all(isinstance(i, slice) for i in indices):
        return Ellipsis
    return tuple(np.asarray(i) - r.start for i, r in zip(indices, region, strict=True))


def new_values(atom):
    return atom.new_value if getattr(atom, "slice_key", None) is not None else atom[2]


def old_values(atom):
    return atom.old_values if getattr(atom, "slice_key", None) is not None else atom[1]


def roll_back(layer_data: np.ndarray, atoms: Sequence) -> None:
    """Undo napari's own write of ``atoms`` into ``layer_data`` (last atom first)."""
    for atom in reversed(atoms):
        region = atom_region(atom, layer_data.shape)
        view = layer_data[region]
        view[local_index(atom, region)] = old_values(atom)
