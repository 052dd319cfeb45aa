"""`load`, the one door to a model by name: a local folder, ``hf-hub:org/repo[@revision]``, a checkpoint name or
an architecture name -> ready `EZCLIP`.

From the Hub only ``config.json`` and ``model.safetensors`` (a few MB) are fetched, through huggingface_hub (its
cache, its offline mode, ``HF_HUB_OFFLINE``); a name not on the Hub yet comes from the authors' release through
the zoo cache (`ezclip_zoo.zoo.official_release`). The frozen CLIP comes from open_clip by its pretrained tag, or from
``backbone_weights``. Weights of registry names are checked against the sha256 that ``checkpoints.json``
records, since the Hub client does not verify downloads by default.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from ..digest import sha256_file
from ..errors import (
    BackboneMismatchError,
    CheckpointNotAvailableError,
    ChecksumError,
    UnknownNameError,
    UnsafePathError,
    UntrainedModelWarning,
    WeightsUnavailableError,
)
from ..modeling.config import EZCLIPConfig
from ..modeling.model import EZCLIP
from .factory import build_model
from .hub_files import cached_hub_file, hub_file, remove_from_hub_cache
from .official_release import ensure_official_release
from .pretrained import TRAINING_FREE, get_pretrained_entry, has_official_release, is_pretrained, list_pretrained
from .registry import get_model_config, is_model, list_models
from .serialization import (
    CONFIG_NAME,
    TOKENIZER_DIR,
    WEIGHTS_NAME,
    bundled_tokenizer_files,
    read_config,
    read_weights,
    saved_backbone_family,
)

__all__ = ["load", "HF_HUB_PREFIX", "contained_name", "hub_checkpoint_files", "unavailable_message"]

HF_HUB_PREFIX = "hf-hub:"
PathLike = str | os.PathLike


def _fetcher(
    repo_id: str,
    revision: str | None,
    cache_dir: str | None,
    local_files_only: bool | None,
    force: bool = False,
    known: dict[str, Path] | None = None,
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


def _parse_hub_id(spec: str) -> tuple[str, str | None]:
    repo = spec[len(HF_HUB_PREFIX) :]
    repo, _, revision = repo.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"{spec!r} is not of the form 'hf-hub:org/repo' or 'hf-hub:org/repo@revision'")
    return repo, revision or None


def unavailable_message(name: str, entry: dict[str, Any]) -> str:
    """Why a listed checkpoint cannot be loaded, and what to do instead."""
    how = entry.get("notes") or "No weights exist for it yet."
    return (
        f"checkpoint {name!r} is listed in checkpoints.json but has no weights to load (status "
        f"{entry['status']!r}). {how}"
    )


def _check_hub_sha256(path: Path, expected: str | None) -> None:
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
    name: str,
    entry: dict[str, Any],
    *,
    revision: str | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
    force: bool = False,
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
    if (
        os.path.isabs(name)
        or norm == ".."
        or norm.startswith(".." + os.sep)
        or norm.startswith(("/", "\\"))
        or (os.path.splitdrive(name)[0])
    ):
        raise UnsafePathError(
            f"{origin} names the file {name!r}, outside its folder: refused. A checkpoint folder may only name "
            "files inside itself; to use another backbone file, pass backbone_weights=PATH to ezclip_zoo.load"
        )
    return norm


def load(
    name_or_path: PathLike,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    seed: int = 0,
    pretrained_backbone: bool = True,
    overrides: Mapping[str, Any] | None = None,
    revision: str | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
    backbone_weights: PathLike | None = None,
    verify_backbone: bool = True,
    progress: bool = True,
) -> EZCLIP:
    """The one door to a model by name or path: a trained checkpoint, or a fresh architecture.

    ``name_or_path`` is looked up in this order, the first match winning:

    1. an existing local folder (written by `ezclip_zoo.save_pretrained` or ``ezclip-zoo download --to``);
    2. ``"hf-hub:org/repo"`` (optionally ``@revision``): a zoo folder on the Hugging Face Hub;
    3. a checkpoint name from `list_pretrained` (e.g. ``"ezclip-b16-k400"``): its Hub repo when published
       (sha256-pinned, about 10 MB), otherwise the authors' release it names, downloaded once, verified and
       converted into the zoo cache (`ezclip_zoo.paths.cache_root`), and read from there by every later call;
    4. an architecture name from `list_models` (e.g. ``"ezclip-vit-b16"``): fresh prompts and adapters over the
       pretrained backbone, as timm's ``create_model(name, pretrained=True)``. They are drawn from a generator
       seeded with ``seed`` (the caller's global RNG is neither read nor advanced), and an `UntrainedModelWarning`
       says that the predictions mean nothing until the model is trained.

    A checkpoint and an architecture can never share a name (`register_model` and `register_pretrained` refuse
    it), so steps 3 and 4 never compete.

    Args:
        name_or_path: what to load (see above).
        device: where to put the model (default CPU).
        dtype: e.g. ``torch.bfloat16`` for faster CPU/GPU inference (default float32).
        seed: architectures only: the seed of the fresh prompts/adapters (and of a random backbone).
        pretrained_backbone: architectures only: False keeps open_clip's random backbone (tests and demos).
        overrides: architectures only: `EZCLIPConfig` fields to change, e.g. ``{"num_frames": 16}``.
        revision: Hub revision (branch, tag or commit); overrides the pinned one of a registry name.
        cache_dir: Hugging Face cache folder for the trainable weights and the backbone download.
        local_files_only: never touch the network (``HF_HUB_OFFLINE=1`` does the same globally).
        backbone_weights: a local CLIP state-dict file (``.safetensors`` or ``torch.save``) to use instead of
            downloading the backbone by its open_clip tag, for air-gapped machines.
        verify_backbone: when converting an authors' release, check the CLIP inside it against open_clip's.
        progress: progress bars and the one-line notice of a first download on stderr.

    Returns:
        An `EZCLIP` in eval mode.

    Raises:
        UnknownNameError: not a folder, Hub id, checkpoint or architecture (lists the close names).
        CheckpointNotAvailableError: a registry name with no weights anywhere (says what to do instead).
        WeightsUnavailableError: a file missing while offline or absent from the Hub (says how to fix it);
            `DownloadError` for a failed download of an authors' release.
        ChecksumError: the weights file does not match the sha256 in ``checkpoints.json``.
        UnsafePathError: a folder's ``config.json`` names a file outside the folder.
        ValueError: a config of a newer format, weights with missing/unexpected keys (listed), or
            ``overrides``/``pretrained_backbone=False`` given for a trained checkpoint.
    """
    spec = os.fspath(name_or_path)
    if _is_training_free(spec):
        if overrides or not pretrained_backbone:
            raise ValueError(
                f"overrides and pretrained_backbone=False apply to architectures (a fresh model), not to the "
                f"training-free entry {spec!r}, which is its backbone as it is"
            )
        model = _training_free(
            spec, cache_dir=cache_dir, local_files_only=local_files_only, backbone_weights=backbone_weights
        )
    elif _is_architecture(spec):
        model = _fresh_architecture(
            spec,
            seed=seed,
            pretrained_backbone=pretrained_backbone,
            overrides=overrides,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            backbone_weights=backbone_weights,
        )
    else:
        if overrides or not pretrained_backbone:
            raise ValueError(
                f"overrides and pretrained_backbone=False apply to architectures (a fresh model), not "
                f"to the trained checkpoint {spec!r}, whose config and backbone are fixed"
            )
        model = _trained_checkpoint(
            spec,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            backbone_weights=backbone_weights,
            verify_backbone=verify_backbone,
            progress=progress,
        )
    model = model.to(device=device or "cpu", dtype=dtype or torch.float32)
    return model.eval()


def _is_training_free(spec: str) -> bool:
    """Step 3 for an entry with no trained weights: the backbone itself as a video classifier."""
    return not os.path.isdir(spec) and is_pretrained(spec) and get_pretrained_entry(spec)["status"] == TRAINING_FREE


def _training_free(
    name: str, *, cache_dir: str | None, local_files_only: bool | None, backbone_weights: PathLike | None
) -> EZCLIP:
    """A training-free entry: its architecture with temporal prompts off and the adapters at their zero start,
    i.e. exactly the frozen image model averaged over frames (nothing trained to fetch, nothing to warn about)."""
    entry = get_pretrained_entry(name)
    architecture = get_model_config(entry["architecture"])
    config = architecture.replace(
        name=name,
        num_frames=entry["num_frames"],
        temporal_prompts=False,
        extra={**architecture.extra, "training_free": True, "architecture": entry["architecture"]},
    )
    with torch.random.fork_rng(devices=[]):  # the adapters' first layers (their output layers are zero)
        torch.manual_seed(0)
        return build_model(
            config, cache_dir=cache_dir, backbone_weights=backbone_weights, local_files_only=local_files_only
        )


def _is_architecture(spec: str) -> bool:
    """Step 4 of `load`'s order: an architecture name that no folder, Hub id or checkpoint name claims first."""
    return is_model(spec) and not os.path.isdir(spec) and not is_pretrained(spec)


def _fresh_architecture(
    name: str,
    *,
    seed: int,
    pretrained_backbone: bool,
    overrides: Mapping[str, Any] | None,
    cache_dir: str | None,
    local_files_only: bool | None,
    backbone_weights: PathLike | None,
) -> EZCLIP:
    """A registered architecture with prompts/adapters (and any random backbone) drawn from ``seed``."""
    config = get_model_config(name)
    if overrides:
        config = config.replace(**dict(overrides))
    # Built on the CPU inside a forked RNG: the same seed gives the same weights on every device, and the
    # caller's random state is left exactly as it was (open_clip and torch.nn initialise from the global RNG).
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(
            config,
            pretrained_backbone=pretrained_backbone,
            cache_dir=cache_dir,
            backbone_weights=backbone_weights if pretrained_backbone else None,
            local_files_only=local_files_only,
        )
    warnings.warn(
        f"{name} is an architecture: its prompts and adapters are freshly initialised (seed {seed}), so its "
        "predictions mean nothing until it is trained; load a checkpoint (ezclip_zoo.list_pretrained()) for real "
        "results",
        UntrainedModelWarning,
        stacklevel=3,
    )
    return model


def _trained_checkpoint(
    spec: str,
    *,
    revision: str | None,
    cache_dir: str | None,
    local_files_only: bool | None,
    backbone_weights: PathLike | None,
    verify_backbone: bool,
    progress: bool,
) -> EZCLIP:
    """Steps 1-3 of `load`'s order: a folder, a Hub repo or a checkpoint name, with its trained weights."""
    fetch, card_name = _resolve(
        spec,
        revision=revision,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        verify_backbone=verify_backbone,
        progress=progress,
    )
    config_path = fetch(CONFIG_NAME)
    config = read_config(config_path)
    weights_path = fetch(WEIGHTS_NAME)
    backbone_file = _backbone_file(config, fetch, backbone_weights, origin=f"config.json of {spec!r}")
    tokenizer_files = bundled_tokenizer_files(config_path)
    if tokenizer_files:  # a Hugging Face tokenizer carried in the folder: its files, wherever fetch put them
        paths = [fetch(f"{TOKENIZER_DIR}/{name}") for name in tokenizer_files]
        config = config.replace(backbone={"tokenizer": os.fspath(paths[0].parent)})
    if card_name and not config.name:
        config = config.replace(name=card_name)
    fix = "the files come from different checkpoints or one is damaged: re-download or re-save the folder"
    try:
        model = build_model(
            config,
            pretrained_backbone=True,
            cache_dir=cache_dir,
            backbone_weights=backbone_file,
            local_files_only=local_files_only,
        )
    except (AssertionError, RuntimeError, TypeError, ZeroDivisionError) as exc:  # open_clip/torch refusing the shapes
        raise ValueError(
            f"{config_path} describes a model that cannot be built ({type(exc).__name__}: {exc}); {fix}"
        ) from exc
    except ValueError as exc:
        if backbone_file is None or "do not fit" not in str(exc):
            raise
        raise ValueError(f"{exc}; the architecture is the one {config_path} describes: {fix}") from exc
    saved_family = saved_backbone_family(config_path)
    if saved_family is not None and saved_family != model.family:
        raise BackboneMismatchError(
            f"{weights_path} was trained over a {saved_family} backbone, but {config_path} describes a {model.family} "
            f"one: the prompts and adapters of one backbone mean nothing over another; {fix}"
        )
    try:
        model.load_trainable_state_dict(read_weights(weights_path))
    except ValueError as exc:
        if "do not fit" not in str(exc):
            raise
        raise ValueError(f"{weights_path}: {exc} (the model {config_path} describes); {fix}") from exc
    return model


def _resolve(
    spec: str,
    *,
    revision: str | None,
    cache_dir: str | None,
    local_files_only: bool | None,
    verify_backbone: bool,
    progress: bool,
) -> tuple[Callable[[str], Path], str | None]:
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
            config_path, weights_path = hub_checkpoint_files(
                spec, entry, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only
            )
            fetch = _fetcher(
                entry["hf_hub_id"],
                revision or entry["revision"],
                cache_dir,
                local_files_only,
                known={CONFIG_NAME: config_path, WEIGHTS_NAME: weights_path},
            )
        elif has_official_release(entry):
            fetch = _folder_fetcher(
                ensure_official_release(
                    spec,
                    entry,
                    local_files_only=local_files_only,
                    verify_backbone=verify_backbone,
                    cache_dir=cache_dir,
                    progress=progress,
                )
            )
        else:
            raise CheckpointNotAvailableError(unavailable_message(spec, entry))
    elif os.path.exists(spec):
        raise ValueError(
            f"{spec!r} is a file; load() takes a checkpoint folder (config.json + model.safetensors). "
            "For the authors' .pt files use ezclip_zoo.load_official_checkpoint"
        )
    else:
        raise UnknownNameError.of(
            "model",
            spec,
            [*list_pretrained(), *list_models()],
            hint=f"{spec!r} is neither a local folder, an 'hf-hub:org/repo' id, a checkpoint "
            "(ezclip_zoo.list_pretrained()) nor an architecture (ezclip_zoo.list_models())",
        )

    return fetch, card_name


def _backbone_file(
    config: EZCLIPConfig, fetch: Callable[[str], Path], backbone_weights: PathLike | None, *, origin: str
) -> PathLike | None:
    """The local backbone file to load: the caller's, or the one the folder names inside itself (None: by tag)."""
    if backbone_weights is not None:
        return backbone_weights
    if config.backbone.weights is None:
        return None
    # nothing a downloaded folder says may open a file outside it
    return fetch(contained_name(config.backbone.weights, origin))
