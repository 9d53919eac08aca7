"""The Workspace's model predictions: run a model, keep its labels, score them, map errors.

A prediction remembers the sample's edit revision it was made from; scores and error maps
are always computed against the masks as they are now, so they follow the user's edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.jobs.engine import Engine, EngineSpec
from segviewer.core.model.scores import Scores, error_map, score_sample
from segviewer.core.progress import Progress, ensure
from segviewer.core.workspace.prediction_files import PredictionFiles

if TYPE_CHECKING:
    from segviewer.core.data.sample import Dataset
    from segviewer.core.model.files import LoadedModel


@dataclass
class Prediction:
    """A model's output for one sample."""

    labels: np.ndarray  # index labels: 0 background, c + 1 for class c
    probabilities: np.ndarray | None  # (1 + C, *spatial) float16, background first
    model: str
    classes: list[str]  # background first
    revision: int  # the sample's edit revision it was predicted from


class PredictionsMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` about model predictions."""

    predictions: dict
    prediction_files: PredictionFiles

    def predict(
        self,
        model: str | LoadedModel = "bundled",
        scope: str = "sample",
        device: str = "cpu",
        progress: Progress | None = None,
        precision: str = "auto",
        engine: Engine | EngineSpec | None = None,
    ) -> list[int]:
        """Run ``model`` (a registered name, a model file or a LoadedModel) on the shown
        sample or on every sample; return the indices predicted.

        With ``engine``, a whole-dataset run of a model named or in a file, on the CPU, over
        samples read from files, is a dataset job there (``core.jobs.models.predict_files``):
        the same labels, written by the tasks into :attr:`prediction_files`' folder. A
        sample that fails there is named after the others were predicted."""
        from segviewer.core.jobs.models import ModelSpec, on_workers
        from segviewer.core.model.evaluation import channel_axis_of, check_classes
        from segviewer.core.model.inference import choose_device, predict_both
        from segviewer.core.model.registry import open_model

        dataset = self._require_dataset()
        device = choose_device(device)
        classes = ["background", *self.sample.class_names]
        if engine is not None and scope == "dataset" and isinstance(model, str):
            spec = ModelSpec(model, tuple(classes), device, precision)
            if on_workers(dataset, spec):
                return self._predict_on(engine, dataset, spec, progress)
        if isinstance(model, str):
            model = open_model(model, classes)
        indices = list(range(len(dataset))) if scope == "dataset" else [self.index]
        progress = ensure(progress)
        progress.start(len(indices), f"predicting with {model.info.name}")
        for index in indices:
            revision = self.revision(index, dataset)
            sample = self.sample_of(index, dataset)  # images never change: no snapshot needed
            check_classes(model.info.classes, sample)
            labels, probabilities = predict_both(
                model,
                sample.image,
                channel_axis_of(sample),
                device,
                precision,
                should_stop=progress.should_stop,
            )
            self.add_prediction(
                dataset,
                index,
                Prediction(
                    labels,
                    probabilities,
                    model.info.name,
                    list(model.info.classes),
                    revision,
                ),
            )
            progress.step(sample.name)
        return indices

    def _predict_on(self, engine, dataset: Dataset, spec, progress: Progress | None) -> list[int]:
        """Every sample predicted by ``spec`` as a dataset job on ``engine``."""
        from segviewer.core.jobs.models import model_for, predict_files
        from segviewer.core.jobs.samples import SampleFailure, failures_message
        from segviewer.core.model.evaluation import check_classes

        model = model_for(spec)  # here too: its name and classes
        check_classes(model.info.classes, self.sample)
        revisions = [self.revision(i, dataset) for i in range(len(dataset))]
        folder = self.prediction_files.folder()
        done, failures = [], []
        for index, found in predict_files(dataset, spec, folder, engine, progress):
            if isinstance(found, SampleFailure):
                failures.append(found)
                continue
            labels, probabilities = found.load()
            self.add_prediction(dataset, index, Prediction(
                labels, probabilities, model.info.name, list(model.info.classes), revisions[index]
            ))  # fmt: skip
            done.append(index)
        if failures:
            raise SegviewerError(failures_message(failures))
        return done

    def add_prediction(self, dataset: Dataset, index: int, prediction: Prediction) -> None:
        """Keep ``prediction`` for sample ``index``, its arrays on disk (memory-mapped);
        predictions of another model are dropped."""
        others = [k for k, p in self.predictions.items() if p.classes != prediction.classes]
        for key in [*others, (dataset, index)]:
            self.drop_prediction(key)
        prediction.labels = self.prediction_files.keep(prediction.labels)
        prediction.probabilities = self.prediction_files.keep(prediction.probabilities)
        self.predictions[dataset, index] = prediction
        self.predicted.emit(dataset, index)

    def drop_prediction(self, key) -> None:
        """Forget the prediction of ``key`` (dataset, index) and delete its files."""
        found = self.predictions.pop(key, None)
        if found is not None:
            self.prediction_files.drop(found.labels)
            self.prediction_files.drop(found.probabilities)

    def prediction(self, index: int | None = None, dataset: Dataset | None = None):
        """The prediction of sample ``index`` (default: the shown one), or None."""
        dataset = dataset or self._require_dataset()
        return self.predictions.get((dataset, self.index if index is None else index))

    def is_stale(self, index: int | None = None, dataset: Dataset | None = None) -> bool:
        """Whether the sample was edited after its prediction was made."""
        found = self.prediction(index, dataset)
        index = self.index if index is None else index
        return found is not None and found.revision != self.revision(index, dataset)

    def predicted_indices(self, dataset: Dataset | None = None) -> list[int]:
        dataset = dataset or self._require_dataset()
        return sorted(i for owner, i in self.predictions if owner is dataset)

    def evaluate(self, scope: str = "dataset") -> dict[int, Scores]:
        """Scores of each predicted sample (or the shown one) against its masks as they are."""
        dataset = self._require_dataset()
        indices = self.predicted_indices(dataset) if scope == "dataset" else [self.index]
        scores = {}
        for index in indices:
            found, sample = self.prediction(index, dataset), self.sample_of(index, dataset)
            if found is not None:
                scores[index] = score_sample(sample.masks, found.labels, sample.ignore)
        return scores

    def error_map(self, index: int | None = None, dataset: Dataset | None = None):
        """Correct / missed / extra / wrong class per pixel (see core.model.scores), or None."""
        found = self.prediction(index, dataset)
        if found is None:
            return None
        sample = self.sample_of(self.index if index is None else index, dataset)
        return error_map(sample.masks, found.labels, sample.ignore)

    def probabilities_of(self, dataset: Dataset, index: int) -> np.ndarray | None:
        found = self.predictions.get((dataset, index))
        return None if found is None or found.probabilities is None else found.probabilities
