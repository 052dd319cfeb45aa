"""The zoo's own cache: checkpoints converted from the authors' releases, with a record of where each came from.

Layout (``$EZCLIP_ZOO_CACHE``, else ``$XDG_CACHE_HOME/ezclip_zoo``, else ``~/.cache/ezclip_zoo``)::

    checkpoints/<name>/              config.json, model.safetensors, README.md (a zoo folder, complete or absent)
    checkpoints/<name>.source.json   source, its sha256 and size, sha256 of the converted weights
    checkpoints/<name>.lock          held while one process fetches <name>
    downloads/                       sources being downloaded (``*.part``) or waiting for conversion

Folders appear by an atomic rename once complete, so a folder that exists was written whole; its weights are
still checked against the record on every use, so a damaged one is noticed and fetched again.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ..digest import sha256_file
from ..paths import cache_root
from .serialization import CONFIG_NAME, WEIGHTS_NAME

__all__ = [
    "SourceRecord",
    "CachedCheckpoint",
    "checkpoint_dir",
    "downloads_dir",
    "lock_path",
    "read_record",
    "write_record",
    "cached_checkpoint",
    "list_cached",
    "remove_cached",
    "folder_bytes",
]

RECORD_SUFFIX = ".source.json"


def _safe_name(name: str) -> str:
    # names come from checkpoints.json or register_pretrained; refuse anything that would leave the cache
    if not name or name in {".", ".."} or any(c in name for c in "/\\\0") or name.startswith("."):
        raise ValueError(f"checkpoint name {name!r} cannot name a cache folder (no slashes, no leading dot)")
    return name


def checkpoint_dir(name: str) -> Path:
    """Where the converted folder of checkpoint ``name`` lives in the cache."""
    return cache_root() / "checkpoints" / _safe_name(name)


def downloads_dir() -> Path:
    return cache_root() / "downloads"


def lock_path(name: str) -> Path:
    return cache_root() / "checkpoints" / f"{_safe_name(name)}.lock"


@dataclass
class SourceRecord:
    """What ``<name>.source.json`` says: where a cached checkpoint came from and the hashes that identify it."""

    name: str
    source: str  # the URL, "gdrive:<id>", or "file:<path>" the source was read from
    source_sha256: str
    source_bytes: int
    weights_sha256: str
    backbone: str
    verified_backbone: bool
    library_version: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def _record_path(name: str) -> Path:
    return cache_root() / "checkpoints" / f"{_safe_name(name)}{RECORD_SUFFIX}"


def read_record(name: str) -> SourceRecord | None:
    """The record of ``name``, or None when there is none (or it is unreadable: then it is as good as absent)."""
    path = _record_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SourceRecord(**{k: data[k] for k in SourceRecord.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(record: SourceRecord) -> None:
    path = _record_path(record.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    os.replace(tmp, path)


def cached_checkpoint(name: str) -> Path | None:
    """The cached folder of ``name`` when it is complete and its weights match the record, else None."""
    folder = checkpoint_dir(name)
    record = read_record(name)
    if record is None or not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
        return None
    if sha256_file(folder / WEIGHTS_NAME) != record.weights_sha256:
        return None
    return folder


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class CachedCheckpoint:
    name: str
    folder: Path
    size_bytes: int
    valid: bool
    source: str | None


def list_cached() -> list[CachedCheckpoint]:
    """Every checkpoint folder in the cache, with its size and whether it passes the integrity check."""
    root = cache_root() / "checkpoints"
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        record = read_record(folder.name)
        out.append(
            CachedCheckpoint(
                name=folder.name,
                folder=folder,
                size_bytes=folder_bytes(folder),
                valid=cached_checkpoint(folder.name) is not None,
                source=record.source if record else None,
            )
        )
    return out


def remove_cached(name: str) -> int:
    """Delete the cached folder, record and any download of ``name``; returns the bytes freed (0: nothing there)."""
    freed = 0
    folder = checkpoint_dir(name)
    targets = [folder, _record_path(name), lock_path(name)]
    downloads = downloads_dir()
    if downloads.is_dir():
        targets += [p for p in downloads.iterdir() if p.name.startswith(f"{name}.pt")]
    for target in targets:
        if target.is_dir():
            freed += folder_bytes(target)
            shutil.rmtree(target)
        elif target.exists():
            freed += target.stat().st_size
            target.unlink()
    return freed
