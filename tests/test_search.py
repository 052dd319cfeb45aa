"""Collections: index a folder, search it by text and by video; updates, kills and bad libraries."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers.models import tiny
from _helpers.trained_motion import check_search, write_motion_folder
from _helpers.video_data import index_frames

import ezclip_zoo
from ezclip_zoo.cli import main
from ezclip_zoo.errors import LibraryError
from ezclip_zoo.search import VideoIndex, build_ann, index_videos, recall_at_k
from ezclip_zoo.search.format import MANIFEST, read_manifest, write_manifest
from ezclip_zoo.video import write_video


@pytest.fixture(scope="module")
def motion_folder(tmp_path_factory):
    """24 clips of moving right / left / staying still as MP4s named by their class."""
    return write_motion_folder(tmp_path_factory.mktemp("motion"))


def test_index_then_search_returns_the_queried_class_first(motion_model, motion_folder, tmp_path):
    folder, classes = motion_folder
    # the same assertions hold for every seed of the recipe (test_motion_model.py)
    index = check_search(motion_model, folder, classes, tmp_path / "lib")
    # embeddings as queries: [E] is one query, [Q, E] one hit list per row, as texts and lists of texts are
    rows = index.embeddings[:2]
    assert index.search(rows[0], 3) == index.search(rows[0:1], 3)[0]
    per_row = index.search(rows, 3)
    assert len(per_row) == 2 and all(isinstance(hits, list) and len(hits) == 3 for hits in per_row)
    assert [hits[0].path for hits in per_row] == [index.rows[0][0], index.rows[1][0]]
    both = index.search(list(classes[:2]), 3)  # texts encoded in one batch: the same hits, scores to rounding
    assert [[h.path for h in hits] for hits in both] == [[h.path for h in index.search(c, 3)] for c in classes[:2]]


def test_updates_add_drop_and_re_embed(tiny_model, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(3):
        write_video(folder / f"v{i}.mp4", index_frames(16 + 8 * i), fps=8)
    model = tiny_model
    lib = tmp_path / "lib"
    assert index_videos(model, folder, lib).added == 3
    again = index_videos(model, folder, lib)
    assert (again.added, again.kept, again.changed, again.removed) == (0, 3, 0, 0)
    before = VideoIndex.open(lib, model=model)
    (folder / "v0.mp4").unlink()
    write_video(folder / "v3.mp4", index_frames(40), fps=8)
    write_video(folder / "v1.mp4", index_frames(30)[::-1].copy(), fps=8)  # edited: other size and mtime
    update = index_videos(model, folder, lib)
    assert (update.added, update.kept, update.changed, update.removed) == (1, 1, 1, 1)
    after = VideoIndex.open(lib, model=model)
    assert sorted(Path(r[0]).name for r in after.rows) == ["v1.mp4", "v2.mp4", "v3.mp4"]
    v2 = [i for i, r in enumerate(after.rows) if r[0].endswith("v2.mp4")][0]
    v2_before = [i for i, r in enumerate(before.rows) if r[0].endswith("v2.mp4")][0]
    assert torch.equal(after.embeddings[v2], before.embeddings[v2_before])
    assert len(list(lib.glob("shard-*.safetensors"))) == len(read_manifest(lib)["shards"])


def test_another_model_or_setup_is_refused_on_update(tiny_model, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "a.mp4", index_frames(24), fps=8)
    model = tiny_model
    index_videos(model, folder, tmp_path / "lib")
    other = tiny(1)
    with pytest.raises(LibraryError, match="another model"):
        index_videos(other, folder, tmp_path / "lib")
    with pytest.raises(LibraryError, match="setup"):
        index_videos(model, folder, tmp_path / "lib", segments=True)
    with pytest.raises(LibraryError, match="another model"):
        VideoIndex.open(tmp_path / "lib", model=other)


def test_bad_input_is_a_clear_error(tiny_model, tmp_path):
    model = tiny_model
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no video files"):
        index_videos(model, tmp_path / "empty", tmp_path / "lib0")
    assert not (tmp_path / "lib0" / MANIFEST).exists()
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "a.mp4", index_frames(24), fps=8)
    write_video(folder / "b.mp4", index_frames(24), fps=8)
    lib = tmp_path / "lib"
    index_videos(model, folder, lib, flush_every=1)
    index = VideoIndex.open(lib, model=model)
    for empty in ("", "   ", []):
        with pytest.raises(ValueError, match="empty search query"):
            index.search(empty)
    with pytest.raises(ValueError, match="k must be"):
        index.search("x", 0)
    with pytest.raises(LibraryError, match="no library.json"):
        VideoIndex.open(tmp_path / "empty")
    manifest = json.loads((lib / MANIFEST).read_text())
    shard = lib / manifest["shards"][0]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(LibraryError, match="damaged or truncated"):
        VideoIndex.open(lib, model=model)
    shard.unlink()
    with pytest.raises(LibraryError, match="missing"):
        VideoIndex.open(lib, model=model)
    with pytest.warns(UserWarning, match="embedded again"):
        repaired = index_videos(model, folder, lib)  # the next run re-embeds what was lost
    assert repaired.added + repaired.changed == 1 and len(VideoIndex.open(lib, model=model)) == 2
    write_manifest(lib, {**manifest, "version": 99})
    with pytest.raises(LibraryError, match="version 99"):
        VideoIndex.open(lib)
    write_manifest(lib, {**manifest, "complete": False})
    with pytest.raises(LibraryError, match="incomplete"):
        VideoIndex.open(lib)


def _long_videos(folder, count):
    rng = np.random.default_rng(0)
    for i in range(count):
        frames = rng.integers(0, 255, (8 * 12, 48, 64, 3), dtype=np.uint8)
        write_video(folder / f"long{i:02d}.mp4", frames, fps=8)


@pytest.mark.subprocess
@pytest.mark.slow
def test_a_killed_index_run_resumes_to_the_same_rows_and_bits(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    _long_videos(folder, 10)
    cmd = [
        sys.executable,
        "-m",
        "ezclip_zoo.cli",
        "index",
        str(folder),
        "-m",
        "ezclip-test-tiny",
        "--segments",
        "--window",
        "2",
        "--stride",
        "0.5",
        "--flush-every",
        "1",
        "--no-progress",
        "-o",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd + [str(tmp_path / "whole")], check=True, capture_output=True, env=env)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + [str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        manifest = read_manifest(killed) if (killed / MANIFEST).exists() else None
        if manifest and len(manifest["files"]) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = read_manifest(killed)
    assert not interrupted["complete"] and 3 <= len(interrupted["files"]) < 10
    with pytest.raises(LibraryError, match="incomplete"):
        VideoIndex.open(killed)
    subprocess.run(cmd + [str(killed)], check=True, capture_output=True, env=env)
    torch.manual_seed(0)
    model = ezclip_zoo.create_model("ezclip-test-tiny")
    a, b = VideoIndex.open(tmp_path / "whole", model=model), VideoIndex.open(killed, model=model)
    assert a.rows == b.rows and len(a.rows) == 10 * 21
    assert torch.equal(a.embeddings, b.embeddings)


def test_search_cli_prints_hits_with_times(tmp_path, capsys):
    folder = tmp_path / "videos"
    folder.mkdir()
    _long_videos(folder, 2)
    lib = tmp_path / "lib"
    assert main(["index", str(folder), "-m", "ezclip-test-tiny", "-o", str(lib), "--segments", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["search", str(lib), "someone juggling", "--topk", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and set(hits[0]) == {"path", "score", "start", "end"}
    assert hits[0]["end"] > hits[0]["start"] >= 0
    assert main(["search", str(lib), "--video", str(folder / "long00.mp4"), "--topk", "1"]) == 0
    assert "long00.mp4" in capsys.readouterr().out
    assert main(["search", str(lib)]) == 1
    assert "text query or --video" in capsys.readouterr().err


def test_approximate_search_agrees_with_exact_on_clustered_vectors():
    g = torch.Generator().manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(50, 64, generator=g), dim=-1)
    rows = torch.nn.functional.normalize(
        centres.repeat_interleave(40, 0) + 0.05 * torch.randn(2000, 64, generator=g), dim=-1
    )
    queries = torch.nn.functional.normalize(centres + 0.05 * torch.randn(50, 64, generator=g), dim=-1)
    exact = torch.topk(queries @ rows.T, 10, dim=1).indices
    _, approx = build_ann(rows).search(queries.numpy(), 10)
    assert recall_at_k(exact, torch.from_numpy(approx)) >= 0.95
    index = VideoIndex(Path("."), {"setup": {}}, rows, [(f"v{i}", None, None) for i in range(2000)])
    assert index.search(queries[3], 1, approximate=True)[0].path == index.search(queries[3], 1)[0].path
