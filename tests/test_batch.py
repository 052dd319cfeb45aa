"""Batch inference: JSON Lines records, error records, resume after an interruption, workers, embeddings."""

import json
import os
import shutil

import numpy as np
import pytest
import torch
from _helpers.models import randomize_trainable, tiny
from _helpers.video_data import make_video

from ezclip_zoo.inference import classify_folder, classify_videos, embed_video, embed_videos, read_jsonl

LABELS = ["dancing", "juggling", "riding a bike"]


@pytest.fixture(scope="module")
def model():
    m = tiny(0)
    randomize_trainable(m, seed=2)
    return m


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Six good videos (one in a subfolder), the bad-input zoo, and a non-video file."""
    d = tmp_path_factory.mktemp("library")
    for i in range(5):
        make_video(d / f"good{i}.mp4", 12 + 7 * i, keyframe_interval=6)
    (d / "sub").mkdir()
    make_video(d / "sub" / "nested.MKV", 16)
    (d / "empty.mp4").write_bytes(b"")
    (d / "junk.avi").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    full = open(d / "good4.mp4", "rb").read()
    (d / "cut.mp4").write_bytes(full[: len(full) // 2])
    (d / "notes.txt").write_text("not a video")
    return d


def good_videos(folder):
    return sorted(str(p) for p in folder.glob("good*.mp4"))


def test_records_match_classify_and_errors_are_recorded(model, folder, tmp_path):
    videos = good_videos(folder) + [
        str(folder / "empty.mp4"),
        str(folder / "missing.mp4"),
        str(folder / "junk.avi"),
        str(folder / "cut.mp4"),
    ]
    out = tmp_path / "results.jsonl"
    report = classify_videos(model, videos, LABELS, output=out, topk=2, batch_size=3, progress=False)
    assert (report.total, report.processed, report.skipped, report.failed) == (9, 9, 0, 4)
    records = read_jsonl(out)
    assert [r["source"] for r in records] == videos  # input order, failures in place
    for record, video in zip(records[:5], videos[:5], strict=True):
        expected = model.classify(video, LABELS, topk=2)
        assert record["labels"] == expected.labels
        assert record["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
        assert record["frame_indices"] == expected.frame_indices and record["model"] == "ezclip-test-tiny"
    errors = {os.path.basename(r["source"]): r for r in records[5:]}
    assert errors["empty.mp4"]["error_type"] == "VideoDecodeError" and "empty" in errors["empty.mp4"]["error"]
    assert errors["missing.mp4"]["error_type"] == "VideoNotFoundError"
    assert "not a video" in errors["junk.avi"]["error"]
    assert "truncated" in errors["cut.mp4"]["error"]
    assert len({r["setup"] for r in records}) == 1


def test_interrupted_run_resumes_without_recomputing_or_losing_anything(model, folder, tmp_path):
    videos = good_videos(folder)
    complete = tmp_path / "complete.jsonl"
    classify_videos(model, videos, LABELS, output=complete, batch_size=1, progress=False)

    out = tmp_path / "interrupted.jsonl"
    done = []

    def interrupt_after_two(result):
        done.append(result.source)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        classify_videos(model, videos, LABELS, output=out, batch_size=1, progress=False, on_result=interrupt_after_two)
    assert [r["source"] for r in read_jsonl(out)] == videos[:2]  # what finished is on disk

    encoded = []
    hook = model.video_tower.register_forward_pre_hook(lambda mod, args: encoded.append(args[1].shape[0]))
    try:
        report = classify_videos(model, videos, LABELS, output=out, batch_size=1, progress=False)
    finally:
        hook.remove()
    assert (report.skipped, report.processed) == (2, 3) and sum(encoded) == 3  # only the rest was computed
    assert read_jsonl(out) == read_jsonl(complete)

    again = classify_videos(model, videos, LABELS, output=out, progress=False)
    assert (again.skipped, again.processed) == (5, 0)


def test_torn_last_line_is_dropped_and_redone(model, folder, tmp_path):
    videos = good_videos(folder)[:3]
    out = tmp_path / "torn.jsonl"
    classify_videos(model, videos, LABELS, output=out, progress=False)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + lines[2][:25])  # killed while writing the third record
    with pytest.warns(UserWarning, match="incomplete last line"):
        report = classify_videos(model, videos, LABELS, output=out, progress=False)
    assert (report.skipped, report.processed) == (2, 1)
    assert [r["source"] for r in read_jsonl(out)] == videos
    assert out.read_text().splitlines(keepends=True) == lines


def test_resume_refuses_other_labels_and_can_overwrite(model, folder, tmp_path):
    videos = good_videos(folder)[:2]
    out = tmp_path / "r.jsonl"
    classify_videos(model, videos, LABELS, output=out, progress=False)
    with pytest.raises(ValueError, match="another model, label set or options"):
        classify_videos(model, videos, LABELS + ["swimming"], output=out, progress=False)
    with pytest.raises(ValueError, match="another model"):
        classify_videos(model, videos, LABELS, output=out, topk=1, progress=False)
    report = classify_videos(model, videos, LABELS + ["swimming"], output=out, resume=False, progress=False)
    assert report.processed == 2 and len(read_jsonl(out)) == 2


def test_retry_errors(model, folder, tmp_path):
    missing = tmp_path / "later.mp4"
    out = tmp_path / "retry.jsonl"
    videos = good_videos(folder)[:1] + [str(missing)]
    assert classify_videos(model, videos, LABELS, output=out, progress=False).failed == 1
    shutil.copy(good_videos(folder)[1], missing)  # the file appears
    report = classify_videos(model, videos, LABELS, output=out, progress=False)
    assert report.skipped == 2  # an error record counts as done by default
    report = classify_videos(model, videos, LABELS, output=out, retry_errors=True, progress=False)
    assert (report.skipped, report.processed, report.failed) == (1, 1, 0)
    records = read_jsonl(out)
    assert len(records) == 2 and all("labels" in r for r in records)


def test_workers_give_the_same_records(model, folder, tmp_path):
    videos = good_videos(folder) + [str(folder / "junk.avi")]
    a, b = tmp_path / "w0.jsonl", tmp_path / "w2.jsonl"
    classify_videos(model, videos, LABELS, output=a, num_workers=0, progress=False)
    classify_videos(model, videos, LABELS, output=b, num_workers=2, progress=False)
    ra, rb = read_jsonl(a), read_jsonl(b)
    assert [r["source"] for r in ra] == [r["source"] for r in rb]
    for x, y in zip(ra, rb, strict=True):
        assert x.get("labels") == y.get("labels") and x.get("error_type") == y.get("error_type")
        assert x.get("probabilities", [0]) == pytest.approx(y.get("probabilities", [0]), abs=1e-5)


def test_classify_folder_finds_videos_recursively(model, folder, tmp_path):
    report = classify_folder(model, folder, LABELS, output=tmp_path / "f.jsonl", progress=False)
    names = sorted(os.path.basename(r["source"]) for r in read_jsonl(tmp_path / "f.jsonl"))
    assert names == sorted(
        [
            "good0.mp4",
            "good1.mp4",
            "good2.mp4",
            "good3.mp4",
            "good4.mp4",
            "nested.MKV",
            "empty.mp4",
            "junk.avi",
            "cut.mp4",
        ]
    )
    assert report.failed == 3
    with pytest.raises(FileNotFoundError):
        classify_folder(model, tmp_path / "nowhere", LABELS)


def test_results_without_output_and_duplicates(model, folder):
    videos = good_videos(folder)[:2]
    with pytest.warns(UserWarning, match="listed twice"):
        report = classify_videos(model, videos + [videos[0]], LABELS, progress=False)
    assert report.output is None and [r.source for r in report.results] == videos
    with pytest.raises(TypeError, match="file paths"):
        classify_videos(model, [b"bytes"], LABELS, progress=False)


def test_embed_videos(model, folder, tmp_path):
    videos = good_videos(folder)[:3] + [str(folder / "empty.mp4")]
    out = tmp_path / "emb.jsonl"
    report = embed_videos(model, videos, output=out, progress=False)
    assert (report.processed, report.failed) == (4, 1)
    records = read_jsonl(out)
    for record, video in zip(records[:3], videos[:3], strict=True):
        vector = torch.tensor(record["embedding"])
        assert vector.shape == (64,)
        torch.testing.assert_close(vector, embed_video(model, video), atol=1e-5, rtol=0)
    assert records[3]["error_type"] == "VideoDecodeError"
    assert embed_videos(model, videos, output=out, progress=False).skipped == 4
    json.dumps(records)  # plain JSON
