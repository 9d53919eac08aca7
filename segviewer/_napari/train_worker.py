"""The Train tab's worker: open the start model, then fine-tune (or compare losses) off the
GUI thread, sending steps and validations back as queued Qt signals."""

from __future__ import annotations

from napari.qt.threading import thread_worker
from qtpy.QtCore import QObject, Signal

from segviewer.core.errors import SegviewerError
from segviewer.core.model.finetune import compare_losses, finetune
from segviewer.core.model.inference import choose_device
from segviewer.core.workspace import Workspace


class TrainingEvents(QObject):
    """Signals the training thread sends to the panel (queued to the GUI thread)."""

    opened = Signal(object)  # the classes of the opened model
    step = Signal(int, int, float)  # run, step, loss
    validated = Signal(int, int, object)  # run, step, per-class Dice


def sample_loaders(workspace: Workspace, train: list[int], validation: list[int]):
    """Loaders of the shown dataset's training and validation samples: copies of the samples
    in memory (edits included; the user may go on painting), the others read by the worker."""
    dataset = workspace.dataset

    def loader(index: int):
        if index == workspace.index or dataset.is_edited(index):
            snapshot = workspace.snapshot(index)
            return lambda: snapshot
        return dataset.refs[index].load

    return [loader(i) for i in train], [loader(i) for i in validation]


@thread_worker
def fine_tune_worker(
    opener, train, validation, runs, device: str, stop, events: TrainingEvents, compare
):
    """Return ``(model, results)``: the model ``opener`` opened, trained (None if it did not
    open), and one FinetuneResult per run, or the message of what went wrong."""
    model = None
    try:
        device = choose_device(device)
        model = opener()
        events.opened.emit(model.info.classes)
        train_samples = [load() for load in train]
        validation_samples = [load() for load in validation]
        if compare:
            results = compare_losses(
                model,
                train_samples,
                validation_samples,
                runs,
                device,
                events.step.emit,
                stop.is_set,
                events.validated.emit,
            )
            return model, results
        result = finetune(
            model,
            train_samples,
            validation_samples,
            runs[0],
            device,
            lambda step, loss: events.step.emit(0, step, loss),
            stop.is_set,
            lambda step, dice: events.validated.emit(0, step, dice),
        )
        return model, [result]
    except SegviewerError as error:
        return model, str(error)
