"""`create_model`: build a registered EZ-CLIP architecture, optionally with its pretrained CLIP backbone."""

from __future__ import annotations

from typing import Any, Optional, Union

import torch

from .backbone import build_backbone
from .config import EZCLIPConfig
from .model import EZCLIP
from .registry import get_model_config

__all__ = ["create_model", "build_model"]


def build_model(
    config: EZCLIPConfig,
    *,
    pretrained_backbone: bool = True,
    device: Optional[Union[str, torch.device]] = None,
    cache_dir: Optional[str] = None,
) -> EZCLIP:
    """Build an `EZCLIP` from a config: backbone (with or without its weights) plus fresh prompts/adapters.

    Without ``pretrained_backbone`` the config forgets its weights source, so that it describes the model it
    belongs to: `EZCLIP.save_pretrained` then stores the random backbone instead of pointing at CLIP weights the
    model never had.
    """
    clip = build_backbone(config.backbone, pretrained=pretrained_backbone, device=device, cache_dir=cache_dir)
    if not pretrained_backbone and (config.backbone.pretrained or config.backbone.weights):
        config = config.replace(backbone={"pretrained": None, "weights": None})
    return EZCLIP(config, clip).eval()


def create_model(
    name: str,
    pretrained_backbone: bool = True,
    *,
    device: Optional[Union[str, torch.device]] = None,
    cache_dir: Optional[str] = None,
    **overrides: Any,
) -> EZCLIP:
    """Create a registered architecture with freshly initialised prompts and adapters.

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
