"""The model reproduces the authors' code on their parity fixture (../shared/parity) to float precision."""

import pytest
import torch
import torch.nn.functional as F

import ezclip_zoo
from ezclip_zoo.modeling.losses import ezclip_loss, kl_contrastive_loss, motion_loss

TOL = dict(atol=1e-4, rtol=1e-4)


@pytest.fixture(scope="module")
def outputs(parity_model, parity_ref, parity_meta):
    m = parity_model
    frames = parity_ref["frames"]
    with torch.no_grad():
        frame_features = m.encode_frames(frames)
        return {
            "frame_features": frame_features,
            "video_features": m.encode_video(frames),
            "text_features": m.encode_text(parity_ref["text_tokens"]),
            "text_features_from_strings": m.encode_text(parity_meta["texts"]),
            "logits": m(frames, parity_ref["text_tokens"]),
            "kl_text_features": m.encode_text(parity_ref["kl_text_tokens"]),
        }


@pytest.mark.parametrize("name", ["frame_features", "video_features", "text_features", "logits"])
def test_features_and_logits_match_reference(outputs, parity_ref, name):
    torch.testing.assert_close(outputs[name], parity_ref[name], **TOL)


def test_text_from_raw_strings_matches_reference(outputs, parity_ref):
    torch.testing.assert_close(outputs["text_features_from_strings"], parity_ref["text_features"], **TOL)


def test_tokenizer_matches_reference(parity_ref, parity_meta):
    tokens = ezclip_zoo.tokenize(parity_meta["texts"])
    assert torch.equal(tokens, parity_ref["text_tokens"])
    assert tokens.argmax(-1).tolist() == parity_meta["eot_positions"]


def test_probabilities_match_reference(outputs, parity_ref):
    torch.testing.assert_close(outputs["logits"].softmax(-1), parity_ref["probs"], **TOL)


def test_model_is_float32_eval_and_frozen_backbone(parity_model):
    assert not parity_model.training
    assert all(p.dtype == torch.float32 for p in parity_model.parameters())
    assert not any(p.requires_grad for p in parity_model.clip.parameters())
    assert parity_model.num_frames == 8 and parity_model.image_size == 64


def test_train_logit_scale_is_the_frozen_clip_temperature(parity_model, parity_ref):
    torch.testing.assert_close(parity_model.train_logit_scale.detach(), parity_ref["logit_scale_exp"])


def test_motion_loss_matches_reference(parity_ref):
    torch.testing.assert_close(motion_loss(parity_ref["motion_input"]), parity_ref["motion_loss"], **TOL)
    torch.testing.assert_close(
        motion_loss(parity_ref["frame_features"]), parity_ref["motion_loss_frame_features"], **TOL
    )


def test_kl_loss_terms_match_reference(outputs, parity_ref):
    torch.testing.assert_close(outputs["kl_text_features"], parity_ref["kl_text_features"], **TOL)
    video = F.normalize(parity_ref["video_features"], dim=-1)
    text = F.normalize(outputs["kl_text_features"], dim=-1)
    logits = parity_ref["logit_scale_exp"] * video @ text.T
    torch.testing.assert_close(logits, parity_ref["kl_logits"], **TOL)
    torch.testing.assert_close(logits.T, parity_ref["kl_logits_per_text"], **TOL)
    labels = parity_ref["kl_labels"]
    loss = kl_contrastive_loss(parity_ref["kl_logits"], labels)
    expected = (parity_ref["kl_loss_img"] + parity_ref["kl_loss_txt"]) / 2
    torch.testing.assert_close(loss, parity_ref["kl_loss"], **TOL)
    torch.testing.assert_close(loss, expected, **TOL)


def test_total_training_loss_matches_reference(parity_model, parity_ref, outputs):
    total = ezclip_loss(
        outputs["frame_features"], outputs["kl_text_features"], parity_ref["kl_labels"], parity_model.train_logit_scale
    )
    torch.testing.assert_close(total, parity_ref["total_loss"], **TOL)


def test_checkpoint_read_without_unpickling(parity_dir, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    ezclip_zoo.load_official_checkpoint(parity_dir / "official_checkpoint.pt")
    assert calls == [True]
