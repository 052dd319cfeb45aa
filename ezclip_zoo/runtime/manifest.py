"""The manifest of an exported model folder (``ezclip_export.json``): what the encoders are and how to feed them.

Written by `ezclip_zoo.export`, read (and every file checked against its sha256) by `ezclip_zoo.runtime`. Needs no
torch. Keys (format version 1):

* ``format`` (``"onnx"`` or ``"torch-export"``), ``dtype`` (the compute dtype), ``quantization`` (None or
  ``{"method": "int8-dynamic", "encoders": ["video"]}``), ``model`` (the model's name), ``ezclip_zoo_version``;
* ``family`` (the backbone family: ``"openai-vit"``, ``"timm-vit"``, ``"timm-eva"``);
* ``num_frames`` (T), ``image_size`` (S), ``embed_dim`` (E), ``context_length`` (the text tower's: 77 for CLIP, 32
  for PE-Core, 64 for SigLIP 2), ``logit_scale`` (100);
* ``encoders``: ``{"video": {"file", "input", "output"}, "text": {...}}``; the video encoder takes float32
  [B, T, 3, S, S] and gives L2-normalised float32 [B, E], the text encoder int64 [C, context_length] -> [C, E];
* ``preprocess``: the frame transform (``image_size``, ``resize_size``, ``interpolation``, ``mean``, ``std``,
  ``resize_mode``, ``fill_color``) and ``sampling`` (``"tsn-test"``: T segment centres);
* ``encoders.text`` also says how the graph pools (``pool``: ``"argmax"`` the EOT token, ``"last"`` the last
  position; ``causal``): recorded for the reader, the pooling runs inside the graph;
* ``tokenizer``: ``kind`` ``"clip-bpe"``: ``{"bpe": file, "sot": id, "eot": id, "context_length", "clean"}``
  (``clean`` None: `ezclip_zoo.tokenize`'s cleaning; else open_clip's ``clean`` option); ``kind``
  ``"hugging-face"``: ``{"name", "file": "tokenizer.json", "clean", "context_length", "padding": "max_length",
  "truncation": true, "pad_id", "pad_token", "padding_side", "truncation_side", "strip_sep_id"}``, run by
  `ezclip_zoo.runtime.HuggingFaceTokenizer` (an entry without ``kind``, from earlier exports, is CLIP's BPE);
* ``classes``: None, or ``{"names", "texts", "file", "source"}`` with the precomputed [M, C, E] text embeddings;
* ``files``: file name -> sha256 of every file the folder holds besides the manifest;
* ``source``: the model's weights: ``{"name_or_path", "files": {name: sha256}, "tensors_sha256"}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..choices import EXPORT_FORMATS
from ..digest import sha256_file
from ..errors import ExportedFileChangedError, ExportedModelError

__all__ = ["MANIFEST_NAME", "FORMAT_VERSION", "read_manifest", "verify_files"]

MANIFEST_NAME = "ezclip_export.json"
FORMAT_VERSION = 1


def verify_files(folder: Path, files: dict[str, str]) -> None:
    """Check that every file of ``files`` (name -> sha256) exists in ``folder`` with that sha256.

    Raises:
        ExportedModelError: a file is missing (or a name leaves the folder).
        ExportedFileChangedError: a file's sha256 differs (it was edited or damaged).
    """
    for name, expected in files.items():
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ExportedModelError(f"{folder / MANIFEST_NAME} names a file outside its folder: {name!r}")
        if not path.is_file():
            raise ExportedModelError(
                f"exported model {folder} is incomplete: {name} is missing; export the model again "
                "(ezclip-zoo export MODEL OUT_DIR) or copy the whole folder"
            )
        actual = sha256_file(path)
        if actual != expected:
            raise ExportedFileChangedError(
                f"{path} has sha256 {actual}, but the manifest records {expected}: the file was edited or damaged; "
                "export the model again"
            )


def read_manifest(folder: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """The manifest of an exported model folder, with its files checked (``verify``) against their sha256.

    Raises:
        ExportedModelError: no folder, no or unreadable manifest, an unknown format version, a missing file.
        ExportedFileChangedError: a file was edited or damaged.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise ExportedModelError(f"{folder} is not a folder; pass the OUT_DIR that `ezclip-zoo export` wrote")
    if not path.is_file():
        raise ExportedModelError(
            f"{folder} has no {MANIFEST_NAME}: it is not an exported model folder "
            "(write one with `ezclip-zoo export MODEL OUT_DIR`)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportedModelError(f"{path} is not readable JSON ({exc}); export the model again") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise ExportedModelError(
            f"{path} has format version {version!r}; this ezclip-zoo reads version "
            f"{FORMAT_VERSION} (upgrade ezclip-zoo, or export the model again)"
        )
    if manifest.get("format") not in EXPORT_FORMATS:
        raise ExportedModelError(f"{path}: unknown format {manifest.get('format')!r}; expected one of {EXPORT_FORMATS}")
    if verify:
        verify_files(folder, dict(manifest.get("files", {})))
    return manifest
