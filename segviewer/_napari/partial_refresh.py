"""Redraw only the changed box of a Labels layer, as napari does after its own brush
stroke: the texture is updated for that box instead of the whole image, so a stroke costs
the same on a 2048² and an 8192² sample. It leans on napari's Labels internals (the same
calls ``Labels.data_setitem`` makes); where they are missing or do not apply (a 3D view,
transposed axes, multiscale) the caller redraws the whole layer. Outlines (``contour``) are
recomputed by napari itself over the box grown by their width."""

from __future__ import annotations

from segviewer.core.editing.atoms import Region


def refresh_region(layer, region: Region) -> bool:
    """Redraw ``region`` (slices over the layer's axes) of ``layer``; False when only a
    whole-layer refresh will do."""
    try:
        slice_input = layer._slice.slice_input
        if layer.multiscale or slice_input.ndisplay != 2:
            return False
        if list(slice_input.order) != sorted(slice_input.order) or not layer.visible:
            return False
        for dim, index in layer._get_pt_not_disp().items():
            if not region[dim].start <= index < region[dim].stop:
                return True  # the change is outside the slice shown: nothing to draw
        if layer.contour:  # pixels beside the box may gain or lose their outline
            region = _grown(region, int(layer.contour) + 1, layer.data.shape)
        else:
            box = tuple(region[d] for d in slice_input.displayed)
            view = layer._slice.image.view
            view[box] = layer.colormap._data_to_texture(layer._slice.image.raw[box])
        layer._accumulate_updated_slice(tuple(region))
        layer._partial_labels_refresh()
        return True
    except (AttributeError, TypeError, IndexError, ValueError):
        return False


def _grown(region: Region, margin: int, shape: tuple[int, ...]) -> Region:
    return tuple(
        slice(max(0, s.start - margin), min(size, s.stop + margin))
        for s, size in zip(region, shape, strict=True)
    )
