"""Registry of named EZ-CLIP architectures, each a plain config dict (see `architectures`)."""

from __future__ import annotations

import copy
import fnmatch
from typing import Any

from ..errors import UnknownNameError
from ..modeling.config import EZCLIPConfig
from .architectures import BUILTIN_ARCHITECTURES
from .checkpoint_table import checkpoint_names

__all__ = ["register_model", "list_models", "get_model_config", "is_model"]

_MODEL_CONFIGS: dict[str, dict[str, Any]] = {}


def register_model(name: str, config: dict[str, Any], *, overwrite: bool = False) -> None:
    """Register an architecture under ``name``; ``config`` is an `EZCLIPConfig` dict (validated now).

    A name that is already a checkpoint's is refused, since `ezclip_zoo.load` takes both kinds of name."""
    if name in _MODEL_CONFIGS and not overwrite:
        raise ValueError(f"model {name!r} is already registered; pass overwrite=True to replace it")
    if name in checkpoint_names():
        raise ValueError(
            f"{name!r} is already a checkpoint name (ezclip_zoo.list_pretrained()); ezclip_zoo.load "
            "could not tell them apart: choose another architecture name"
        )
    EZCLIPConfig.from_dict({**config, "name": name})  # fail at registration, not at first use
    _MODEL_CONFIGS[name] = copy.deepcopy({**config, "name": name})


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered architectures matching a glob ``pattern`` (e.g. ``"*b16*"``)."""
    return sorted(n for n in _MODEL_CONFIGS if fnmatch.fnmatchcase(n, pattern))


def is_model(name: str) -> bool:
    """Whether ``name`` is a registered architecture."""
    return name in _MODEL_CONFIGS


def get_model_config(name: str) -> EZCLIPConfig:
    """The config of a registered architecture (a fresh copy)."""
    if name not in _MODEL_CONFIGS:
        raise UnknownNameError.of("EZ-CLIP architecture", name, _MODEL_CONFIGS)
    return EZCLIPConfig.from_dict(_MODEL_CONFIGS[name])


for _name, _config in BUILTIN_ARCHITECTURES.items():
    register_model(_name, _config)
