"""Build the frozen open_clip CLIP that an EZ-CLIP model sits on, from a `BackboneConfig`."""

from __future__ import annotations

import copy
import os
from typing import Optional, Union

import torch
from torch import nn

import open_clip
from open_clip.pretrained import download_pretrained, get_pretrained_cfg, list_pretrained_tags_by_model

from .config import BackboneConfig
from .errors import WeightsUnavailableError

__all__ = ["backbone_model_cfg", "build_backbone", "load_state_dict_file", "check_supported_backbone"]


def backbone_model_cfg(cfg: BackboneConfig) -> dict:
    """The open_clip model config dict (``embed_dim``, ``vision_cfg``, ``text_cfg``) of a backbone."""
    if cfg.model_cfg is not None:
        return copy.deepcopy(cfg.model_cfg)
    model_cfg = open_clip.get_model_config(cfg.model)
    if model_cfg is None:
        raise ValueError(
            f"open_clip has no model config named {cfg.model!r}; choose one of open_clip.list_models(), "
            "e.g. 'ViT-B-16', or describe the architecture with `model_cfg`"
        )
    return copy.deepcopy(model_cfg)


def load_state_dict_file(path: Union[str, os.PathLike]) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` or a ``torch.save`` file (never unpickling arbitrary objects)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path!r} does not hold a state dict (got {type(obj).__name__})")
    return obj


def check_supported_backbone(clip: nn.Module) -> None:
    """Raise if ``clip`` is not a plain ViT CLIP of the OpenAI layout that EZ-CLIP is defined on."""
    problems = []
    if not isinstance(clip, open_clip.CLIP):
        problems.append(f"model is a {type(clip).__name__}, not open_clip.CLIP (custom text towers are unsupported)")
    else:
        visual = clip.visual
        if not isinstance(visual, open_clip.transformer.VisionTransformer):
            problems.append(f"vision tower is a {type(visual).__name__}, not a ViT")
        else:
            if getattr(visual, "attn_pool", None) is not None or getattr(visual, "pool_type", "tok") != "tok":
                problems.append("vision tower pools otherwise than at the CLS token")
            if visual.proj is None:
                problems.append("vision tower has no projection")
        if clip.text_pool_type != "argmax":
            problems.append(f"text tower pools with {clip.text_pool_type!r}, not at the EOT (argmax) token")
        blocks = list(clip.transformer.resblocks)
        if isinstance(visual, open_clip.transformer.VisionTransformer):
            blocks += list(visual.transformer.resblocks)
        for block in blocks:
            if not isinstance(block, open_clip.transformer.ResidualAttentionBlock):
                problems.append(f"block type {type(block).__name__} is not a plain ResidualAttentionBlock")
                break
            if not isinstance(block.ls_1, nn.Identity) or not isinstance(block.ls_2, nn.Identity):
                problems.append("blocks use layer scale")
                break
    if problems:
        raise ValueError("unsupported backbone for EZ-CLIP: " + "; ".join(problems))


def build_backbone(
    cfg: BackboneConfig,
    *,
    pretrained: bool = True,
    device: Optional[Union[str, torch.device]] = None,
    cache_dir: Optional[str] = None,
) -> nn.Module:
    """Build the open_clip ``CLIP`` a config names.

    Args:
        cfg: the backbone description.
        pretrained: load the weights ``cfg`` names (its open_clip tag, or its local ``weights`` file); False
            leaves open_clip's random initialisation.
        device: where to build it; ``"meta"`` builds shapes only, allocating nothing.
        cache_dir: download cache for pretrained tags (open_clip / Hugging Face Hub cache otherwise).

    Returns:
        The CLIP in float32, eval mode, every parameter frozen.
    """
    model_cfg = backbone_model_cfg(cfg)
    if model_cfg.pop("custom_text", False):
        raise ValueError(f"backbone {cfg.name!r} has a custom text tower; EZ-CLIP needs the OpenAI CLIP layout")
    model_cfg["quick_gelu"] = cfg.quick_gelu
    device = torch.device(device) if device is not None else torch.device("cpu")
    with device:
        clip = open_clip.CLIP(**model_cfg)
    check_supported_backbone(clip)
    if pretrained and device.type != "meta":
        if cfg.weights is not None:
            _load_strict(clip, load_state_dict_file(cfg.weights), cfg.weights)
        elif cfg.pretrained is not None:
            tag_cfg = get_pretrained_cfg(cfg.model, cfg.pretrained)
            if not tag_cfg:
                raise ValueError(
                    f"open_clip has no pretrained tag {cfg.pretrained!r} for {cfg.model!r}; "
                    f"available: {list_pretrained_tags_by_model(cfg.model)}"
                )
            try:
                path = download_pretrained(tag_cfg, cache_dir=cache_dir)
            except Exception as exc:
                raise WeightsUnavailableError(
                    f"could not get the {cfg.model!r} CLIP weights (open_clip tag {cfg.pretrained!r}, Hub repo "
                    f"{tag_cfg.get('hf_hub', '?')!r}): {exc}\nFix: connect to the internet once (unset "
                    "HF_HUB_OFFLINE) so they are cached, pre-download them with `huggingface-cli download "
                    f"{tag_cfg.get('hf_hub', '').rstrip('/')}`, or pass a local CLIP state dict as "
                    "backbone={'weights': PATH} (`backbone_weights=PATH` in ezclip_zoo.load)"
                ) from exc
            open_clip.load_checkpoint(clip, path)
    clip.requires_grad_(False)
    return clip.eval()


def _load_strict(clip: nn.Module, state_dict: dict, source: str) -> None:
    state_dict = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state_dict.items()}
    expected = set(clip.state_dict())
    missing, unexpected = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
    if missing or unexpected:
        raise ValueError(
            f"backbone weights {source!r} do not fit the configured architecture: "
            f"missing keys {missing[:20]}{'...' if len(missing) > 20 else ''}, "
            f"unexpected keys {unexpected[:20]}{'...' if len(unexpected) > 20 else ''}"
        )
    clip.load_state_dict({k: v.float() for k, v in state_dict.items()})
