"""The Qt-free model under every shell: open datasets, edits, statistics, predictions."""

from segviewer.core.workspace.editing import EditScope
from segviewer.core.workspace.predictions import Prediction
from segviewer.core.workspace.saving import SaveJob
from segviewer.core.workspace.workspace import Workspace, combination_counts

__all__ = ["EditScope", "Prediction", "SaveJob", "Workspace", "combination_counts"]
