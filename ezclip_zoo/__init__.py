"""ezclip-zoo: EZ-CLIP (efficient zero-shot video action recognition) as a model zoo over open_clip.

The public names below are imported on first use (PEP 562), so ``import ezclip_zoo`` does not import torch:
`ezclip_zoo.runtime` (ONNX Runtime inference of an exported model) works on a machine without PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from ._version import __version__

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .figures.overlay import save_overlay
    from .live.watcher import watch
    from .modeling.config import BackboneConfig, EZCLIPConfig
    from .modeling.losses import ezclip_loss, kl_contrastive_loss, motion_loss
    from .modeling.model import EZCLIP
    from .official.checkpoint import load_official_checkpoint
    from .saliency.maps import explain
    from .text.class_sets import class_descriptions, class_names, list_class_sets, register_class_set
    from .text.tokenizer import tokenize
    from .zoo.factory import create_model
    from .zoo.loading import load
    from .zoo.pretrained import get_pretrained_entry, list_pretrained, register_pretrained
    from .zoo.publishing import push_to_hub
    from .zoo.registry import get_model_config, list_models, register_model
    from .zoo.serialization import save_pretrained

__all__ = [
    "__version__",
    "EZCLIP",
    "BackboneConfig",
    "EZCLIPConfig",
    "class_descriptions",
    "class_names",
    "list_class_sets",
    "register_class_set",
    "create_model",
    "explain",
    "ezclip_loss",
    "get_model_config",
    "kl_contrastive_loss",
    "list_models",
    "list_pretrained",
    "get_pretrained_entry",
    "load",
    "push_to_hub",
    "register_pretrained",
    "load_official_checkpoint",
    "motion_loss",
    "register_model",
    "save_overlay",
    "save_pretrained",
    "tokenize",
    "watch",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".figures.overlay": ("save_overlay",),
        ".live.watcher": ("watch",),
        ".modeling.config": ("BackboneConfig", "EZCLIPConfig"),
        ".modeling.losses": ("ezclip_loss", "kl_contrastive_loss", "motion_loss"),
        ".modeling.model": ("EZCLIP",),
        ".official.checkpoint": ("load_official_checkpoint",),
        ".saliency.maps": ("explain",),
        ".text.class_sets": ("class_descriptions", "class_names", "list_class_sets", "register_class_set"),
        ".text.tokenizer": ("tokenize",),
        ".zoo.factory": ("create_model",),
        ".zoo.loading": ("load",),
        ".zoo.pretrained": ("get_pretrained_entry", "list_pretrained", "register_pretrained"),
        ".zoo.publishing": ("push_to_hub",),
        ".zoo.registry": ("get_model_config", "list_models", "register_model"),
        ".zoo.serialization": ("save_pretrained",),
    },
    submodules=(
        "choices",
        "cli",
        "data",
        "demo",
        "digest",
        "errors",
        "evaluation",
        "export",
        "fetch",
        "figures",
        "inference",
        "live",
        "localization",
        "modeling",
        "official",
        "paths",
        "precision",
        "runtime",
        "saliency",
        "search",
        "synthetic",
        "text",
        "train",
        "transforms",
        "video",
        "zoo",
    ),
)
