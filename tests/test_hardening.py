"""Hardening (issue 20): every bad input a clear error, every valid file read as a player shows it."""

import io
import json
import os
import shutil
import struct
import warnings

import numpy as np
import pytest
import torch
from _helpers.models import tiny
from _helpers.video_data import make_video, read_index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ezclip_zoo
from ezclip_zoo.errors import VideoDecodeError, VideoDecodeWarning
from ezclip_zoo.text.files import read_authors_descriptions, read_labels_file
from ezclip_zoo.video import frames_to_uint8, open_video, probe_video, read_video_clips, read_video_frames
from ezclip_zoo.video.orientation import orientation_from_matrix
from ezclip_zoo.video.pyav_io import FrameConverter


# ------------------------------------------------------------------ orientation: the eight display matrices
def _set_tkhd_matrix(path, abcd):
    """Overwrite the MP4 tkhd box's matrix (ISO 14496-12: [a b u; c d v; x y w], 16.16 / 2.30 fixed point)."""
    data = bytearray(open(path, "rb").read())
    at = data.find(b"tkhd")
    offset = at + 4 + 4 + (32 if data[at + 4] == 1 else 20) + 8 + 8
    a, b, c, d = abcd
    data[offset : offset + 36] = struct.pack(">9i", a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30)
    open(path, "wb").write(bytes(data))


def _displayed(image, abcd):
    """What the matrix shows, pixel by pixel: stored (x, y) appears at (a x + c y, b x + d y)."""
    a, b, c, d = abcd
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    nx, ny = a * xs + c * ys, b * xs + d * ys
    nx, ny = nx - nx.min(), ny - ny.min()
    out = np.zeros((ny.max() + 1, nx.max() + 1) + image.shape[2:], image.dtype)
    out[ny, nx] = image
    return out


EIGHT = {  # (a, b, c, d): the four rotations, and each mirrored
    "identity": (1, 0, 0, 1),
    "rot90": (0, -1, 1, 0),
    "rot180": (-1, 0, 0, -1),
    "rot270": (0, 1, -1, 0),
    "hflip": (-1, 0, 0, 1),
    "vflip": (1, 0, 0, -1),
    "transpose": (0, 1, 1, 0),
    "antitranspose": (0, -1, -1, 0),
}


@pytest.fixture(scope="module")
def plain_mp4(tmp_path_factory):
    path = make_video(tmp_path_factory.mktemp("orient") / "plain.mp4", 6)
    stored = read_video_frames(path, 6).numpy()
    return path, stored


@pytest.mark.parametrize("name", sorted(EIGHT))
def test_each_of_the_eight_orientations_is_shown_as_players_show_it(plain_mp4, tmp_path, name):
    path, stored = plain_mp4
    oriented = tmp_path / f"{name}.mp4"
    shutil.copyfile(path, oriented)
    _set_tkhd_matrix(oriented, EIGHT[name])
    for strategy in ("sequential", "seek"):
        frames = read_video_frames(str(oriented), 6, strategy=strategy).numpy()
        for got, raw in zip(frames, stored, strict=True):
            np.testing.assert_array_equal(got, _displayed(raw, EIGHT[name]))
    info = probe_video(str(oriented))
    assert (info.height, info.width) == frames.shape[1:3]
    assert info.mirrored == (name in ("hflip", "vflip", "transpose", "antitranspose"))


def test_orientation_from_matrix_rounds_and_ignores_degenerate():
    assert orientation_from_matrix([0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30]) == (90, False)
    assert orientation_from_matrix([-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]) == (0, True)
    assert orientation_from_matrix([0] * 9) == (0, False)
    assert orientation_from_matrix([60000, 3000, 0, -3000, 60000, 0, 0, 0, 1]) == (0, False)  # ~3 degrees


# ------------------------------------------------------------------ edit lists, file objects
def _trimmed_copy(src, dst, first_key, start):
    """Stream-copy from keyframe ``first_key`` with presentation starting at frame ``start`` (what `ffmpeg -ss
    -c copy` writes: the frames before the start are kept for decoding, hidden by an edit list)."""
    import av

    with av.open(src) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        copy = out.add_stream_from_template(stream)
        packets = [p for p in inp.demux(stream) if p.size]
        pts = sorted(p.pts for p in packets)
        for p in packets:
            if p.pts >= pts[first_key]:
                p.pts -= pts[start]
                p.dts -= pts[start]
                p.stream = copy
                out.mux(p)


def test_edit_list_is_honoured_without_a_false_warning(tmp_path):
    src = make_video(tmp_path / "long.mp4", 40, keyframe_interval=10, bframes=0)
    trimmed = tmp_path / "trim.mp4"
    _trimmed_copy(src, trimmed, 10, 13)
    assert b"elst" in trimmed.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reader = open_video(str(trimmed))
        assert reader.num_frames == 27
        for strategy in ("sequential", "seek"):
            frames, _ = reader.decode(range(27), strategy=strategy)
            assert [read_index(f) for f in frames] == list(range(13, 40))


