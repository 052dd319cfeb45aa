"""Decoding: exact frame indices for both strategies, every input kind, rotation, odd sizes, bad files."""

import io
import random
import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from _helpers.video_data import index_frame, index_frames, make_video, read_index

from ezclip_zoo.errors import VideoDecodeError, VideoDecodeWarning, VideoNotFoundError
from ezclip_zoo.video import (
    choose_strategy,
    open_video,
    plan_seeks,
    probe_video,
    read_video_clips,
    read_video_frames,
    sample_frame_indices,
    seek_cost,
    sequential_cost,
    write_video,
)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    return {
        # 3 B-frames between references, a keyframe every 12 frames: decode order != presentation order
        "gop12": make_video(d / "gop12.mp4", 300, keyframe_interval=12, bframes=3),
        # one keyframe for the whole video
        "onekey": make_video(d / "onekey.mp4", 120, keyframe_interval=1000, bframes=2),
        "short": make_video(d / "short.mp4", 20, keyframe_interval=5),
        "mkv": make_video(d / "clip.mkv", 45, keyframe_interval=10),  # Matroska: no frame count in the header
        "webm": make_video(d / "clip.webm", 30, codec="libvpx-vp9", options={"deadline": "realtime", "cpu-used": "8"}),
    }


def indices_of(frames) -> list[int]:
    return [read_index(f) for f in frames]


# ---------------------------------------------------------------------------- exact frames
@pytest.mark.parametrize("strategy", ["sequential", "seek"])
def test_both_strategies_return_exactly_the_requested_frames(videos, strategy):
    reader = open_video(videos["gop12"])
    assert reader.num_frames == 300
    rng = random.Random(0)
    requests = [sample_frame_indices(300, 8), [0], [299], [11, 12, 13], [13, 12, 11, 11], list(range(0, 300, 37))]
    requests += [rng.sample(range(300), 8) for _ in range(10)]
    for idx in requests:
        frames, used = reader.decode(idx, strategy=strategy)
        assert used == strategy
        assert indices_of(frames) == idx, (strategy, idx)
        assert all(f.dtype == torch.uint8 and f.shape == (48, 160, 3) for f in frames)


@pytest.mark.parametrize("name", ["onekey", "short", "mkv", "webm"])
def test_strategies_agree_on_other_layouts(videos, name):
    reader = open_video(videos[name])
    idx = sample_frame_indices(reader.num_frames, 8)
    for strategy in ("sequential", "seek"):
        frames, _ = reader.decode(idx, strategy=strategy)
        assert indices_of(frames) == idx, (name, strategy)


def test_frame_count_is_exact_without_header_count(videos):
    assert open_video(videos["mkv"]).num_frames == 45
    assert open_video(videos["webm"]).num_frames == 30


def test_read_video_frames_contract(videos):
    out = read_video_frames(videos["gop12"], 8)
    assert out.dtype == torch.uint8 and out.shape == (8, 48, 160, 3)
    assert indices_of(out) == [18, 55, 93, 130, 168, 205, 243, 280]
    g = torch.Generator().manual_seed(0)
    train = read_video_frames(videos["gop12"], 8, mode="train", generator=g)
    expected = sample_frame_indices(300, 8, mode="train", generator=torch.Generator().manual_seed(0))
    assert indices_of(train) == expected


# ---------------------------------------------------------------------------- strategy choice
def test_auto_seeks_on_long_videos_with_frequent_keyframes_and_reads_short_ones(videos):
    long_reader = open_video(videos["gop12"])
    idx = sample_frame_indices(300, 8)
    assert long_reader.choose_strategy(idx) == "seek"
    assert open_video(videos["onekey"]).choose_strategy(sample_frame_indices(120, 8)) == "sequential"
    assert open_video(videos["short"]).choose_strategy(sample_frame_indices(20, 8)) == "sequential"
    clips = read_video_clips(videos["gop12"], 8)
    assert clips.strategy == "seek" and indices_of(clips.frames[0]) == idx


def test_cost_model_counts_decoded_frames():
    keyframes = [0, 100, 200]
    # sequential: every frame up to the last wanted one, keyframes counting K inter frames each
    assert sequential_cost([250], keyframes, keyframe_frames=8) == 251 + 3 * 7
    # seek: overhead + the keyframe + the inter frames after it
    assert seek_cost([250], keyframes, seek_frames=3, keyframe_frames=8) == 3 + 8 + 50
    # two frames in one GOP: one seek, then keep decoding
    assert plan_seeks([110, 120], keyframes, 3, 8) == [(True, 3 + 8 + 10), (False, 10)]
    # the next frame past a keyframe: continuing (10 + 7) vs seeking (3 + 8 + 5)
    assert plan_seeks([95, 105], keyframes, 3, 8)[1] == (True, 16)
    assert choose_strategy([250], keyframes) == "seek"
    # a single keyframe: seeking can only add its overhead
    assert choose_strategy([10, 50, 90], [0]) == "sequential"


