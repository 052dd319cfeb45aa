"""Scores that match the backbone's objective (issue 33, item 1): SigLIP-family models also give each class's
sigmoid presence probability with the backbone's own scale and bias, `localize` can read those instead of the
softmax (refusing the options that assume one), and fine-tuning can use the backbone's sigmoid loss."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _helpers.families import family_model
from _helpers.models import randomize_trainable

from ezclip_zoo.modeling.losses import ezclip_loss, sigmoid_contrastive_loss
from ezclip_zoo.transforms import VideoTransform

CLASSES = ["dancing", "juggling", "riding a bike"]


@pytest.fixture(scope="module")
def siglip(tmp_path_factory):
    model = family_model("siglip2", tmp_path_factory.mktemp("tok"), temporal_prompts=False)
    randomize_trainable(model, seed=1)
    return model


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (40, 32, 32, 3), dtype=np.uint8)  # 5 s at 8 fps


def _presence_by_hand(model, frames_uint8: np.ndarray, texts: list[str]) -> torch.Tensor:
    transform = VideoTransform.from_model(model)
    clip_frames = transform.frames(frames_uint8)[0][None]  # [1, T, 3, S, S]
    scale, bias = model.presence_scale_bias
    with torch.no_grad():
        video = F.normalize(model.encode_video(clip_frames), dim=-1)
        text = F.normalize(model.encode_text(texts), dim=-1)
    return torch.sigmoid(scale * video @ text.T + bias)[0]


def test_siglip_models_carry_the_backbones_sigmoid_calibration(siglip, tmp_path):
    scale, bias = siglip.presence_scale_bias
    assert scale == pytest.approx(float(siglip.clip.logit_scale.exp())) and bias == pytest.approx(-10.0)
    assert family_model("pe-core", tmp_path / "t").presence_scale_bias is None  # softmax-trained: no calibration


def test_classify_adds_presence_probabilities_for_sigmoid_backbones(siglip, frames, tmp_path):
    result = siglip.classify(frames[:4], CLASSES, topk=3)  # 4 frames, the model's T: every one sampled once
    expected = _presence_by_hand(siglip, frames[:4], CLASSES)
    torch.testing.assert_close(result.all_presence, expected, rtol=0, atol=1e-5)
    assert result.presence == pytest.approx([float(expected[CLASSES.index(c)]) for c in result.labels], abs=1e-5)
    assert "presence" in result.to_dict() and "present" in str(result)
    assert sum(result.probabilities) == pytest.approx(1.0, abs=1e-5)  # the softmax is still there, and ranks
    pe = family_model("pe-core", tmp_path / "t")
    assert pe.classify(frames[:4], CLASSES).presence is None


def test_localize_reads_presence_with_scores_sigmoid(siglip, frames):
    result = siglip.localize(frames, CLASSES, fps=8, window_s=1.0, stride_s=1.0, scores="sigmoid", min_score=0.5)
    assert result.scores == "sigmoid" and result.to_dict()["scores"] == "sigmoid"
    for window, row in zip(result.windows, result.probabilities, strict=True):
        by_hand = _presence_by_hand(siglip, frames[list(window.frame_indices)], CLASSES)
        torch.testing.assert_close(row, by_hand, rtol=0, atol=1e-5)
    softmax = siglip.localize(frames, CLASSES, fps=8, window_s=1.0, stride_s=1.0)
    torch.testing.assert_close(softmax.probabilities.sum(dim=1), torch.ones(len(softmax.windows)))
    # "no action" is no class reaching min_score: a threshold above every presence finds nothing
    top = float(result.probabilities.max())
    assert result.resegment(min_score=min(1.0, top + 1e-3)).segments == []


def test_the_options_that_assume_a_softmax_are_refused(siglip, frames, tmp_path):
    with pytest.raises(ValueError, match="drop the background texts"):
        siglip.localize(frames, CLASSES, fps=8, scores="sigmoid", background=["nothing happening"])
    with pytest.raises(ValueError, match="min_margin is a lead over the runner-up of a softmax"):
        siglip.localize(frames, CLASSES, fps=8, scores="sigmoid", min_margin=0.1)
    result = siglip.localize(frames, CLASSES, fps=8, scores="sigmoid")
    with pytest.raises(ValueError, match="min_margin"):
        result.resegment(min_margin=0.2)
    pe = family_model("pe-core", tmp_path / "t")
    with pytest.raises(ValueError, match="needs a backbone trained with a sigmoid objective"):
        pe.localize(frames, CLASSES, fps=8, scores="sigmoid")
    with pytest.raises(ValueError, match="scores must be one of"):
        siglip.localize(frames, CLASSES, fps=8, scores="logistic")


def test_the_sigmoid_loss_by_hand():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, 0.0], [0.5, 4.0, -2.0]])
    labels = torch.tensor([0, 1, 0])  # clips 0 and 2 share a class: both pairs are positives
    signs = torch.tensor([[1.0, -1, 1], [-1, 1, -1], [1, -1, 1]])
    expected = -torch.log(torch.sigmoid(signs * logits)).sum() / 3
    torch.testing.assert_close(sigmoid_contrastive_loss(logits, labels), expected)
    frames, texts = torch.randn(3, 4, 8), torch.randn(3, 8)
    softmax = ezclip_loss(frames, texts, labels, 10.0, motion_weight=0.0)
    sigmoid = ezclip_loss(frames, texts, labels, 10.0, motion_weight=0.0, logit_bias=-5.0)
    cos = F.normalize(frames.mean(1), dim=-1) @ F.normalize(texts, dim=-1).T
    torch.testing.assert_close(sigmoid, sigmoid_contrastive_loss(10.0 * cos - 5.0, labels))
    assert not torch.allclose(softmax, sigmoid)


def test_fine_tuning_says_which_loss_and_refuses_sigmoid_without_a_bias(siglip, tmp_path, caplog):
    from ezclip_zoo.synthetic import MotionClips, MotionVideoConfig
    from ezclip_zoo.train import TrainConfig, fit

    data = MotionClips(4, seed=0, config=MotionVideoConfig(size=32, num_frames=4))
    texts = [[c] for c in data.classes]
    model = family_model("siglip2", tmp_path / "tok")
    before = {k: v.clone() for k, v in model.trainable_state_dict().items()}
    with caplog.at_level(logging.INFO, logger="ezclip_zoo"):
        fit(
            model, data, TrainConfig(epochs=1, batch_size=4, lr=1e-3, warmup_steps=0, loss="sigmoid"), class_texts=texts
        )
    assert "loss: sigmoid over every video-text pair with the backbone's own scale and bias" in caplog.text
    assert any(not torch.equal(before[k], v) for k, v in model.trainable_state_dict().items())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ezclip_zoo"):
        fit(
            family_model("siglip2", tmp_path / "tok"),
            data,
            TrainConfig(epochs=1, batch_size=4, warmup_steps=0),
            class_texts=texts,
        )
    assert "softmax KL over the batch (the reference's loss" in caplog.text and "loss='sigmoid'" in caplog.text
    with pytest.raises(ValueError, match="has none .* use loss='softmax'"):
        fit(family_model("pe-core", tmp_path / "tok"), data, TrainConfig(loss="sigmoid"), class_texts=texts)
    with pytest.raises(ValueError, match="loss must be one of"):
        TrainConfig(loss="hinge")
