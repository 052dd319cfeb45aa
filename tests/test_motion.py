"""The motion benchmark's data: classes in time-reversed pairs that a frame-averaging model cannot separate."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ezclip_zoo.synthetic import MotionClips, MotionVideoConfig, partner_label, render_motion_clip, within_pair_accuracy

ROOT = Path(__file__).resolve().parents[1]
ALL_PAIRS = MotionVideoConfig(size=32, pairs=("horizontal", "vertical", "scale", "rotation"))


def test_reversed_member_is_the_forward_clip_played_backwards():
    for label in range(0, 8, 2):
        forward = render_motion_clip(ALL_PAIRS, label, np.random.default_rng(3))
        backward = render_motion_clip(ALL_PAIRS, partner_label(label), np.random.default_rng(3))
        assert np.array_equal(forward[::-1], backward)
        assert not np.array_equal(forward, backward)  # it moves
    assert ALL_PAIRS.classes[:4] == ["moving right", "moving left", "moving down", "moving up"]


def _centre(frame):
    ys, xs = np.nonzero(frame[..., 0] > 127)
    return xs.mean(), ys.mean(), len(xs)


def test_motions_go_where_their_names_say():
    rng = np.random.default_rng(0)
    for _ in range(5):
        right = render_motion_clip(ALL_PAIRS, 0, rng)
        assert _centre(right[-1])[0] > _centre(right[0])[0] + 5
        down = render_motion_clip(ALL_PAIRS, 2, rng)
        assert _centre(down[-1])[1] > _centre(down[0])[1] + 5
        grow = render_motion_clip(ALL_PAIRS, 4, rng)
        assert _centre(grow[-1])[2] > 2 * _centre(grow[0])[2]
        assert render_motion_clip(ALL_PAIRS, 6, rng).shape == (8, 32, 32, 3)


def test_dataset_is_reproducible_and_shows_both_orders():
    a = MotionClips(6, seed=1, config=ALL_PAIRS, both_orders=True)
    b = MotionClips(6, seed=1, config=ALL_PAIRS, both_orders=True)
    assert len(a) == 12 and a.labels == [0, 1, 1, 0, 2, 3, 3, 2, 4, 5, 5, 4]
    assert torch.equal(a[4]["frames"], b[4]["frames"])
    assert torch.equal(a[5]["frames"], a[4]["frames"].flip(0)) and a[5]["label"] == partner_label(a[4]["label"])
    assert not torch.equal(MotionClips(6, seed=2, config=ALL_PAIRS)[0]["frames"], a[0]["frames"])
    assert a[0]["frames"].shape == (8, 3, 32, 32) and a[0]["frames"].dtype == torch.float32


def test_frame_averaging_base_model_is_exactly_at_chance_within_pairs():
    from _helpers.models import randomize_trainable, tiny

    clips = MotionClips(8, seed=0, config=MotionVideoConfig(size=64), both_orders=True)
    frames = torch.stack([clips[i]["frames"] for i in range(len(clips))])
    labels = torch.tensor(clips.labels)
    base, ez = tiny(0, temporal_prompts=False), tiny(0)
    randomize_trainable(base, seed=4, scale=2.0)
    randomize_trainable(ez, seed=4, scale=2.0)
    with torch.no_grad():
        base_video = base.encode_video(frames)
        ez_video = ez.encode_video(frames)
        base_scores = base(frames, clips.classes)
    # a clip and its reversal have the same frames, so the frame mean is the same: nothing tells them apart
    torch.testing.assert_close(base_video[0::2], base_video[1::2], rtol=0, atol=1e-5)
    assert within_pair_accuracy(base_scores, labels) == 50.0
    assert (ez_video[0::2] - ez_video[1::2]).abs().max() > 1e-4  # temporal prompts see the order


def test_within_pair_accuracy_by_hand():
    scores = torch.tensor([[2.0, 1.0, 9.0, 0.0], [2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0], [0.0, 0.0, 5.0, 3.0]])
    # rows: label 0 beats its partner 1; label 1 loses to 0; label 2 loses to 3; label 3 loses to 2
    assert within_pair_accuracy(scores, torch.tensor([0, 1, 2, 3])) == 25.0


@pytest.mark.subprocess
@pytest.mark.slow
def test_benchmark_script_runs_and_reports(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "motion_benchmark.py"),
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--seeds",
            "0",
            "--variants",
            "ezclip",
            "base",
            "--test-clips",
            "12",
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "1 thread(s)" in proc.stdout and "| ezclip | 0 |" in proc.stdout
    data = json.loads(out.read_text())
    assert [r["variant"] for r in data["runs"]] == ["ezclip", "base"] and data["threads"] == 1
    base = next(r for r in data["runs"] if r["variant"] == "base")
    assert base["within_pair"] == 50.0 and base["test_clips"] == 24
    assert data["settings"]["drop_path"] == 0.0 and data["settings"]["size"] == 32
