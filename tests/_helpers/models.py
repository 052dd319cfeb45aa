"""Tiny models built to order: the ``tiny_model`` fixture's architecture with a seed and config overrides, for the
tests that need several, other seeds or other options (the plain one is the ``tiny_model`` fixture)."""

import torch

import ezclip_zoo

TINY = "ezclip-test-tiny"  # the smallest registered architecture: random weights, 64 px, 2 + 2 layers


def tiny(seed: int = 0, **overrides):
    """``ezclip-test-tiny`` with a random backbone, drawn after ``torch.manual_seed(seed)`` (deterministic)."""
    torch.manual_seed(seed)
    return ezclip_zoo.create_model(TINY, pretrained_backbone=False, **overrides)


def randomize_trainable(model, seed: int = 0, scale: float = 0.5) -> None:
    """Give prompts and adapters non-trivial values (fresh adapters are the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in model.trainable_named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale / max(1, p.shape[-1]) ** 0.5)
