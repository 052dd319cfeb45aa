"""Class names, descriptions and prompt templates -> the texts a classifier encodes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Union

__all__ = ["ACTIONCLIP_TEMPLATES", "TEMPLATE_SETS", "LabelSet", "build_label_set", "read_labels_file"]

# The 16 templates of ActionCLIP's `text_prompt`, which the EZ-CLIP reference code inherits; at test time the
# softmax over classes is averaged over them.
ACTIONCLIP_TEMPLATES = (
    "a photo of action {}",
    "a picture of action {}",
    "Human action of {}",
    "{}, an action",
    "{} this is an action",
    "{}, a video of action",
    "Playing action of {}",
    "{}",
    "Playing a kind of action, {}",
    "Doing a kind of action, {}",
    "Look, the human is {}",
    "Can you recognize the action of {}?",
    "Video classification of {}",
    "A video of {}",
    "The man is {}",
    "The woman is {}",
)

TEMPLATE_SETS = {"actionclip": ACTIONCLIP_TEMPLATES, "plain": ("{}",)}

ClassNames = Union[Sequence[str], Mapping[str, str]]


@dataclass(frozen=True)
class LabelSet:
    """What a classifier scores against.

    Attributes:
        names: the C class names (what results report).
        texts: M tuples of C texts, one tuple per template (``texts[m][c]`` is class c under template m).
    """

    names: tuple[str, ...]
    texts: tuple[tuple[str, ...], ...]

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def num_templates(self) -> int:
        return len(self.texts)

    def flat_texts(self) -> list[str]:
        """The M * C texts, template-major (``[m * C + c]``)."""
        return [t for row in self.texts for t in row]

    def digest(self) -> str:
        """A short hash of names and texts (to tell label sets apart in saved results)."""
        blob = json.dumps([self.names, self.texts], ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _check_strings(values: Sequence, what: str) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{what} must be a list of strings, got a single string {values!r}; wrap it in a list")
    if isinstance(values, (set, frozenset)):
        raise TypeError(f"{what} must be an ordered sequence (list or tuple), not a {type(values).__name__}")
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"{what} must be a list of strings, got {type(values).__name__}") from None
    if not values:
        raise ValueError(f"{what} is empty; pass at least one class")
    bad = [(i, type(v).__name__) for i, v in enumerate(values) if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{what} must all be strings; entries (index, type) {bad[:5]} are not")
    blank = [i for i, v in enumerate(values) if not v.strip()]
    if blank:
        raise ValueError(f"{what} has empty or blank entries at indices {blank[:5]}")
    return values


def _templates(templates: Union[None, str, Sequence[str]]) -> tuple[str, ...]:
    if templates is None:
        return ("{}",)
    if isinstance(templates, str):
        if templates in TEMPLATE_SETS:
            return TEMPLATE_SETS[templates]
        templates = [templates]
    out = tuple(_check_strings(templates, "templates"))
    missing = [t for t in out if "{}" not in t]
    if missing:
        raise ValueError(
            f"templates {missing[:3]} have no '{{}}' placeholder for the class text (e.g. 'a video of {{}}'); "
            f"named sets: {sorted(TEMPLATE_SETS)}"
        )
    if len(set(out)) != len(out):
        raise ValueError("templates contain duplicates, which would weight some of them twice")
    return out


def build_label_set(
    class_names: ClassNames,
    descriptions: Optional[Union[Sequence[str], Mapping[str, str]]] = None,
    templates: Union[None, str, Sequence[str]] = None,
) -> LabelSet:
    """Validate class names and turn them into texts.

    Args:
        class_names: C distinct names, or a dict name -> description (the released checkpoints were trained with
            one description per class as the whole text).
        descriptions: per-class texts to encode instead of the names: C strings in class order, or a dict
            covering every name. Not together with a dict ``class_names``.
        templates: ``None`` (encode the name or description as it is), a named set (``"actionclip"``: the
            reference's 16 templates), one template or a list of templates with ``{}`` where the text goes.

    Raises:
        TypeError: non-string names, descriptions or templates, or a single string instead of a list.
        ValueError: empty or blank names, duplicate names, descriptions that do not match the names, templates
            without ``{}``.
    """
    if isinstance(class_names, Mapping):
        if descriptions is not None:
            raise ValueError("give descriptions either as a dict class_names or as `descriptions`, not both")
        names = _check_strings(list(class_names.keys()), "class names")
        texts = _check_strings(list(class_names.values()), "class descriptions")
    else:
        names = _check_strings(class_names, "class names")
        texts = names
        if descriptions is not None:
            if isinstance(descriptions, Mapping):
                missing = [n for n in names if n not in descriptions]
                extra = [k for k in descriptions if k not in set(names)]
                if missing or extra:
                    raise ValueError(
                        f"descriptions must cover exactly the class names: missing {missing[:5]}, unknown {extra[:5]}"
                    )
                texts = _check_strings([descriptions[n] for n in names], "class descriptions")
            else:
                texts = _check_strings(descriptions, "class descriptions")
                if len(texts) != len(names):
                    raise ValueError(f"{len(texts)} descriptions for {len(names)} class names; give one per class")
    seen: dict[str, int] = {}
    dupes = []
    for name in names:
        key = " ".join(name.split()).casefold()
        if key in seen:
            dupes.append(name)
        seen[key] = 1
    if dupes:
        raise ValueError(
            f"duplicate class names {sorted(set(dupes))[:5]} (compared ignoring case and spacing); results are "
            "reported by name, so every class must be distinct"
        )
    rows = tuple(tuple(t.replace("{}", text) for text in texts) for t in _templates(templates))
    return LabelSet(names=tuple(names), texts=rows)


def _no_duplicate_keys(pairs: list) -> dict:
    from collections import Counter

    dupes = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate class names {dupes[:5]}; every class must be distinct")
    return dict(pairs)


_HEADER_WORDS = {"id", "index", "name", "label", "class", "class_name", "classname", "action", "description", "text",
                 "prompt"}


def read_labels_file(path) -> Union[list[str], dict[str, str]]:
    """Read class names (and optional descriptions) from a file.

    * ``.json``: a list of names, or an object name -> description;
    * ``.csv`` / ``.tsv``: one row per class, ``name`` or ``name,description`` (``id,name,description`` when the
      first column is an integer id); a header row naming the columns (name/label/class, description/text) is
      recognised and skipped;
    * anything else: one name per line; blank lines and lines starting with ``#`` are skipped.

    Returns:
        A list of names, or a dict name -> description when the file has descriptions.

    Raises:
        FileNotFoundError: no such file. ValueError: the file has no labels or an unreadable layout.
    """
    import os

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"labels file {path!r} does not exist")
    try:
        return _read_labels(path)
    except TypeError as exc:  # wrong JSON value types: a problem of the file's content
        raise ValueError(f"labels file {path!r}: {exc}") from None


def _read_labels(path: str) -> Union[list[str], dict[str, str]]:
    import csv

    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    lower = path.lower()
    if lower.endswith(".json"):
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise ValueError(f"labels file {path!r} is not valid JSON: {exc}") from None
        if isinstance(data, list):
            return _check_strings(data, f"labels in {path}")
        if isinstance(data, dict):
            _check_strings(list(data.values()), f"descriptions in {path}")
            return {str(k): v for k, v in data.items()}
        raise ValueError(f"labels file {path!r} must hold a JSON list of names or an object name -> description")
    if lower.endswith((".csv", ".tsv")):
        rows = [[c.strip() for c in row] for row in csv.reader(text.splitlines(), delimiter="\t" if lower.endswith(".tsv") else ",")]
        rows = [r for r in rows if any(r)]
        if not rows:
            raise ValueError(f"labels file {path!r} has no rows")
        name_col, desc_col = 0, None
        header = [c.lower() for c in rows[0]]
        if set(header) & _HEADER_WORDS and not any(c.isdigit() for c in header):
            rows = rows[1:]
            names = [i for i, c in enumerate(header) if c in ("name", "label", "class", "class_name", "classname", "action")]
            descs = [i for i, c in enumerate(header) if c in ("description", "text", "prompt")]
            name_col = names[0] if names else 0
            desc_col = descs[0] if descs else None
        else:
            width = len(rows[0])
            if width >= 3 and rows[0][0].isdigit():
                name_col, desc_col = 1, 2
            elif width >= 2:
                desc_col = 1
        try:
            names_list = [r[name_col] for r in rows]
            if desc_col is None:
                return _check_strings(names_list, f"labels in {path}")
            return _no_duplicate_keys(
                list(zip(names_list, _check_strings([r[desc_col] for r in rows], f"descriptions in {path}")))
            )
        except IndexError:
            raise ValueError(f"labels file {path!r}: some rows have fewer columns than the first") from None
    names = [line.strip() for line in text.splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    return _check_strings(names, f"labels in {path}")
