"""Which frames to decode: the cost model behind ``strategy="auto"`` (sequential decoding vs seeking to
keyframes), in frames decoded, from the keyframe positions alone."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

__all__ = [
    "SEEK_COST_FRAMES",
    "KEYFRAME_COST_FRAMES",
    "choose_strategy",
    "plan_seeks",
    "sequential_cost",
    "seek_cost",
]


# The cost model of the "auto" strategy, in units of one inter (P/B) frame decoded. Decoding a keyframe costs
# KEYFRAME_COST_FRAMES units; a seek adds SEEK_COST_FRAMES (demuxer seek, decoder flush, refilling the B-frame
# reorder delay). Measured with benchmarks/bench_decode.py (README "Video decoding"): a keyframe costs 3-12 inter
# frames on real footage (more on synthetic), a seek about 3 beyond its keyframe; these are round middle values.
KEYFRAME_COST_FRAMES = 8.0
SEEK_COST_FRAMES = 3.0


def _keyframes_in(keyframes: Sequence[int], lo: int, hi: int) -> int:
    """Number of keyframes k with lo <= k <= hi."""
    return bisect.bisect_right(keyframes, hi) - bisect.bisect_left(keyframes, lo)


def sequential_cost(
    wanted: Sequence[int], keyframes: Sequence[int] = (0,), keyframe_frames: float = KEYFRAME_COST_FRAMES
) -> float:
    """Cost (inter-frame decodes) of reading from the start to the last of ``wanted``."""
    last = max(wanted)
    return float(last + 1) + (keyframe_frames - 1) * _keyframes_in(keyframes, 0, last)


def seek_cost(
    wanted: Sequence[int],
    keyframes: Sequence[int],
    seek_frames: float = SEEK_COST_FRAMES,
    keyframe_frames: float = KEYFRAME_COST_FRAMES,
) -> float:
    """Cost (inter-frame decodes) of seeking to the keyframe before each wanted frame and decoding from there.

    Between two wanted frames the reader keeps decoding instead of seeking when that is cheaper, exactly as
    `PyAVReader` does (`plan_seeks`).
    """
    return sum(cost for _, cost in plan_seeks(wanted, keyframes, seek_frames, keyframe_frames))


def plan_seeks(
    wanted: Sequence[int],
    keyframes: Sequence[int],
    seek_frames: float = SEEK_COST_FRAMES,
    keyframe_frames: float = KEYFRAME_COST_FRAMES,
) -> list[tuple[bool, float]]:
    """For each distinct wanted frame in order: (seek to its keyframe first?, cost of reaching it)."""
    keyframes = list(keyframes) or [0]
    plan, pos = [], -1
    for w in sorted(set(wanted)):
        kf = keyframes[max(0, bisect.bisect_right(keyframes, w) - 1)]
        via_seek = seek_frames + keyframe_frames + (w - kf)
        if pos >= 0:
            onward = (w - pos) + (keyframe_frames - 1) * _keyframes_in(keyframes, pos + 1, w)
            if onward <= via_seek:
                plan.append((False, onward))
                pos = w
                continue
        plan.append((True, via_seek))
        pos = w
    return plan


def choose_strategy(
    wanted: Sequence[int],
    keyframes: Sequence[int],
    seek_frames: float = SEEK_COST_FRAMES,
    keyframe_frames: float = KEYFRAME_COST_FRAMES,
) -> str:
    """``"seek"`` when `seek_cost` is below `sequential_cost`, else ``"sequential"``."""
    seek = seek_cost(wanted, keyframes, seek_frames, keyframe_frames)
    return "seek" if seek < sequential_cost(wanted, keyframes, keyframe_frames) else "sequential"
