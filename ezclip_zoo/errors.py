"""Exception types of ezclip-zoo. Each also derives from the builtin a caller would naturally catch."""

from __future__ import annotations

__all__ = ["EZCLIPError", "WeightsUnavailableError"]


class EZCLIPError(Exception):
    """Base class of every error ezclip-zoo raises on purpose."""


class WeightsUnavailableError(EZCLIPError, FileNotFoundError):
    """Weights could not be found locally nor downloaded (offline, no network, or not published)."""
