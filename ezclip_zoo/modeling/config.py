"""Plain-data configuration of an EZ-CLIP model: the backbone it sits on and its EZ-CLIP hyper-parameters.

A config round-trips through a JSON-able dict (`to_dict` / `from_dict`), which is what the registry stores and
what a saved checkpoint's ``config.json`` holds.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["BackboneConfig", "EZCLIPConfig", "CONFIG_FORMAT_VERSION"]

# Bumped whenever the meaning of a stored config changes; loaders refuse configs from a newer format.
# 2: the backbone records its activation, preprocessing and tokenizer (`BackboneConfig.quick_gelu` no longer
#    defaults to True: a format-1 config without it meant OpenAI's QuickGELU, and reads so).
CONFIG_FORMAT_VERSION = 2


@dataclass
class BackboneConfig:
    """Which frozen CLIP the EZ-CLIP parts sit on.

    Exactly one of ``model`` (an open_clip built-in name such as ``"ViT-B-16"`` or ``"PE-Core-B-16"``) or
    ``model_cfg`` (an open_clip model config dict: ``embed_dim``, ``vision_cfg``, ``text_cfg``, ``custom_text``)
    names the architecture. Weights come from ``pretrained`` (an open_clip pretrained tag such as ``"openai"``, only
    with ``model``) or ``weights`` (a local CLIP state-dict file, ``.safetensors`` or a ``torch.save`` file read
    with ``weights_only=True``).

    The fields left None are filled from open_clip's own records of the model and its pretrained tag by
    `ezclip_zoo.modeling.backbone.resolve_backbone` when a model is built, and stored filled in, so a saved
    ``config.json`` says what the model uses:

    Attributes:
        quick_gelu: the text tower (and an open_clip ViT) uses QuickGELU (OpenAI's CLIPs and some retrainings of
            them) rather than GELU. None: what the pretrained tag records (open_clip's ``quick_gelu``), else the
            model config's ``quick_gelu``, else False. A value contradicting the tag is refused.
        timm_kwargs: keyword arguments for ``timm.create_model`` of a timm vision trunk (``vision_cfg``'s
            ``timm_model_name``), e.g. ``{"depth": 2, "embed_dim": 64, "num_heads": 2, "img_size": 32,
            "patch_size": 8}``: the trunk's sizes, which open_clip's config cannot carry. None: the named trunk as
            timm defines it.
        preprocess: test-time preprocessing, open_clip ``PreprocessCfg`` keys ``mean``, ``std``,
            ``interpolation``, ``resize_mode`` (``fill_color`` optional). None: the tag's, else the model config's
            ``preprocess_cfg``, else open_clip's defaults (OpenAI's), with a warning for non-OpenAI layouts.
        tokenizer: ``"clip"`` (CLIP's BPE, open_clip's ``SimpleTokenizer``) or a Hugging Face tokenizer: a Hub id
            such as ``"timm/ViT-B-16-SigLIP2"`` or a local folder holding ``tokenizer.json``. None: the model
            config's ``hf_tokenizer_name``, else ``"clip"``.
        tokenizer_kwargs: open_clip tokenizer options (``clean``, ``strip_sep_token``...). None: the model
            config's ``tokenizer_kwargs``.
    """

    model: str | None = None
    model_cfg: dict | None = None
    pretrained: str | None = None
    weights: str | None = None
    quick_gelu: bool | None = None
    timm_kwargs: dict | None = None
    preprocess: dict | None = None
    tokenizer: str | None = None
    tokenizer_kwargs: dict | None = None

    def __post_init__(self) -> None:
        if (self.model is None) == (self.model_cfg is None):
            raise ValueError(
                "BackboneConfig needs exactly one of `model` (an open_clip model name such as 'ViT-B-16') "
                f"or `model_cfg` (an open_clip config dict); got model={self.model!r}, "
                f"model_cfg={'set' if self.model_cfg is not None else None}"
            )
        if self.pretrained is not None and self.model is None:
            raise ValueError(
                "BackboneConfig.pretrained (an open_clip tag) needs `model`; use `weights` with `model_cfg`"
            )

    @property
    def name(self) -> str:
        """A short human-readable name of the backbone architecture."""
        return self.model if self.model is not None else "custom"


@dataclass
class EZCLIPConfig:
    """Hyper-parameters of an EZ-CLIP model.

    Attributes:
        backbone: the frozen CLIP.
        num_frames: frames per clip T; the temporal prompts hold one vector per frame position and block, so a
            model only accepts clips of exactly this many frames.
        adapter_ratio: adapter bottleneck width as a fraction of the tower width (768 -> 192 for ViT-B).
        prompt_dropout: dropout on the learnable prompt vectors at train time.
        drop_path: largest stochastic-depth rate; block i of each tower uses ``linspace(0, drop_path, depth)[i]``,
            also as its attention-probability dropout, as the reference implementation does.
        temporal_prompts: False gives the paper's "base model" (adapters only, frames encoded independently).
        logit_scale: multiplier of the cosine similarities in `EZCLIP.forward` (the reference evaluates with 100).
        name: registry or checkpoint name, informational.
    """

    backbone: BackboneConfig
    num_frames: int = 8
    adapter_ratio: float = 0.25
    prompt_dropout: float = 0.1
    drop_path: float = 0.1
    temporal_prompts: bool = True
    logit_scale: float = 100.0
    name: str | None = None
    extra: dict = field(default_factory=dict)  # free-form metadata (text mode, dataset, ...), kept on round trips

    def __post_init__(self) -> None:
        if isinstance(self.backbone, dict):
            self.backbone = BackboneConfig(**self.backbone)
        if not isinstance(self.num_frames, int) or self.num_frames < 1:
            raise ValueError(f"num_frames must be a positive int, got {self.num_frames!r}")
        if not 0.0 < self.adapter_ratio <= 4.0:
            raise ValueError(f"adapter_ratio must be in (0, 4], got {self.adapter_ratio!r}")
        for name in ("prompt_dropout", "drop_path"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict, including ``format_version``."""
        out = asdict(self)
        out["format_version"] = CONFIG_FORMAT_VERSION
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EZCLIPConfig:
        """Inverse of `to_dict`; refuses configs of a newer format and names unknown keys."""
        data = copy.deepcopy(dict(data))
        version = data.pop("format_version", CONFIG_FORMAT_VERSION)
        if not isinstance(version, int) or version > CONFIG_FORMAT_VERSION:
            raise ValueError(
                f"config format_version {version!r} is newer than this ezclip-zoo understands "
                f"({CONFIG_FORMAT_VERSION}); upgrade with `pip install -U ezclip-zoo`"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown EZ-CLIP config keys {unknown}; known keys are {sorted(known)}")
        if "backbone" not in data:
            raise ValueError("EZ-CLIP config has no 'backbone' entry")
        backbone = data.pop("backbone")
        if isinstance(backbone, dict):
            bknown = {f.name for f in fields(BackboneConfig)}
            bunknown = sorted(set(backbone) - bknown)
            if bunknown:
                raise ValueError(f"unknown backbone config keys {bunknown}; known keys are {sorted(bknown)}")
            if version < 2 and "quick_gelu" not in backbone:
                backbone = {**backbone, "quick_gelu": True}  # format 1's default: OpenAI's QuickGELU
            backbone = BackboneConfig(**backbone)
        return cls(backbone=backbone, **data)

    def replace(self, **overrides: Any) -> EZCLIPConfig:
        """A copy with some fields replaced; ``backbone`` may be a dict of backbone fields to update."""
        data = self.to_dict()
        if isinstance(overrides.get("backbone"), dict):
            new = overrides.pop("backbone")
            # naming a new architecture replaces the whole backbone rather than mixing two of them
            data["backbone"] = dict(new) if {"model", "model_cfg"} & set(new) else {**data["backbone"], **new}
        elif "backbone" in overrides:
            data["backbone"] = asdict(overrides.pop("backbone"))
        data.update(overrides)
        return EZCLIPConfig.from_dict(data)
