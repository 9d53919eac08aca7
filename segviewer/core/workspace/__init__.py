"""The Qt-free model under every shell: open datasets, edits, statistics, predictions."""

from segviewer.core.editing.regions import combination_counts
from segviewer.core.workspace.editing import EditScope
from segviewer.core.workspace.predictions import Prediction
from segviewer.core.workspace.saving import SaveJob
from segviewer.core.workspace.workspace import Workspace

__all__ = ["EditScope", "Prediction", "SaveJob", "Workspace", "combination_counts"]