def test_file_object_is_read_from_its_current_position(tmp_path):
    data = open(make_video(tmp_path / "v.mp4", 20), "rb").read()
    f = io.BytesIO(b"\x00JUNK" * 200 + data)
    f.seek(1000)
    assert [read_index(x) for x in read_video_frames(f, 4)] == [2, 7, 12, 17]
    with open(tmp_path / "v.mp4", "rb") as g:
        g.read(0)
        assert read_video_frames(g, 4).shape == (4, 48, 160, 3)
    with open(tmp_path / "v.mp4", encoding="latin-1") as text, pytest.raises(TypeError, match="'rb'"):
        read_video_frames(text, 4)


# ------------------------------------------------------------------ damaged streams
def test_resolution_change_in_concatenated_mpegts_is_scaled_to_the_first_frame(tmp_path):
    a = make_video(tmp_path / "a.ts", 10, 48, 160)
    b = make_video(tmp_path / "b.ts", 10, 96, 64)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(open(a, "rb").read() + open(b, "rb").read())
    with pytest.warns(VideoDecodeWarning, match=r"joined.ts.*another size \(64x96\).*160x48"):
        frames = read_video_frames(str(joined), 8, strategy="sequential")
    assert frames.shape == (8, 48, 160, 3)
    assert read_index(frames[0]) < 10  # the first part is there, at its own size


def test_frame_converter_scales_frames_of_another_size():
    import av

    conv = FrameConverter((64, 48), (0, False))
    small = av.VideoFrame.from_ndarray(np.zeros((24, 32, 3), np.uint8), format="rgb24")
    same = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
    assert conv(small).shape == conv(same).shape == (48, 64, 3)
    assert conv.resized == 1 and conv.sizes == {(32, 24)}


def test_stream_without_decoder_is_a_decode_error(tmp_path, monkeypatch):
    import av

    path = make_video(tmp_path / "v.mkv", 4)
    real_open = av.open

    class NoCodec:
        def __init__(self, container):
            self._c = container

        def __getattr__(self, name):
            return getattr(self._c, name)

    def fake_open(*args, **kwargs):
        container = real_open(*args, **kwargs)
        stream = container.streams.video[0]
        monkeypatch.setattr(type(stream), "codec_context", property(lambda self: None), raising=False)
        return container

    monkeypatch.setattr(av, "open", fake_open)
    with pytest.raises(VideoDecodeError, match=r"v.mkv.*no decoder"):
        read_video_frames(path, 2)


def test_a_transform_error_is_not_translated(tmp_path):
    path = make_video(tmp_path / "v.mp4", 4)

    def broken(image):
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        read_video_clips(path, 2, transform=broken)


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(backend="decord"), ValueError, r"backend must be one of \('pyav', 'torchcodec'\)"),
        (dict(backend=3), TypeError, "backend"),
        (dict(num_frames="8"), TypeError, "num_frames must be an int"),
        (dict(num_frames=0), ValueError, "num_frames"),
        (dict(threads=-1), ValueError, "threads"),
        (dict(mode="val"), ValueError, r"mode must be one of \('test', 'train'\)"),
        (dict(strategy="fast"), ValueError, "strategy"),
    ],
)
def test_bad_arguments_are_refused_for_in_memory_frames_too(kwargs, error, match):
    args = {"num_frames": 2, **kwargs}
    with pytest.raises(error, match=match):
        read_video_clips(np.zeros((4, 8, 8, 3), np.uint8), **args)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.int64, np.float16])
def test_other_frame_dtypes_in_range_are_converted(dtype):
    scale = 1 / 255 if np.dtype(dtype).kind == "f" else 1
    x = (np.arange(4 * 2 * 2 * 3).reshape(4, 2, 2, 3) * scale).astype(dtype)
    assert frames_to_uint8(x).dtype == torch.uint8
    if dtype in (np.uint16, np.uint32):
        assert frames_to_uint8(torch.from_numpy(x)).dtype == torch.uint8


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.full((2, 4, 4, 3), 1000, np.uint16), ValueError, r"uint16 must hold values in 0..255, got \[1000, 1000\]"),
        (torch.full((2, 4, 4, 3), 70000, dtype=torch.uint32), ValueError, "uint32"),
        (np.zeros((2, 4, 4, 3), complex), TypeError, "accepted dtypes"),
        (np.zeros((2, 4, 4, 3), "U1"), TypeError, "accepted dtypes"),
    ],
)
def test_bad_frame_dtypes_say_what_is_accepted(bad, error, match):
    with pytest.raises(error, match=match):
        frames_to_uint8(bad)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_]),
        shape=hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=5),
        elements={"allow_nan": True, "allow_infinity": True},
    )
)
def test_any_array_is_frames_or_a_clear_type_or_value_error(array):
    try:
        out = frames_to_uint8(array)
    except (TypeError, ValueError) as exc:
        assert "frames" in str(exc)
    else:
        assert out.dtype == torch.uint8 and out.ndim == 4 and out.shape[-1] == 3


