"""Explanations on every backbone family (issue 33, item 2): attention maps where there is no class token read the
attention-pool head's latent queries over the patches; capture leaves results alone; the recorded attention is the
one timm computes; gradient maps follow the class."""

from __future__ import annotations

import pytest
import torch
from _helpers.families import family_model
from _helpers.models import randomize_trainable

from ezclip_zoo.modeling.towers.timm_video import attention_pool, readout_weights
from ezclip_zoo.saliency import explain_frames

TIMM_FAMILIES = ["siglip2", "pe-core", "pe-core-bigg", "eva02", "timm-vit-ls"]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tok")


def _frames(seed: int = 0) -> torch.Tensor:
    return torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("family", TIMM_FAMILIES)
def test_capture_records_every_block_and_leaves_the_results_alone(family, tokenizer_dir):
    model = family_model(family, tokenizer_dir)
    randomize_trainable(model, seed=2)
    frames = _frames()[None]
    with torch.no_grad():
        plain = model.encode_frames(frames)
        with model.capture_attention() as captured:
            recorded = model.encode_frames(frames)
    torch.testing.assert_close(recorded, plain, rtol=0, atol=1e-5)  # timm's unfused path: the same attention
    trunk = model.clip.visual.trunk
    assert sorted(captured) == list(range(len(trunk.blocks))) and captured.prefix == trunk.num_prefix_tokens
    length = trunk.num_prefix_tokens + 16  # a 4 x 4 patch grid
    for probs in captured.values():
        assert probs.shape == (4, 2, length, length + 1)  # the frame's L tokens over them and its prompt
        torch.testing.assert_close(probs.sum(dim=-1), torch.ones(4, 2, length))
    assert all(getattr(b.attn, "fused_attn", True) is not False for b in trunk.blocks)  # the switch is restored
    has_pool = trunk.attn_pool is not None
    assert (captured.readout is not None) == has_pool


@pytest.mark.parametrize("family", ["siglip2", "pe-core", "pe-core-bigg"])
def test_the_readout_is_the_attention_pool_heads_own_attention(family, tokenizer_dir):
    """The head run from the recorded weights gives what the head computes (and the weights are zero on the tokens
    the head does not read)."""
    model = family_model(family, tokenizer_dir)
    trunk = model.clip.visual.trunk
    pool = trunk.attn_pool
    x = torch.randn(3, trunk.num_prefix_tokens + 16, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        weights = readout_weights(trunk, x)  # [N, H, Q, L]
        start = 0 if getattr(trunk, "pool_include_prefix", True) else trunk.num_prefix_tokens
        expected = pool(x[:, start:])
        torch.testing.assert_close(attention_pool(trunk, x, weights), expected, rtol=0, atol=1e-5)
    assert torch.all(weights[..., :start] == 0)


@pytest.mark.parametrize("family", ["siglip2", "pe-core-bigg", "pe-core", "eva02"])
@pytest.mark.parametrize("method", ["attention", "rollout", "gradient"])
def test_maps_on_every_family(family, method, tokenizer_dir):
    model = family_model(family, tokenizer_dir).eval()
    randomize_trainable(model, seed=3)
    texts = torch.nn.functional.normalize(model.encode_text(["juggling", "dancing"]).detach(), dim=-1)[None]
    maps, video = explain_frames(model, _frames(), method, texts, 0)
    assert maps.shape == (4, 4, 4) and torch.isfinite(maps).all() and (maps >= 0).all() and maps.sum() > 0
    if method == "attention" and model.clip.visual.trunk.attn_pool is not None:
        with torch.no_grad(), model.capture_attention([-1]) as captured:
            model.encode_frames(_frames()[None])
        prefix = captured.prefix
        torch.testing.assert_close(maps.flatten(1), captured.readout.mean(dim=(1, 2))[:, prefix:], rtol=0, atol=1e-6)
    if method == "gradient":
        other, _ = explain_frames(model, _frames(), method, texts, 1)
        assert not torch.allclose(maps, other)  # the map follows the class


def test_explain_end_to_end_on_a_backbone_without_a_class_token(tokenizer_dir):
    import numpy as np

    import ezclip_zoo

    model = family_model("siglip2", tokenizer_dir)
    frames = np.random.default_rng(0).integers(0, 255, (12, 48, 48, 3), dtype=np.uint8)
    explanation = ezclip_zoo.explain(model, frames, "juggling", classes=["juggling", "dancing"], method="gradient")
    assert explanation.maps.shape == (4, 32, 32) and explanation.patch_maps.shape == (4, 4, 4)
    assert float(explanation.maps.max()) == pytest.approx(1.0) and explanation.class_name == "juggling"
