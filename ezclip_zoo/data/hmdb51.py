"""HMDB-51 annotations: the ``testTrainMulti_7030_splits`` folder (``<class>_test_split<N>.txt``, 1 train, 2 test)."""

from __future__ import annotations

import os
import re

from ..text.names import readable_class_name
from ._io import PathLike, bad_line, numbered_lines, require_dir
from .records import VideoRecord, VideoSplit

__all__ = ["read_hmdb51"]

_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<split>[123])\.txt$")
_SUBSETS = {"1": "train", "2": "test"}  # "0": not used in this split


def read_hmdb51(split_dir: PathLike, video_root: PathLike, split: int = 1) -> dict[str, VideoSplit]:
    """Read one of HMDB-51's three official 70/30 splits.

    Args:
        split_dir: the ``testTrainMulti_7030_splits`` folder: one ``<class>_test_split<N>.txt`` per class and
            split, lines ``"<video>.avi <0|1|2>"`` (1 = train, 2 = test, 0 = unused).
        video_root: folder with one sub-folder per class (``brush_hair/<video>.avi``), or all videos flat.
        split: 1, 2 or 3.

    Returns:
        ``{"train": VideoSplit, "test": VideoSplit}``, classes in alphabetical order of their identifiers (the
        usual HMDB-51 label order) as readable names ("brush hair").
    """
    if split not in (1, 2, 3):
        raise ValueError(f"HMDB-51 has splits 1, 2 and 3, got {split!r}")
    split_dir = require_dir(split_dir, "HMDB-51 split folder")
    video_root = require_dir(video_root, "HMDB-51 video folder")
    files = {}
    for entry in os.listdir(split_dir):
        match = _SPLIT_FILE.match(entry)
        if match and int(match["split"]) == split:
            files[match["cls"]] = split_dir / entry
    if not files:
        raise FileNotFoundError(f"no '<class>_test_split{split}.txt' files in {str(split_dir)!r}")
    identifiers = sorted(files)
    classes = [readable_class_name(c) for c in identifiers]
    records: dict[str, list[VideoRecord]] = {"train": [], "test": []}
    missing: dict[str, list[str]] = {"train": [], "test": []}
    for label, identifier in enumerate(identifiers):
        path_file = files[identifier]
        for number, text in numbered_lines(path_file):
            parts = text.split()
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise bad_line(path_file, number, text, "'<video>.avi <0|1|2>'")
            subset = _SUBSETS.get(parts[1])
            if subset is None:
                continue
            nested = os.path.join(video_root, identifier, parts[0])
            flat = os.path.join(video_root, parts[0])
            if os.path.isfile(nested):
                records[subset].append(VideoRecord(nested, label))
            elif os.path.isfile(flat):
                records[subset].append(VideoRecord(flat, label))
            else:
                missing[subset].append(nested)
    return {
        subset: VideoSplit(list(classes), records[subset], f"hmdb51/{subset}/{split}", missing[subset])
        for subset in ("train", "test")
    }
