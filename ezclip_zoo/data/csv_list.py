"""A generic ``path,label`` CSV of videos, and the optional ``class,description`` CSV."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import AnnotationError
from ..text.names import readable_class_name
from ._io import PathLike, require_file
from .records import VideoRecord, VideoSplit

__all__ = ["read_video_csv", "read_class_descriptions", "read_class_list", "as_class_list", "as_class_descriptions"]

_CLASS_HEADERS = {"class", "class_name", "classname", "label", "name", "action"}


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = enumerate(csv.reader(f), start=1)
        return [(n, [c.strip() for c in row]) for n, row in rows if any(c.strip() for c in row)]


def read_class_list(path: PathLike) -> list[str]:
    """Readable class names from a text file, one per line (a leading ``"<index> "`` as in ``classInd.txt`` is
    dropped)."""
    path = require_file(path, "class list")
    names = []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            parts = line.strip().split(maxsplit=1)
            if not parts:
                continue
            name = parts[1] if len(parts) == 2 and parts[0].isdigit() else line.strip()
            names.append(readable_class_name(name))
    if not names:
        raise AnnotationError(f"{path} lists no classes")
    return names


def read_video_csv(
    csv_path: PathLike, *, video_root: PathLike | None = None, classes: Sequence[str] | None = None
) -> VideoSplit:
    """Read a ``path,label`` CSV (a header row ``path,label`` is optional).

    Args:
        csv_path: the CSV. ``label`` is a class name (made readable: ``"PlayingGuitar"`` -> ``"playing guitar"``)
            or, when ``classes`` is given, optionally a 0-based class index.
        video_root: folder relative paths are resolved against; default the CSV's folder.
        classes: the class list (pass the train split's ``classes`` for validation and test CSVs so labels
            agree); default: the CSV's class names in alphabetical order.

    Returns:
        A `VideoSplit`; rows whose file does not exist are in ``missing``.
    """
    csv_path = require_file(csv_path, "video CSV")
    root = Path(video_root) if video_root is not None else csv_path.parent
    rows = _rows(csv_path)
    if rows and [c.lower() for c in rows[0][1][:2]] == ["path", "label"]:
        rows = rows[1:]
    entries = []
    for number, row in rows:
        if len(row) != 2 or not row[0] or not row[1]:
            raise AnnotationError(f"{csv_path}:{number}: expected 'path,label', got {row}")
        entries.append((number, row[0], row[1]))
    if not entries:
        raise AnnotationError(f"{csv_path} lists no videos")

    if classes is None:
        if all(label.isdigit() for _, _, label in entries):
            raise AnnotationError(
                f"{csv_path}: labels are indices; pass classes=[...] (e.g. read_class_list('classInd.txt')) "
                "so they have names a text encoder can read"
            )
        class_list = sorted({readable_class_name(label) for _, _, label in entries})
    else:
        class_list = list(classes)
    by_name = {c: i for i, c in enumerate(class_list)}
    records, missing = [], []
    for number, rel, label in entries:
        if label.isdigit() and classes is not None:
            index = int(label)
            if not 0 <= index < len(class_list):
                raise AnnotationError(f"{csv_path}:{number}: label index {index} outside 0..{len(class_list) - 1}")
        else:
            index = by_name.get(readable_class_name(label), by_name.get(label, -1))
            if index < 0:
                raise AnnotationError(f"{csv_path}:{number}: label {label!r} is not in the class list")
        path = rel if os.path.isabs(rel) else os.path.join(root, rel)
        if os.path.isfile(path):
            records.append(VideoRecord(path, index))
        else:
            missing.append(path)
    return VideoSplit(class_list, records, f"csv/{csv_path.stem}", missing)


def read_class_descriptions(csv_path: PathLike) -> dict[str, str]:
    """Read ``class,description`` rows (header optional) into ``{readable class name: description}``.

    The released EZ-CLIP checkpoints were trained with one LLM-written description per class used as the whole
    class text; pass the result as ``descriptions=`` to `class_texts`.
    """
    csv_path = require_file(csv_path, "class description CSV")
    rows = _rows(csv_path)
    if (
        rows
        and rows[0][1][0].lower() in _CLASS_HEADERS
        and len(rows[0][1]) == 2
        and rows[0][1][1].lower()
        in (
            "description",
            "text",
        )
    ):
        rows = rows[1:]
    out: dict[str, str] = {}
    for number, row in rows:
        if len(row) != 2 or not row[0] or not row[1]:
            raise AnnotationError(f"{csv_path}:{number}: expected 'class,description' (quote descriptions with commas)")
        name = readable_class_name(row[0])
        if name in out:
            raise AnnotationError(f"{csv_path}:{number}: class {row[0]!r} is described twice")
        out[name] = row[1]
    if not out:
        raise AnnotationError(f"{csv_path} has no descriptions")
    return out


def as_class_list(classes: PathLike | Sequence[str]) -> list[str]:
    """A class list given either as a file (`read_class_list`: one name per line, made readable) or as names,
    kept exactly as written (they must match the split's readable names, e.g. ``"apply eye makeup"``)."""
    if isinstance(classes, (str, os.PathLike)):
        return read_class_list(classes)
    names = list(classes)
    if not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"classes must be a class-list file or a non-empty list of names, got {classes!r}")
    return names


def as_class_descriptions(descriptions: PathLike | Mapping[str, str]) -> dict[str, str]:
    """Class descriptions given either as a ``class,description`` CSV (`read_class_descriptions`) or as a mapping
    ``{readable class name: description}`` (copied as it is)."""
    if isinstance(descriptions, (str, os.PathLike)):
        return read_class_descriptions(descriptions)
    return dict(descriptions)
