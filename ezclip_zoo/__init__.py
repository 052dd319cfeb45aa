"""ezclip-zoo: EZ-CLIP (efficient zero-shot video action recognition) as a model zoo over open_clip."""

from . import _moved
from ._version import __version__
from .modeling.config import BackboneConfig, EZCLIPConfig
from .modeling.losses import ezclip_loss, kl_contrastive_loss, motion_loss
from .modeling.model import EZCLIP
from .saliency import explain, save_overlay
from .inference.classify import classify as _classify
from .inference.localize import localize as _localize
from .modeling import hooks as _hooks
from .official.checkpoint import load_official_checkpoint
from .text.class_sets import class_descriptions, class_names, list_class_sets, register_class_set
from .text.tokenizer import tokenize
from .zoo import architectures as _architectures  # noqa: F401  (registers the built-in architectures)
from .zoo.factory import build_model, create_model
from .zoo.loading import load
from .zoo.pretrained import get_pretrained_entry, list_pretrained, register_pretrained
from .zoo.publishing import push_to_hub
from .zoo.registry import get_model_config, list_models, register_model
from .zoo.serialization import save_pretrained

# the composition root: the model's save/push/from_pretrained, classify and localize run these layers' functions
_hooks.register(save=save_pretrained, push=push_to_hub, load=load, classify=_classify, localize=_localize)
_moved.install()

__all__ = [
    "__version__",
    "EZCLIP",
    "BackboneConfig",
    "EZCLIPConfig",
    "build_model",
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
