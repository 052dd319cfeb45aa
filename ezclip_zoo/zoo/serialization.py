"""The zoo checkpoint folder: ``config.json`` + ``model.safetensors`` (trainable tensors only) + model card.

A folder is self-contained: when the backbone cannot be fetched by an open_clip pretrained tag (a custom or
random CLIP), its weights are written beside as ``backbone.safetensors`` and ``config.json`` points at them with
a path relative to the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from ..modeling.config import CONFIG_FORMAT_VERSION, EZCLIPConfig
from .backbone_weights import is_fetchable_by_name

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = [
    "CONFIG_NAME",
    "TOKENIZER_DIR",
    "bundled_tokenizer_files",
    "saved_backbone_family",
    "WEIGHTS_NAME",
    "BACKBONE_WEIGHTS_NAME",
    "save_pretrained",
    "save_trainable_weights",
    "read_config",
    "read_weights",
    "write_safetensors",
    "file_mode",
]

CONFIG_NAME = "config.json"
TOKENIZER_DIR = "tokenizer"  # a Hugging Face tokenizer given as a local folder travels in this subfolder
WEIGHTS_NAME = "model.safetensors"
BACKBONE_WEIGHTS_NAME = "backbone.safetensors"
CARD_NAME = "README.md"

PathLike = str | os.PathLike


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for a moment, for every thread)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions a plain ``open(path, "w")`` gives a new file here: 0o666 less the process's umask."""
    return 0o666 & ~_umask()


def write_safetensors(tensors: dict[str, torch.Tensor], path: PathLike, metadata: dict | None = None) -> None:
    """Write a safetensors file atomically (a temporary file beside it, renamed over it once complete: a kill leaves
    the old file or the new one, never half of one), with the permissions of any other file written here
    (safetensors itself makes its files private, mode 0600)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _needs_embedded_backbone(config: EZCLIPConfig) -> bool:
    # a local weights file travels with the folder; a backbone fetchable by name (tag, hf-hub:) is referenced
    return config.backbone.weights is not None or not is_fetchable_by_name(config.backbone)


def save_pretrained(
    model: EZCLIP,
    folder: PathLike,
    *,
    adapter_dtype: torch.dtype = torch.float16,
    card: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` as a zoo folder and return its path.

    Args:
        model: an `EZCLIP`.
        folder: target folder (created; existing zoo files in it are replaced, each atomically: a killed save
            leaves every file either old or new, never partial). Files get the permissions of a plain
            ``open()`` (0o666 less the umask), weights included.
        adapter_dtype: storage dtype of the adapter tensors. float16 is how the authors trained them and makes a
            ViT-B/16 checkpoint about 10.5 MB; pass torch.float32 to keep fine-tuned weights unrounded. Prompts
            are always stored in float32.
        card: extra model-card fields (``checkpoints.json`` entry style: ``training``, ``metrics``, ``text``,
            ``metrics_source``, ``citation``, ``license``, ``name``).

    Returns:
        The folder path.
    """
    from .model_card import write_model_card

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = model.config
    backbone = {}
    if _needs_embedded_backbone(config):
        clip_sd = {k: v.detach().float().contiguous().cpu() for k, v in model.clip.state_dict().items()}
        write_safetensors(clip_sd, folder / BACKBONE_WEIGHTS_NAME, metadata={"format": "pt"})
        backbone = {"weights": BACKBONE_WEIGHTS_NAME}
    tokenizer_files = _bundle_tokenizer(config.backbone.tokenizer, folder)
    if tokenizer_files:
        backbone["tokenizer"] = TOKENIZER_DIR
    config = config.replace(backbone=backbone) if backbone else config

    save_trainable_weights(model, folder / WEIGHTS_NAME, adapter_dtype=adapter_dtype)
    from .._version import __version__

    document = {
        "format_version": CONFIG_FORMAT_VERSION,
        "library": "ezclip-zoo",
        "library_version": __version__,
        "model": {k: v for k, v in config.to_dict().items() if k != "format_version"},
        "backbone_family": model.family,
        "preprocess": _preprocess_info(model),
    }
    if tokenizer_files:
        document["tokenizer_files"] = tokenizer_files
    _write_text(folder / CONFIG_NAME, json.dumps(document, indent=2) + "\n")
    write_model_card(folder / CARD_NAME, config, weights_bytes=(folder / WEIGHTS_NAME).stat().st_size, card=card)
    return folder


