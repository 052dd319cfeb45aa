"""How much of a map lies on an object: the share of a map's mass inside a mask, against the mask's share of the
area (a map that ignores the object scores its area share, ratio 1)."""

from __future__ import annotations

import torch

__all__ = ["mass_in_mask"]


def mass_in_mask(maps: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per frame, the fraction of a map's mass inside a mask, and the mask's fraction of the frame's area.

    Args:
        maps: non-negative [T, H, W] (e.g. `Explanation.maps`).
        masks: [T, H, W] booleans (or coverage in [0, 1]), the object's pixels, same size as ``maps``.

    Returns:
        (mass [T], area share [T]), float32; a frame whose map is all zero has mass 0.
    """
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(
            f"maps and masks must both be [T, H, W] of one shape, got {tuple(maps.shape)} and {tuple(masks.shape)}"
        )
    maps, masks = maps.float().clamp_min(0), masks.float()
    total = maps.sum(dim=(1, 2))
    inside = (maps * masks).sum(dim=(1, 2))
    mass = torch.where(total > 0, inside / total.clamp_min(1e-30), torch.zeros_like(total))
    return mass, masks.mean(dim=(1, 2))
