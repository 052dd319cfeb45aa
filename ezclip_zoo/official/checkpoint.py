"""Read the EZ-CLIP authors' checkpoints (``torch.save`` of their whole model) into an `EZCLIP`.

Their state dict uses OpenAI CLIP key names, which open_clip's ``CLIP`` shares, plus the EZ-CLIP extras:
``visual.transformer.T_prompt_embeddings`` [layers, T, width], ``*.resblocks.N.Adapter.D_fc{1,2}.*`` in both
towers and an all-zero ``visual.temporal_embedding``. Linear weights are stored in float16; they are upcast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import torch

from ..modeling.backbone import build_backbone, torch_load_weights_only
from ..modeling.config import BackboneConfig, EZCLIPConfig
from ..modeling.model import EZCLIP
from ..modeling.state_dict import check_state_dict

__all__ = [
    "assemble",
    "load_official_checkpoint",
    "read_official_state_dict",
    "official_config",
    "split_official_state_dict",
]

_PROMPT_KEY = "visual.transformer.T_prompt_embeddings"
_TEMPORAL_EMBEDDING_KEY = "visual.temporal_embedding"
_ADAPTER_RE = re.compile(r"^(visual\.)?transformer\.resblocks\.(\d+)\.Adapter\.D_fc([12])\.(weight|bias)$")
_BUFFERS = ("input_resolution", "context_length", "vocab_size")  # non-tensor entries of OpenAI's JIT state dicts


def read_official_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The model state dict of an authors' checkpoint, read with ``torch.load(weights_only=True)``.

    Accepts their training checkpoint ``{'epoch', 'model_state_dict', 'optimizer_state_dict'}`` or a bare state
    dict, and strips a DataParallel ``module.`` prefix.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    obj = torch_load_weights_only(path)  # one sentence for a refused pickle or a file that is no checkpoint
    if isinstance(obj, Mapping) and "model_state_dict" in obj:
        obj = obj["model_state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path!r} holds no model state dict (expected a dict with 'model_state_dict')")
    return {k[len("module.") :] if k.startswith("module.") else k: v for k, v in obj.items()}


def official_config(state_dict: Mapping[str, torch.Tensor], **overrides: Any) -> EZCLIPConfig:
    """Infer the architecture of an authors' state dict from its tensor shapes.

    Widths, depths and the embedding size come from the weights, heads are ``width // 64`` (the reference rule),
    the frame count from the prompt tensor (else from ``visual.temporal_embedding``), the adapter ratio from the
    adapter bottleneck. The backbone is described by an open_clip config dict (``model_cfg``).
    """
    sd = state_dict
    required = [
        "visual.conv1.weight",
        "visual.positional_embedding",
        "visual.proj",
        "text_projection",
        "positional_embedding",
        "token_embedding.weight",
        "ln_final.weight",
    ]
    missing = [k for k in required if k not in sd]
    if missing:
        raise ValueError(f"not an EZ-CLIP/CLIP ViT state dict: missing keys {missing}")
    vision_width, _, patch, _ = sd["visual.conv1.weight"].shape
    vision_layers = len({k.split(".")[3] for k in sd if k.startswith("visual.transformer.resblocks.")})
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    text_width = sd["ln_final.weight"].shape[0]
    text_layers = len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks.")})
    model_cfg = {
        "embed_dim": int(sd["text_projection"].shape[1]),
        "vision_cfg": {
            "image_size": int(patch * grid),
            "patch_size": int(patch),
            "width": int(vision_width),
            "layers": vision_layers,
            "head_width": 64,
        },
        "text_cfg": {
            "context_length": int(sd["positional_embedding"].shape[0]),
            "vocab_size": int(sd["token_embedding.weight"].shape[0]),
            "width": int(text_width),
            "heads": max(1, int(text_width) // 64),
            "layers": text_layers,
        },
    }
    if _PROMPT_KEY in sd:
        num_frames, temporal_prompts = int(sd[_PROMPT_KEY].shape[1]), True
    elif _TEMPORAL_EMBEDDING_KEY in sd:
        num_frames, temporal_prompts = int(sd[_TEMPORAL_EMBEDDING_KEY].shape[1]), False
    else:
        raise ValueError(f"cannot tell the frame count: neither {_PROMPT_KEY} nor {_TEMPORAL_EMBEDDING_KEY} present")
    fc1 = sd.get("visual.transformer.resblocks.0.Adapter.D_fc1.weight")
    if fc1 is None:
        raise ValueError("no adapters found (visual.transformer.resblocks.0.Adapter.D_fc1.weight); not EZ-CLIP")
    fields: dict[str, Any] = {
        "backbone": BackboneConfig(model_cfg=model_cfg, quick_gelu=True),
        "num_frames": num_frames,
        "adapter_ratio": fc1.shape[0] / vision_width,
        "temporal_prompts": temporal_prompts,
    }
    fields.update(overrides)
    return EZCLIPConfig(**fields)


def split_official_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Split an authors' state dict into (open_clip CLIP state dict, EZ-CLIP trainable state dict in our names).

    All tensors are upcast to float32. A non-zero ``visual.temporal_embedding`` is refused: EZ-CLIP never trains
    it, so such a file is not an EZ-CLIP checkpoint.
    """
    clip_sd: dict[str, torch.Tensor] = {}
    ez_sd: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key in _BUFFERS:
            continue
        value = value.float()
        if key == _PROMPT_KEY:
            ez_sd["video_tower.prompts.embeddings"] = value
        elif key == _TEMPORAL_EMBEDDING_KEY:
            if value.abs().max() != 0:
                raise ValueError(
                    f"{key} is not zero; EZ-CLIP keeps it zero and ezclip-zoo does not model it. This checkpoint "
                    "comes from another method or a modified training run"
                )
        elif (m := _ADAPTER_RE.match(key)) is not None:
            tower = "video_tower" if m.group(1) else "text_tower"
            ez_sd[f"{tower}.adapters.{m.group(2)}.fc{m.group(3)}.{m.group(4)}"] = value
        else:
            clip_sd[key] = value
    return clip_sd, ez_sd


