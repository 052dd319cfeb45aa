"""Something-Something v2 annotations: the labels JSON and the train/validation JSON lists."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import AnnotationError
from ..text.names import remove_brackets
from ._io import PathLike, require_dir, require_file
from .records import VideoRecord, VideoSplit

__all__ = ["read_ssv2", "read_ssv2_labels"]


def _load_json(path: PathLike, what: str) -> tuple[Path, Any]:
    path = require_file(path, what)
    try:
        with open(path, encoding="utf-8-sig") as f:
            return path, json.load(f)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{path} is not valid JSON ({exc})") from None


def read_ssv2_labels(labels_json: PathLike) -> list[str]:
    """The 174 class templates without brackets, in label-index order.

    Args:
        labels_json: ``something-something-v2-labels.json``, ``{"Approaching something with your camera": "0", ...}``.
    """
    path, data = _load_json(labels_json, "SSv2 labels JSON")
    if not isinstance(data, dict) or not data:
        raise AnnotationError(f"{path}: expected an object mapping class templates to indices")
    try:
        pairs = sorted((int(index), remove_brackets(name)) for name, index in data.items())
    except (TypeError, ValueError):
        raise AnnotationError(f'{path}: every value must be a class index such as "0"') from None
    if [i for i, _ in pairs] != list(range(len(pairs))):
        raise AnnotationError(f"{path}: class indices must be 0..{len(pairs) - 1} without gaps")
    return [name for _, name in pairs]


def read_ssv2(
    labels_json: PathLike, annotations_json: PathLike, video_root: PathLike, *, extension: str = ".webm"
) -> VideoSplit:
    """Read a Something-Something v2 split.

    Args:
        labels_json: ``something-something-v2-labels.json``.
        annotations_json: ``something-something-v2-train.json`` or ``-validation.json``: a list of
            ``{"id": "78687", "template": "Holding [something] next to [something]", ...}``; the class is the
            template with its brackets removed.
        video_root: folder with ``<id>.webm``.
        extension: video file extension.

    Returns:
        A `VideoSplit`. Train with horizontal flip off: "pushing something from left to right" flipped is
        another class.
    """
    classes = read_ssv2_labels(labels_json)
    by_name = {c: i for i, c in enumerate(classes)}
    path, items = _load_json(annotations_json, "SSv2 annotation JSON")
    video_root = require_dir(video_root, "SSv2 video folder")
    if not isinstance(items, list):
        raise AnnotationError(f"{path}: expected a list of {{'id', 'template', ...}} objects")
    records, missing = [], []
    for number, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item:
            raise AnnotationError(f"{path}: entry {number} has no 'id'")
        if "template" not in item:
            raise AnnotationError(
                f"{path}: entry {number} (id {item['id']}) has no 'template'; the SSv2 test list has no public "
                "labels, evaluate on the validation list"
            )
        name = remove_brackets(str(item["template"]))
        if name not in by_name:
            raise AnnotationError(f"{path}: entry {number} has template {name!r}, not in {labels_json}")
        video = os.path.join(video_root, f"{item['id']}{extension}")
        if os.path.isfile(video):
            records.append(VideoRecord(video, by_name[name]))
        else:
            missing.append(video)
    return VideoSplit(classes, records, f"ssv2/{path.stem}", missing)
