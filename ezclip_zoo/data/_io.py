"""Small helpers shared by the annotation readers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import AnnotationError

PathLike = str | os.PathLike


def require_file(path: PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    return path


def require_dir(path: PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {str(path)!r} is not a folder")
    return path


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped text) of the non-blank lines (UTF-8 with or without BOM, any line ending)."""
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            text = line.strip()
            if text:
                yield number, text


def bad_line(path: Path, number: int, text: str, expected: str) -> AnnotationError:
    return AnnotationError(f"{path}:{number}: cannot parse {text[:80]!r}; expected {expected}")
