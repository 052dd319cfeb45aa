"""`ezclip_zoo.explain`: per-frame attention maps aligned with the sampled frames, their overlays, the CLI, and the
attention capture they read (which leaves the normal forward pass alone)."""

import json

import numpy as np
import pytest
import torch
from _helpers.models import randomize_trainable, tiny
from PIL import Image

import ezclip_zoo
from ezclip_zoo.choices import EXPLAIN_METHODS as METHODS
from ezclip_zoo.cli import main
from ezclip_zoo.figures import save_overlay
from ezclip_zoo.saliency import explain_frames, mass_in_mask, normalize_maps
from ezclip_zoo.synthetic import MotionVideoConfig, render_motion_clip, render_motion_clip_with_masks
from ezclip_zoo.synthetic.motion import MotionClips
from ezclip_zoo.video import sample_clip_indices, write_video

CLASSES = ["juggling", "dancing", "riding a bike"]


def _model(prompts: bool = True):
    model = tiny(0, temporal_prompts=prompts)
    randomize_trainable(model)  # fresh adapters are the identity; give every part of the model a say
    return model


@pytest.fixture(scope="module")
def model():
    return _model(True)


@pytest.fixture(scope="module")
def base_model():
    return _model(False)


def _grey_frames(n: int, height: int = 64, width: int = 80) -> np.ndarray:
    """``n`` flat grey frames, frame i of value 5 + 10 i (tells the frame from its pixels), with a bright square
    that moves so the maps are not flat."""
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i] = 5 + 10 * i
        frames[i, 10:26, 8 + 2 * i : 24 + 2 * i] = 250
    return frames


