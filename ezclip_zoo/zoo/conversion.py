"""Convert an authors' EZ-CLIP checkpoint into a zoo folder, optionally verifying its frozen CLIP.

The authors' file holds the whole model (about 300 MB). The zoo folder keeps only prompts and adapters and points
at the frozen CLIP by open_clip name + pretrained tag when the architecture is a known OpenAI CLIP; otherwise
(e.g. the tiny parity fixture) the CLIP is stored beside as ``backbone.safetensors``. ``verify_backbone`` checks
that the CLIP inside the authors' file equals the one the folder will be paired with, to float16 precision, so a
converted checkpoint never silently runs over the wrong CLIP.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import open_clip
import torch

from ..digest import sha256_file
from ..modeling.backbone import build_backbone, load_state_dict_file
from ..modeling.config import BackboneConfig
from ..official.checkpoint import assemble, official_config, read_official_state_dict, split_official_state_dict
from .backbone_weights import backbone_files
from .pretrained import get_pretrained_entry, is_pretrained
from .serialization import WEIGHTS_NAME, save_pretrained

__all__ = ["ConversionReport", "convert_official", "match_openai_backbone", "compare_backbones", "architecture_key"]

# open_clip architectures with OpenAI weights that the authors' code can have been trained on
_OPENAI_ARCHITECTURES = ("ViT-B-32", "ViT-B-16", "ViT-L-14", "ViT-L-14-336")
PathLike = str | os.PathLike


@dataclass
class ConversionReport:
    """What `convert_official` wrote."""

    folder: Path
    sha256: str
    size_bytes: int
    backbone: str
    verified: bool | None
    max_abs_diff: float | None = None
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"wrote {self.folder}",
            f"backbone: {self.backbone}",
            f"verified backbone: {'yes' if self.verified else 'no (pass --verify-backbone)'}"
            + (f", max |diff| {self.max_abs_diff:.3g}" if self.max_abs_diff is not None else ""),
            f"{WEIGHTS_NAME}: {self.size_bytes} bytes",
            f"sha256: {self.sha256}",
            'put into checkpoints.json: "sha256", "size_bytes" and the Hub "revision" after pushing',
        ]
        return "\n".join(lines + self.notes)


def _describe(checkpoint: PathLike | Mapping) -> str:
    return "the checkpoint" if isinstance(checkpoint, Mapping) else repr(os.fspath(checkpoint))


def match_openai_backbone(model_cfg: dict) -> str | None:
    """The open_clip name whose architecture equals ``model_cfg`` among OpenAI CLIP ViTs, or None."""

    target = architecture_key(model_cfg)
    for name in _OPENAI_ARCHITECTURES:
        cfg = open_clip.get_model_config(name)
        if cfg is not None and architecture_key(cfg) == target:
            return name
    return None


def architecture_key(cfg: dict) -> tuple:
    """The shape-defining numbers of an open_clip ViT CLIP config."""
    v, t = cfg["vision_cfg"], cfg["text_cfg"]
    heads = v["width"] // v.get("head_width", 64)
    return (
        cfg["embed_dim"],
        v["image_size"],
        v["patch_size"],
        v["width"],
        v["layers"],
        heads,
        t.get("context_length", 77),
        t.get("vocab_size", 49408),
        t["width"],
        t.get("heads", 8),
        t["layers"],
    )


def compare_backbones(
    reference: dict[str, torch.Tensor], candidate: dict[str, torch.Tensor], *, rtol: float = 2**-10, atol: float = 1e-5
) -> tuple[float, list[str]]:
    """Compare two CLIP state dicts to float16 precision; returns (max abs diff, descriptions of mismatches)."""
    problems = []
    worst = 0.0
    for key in sorted(set(reference) | set(candidate)):
        if key not in candidate or key not in reference:
            problems.append(f"{key}: only in {'the checkpoint' if key in reference else 'the backbone'}")
            continue
        a, b = reference[key].float(), candidate[key].float()
        if a.shape != b.shape:
            problems.append(f"{key}: shape {tuple(a.shape)} vs {tuple(b.shape)}")
            continue
        diff = (a - b).abs()
        worst = max(worst, float(diff.max()) if diff.numel() else 0.0)
        if not torch.all(diff <= atol + rtol * b.abs()):
            problems.append(f"{key}: max |diff| {float(diff.max()):.3g}")
    return worst, problems


def _target_backbone(backbone: str, model_cfg: dict) -> tuple[BackboneConfig, str]:
    """The backbone a converted folder names (``"auto"``, ``"embed"`` or ``"MODEL:TAG"``), and its description."""
    if backbone == "auto":
        arch = match_openai_backbone(model_cfg)
        backbone = f"{arch}:openai" if arch else "embed"
    if backbone == "embed":
        return BackboneConfig(model_cfg=model_cfg, quick_gelu=True), "embedded (backbone.safetensors)"
    model_name, _, tag = backbone.partition(":")
    if not tag:
        raise ValueError(f"backbone must be 'auto', 'embed' or 'MODEL:TAG' (e.g. 'ViT-B-16:openai'), got {backbone!r}")
    named_cfg = open_clip.get_model_config(model_name)
    if named_cfg is None or architecture_key(named_cfg) != architecture_key(model_cfg):
        raise ValueError(
            f"open_clip {model_name!r} does not have the architecture of this checkpoint ({model_cfg}); use "
            "backbone='auto' or 'embed'"
        )
    return BackboneConfig(model=model_name, pretrained=tag, quick_gelu=True), f"open_clip {model_name} / {tag}"


def _verify_backbone(
    clip_sd: dict,
    target: BackboneConfig,
    description: str,
    backbone_weights: PathLike | None,
    cache_dir: str | None,
    checkpoint: str,
) -> float | None:
    """Raise unless the checkpoint's CLIP equals the one the folder will be paired with; returns the max |diff|
    (None for an embedded backbone without ``backbone_weights``: it is its own reference)."""
    if backbone_weights is not None:
        reference, source = load_state_dict_file(backbone_weights), os.fspath(backbone_weights)
    elif target.model is None:
        return None
    else:
        files = backbone_files(target, cache_dir=cache_dir)
        reference = build_backbone(target, weights=files.weights, model_cfg=files.model_cfg).state_dict()
        source = description
    worst, problems = compare_backbones(clip_sd, reference)
    if problems:
        raise ValueError(
            f"the CLIP inside {checkpoint} differs from the backbone {source!r} beyond float16 precision "
            f"({len(problems)} tensors), e.g. {problems[:8]}. The folder would run over the wrong CLIP; convert "
            "with backbone='embed' (--embed-backbone) to keep the checkpoint's own CLIP"
        )
    return worst


def convert_official(
    checkpoint: PathLike | Mapping[str, torch.Tensor],
    out_dir: PathLike,
    *,
    name: str | None = None,
    backbone: str = "auto",
    verify_backbone: bool = False,
    backbone_weights: PathLike | None = None,
    cache_dir: str | None = None,
) -> ConversionReport:
    """Convert an authors' checkpoint into a zoo folder.

    Args:
        checkpoint: the authors' ``torch.save`` file (read with ``weights_only=True``), or its state dict.
        out_dir: the zoo folder to write.
        name: checkpoint name; when it is in ``checkpoints.json`` its card data (metrics, text mode) is used.
        backbone: ``"auto"`` (a known OpenAI CLIP architecture -> its open_clip name with tag ``openai``, anything
            else -> embedded), ``"embed"`` (store the CLIP beside, always self-contained) or ``"MODEL:TAG"``.
        verify_backbone: compare the CLIP inside the checkpoint with the backbone the folder will use; raise on
            any difference beyond float16 precision.
        backbone_weights: local CLIP state dict used as the reference of the verification instead of the tag
            download (air-gapped machines).
        cache_dir: download cache for the backbone when verifying by tag.

    Returns:
        A `ConversionReport` with the sha256 and size of the weights file.
    """
    sd = dict(checkpoint) if isinstance(checkpoint, Mapping) else read_official_state_dict(checkpoint)
    entry = get_pretrained_entry(name) if name and is_pretrained(name) else None
    config = official_config(sd, name=name)
    if entry is not None:
        config = config.replace(extra={"text": entry["text"]})
    clip_sd, ez_sd = split_official_state_dict(sd)

    model_cfg = config.backbone.model_cfg
    assert model_cfg is not None  # official_config describes the checkpoint's CLIP by its open_clip config
    target, description = _target_backbone(backbone, model_cfg)
    verified, worst = None, None
    if verify_backbone:
        worst = _verify_backbone(clip_sd, target, description, backbone_weights, cache_dir, _describe(checkpoint))
        verified = True

    # built on the backbone the folder will name (same architecture, checked above); nothing is downloaded
    model = assemble(config.replace(backbone=target), clip_sd, ez_sd)
    card: dict[str, Any] = dict(entry or {}, name=name) if entry else ({"name": name} if name else {})
    if entry is not None:
        card["load_id"] = name
    folder = save_pretrained(model, out_dir, card=card)
    weights = Path(folder) / WEIGHTS_NAME
    return ConversionReport(
        folder=Path(folder),
        sha256=sha256_file(weights),
        size_bytes=weights.stat().st_size,
        backbone=description,
        verified=verified,
        max_abs_diff=worst,
    )
