"""segviewer: one-hot multi-class segmentation datasets in napari, on the command line and
in Python.

The public API::

    import segviewer
    ws = segviewer.Workspace.open("data/")        # files or dataset folders
    ws.apply_rule("nearest", scope="dataset")     # resolve every conflict, undoable
    ws.stats().normalized_weights()               # class weights for a weighted loss
    ws.save("clean/", format="index")             # new folder; sources untouched
"""

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.learning import Learned
from segviewer.core.editing.precedence import Precedence
from segviewer.core.editing.rules import RULES
from segviewer.core.editing.strokes import AREAS, PaintPolicy
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import FORMATS
from segviewer.core.progress import Cancelled, Progress
from segviewer.core.stats.classes import ClassStats
from segviewer.core.stats.weights import SCHEMES
from segviewer.core.workspace import EditScope, Prediction, Workspace

__version__ = "0.1.0"

__all__ = [
    "AREAS",
    "FORMATS",
    "RULES",
    "SCHEMES",
    "Cancelled",
    "ClassStats",
    "Dataset",
    "EditScope",
    "Learned",
    "PaintPolicy",
    "Precedence",
    "Prediction",
    "Progress",
    "Sample",
    "SegviewerError",
    "Workspace",
    "open_dataset",
]
