"""`VideoClipDataset` (decoding, TSN sampling, views, skipped failures) and the clip augmentation."""

import numpy as np
import pytest
import torch

from ezclip_zoo.data import VideoClipDataset, VideoRecord, VideoSplit, collate_clips, sample_generator
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.transforms.eval import preprocess_frames
from ezclip_zoo.transforms.train import DEFAULT_SCALES, ClipAugment, normalize_frames
from ezclip_zoo.video import read_video_frames


@pytest.fixture(scope="module")
def csv_split(tmp_path_factory):
    from ezclip_zoo.data import read_video_csv

    paths = write_motion_dataset(tmp_path_factory.mktemp("csv"), "csv", train_per_class=1, test_per_class=1)
    return read_video_csv(paths["train_csv"])


def test_test_mode_is_segment_centres_with_the_reference_preprocessing(csv_split):
    ds = VideoClipDataset(csv_split, num_frames=8, image_size=64)
    item = ds[0]
    assert item["frames"].shape == (8, 3, 64, 64) and item["frames"].dtype == torch.float32
    assert item["label"] == csv_split.records[0].label and item["index"] == 0
    raw = read_video_frames(csv_split.records[0].path, 8, mode="test")
    expected = preprocess_frames(raw, 64, resize_size=64 * 256 // 224, interpolation="bilinear")
    torch.testing.assert_close(item["frames"], expected, rtol=0, atol=0)
    assert torch.equal(ds[0]["frames"], item["frames"])  # deterministic


def test_multi_view_items(csv_split):
    ds = VideoClipDataset(csv_split, num_frames=8, image_size=64, num_clips=2, num_crops=3)
    frames = ds[1]["frames"]
    assert frames.shape == (6, 8, 3, 64, 64)
    assert not torch.equal(frames[0], frames[3])  # the two temporal clips differ
    with pytest.raises(ValueError, match="test-time protocol"):
        VideoClipDataset(csv_split, 8, 64, train=True, num_clips=2)


def test_train_mode_depends_only_on_seed_epoch_and_index(csv_split):
    ds = VideoClipDataset(csv_split, num_frames=8, image_size=64, train=True, seed=5)
    a = ds[2]["frames"]
    assert a.shape == (8, 3, 64, 64)
    assert torch.equal(VideoClipDataset(csv_split, 8, 64, train=True, seed=5)[2]["frames"], a)
    ds.set_epoch(1)
    assert not torch.equal(ds[2]["frames"], a)  # a new epoch draws new frames and augmentation
    ds.set_epoch(0)
    assert torch.equal(ds[2]["frames"], a)


def test_undecodable_videos_become_failures_not_crashes(csv_split, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 50)
    records = [csv_split.records[0], VideoRecord(str(junk), 0), VideoRecord(str(tmp_path / "gone.mp4"), 1)]
    split = VideoSplit(csv_split.classes, records, "mixed")
    for train in (False, True):
        ds = VideoClipDataset(split, 8, 64, train=train)
        items = [ds[i] for i in range(3)]
        assert "frames" in items[0]
        assert "error" in items[1] and "junk.mp4" in items[1]["path"]
        assert "error" in items[2] and "NotFound" in items[2]["error"]
        batch = collate_clips(items)
        assert batch["frames"].shape[0] == 1 and batch["labels"].tolist() == [records[0].label]
        assert [p for p, _ in batch["failures"]] == [str(junk), str(tmp_path / "gone.mp4")]
    empty = collate_clips(items[1:])
    assert empty["frames"] is None and empty["labels"].numel() == 0


def _unnormalize(x):
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    return x * std + mean


def test_augmentation_uses_the_same_random_choices_for_every_frame():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    clip = torch.from_numpy(np.stack([frame] * 6))
    aug = ClipAugment(32)
    for seed in range(20):
        out = aug(clip, sample_generator("aug", seed))
        assert out.shape == (6, 3, 32, 32)
        assert all(torch.equal(out[0], out[t]) for t in range(6))  # identical frames stay identical


def test_augmentation_parameters_follow_the_recipe():
    aug = ClipAugment(224)
    gen = torch.Generator().manual_seed(0)
    sides = {int(256 * s) if abs(int(256 * s) - 224) >= 3 else 224 for s in DEFAULT_SCALES}
    flips = jitters = grays = 0
    n = 400
    for _ in range(n):
        p = aug.sample(256, 340, gen)
        assert p.height in sides and p.width in sides
        assert 0 <= p.top <= 256 - p.height and 0 <= p.left <= 340 - p.width
        flips += p.flip
        jitters += p.jitter is not None
        grays += p.grayscale
        for name, factor in p.jitter or ():
            bound = {"brightness": 0.4, "contrast": 0.4, "saturation": 0.2, "hue": 0.1}[name]
            assert (abs(factor) if name == "hue" else abs(factor - 1)) <= bound
    assert 0.4 < flips / n < 0.6 and 0.72 < jitters / n < 0.88 and 0.13 < grays / n < 0.27
    no_flip = ClipAugment(224, flip=False)
    assert not any(no_flip.sample(256, 340, gen).flip for _ in range(100))


def test_flip_and_grayscale_do_what_they_say():
    frame = np.zeros((32, 32, 3), dtype=np.uint8)
    frame[:, :8] = (255, 0, 0)  # a red band on the left
    clip = torch.from_numpy(np.stack([frame] * 2))
    aug = ClipAugment(32, scales=(1.0,), jitter_p=0.0, grayscale_p=0.0)
    params = aug.sample(32, 32, torch.Generator().manual_seed(0))
    from dataclasses import replace

    left = _unnormalize(aug.apply(clip, replace(params, flip=False)))
    right = _unnormalize(aug.apply(clip, replace(params, flip=True)))
    assert left[0, 0, :, :4].mean() > 0.9 and right[0, 0, :, -4:].mean() > 0.9 and right[0, 0, :, :4].mean() < 0.1
    gray = _unnormalize(aug.apply(clip, replace(params, grayscale=True)))
    torch.testing.assert_close(gray[:, 0], gray[:, 1], atol=1e-5, rtol=0)
    torch.testing.assert_close(gray[:, 1], gray[:, 2], atol=1e-5, rtol=0)
    assert torch.equal(
        normalize_frames(torch.full((1, 3, 2, 2), 255, dtype=torch.uint8))[0, :, 0, 0],
        ((1 - torch.tensor([0.48145466, 0.4578275, 0.40821073])) / torch.tensor([0.26862954, 0.26130258, 0.27577711])),
    )


def test_augmentation_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        ClipAugment(32)(torch.zeros(2, 8, 8, 3))
    with pytest.raises(ValueError, match="scales"):
        ClipAugment(32, scales=(1.5,))
