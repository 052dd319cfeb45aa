"""How a live source that drops or stalls is reconnected: `ReconnectPolicy` (stall time, back-off limits)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ReconnectPolicy"]


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isnan(value):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ReconnectPolicy:
    """When a live source counts as lost and how it is opened again.

    A source that delivers no frame for ``stall_s`` seconds (or whose connection drops) is closed and opened again,
    the first attempt after ``backoff_s`` seconds and each later one after twice the previous wait, at most
    ``backoff_max_s``; the wait is back to ``backoff_s`` once a frame arrives. `watch` gives up when no frame has
    arrived for its ``timeout_s`` (``math.inf``: never).

    Attributes:
        stall_s: seconds without a frame on an open connection before it is dropped and reopened (set it above
            an HLS playlist's segment duration, and above a camera's frame interval).
        backoff_s: seconds before the first reconnection attempt.
        backoff_max_s: the longest wait between attempts, seconds.
    """

    stall_s: float = 2.0
    backoff_s: float = 0.25
    backoff_max_s: float = 4.0

    def __post_init__(self) -> None:
        _positive("stall_s", self.stall_s)
        _positive("backoff_s", self.backoff_s)
        _positive("backoff_max_s", self.backoff_max_s)
        if self.backoff_max_s < self.backoff_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s}) must be at least backoff_s ({self.backoff_s}): it caps the "
                "doubling waits"
            )

    def waits(self) -> list[float]:
        """The first waits between attempts, seconds (until the cap): ``[0.25, 0.5, 1, 2, 4]`` by default."""
        out, wait = [self.backoff_s], self.backoff_s
        while wait < self.backoff_max_s:
            wait = min(wait * 2, self.backoff_max_s)
            out.append(wait)
        return out
