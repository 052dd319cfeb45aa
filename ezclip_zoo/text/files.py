"""Label files: class names (and optional descriptions) from JSON, CSV/TSV or plain text, for the CLI and users."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .labels import check_strings

if TYPE_CHECKING:
    import os

__all__ = ["read_labels_file", "read_authors_descriptions"]


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    from collections import Counter

    dupes = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate class names {dupes[:5]}; every class must be distinct")
    return dict(pairs)


_HEADER_WORDS = {
    "id",
    "index",
    "name",
    "label",
    "class",
    "class_name",
    "classname",
    "action",
    "description",
    "text",
    "prompt",
}


def read_text_file(path: str, what: str = "labels file") -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is accepted and dropped).

    Raises:
        ValueError: the file is not UTF-8; the message names it, the first bad byte, and how to fix it.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            found = "it is UTF-16 (it starts with a UTF-16 byte-order mark)"
        else:
            found = f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8 (Latin-1 or Windows-1252?)"
        raise ValueError(
            f"{what} {path!r} is not UTF-8 text: {found}; save it as UTF-8 (with or without a BOM)"
        ) from None


def _checked_path(path: object, what: str) -> str:
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {type(path).__name__}")
    return os.fspath(path)


def read_labels_file(path: str | os.PathLike) -> list[str] | dict[str, str]:
    """Read class names (and optional descriptions) from a file.

    * ``.json``: a list of names, or an object name -> description;
    * ``.csv`` / ``.tsv``: one row per class, ``name`` or ``name,description`` (``id,name,description`` when the
      first column is an integer id); a header row naming the columns (name/label/class, description/text) is
      recognised and skipped;
    * anything else: one name per line; blank lines and lines starting with ``#`` are skipped.

    Returns:
        A list of names, or a dict name -> description when the file has descriptions.

    Files are UTF-8 text (a UTF-8 byte-order mark, as Excel writes, is accepted).

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no such file.
        ValueError: the file is not UTF-8, has no labels or an unreadable layout (the message names the file).
    """
    import os

    path = _checked_path(path, "the labels file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"labels file {path!r} does not exist")
    try:
        return _read_labels(path)
    except TypeError as exc:  # wrong JSON value types: a problem of the file's content
        raise ValueError(f"labels file {path!r}: {exc}") from None


def _read_labels(path: str) -> list[str] | dict[str, str]:
    import csv

    text = read_text_file(path)
    lower = path.lower()
    if lower.endswith(".json"):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise ValueError(f"labels file {path!r} is not valid JSON: {exc}") from None
        if isinstance(data, list):
            return check_strings(data, f"labels in {path}")
        if isinstance(data, dict):
            check_strings(list(data.values()), f"descriptions in {path}")
            return {str(k): v for k, v in data.items()}
        raise ValueError(f"labels file {path!r} must hold a JSON list of names or an object name -> description")
    if lower.endswith((".csv", ".tsv")):
        rows = [
            [c.strip() for c in row]
            for row in csv.reader(text.splitlines(), delimiter="\t" if lower.endswith(".tsv") else ",")
        ]
        rows = [r for r in rows if any(r)]
        if not rows:
            raise ValueError(f"labels file {path!r} has no rows")
        name_col, desc_col = 0, None
        header = [c.lower() for c in rows[0]]
        if set(header) & _HEADER_WORDS and not any(c.isdigit() for c in header):
            rows = rows[1:]
            name_cols = [
                i for i, c in enumerate(header) if c in ("name", "label", "class", "class_name", "classname", "action")
            ]
            desc_cols = [i for i, c in enumerate(header) if c in ("description", "text", "prompt")]
            name_col = name_cols[0] if name_cols else 0
            desc_col = desc_cols[0] if desc_cols else None
        else:
            width = len(rows[0])
            if width >= 3 and rows[0][0].isdigit():
                name_col, desc_col = 1, 2
            elif width >= 2:
                desc_col = 1
        try:
            names_list = [r[name_col] for r in rows]
            if desc_col is None:
                return check_strings(names_list, f"labels in {path}")
            return _no_duplicate_keys(
                list(
                    zip(names_list, check_strings([r[desc_col] for r in rows], f"descriptions in {path}"), strict=True)
                )
            )
        except IndexError:
            raise ValueError(f"labels file {path!r}: some rows have fewer columns than the first") from None
    names = [line.strip() for line in text.splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    return check_strings(names, f"labels in {path}")


def read_authors_descriptions(path: str | os.PathLike) -> dict[str, str]:
    """The EZ-CLIP authors' description CSV (``SNo, Class Name, GPT3 discription``; descriptions CSV-quoted, with
    leading blank lines) -> ``{readable class name: description}`` in file order.

    Raises:
        ValueError: the file is not UTF-8 text, a row without name and description, or a class described twice (the
            row is named).
    """
    import csv
    import io
    import os

    from .names import readable_class_name

    path = _checked_path(path, "the descriptions file")
    rows = list(csv.reader(io.StringIO(read_text_file(path, "descriptions file"), newline="")))
    if not rows:
        raise ValueError(f"{os.fspath(path)} is empty")
    out: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):  # the first row is the header
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[-2].strip() or not row[-1].strip():
            raise ValueError(f"{os.fspath(path)}:{number}: expected 'number, class name, description'")
        name = readable_class_name(row[-2])
        if name in out:
            raise ValueError(f"{os.fspath(path)}:{number}: class {row[-2]!r} is described twice")
        out[name] = " ".join(row[-1].split())
    return out
