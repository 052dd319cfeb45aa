"""`load`: a registry checkpoint name, ``hf-hub:org/repo[@revision]`` or a local folder -> ready `EZCLIP`.

From the Hub only ``config.json`` and ``model.safetensors`` (a few MB) are fetched, through huggingface_hub (its
cache, its offline mode, ``HF_HUB_OFFLINE``); a name not on the Hub yet comes from the authors' release through
the zoo cache (`ezclip_zoo.zoo.upstream`). The frozen CLIP comes from open_clip by its pretrained tag, or from
``backbone_weights``. Weights of registry names are checked against the sha256 that ``checkpoints.json``
records, since the Hub client does not verify downloads by default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from ..errors import (
    CheckpointNotAvailableError,
    ChecksumError,
    UnknownNameError,
    UnsafePathError,
    WeightsUnavailableError,
)
from ..modeling.config import EZCLIPConfig
from ..modeling.model import EZCLIP
from .factory import build_model
from .hub_files import cached_hub_file, hub_file, remove_from_hub_cache
from .pretrained import get_pretrained_entry, has_upstream_source, is_pretrained, list_pretrained
from .registry import is_model
from ..digest import sha256_file
from .serialization import CONFIG_NAME, WEIGHTS_NAME, read_config, read_weights
from .upstream import ensure_upstream

__all__ = ["load", "HF_HUB_PREFIX", "contained_name", "hub_checkpoint_files", "unavailable_message"]

HF_HUB_PREFIX = "hf-hub:"
PathLike = Union[str, os.PathLike]


def _fetcher(
    repo_id: str, revision: Optional[str], cache_dir: Optional[str], local_files_only: Optional[bool],
    force: bool = False, known: Optional[dict[str, Path]] = None,
) -> Callable[[str], Path]:
    """A function filename -> local path that downloads from ``repo_id`` at ``revision`` (or reads the cache);
    ``known`` files were fetched (and checked) already."""

    def fetch(filename: str) -> Path:
        if known and filename in known:
            return known[filename]
        if force:
            cached = cached_hub_file(repo_id, filename, revision, cache_dir)
            if cached is not None:
                remove_from_hub_cache(cached)
        return hub_file(repo_id, filename, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only)

    return fetch


def _folder_fetcher(folder: Path) -> Callable[[str], Path]:
    def fetch(filename: str) -> Path:
        return folder / filename

    return fetch


def _parse_hub_id(spec: str) -> tuple[str, Optional[str]]:
    repo = spec[len(HF_HUB_PREFIX):]
    repo, _, revision = repo.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"{spec!r} is not of the form 'hf-hub:org/repo' or 'hf-hub:org/repo@revision'")
    return repo, revision or None


def unavailable_message(name: str, entry: dict[str, Any]) -> str:
    """Why a listed checkpoint cannot be loaded, and what to do instead."""
    how = entry.get("notes") or "No weights exist for it yet."
    return (f"checkpoint {name!r} is listed in checkpoints.json but has no weights to load (status "
            f"{entry['status']!r}). {how}")


def _check_hub_sha256(path: Path, expected: Optional[str]) -> None:
    if expected is None:
        return
    actual = sha256_file(path)
    if actual != expected:
        remove_from_hub_cache(path)  # else every retry would find the same bad bytes in the cache
        raise ChecksumError(
            f"{path} has sha256 {actual}, but checkpoints.json expects {expected}: the file is damaged or was "
            "replaced. It was removed from the cache; loading again downloads it afresh"
        )


def hub_checkpoint_files(
    name: str, entry: dict[str, Any], *, revision: Optional[str] = None, cache_dir: Optional[str] = None,
    local_files_only: Optional[bool] = None, force: bool = False,
) -> tuple[Path, Path]:
    """(config.json, model.safetensors) of a published entry, the weights checked against its pinned sha256."""
    # the recorded hash belongs to the pinned revision; another revision is the caller's choice, unchecked
    expected = entry["sha256"] if revision in (None, entry["revision"]) else None
    fetch = _fetcher(entry["hf_hub_id"], revision or entry["revision"], cache_dir, local_files_only, force=force)
    config_path, weights_path = fetch(CONFIG_NAME), fetch(entry.get("filename") or WEIGHTS_NAME)
    _check_hub_sha256(weights_path, expected)
    return config_path, weights_path


def contained_name(name: str, origin: str) -> str:
    """``name`` if it is a plain relative path inside its folder, else `UnsafePathError` naming it."""
    norm = os.path.normpath(name)
    if os.path.isabs(name) or norm == ".." or norm.startswith(".." + os.sep) or norm.startswith(("/", "\\")) or (
        os.path.splitdrive(name)[0]
    ):
        raise UnsafePathError(
            f"{origin} names the file {name!r}, outside its folder: refused. A checkpoint folder may only name "
            "files inside itself; to use another backbone file, pass backbone_weights=PATH to ezclip_zoo.load"
        )
    return norm


def load(
    name_or_path: PathLike,
    *,
    device: Optional[Union[str, torch.device]] = None,
    dtype: Optional[torch.dtype] = None,
    revision: Optional[str] = None,
    cache_dir: Optional[str] = None,
    local_files_only: Optional[bool] = None,
    backbone_weights: Optional[PathLike] = None,
    verify_backbone: bool = True,
    progress: bool = True,
    model_class: type[EZCLIP] = EZCLIP,
) -> EZCLIP:
    """Load a ready-to-use EZ-CLIP model.

    A checkpoint name resolves in this order: its Hub repo when the entry is ``published`` (sha256-pinned, about
    10 MB); otherwise the authors' release it names (``source``), downloaded once, verified and converted into
    the zoo cache (`ezclip_zoo.zoo.cache.cache_root`), and read from there by every later call, offline included.

    Args:
        name_or_path: a checkpoint name from `list_pretrained` (e.g. ``"ezclip-b16-k400"``), ``"hf-hub:org/repo"``
            (optionally ``@revision``), or a local folder written by `EZCLIP.save_pretrained` or
            ``ezclip-zoo download NAME --to DIR``.
        device: where to put the model (default CPU).
        dtype: e.g. ``torch.bfloat16`` for faster CPU/GPU inference (default float32).
        revision: Hub revision (branch, tag or commit); overrides the pinned one of a registry name.
        cache_dir: Hugging Face cache folder for the trainable weights and the backbone download.
        local_files_only: never touch the network (``HF_HUB_OFFLINE=1`` does the same globally).
        backbone_weights: a local CLIP state-dict file (``.safetensors`` or ``torch.save``) to use instead of
            downloading the backbone by its open_clip tag, for air-gapped machines.
        verify_backbone: when converting an authors' release, check the CLIP inside it against open_clip's.
        progress: progress bars and the one-line notice of a first download on stderr.
        model_class: the class to build (`EZCLIP` or a subclass; ``Subclass.from_pretrained`` passes itself).

    Returns:
        A ``model_class`` instance in eval mode.

    Raises:
        CheckpointNotAvailableError: a registry name with no weights anywhere (says what to do instead).
        WeightsUnavailableError: a file missing while offline or absent from the Hub (says how to fix it);
            `DownloadError` for a failed download of an authors' release.
        ChecksumError: the weights file does not match the sha256 in ``checkpoints.json``.
        UnsafePathError: a folder's ``config.json`` names a file outside the folder.
        ValueError: a config of a newer format, or weights with missing/unexpected keys (listed).
    """
    spec = os.fspath(name_or_path)
    fetch, card_name = _resolve(spec, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only,
                                verify_backbone=verify_backbone, progress=progress)
    config_path = fetch(CONFIG_NAME)
    config = read_config(config_path)
    weights_path = fetch(WEIGHTS_NAME)
    backbone_file = _backbone_file(config, fetch, backbone_weights, origin=f"config.json of {spec!r}")
    if card_name and not config.name:
        config = config.replace(name=card_name)
    fix = "the files come from different checkpoints or one is damaged: re-download or re-save the folder"
    try:
        model = build_model(config, pretrained_backbone=True, cache_dir=cache_dir, backbone_weights=backbone_file,
                            local_files_only=local_files_only, model_class=model_class)
    except (AssertionError, RuntimeError, TypeError, ZeroDivisionError) as exc:  # open_clip/torch refusing the shapes
        raise ValueError(f"{config_path} describes a model that cannot be built ({type(exc).__name__}: {exc}); "
                         f"{fix}") from exc
    except ValueError as exc:
        if backbone_file is None or "do not fit" not in str(exc):
            raise
        raise ValueError(f"{exc}; the architecture is the one {config_path} describes: {fix}") from exc
    try:
        model.load_trainable_state_dict(read_weights(weights_path))
    except ValueError as exc:
        if "do not fit" not in str(exc):
            raise
        raise ValueError(f"{weights_path}: {exc} (the model {config_path} describes); {fix}") from exc
    model = model.to(device=device or "cpu", dtype=dtype or torch.float32)
    return model.eval()


def _resolve(spec: str, *, revision, cache_dir, local_files_only, verify_backbone,
             progress) -> tuple[Callable[[str], Path], Optional[str]]:
    """(a function filename -> local path for the checkpoint ``spec`` names, its registry name or None)."""
    card_name = None
    if os.path.isdir(spec):
        folder = Path(spec)
        fetch = _folder_fetcher(folder)
        for required in (CONFIG_NAME, WEIGHTS_NAME):
            if not (folder / required).is_file():
                raise WeightsUnavailableError(f"{folder} is not a zoo checkpoint folder: {required} is missing")
    elif spec.startswith(HF_HUB_PREFIX):
        repo_id, pinned = _parse_hub_id(spec)
        fetch = _fetcher(repo_id, revision or pinned, cache_dir, local_files_only)
    elif is_pretrained(spec):
        entry = get_pretrained_entry(spec)
        card_name = spec
        if entry["status"] == "published":
            config_path, weights_path = hub_checkpoint_files(spec, entry, revision=revision, cache_dir=cache_dir,
                                                             local_files_only=local_files_only)
            fetch = _fetcher(entry["hf_hub_id"], revision or entry["revision"], cache_dir, local_files_only,
                             known={CONFIG_NAME: config_path, WEIGHTS_NAME: weights_path})
        elif has_upstream_source(entry):
            fetch = _folder_fetcher(ensure_upstream(spec, entry, local_files_only=local_files_only,
                                                    verify_backbone=verify_backbone, cache_dir=cache_dir,
                                                    progress=progress))
        else:
            raise CheckpointNotAvailableError(unavailable_message(spec, entry))
    elif is_model(spec):
        raise ValueError(
            f"{spec!r} is an architecture, not a checkpoint: use ezclip_zoo.create_model({spec!r}) for fresh "
            f"prompts/adapters; checkpoints are {list_pretrained()}"
        )
    elif os.path.exists(spec):
        raise ValueError(f"{spec!r} is a file; load() takes a checkpoint folder (config.json + model.safetensors). "
                         "For the authors' .pt files use ezclip_zoo.load_official_checkpoint")
    else:
        raise UnknownNameError.of(
            "checkpoint", spec, list_pretrained(),
            hint=f"{spec!r} is neither a local folder, an 'hf-hub:org/repo' id, nor a known checkpoint",
        )

    return fetch, card_name


def _backbone_file(
    config: EZCLIPConfig, fetch: Callable[[str], Path], backbone_weights: Optional[PathLike], *, origin: str
) -> Optional[PathLike]:
    """The local backbone file to load: the caller's, or the one the folder names inside itself (None: by tag)."""
    if backbone_weights is not None:
        return backbone_weights
    if config.backbone.weights is None:
        return None
    # nothing a downloaded folder says may open a file outside it
    return fetch(contained_name(config.backbone.weights, origin))
