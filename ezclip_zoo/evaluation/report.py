"""The JSON evaluation report: results plus what produced them."""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["write_report"]


def write_report(path: str | os.PathLike, results: Mapping[str, Any], **meta: Any) -> Path:
    """Write ``{"results": results, "meta": {...}}`` as indented JSON (atomically) and return the path.

    ``meta`` records ezclip-zoo, torch and Python versions, the time, and any extra keys given (model, protocol,
    command line...).
    """
    from .._version import __version__

    document = {
        "results": dict(results),
        "meta": {
            "ezclip_zoo": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **meta,
        },
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
