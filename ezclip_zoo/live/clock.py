"""Stream time of live frames: seconds since the first frame, from the stream's own timestamps.

A live stream's timestamps start anywhere, wrap (MPEG-TS counts a 90 kHz clock in 33 bits: it wraps every 26.5
hours) and restart (a publisher that reconnects, a concatenated stream). `StreamClock` turns each frame's
timestamp into one increasing stream time: a wrap is unwrapped, a jump the wall clock does not explain (backwards,
or forwards by more than ``max_jump_s``) starts a new epoch that continues from the last frame by the wall-clock
time that passed, and frames without timestamps take the wall clock itself (scaled by the pace).
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["StreamClock", "MPEGTS_WRAP"]

MPEGTS_WRAP = 1 << 33  # MPEG-TS timestamps count 33 bits of a 90 kHz clock


class StreamClock:
    """Timestamps (``pts`` in ``time_base`` units) and arrival times (``time.monotonic()`` seconds) in, stream time
    (seconds, the first frame at 0, increasing) out.

    Args:
        max_jump_s: a forward jump of the timestamps larger than the wall-clock time that passed plus this is taken
            as a restart, not as a gap (seconds).
        pace: how fast stream time runs against the wall clock for sources without timestamps (1 = real time).
    """

    def __init__(self, max_jump_s: float = 5.0, pace: float = 1.0) -> None:
        self.max_jump_s, self.pace = max_jump_s, pace
        self.epochs = 0  # restarts seen (reconnects, timestamp resets)
        self.wraps = 0  # 33-bit wraps unwrapped
        self._origin: float | None = None  # the stream time an epoch's first timestamp maps to, minus that time
        self._last_raw: float | None = None
        self._last_time = 0.0
        self._last_arrival: float | None = None
        self._wall_origin: float | None = None
        self._unwrap = 0.0  # seconds added to this epoch's timestamps for the wraps seen

    def restart(self) -> None:
        """The source reconnected: the next timestamp starts a new epoch (stream time keeps increasing)."""
        self._origin, self._last_raw, self._unwrap = None, None, 0.0

    def time(self, pts: int | None, time_base: Fraction | None, arrival: float) -> float:
        """Stream time (seconds) of a frame with timestamp ``pts`` (None: none) that arrived at ``arrival``."""
        if pts is None or time_base is None:
            return self._advance(self._wall_time(arrival), arrival)
        raw = float(pts * time_base) + self._unwrap
        wrapped = self._last_raw is not None and raw - self._last_raw < -MPEGTS_WRAP / 180000
        if wrapped and time_base == Fraction(1, 90000):  # over half the 33-bit range backwards: the counter wrapped
            self.wraps += 1
            self._unwrap += MPEGTS_WRAP / 90000
            raw += MPEGTS_WRAP / 90000
        if self._origin is not None and self._last_raw is not None and self._last_arrival is not None:
            step = raw - self._last_raw
            allowed = (arrival - self._last_arrival) * self.pace + self.max_jump_s
            if step < -1e-6 or step > allowed:  # a reset, not a gap the wall clock explains
                self._origin = None
        if self._origin is None:
            start = 0.0 if self._last_arrival is None else self._last_time + self._gap(arrival)
            if self._last_arrival is not None:
                self.epochs += 1
            self._origin = start - raw
        self._last_raw = raw
        return self._advance(raw + self._origin, arrival)

    def _gap(self, arrival: float) -> float:
        """Stream time between the last frame and a frame of a new epoch arriving at ``arrival``: the wall-clock
        time that passed, at least a millisecond (times keep increasing)."""
        assert self._last_arrival is not None
        return max((arrival - self._last_arrival) * self.pace, 1e-3)

    def _wall_time(self, arrival: float) -> float:
        if self._wall_origin is None:
            self._wall_origin = arrival - (self._last_time / self.pace if self._last_arrival is not None else 0.0)
        return (arrival - self._wall_origin) * self.pace

    def _advance(self, t: float, arrival: float) -> float:
        if self._last_arrival is not None and t <= self._last_time:
            t = self._last_time + 1e-6  # equal timestamps (a damaged stream): keep the order
        self._last_time, self._last_arrival = t, arrival
        return t
