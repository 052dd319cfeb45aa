"""The installed open_clip is one whose internals the towers read, and a version that changed them fails with a
message that says so (open_clip's main branch already replaced the attention module of its blocks)."""

from __future__ import annotations

import importlib.metadata

import open_clip
import pytest
import torch
from packaging.specifiers import SpecifierSet
from torch import nn

from ezclip_zoo.modeling.families import _installed, _supported, backbone_family
from ezclip_zoo.zoo.architectures import tiny_clip_config


@pytest.mark.parametrize("distribution", ["open_clip_torch", "timm"])
def test_the_installed_versions_are_the_supported_ones(distribution):
    supported = _supported(distribution)
    assert supported.startswith((">=", "<")), f"no version range for {distribution} in ezclip-zoo's metadata"
    assert ">=" in supported and "<" in supported.replace("<=", ""), "a floor and a cap below the next major"
    installed = importlib.metadata.version(distribution)
    assert SpecifierSet(supported).contains(installed), (
        f"{distribution} {installed} is installed, but ezclip-zoo supports {distribution}{supported}: "
        f"pip install '{distribution}{supported}'"
    )


def _tiny_clip() -> nn.Module:
    torch.manual_seed(0)
    return open_clip.CLIP(**tiny_clip_config(32), quick_gelu=True)


def test_the_installed_open_clip_has_what_the_towers_read():
    clip = _tiny_clip()
    assert backbone_family(clip) == "openai-vit"  # raises, naming what changed, when a block is not what it reads
    block = clip.visual.transformer.resblocks[0]
    for name in ("ln_1", "ln_2", "ls_1", "ls_2", "mlp"):
        assert hasattr(block, name), f"open_clip {_installed('open_clip_torch')}'s blocks have no {name}"
    assert isinstance(block.mlp.c_fc, nn.Linear) and isinstance(block.mlp.c_proj, nn.Linear)
    for name in ("conv1", "class_embedding", "positional_embedding", "ln_pre", "ln_post", "proj"):
        assert hasattr(clip.visual, name), f"open_clip's VisionTransformer has no {name}"
    for name in ("token_embedding", "positional_embedding", "ln_final", "text_projection", "attn_mask"):
        assert hasattr(clip, name), f"open_clip's CLIP has no {name}"


class _NewAttention(nn.Module):
    """Stands for an attention module of another shape, as open_clip's main branch has."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_an_open_clip_whose_blocks_changed_is_refused_with_the_supported_range():
    clip = _tiny_clip()
    clip.visual.transformer.resblocks[0].attn = _NewAttention()
    with pytest.raises(ValueError) as info:
        backbone_family(clip)
    message = str(info.value)
    assert "_NewAttention" in message and "nn.MultiheadAttention" in message
    assert f"open_clip_torch{_supported('open_clip_torch')}" in message