# ------------------------------------------------------------------ label files
def test_label_file_not_utf8_names_the_file_and_the_encoding(tmp_path):
    latin = tmp_path / "labels.txt"
    latin.write_bytes("café\nthé\n".encode("cp1252"))
    with pytest.raises(ValueError, match=r"labels.txt.*not UTF-8.*0xe9 at offset 3.*save it as UTF-8"):
        read_labels_file(latin)
    utf16 = tmp_path / "labels16.csv"
    utf16.write_bytes("name\ncafé\n".encode("utf-16"))
    with pytest.raises(ValueError, match="labels16.csv.*UTF-16"):
        read_labels_file(utf16)
    with pytest.raises(ValueError, match="descriptions file.*labels16.csv"):
        read_authors_descriptions(utf16)
    with pytest.raises(TypeError, match="path"):
        read_labels_file(42)


def test_label_file_with_a_utf8_bom(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes("\ufeffname,description\ncafé,a drink\n".encode("utf-8"))
    assert read_labels_file(path) == {"café": "a drink"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200), st.sampled_from([".txt", ".csv", ".tsv", ".json"]))
def test_any_label_file_bytes_give_labels_or_a_value_error_naming_the_file(tmp_path, data, ext):
    path = tmp_path / f"fuzz{ext}"
    path.write_bytes(data)
    try:
        labels = read_labels_file(path)
    except ValueError as exc:
        assert f"fuzz{ext}" in str(exc)
    else:
        assert isinstance(labels, (list, dict)) and labels


# ------------------------------------------------------------------ model folders
@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    model = tiny(0)
    return ezclip_zoo.save_pretrained(model, tmp_path_factory.mktemp("zoo") / "tiny")


def _copy(folder, tmp_path):
    return shutil.copytree(folder, tmp_path / "copy")


def test_weights_files_get_the_permissions_of_config_json(tiny_model, tmp_path):
    model = tiny_model
    old = os.umask(0o027)
    try:
        folder = ezclip_zoo.save_pretrained(model, tmp_path / "m")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    assert modes == {
        "config.json": 0o640,
        "model.safetensors": 0o640,
        "backbone.safetensors": 0o640,
        "README.md": 0o640,
    }


def _edit_config(folder, *keys, value):
    doc = json.loads((folder / "config.json").read_text())
    node = doc["model"]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    (folder / "config.json").write_text(json.dumps(doc))


def _retensor(path, grow):
    from safetensors.torch import load_file, save_file

    sd = load_file(path)
    key = sorted(sd)[0]
    sd[key] = torch.zeros(*[s + grow for s in sd[key].shape])
    save_file(sd, path)
    return key


def test_config_disagreeing_with_the_weights_names_both_files_and_shapes(tiny_folder, tmp_path):
    folder = _copy(tiny_folder, tmp_path)
    _edit_config(folder, "num_frames", value=16)
    with pytest.raises(
        ValueError,
        match=r"model.safetensors.*video_tower.prompts.embeddings: checkpoint "
        r"\(2, 8, 128\) vs model \(2, 16, 128\).*config.json.*re-download",
    ):
        ezclip_zoo.load(folder)
    _edit_config(folder, "num_frames", value=8)
    _edit_config(folder, "backbone", "model_cfg", "text_cfg", "heads", value=3)
    with pytest.raises(ValueError, match="config.json describes a model that cannot be built"):
        ezclip_zoo.load(folder)


@pytest.mark.parametrize("name", ["model.safetensors", "backbone.safetensors"])
def test_wrong_tensor_shape_in_either_weights_file_names_file_tensor_and_shapes(tiny_folder, tmp_path, name):
    folder = _copy(tiny_folder, tmp_path)
    key = _retensor(folder / name, 1)
    with pytest.raises(ValueError, match=rf"{name}.*{key}: checkpoint \(.*\) vs model \(.*\).*config.json"):
        ezclip_zoo.load(folder)


@pytest.mark.parametrize("name", ["model.safetensors", "backbone.safetensors"])
def test_truncated_weights_file_is_named_with_the_fix(tiny_folder, tmp_path, name):
    folder = _copy(tiny_folder, tmp_path)
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"{name} is not a readable safetensors file.*re-download"):
        ezclip_zoo.load(folder)


def test_threads_decoding_one_file_concurrently_get_the_same_frames(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = make_video(tmp_path / "v.mp4", 30, keyframe_interval=5)
    shared = open_video(path)

    def read(k):
        own = read_video_frames(path, 6, strategy=("seek", "sequential")[k % 2])
        frames, _ = shared.decode([1, 9, 17, 25], strategy="seek")
        return [read_index(f) for f in own], [read_index(f) for f in frames]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(read, range(8)))
    assert all(r == ([2, 7, 12, 17, 22, 27], [1, 9, 17, 25]) for r in results)