def test_capture_leaves_the_forward_pass_alone(model, base_model):
    x = torch.randn(2, model.num_frames, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    for m, keys in ((model, 17 + 1), (base_model, 17)):
        with torch.no_grad():
            before = m.encode_frames(x)
            with m.capture_attention([-1, 0]) as captured:
                during = m.encode_frames(x)
            after = m.encode_frames(x)
        assert torch.equal(before, after)  # the normal path is untouched once the capture ends
        torch.testing.assert_close(during, before, atol=1e-5, rtol=0)  # the math form equals SDPA up to rounding
        assert sorted(captured) == [0, 1]  # -1 is the last of the 2 blocks
        heads = m.clip.visual.transformer.resblocks[0].attn.num_heads
        assert captured[1].shape == (2 * m.num_frames, heads, 17, keys)  # 1 CLS + 4 x 4 patches (+ the prompt)
        torch.testing.assert_close(captured[1].sum(-1), torch.ones(2 * m.num_frames, heads, 17))
    with pytest.raises(ValueError, match="blocks must be ints in"):
        with model.capture_attention([2]):
            pass


def test_maps_align_with_the_sampled_frames(model, tmp_path):
    frames = _grey_frames(20)
    indices = sample_clip_indices(20, model.num_frames, 1)[0]
    for video in (frames, write_video(tmp_path / "grey.mp4", frames, fps=10) or str(tmp_path / "grey.mp4")):
        result = ezclip_zoo.explain(model, video, "juggling", method="gradient")
        t, s = model.num_frames, model.image_size
        assert result.maps.shape == (t, s, s) and result.patch_maps.shape == (t, 4, 4)
        assert result.frames.shape == (t, s, s, 3) and result.frames.dtype == torch.uint8
        assert result.frame_indices == indices and result.total_frames == 20
        # each overlay frame is the sampled frame, as the model saw it: its grey level tells which frame it is
        corner = result.frames[:, -8:, -8:].float().mean(dim=(1, 2, 3))
        torch.testing.assert_close(corner, torch.tensor([5.0 + 10 * i for i in indices]), atol=3.0, rtol=0)
    assert result.timestamps == [i / 10 for i in indices]  # the file's frame rate is 10
    assert ezclip_zoo.explain(model, frames, "juggling").timestamps is None  # frames in memory have no clock


@pytest.mark.parametrize("prompts", [True, False], ids=["ezclip", "base"])
@pytest.mark.parametrize("method", METHODS)
def test_maps_are_finite_and_in_the_unit_interval(model, base_model, method, prompts):
    m = model if prompts else base_model
    for normalize in ("clip", "frame"):
        result = ezclip_zoo.explain(m, _grey_frames(12), "dancing", method=method, classes=CLASSES, normalize=normalize)
        for maps in (result.maps, result.patch_maps):
            assert torch.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1
        peaks = result.patch_maps.flatten(1).amax(dim=1)
        if normalize == "clip":
            assert peaks.max() == 1.0  # scaled by the clip's maximum
        else:
            assert torch.allclose(peaks, torch.ones_like(peaks))  # every frame reaches 1
        assert result.maps.std() > 0  # not flat
        assert result.class_name == "dancing" and result.class_names == tuple(CLASSES)
        assert result.probabilities.shape == (3,) and abs(float(result.probabilities.sum()) - 1) < 1e-5
        classified = m.classify(_grey_frames(12), CLASSES, topk=3)
        assert abs(result.score - classified.all_logits[1].item()) < 1e-3  # the same score classify gives


def test_the_class_specific_map_changes_with_the_class(model):
    frames = _grey_frames(16)
    maps = {c: ezclip_zoo.explain(model, frames, c, method="gradient", classes=CLASSES).patch_maps for c in CLASSES}
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert (maps[CLASSES[a]] - maps[CLASSES[b]]).abs().max() > 0.05, (a, b)
    by_index = ezclip_zoo.explain(model, frames, 2, method="gradient", classes=CLASSES)
    assert by_index.class_name == "riding a bike" and torch.equal(by_index.patch_maps, maps["riding a bike"])
    for method in ("attention", "rollout"):  # gradient-free: the same map whichever class is named
        one, other = (
            ezclip_zoo.explain(model, frames, c, method=method, classes=CLASSES).patch_maps for c in CLASSES[:2]
        )
        assert torch.equal(one, other)


def test_the_attention_map_is_the_cls_rows_attention(base_model):
    frames = torch.randn(base_model.num_frames, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad(), base_model.capture_attention([-1]) as captured:
        base_model.encode_frames(frames[None])
    expected = captured[1][:, :, 0, 1:].mean(dim=1).reshape(-1, 4, 4)
    maps, _ = explain_frames(base_model.eval(), frames, "attention")
    torch.testing.assert_close(maps, expected)
    torch.testing.assert_close(normalize_maps(maps), expected / expected.max())


def test_clear_errors(model):
    frames = _grey_frames(8)
    with pytest.raises(ValueError, match="unknown class 'jugling'.*did you mean 'juggling'"):
        ezclip_zoo.explain(model, frames, "jugling", classes=CLASSES)
    with pytest.raises(ValueError, match="class-specific"):
        ezclip_zoo.explain(model, frames, method="gradient")
    with pytest.raises(ValueError, match="method must be one of"):
        ezclip_zoo.explain(model, frames, "juggling", method="gradcam")
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        ezclip_zoo.explain(model, frames, 3, classes=CLASSES)
    with pytest.raises(ValueError, match="needs classes"):
        ezclip_zoo.explain(model, frames, 0)
    with pytest.raises(TypeError, match="class name"):
        ezclip_zoo.explain(model, frames, 1.5)
    with pytest.raises(ValueError, match="normalize must be one of"):
        ezclip_zoo.explain(model, frames, "juggling", normalize="global")
    assert ezclip_zoo.explain(model, frames, method="rollout").class_name is None  # gradient-free: no class needed


def test_mass_in_mask():
    maps = torch.zeros(2, 4, 4)
    maps[0, :2, :2] = 1.0  # all of frame 0's mass in the top-left quarter
    maps[1] = 1.0  # frame 1: uniform
    masks = torch.zeros(2, 4, 4, dtype=torch.bool)
    masks[:, :2, :2] = True
    mass, share = mass_in_mask(maps, masks)
    torch.testing.assert_close(mass, torch.tensor([1.0, 0.25]))
    torch.testing.assert_close(share, torch.tensor([0.25, 0.25]))
    with pytest.raises(ValueError, match="one shape"):
        mass_in_mask(maps, masks[:, :2])


def test_motion_masks_come_from_the_same_renderer():
    config = MotionVideoConfig(size=32, pairs=("horizontal", "scale"))
    for label in range(4):
        frames, masks = render_motion_clip_with_masks(config, label, np.random.default_rng(label))
        assert np.array_equal(frames, render_motion_clip(config, label, np.random.default_rng(label)))
        assert masks.shape == frames.shape[:3] and masks.dtype == bool
        grey = frames.mean(axis=-1)
        assert (grey[masks] >= 127).all() and (grey[~masks] < 128).all()  # the mask is the bright half-covered pixels
        assert masks.any(axis=(1, 2)).all()  # the shape is in every frame
    clips = MotionClips(4, seed=3, config=config, both_orders=True)
    frames, masks, label = clips.clip_with_masks(3)  # clip 1 played backwards
    forward, forward_masks, forward_label = clips.clip_with_masks(2)
    assert np.array_equal(frames, forward[::-1]) and np.array_equal(masks, forward_masks[::-1])
    assert label == forward_label ^ 1 and np.array_equal(frames, clips.clip(3)[0])


def test_save_overlay_writes_a_png_grid(model, tmp_path):
    result = ezclip_zoo.explain(model, _grey_frames(8), "juggling")
    path = ezclip_zoo.save_overlay(result, tmp_path / "figs" / "maps.png", columns=4)
    image = Image.open(path)
    assert image.format == "PNG" and image.size == (4 * 128, 18 + 2 * (2 * 128 + 14))  # 2 rows of frame + overlay
    pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a picture, not a blank
    with pytest.raises(ValueError, match="PNG"):
        save_overlay(result, tmp_path / "maps.jpg")


def test_the_explain_command_writes_a_png(tmp_path, capsys):
    video = tmp_path / "grey.mp4"
    write_video(video, _grey_frames(24), fps=8)
    out, npz = tmp_path / "maps.png", tmp_path / "maps.npz"
    argv = [
        "explain",
        str(video),
        "-m",
        "ezclip-test-tiny",
        "--class",
        "juggling",
        "-l",
        "juggling",
        "-l",
        "dancing",
        "-o",
        str(out),
        "--npz",
        str(npz),
        "--json",
    ]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["method"] == "gradient" and record["class"] == "juggling"
    assert record["frame_indices"] == sample_clip_indices(24, 8, 1)[0]
    assert Image.open(out).format == "PNG"
    saved = np.load(npz)
    assert saved["maps"].shape == (8, 64, 64) and saved["timestamps"].tolist() == [
        i / 8 for i in record["frame_indices"]
    ]
    assert (
        main(["explain", str(video), "-m", "ezclip-test-tiny", "--class", "jugling", "-l", "juggling", "-o", str(out)])
        == 1
    )
    assert "unknown class 'jugling'" in capsys.readouterr().err


def test_a_bfloat16_model_gives_maps_too():
    model = _model(True).to(torch.bfloat16)
    for method in METHODS:
        result = ezclip_zoo.explain(model, _grey_frames(8), "juggling", method=method)
        assert result.maps.dtype == torch.float32 and torch.isfinite(result.maps).all()
        assert 0 <= result.maps.min() and result.maps.max() <= 1 and result.maps.std() > 0


def test_gradient_maps_inside_inference_mode(model):
    expected = ezclip_zoo.explain(model, _grey_frames(8), "juggling", method="gradient").patch_maps
    with torch.inference_mode():
        inside = ezclip_zoo.explain(model, _grey_frames(8), "juggling", method="gradient").patch_maps
    torch.testing.assert_close(inside, expected)


def test_the_manual_shows_an_overlay_made_by_the_command():
    from _helpers.paths import REPO_ROOT

    page = (REPO_ROOT / "docs" / "explain.md").read_text()
    for name in ("explain_motion.png", "explain_motion_attention.png"):
        path = REPO_ROOT / "docs" / name
        assert path.stat().st_size < 300_000 and Image.open(path).format == "PNG"
        assert f"]({name})" in page and f"-o docs/{name}" in page  # shown, with the command that made it
    assert "python benchmarks/explain_masks.py" in page
