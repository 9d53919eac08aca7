"""segviewer: one-hot multi-class segmentation datasets in napari."""

__version__ = "0.1.0"
