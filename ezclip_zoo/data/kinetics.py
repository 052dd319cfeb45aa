"""Kinetics (400/600/700) annotations: the official CSV ``label,youtube_id,time_start,time_end,split[,is_cc]``."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

from ..errors import AnnotationError
from ..text.names import readable_class_name
from ..video.extensions import VIDEO_EXTENSIONS
from ._io import PathLike, require_dir, require_file
from .records import VideoRecord, VideoSplit

__all__ = ["read_kinetics", "kinetics_clip_stem"]

_REQUIRED = ("label", "youtube_id", "time_start", "time_end")


def kinetics_clip_stem(youtube_id: str, time_start: float, time_end: float) -> str:
    """The file stem the common downloaders give a clip (ActivityNet crawler, CVDF archives):
    ``"<youtube_id>_<start:06d>_<end:06d>"``."""
    return f"{youtube_id}_{int(time_start):06d}_{int(time_end):06d}"


def _index_videos(root: str, extensions: Sequence[str]) -> dict[str, str]:
    """Stem -> path of every video file under ``root`` (one walk, not one ``stat`` per annotation row)."""
    index: dict[str, str] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            stem, ext = os.path.splitext(name)
            if ext.lower() in extensions:
                index.setdefault(stem, os.path.join(folder, name))
    return index


def read_kinetics(
    csv_path: PathLike,
    video_root: PathLike,
    *,
    classes: Sequence[str] | None = None,
    split: str | None = None,
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> VideoSplit:
    """Read a Kinetics annotation CSV and find its clips on disk.

    Clips are looked up anywhere under ``video_root`` by file stem ``<youtube_id>_<start:06d>_<end:06d>`` (the
    name the ActivityNet crawler and the CVDF archives use, whether in per-class folders or flat), or by the
    bare ``<youtube_id>``. Rows whose clip is not found are listed in ``missing``; Kinetics always has some.

    Args:
        csv_path: e.g. ``kinetics400/train.csv``.
        video_root: folder holding the clips (searched recursively).
        classes: the class list to index labels with (pass the train split's ``classes`` when reading
            validation or test CSVs); default: this CSV's labels in alphabetical order, the usual label order.
        split: keep only rows whose ``split`` column equals this (for CSVs that mix splits).
        extensions: video file extensions to look for.

    Returns:
        A `VideoSplit`.
    """
    csv_path = require_file(csv_path, "Kinetics annotation CSV")
    video_root = require_dir(video_root, "Kinetics video folder")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        absent = [c for c in _REQUIRED if c not in header]
        if absent:
            raise AnnotationError(
                f"{csv_path}: columns {absent} missing (header {header}); a Kinetics CSV has "
                "label,youtube_id,time_start,time_end,split"
            )
        rows = []
        for number, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if split is not None and row.get("split") != split:
                continue
            try:
                start, end = float(row["time_start"]), float(row["time_end"])
            except ValueError:
                raise AnnotationError(
                    f"{csv_path}:{number}: time_start/time_end must be numbers, got "
                    f"{row['time_start']!r}, {row['time_end']!r}"
                ) from None
            if not row["label"] or not row["youtube_id"]:
                raise AnnotationError(f"{csv_path}:{number}: empty label or youtube_id")
            rows.append((row["label"], row["youtube_id"], start, end))
    if classes is None:
        class_list = [readable_class_name(c) for c in sorted({r[0] for r in rows})]
    else:
        class_list = list(classes)
    by_name = {c: i for i, c in enumerate(class_list)}
    unknown = sorted({r[0] for r in rows if readable_class_name(r[0]) not in by_name})
    if unknown:
        raise AnnotationError(f"{csv_path}: labels {unknown[:10]} are not in the given class list")

    index = _index_videos(str(video_root), tuple(e.lower() for e in extensions))
    records, missing = [], []
    for label, youtube_id, start, end in rows:
        stem = kinetics_clip_stem(youtube_id, start, end)
        path = index.get(stem) or index.get(youtube_id)
        if path is None:
            missing.append(stem)
        else:
            records.append(VideoRecord(path, by_name[readable_class_name(label)]))
    name = f"kinetics/{split or csv_path.stem}"
    return VideoSplit(class_list, records, name, missing)
