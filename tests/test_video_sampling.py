"""TSN frame sampling: the reference's rules, computed by hand."""

import pytest
import torch

from ezclip_zoo.video import sample_clip_indices, sample_frame_indices


@pytest.mark.parametrize(
    "total, num, expected",
    [
        # N > T: int(i * N / T + (N / T - 1) / 2)
        (16, 8, [0, 2, 4, 6, 8, 10, 12, 14]),  # segment length 2, offset 0.5
        (300, 8, [18, 55, 93, 130, 168, 205, 243, 280]),  # 37.5 per segment, offset 18.25
        (132, 8, [7, 24, 40, 57, 73, 90, 106, 123]),  # Big Buck Bunny: 16.5, offset 7.75
        (9, 8, [0, 1, 2, 3, 4, 5, 6, 7]),  # 1.125 per segment, offset 0.0625
        # N <= T: i * N // T (frames repeat)
        (8, 8, [0, 1, 2, 3, 4, 5, 6, 7]),
        (5, 8, [0, 0, 1, 1, 2, 3, 3, 4]),
        (1, 8, [0] * 8),
        # T = 1: the middle frame
        (10, 1, [5]),
    ],
)
def test_test_mode_matches_reference_rule(total, num, expected):
    assert sample_frame_indices(total, num, mode="test") == expected


def test_train_mode_takes_one_frame_per_segment():
    g = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(200):
        idx = sample_frame_indices(100, 8, mode="train", generator=g)
        ticks = [i * 100 // 8 for i in range(9)]
        assert all(ticks[i] <= idx[i] < ticks[i + 1] for i in range(8)), idx
        seen.update(idx)
    assert len(seen) == 100  # every frame is reachable


def test_train_mode_is_reproducible_and_random():
    a = sample_frame_indices(1000, 8, mode="train", generator=torch.Generator().manual_seed(1))
    b = sample_frame_indices(1000, 8, mode="train", generator=torch.Generator().manual_seed(1))
    c = sample_frame_indices(1000, 8, mode="train", generator=torch.Generator().manual_seed(2))
    assert a == b and a != c


def test_train_mode_short_video_uses_every_frame_once_plus_repeats():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        idx = sample_frame_indices(5, 8, mode="train", generator=g)
        assert idx == sorted(idx) and set(idx) == {0, 1, 2, 3, 4} and len(idx) == 8


def test_clip_indices_one_clip_is_the_test_rule_and_several_spread_over_segments():
    assert sample_clip_indices(300, 8, 1) == [sample_frame_indices(300, 8)]
    clips = sample_clip_indices(80, 8, 2)  # segments of 10 frames: positions 2.0 and 7.0 in each
    assert clips == [[2, 12, 22, 32, 42, 52, 62, 72], [7, 17, 27, 37, 47, 57, 67, 77]]
    assert sample_clip_indices(4, 8, 3) == [sample_frame_indices(4, 8)] * 3  # too short for distinct views


@pytest.mark.parametrize("args", [(0, 8), (10, 0), (-1, 8), (10, 8.0), (True, 8)])
def test_bad_counts_raise(args):
    with pytest.raises(ValueError):
        sample_frame_indices(*args)


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        sample_frame_indices(10, 8, mode="val")
