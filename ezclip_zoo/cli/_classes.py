"""The class options every scoring subcommand takes (``classify``, ``localize``, ...): ``-l/--label``,
``--labels FILE``, ``--class-set NAME``, ``--text``, ``--template``, and the text-embedding cache."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..choices import TEXT_MODES
from ..text.class_sets import list_class_sets

if TYPE_CHECKING:
    from ..text.cache import TextEmbeddingCache

__all__ = ["add_class_arguments", "class_names", "templates", "text_cache"]


def add_class_arguments(p: argparse.ArgumentParser, *, scoring: bool = True) -> None:
    """The class options; ``scoring=False`` leaves out those only scoring reads (templates, the text cache)."""
    p.add_argument("--label", "-l", action="append", default=[], metavar="L", help="a class name (repeatable)")
    p.add_argument(
        "--labels",
        metavar="FILE",
        help="class names: one per line, a .json list or name->description object, or a .csv/.tsv with "
        "name[,description] rows",
    )
    p.add_argument(
        "--class-set",
        metavar="NAME",
        help=f"a dataset's classes instead of --label/--labels: {', '.join(list_class_sets())} (the authors' "
        "descriptions for their checkpoints)",
    )
    p.add_argument(
        "--text",
        choices=TEXT_MODES,
        default=None,
        help="what the text tower reads for a class set (default: what the checkpoint was trained with)",
    )
    if not scoring:
        return
    p.add_argument(
        "--template",
        action="append",
        default=None,
        metavar="T",
        help="prompt template with {} (repeatable; softmax averaged over templates), or 'actionclip' for "
        "the reference's 16",
    )
    p.add_argument(
        "--text-cache",
        default=None,
        metavar="DIR",
        help="folder of cached text embeddings (default: ~/.cache/ezclip_zoo/text_embeddings)",
    )
    p.add_argument("--no-text-cache", action="store_true", help="do not read or write cached text embeddings")


def class_names(args: argparse.Namespace, *, required: bool = True) -> Any:
    """The classes the options name: a list, a dict name -> description, or a class-set name (a string); None
    when none is given and ``required`` is False."""
    from ..text.files import read_labels_file

    given = [
        flag
        for flag, value in (("--label", args.label), ("--labels", args.labels), ("--class-set", args.class_set))
        if value
    ]
    if len(given) > 1:
        raise ValueError(f"give the classes one way: {' and '.join(given)} were both given")
    if args.class_set:
        from ..text.class_sets import resolve_class_set

        return resolve_class_set(args.class_set)  # a string: the scoring functions read it as a class-set name
    if args.labels:
        return read_labels_file(args.labels)
    if not args.label and not required:
        return None
    if not args.label:
        raise ValueError("no class names: pass --label NAME (repeatable), --labels FILE or --class-set NAME")
    return list(args.label)


def templates(args: argparse.Namespace) -> Any | None:
    """None, ``"actionclip"`` or the list of ``--template`` strings."""
    if not args.template:
        return None
    return args.template[0] if args.template == ["actionclip"] else args.template


def text_cache(args: argparse.Namespace) -> TextEmbeddingCache | bool:
    """False with ``--no-text-cache``, else a `TextEmbeddingCache` on disk."""
    from ..text.cache import TextEmbeddingCache, default_cache_dir

    if args.no_text_cache:
        return False
    return TextEmbeddingCache(directory=args.text_cache or default_cache_dir())