def load_official_checkpoint(
    path_or_state_dict: str | os.PathLike | Mapping[str, torch.Tensor],
    *,
    device: str | torch.device | None = None,
    **overrides: Any,
) -> EZCLIP:
    """Load an authors' EZ-CLIP checkpoint as an `EZCLIP` (float32, eval mode).

    Args:
        path_or_state_dict: the authors' ``torch.save`` file (read with ``weights_only=True``) or its state dict.
        device: where to put the model.
        **overrides: `EZCLIPConfig` fields to set (e.g. ``name``, ``drop_path`` for fine-tuning).

    Raises:
        ValueError: listing missing and unexpected keys when the file does not match the inferred architecture.
    """
    if isinstance(path_or_state_dict, Mapping):
        sd = dict(path_or_state_dict)
    else:
        sd = read_official_state_dict(path_or_state_dict)
    config = official_config(sd, **overrides)
    model = assemble(config, *split_official_state_dict(sd))
    return model.to(device=device).eval() if device is not None else model.eval()


def assemble(config: EZCLIPConfig, clip_sd: Mapping[str, torch.Tensor], ez_sd: Mapping[str, torch.Tensor]) -> EZCLIP:
    """An `EZCLIP` of ``config`` holding the given CLIP and prompt/adapter tensors, both checked strictly.

    ``config.backbone`` must describe the architecture by ``model_cfg`` or an open_clip name (nothing is fetched).
    """
    clip = build_backbone(config.backbone)
    described = config.backbone.model_cfg or config.backbone.name
    check_state_dict(clip.state_dict(), clip_sd, what=f"checkpoint does not match the inferred {described} CLIP")
    clip.load_state_dict(dict(clip_sd))
    model = EZCLIP(config, clip)
    model.load_trainable_state_dict(ez_sd)
    return model
