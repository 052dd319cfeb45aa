"""ezclip-zoo: EZ-CLIP (efficient zero-shot video action recognition) as a model zoo over open_clip."""

from . import _moved
from .zoo import architectures as _architectures  # noqa: F401  (registers the built-in architectures)
from .modeling.config import BackboneConfig, EZCLIPConfig
from .zoo.factory import build_model, create_model
from .zoo.loading import load, push_to_hub
from .modeling.losses import ezclip_loss, kl_contrastive_loss, motion_loss
from .modeling.model import EZCLIP
from .official.checkpoint import load_official_checkpoint
from .zoo.pretrained import get_pretrained_entry, list_pretrained, register_pretrained
from .zoo.registry import get_model_config, list_models, register_model
from .text.tokenizer import tokenize

_moved.install()
__version__ = "0.1.0"

__all__ = [
    "EZCLIP",
    "BackboneConfig",
    "EZCLIPConfig",
    "build_model",
    "create_model",
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
    "tokenize",
]
