"""UCF-101 annotations: ``classInd.txt``, ``trainlist0N.txt``, ``testlist0N.txt`` (the ``ucfTrainTestlist`` folder)."""

from __future__ import annotations

import os

from ..text.names import readable_class_name
from ._io import PathLike, bad_line, numbered_lines, require_dir, require_file
from .records import VideoRecord, VideoSplit

__all__ = ["read_ucf101"]


def read_ucf101(annotation_dir: PathLike, video_root: PathLike, split: int = 1) -> dict[str, VideoSplit]:
    """Read one of UCF-101's three official train/test splits.

    Args:
        annotation_dir: the folder holding ``classInd.txt`` (``"1 ApplyEyeMakeup"``), ``trainlist0N.txt``
            (``"ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"``) and ``testlist0N.txt`` (path only; the label is
            the folder name).
        video_root: the folder the list paths are relative to (the extracted ``UCF-101`` folder).
        split: 1, 2 or 3.

    Returns:
        ``{"train": VideoSplit, "test": VideoSplit}`` with readable class names ("apply eye makeup") in
        ``classInd`` order; listed videos that are not on disk are in each split's ``missing``.
    """
    if split not in (1, 2, 3):
        raise ValueError(f"UCF-101 has splits 1, 2 and 3, got {split!r}")
    annotation_dir = require_dir(annotation_dir, "UCF-101 annotation folder")
    video_root = require_dir(video_root, "UCF-101 video folder")
    class_file = require_file(annotation_dir / "classInd.txt", "UCF-101 class index")
    identifiers: list[str] = []
    for number, text in numbered_lines(class_file):
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != len(identifiers) + 1:
            raise bad_line(class_file, number, text, f"'<index> <ClassName>' with index {len(identifiers) + 1}")
        identifiers.append(parts[1])
    # folder names and classInd differ in case for one class ("HandStandPushups"), so look up case-insensitively
    by_key = {name.lower(): i for i, name in enumerate(identifiers)}
    classes = [readable_class_name(name) for name in identifiers]

    out = {}
    for subset in ("train", "test"):
        list_file = require_file(annotation_dir / f"{subset}list0{split}.txt", f"UCF-101 {subset} list")
        records, missing = [], []
        for number, text in numbered_lines(list_file):
            parts = text.split()
            rel = parts[0].replace("\\", "/")
            folder = rel.split("/")[0]
            if len(parts) == 2 and parts[1].isdigit():
                label = int(parts[1]) - 1
                if not 0 <= label < len(identifiers):
                    raise bad_line(list_file, number, text, f"a label between 1 and {len(identifiers)}")
            elif len(parts) == 1 and folder.lower() in by_key:
                label = by_key[folder.lower()]
            else:
                raise bad_line(list_file, number, text, "'<Class>/<video>.avi [label]' with a class from classInd")
            path = os.path.join(video_root, rel)
            if os.path.isfile(path):
                records.append(VideoRecord(path, label))
            else:
                missing.append(path)
        out[subset] = VideoSplit(list(classes), records, f"ucf101/{subset}/{split}", missing)
    return out
