"""Preprocessing: open_clip's own eval transform bit for bit, the reference protocol, multi-crop, model config."""

import numpy as np
import pytest
import torch
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image
from torchvision import transforms as T

from ezclip_zoo.transforms.eval import VideoTransform, preprocess_config, preprocess_frames
from ezclip_zoo.transforms.pixels import crop_offsets

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def random_frames(n, h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("size, h, w", [(64, 48, 160), (64, 37, 91), (64, 301, 77), (224, 240, 320), (224, 224, 224)])
def test_clip_protocol_equals_open_clip_eval_transform(size, h, w):
    frames = random_frames(3, h, w)
    reference = image_transform_v2(PreprocessCfg(size=size), is_train=False)
    out = preprocess_frames(frames, size)
    assert out.dtype == torch.float32 and out.shape == (3, 3, size, size)
    for got, frame in zip(out, frames, strict=True):
        assert torch.equal(got, reference(Image.fromarray(frame)))


def test_reference_protocol_is_short_side_256_centre_crop_224_bilinear():
    frames = random_frames(2, 240, 427, seed=1)
    reference = T.Compose(
        [
            T.Resize(256, interpolation=T.InterpolationMode.BILINEAR),
            T.CenterCrop(224),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ]
    )
    out = preprocess_frames(frames, 224, resize_size=256, interpolation="bilinear")
    for got, frame in zip(out, frames, strict=True):
        assert torch.equal(got, reference(Image.fromarray(frame)))


def test_from_model_reads_the_backbone_config(tiny_model):
    clip_t = VideoTransform.from_model(tiny_model)
    assert (clip_t.image_size, clip_t.resize_size, clip_t.interpolation) == (64, 64, "bicubic")
    assert clip_t.mean == pytest.approx(MEAN) and clip_t.std == pytest.approx(STD)
    ref_t = VideoTransform.from_model(tiny_model, protocol="reference")
    assert (ref_t.resize_size, ref_t.interpolation) == (64 * 256 // 224, "bilinear")  # 256 -> 224 scaled to 64 px
    # a backbone whose config records other preprocessing (as a SigLIP or PE backbone's does)
    other = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bilinear"}
    tiny_model.config = tiny_model.config.replace(backbone={"preprocess": other})
    cfg = preprocess_config(tiny_model)
    assert cfg.size == 64 and tuple(cfg.mean) == (0.5, 0.5, 0.5)
    custom = VideoTransform.from_model(tiny_model)
    assert custom.mean == (0.5, 0.5, 0.5) and custom.interpolation == "bilinear"
    # a config built by hand records none: the backbone's open_clip preprocess config (as open_clip.create_model
    # sets it) is read instead
    tiny_model.config = tiny_model.config.replace(backbone={"preprocess": None})
    tiny_model.clip.visual.preprocess_cfg = {**other, "std": (0.5, 0.5, 0.5)}
    assert tuple(preprocess_config(tiny_model).std) == (0.5, 0.5, 0.5)
    frame = np.full((64, 64, 3), 128, np.uint8)
    assert torch.allclose(custom(frame), torch.full((1, 3, 64, 64), (128 / 255 - 0.5) / 0.25), atol=1e-6)


def test_three_crops_lie_along_the_long_side():
    assert crop_offsets(224, 398, 224, 3) == [(0, 0), (0, 87), (0, 174)]
    assert crop_offsets(398, 224, 224, 3) == [(0, 0), (87, 0), (174, 0)]
    assert crop_offsets(256, 341, 224, 1) == [(16, 58)]  # torchvision's rounding of (341 - 224) / 2
    # a frame whose columns hold their own index: the crops start where the offsets say
    frame = np.tile(np.arange(320, dtype=np.uint8)[None, :, None], (224, 1, 3))
    t = VideoTransform(224, 224, num_crops=3, mean=(0, 0, 0), std=(1, 1, 1))
    views = t(frame)
    assert views.shape == (3, 3, 224, 224)
    firsts = [round(float(v[0, 100, 0]) * 255) for v in views]
    assert firsts == [0, 48, 96]


def test_transform_outputs_for_frames_and_batches():
    t = VideoTransform(32, 36, num_crops=3)
    out = t.frames(random_frames(5, 40, 60))
    assert out.shape == (3, 5, 3, 32, 32)
    unnormalised = VideoTransform(32, 36, mean=(0, 0, 0), std=(1, 1, 1))
    gray = unnormalised.frames(random_frames(5, 40, 60)[..., 0])  # grayscale [T, H, W]
    assert torch.equal(gray[:, :, 0], gray[:, :, 1])
    floats = preprocess_frames(torch.from_numpy(random_frames(2, 40, 60)).float() / 255, 32)
    assert torch.equal(floats, preprocess_frames(random_frames(2, 40, 60), 32))  # exact uint8 round trip


def test_bad_transform_arguments():
    with pytest.raises(ValueError, match="resize_size"):
        VideoTransform(224, 200)
    with pytest.raises(ValueError, match="num_crops"):
        VideoTransform(224, 224, num_crops=2)
    with pytest.raises(ValueError, match="interpolation"):
        VideoTransform(224, 224, interpolation="area")
    with pytest.raises(ValueError, match="uint8 RGB"):
        VideoTransform(32, 32)(np.zeros((40, 40), np.float32))
    with pytest.raises(ValueError, match="protocol"):
        VideoTransform.from_model(object(), protocol="tsn")
