"""Dataset class sets shipped with the package, and the authors' class descriptions fetched on first use.

A class set is the label list of a dataset in its official index order (``kinetics400``, ``kinetics600``,
``kinetics600-novel``, ``ucf101``, ``hmdb51``, ``ssv2``), raw identifiers kept and made readable by
`readable_class_name` (``ApplyEyeMakeup`` -> ``apply eye makeup``). The released EZ-CLIP checkpoints were trained
with one LLM-written description per class as the whole class text; `class_descriptions` downloads the authors' CSV
from their repository at a pinned commit (the entry's ``descriptions.url``, replaceable by `register_class_set`, or
for every set at once by ``$EZCLIP_ZOO_CLASS_TEXTS_URL``, a folder URL holding the same files),
checks its sha256, caches it under ``<zoo cache>/class_texts/`` and joins it to the set by readable name.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from ..digest import sha256_file
from ..errors import ChecksumError, UnknownClassSetError, WeightsUnavailableError
from ..fetch.network import offline
from ..paths import cache_root
from .files import read_authors_descriptions
from .names import readable_class_name

__all__ = [
    "list_class_sets",
    "get_class_set",
    "register_class_set",
    "resolve_class_set",
    "class_names",
    "class_descriptions",
    "descriptions_path",
    "class_sets_described_by",
]

_DATA = "class_set_data"
_USER: dict[str, dict[str, Any]] = {}


@functools.lru_cache(maxsize=1)
def _builtin() -> dict[str, dict[str, Any]]:
    folder = resources.files(__package__).joinpath(_DATA)
    sets = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            entry = json.loads(item.read_text(encoding="utf-8"))
            sets[entry["name"]] = entry
    return sets


def _entries() -> dict[str, dict[str, Any]]:
    return {**_builtin(), **_USER}


def list_class_sets() -> list[str]:
    """Names of the known class sets, sorted."""
    return sorted(_entries())


def resolve_class_set(name: str) -> str:
    """The canonical name of a class set or of one of its aliases (case and ``_``/``-`` ignored)."""
    if not isinstance(name, str):
        raise TypeError(f"a class-set name is a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    entries = _entries()
    for canonical, entry in entries.items():
        if key == canonical or key in entry.get("aliases", ()):
            return canonical
    raise UnknownClassSetError.of(
        "class set",
        name,
        entries,
        hint="A single string given as the classes names a class set; to classify among your own classes, pass a "
        f"list of names (e.g. [{name!r}]), not a single string",
    )


def get_class_set(name: str) -> dict[str, Any]:
    """The entry of a class set (a copy): ``classes`` (raw identifiers), ``dataset``, ``order``, ``descriptions``."""
    return copy.deepcopy(_entries()[resolve_class_set(name)])


def register_class_set(name: str, entry: dict[str, Any], *, overwrite: bool = False) -> None:
    """Add (or with ``overwrite`` replace, e.g. to point ``descriptions.url`` at a mirror) a class set for this
    process: ``{"classes": [...], "descriptions": {"url": ..., "sha256": ...} (optional), "aliases": [...]}``."""
    if name in _entries() and not overwrite:
        raise ValueError(f"class set {name!r} already exists; pass overwrite=True to replace it")
    classes = entry.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise ValueError(f"class set {name!r} needs 'classes', a non-empty list of strings")
    readable = [readable_class_name(c) for c in classes]
    if len(set(readable)) != len(readable):
        raise ValueError(f"class set {name!r} has classes that read the same")
    _USER[name] = {**copy.deepcopy(entry), "name": name, "aliases": list(entry.get("aliases", []))}


def class_names(name: str, *, raw: bool = False) -> list[str]:
    """The classes of a set in its index order: readable names (default) or the dataset's raw identifiers."""
    classes = _entries()[resolve_class_set(name)]["classes"]
    return list(classes) if raw else [readable_class_name(c) for c in classes]


def descriptions_path(name: str) -> Path:
    """Where the descriptions CSV of a class set is cached (by its pinned sha256 and file name, so a mirror shares
    the cache)."""
    source = _descriptions_entry(resolve_class_set(name))
    filename = os.path.basename(source["url"].split("?")[0]) or f"{name}.csv"
    return cache_root() / "class_texts" / f"{source['sha256'][:12]}-{filename}"


MIRROR_ENV = "EZCLIP_ZOO_CLASS_TEXTS_URL"  # a folder URL holding the same CSV files (a mirror, a test server)


def _descriptions_entry(canonical: str) -> dict[str, Any]:
    source = _entries()[canonical].get("descriptions")
    if not source or not source.get("url") or not source.get("sha256"):
        raise ValueError(f"class set {canonical!r} has no descriptions (use text='names')")
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        source = {**source, "url": f"{mirror.rstrip('/')}/{os.path.basename(source['url'])}"}
    return source


def class_sets_described_by(filename: str) -> list[str]:
    """Class sets whose descriptions CSV has this file name (how a checkpoint entry names its CSV)."""
    return [
        n
        for n, e in _entries().items()
        if e.get("descriptions") and os.path.basename(e["descriptions"]["url"]) == os.path.basename(filename)
    ]


def class_descriptions(name: str, *, local_files_only: bool | None = None, progress: bool = False) -> dict[str, str]:
    """``{readable class name: description}`` in the set's order, from the authors' CSV (downloaded once).

    Raises:
        WeightsUnavailableError: not cached and downloads are off (the message has the fix).
        ChecksumError: the downloaded CSV has another sha256 than the entry pins (it is not cached).
        ValueError: a class without a description or a description without a class (both named).
    """
    canonical = resolve_class_set(name)
    source = _descriptions_entry(canonical)
    path = descriptions_path(canonical)
    if not path.is_file():
        _download(canonical, source, path, local_files_only=local_files_only, progress=progress)
    if sha256_file(path) != source["sha256"]:
        path.unlink(missing_ok=True)  # a damaged cache file is never used
        raise ChecksumError(f"the cached descriptions of {canonical!r} were damaged and were removed; run again")
    return _join(canonical, read_authors_descriptions(path))


def _download(
    canonical: str, source: dict[str, Any], path: Path, *, local_files_only: bool | None, progress: bool
) -> None:
    from ..fetch.download import download_file

    if offline(local_files_only):
        raise WeightsUnavailableError(
            f"the descriptions of class set {canonical!r} are not cached and downloads are off: run `ezclip-zoo "
            f"download CHECKPOINT` (or ezclip_zoo.class_descriptions({canonical!r})) on a connected machine, or "
            "classify with text='names'"
        )
    tmp = path.with_name(path.name + ".download")
    tmp.unlink(missing_ok=True)
    download_file(
        tmp,
        url=source["url"],
        what=f"the descriptions of class set {canonical!r}",
        finish=f"cp FILE {path}",
        progress=progress,
    )
    digest = sha256_file(tmp)
    if digest != source["sha256"]:
        tmp.unlink(missing_ok=True)
        raise ChecksumError(
            f"the descriptions of class set {canonical!r} from {source['url']} have sha256 {digest}, but the entry "
            f"pins {source['sha256']}: refused and not cached"
        )
    os.replace(tmp, path)


def _join(canonical: str, described: dict[str, str]) -> dict[str, str]:
    names = class_names(canonical)
    missing = [n for n in names if n not in described]
    extra = [n for n in described if n not in set(names)]
    if missing or extra:
        raise ValueError(
            f"the descriptions of class set {canonical!r} do not match its classes: no description for {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}; descriptions of unknown classes {extra[:10]}"
        )
    return {n: described[n] for n in names}
