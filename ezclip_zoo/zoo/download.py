"""``ezclip-zoo download``: everything one checkpoint needs, into the caches or into one self-contained folder.

Into the caches, a later `ezclip_zoo.load(NAME)` runs with no network; into a folder (``to=``), the trainable
weights, config, card and the frozen CLIP's weights sit together and `ezclip_zoo.load(FOLDER)` needs nothing
else, for carrying to an air-gapped machine.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import CheckpointNotAvailableError
from ..text.class_sets import class_descriptions, class_sets_described_by
from .backbone_weights import HF_HUB_MODEL_PREFIX, BackboneFiles, backbone_files
from .official_release import fetch_official_release
from .pretrained import TRAINING_FREE, has_official_release
from .serialization import (
    BACKBONE_WEIGHTS_NAME,
    CARD_NAME,
    CONFIG_NAME,
    TOKENIZER_DIR,
    WEIGHTS_NAME,
    bundled_tokenizer_files,
    read_config,
    write_safetensors,
)

__all__ = ["download_checkpoint"]

PathLike = str | os.PathLike


def download_checkpoint(
    name: str,
    *,
    to: PathLike | None = None,
    force: bool = False,
    source_file: PathLike | None = None,
    keep_source: bool = False,
    verify_backbone: bool = True,
    cache_dir: str | None = None,
    progress: bool = True,
) -> Path:
    """Fetch checkpoint ``name``, its frozen CLIP and the class descriptions it was trained with (when its entry
    names the authors' CSV); returns the folder `ezclip_zoo.load` can read.

    Args:
        name: a name from `ezclip_zoo.list_pretrained`.
        to: also write one self-contained folder here (config, weights, card, ``backbone.safetensors``).
        force: download again even if cached (the Hub file, or the authors' file and its conversion).
        source_file: for a checkpoint from the authors' release, their file downloaded by hand.
        keep_source: keep the authors' downloaded file after conversion.
        verify_backbone: check the CLIP inside the authors' file against open_clip's (default on).
        cache_dir: Hugging Face cache folder.
        progress: progress bars and the one-line notice on stderr.
    """
    from .hub_files import hub_file
    from .loading import contained_name, hub_checkpoint_files
    from .pretrained import get_pretrained_entry

    entry = get_pretrained_entry(name)
    if entry["status"] == TRAINING_FREE and source_file is None:
        return _training_free(name, to, cache_dir=cache_dir, progress=progress)
    if entry["status"] == "published" and source_file is None:
        config_path, _ = hub_checkpoint_files(name, entry, cache_dir=cache_dir, force=force)
        folder = config_path.parent
    elif has_official_release(entry) or source_file is not None:
        folder = fetch_official_release(
            name,
            entry,
            force=force,
            source_file=source_file,
            keep_source=keep_source,
            verify_backbone=verify_backbone,
            cache_dir=cache_dir,
            progress=progress,
        )
    else:
        from .loading import unavailable_message

        raise CheckpointNotAvailableError(unavailable_message(name, entry))
    config = read_config(folder / CONFIG_NAME)
    if entry["status"] == "published" and source_file is None:  # a Hugging Face tokenizer carried in the repo
        for tokenizer_file in bundled_tokenizer_files(folder / CONFIG_NAME):
            hub_file(
                entry["hf_hub_id"], f"{TOKENIZER_DIR}/{tokenizer_file}", revision=entry["revision"], cache_dir=cache_dir
            )
    if config.backbone.weights is not None:  # embedded beside the weights: fetched with them, nothing else
        files = None
        if entry["status"] == "published" and source_file is None:  # a Hub repo holds it as one more file
            hub_file(
                entry["hf_hub_id"],
                contained_name(config.backbone.weights, f"config.json of {name!r}"),
                revision=entry["revision"],
                cache_dir=cache_dir,
            )
    else:
        files = backbone_files(config.backbone, cache_dir=cache_dir)
    _fetch_descriptions(entry, progress)
    if to is None:
        return folder
    return _write_folder(folder, Path(to), files)


def _training_free(name: str, to: PathLike | None, *, cache_dir: str | None, progress: bool) -> Path:
    """A training-free entry: its backbone's weights and tokenizer into the caches (returns their folder), or with
    ``to`` a self-contained folder (the zero-start adapters, the config, the backbone and its tokenizer)."""
    import torch

    from .loading import load
    from .serialization import save_pretrained

    model = load(name, cache_dir=cache_dir, progress=progress)
    if to is None:
        weights = backbone_files(model.config.backbone, cache_dir=cache_dir).weights
        return weights.parent if weights is not None else Path(".")
    target = save_pretrained(model, to, adapter_dtype=torch.float32)
    state_dict = {k: v.detach().float().contiguous().cpu() for k, v in model.clip.state_dict().items()}
    _embed_backbone(target, state_dict)
    return target


def _embed_backbone(target: Path, state_dict: dict) -> None:
    """Write the frozen CLIP beside the zoo files and point ``config.json`` at it."""
    write_safetensors(state_dict, target / BACKBONE_WEIGHTS_NAME, metadata={"format": "pt"})
    document = json.loads((target / CONFIG_NAME).read_text(encoding="utf-8"))
    document["model"]["backbone"]["weights"] = BACKBONE_WEIGHTS_NAME
    (target / CONFIG_NAME).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _fetch_descriptions(entry: dict, progress: bool) -> None:
    """Cache the class descriptions the checkpoint was trained with; a failure is a warning, not a lost download."""
    import sys

    from ..errors import EZCLIPError

    described_by = os.path.basename((entry.get("text") or {}).get("descriptions_source") or "")
    for class_set in class_sets_described_by(described_by) if described_by else ():
        try:
            class_descriptions(class_set, progress=progress)
        except (EZCLIPError, OSError, ValueError) as exc:
            print(
                f"ezclip-zoo: warning: the class descriptions of {class_set!r} could not be fetched ({exc}); "
                "classify with text='names', or run the download again",
                file=sys.stderr,
            )


def _write_folder(source: Path, target: Path, files: BackboneFiles | None) -> Path:
    from ..modeling.backbone import load_state_dict_file

    target.mkdir(parents=True, exist_ok=True)
    tokenizer_files = [f"{TOKENIZER_DIR}/{name}" for name in bundled_tokenizer_files(source / CONFIG_NAME)]
    if tokenizer_files:
        (target / TOKENIZER_DIR).mkdir(exist_ok=True)
    for name in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, BACKBONE_WEIGHTS_NAME, *tokenizer_files):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)  # copies the content of Hub-cache links
    if files is None:
        return target
    assert files.weights is not None  # a backbone not embedded in the folder is fetchable by name, weights included
    state_dict = load_state_dict_file(files.weights)
    write_safetensors(
        {k: v.contiguous() for k, v in state_dict.items()}, target / BACKBONE_WEIGHTS_NAME, metadata={"format": "pt"}
    )
    document = json.loads((target / CONFIG_NAME).read_text(encoding="utf-8"))
    backbone = dict(document["model"]["backbone"])
    if str(backbone.get("model") or "").startswith(HF_HUB_MODEL_PREFIX):
        # its architecture lives in a Hub config: write it down, so the folder needs no Hub at all (the resolved
        # activation, preprocessing and tokenizer stay; a format-1 config without quick_gelu meant QuickGELU)
        if "quick_gelu" not in backbone and document.get("format_version", 1) < 2:
            backbone["quick_gelu"] = True
        backbone = {k: v for k, v in backbone.items() if k not in ("model", "pretrained")}
        backbone["model_cfg"] = files.model_cfg
    backbone["weights"] = BACKBONE_WEIGHTS_NAME
    document["model"]["backbone"] = backbone
    (target / CONFIG_NAME).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target
