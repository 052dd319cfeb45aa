"""Build the frozen open_clip CLIP that an EZ-CLIP model sits on, from a `BackboneConfig` and local files.

Nothing here downloads: the zoo layer (`ezclip_zoo.zoo.backbone_weights`) turns tags and Hub names into files.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import warnings
from typing import Any

import open_clip
import torch
from torch import nn

from ..errors import UnsafeFileError
from .config import BackboneConfig
from .families import backbone_family
from .state_dict import check_state_dict

__all__ = ["backbone_model_cfg", "build_backbone", "load_state_dict_file", "resolve_backbone"]

_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode", "fill_color")


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


def resolve_backbone(
    cfg: BackboneConfig, model_cfg: dict | None = None, preprocess_cfg: dict | None = None
) -> BackboneConfig:
    """``cfg`` with its None fields (activation, preprocessing, tokenizer) filled from open_clip's records.

    Idempotent and offline: it reads open_clip's model configs and pretrained-tag table, never a file.

    Args:
        cfg: the backbone.
        model_cfg: its open_clip model config when ``cfg`` names it only indirectly (an ``hf-hub:`` model).
        preprocess_cfg: the ``preprocess_cfg`` that came with such a config (``open_clip_config.json``).

    Raises:
        ValueError: ``quick_gelu`` contradicts what the pretrained tag was trained with.
    """
    model_cfg = model_cfg if model_cfg is not None else backbone_model_cfg(cfg)
    tag = _tag_cfg(cfg)
    trained_quick = _trained_quick_gelu(tag, model_cfg)
    if cfg.quick_gelu is not None and tag and cfg.quick_gelu != trained_quick:
        raise ValueError(
            f"backbone {cfg.model!r} / {cfg.pretrained!r} was trained with {'QuickGELU' if trained_quick else 'GELU'}"
            f", but its config says quick_gelu={cfg.quick_gelu}: a model built so gives wrong embeddings. Drop "
            "quick_gelu from the config (it follows the tag) or pick the tag that matches"
        )
    text_cfg = model_cfg.get("text_cfg", {})
    return dataclasses.replace(
        cfg,
        quick_gelu=trained_quick if cfg.quick_gelu is None else cfg.quick_gelu,
        preprocess=_preprocess(cfg, tag, model_cfg, preprocess_cfg),
        tokenizer=cfg.tokenizer or text_cfg.get("hf_tokenizer_name") or "clip",
        tokenizer_kwargs=(
            cfg.tokenizer_kwargs if cfg.tokenizer_kwargs is not None else dict(text_cfg.get("tokenizer_kwargs") or {})
        ),
    )


def _trained_quick_gelu(tag: dict, model_cfg: dict) -> bool:
    """What the weights were trained with: the tag's record, else the model config's, else GELU."""
    return bool(tag.get("quick_gelu", model_cfg.get("quick_gelu", False)))


def _tag_cfg(cfg: BackboneConfig) -> dict[str, Any]:
    """open_clip's record of the pretrained tag ({} for none, or for a tag open_clip does not know: the weights
    then come from a local file, and fetching them by that tag fails with its own error)."""
    if cfg.model is None or cfg.pretrained is None:
        return {}
    return dict(open_clip.get_pretrained_cfg(cfg.model, cfg.pretrained) or {})


def _preprocess(cfg: BackboneConfig, tag: dict, model_cfg: dict, preprocess_cfg: dict | None) -> dict[str, Any]:
    """The preprocessing the weights were trained with, every key filled: the config's own ``preprocess``, else the
    tag's, else the model config's, else open_clip's defaults."""
    unknown = sorted(set(cfg.preprocess or {}) - set(_PREPROCESS_KEYS))
    if unknown:
        raise ValueError(f"backbone preprocess keys {unknown} are unknown; known: {list(_PREPROCESS_KEYS)}")
    source = {**(model_cfg.get("preprocess_cfg") or {}), **(preprocess_cfg or {})}
    source.update({k: v for k, v in tag.items() if k in _PREPROCESS_KEYS})
    source.update(cfg.preprocess or {})
    defaults = dataclasses.asdict(open_clip.transform.PreprocessCfg())
    if not source and (model_cfg.get("custom_text") or model_cfg.get("vision_cfg", {}).get("timm_model_name")):
        warnings.warn(
            f"backbone {cfg.name!r} records no preprocessing (no pretrained tag, no preprocess_cfg): using open_clip's "
            "defaults (OpenAI CLIP's mean/std, bicubic, shortest-side resize). Set the backbone's `preprocess` "
            "(mean, std, interpolation, resize_mode) to what its weights were trained with",
            stacklevel=3,
        )
    out = {k: source.get(k, defaults[k]) for k in _PREPROCESS_KEYS}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def build_backbone(
    cfg: BackboneConfig,
    *,
    weights: str | os.PathLike | None = None,
    model_cfg: dict | None = None,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Build the open_clip model a config describes: a ``CLIP`` or a ``CustomTextCLIP`` (timm vision trunk).

    Args:
        cfg: the backbone description.
        weights: a local CLIP state-dict file to load (``.safetensors`` or ``torch.save``); None leaves open_clip's
            random initialisation.
        model_cfg: the open_clip model config when ``cfg`` names it only indirectly (an ``hf-hub:`` model);
            default: from ``cfg``.
        device: where to build it; ``"meta"`` builds shapes only, allocating nothing.

    Returns:
        The model in float32, eval mode, every parameter frozen.

    Raises:
        UnsupportedBackboneError: a model EZ-CLIP cannot sit on (see `ezclip_zoo.modeling.families`).
    """
    model_cfg = copy.deepcopy(model_cfg) if model_cfg is not None else backbone_model_cfg(cfg)
    _refuse_before_building(cfg, model_cfg)
    custom_text = bool(model_cfg.pop("custom_text", False))
    model_cfg.pop("preprocess_cfg", None)  # open_clip keeps it beside the architecture; the constructors refuse it
    quick_gelu = cfg.quick_gelu if cfg.quick_gelu is not None else _trained_quick_gelu(_tag_cfg(cfg), model_cfg)
    model_cfg["quick_gelu"] = bool(quick_gelu)
    device = torch.device(device) if device is not None else torch.device("cpu")
    with device:
        if cfg.timm_kwargs:
            clip = _sized_timm_clip(cfg, model_cfg, custom_text)
        else:
            clip = (open_clip.CustomTextCLIP if custom_text else open_clip.CLIP)(**model_cfg)
    backbone_family(clip)
    if weights is not None and device.type != "meta":
        _load_strict(clip, load_state_dict_file(weights), os.fspath(weights))
    clip.requires_grad_(False)
    return clip.eval()


def _refuse_before_building(cfg: BackboneConfig, model_cfg: dict) -> None:
    """Refuse configs whose models are no family (see `backbone_family`) before building them: a CoCa config is no
    CLIP's, and a Hugging Face text tower would be downloaded on construction."""
    problem = ""
    if "multimodal_cfg" in model_cfg:
        problem = "it is a CoCa model (a captioning decoder over the towers), not a CLIP"
    elif (model_cfg.get("text_cfg") or {}).get("hf_model_name"):
        problem = f"its text tower is the Hugging Face model {model_cfg['text_cfg']['hf_model_name']!r}"
    if problem:
        from ..errors import UnsupportedBackboneError
        from .families import FAMILIES

        works = "; ".join(f"{name}: {what}" for name, what in FAMILIES.items())
        raise UnsupportedBackboneError(f"unsupported backbone {cfg.name!r} for EZ-CLIP: {problem}. It runs on: {works}")


def _sized_timm_clip(cfg: BackboneConfig, model_cfg: dict, custom_text: bool) -> nn.Module:
    """A ``CustomTextCLIP`` whose timm trunk is built with ``cfg.timm_kwargs`` (its sizes).

    open_clip's ``TimmModel`` passes timm no size arguments, so the CLIP is built around a one-pixel stand-in vision
    tower, and the timm tower is built with the trunk's named layout at meta size (allocating nothing) and given a
    trunk that ``timm.create_model`` builds with the configured sizes.
    """
    import timm
    from open_clip.timm_model import TimmModel

    vision = dict(model_cfg["vision_cfg"])
    name = vision.get("timm_model_name")
    if not custom_text or not name:
        raise ValueError(
            f"backbone {cfg.name!r}: timm_kwargs size a timm vision trunk, but its config has "
            f"{'no timm_model_name' if not name else 'no custom_text (timm trunks sit in a CustomTextCLIP)'}"
        )
    proj, pool = vision.get("timm_proj", "linear"), vision.get("timm_pool", "avg")
    if proj in ("linear", "mlp") or pool in ("abs_attn", "rot_attn"):
        raise ValueError(
            f"backbone {cfg.name!r}: timm_kwargs need a trunk whose own head pools and projects (timm_proj 'none' "
            f"or null, a timm pool such as 'map' or 'token'), got timm_proj={proj!r}, timm_pool={pool!r}"
        )
    image_size = vision.get("image_size", 224)
    stand_in = {"image_size": 1, "patch_size": 1, "width": 64, "layers": 0, "head_width": 64}
    clip = open_clip.CustomTextCLIP(**{**model_cfg, "vision_cfg": stand_in})
    with torch.device("meta"):
        tower = TimmModel(name, model_cfg["embed_dim"], image_size=image_size, pool=pool, proj=proj)
    kwargs = {"img_size": image_size, **(cfg.timm_kwargs or {})}
    if vision.get("timm_drop_path") is not None:
        kwargs.setdefault("drop_path_rate", vision["timm_drop_path"])
    tower.trunk = timm.create_model(
        name, pretrained=False, num_classes=0 if proj == "none" else model_cfg["embed_dim"], global_pool=pool, **kwargs
    )
    if tuple(tower.trunk.patch_embed.img_size) != tuple(tower.image_size):
        raise ValueError(
            f"backbone {cfg.name!r}: timm_kwargs img_size {tower.trunk.patch_embed.img_size} differs from vision_cfg "
            f"image_size {image_size}; give them the same value"
        )
    clip.visual = tower
    return clip


def _load_strict(clip: nn.Module, state_dict: dict, source: str) -> None:
    state_dict = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state_dict.items()}
    check_state_dict(
        clip.state_dict(), state_dict, what=f"backbone weights {source!r} do not fit the configured architecture"
    )
    clip.load_state_dict({k: v.float() for k, v in state_dict.items()})
