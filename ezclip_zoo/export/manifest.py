"""Writing the manifest of an export folder (its keys: `ezclip_zoo.runtime.manifest`, which reads it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..digest import sha256_file, tensor_digest
from ..runtime.manifest import FORMAT_VERSION, MANIFEST_NAME
from ..transforms.eval import VideoTransform

__all__ = ["preprocess_entry", "source_entry", "text_pooling_entry", "write_manifest"]

_SOURCE_FILES = ("config.json", "model.safetensors", "backbone.safetensors")  # a zoo folder's (save_pretrained)


def preprocess_entry(model: Any) -> dict[str, Any]:
    """The eager default test transform of ``model`` (one centre crop, the ``"clip"`` protocol) as JSON."""
    t = VideoTransform.from_model(model, protocol="clip")
    return {
        "image_size": t.image_size,
        "resize_size": t.resize_size,
        "interpolation": t.interpolation,
        "mean": list(t.mean),
        "std": list(t.std),
        "resize_mode": t.resize_mode,
        "fill_color": t.fill_color,
        "num_crops": 1,
        "sampling": "tsn-test",
    }


def text_pooling_entry(model: Any) -> dict[str, Any]:
    """How the exported text graph pools (recorded for the reader; the pooling runs inside the graph):
    ``pool`` (``"argmax"``: the EOT token, ``"last"``: the last position of the padded context, ...) and ``causal``."""
    from ..modeling.families import text_modules, text_pool_type

    return {"pool": text_pool_type(model.clip), "causal": text_modules(model.clip).attn_mask is not None}


def source_entry(model: Any, name_or_path: str | os.PathLike | None) -> dict[str, Any]:
    """What the export was made from: the name or folder, the sha256 of a zoo folder's files, and the sha256 over
    every tensor of the model (`ezclip_zoo.digest.tensor_digest`: backbone, prompts and adapters, as exported)."""
    files = {}
    if name_or_path is not None and Path(name_or_path).is_dir():
        files = {
            name: sha256_file(Path(name_or_path) / name)
            for name in _SOURCE_FILES
            if (Path(name_or_path) / name).is_file()
        }
    return {
        "name_or_path": None if name_or_path is None else str(name_or_path),
        "files": files,
        "tensors_sha256": tensor_digest(model.state_dict().items()),
    }


def write_manifest(folder: Path, document: dict[str, Any], files: list[str]) -> Path:
    """Write ``document`` plus the format version, the package version and the sha256 of ``files`` (names in
    ``folder``) as the folder's manifest; returns its path."""
    manifest = {
        "format_version": FORMAT_VERSION,
        "ezclip_zoo_version": __version__,
        **document,
        "files": {name: sha256_file(folder / name) for name in sorted(files)},
    }
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
