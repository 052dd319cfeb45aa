"""`load`: a registry checkpoint name, ``hf-hub:org/repo[@revision]`` or a local folder -> ready `EZCLIP`.

Only ``config.json`` and ``model.safetensors`` (a few MB) are fetched, through huggingface_hub (its cache, its
offline mode, ``HF_HUB_OFFLINE``); the frozen CLIP comes from open_clip by its pretrained tag, or from
``backbone_weights``. Weights of registry names are checked against the sha256 that ``checkpoints.json``
records, since the Hub client does not verify downloads by default.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from .config import EZCLIPConfig
from .errors import CheckpointNotAvailableError, ChecksumError, WeightsUnavailableError
from .factory import build_model
from .model import EZCLIP
from .pretrained import get_pretrained_entry, is_pretrained, list_pretrained
from .registry import is_model
from .serialization import CONFIG_NAME, WEIGHTS_NAME, read_config, read_weights, save_pretrained, sha256_file

__all__ = ["load", "push_to_hub", "HF_HUB_PREFIX"]

HF_HUB_PREFIX = "hf-hub:"
PathLike = Union[str, os.PathLike]


def _fetcher(
    repo_id: str, revision: Optional[str], cache_dir: Optional[str], local_files_only: Optional[bool]
) -> Callable[[str], Path]:
    """A function filename -> local path that downloads from ``repo_id`` at ``revision`` (or reads the cache)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    def fetch(filename: str) -> Path:
        try:
            return Path(hf_hub_download(
                repo_id, filename, revision=revision, cache_dir=cache_dir, local_files_only=bool(local_files_only),
                library_name="ezclip-zoo",
            ))
        except LocalEntryNotFoundError as exc:
            rev = f" --revision {revision}" if revision else ""
            raise WeightsUnavailableError(
                f"{filename} of Hub repo {repo_id!r} (revision {revision or 'main'}) is not in the local cache and "
                f"cannot be downloaded now (offline: HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', 'unset')}, "
                f"local_files_only={bool(local_files_only)}, or no network). Fix: connect and retry with "
                f"HF_HUB_OFFLINE unset, or pre-download on a connected machine with `huggingface-cli download "
                f"{repo_id} {CONFIG_NAME} {WEIGHTS_NAME}{rev}` and copy the cache, or pass a local folder written "
                "by model.save_pretrained()"
            ) from exc
        except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as exc:
            raise WeightsUnavailableError(
                f"cannot get {filename} from Hub repo {repo_id!r} at revision {revision or 'main'}: {exc}"
            ) from exc

    return fetch


def _parse_hub_id(spec: str) -> tuple[str, Optional[str]]:
    repo = spec[len(HF_HUB_PREFIX):]
    repo, _, revision = repo.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"{spec!r} is not of the form 'hf-hub:org/repo' or 'hf-hub:org/repo@revision'")
    return repo, revision or None


def _unavailable_message(name: str, entry: dict[str, Any]) -> str:
    source = entry.get("source") or {}
    if source.get("google_drive_id"):
        how = (
            f"To produce them locally: download the authors' checkpoint (Google Drive file id "
            f"{source['google_drive_id']}), then run `ezclip-zoo convert-official CHECKPOINT.pt OUT_DIR --name "
            f"{name} --verify-backbone` and load the folder with ezclip_zoo.load('OUT_DIR') "
            "(examples/publish_official.py walks through the whole path)."
        )
    else:
        how = entry.get("notes") or "No source weights exist yet; train them with examples/finetune.py."
    return (
        f"checkpoint {name!r} is listed in checkpoints.json but its weights are not published on the Hub "
        f"(status {entry['status']!r}, Hub repo {entry['hf_hub_id']!r}). {how}"
    )


