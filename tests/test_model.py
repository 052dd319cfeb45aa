"""Model semantics beyond the fixture: base-model equivalence with CLIP, freezing, gradients, modes, errors."""

import pytest
import torch
from _helpers.models import randomize_trainable, tiny

import ezclip_zoo


def _frames(model, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = model.image_size
    return torch.randn(b, model.num_frames, 3, s, s, generator=g)


def test_base_model_with_fresh_adapters_equals_open_clip():
    model = tiny(0, temporal_prompts=False)
    assert model.video_tower.prompts is None
    frames = _frames(model)
    texts = ["a person dancing", "juggling balls", "riding a horse through a field"]
    with torch.no_grad():
        ours = model.encode_frames(frames)
        clip_frames = model.clip.encode_image(frames.flatten(0, 1)).view(ours.shape)
        ours_text = model.encode_text(texts)
        clip_text = model.clip.encode_text(ezclip_zoo.tokenize(texts))
    torch.testing.assert_close(ours, clip_frames, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours_text, clip_text, atol=1e-5, rtol=1e-5)


def test_prompts_make_frames_depend_on_each_other(tiny_model):
    frames = _frames(tiny_model)
    shuffled = frames.clone()
    shuffled[:, 1:] = frames[:, 1:].flip(1)  # same first frame, other frames reordered
    with torch.no_grad():
        a = tiny_model.encode_frames(frames)
        b = tiny_model.encode_frames(shuffled)
    assert not torch.allclose(a[:, 0], b[:, 0], atol=1e-4), "frame 0 must see the other frames through the prompts"


def test_video_is_mean_of_frames_and_logits_are_scaled_cosine(tiny_model):
    randomize_trainable(tiny_model)
    frames = _frames(tiny_model)
    with torch.no_grad():
        per_frame = tiny_model.encode_frames(frames)
        video = tiny_model.encode_video(frames)
        logits = tiny_model(frames, ["a", "b c"])
        text = tiny_model.encode_text(["a", "b c"])
    torch.testing.assert_close(video, per_frame.mean(1))
    cos = torch.nn.functional.cosine_similarity(video[:, None], text[None], dim=-1)
    torch.testing.assert_close(logits, 100 * cos, atol=1e-4, rtol=1e-4)
    assert logits.shape == (2, 2)


def test_text_encoding_independent_of_batch_padding(tiny_model):
    """Encoding runs only up to the longest EOT; a text's embedding must not depend on its batch mates."""
    randomize_trainable(tiny_model)
    short, long = "run", "a person is running very fast along a beach at sunset with a dog"
    with torch.no_grad():
        alone = tiny_model.encode_text([short])
        together = tiny_model.encode_text([short, long])
    torch.testing.assert_close(alone[0], together[0], atol=1e-5, rtol=1e-5)


def test_gradients_reach_every_trainable_tensor_and_no_frozen_one(tiny_model):
    randomize_trainable(tiny_model)
    tiny_model.train()
    frames = _frames(tiny_model)
    loss = ezclip_zoo.ezclip_loss(
        tiny_model.encode_frames(frames),
        tiny_model.encode_text(["x y", "z"]),
        torch.tensor([0, 1]),
        tiny_model.train_logit_scale,
    )
    loss.backward()
    trainable = dict(tiny_model.trainable_named_parameters())
    assert trainable and all(p.requires_grad for p in trainable.values())
    for name, p in trainable.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for name, p in tiny_model.clip.named_parameters():
        assert not p.requires_grad and p.grad is None, name


def test_trainable_state_dict_holds_only_prompts_and_adapters(tiny_model):
    sd = tiny_model.trainable_state_dict()
    layers_v, layers_t = 2, 2
    assert sd["video_tower.prompts.embeddings"].shape == (layers_v, 8, 128)
    assert len([k for k in sd if k.startswith("video_tower.adapters.")]) == 4 * layers_v
    assert len([k for k in sd if k.startswith("text_tower.adapters.")]) == 4 * layers_t
    assert len(sd) == 1 + 4 * (layers_v + layers_t)
    assert not any(k.startswith("clip.") for k in sd)


def test_load_trainable_state_dict_round_trip_and_errors(tiny_model):
    randomize_trainable(tiny_model, seed=3)
    sd = {k: v.clone() for k, v in tiny_model.trainable_state_dict().items()}
    other = tiny(1)
    other.load_trainable_state_dict(sd)
    for k, v in other.trainable_state_dict().items():
        assert torch.equal(v, sd[k])
    broken = dict(sd)
    broken.pop("text_tower.adapters.0.fc1.bias")
    broken["video_tower.extra"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"text_tower\.adapters\.0\.fc1\.bias.*video_tower\.extra"):
        other.load_trainable_state_dict(broken)
    wrong_t = dict(sd, **{"video_tower.prompts.embeddings": torch.zeros(2, 16, 128)})
    with pytest.raises(ValueError, match="shape"):
        other.load_trainable_state_dict(wrong_t)


def test_eval_is_deterministic_and_train_mode_is_stochastic(tiny_model):
    randomize_trainable(tiny_model)
    frames = _frames(tiny_model)
    with torch.no_grad():
        tiny_model.eval()
        e1, e2 = tiny_model.encode_frames(frames), tiny_model.encode_frames(frames)
        tiny_model.train()
        assert tiny_model.video_tower.training and not tiny_model.clip.training
        t1, t2 = tiny_model.encode_frames(frames), tiny_model.encode_frames(frames)
    assert torch.equal(e1, e2)
    assert not torch.allclose(t1, t2), "prompt dropout / drop-path must be active in train mode"


def test_train_mode_without_dropout_equals_eval():
    model = tiny(0, drop_path=0.0, prompt_dropout=0.0)
    randomize_trainable(model)
    frames = _frames(model)
    with torch.no_grad():
        model.eval()
        e = model.encode_frames(frames)
        model.train()
        t = model.encode_frames(frames)
    torch.testing.assert_close(e, t)


def test_drop_path_rates_follow_the_reference_rule():
    model = ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False, device="meta")
    rates = [m.p for m in model.video_tower.drop_paths]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.1) and len(rates) == 12
    assert model.video_tower.attn_dropout == rates
    assert model.video_tower.prompts.dropout.p == 0.1


