"""`create_model`: build a registered EZ-CLIP architecture, optionally with its pretrained CLIP backbone."""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

import torch

from ..errors import LicenceWarning
from ..modeling.backbone import build_backbone, resolve_backbone
from ..modeling.config import EZCLIPConfig
from ..modeling.model import EZCLIP
from .architectures import PERMISSIVE_LICENCES
from .backbone_weights import backbone_files, is_fetchable_by_name, tokenizer_folder
from .registry import get_model_config

__all__ = ["create_model", "build_model"]


def build_model(
    config: EZCLIPConfig,
    *,
    pretrained_backbone: bool = True,
    device: str | torch.device | None = None,
    cache_dir: str | None = None,
    backbone_weights: str | os.PathLike | None = None,
    local_files_only: bool | None = None,
) -> EZCLIP:
    """Build an `EZCLIP` from a config: backbone (with or without its weights) plus fresh
    prompts/adapters.

    Args:
        config: the model.
        pretrained_backbone: fetch and load the backbone weights the config names (open_clip tag, ``hf-hub:``
            model or local file); False keeps open_clip's random initialisation.
        device: where to build; ``"meta"`` allocates nothing.
        cache_dir: Hugging Face cache folder for backbone downloads.
        backbone_weights: a local CLIP state-dict file used instead of what the config names (the config is
            left as it is, so a saved model still names its backbone by tag).
        local_files_only: never download.

    Without ``pretrained_backbone`` the config forgets its weights source, so that it describes the model it
    belongs to: `EZCLIP.save_pretrained` then stores the random backbone instead of pointing at CLIP weights the
    model never had.
    """
    load_weights = pretrained_backbone and torch.device(device or "cpu").type != "meta"
    files = backbone_files(
        config.backbone,
        weights=load_weights and backbone_weights is None,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
    )
    weights = backbone_weights if (load_weights and backbone_weights is not None) else files.weights
    if backbone_weights is not None and not os.path.isfile(backbone_weights):
        raise FileNotFoundError(f"backbone_weights {os.fspath(backbone_weights)!r} does not exist")
    licence = config.extra.get("licence")
    if load_weights and licence and licence not in PERMISSIVE_LICENCES:
        warnings.warn(
            f"the backbone weights of {config.name or config.backbone.name} ({config.extra.get('backbone_weights')}) "
            f"are under {licence}, not MIT or Apache-2.0: check that your use is allowed",
            LicenceWarning,
            stacklevel=3,
        )
    # the activation, preprocessing and tokenizer, from open_clip's records, written into the config it keeps
    resolved = resolve_backbone(config.backbone, files.model_cfg, files.preprocess_cfg)
    if load_weights and resolved.tokenizer:  # a Hub tokenizer is fetched with the weights, into the same caches
        folder = tokenizer_folder(resolved.tokenizer, cache_dir=cache_dir, local_files_only=local_files_only)
        resolved = dataclasses.replace(resolved, tokenizer=folder)
    config = config.replace(backbone=resolved)
    clip = build_backbone(resolved, weights=weights, model_cfg=files.model_cfg, device=device)
    if not pretrained_backbone and (is_fetchable_by_name(resolved) or resolved.weights):
        described = files.model_cfg is not None  # an hf-hub: model: keep the architecture, not the name
        config = config.replace(
            backbone=dataclasses.replace(
                resolved,
                model=None if described else resolved.model,
                model_cfg=files.model_cfg if described else resolved.model_cfg,
                pretrained=None,
                weights=None,
            )
        )
    return EZCLIP(config, clip).eval()


def create_model(
    name: str,
    pretrained_backbone: bool = True,
    *,
    device: str | torch.device | None = None,
    cache_dir: str | None = None,
    **overrides: Any,
) -> EZCLIP:
    """Build a registered architecture with freshly initialised prompts and adapters: the explicit builder.

    The prompts and adapters are drawn from torch's global RNG, as any ``nn.Module`` is (seed it with
    ``torch.manual_seed``). `ezclip_zoo.load` takes architecture names too, seeded by its own ``seed=``.

    Args:
        name: a name from `list_models`, e.g. ``"ezclip-vit-b16"``.
        pretrained_backbone: load the frozen CLIP's pretrained weights (open_clip tag ``openai``, downloaded
            through the Hugging Face Hub cache); False keeps open_clip's random initialisation.
        device: where to build; ``"meta"`` allocates nothing (for shapes and parameter counts).
        cache_dir: download cache for the backbone weights.
        **overrides: `EZCLIPConfig` fields to change, e.g. ``num_frames=16``, ``temporal_prompts=False``,
            ``backbone={"weights": "/path/clip.safetensors"}``.

    Returns:
        An `EZCLIP` in eval mode, float32.
    """
    config = get_model_config(name)
    if overrides:
        config = config.replace(**overrides)
    return build_model(config, pretrained_backbone=pretrained_backbone, device=device, cache_dir=cache_dir)