def load(
    name_or_path: PathLike,
    *,
    device: Optional[Union[str, torch.device]] = None,
    dtype: Optional[torch.dtype] = None,
    revision: Optional[str] = None,
    cache_dir: Optional[str] = None,
    local_files_only: Optional[bool] = None,
    backbone_weights: Optional[PathLike] = None,
) -> EZCLIP:
    """Load a ready-to-use EZ-CLIP model.

    Args:
        name_or_path: a checkpoint name from `list_pretrained` (e.g. ``"ezclip-b16-k400"``), ``"hf-hub:org/repo"``
            (optionally ``@revision``), or a local folder written by `EZCLIP.save_pretrained`.
        device: where to put the model (default CPU).
        dtype: e.g. ``torch.bfloat16`` for faster CPU/GPU inference (default float32).
        revision: Hub revision (branch, tag or commit); overrides the pinned one of a registry name.
        cache_dir: Hugging Face cache folder for the trainable weights and the backbone download.
        local_files_only: never touch the network (``HF_HUB_OFFLINE=1`` does the same globally).
        backbone_weights: a local CLIP state-dict file (``.safetensors`` or ``torch.save``) to use instead of
            downloading the backbone by its open_clip tag, for air-gapped machines.

    Returns:
        An `EZCLIP` in eval mode.

    Raises:
        CheckpointNotAvailableError: a registry name whose weights are not published (says how to make them).
        WeightsUnavailableError: a file missing while offline or absent from the Hub (says how to fix it).
        ChecksumError: the weights file does not match the sha256 in ``checkpoints.json``.
        ValueError: a config of a newer format, or weights with missing/unexpected keys (listed).
    """
    spec = os.fspath(name_or_path)
    expected_sha256 = None
    card_name = None
    if os.path.isdir(spec):
        folder = Path(spec)
        fetch: Callable[[str], Path] = lambda filename: folder / filename  # noqa: E731
        for required in (CONFIG_NAME, WEIGHTS_NAME):
            if not (folder / required).is_file():
                raise WeightsUnavailableError(f"{folder} is not a zoo checkpoint folder: {required} is missing")
    elif spec.startswith(HF_HUB_PREFIX):
        repo_id, pinned = _parse_hub_id(spec)
        fetch = _fetcher(repo_id, revision or pinned, cache_dir, local_files_only)
    elif is_pretrained(spec):
        entry = get_pretrained_entry(spec)
        if entry["status"] != "published":
            raise CheckpointNotAvailableError(_unavailable_message(spec, entry))
        card_name = spec
        # the recorded hash belongs to the pinned revision; another revision is the caller's choice, unchecked
        expected_sha256 = entry["sha256"] if revision in (None, entry["revision"]) else None
        fetch = _fetcher(entry["hf_hub_id"], revision or entry["revision"], cache_dir, local_files_only)
    elif is_model(spec):
        raise ValueError(
            f"{spec!r} is an architecture, not a checkpoint: use ezclip_zoo.create_model({spec!r}) for fresh "
            f"prompts/adapters; published checkpoints are {list_pretrained(published_only=True)}"
        )
    elif os.path.exists(spec):
        raise ValueError(f"{spec!r} is a file; load() takes a checkpoint folder (config.json + model.safetensors). "
                         "For the authors' .pt files use ezclip_zoo.load_official_checkpoint")
    else:
        raise ValueError(
            f"{spec!r} is neither a local folder, an 'hf-hub:org/repo' id, nor a known checkpoint "
            f"({list_pretrained()})"
        )

    config = read_config(fetch(CONFIG_NAME))
    weights_path = fetch(WEIGHTS_NAME)
    if expected_sha256 is not None:
        actual = sha256_file(weights_path)
        if actual != expected_sha256:
            raise ChecksumError(
                f"{weights_path} has sha256 {actual}, but checkpoints.json expects {expected_sha256}: the file is "
                "damaged or was replaced. Delete it (or load with a fresh cache_dir) to download it again"
            )
    config = _resolve_backbone_weights(config, fetch, backbone_weights)
    if card_name and not config.name:
        config = config.replace(name=card_name)
    model = build_model(config, pretrained_backbone=True, cache_dir=cache_dir)
    model.load_trainable_state_dict(read_weights(weights_path))
    model = model.to(device=device or "cpu", dtype=dtype or torch.float32)
    return model.eval()


def _resolve_backbone_weights(
    config: EZCLIPConfig, fetch: Callable[[str], Path], backbone_weights: Optional[PathLike]
) -> EZCLIPConfig:
    if backbone_weights is not None:
        if not os.path.isfile(backbone_weights):
            raise FileNotFoundError(f"backbone_weights {os.fspath(backbone_weights)!r} does not exist")
        return config.replace(backbone={"weights": os.path.abspath(backbone_weights)})
    weights = config.backbone.weights
    if weights is not None and not os.path.isabs(weights):
        # a backbone stored beside the checkpoint (custom CLIP): fetch it the same way as the other files
        return config.replace(backbone={"weights": str(fetch(weights))})
    return config


def push_to_hub(
    model: EZCLIP,
    repo_id: str,
    *,
    private: Optional[bool] = None,
    token: Optional[str] = None,
    revision: Optional[str] = None,
    commit_message: str = "Upload EZ-CLIP checkpoint",
    card: Optional[dict[str, Any]] = None,
    adapter_dtype: torch.dtype = torch.float16,
) -> str:
    """Save ``model`` as a zoo folder and upload it to ``repo_id`` (created if needed); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    card = {"load_id": f"{HF_HUB_PREFIX}{repo_id}", **(card or {})}
    with tempfile.TemporaryDirectory() as tmp:
        save_pretrained(model, tmp, adapter_dtype=adapter_dtype, card=card)
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=tmp, revision=revision, commit_message=commit_message)
    return str(getattr(info, "commit_url", info))