# ---------------------------------------------------------------------------- input kinds
def test_path_bytes_and_file_objects_give_the_same_frames(videos, tmp_path):
    path = videos["short"]
    expected = read_video_frames(path, 8)
    data = open(path, "rb").read()
    assert torch.equal(read_video_frames(data, 8), expected)
    assert torch.equal(read_video_frames(io.BytesIO(data), 8), expected)
    with open(path, "rb") as f:
        f.read(10)  # a file object not at its start is read from where it is... which is not a video
        f.seek(0)
        assert torch.equal(read_video_frames(f, 8), expected)
    from pathlib import Path

    assert torch.equal(read_video_frames(Path(path), 8), expected)

    class Pipe(io.RawIOBase):  # not seekable: read into memory once
        def __init__(self, payload):
            self._buf = io.BytesIO(payload)

        def readable(self):
            return True

        def readinto(self, b):
            chunk = self._buf.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    assert torch.equal(read_video_frames(Pipe(data), 8), expected)


def test_in_memory_frames_of_every_layout():
    frames = index_frames(20)  # uint8 [20, 48, 160, 3]
    expected = [0, 3, 5, 8, 10, 13, 15, 18]  # 2.5 frames per segment, offset 0.75
    as_tensor = torch.from_numpy(frames)
    for video in (
        frames,
        as_tensor,
        as_tensor.permute(0, 3, 1, 2),  # [T, 3, H, W]
        as_tensor.float() / 255,  # float in [0, 1]
        [__import__("PIL.Image").Image.fromarray(f) for f in frames],
    ):
        clips = read_video_clips(video, 8)
        assert clips.strategy == "memory" and clips.total_frames == 20
        assert indices_of(clips.frames[0]) == expected


def test_grayscale_and_rgba_frames_in_memory():
    from PIL import Image

    gray = index_frames(4)[..., 0]  # [T, H, W]
    out = read_video_clips(gray, 4).frames[0]
    assert all(torch.equal(f[..., 0], f[..., 2]) for f in out) and indices_of(out) == [0, 1, 2, 3]
    rgba = np.concatenate([index_frames(4), np.full((4, 48, 160, 1), 7, np.uint8)], -1)
    out = read_video_clips(rgba, 4).frames[0]
    assert out[0].shape == (48, 160, 3) and indices_of(out) == [0, 1, 2, 3]
    pil = [Image.fromarray(index_frame(i)).convert(mode) for i, mode in enumerate(["L", "RGBA", "P", "RGB"])]
    out = read_video_clips(pil, 4).frames[0]
    assert [f.shape for f in out] == [(48, 160, 3)] * 4 and indices_of(out) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((4, 8, 3), np.uint8), ValueError, "ambiguous"),
        (np.zeros((4, 8, 8, 5), np.uint8), ValueError, "channel"),
        (np.full((2, 8, 8, 3), 200.0, np.float32), ValueError, r"\[0, 1\]"),
        (np.zeros((2, 8, 8, 3), bool), TypeError, "bool"),
        (np.full((2, 8, 8, 3), 300, np.int32), ValueError, "0..255"),
        (np.zeros((0, 8, 8, 3), np.uint8), ValueError, "no pixels"),
        (np.array([[[[float("nan")] * 3]]], np.float32), ValueError, "NaN"),
        (42, TypeError, "int"),
        ([], ValueError, "empty"),
    ],
)
def test_bad_in_memory_frames_raise_clearly(bad, error, match):
    with pytest.raises(error, match=match):
        read_video_clips(bad, 8)


# ---------------------------------------------------------------------------- file variants
@pytest.mark.parametrize("rotation, k", [(90, 1), (-90, 3), (180, 2)])
def test_rotation_metadata_is_applied(tmp_path, rotation, k):
    path = make_video(tmp_path / f"rot{rotation}.mp4", 10, rotation=rotation)
    info = probe_video(path)
    assert info.rotation == rotation % 360
    assert (info.width, info.height) == ((48, 160) if k % 2 else (160, 48))
    for strategy in ("sequential", "seek"):
        frames = read_video_frames(path, 4, strategy=strategy)
        assert frames.shape == ((4, 160, 48, 3) if k % 2 else (4, 48, 160, 3))
        # counter-clockwise by `rotation`: undoing it gives the encoded frames back
        upright = [np.rot90(f.numpy(), -k) for f in frames]
        assert indices_of(upright) == sample_frame_indices(10, 4)


def test_odd_sizes(tmp_path):
    for codec, name in (("libx264", "odd.mp4"), ("mpeg4", "odd.avi")):
        path = make_video(tmp_path / name, 12, height=33, width=101, codec=codec)
        frames = read_video_frames(path, 4)
        assert frames.shape == (4, 33, 101, 3)
        assert indices_of(frames) == sample_frame_indices(12, 4)


