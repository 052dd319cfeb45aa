"""The ViT stem: CLIP's patch convolution, computed as one GEMM where that is faster.

A convolution whose stride equals its kernel and that has no padding is a matrix product: cut the image into its
non-overlapping p x p patches, flatten each to 3 p^2 values, and multiply by the kernel flattened the same way.
On 2 threads of an AMD EPYC, in bfloat16 / float16, oneDNN's convolution was slower than that GEMM plus the copy
that lays the patches out (8-frame clips: B/32 8.0 -> 4.6 ms, B/16 6.5 -> 5.4 ms, L/14 8.2 -> 6.7 ms), and in float32
as fast or faster (L/14 25 vs 36 ms). Other CPUs differ, so on the CPU the faster of the two is measured once per
process (`ezclip_zoo.modeling.kernels`), with that EPYC rule as the default where nothing is timed; GPUs keep cuDNN's
convolution.
"""

from __future__ import annotations

from typing import TypeGuard

import torch
import torch.nn.functional as F
from torch import nn

from ..kernels import choose

__all__ = ["patch_tokens", "conv_tokens", "gemm_tokens"]


def _is_patchify(conv: nn.Module) -> TypeGuard[nn.Conv2d]:
    """Whether ``conv`` is a 2-D convolution over non-overlapping patches (stride == kernel, no padding)."""
    return (
        type(conv) is nn.Conv2d
        and conv.stride == conv.kernel_size
        and conv.padding == (0, 0)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
    )


def conv_tokens(conv: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """``conv(pixels)`` [N, W, g_h, g_w] as tokens [N, g_h * g_w, W]: the convolution form of `patch_tokens`."""
    return conv(pixels).flatten(2).transpose(1, 2)


def patch_tokens(conv: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """Patch embeddings of images: ``conv(pixels)`` as tokens.

    Args:
        conv: the ViT's patch convolution (``visual.conv1``), [W, 3, p, p] weights.
        pixels: [N, 3, H, W_img] normalised images.

    Returns:
        [N, g_h * g_w, W] tokens, row-major over the (H // p) x (W_img // p) patch grid, as `conv_tokens` gives
        them (the same values up to float rounding).
    """
    if not (pixels.device.type == "cpu" and _is_patchify(conv) and pixels.ndim == 4):
        return conv_tokens(conv, pixels)
    runners = {"conv": lambda: conv_tokens(conv, pixels), "gemm": lambda: gemm_tokens(conv, pixels)}
    default = "gemm" if pixels.dtype in (torch.bfloat16, torch.float16) else "conv"
    return runners[choose("patch_embed", (pixels.dtype, tuple(pixels.shape)), pixels.device, runners, default)]()


def gemm_tokens(conv: nn.Conv2d, pixels: torch.Tensor) -> torch.Tensor:
    """The patch convolution of `patch_tokens` as one GEMM over the cut-out patches: [N, 3, H, W] -> [N, g*g, W]."""
    n, channels, height, width = pixels.shape
    ph, pw = conv.kernel_size
    gh, gw = height // ph, width // pw
    # a strided convolution ignores the pixels past the last whole patch
    pixels = pixels[:, :, : gh * ph, : gw * pw]
    patches = pixels.reshape(n, channels, gh, ph, gw, pw).permute(0, 2, 4, 1, 3, 5).reshape(n * gh * gw, -1)
    weight = conv.weight.reshape(conv.weight.shape[0], -1)
    tokens = F.linear(patches, weight, conv.bias)
    return tokens.view(n, gh * gw, -1)
