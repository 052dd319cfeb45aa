"""Where checkpoint entries are kept: ``checkpoints.json`` as shipped, and the entries registered in this process.

Only storage: `ezclip_zoo.zoo.pretrained` validates and looks entries up. It sits below the architecture registry
so that both registries can refuse a name the other already holds (one name, one model).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["builtin_entries", "USER_ENTRIES", "checkpoint_names"]

USER_ENTRIES: dict[str, dict[str, Any]] = {}  # name -> entry, added by `register_pretrained`


@functools.lru_cache(maxsize=1)
def builtin_entries() -> dict[str, dict[str, Any]]:
    """The entries of the package's ``checkpoints.json`` as written (not validated: `pretrained` does that)."""
    text = resources.files("ezclip_zoo").joinpath("checkpoints.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("format_version") != 1:
        raise ValueError(f"checkpoints.json format_version {data.get('format_version')!r} is not supported")
    return data["checkpoints"]


def checkpoint_names() -> set[str]:
    """Every checkpoint name, shipped or registered."""
    return set(builtin_entries()) | set(USER_ENTRIES)
