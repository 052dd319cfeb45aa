"""Readable class names: the text a CLIP text encoder should see for a dataset's label identifiers."""

from __future__ import annotations

import re

__all__ = ["readable_class_name", "remove_brackets"]

# A boundary between a lower-case letter or digit and an upper-case letter ("EyeMakeup"), or inside an acronym
# before its last capital ("ABCWord" -> "ABC Word").
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def readable_class_name(name: str) -> str:
    """Turn a label identifier into words: ``"ApplyEyeMakeup"`` -> ``"apply eye makeup"``,
    ``"brush_hair"`` -> ``"brush hair"``, ``"YoYo"`` -> ``"yo yo"``.

    Names that already contain spaces (Kinetics' ``"passing American football (in game)"``) are kept as written,
    only with runs of white space collapsed, since their capitals are meaningful.
    """
    if not isinstance(name, str):
        raise TypeError(f"class name must be a string, got {type(name).__name__}")
    text = " ".join(name.split())
    if not text:
        raise ValueError("class name is empty")
    if " " in text:
        return text
    words = _CAMEL_BOUNDARY.sub(" ", text.replace("_", " ").replace("-", " "))
    return " ".join(words.lower().split())


def remove_brackets(template: str) -> str:
    """Something-Something v2 templates without their placeholder brackets:
    ``"Putting [something] on [something]"`` -> ``"Putting something on something"``."""
    return " ".join(template.replace("[", "").replace("]", "").split())
