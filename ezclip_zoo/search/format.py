"""The on-disk format of a video library (``ezclip-zoo index``), version 1.

A library is a folder:

* ``library.json``, the manifest: ``format`` (``"ezclip-zoo video library"``), ``version``, the ``model`` that
  wrote it (``source``: how to load it again, ``sha256``: digest of all its weights, ``seed`` / ``dtype`` for an
  architecture name), the ``setup`` (segments or whole videos, window and stride, views, preprocessing),
  ``dim`` (E), the ``shards`` and, per indexed ``files`` entry, its ``size``, ``mtime_ns``, ``sha256``, the shard
  holding its rows and their offset and count.
* ``shard-NNNNNN.safetensors``: float16 L2-normalised embeddings ``[N, E]`` (tensor ``embeddings``) and, in the
  file's metadata, ``rows``: a JSON list of ``[path, start, end]`` (seconds; ``null`` for a whole video).

Every file is written to a temporary name and renamed into place, shards before the manifest that lists them, so
a killed run leaves the last complete manifest; a shard no manifest lists is ignored and removed on the next update.
Nothing in a library is unpickled; opening checks the format, the version and that every listed shard exists with
the rows the manifest says.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import LibraryError

__all__ = [
    "FORMAT",
    "VERSION",
    "MANIFEST",
    "read_manifest",
    "write_manifest",
    "write_shard",
    "read_shard",
    "shard_name",
    "new_manifest",
]

FORMAT = "ezclip-zoo video library"
VERSION = 1
MANIFEST = "library.json"

PathLike = str | os.PathLike


def shard_name(number: int) -> str:
    return f"shard-{number:06d}.safetensors"


def new_manifest(model: dict[str, Any], setup: dict[str, Any], dim: int | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "setup": setup,
        "dim": dim,
        "shards": [],
        "files": {},
        "complete": False,
    }


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_manifest(folder: PathLike, manifest: dict[str, Any]) -> None:
    """Write ``library.json`` atomically."""
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
    _atomic_write(Path(folder) / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))


def read_manifest(folder: PathLike) -> dict[str, Any] | None:
    """The manifest of the library at ``folder`` (None when the folder holds none), checked for format and version."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LibraryError(
            f"{path} is not a readable library manifest ({exc}); delete the folder and index again"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LibraryError(
            f"{path} is not an ezclip-zoo video library (format {manifest.get('format')!r})"
            if isinstance(manifest, dict)
            else f"{path} is not an ezclip-zoo video library"
        )
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise LibraryError(
            f"{path} is format version {version!r}; this ezclip-zoo reads version {VERSION} and "
            "older: upgrade ezclip-zoo (pip install -U ezclip-zoo)"
        )
    for key in ("model", "setup", "dim", "shards", "files"):
        if key not in manifest:
            raise LibraryError(f"{path} lacks {key!r}: the library is damaged; delete it and index again")
    return manifest


def write_shard(folder: PathLike, number: int, embeddings: torch.Tensor, rows: list[list[Any]]) -> str:
    """Write shard ``number``: float16 embeddings [N, E] and their N rows ``[path, start, end]``; returns its name."""
    if embeddings.shape[0] != len(rows):
        raise ValueError(f"{embeddings.shape[0]} embeddings for {len(rows)} rows")
    name = shard_name(number)
    tensors = {"embeddings": embeddings.to(torch.float16).contiguous()}
    meta = {"rows": json.dumps(rows, ensure_ascii=False)}
    _atomic_write(Path(folder) / name, lambda p: save_file(tensors, str(p), metadata=meta))
    return name


def read_shard(folder: PathLike, name: str, dim: int | None) -> tuple[torch.Tensor, list[list[Any]]]:
    """(float16 embeddings [N, E], rows) of a shard, or a `LibraryError` naming the damage."""
    path = Path(folder) / name
    if os.path.basename(name) != name or not name.startswith("shard-"):
        raise LibraryError(f"{Path(folder) / MANIFEST} names shard {name!r} outside the library folder")
    if not path.is_file():
        raise LibraryError(
            f"library shard {path} is missing: the library is incomplete; run `ezclip-zoo index` "
            "again (it re-embeds what is missing) or delete the folder"
        )
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        embeddings = load_file(str(path))["embeddings"]
        rows = json.loads(meta["rows"])
    except (SafetensorError, KeyError, OSError, json.JSONDecodeError, ValueError) as exc:
        raise LibraryError(
            f"library shard {path} is damaged or truncated ({type(exc).__name__}: {exc}); run "
            "`ezclip-zoo index` again to rebuild it"
        ) from exc
    if embeddings.ndim != 2 or (dim is not None and embeddings.shape[1] != dim) or embeddings.shape[0] != len(rows):
        raise LibraryError(
            f"library shard {path} holds {tuple(embeddings.shape)} embeddings for {len(rows)} rows, "
            f"expected [{len(rows)}, {dim}]: it is damaged; run `ezclip-zoo index` again"
        )
    return embeddings, rows
