"""TSN-style frame sampling: which T of a video's N frames make a clip.

The rules are those of the reference code (ActionCLIP's ``Video`` dataset, which EZ-CLIP inherits, with frames
counted from 0 instead of its 1-based JPEG names):

* test: the N frames are cut into T equal segments and the frame at each segment's centre is taken,
  ``int(i * N / T + (N / T - 1) / 2)``;
* train: one random frame inside each segment ``[i * N // T, (i + 1) * N // T)``;
* videos with N <= T frames repeat frames: ``i * N // T`` at test, every frame once plus random repeats (sorted)
  at train.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported only to draw random frames (train mode): test sampling needs none
    import torch

__all__ = ["sample_frame_indices", "sample_clip_indices", "SAMPLING_MODES"]

SAMPLING_MODES = ("test", "train")


def _check(total_frames: int, num_frames: int, mode: str) -> None:
    if not isinstance(total_frames, int) or isinstance(total_frames, bool) or total_frames < 1:
        raise ValueError(f"total_frames must be a positive int (the video's frame count), got {total_frames!r}")
    if not isinstance(num_frames, int) or isinstance(num_frames, bool) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    if mode not in SAMPLING_MODES:
        raise ValueError(f"mode must be one of {SAMPLING_MODES}, got {mode!r}")


def _randint(high: int, generator: torch.Generator | None) -> int:
    import torch

    return int(torch.randint(high, (1,), generator=generator))


def sample_frame_indices(
    total_frames: int,
    num_frames: int,
    *,
    mode: str = "test",
    generator: torch.Generator | None = None,
) -> list[int]:
    """Pick ``num_frames`` frame indices (0-based, non-decreasing) out of ``total_frames``, TSN style.

    Args:
        total_frames: N, frames in the video (>= 1).
        num_frames: T, frames per clip (the model's ``num_frames``).
        mode: ``"test"`` takes segment centres (deterministic), ``"train"`` a random frame per segment.
        generator: random source for ``mode="train"`` (torch's global one when None).

    Returns:
        T indices in ``[0, total_frames)``; indices repeat when the video has fewer than T frames.
    """
    _check(total_frames, num_frames, mode)
    n, t = total_frames, num_frames
    if mode == "test":
        if t == 1:
            return [n // 2]
        if n <= t:
            return [i * n // t for i in range(t)]
        offset = (n / t - 1) / 2.0
        return [int(i * n / t + offset) for i in range(t)]
    if n <= t:
        extra = [_randint(n, generator) for _ in range(t - n)]
        return sorted(list(range(n)) + extra)
    ticks = [i * n // t for i in range(t + 1)]
    return [ticks[i] + _randint(ticks[i + 1] - ticks[i], generator) for i in range(t)]


def sample_clip_indices(total_frames: int, num_frames: int, num_clips: int = 1) -> list[list[int]]:
    """Test-time indices of ``num_clips`` temporal views of a video, for multi-view testing.

    Clip ``c`` takes, in each of the T segments of length ``L = N / T``, the frame at
    ``int(i * L + (c + 0.5) * L / num_clips - 0.5)``: the clips spread evenly over each segment, and one clip is
    exactly `sample_frame_indices` in test mode.

    Returns:
        ``num_clips`` lists of T indices.
    """
    _check(total_frames, num_frames, "test")
    if not isinstance(num_clips, int) or isinstance(num_clips, bool) or num_clips < 1:
        raise ValueError(f"num_clips must be a positive int, got {num_clips!r}")
    if num_clips == 1 or total_frames <= num_frames:
        # one view is the reference rule; too-short videos have only one way to fill T frames
        return [sample_frame_indices(total_frames, num_frames, mode="test")] * num_clips
    n, t = total_frames, num_frames
    seg = n / t
    return [
        [min(n - 1, max(0, int(i * seg + (c + 0.5) * seg / num_clips - 0.5))) for i in range(t)]
        for c in range(num_clips)
    ]
