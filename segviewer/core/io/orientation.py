"""NIfTI volumes held in one canonical orientation, and put back in their file's layout.

A 3D NIfTI volume is held (and so shown) with axial slices along axis 0, anterior at the
top of a slice and the patient's right on the screen's left, as ITK-SNAP and 3D Slicer show
it (the radiological convention): axis 0 runs inferior→superior, axis 1 anterior→posterior,
axis 2 right→left, nibabel's axis codes ``("S", "P", "L")``. The sample's affine is that of
the arrays as held; the file's affine and the transform back to the file's layout are kept
in ``Source.extra`` so that a save writes the file's layout and affine again.

Only 3D volumes are reoriented: a 2D image (and a 2D RGB one, ``(X, Y, 3|4)``) stays in
file order. An affine from which nibabel's ``io_orientation`` decides no orientation (a zero
column, values that are not finite) leaves the volume in file order, with a warning; a
sheared or oblique one is held by its closest axes. All of it is nibabel's
(``nibabel.orientations``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segviewer.core.data.sample import Sample

CANONICAL = ("S", "P", "L")
#: how an axis that runs towards ``code`` is named for display
AXIS_NAMES = {"S": "I→S", "I": "S→I", "P": "A→P", "A": "P→A", "L": "R→L", "R": "L→R"}
#: ``Source.extra`` keys: the file's affine, and the transform from the held layout to it
FILE_AFFINE = "nifti_file_affine"
TO_FILE = "nifti_to_file"


@dataclass(frozen=True)
class Reorientation:
    """How a volume read from a file becomes canonical, and the way back."""

    to_held: np.ndarray  # nibabel ornt: file axes → held axes
    to_file: np.ndarray  # nibabel ornt: held axes → file axes
    file_affine: np.ndarray
    held_affine: np.ndarray
    axis_names: tuple[str, ...]

    def spatial(self, array: np.ndarray, first: int = 0) -> np.ndarray:
        """``array`` (a view) with its three spatial axes, from axis ``first``, held."""
        return spatial_axes(array, self.to_held, first)

    def scale(self, zooms: tuple[float, ...]) -> tuple[float, ...]:
        """The voxel sizes of the file's axes, in the held axes' order."""
        held = [0.0] * len(zooms)
        for axis, (target, _flip) in enumerate(self.to_held):
            held[int(target)] = zooms[axis]
        return tuple(held)

    def extra(self) -> dict[str, np.ndarray]:
        """What ``Source.extra`` keeps to restore the file's layout on saving."""
        return {FILE_AFFINE: self.file_affine, TO_FILE: self.to_file}


def canonical(
    affine: np.ndarray | None, shape: tuple[int, ...], where: str
) -> tuple[Reorientation | None, str | None]:
    """How to hold a volume of spatial ``shape`` whose file affine is ``affine``: a
    :class:`Reorientation` for a 3D volume, None for anything else, and a warning instead
    when the affine decides no orientation (the volume then stays in file order)."""
    if affine is None or len(shape) != 3:
        return None, None
    from nibabel.orientations import axcodes2ornt, inv_ornt_aff, io_orientation, ornt_transform

    affine = np.asarray(affine, float)
    start, reason = None, "it holds values that are not finite"
    if np.isfinite(affine).all():
        try:
            start = io_orientation(affine)
        except (ValueError, np.linalg.LinAlgError) as exc:  # a malformed matrix
            reason = str(exc) or type(exc).__name__
        else:
            reason = "an axis has no direction: a zero column"
    if start is None or np.isnan(start).any():
        return None, (
            f"{where}: the affine decides no orientation ({reason}); the volume is shown in "
            "the file's axis order, not the canonical one (axial slices, anterior up, "
            "patient's right on the left)"
        )
    target = axcodes2ornt(CANONICAL)
    to_held, to_file = ornt_transform(start, target), ornt_transform(target, start)
    held_affine = affine @ inv_ornt_aff(to_held, shape)
    names = tuple(AXIS_NAMES[code] for code in CANONICAL)
    return Reorientation(to_held, to_file, affine, held_affine, names), None


def canonical_affine(scale: tuple[float, ...]) -> np.ndarray:
    """The affine of a volume held in the canonical orientation with voxel sizes ``scale``
    and no other geometry (its first voxel at the origin): what a volume that came with no
    affine is written with, so that reading the file back holds the same arrays."""
    from nibabel.orientations import axcodes2ornt

    affine = np.eye(4)
    affine[:3, :3] = 0.0
    for axis, (world, sign) in enumerate(axcodes2ornt(CANONICAL)):
        affine[int(world), axis] = sign * scale[axis]
    return affine


def affine_without_source(spatial_shape: tuple[int, ...], scale: tuple[float, ...] | None):
    """The affine to write a sample that has none with: a volume's declares the canonical
    orientation (:func:`canonical_affine`), a 2D image's has the voxel sizes on its diagonal
    (1 where unknown)."""
    scale = tuple(scale or (1.0,) * len(spatial_shape))
    if len(spatial_shape) == 3:
        return canonical_affine(scale[-3:])
    affine = np.eye(4)
    for axis, size in enumerate(scale[-3:]):
        affine[axis, axis] = size
    return affine


def spatial_axes(array: np.ndarray, ornt: np.ndarray, first: int = 0) -> np.ndarray:
    """Apply the nibabel ornt ``ornt`` to ``array``'s axes ``first``, ``first + 1``, … (a
    view; other axes, e.g. a class axis, stay where they are)."""
    from nibabel.orientations import apply_orientation

    count = len(ornt)
    moved = np.moveaxis(array, range(first, first + count), range(count))
    return np.moveaxis(apply_orientation(moved, ornt), range(count), range(first, first + count))


def to_file_layout(
    array: np.ndarray, extra: dict, first: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """A held array (spatial axes from ``first``) in its file's layout, and the file's
    affine; ``array`` and None when ``extra`` holds no reorientation (or for other ranks)."""
    to_file = extra.get(TO_FILE)
    if to_file is None or array.ndim < first + len(to_file):
        return array, None
    return spatial_axes(array, np.asarray(to_file), first), np.asarray(extra[FILE_AFFINE])


def hold_canonical(sample: Sample, where: str) -> Sample:
    """``sample`` (read in file order, its source's affine the file's) with a 3D volume's
    image, masks and ignore mask in the canonical orientation, and its scale, affine and
    axis names to match; a warning instead if the affine decides no orientation."""
    plan, warning = canonical(sample.source.affine, sample.spatial_shape, where)
    if warning is not None:
        sample.warnings.append(warning)
    if plan is None:
        return sample
    sample.image = np.ascontiguousarray(plan.spatial(sample.image))
    sample.masks = np.ascontiguousarray(plan.spatial(sample.masks, first=1))
    if sample.ignore is not None:
        sample.ignore = np.ascontiguousarray(plan.spatial(sample.ignore))
    if sample.scale is not None:
        sample.scale = plan.scale(sample.scale)
    sample.axis_names = plan.axis_names
    sample.source.affine = plan.held_affine
    sample.source.extra.update(plan.extra())
    return sample
