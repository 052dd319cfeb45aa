"""Where the frozen CLIP's weights come from, as local files: an open_clip pretrained tag, an open_clip
``hf-hub:`` model, or a local file. The model layer then builds the CLIP from these files alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import FileNotInRepoError, WeightsUnavailableError
from ..fetch.network import offline, unreachable_reason
from ..modeling.config import BackboneConfig
from .hub_files import cached_hub_file, hf_download_command, hub_file

__all__ = ["BackboneFiles", "HF_HUB_MODEL_PREFIX", "backbone_files", "is_fetchable_by_name", "tokenizer_folder"]

HF_HUB_MODEL_PREFIX = "hf-hub:"
_OPEN_CLIP_CONFIG = "open_clip_config.json"
_OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
# a Hugging Face tokenizer's files: what AutoTokenizer needs, then what it reads when present
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")
OPTIONAL_TOKENIZER_FILES = ("special_tokens_map.json",)


@dataclass
class BackboneFiles:
    """A backbone as local files: ``model_cfg`` when the architecture comes from a downloaded open_clip config
    (``hf-hub:`` models, else None: the config names it), with the ``preprocess_cfg`` beside it, and ``weights``
    (None: no weights to load)."""

    model_cfg: dict | None
    weights: Path | None
    preprocess_cfg: dict | None = None


def is_fetchable_by_name(cfg: BackboneConfig) -> bool:
    """Whether the weights can be fetched again by name alone (an open_clip tag or ``hf-hub:`` model)."""
    return cfg.model is not None and (cfg.pretrained is not None or cfg.model.startswith(HF_HUB_MODEL_PREFIX))


def _hub_weights(
    repo_id: str,
    candidates: tuple[str, ...],
    revision: str | None,
    cache_dir: str | None,
    local_files_only: bool | None,
    what: str,
) -> Path:
    for name in candidates:  # a cached candidate wins, so offline machines use whichever they have
        cached = cached_hub_file(repo_id, name, revision, cache_dir)
        if cached is not None:
            return cached
    if offline(local_files_only):
        raise WeightsUnavailableError(
            f"the {what} weights (Hub repo {repo_id!r}) are not in the local cache and downloads are off "
            f"(HF_HUB_OFFLINE / local_files_only). Fix: on a connected machine run "
            f"`{hf_download_command(repo_id, [candidates[0]], revision)}`, or `ezclip-zoo download NAME --to DIR` "
            "and load(DIR) here, or pass backbone_weights=PATH (backbone={'weights': PATH} in create_model)"
        )
    for i, name in enumerate(candidates):
        try:
            return hub_file(
                repo_id,
                name,
                revision=revision,
                cache_dir=cache_dir,
                local_files_only=local_files_only,
                what=f"the {what} weights ({name} of Hub repo {repo_id!r})",
            )
        except FileNotInRepoError:
            if i == len(candidates) - 1:
                raise
    raise AssertionError("unreachable")


def backbone_files(
    cfg: BackboneConfig,
    *,
    weights: bool = True,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
) -> BackboneFiles:
    """Resolve ``cfg`` to local files, downloading what is missing (unless offline).

    Args:
        cfg: the backbone.
        weights: False resolves only the architecture (an ``hf-hub:`` model's config), for random or meta builds.
        cache_dir: Hugging Face cache folder.
        local_files_only: never download.

    Raises:
        WeightsUnavailableError: offline or unreachable and not cached; the message has the command that fixes it.
        ValueError: an unknown open_clip tag.
    """
    if cfg.model is not None and cfg.model.startswith(HF_HUB_MODEL_PREFIX):
        repo_id = cfg.model[len(HF_HUB_MODEL_PREFIX) :].strip("/")
        config_path = hub_file(
            repo_id,
            _OPEN_CLIP_CONFIG,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            what=f"the open_clip config of backbone {cfg.model!r}",
        )
        document = json.loads(Path(config_path).read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("model_cfg"), dict):
            raise ValueError(
                f"{config_path} (backbone {cfg.model!r}) has no 'model_cfg' object: not an open_clip model config"
            )
        model_cfg = document["model_cfg"]
        preprocess = document.get("preprocess_cfg") if isinstance(document.get("preprocess_cfg"), dict) else None
        if cfg.weights is not None or not weights:
            return BackboneFiles(model_cfg, Path(cfg.weights) if weights and cfg.weights else None, preprocess)
        path = _hub_weights(repo_id, _OPEN_CLIP_WEIGHTS, None, cache_dir, local_files_only, cfg.model)
        return BackboneFiles(model_cfg, path, preprocess)
    if not weights:
        return BackboneFiles(None, None)
    if cfg.weights is not None:
        return BackboneFiles(None, Path(cfg.weights))
    if cfg.pretrained is None:
        return BackboneFiles(None, None)
    return BackboneFiles(None, _tag_weights(cfg, cache_dir, local_files_only))


def _tag_weights(cfg: BackboneConfig, cache_dir: str | None, local_files_only: bool | None) -> Path:
    from open_clip.pretrained import download_pretrained_from_url, get_pretrained_cfg, list_pretrained_tags_by_model

    tag_cfg = get_pretrained_cfg(cfg.model, cfg.pretrained)
    if not tag_cfg:
        raise ValueError(
            f"open_clip has no pretrained tag {cfg.pretrained!r} for {cfg.model!r}; "
            f"available: {list_pretrained_tags_by_model(cfg.model)}"
        )
    what = f"{cfg.model!r} CLIP (open_clip tag {cfg.pretrained!r})"
    if tag_cfg.get("hf_hub"):
        # open_clip's convention: 'org/repo/filename', or 'org/repo/' for its default file name
        repo_id, filename = os.path.split(tag_cfg["hf_hub"])
        names = (filename,) if filename else _OPEN_CLIP_WEIGHTS
        if filename and not filename.endswith(".safetensors"):
            names = (os.path.splitext(filename)[0] + ".safetensors", filename)
        return _hub_weights(repo_id, names, None, cache_dir, local_files_only, what)
    url = tag_cfg.get("url")
    if not url:
        raise ValueError(f"open_clip tag {cfg.pretrained!r} of {cfg.model!r} names no download")
    if offline(local_files_only):
        raise WeightsUnavailableError(
            f"the {what} weights cannot be downloaded while offline ({url}); pass "
            "backbone_weights=PATH (backbone={'weights': PATH} in create_model)"
        )
    reason = unreachable_reason(url)
    if reason is not None:
        raise WeightsUnavailableError(
            f"cannot download the {what} weights from {url}: {reason}; pass "
            "backbone_weights=PATH (backbone={'weights': PATH} in create_model)"
        )
    return Path(download_pretrained_from_url(url, cache_dir=cache_dir))


def tokenizer_folder(name: str, *, cache_dir: str | None = None, local_files_only: bool | None = None) -> str:
    """A backbone's Hugging Face tokenizer (`BackboneConfig.tokenizer`) as a local folder: a Hub id's files are
    fetched once into the Hub cache (and read from there offline); ``"clip"`` and local folders come back as they
    are.

    Raises:
        WeightsUnavailableError: offline or unreachable and not cached; the message has the ``hf download`` command.
        ValueError: neither ``"clip"``, a folder nor an ``org/name`` Hub id.
    """
    if name == "clip" or os.path.isdir(name):
        return name
    parts = name.split("/")
    if len(parts) != 2 or not all(parts) or os.path.isabs(name):
        raise ValueError(f"tokenizer {name!r} is neither 'clip', an existing folder nor a Hub id 'org/name'")
    what = f"the tokenizer of Hub repo {name!r}"
    paths = [
        hub_file(name, f, cache_dir=cache_dir, local_files_only=local_files_only, what=f"{f} ({what})")
        for f in TOKENIZER_FILES
    ]
    for optional in OPTIONAL_TOKENIZER_FILES:
        if cached_hub_file(name, optional, None, cache_dir) is None and not offline(local_files_only):
            try:
                hub_file(name, optional, cache_dir=cache_dir, local_files_only=local_files_only)
            except FileNotInRepoError:
                pass
    return os.fspath(paths[0].parent)
