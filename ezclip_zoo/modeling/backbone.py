"""Build the frozen open_clip CLIP that an EZ-CLIP model sits on, from a `BackboneConfig` and local files.

Nothing here downloads: the zoo layer (`ezclip_zoo.zoo.backbone_weights`) turns tags and Hub names into files.
"""

from __future__ import annotations

import copy
import importlib.metadata
import os
import re

import open_clip
import torch
from torch import nn

from ..errors import UnsafeFileError
from .config import BackboneConfig
from .state_dict import check_state_dict

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


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` or a ``torch.save`` file (never unpickling arbitrary objects).

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: the file needs arbitrary unpickling (refused: it could run code).
        ValueError: not a state dict.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except Exception as exc:  # safetensors has its own error types for truncated or garbled files
            raise ValueError(
                f"{path} is not a readable safetensors file ({exc}): damaged or incomplete; re-download or re-save it"
            ) from exc
    obj = torch_load_weights_only(path)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path!r} does not hold a state dict (got {type(obj).__name__})")
    return obj


def torch_load_weights_only(path: str | os.PathLike) -> object:
    """``torch.load(path, weights_only=True)`` on CPU, with its refusals said in one sentence.

    Raises:
        UnsafeFileError: the pickle names objects other than tensors and plain containers.
        ValueError: the file is not a torch checkpoint at all (an HTML page, a truncated download...).
    """
    import pickle

    try:
        return torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only load failed" in str(exc).lower() or "unsupported global" in str(exc).lower():
            raise UnsafeFileError(
                f"{os.fspath(path)}: not a plain tensor file: refused, it could run code "
                "(torch.load with weights_only=True found objects other than tensors)"
            ) from None
        raise ValueError(f"{os.fspath(path)} is not a torch checkpoint ({_first_line(exc)})") from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(
            f"{os.fspath(path)} is not a readable torch checkpoint ({_first_line(exc)}): damaged or incomplete"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


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
            attn = block.attn
            if not isinstance(attn, nn.MultiheadAttention) or attn.in_proj_weight is None:
                problems.append(
                    f"its attention is a {type(attn).__name__}, not the nn.MultiheadAttention with packed q/k/v "
                    f"that the towers read: open_clip {_installed('open_clip_torch')} changed its blocks; install a "
                    f"supported one (open_clip_torch{_supported('open_clip_torch')})"
                )
                break
    if problems:
        raise ValueError("unsupported backbone for EZ-CLIP: " + "; ".join(problems))


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _supported(distribution: str) -> str:
    """The version range ezclip-zoo's own metadata declares for ``distribution`` (pyproject.toml is the source)."""
    try:
        for requirement in importlib.metadata.requires("ezclip-zoo") or ():
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([^;]*)", requirement)
            if match and _canonical(match.group(1)) == _canonical(distribution) and ";" not in requirement:
                return match.group(2).strip()
    except importlib.metadata.PackageNotFoundError:
        pass
    return " (see ezclip-zoo's pyproject.toml)"


def build_backbone(
    cfg: BackboneConfig,
    *,
    weights: str | os.PathLike | None = None,
    model_cfg: dict | None = None,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Build the open_clip ``CLIP`` a config describes.

    Args:
        cfg: the backbone description.
        weights: a local CLIP state-dict file to load (``.safetensors`` or ``torch.save``); None leaves open_clip's
            random initialisation.
        model_cfg: the open_clip model config when ``cfg`` names it only indirectly (an ``hf-hub:`` model);
            default: from ``cfg``.
        device: where to build it; ``"meta"`` builds shapes only, allocating nothing.

    Returns:
        The CLIP in float32, eval mode, every parameter frozen.
    """
    model_cfg = copy.deepcopy(model_cfg) if model_cfg is not None else backbone_model_cfg(cfg)
    if model_cfg.pop("custom_text", False):
        raise ValueError(f"backbone {cfg.name!r} has a custom text tower; EZ-CLIP needs the OpenAI CLIP layout")
    model_cfg["quick_gelu"] = cfg.quick_gelu
    device = torch.device(device) if device is not None else torch.device("cpu")
    with device:
        clip = open_clip.CLIP(**model_cfg)
    check_supported_backbone(clip)
    if weights is not None and device.type != "meta":
        _load_strict(clip, load_state_dict_file(weights), os.fspath(weights))
    clip.requires_grad_(False)
    return clip.eval()


def _load_strict(clip: nn.Module, state_dict: dict, source: str) -> None:
    state_dict = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state_dict.items()}
    check_state_dict(
        clip.state_dict(), state_dict, what=f"backbone weights {source!r} do not fit the configured architecture"
    )
    clip.load_state_dict({k: v.float() for k, v in state_dict.items()})
