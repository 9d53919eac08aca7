"""Dataset-wide jobs on Dask: one task per chunk of samples, results in sample order."""

from segviewer.core.jobs.engine import SYNCHRONOUS, Engine, EngineSpec, open_engine
from segviewer.core.jobs.resolve import resolve_dataset
from segviewer.core.jobs.samples import SampleFailure, map_samples
from segviewer.core.jobs.summaries import dataset_stats, dataset_summaries, map_records

__all__ = [
    "SYNCHRONOUS",
    "Engine",
    "EngineSpec",
    "SampleFailure",
    "dataset_stats",
    "dataset_summaries",
    "map_records",
    "map_samples",
    "open_engine",
    "resolve_dataset",
]