def test_grayscale_and_rgba_video_files(tmp_path):
    gray = make_video(tmp_path / "gray.mkv", 6, codec="ffv1", pix_fmt="gray")
    frames = read_video_frames(gray, 3)
    assert frames.shape == (3, 48, 160, 3) and torch.equal(frames[..., 0], frames[..., 1])
    rgba_frames = np.concatenate([index_frames(6), np.random.default_rng(0).integers(0, 256, (6, 48, 160, 1))], -1)
    rgba = tmp_path / "alpha.mov"
    write_video(rgba, rgba_frames.astype(np.uint8), codec="png", pix_fmt="rgba")
    frames = read_video_frames(rgba, 3)
    assert frames.shape == (3, 48, 160, 3)
    assert torch.equal(frames, torch.from_numpy(index_frames(6)[sample_frame_indices(6, 3)]))  # lossless, alpha gone


def test_one_frame_video_repeats_it(tmp_path):
    path = make_video(tmp_path / "one.mp4", 1)
    frames = read_video_frames(path, 8)
    assert frames.shape == (8, 48, 160, 3) and indices_of(frames) == [0] * 8


def test_huge_frames_are_decoded_one_at_a_time(tmp_path):
    """With a transform, a 4K video never holds more than a couple of full frames in memory."""
    height, width = 2160, 3840
    frames = np.zeros((3, height, width, 3), np.uint8)
    for i in range(3):
        frames[i] = np.kron(index_frame(i, 48, 160), np.ones((45, 24, 1), np.uint8))
    path = tmp_path / "uhd.mp4"
    write_video(path, frames, options={"preset": "ultrafast"})
    del frames
    frame_bytes = height * width * 3
    tracemalloc.start()
    clips = read_video_clips(path, 8, transform=lambda f: f[::45, ::24].copy())  # tiny output per frame
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert indices_of(clips.frames[0]) == [0, 0, 0, 1, 1, 1, 2, 2]
    assert peak < 2.5 * frame_bytes  # 8 frames kept whole would be 8x


# ---------------------------------------------------------------------------- bad files
def test_missing_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoNotFoundError, match="nope.mp4.*does not exist"):
        read_video_frames(missing, 8)
    with pytest.raises(FileNotFoundError):  # also the builtin a caller would catch
        read_video_frames(missing, 8)


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty.mp4.*empty"):
        read_video_frames(empty, 8)
    with pytest.raises(VideoDecodeError, match="empty"):
        read_video_frames(b"", 8)


def test_random_bytes_named_mp4(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(VideoDecodeError, match="junk.mp4.*not a video"):
        read_video_frames(junk, 8)


def test_truncated_mp4_without_index(tmp_path, videos):
    data = open(videos["gop12"], "rb").read()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index ('moov') is written last by default
    with pytest.raises(VideoDecodeError, match="cut.mp4.*truncated"):
        read_video_frames(cut, 8)


def test_truncated_faststart_mp4_uses_the_readable_part(tmp_path):
    full = make_video(tmp_path / "web.mp4", 200, keyframe_interval=10, faststart=True)
    data = open(full, "rb").read()
    cut = tmp_path / "web_cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(VideoDecodeWarning, match="web_cut.mp4.*truncated"):
        reader = open_video(cut)
    assert 20 < reader.num_frames < 200
    for strategy in ("sequential", "seek"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VideoDecodeWarning)  # the last, partial packet may be missing
            frames, _ = reader.decode(sample_frame_indices(reader.num_frames, 8), strategy=strategy)
        got = indices_of(frames)
        assert got[:-1] == sample_frame_indices(reader.num_frames, 8)[:-1]
        assert got == sorted(got) and got[-1] < reader.num_frames


def test_audio_only_file(tmp_path):
    import av

    path = tmp_path / "speech.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(VideoDecodeError, match="speech.mp4.*no video stream.*audio"):
        read_video_frames(path, 8)


def test_bad_arguments(videos):
    with pytest.raises(ValueError, match="strategy"):
        read_video_frames(videos["short"], 8, strategy="fast")
    with pytest.raises(ValueError, match="backend"):
        read_video_frames(videos["short"], 8, backend="decord")
    with pytest.raises(ValueError, match="outside"):
        open_video(videos["short"]).decode([20])


# ---------------------------------------------------------------------------- optional backend
def test_torchcodec_backend_matches_pyav_or_explains_how_to_install(videos):
    from ezclip_zoo.errors import TorchCodecUnavailableError

    path = videos["gop12"]
    try:
        frames = read_video_frames(path, 8, backend="torchcodec")
    except TorchCodecUnavailableError as exc:  # not installed here: the error tells how to get it
        assert "pip install" in str(exc) and "ezclip-zoo[torchcodec]" in str(exc)
        assert isinstance(exc, ImportError)
        return
    assert indices_of(frames) == sample_frame_indices(300, 8)
    assert (frames.float() - read_video_frames(path, 8).float()).abs().mean() < 2.0  # same pixels up to rounding
    with pytest.raises(VideoDecodeError, match="torchcodec"):
        read_video_frames(b"\x00" * 1000, 8, backend="torchcodec")
