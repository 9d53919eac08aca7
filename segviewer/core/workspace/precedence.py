"""The Workspace's learned precedence: examples from the user's own fixes, and what they say.

Before a sample's first edit the Workspace keeps a copy of its masks as they were. A sample
the user painted by hand (or marked as an example) is an *example*: its original conflict
pixels that are no longer conflicts say which class the user gives each combination of
classes. :meth:`learn_precedence` turns the examples into a precedence; the ``learned``
rule of :meth:`apply_rule` then resolves the rest (of the sample or of the dataset), and a
save writes the precedence beside the samples as ``precedence.json``.
"""

from __future__ import annotations

from collections.abc import Sequence

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.learning import (
    Agreement,
    Example,
    Learned,
    compare_rules,
    comparison_line,
    learn,
)
from segviewer.core.editing.precedence import Precedence
from segviewer.core.errors import SegviewerError


class PrecedenceMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` about learning from fixes."""

    def _remember_original(self, dataset: Dataset, index: int, sample: Sample) -> None:
        """Keep the masks as they were before the first edit (the learning's baseline)."""
        key = (dataset, index)
        if key not in self._originals:
            ignore = None if sample.ignore is None else sample.ignore.copy()
            self._originals[key] = (sample.masks.copy(), ignore)

    def mark_example(self, on: bool = True, index: int | None = None) -> None:
        """Count sample ``index`` (default: the shown one) as an example of how the user
        resolves conflicts, even if it was fixed by a rule rather than by hand."""
        dataset = self._require_dataset()
        key = (dataset, self.index if index is None else index)
        (self._examples.add if on else self._examples.discard)(key)

    def is_example(self, index: int | None = None) -> bool:
        """Whether the user marked sample ``index`` (default: the shown one) as an example."""
        return (self._require_dataset(), self.index if index is None else index) in self._examples

    def examples(self, dataset: Dataset | None = None) -> list[int]:
        """Samples whose fixes teach the precedence: painted by hand, or marked."""
        dataset = dataset or self._require_dataset()
        keys = (self._hand_edited | self._examples) & set(self._originals)
        return sorted(index for d, index in keys if d is dataset)

    def learn_precedence(
        self, priority: Sequence[str] | None = None, dataset: Dataset | None = None
    ) -> Learned:
        """Learn the precedence of the examples' fixes; the ``learned`` rule then uses it."""
        dataset = dataset or self._require_dataset()
        found = []
        for index in self.examples(dataset):
            sample = self.sample_of(index, dataset)
            original, _ = self._originals[dataset, index]
            found.append(
                Example(sample.name, sample.class_names, original, sample.masks, sample.ignore)
            )
        learned = learn(found, priority)
        self.learned[dataset] = learned
        self.precedences[dataset] = learned.precedence
        return learned

    def compare_rules(
        self, priority: Sequence[str] | None = None, per_region: bool = False
    ) -> tuple[list[Agreement], str]:
        """Every rule's agreement with the fixes of the last :meth:`learn_precedence`, and
        the one-line summary the panel shows."""
        learned = self.learned.get(self._require_dataset())
        if learned is None:
            raise SegviewerError("learn from your fixes first (no precedence learned yet)")
        agreements = compare_rules(learned, priority, per_region)
        return agreements, comparison_line(learned, agreements)

    def set_precedence(self, precedence: Precedence, dataset: Dataset | None = None) -> None:
        """Use ``precedence`` (e.g. a ``precedence.json`` of an earlier run) for the
        ``table`` and ``learned`` rules of this dataset."""
        dataset = dataset or self._require_dataset()
        sample = self.sample_of(0, dataset)
        precedence.check_classes(sample.class_names, dataset.name)
        self.precedences[dataset] = precedence

    def precedence(self, dataset: Dataset | None = None) -> Precedence | None:
        return self.precedences.get(dataset or self._require_dataset())

    def _precedence_for(self, rule: str, dataset: Dataset) -> Precedence | None:
        if rule not in ("table", "learned"):
            return None
        found = self.precedences.get(dataset)
        if found is None:
            raise SegviewerError(
                "the learned rule needs a precedence: fix some conflicts by hand, then learn"
                if rule == "learned"
                else "the table rule needs winners: set them in the Conflicts tab or load a file"
            )
        return found
