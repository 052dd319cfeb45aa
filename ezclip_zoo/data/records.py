"""What an annotation reader returns: the class list and one record per video of a split."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["VideoRecord", "VideoSplit"]


@dataclass(frozen=True)
class VideoRecord:
    """One labelled video.

    Attributes:
        path: the video file (absolute, or relative to the working directory).
        label: class index into the split's ``classes``.
    """

    path: str
    label: int


@dataclass
class VideoSplit:
    """The videos of one split of a dataset.

    Attributes:
        classes: readable class names; ``records[i].label`` indexes this list. Splits of one dataset share it.
        records: the videos found on disk.
        name: e.g. ``"ucf101/train/1"``, for logs and reports.
        missing: annotated videos that were not found on disk (Kinetics always has some: deleted YouTube videos).
    """

    classes: list[str]
    records: list[VideoRecord]
    name: str = ""
    missing: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(set(self.classes)) != len(self.classes):
            dupes = sorted({c for c in self.classes if self.classes.count(c) > 1})
            raise ValueError(f"{self.name or 'split'}: duplicate class names {dupes[:10]}")
        bad = [r for r in self.records if not 0 <= r.label < len(self.classes)]
        if bad:
            raise ValueError(
                f"{self.name or 'split'}: {len(bad)} records have labels outside 0..{len(self.classes) - 1}, "
                f"e.g. {bad[0]}"
            )

    def __len__(self) -> int:
        return len(self.records)

    @property
    def labels(self) -> list[int]:
        """The class index of every record, in order."""
        return [r.label for r in self.records]

    def class_counts(self) -> list[int]:
        """Number of videos of each class."""
        counts = [0] * len(self.classes)
        for r in self.records:
            counts[r.label] += 1
        return counts

    def subset(self, indices: Iterable[int], name: str | None = None) -> VideoSplit:
        """The same classes with only the records at ``indices`` (in that order)."""
        return VideoSplit(list(self.classes), [self.records[i] for i in indices], name or self.name, [])

    def restrict_classes(self, class_names: Sequence[str], name: str | None = None) -> VideoSplit:
        """Only the videos of ``class_names``, relabelled ``0..len(class_names)-1`` in that order (base-to-novel:
        each half is evaluated among its own classes only)."""
        index = {c: i for i, c in enumerate(self.classes)}
        unknown = [c for c in class_names if c not in index]
        if unknown:
            raise ValueError(f"{self.name or 'split'}: unknown classes {unknown[:10]}; known: {self.classes[:10]}...")
        remap = {index[c]: i for i, c in enumerate(class_names)}
        records = [VideoRecord(r.path, remap[r.label]) for r in self.records if r.label in remap]
        return VideoSplit(list(class_names), records, name or self.name, [])

    def drop_missing(self) -> VideoSplit:
        """A copy without records whose file does not exist; those paths are added to ``missing``."""
        kept, missing = [], list(self.missing)
        for r in self.records:
            if os.path.isfile(r.path):
                kept.append(r)
            else:
                missing.append(r.path)
        return VideoSplit(list(self.classes), kept, self.name, missing)
