"""The composition root: fills the model's seams (`modeling.hooks`) with
the zoo's save/push/load and inference's classify and localize.

Imported once, on demand (``ezclip_zoo._wire``): by the first public name of ``ezclip_zoo`` used, or by a seam
that finds nothing registered yet (`ezclip_zoo._seams`). Importing ``ezclip_zoo`` alone stays cheap and torch-free.
"""

from __future__ import annotations

from .inference.classify import classify
from .inference.localize import localize
from .modeling import hooks
from .zoo.loading import load
from .zoo.publishing import push_to_hub
from .zoo.serialization import save_pretrained

__all__: list[str] = []

hooks.register(save=save_pretrained, push=push_to_hub, load=load, classify=classify, localize=localize)
