"""The nnU-Net and MONAI exports as dataset jobs: tasks read their samples twice, once for
what the label scheme needs (the combinations of classes present) and once to write their
cases into the new folder; only small records come back (facts, datalist entries). The
files equal a one-process export's.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.io import monai_export as monai
from segviewer.core.io.atomic import new_folder
from segviewer.core.io.nnunet import make_layout, new_dataset_folder, write_case, write_description
from segviewer.core.io.training_files import SampleFacts, combine, sample_facts
from segviewer.core.jobs.engine import Engine, EngineSpec, opened
from segviewer.core.jobs.samples import map_samples
from segviewer.core.jobs.summaries import raise_failures
from segviewer.core.progress import Progress


def export_nnunet_dataset(
    dataset: Dataset,
    out: Path,
    dataset_id: int,
    name: str,
    engine: Engine | EngineSpec | None = None,
    dims: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """``core.io.nnunet.export_nnunet`` with both passes on ``engine``."""
    folder = new_dataset_folder(out, dataset_id, name)
    with opened(engine, len(dataset)) as running:
        kept, survey = _survey(dataset, running, progress, dims)
        scheme = survey.scheme()
        with new_folder(folder) as tmp:
            make_layout(tmp)
            write = functools.partial(_write, folder=tmp, scheme=scheme, ending=survey.file_ending)
            written = map_samples(dataset, write, running, progress, kept, "writing")
            raise_failures([r for _, r, _ in written])
            write_description(tmp, survey, scheme, name)
    return folder


def export_monai_dataset(
    dataset: Dataset,
    out: Path,
    class_weights: Sequence[float],
    sampler_weights: Sequence[float],
    scheme: str,
    validation: float = 0.2,
    seed: int = 0,
    engine: Engine | EngineSpec | None = None,
    dims: int | None = None,
    progress: Progress | None = None,
) -> Path:
    """``core.io.monai_export.export_monai`` with both passes on ``engine``."""
    out = monai.new_export_folder(out)
    with opened(engine, len(dataset)) as running:
        kept, survey = _survey(dataset, running, progress, dims)
        held_out = monai.validation_cases(survey.names, validation, seed)
        with new_folder(out) as tmp:
            monai.make_layout(tmp)
            layout = monai.MonaiLayout.of(survey)
            write = functools.partial(monai.write_case, folder=tmp, layout=layout)
            written = map_samples(dataset, write, running, progress, kept, "writing")
            entries = [r for _, r, _ in written]
            raise_failures(entries)
            cases = list(map(monai.Case, kept, survey.names, entries))
            monai.write_description(
                tmp, dataset.name, survey, cases, held_out, class_weights, sampler_weights, scheme
            )
    return out


def _survey(dataset: Dataset, running: Engine, progress, dims: int | None):
    """The first pass: ``(indices of the samples exported, their combined facts)``."""
    work = functools.partial(_facts, dims=dims)
    found = [r for _, r, _ in map_samples(dataset, work, running, progress, None, "reading")]
    raise_failures(found)
    kept = [i for i, fact in enumerate(found) if fact is not None]
    return kept, combine(found[i] for i in kept)


def _facts(sample: Sample, dims: int | None) -> SampleFacts | None:
    if dims is not None and len(sample.spatial_shape) != dims:
        return None
    return sample_facts(sample)


def _write(sample: Sample, folder: Path, scheme, ending: str) -> str:
    write_case(sample, folder, scheme, ending)
    return sample.name
