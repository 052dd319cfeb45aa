"""Class names, descriptions and prompt templates -> the texts a classifier encodes: the one class-text builder
of inference, evaluation and training."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .templates import ACTIONCLIP_TEMPLATES, TEMPLATE_SETS

__all__ = ["ClassNames", "LabelSet", "build_label_set", "class_texts", "check_strings"]

ClassNames = Sequence[str] | Mapping[str, str]


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
        """C, the number of classes."""
        return len(self.names)

    @property
    def num_templates(self) -> int:
        """M, the number of templates (1 for descriptions or bare names)."""
        return len(self.texts)

    def per_class(self) -> list[list[str]]:
        """The texts class-major: ``[c][m]`` is class c under template m (what evaluation and training take)."""
        return [list(column) for column in zip(*self.texts, strict=True)]

    def flat_texts(self) -> list[str]:
        """The M * C texts, template-major (``[m * C + c]``)."""
        return [t for row in self.texts for t in row]

    def digest(self) -> str:
        """A short hash of names and texts (to tell label sets apart in saved results)."""
        blob = json.dumps([self.names, self.texts], ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def check_strings(values: Sequence, what: str) -> list[str]:
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


def _templates(templates: None | str | Sequence[str]) -> tuple[str, ...]:
    if templates is None:
        return ("{}",)
    if isinstance(templates, str):
        if templates in TEMPLATE_SETS:
            return TEMPLATE_SETS[templates]
        templates = [templates]
    out = tuple(check_strings(templates, "templates"))
    bad = [t for t in out if t.count("{}") != 1]
    if bad:
        raise ValueError(
            f"templates {bad[:3]} need exactly one '{{}}' placeholder for the class text (e.g. 'a video of {{}}'); "
            f"named sets: {sorted(TEMPLATE_SETS)}"
        )
    if len(set(out)) != len(out):
        raise ValueError("templates contain duplicates, which would weight some of them twice")
    return out


def build_label_set(
    class_names: ClassNames,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
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
        names = check_strings(list(class_names.keys()), "class names")
        texts = check_strings(list(class_names.values()), "class descriptions")
    else:
        names = check_strings(class_names, "class names")
        texts = names
        if descriptions is not None:
            if isinstance(descriptions, Mapping):
                missing = [n for n in names if n not in descriptions]
                extra = [k for k in descriptions if k not in set(names)]
                if missing or extra:
                    raise ValueError(
                        f"descriptions must cover exactly the class names: missing {missing[:5]}, unknown {extra[:5]}"
                    )
                texts = check_strings([descriptions[n] for n in names], "class descriptions")
            else:
                texts = check_strings(descriptions, "class descriptions")
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


def class_texts(
    classes: Sequence[str],
    *,
    descriptions: Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = ACTIONCLIP_TEMPLATES,
) -> list[list[str]]:
    """The candidate texts of every class, class-major (`build_label_set` with the evaluation defaults).

    Args:
        classes: readable class names.
        descriptions: ``{class name: description}`` (see `ezclip_zoo.data.read_class_descriptions`; it may name
            more classes than ``classes``); when given, each class has exactly its description as text, as the
            released checkpoints were trained. Every class needs one.
        templates: ActionCLIP's 16 by default (the reference's protocol without descriptions); ``None`` or
            ``["{}"]`` uses the bare class names.

    Returns:
        ``texts[c]``: the texts of class ``c`` (the same number for every class).
    """
    if descriptions is not None:
        absent = [c for c in check_strings(classes, "classes") if c not in descriptions]
        if absent:
            raise ValueError(
                f"no description for {len(absent)} classes, e.g. {absent[:5]}; the description CSV must name every "
                "class (matching is by readable name, e.g. 'apply eye makeup')"
            )
        return build_label_set(list(classes), descriptions={c: descriptions[c] for c in classes}).per_class()
    return build_label_set(classes, templates=templates or None).per_class()
