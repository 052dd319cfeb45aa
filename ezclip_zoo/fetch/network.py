"""Whether the network may be used, and whether a host answers at all: so that an air-gapped or offline
machine gets one clear error in seconds instead of a minute of retries inside huggingface_hub."""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlsplit

__all__ = ["offline", "unreachable_reason", "hub_endpoint"]

_TRUE = {"1", "on", "yes", "true"}
_PROBE_SECONDS = 3.0
_PROBE_TTL = 30.0  # a verdict is reused this long, so that one load probes once, not once per file
_probes: dict[tuple[str, int], tuple[float, str | None]] = {}


def offline(local_files_only: bool | None = None) -> bool:
    """True when the caller or ``HF_HUB_OFFLINE`` forbids network access (our downloads obey it as the Hub's do)."""
    if local_files_only:
        return True
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hub_endpoint() -> str:
    """The Hugging Face endpoint in use (``HF_ENDPOINT`` or huggingface.co)."""
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def _proxied(scheme: str) -> bool:
    names = (
        ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
        if scheme == "https"
        else ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    )
    return any(os.environ.get(n) for n in names)


def unreachable_reason(url: str) -> str | None:
    """None when a TCP connection to ``url``'s host opens within 3 s, else why not (DNS failure, refused...).

    Behind a proxy the direct probe says nothing, so it is skipped (None).
    """
    parts = urlsplit(url)
    scheme = parts.scheme or "https"
    if not parts.hostname or _proxied(scheme):
        return None
    key = (parts.hostname, parts.port or (443 if scheme == "https" else 80))
    now = time.monotonic()
    cached = _probes.get(key)
    if cached is not None and now - cached[0] < _PROBE_TTL:
        return cached[1]
    try:
        with socket.create_connection(key, timeout=_PROBE_SECONDS):
            reason = None
    except OSError as exc:
        reason = f"{key[0]}:{key[1]} cannot be reached ({exc.strerror or exc})"
    _probes[key] = (now, reason)
    return reason
