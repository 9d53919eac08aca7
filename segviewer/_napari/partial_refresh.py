"""Redraw only the changed box of a Labels layer, as napari does after its own brush
stroke: the texture is updated for that box instead of the whole image, so a stroke costs
the same on a 2048² and an 8192² sample. It leans on napari's Labels internals (the same
calls ``Labels.data_setitem`` makes); where they are missing or do not apply (a 3D view,
contours, transposed axes, multiscale) the caller redraws the whole layer."""

from __future__ import annotations

from segviewer.core.editing.atoms import Region


def refresh_region(layer, region: Region) -> bool:
    """Redraw ``region`` (slices over the layer's axes) of ``layer``; False when only a
    whole-layer refresh will do."""
    try:
        slice_input = layer._slice.slice_input
        if layer.multiscale or layer.contour or slice_input.ndisplay != 2:
            return False
        if list(slice_input.order) != sorted(slice_input.order) or not layer.visible:
            return False
        for dim, index in layer._get_pt_not_disp().items():
            if not region[dim].start <= index < region[dim].stop:
                return True  # the change is outside the slice shown: nothing to draw
        box = tuple(region[d] for d in slice_input.displayed)
        view = layer._slice.image.view
        view[box] = layer.colormap._data_to_texture(layer._slice.image.raw[box])
        layer._accumulate_updated_slice(tuple(region))
        layer._partial_labels_refresh()
        return True
    except (AttributeError, TypeError, IndexError, ValueError):
        return False
