"""A deterministic fuzz test: mutated MP4/AVI/MKV/WebM files read by long-lived worker processes under a per-file
watchdog; anything but frames or a documented VideoDecodeError (another exception, a crash, a hang, a file plain
PyAV decodes but the zoo refuses) fails. Long runs: ``python benchmarks/fuzz_video.py --count 5000``."""

import time

import pytest
from _helpers.fuzz import BAD, run_fuzz, write_seeds

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


def test_mutated_videos_give_frames_or_a_documented_error(tmp_path):
    start = time.monotonic()
    seeds = write_seeds(tmp_path)
    report = run_fuzz(seeds, 320, tmp_path / "cases", seed=20, workers=2, timeout=20.0)
    assert sum(report.counts.values()) == 320
    assert report.bad == 0, "\n".join(f"#{i} {c}: {o}: {d}" for i, c, o, d, _ in report.failures[:10])
    assert report.counts["frames"] > 50 and report.counts["error"] > 50  # both outcomes are exercised
    assert set(report.by_container) == set(seeds)
    assert not set(report.counts) - {"frames", "error", *BAD}
    assert time.monotonic() - start < 60
