"""Old module paths of ezclip-zoo 0.1 that moved in the layered layout, kept importable with a warning.

``import ezclip_zoo.hub`` (say) returns the module now at ``ezclip_zoo.zoo.loading``, so code written against the
old paths keeps working; the public names of ``ezclip_zoo`` itself never moved.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from typing import Union

__all__ = ["MOVED_MODULES", "install"]

MOVED_MODULES: dict[str, Union[str, tuple[str, ...]]] = {
    "ezclip_zoo.config": "ezclip_zoo.modeling.config",
    "ezclip_zoo.backbone": "ezclip_zoo.modeling.backbone",
    "ezclip_zoo.model": "ezclip_zoo.modeling.model",
    "ezclip_zoo.losses": "ezclip_zoo.modeling.losses",
    "ezclip_zoo.layers": "ezclip_zoo.modeling.layers",
    "ezclip_zoo.towers": "ezclip_zoo.modeling.towers",
    "ezclip_zoo.registry": "ezclip_zoo.zoo.registry",
    "ezclip_zoo.architectures": "ezclip_zoo.zoo.architectures",
    "ezclip_zoo.pretrained": "ezclip_zoo.zoo.pretrained",
    "ezclip_zoo.factory": "ezclip_zoo.zoo.factory",
    "ezclip_zoo.serialization": "ezclip_zoo.zoo.serialization",
    "ezclip_zoo.model_card": "ezclip_zoo.zoo.model_card",
    "ezclip_zoo.hub": ("ezclip_zoo.zoo.loading", "ezclip_zoo.zoo.publishing"),  # it held load and push_to_hub
    "ezclip_zoo.convert": "ezclip_zoo.zoo.conversion",
    "ezclip_zoo.tokenizer": "ezclip_zoo.text.tokenizer",
    "ezclip_zoo.augment": "ezclip_zoo.transforms.train",
    "ezclip_zoo.inference.labels": "ezclip_zoo.text.labels",
    "ezclip_zoo.inference.text_cache": "ezclip_zoo.text.cache",
    "ezclip_zoo.data.texts": "ezclip_zoo.text.labels",
    "ezclip_zoo.evaluation.scoring": "ezclip_zoo.inference.scoring",
    "ezclip_zoo.data.names": "ezclip_zoo.text.names",
    "ezclip_zoo.data.sampling": "ezclip_zoo.data.splits",
    "ezclip_zoo.data.sampler": "ezclip_zoo.data.distributed_sampler",
    "ezclip_zoo.video.sampling": "ezclip_zoo.video.frame_indices",
}


class _Loader(importlib.abc.Loader):
    def __init__(self, target: Union[str, tuple[str, ...]]) -> None:
        self.target = target

    def create_module(self, spec):
        if isinstance(self.target, str):
            module = importlib.import_module(self.target)
            self._real_spec = module.__spec__  # importlib overwrites it with the alias's spec: put it back below
            return module
        merged = types.ModuleType(spec.name)  # a module split in two: the public names of both
        for name in self.target:
            module = importlib.import_module(name)
            merged.__dict__.update({k: getattr(module, k) for k in getattr(module, "__all__", ())})
        return merged

    def exec_module(self, module) -> None:  # already executed under its new name
        real = getattr(self, "_real_spec", None)
        if real is not None:
            module.__spec__ = real


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED_MODULES.get(fullname)
        if new is None:  # a submodule of a moved package (ezclip_zoo.towers.video -> ezclip_zoo.modeling.towers.video)
            parent = next((k for k in MOVED_MODULES if fullname.startswith(k + ".")), None)
            if parent is None or not isinstance(MOVED_MODULES[parent], str):
                return None
            new = MOVED_MODULES[parent] + fullname[len(parent):]
        where = new if isinstance(new, str) else " and ".join(new)
        warnings.warn(f"{fullname} moved to {where}; import it from there (the old path goes away in 0.3)",
                      DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _Loader(new))


def install() -> None:
    """Make the old paths importable (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())  # before an editable install's finder, which may know old paths
