"""The model layer: `EZCLIP` over a frozen open_clip CLIP, its configs, towers, layers and losses.

It knows nothing of files, the Hub, video or datasets: other layers hand it tensors, texts and local weights.
"""

from .config import BackboneConfig, EZCLIPConfig
from .losses import ezclip_loss, kl_contrastive_loss, motion_loss
from .model import EZCLIP

__all__ = ["BackboneConfig", "EZCLIP", "EZCLIPConfig", "ezclip_loss", "kl_contrastive_loss", "motion_loss"]
