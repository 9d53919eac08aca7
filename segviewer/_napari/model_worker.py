"""The Model tab's workers: import the libraries, and predict samples off the GUI thread."""

from __future__ import annotations

import threading

from napari.qt.threading import thread_worker

from segviewer.core.errors import SegviewerError
from segviewer.core.model.evaluation import channel_axis_of
from segviewer.core.model.finetune import load_libraries
from segviewer.core.model.inference import Cancelled, choose_device, predict_both
from segviewer.core.model.scores import error_map, score_sample

CANCELLED = "cancelled"


@thread_worker
def load_libraries_worker() -> None:
    load_libraries()


@thread_worker
def predict_worker(dataset, indices, images, opener, device: str, stop: threading.Event):
    """Yield the model ``opener`` opens, then ``(index, labels, errors, scores,
    probabilities)`` per sample; return None when all are done, CANCELLED when ``stop`` was
    set, or the message of what went wrong."""
    try:
        device = choose_device(device)
        model = opener()
    except SegviewerError as error:
        return str(error)
    yield model
    for index in indices:
        try:
            sample = images.get(index) or dataset.refs[index].load()
            labels, probabilities = predict_both(
                model, sample.image, channel_axis_of(sample), device, should_stop=stop.is_set
            )
        except Cancelled:
            return CANCELLED
        except SegviewerError as error:
            return str(error)
        except Exception as error:  # a user's model may raise anything: one line, no traceback
            name = getattr(model.info, "name", "?")
            return f"model {name!r} failed on {dataset.names[index]}: {error}"
        # the error map and scores too, off the GUI thread
        errors = error_map(sample.masks, labels, sample.ignore)
        scores = score_sample(sample.masks, labels, sample.ignore)
        yield index, labels, errors, scores, probabilities
