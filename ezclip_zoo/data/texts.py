"""Class texts: what the text tower reads for each class (a description, or a class name in templates)."""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from ..text.labels import ACTIONCLIP_TEMPLATES
from ..text.tokenizer import validate_texts

__all__ = ["ACTION_TEMPLATES", "class_texts"]

# ActionCLIP's 16 prompt templates, which the EZ-CLIP reference falls back to without class descriptions: one is
# sampled per clip at train time, and at test time the class probabilities are averaged over all of them.
ACTION_TEMPLATES: tuple[str, ...] = ACTIONCLIP_TEMPLATES


def class_texts(
    classes: Sequence[str],
    *,
    descriptions: Optional[Mapping[str, str]] = None,
    templates: Optional[Sequence[str]] = ACTION_TEMPLATES,
) -> list[list[str]]:
    """The candidate texts of every class.

    Args:
        classes: readable class names.
        descriptions: ``{class name: description}`` (see `read_class_descriptions`); when given, each class has
            exactly its description as text, as the released checkpoints were trained. Every class needs one.
        templates: format strings with one ``{}``; ``None`` or ``["{}"]`` uses the bare class names.

    Returns:
        ``texts[c]``: the list of texts of class ``c`` (all of the same length across classes).
    """
    classes = validate_texts(classes, "classes")
    if descriptions is not None:
        absent = [c for c in classes if c not in descriptions]
        if absent:
            raise ValueError(
                f"no description for {len(absent)} classes, e.g. {absent[:5]}; the description CSV must name every "
                "class (matching is by readable name, e.g. 'apply eye makeup')"
            )
        return [[descriptions[c]] for c in classes]
    templates = list(templates) if templates else ["{}"]
    bad = [t for t in templates if t.count("{}") != 1]
    if bad:
        raise ValueError(f"templates must contain exactly one '{{}}', these do not: {bad}")
    return [[t.format(c) for t in templates] for c in classes]