def test_bad_inputs_raise_clear_errors(tiny_model):
    s = tiny_model.image_size
    with pytest.raises(ValueError, match="8 frames"):
        tiny_model.encode_frames(torch.zeros(1, 4, 3, s, s))
    with pytest.raises(ValueError, match=r"\[B, T, 3, H, W\]"):
        tiny_model.encode_frames(torch.zeros(8, 3, s, s))
    with pytest.raises(ValueError, match="64x64"):
        tiny_model.encode_frames(torch.zeros(1, 8, 3, 32, 32))
    with pytest.raises(ValueError, match="empty"):
        tiny_model.encode_text([])
    with pytest.raises(TypeError, match="strings"):
        tiny_model.encode_text(["ok", 3])
    with pytest.raises(TypeError, match="single string"):
        tiny_model.encode_text("dancing")
    with pytest.raises(TypeError, match="preprocess_frames"):  # raw pixels would give meaningless embeddings
        tiny_model.encode_frames(torch.zeros(1, 8, 3, s, s, dtype=torch.uint8))


def test_empty_batch_gives_empty_outputs(tiny_model):
    s, e = tiny_model.image_size, tiny_model.clip.visual.output_dim
    with torch.no_grad():
        assert tiny_model.encode_frames(torch.zeros(0, 8, 3, s, s)).shape == (0, 8, e)
        assert tiny_model(torch.zeros(0, 8, 3, s, s), ["a", "b"]).shape == (0, 2)


def test_bfloat16_model_runs_and_agrees_with_float32(tiny_model):
    randomize_trainable(tiny_model)
    frames = _frames(tiny_model)
    with torch.no_grad():
        ref = tiny_model(frames, ["a b", "c", "d e f"])
        bf = tiny_model.to(torch.bfloat16)
        out = bf(frames, ["a b", "c", "d e f"])
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 2.0  # logits are 100 * cosine; bf16 keeps ~3 significant digits
    assert torch.equal(out.float().argmax(-1), ref.argmax(-1))


@pytest.mark.parametrize("prompts", [True, False])
def test_grad_checkpointing_gives_the_same_loss_and_gradients(prompts):
    model = tiny(0, temporal_prompts=prompts)
    randomize_trainable(model)
    model.train()
    frames = _frames(model)

    def run():
        for p in model.trainable_parameters():
            p.grad = None
        torch.manual_seed(1)  # same dropout masks in both runs (checkpointing replays the RNG state)
        loss = ezclip_zoo.ezclip_loss(
            model.encode_frames(frames), model.encode_text(["a b", "c"]), torch.tensor([0, 1]), model.train_logit_scale
        )
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.trainable_named_parameters()}

    loss, grads = run()
    model.set_grad_checkpointing(True)
    assert model.video_tower.grad_checkpointing and model.text_tower.grad_checkpointing
    loss_ckpt, grads_ckpt = run()
    torch.testing.assert_close(loss_ckpt, loss)
    for name in grads:
        torch.testing.assert_close(grads_ckpt[name], grads[name], msg=name)
