"""The Qt-free model under every shell: open datasets, edits, statistics, predictions."""

from segviewer.core.workspace.predictions import Prediction
from segviewer.core.workspace.workspace import EditScope, Workspace, combination_counts

__all__ = ["EditScope", "Prediction", "Workspace", "combination_counts"]
