"""ezclip-zoo: EZ-CLIP (efficient zero-shot video action recognition) as a model zoo over open_clip.

The public names below are imported on first use (PEP 562), so ``import ezclip_zoo`` does not import torch:
`ezclip_zoo.runtime` (ONNX Runtime inference of an exported model) works on a machine without PyTorch.
"""

from ._lazy import lazy_attributes
from ._version import __version__

_NAMES = {
    "EZCLIP": ".modeling.model",
    "BackboneConfig": ".modeling.config",
    "EZCLIPConfig": ".modeling.config",
    "ezclip_loss": ".modeling.losses",
    "kl_contrastive_loss": ".modeling.losses",
    "motion_loss": ".modeling.losses",
    "load_official_checkpoint": ".official.checkpoint",
    "class_descriptions": ".text.class_sets",
    "class_names": ".text.class_sets",
    "list_class_sets": ".text.class_sets",
    "register_class_set": ".text.class_sets",
    "tokenize": ".text.tokenizer",
    "create_model": ".zoo.factory",
    "load": ".zoo.loading",
    "get_pretrained_entry": ".zoo.pretrained",
    "list_pretrained": ".zoo.pretrained",
    "register_pretrained": ".zoo.pretrained",
    "push_to_hub": ".zoo.publishing",
    "get_model_config": ".zoo.registry",
    "list_models": ".zoo.registry",
    "register_model": ".zoo.registry",
    "save_pretrained": ".zoo.serialization",
    "explain": ".saliency",
    "save_overlay": ".figures.overlay",
}
_SUBMODULES = (
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
)

__getattr__, __dir__ = lazy_attributes(__name__, _NAMES, _SUBMODULES)

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
    "tokenize",
]
