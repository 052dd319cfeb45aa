"""Trainable parameter counts equal the reference model's (../shared/parity/param_counts.json)."""

import json

import pytest

import ezclip_zoo

CASES = [
    ("ezclip-vit-b16", "ViT-B/16", 8),
    ("ezclip-vit-b16", "ViT-B/16", 16),
    ("ezclip-vit-b32", "ViT-B/32", 8),
    ("ezclip-vit-b32", "ViT-B/32", 16),
    ("ezclip-vit-l14", "ViT-L/14", 8),
]


@pytest.fixture(scope="module")
def counts(parity_dir):
    return json.loads((parity_dir / "param_counts.json").read_text())["counts"]


@pytest.mark.parametrize("name,arch,frames", CASES)
def test_trainable_counts_match_reference(counts, name, arch, frames):
    expected = counts[f"{arch} T={frames}"]
    model = ezclip_zoo.create_model(name, pretrained_backbone=False, device="meta", num_frames=frames)
    assert all(p.is_meta for p in model.parameters())  # nothing allocated
    groups = {"prompts": 0, "visual_adapters": 0, "text_adapters": 0}
    for key, p in model.trainable_named_parameters():
        group = "prompts" if ".prompts." in key else "visual_adapters" if key.startswith("video_") else "text_adapters"
        groups[group] += p.numel()
    assert model.num_trainable_parameters() == expected["trainable"]
    assert groups == {k: expected[k] for k in groups}
    # the reference also holds a frozen all-zero temporal embedding [1, T, width] that we drop
    width = model.clip.visual.conv1.out_channels
    assert sum(p.numel() for p in model.parameters()) == expected["total_params"] - frames * width


def test_b16_at_8_frames_is_5_2m():
    model = ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False, device="meta")
    assert model.num_trainable_parameters() == 5_204_736
