"""Where ezclip-zoo keeps what it downloads or computes: one cache root for every kind of cached file."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``$EZCLIP_ZOO_CACHE``, else ``$XDG_CACHE_HOME/ezclip_zoo``, else ``~/.cache/ezclip_zoo`` (not created)."""
    env = os.environ.get("EZCLIP_ZOO_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ezclip_zoo"