def _bundle_tokenizer(tokenizer: str | None, folder: Path) -> list[str]:
    """Copy a tokenizer that is a local folder (a Hugging Face tokenizer's files) into ``folder/tokenizer`` and
    return the copied names; [] for CLIP's BPE or a Hub id, which the config names as they are."""
    if not tokenizer or tokenizer == "clip" or not os.path.isdir(tokenizer):
        return []
    source, target = Path(tokenizer), folder / TOKENIZER_DIR
    if source.resolve() == target.resolve():
        return sorted(p.name for p in target.iterdir() if p.is_file())
    target.mkdir(exist_ok=True)
    names = []
    for path in sorted(source.iterdir()):
        if path.is_file():  # a Hub-cache snapshot holds links to its blobs: their content is copied
            shutil.copyfile(path, target / path.name)
            names.append(path.name)
    if not names:
        raise ValueError(f"the model's tokenizer folder {tokenizer} holds no files")
    return names


def bundled_tokenizer_files(config_path: PathLike) -> list[str]:
    """The tokenizer files a zoo ``config.json`` says its folder carries (``tokenizer/NAME``), [] if none."""
    document = json.loads(Path(config_path).read_text(encoding="utf-8"))
    names = document.get("tokenizer_files") or []
    plain = isinstance(names, list) and all(isinstance(n, str) and n and not {"/", "\\"} & set(n) for n in names)
    if not plain or any(n in (".", "..") for n in names):
        raise ValueError(f"{config_path}: 'tokenizer_files' must be a list of plain file names, got {names!r}")
    return names


def saved_backbone_family(config_path: PathLike) -> str | None:
    """The backbone family a zoo ``config.json`` was saved with (None for folders saved before it was recorded)."""
    family = json.loads(Path(config_path).read_text(encoding="utf-8")).get("backbone_family")
    return family if isinstance(family, str) else None


def save_trainable_weights(model: EZCLIP, path: PathLike, *, adapter_dtype: torch.dtype = torch.float16) -> None:
    """Write the prompt (float32) and adapter (``adapter_dtype``) tensors of ``model`` to a safetensors file."""
    tensors = {}
    for name, tensor in model.trainable_state_dict().items():
        dtype = torch.float32 if ".prompts." in name else adapter_dtype
        tensors[name] = tensor.detach().to(device="cpu", dtype=dtype).contiguous()
    # one metadata key only: safetensors writes metadata in hash-map order, which would make the sha256 of the
    # same weights differ from run to run
    write_safetensors(tensors, path, metadata={"format": "pt"})


def _preprocess_info(model: EZCLIP) -> dict[str, Any]:
    """What test-time preprocessing the model really uses (its open_clip config), as `VideoTransform` applies it."""
    from ..transforms.eval import VideoTransform

    transform = VideoTransform.from_model(model)
    return {
        "image_size": transform.image_size,
        "num_frames": model.num_frames,
        "mean": list(transform.mean),
        "std": list(transform.std),
        "interpolation": transform.interpolation,
        "resize_mode": transform.resize_mode,
    }


def read_config(path: PathLike) -> EZCLIPConfig:
    """Read a zoo ``config.json``; refuses other libraries' files and newer format versions."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path} as a zoo config.json: {exc}") from exc
    if not isinstance(document, dict) or "model" not in document:
        raise ValueError(f"{path} is not an ezclip-zoo config.json (no 'model' entry)")
    version = document.get("format_version")
    if not isinstance(version, int) or version > CONFIG_FORMAT_VERSION:
        raise ValueError(
            f"{path} has config format_version {version!r}, newer than this ezclip-zoo understands "
            f"({CONFIG_FORMAT_VERSION}); upgrade with `pip install -U ezclip-zoo`"
        )
    return EZCLIPConfig.from_dict({**document["model"], "format_version": version})


def read_weights(path: PathLike) -> dict[str, torch.Tensor]:
    """Read a zoo ``model.safetensors``; a damaged file is a clear error."""
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for truncated or garbled files
        raise ValueError(f"{path} is not a readable safetensors file ({exc}); re-download or re-convert it") from exc
