"""The Ray engine on a local Ray instance this session starts (not a mock): the same records as classify_folder,
failures recorded, finished videos skipped, a killed driver losing nothing it wrote."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from _helpers.models import tiny
from _helpers.video_data import index_frames

from ezclip_zoo.inference import classify_folder, read_jsonl
from ezclip_zoo.inference.ray import classify_dataset
from ezclip_zoo.video import write_video

# a local Ray instance is Ray's processes; its start makes these the slowest tests of the suite
pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

CLASSES = ["dancing", "juggling", "surfing", "riding a bike"]


@pytest.fixture(scope="module")
def ray_session():
    import ray

    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)  # logical CPUs: 2 actors + decoding
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for i in range(6):
        write_video(root / f"v{i}.mp4", index_frames(12 + 4 * i), fps=8)
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    return root


@pytest.fixture(scope="module")
def model():
    return tiny(0)


def _by_path(records):
    return {r["path"]: r for r in records}


@pytest.fixture(scope="module")
def ray_run(ray_session, folder, model, tmp_path_factory):
    """One Ray run over the whole folder: (its report, its results file)."""
    out = tmp_path_factory.mktemp("ray") / "ray.jsonl"
    report = classify_dataset(folder, model, CLASSES, output=out, num_actors=2, batch_size=4, progress=False)
    return report, out


def test_ray_records_equal_classify_folder_and_a_bad_file_does_not_stop_the_run(ray_run, folder, model, tmp_path):
    local = classify_folder(model, folder, CLASSES, output=tmp_path / "local.jsonl", progress=False)
    remote, remote_file = ray_run
    assert (remote.total, remote.processed, remote.failed) == (7, 7, 1) == (local.total, local.processed, local.failed)
    a, b = _by_path(read_jsonl(tmp_path / "local.jsonl")), _by_path(read_jsonl(remote_file))
    assert a.keys() == b.keys() and len(a) == 7
    for path, rec in a.items():
        other = b[path]
        if "error" in rec:
            assert other["error_type"] == rec["error_type"] and "broken.mp4" in path
            continue
        assert other["labels"] == rec["labels"] and other["frame_indices"] == rec["frame_indices"]
        assert max(abs(x - y) for x, y in zip(rec["probabilities"], other["probabilities"], strict=True)) <= 1e-6
        assert other["setup"] == rec["setup"]  # one results format: either engine resumes the other's file
    order = [r["path"] for r in read_jsonl(remote_file)]
    assert order == sorted(order)  # written in input order


def test_more_actors_than_the_cluster_holds_is_a_clear_error(ray_session, folder, model, tmp_path):
    with pytest.raises(ValueError, match="exceed the cluster's 3 CPUs"):
        classify_dataset(folder, model, CLASSES, output=tmp_path / "x.jsonl", num_actors=3, progress=False)


def test_a_rerun_skips_finished_videos(ray_run, folder, model, tmp_path):
    """A results file holding 3 finished videos (the first lines of a whole run, as a run cut short leaves them):
    the rerun skips them and adds the other 4."""
    out = tmp_path / "ray.jsonl"
    out.write_text("".join(ray_run[1].read_text().splitlines(keepends=True)[:3]))
    again = classify_dataset(folder, model, CLASSES, output=out, progress=False)
    assert (again.skipped, again.processed) == (3, 4) and len(read_jsonl(out)) == 7
    assert {r["path"] for r in read_jsonl(out)} == {r["path"] for r in read_jsonl(ray_run[1])}


_DRIVER = r"""
import sys, time, torch, ezclip_zoo
from ezclip_zoo.inference.ray import classify_dataset, init_ray
init_ray("local", num_cpus=2)  # a cluster of its own, killed with it
torch.manual_seed(0)
model = ezclip_zoo.create_model("ezclip-test-tiny", pretrained_backbone=False)
classify_dataset(sys.argv[1], model, ["dancing", "juggling", "surfing", "riding a bike"], output=sys.argv[2],
                 batch_size=1, progress=False, on_result=lambda r: time.sleep(0.5))
"""


def test_a_killed_driver_loses_nothing_it_wrote(ray_session, folder, model, tmp_path):
    out = tmp_path / "killed.jsonl"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(folder), str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray processes it started, as a crash would
    proc.wait()
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert 2 <= len(written) < 7, "the driver should have been killed mid-run"
    local = _by_path(
        read_jsonl(classify_folder(model, folder, CLASSES, output=tmp_path / "l.jsonl", progress=False).output)
    )
    for rec in written:  # every complete line is a finished video's final record
        assert ("error" in rec and "error" in local[rec["path"]]) or rec["labels"] == local[rec["path"]]["labels"]
    resumed = classify_dataset(folder, model, CLASSES, output=out, progress=False)
    assert resumed.skipped == len(written) and resumed.processed == 7 - len(written)
    final = read_jsonl(out)
    assert len(final) == 7 and len({r["path"] for r in final}) == 7
