"""Per-sample weights for ``torch.utils.data.WeightedRandomSampler``.

Scheme ``rarest_class``: with m_c the number of samples in which class c (background
included) has at least one pixel, sample i gets u_i = max over the classes c present in i of
1 / m_c, the inverse presence frequency of the rarest class it contains; the weights are
u_i / Σ_j u_j, so they sum to 1. A sample with no pixel at all gets u_i = 0. Drawn with these
weights, a sample holding a class found in few samples comes up as often as one holding a
common class comes up per its class. ``uniform``: 1 / S each.
"""

from __future__ import annotations

import numpy as np

from segviewer.core.errors import SegviewerError

SAMPLERS = ("uniform", "rarest_class")


def sampler_weights(per_sample: np.ndarray, scheme: str = "rarest_class") -> np.ndarray:
    """Weights summing to 1, one per row of the ``(S, K)`` counts ``per_sample``."""
    if scheme not in SAMPLERS:
        raise SegviewerError(f"sampler {scheme!r}: expected one of {', '.join(SAMPLERS)}")
    present = np.atleast_2d(np.asarray(per_sample)) > 0
    if len(present) == 0:
        return np.zeros(0)
    if scheme == "uniform":
        return np.full(len(present), 1.0 / len(present))
    inverse = 1.0 / np.maximum(present.sum(axis=0), 1)  # 1 / m_c (absent classes unused)
    rarest = np.where(present, inverse, 0.0).max(axis=1)
    total = rarest.sum()
    return rarest / total if total > 0 else np.full(len(present), 1.0 / len(present))
