"""The panel's keyboard shortcuts, registered with napari's action manager so that they show
(and can be changed) in napari's Preferences › Shortcuts, under "Viewer key bindings".

Keys were chosen among those napari leaves free for the viewer and the Labels layer.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from napari.components import ViewerModel
from napari.utils.action_manager import action_manager

# name → (description, default key, what it does to the panel)
ACTIONS: dict[str, tuple[str, str, Callable]] = {
    "segviewer:next_sample": ("Next sample", "N", lambda w: w.session.step(1)),
    "segviewer:previous_sample": ("Previous sample", "Shift+N", lambda w: w.session.step(-1)),
    "segviewer:next_region": ("Next conflict region", ".", lambda w: w.step_region(1)),
    "segviewer:previous_region": ("Previous conflict region", ",", lambda w: w.step_region(-1)),
    "segviewer:apply_rule": ("Apply the Resolve tab's rule", "Shift+R", lambda w: w.apply_rule()),
    "segviewer:next_view": (
        "Comparison: next view (side by side, overlay, error map)",
        "W",
        lambda w: w.model.next_view(),
    ),
    "segviewer:side_by_side": (
        "Comparison: side by side",
        "Alt+1",
        lambda w: w.model.show_view(0),
    ),
    "segviewer:overlay": ("Comparison: overlay", "Alt+2", lambda w: w.model.show_view(1)),
    "segviewer:error_map": ("Comparison: error map", "Alt+3", lambda w: w.model.show_view(2)),
}
_panels: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id(viewer) → panel


def install(viewer, panel) -> None:
    """Route the shortcuts pressed in ``viewer`` to ``panel`` (registered once per process)."""
    _panels[_key(viewer)] = panel
    for name, (description, key, action) in ACTIONS.items():
        if name not in action_manager._actions:
            action_manager.register_action(
                name, _on_panel(action), description, keymapprovider=ViewerModel
            )
            action_manager.bind_shortcut(name, key)


def shortcut_of(name: str) -> str:
    """The key bound to action ``name`` now (the user may have changed it)."""
    keys = action_manager._shortcuts.get(name) or []
    return str(keys[0]) if keys else ""


def _on_panel(action: Callable) -> Callable:
    def command(viewer: ViewerModel) -> None:  # napari injects the viewer by this annotation
        panel = _panels.get(_key(viewer))
        if panel is not None:
            action(panel)

    return command


def _key(viewer) -> int:
    """The viewer's identity (a plugin's widget gets it behind napari's public-only proxy)."""
    return id(getattr(viewer, "__wrapped__", viewer))


def tip(text: str, name: str) -> str:
    """A tooltip that also gives the action's key, e.g. ``"Next sample (PageDown)"``."""
    key = shortcut_of(name) or ACTIONS[name][1]
    return f"{text} ({key})"
