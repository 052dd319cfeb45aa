"""The motion benchmark's random backbones, one per family: a tiny OpenAI-layout CLIP, a SigLIP-like and a
PE-like backbone built from the families' own timm trunks, all at the benchmark's size (32 px frames, patch 16,
vision width 128 x 4 layers, 64-wide heads, a 2-layer text tower of width 64).

`motion_backbone(family)` returns a `BackboneConfig` dict for ``create_model(..., backbone=...)``, and
`init_motion_trunk(model)` redraws a timm trunk's linear layers the way open_clip draws its own random CLIP's: the
benchmark's backbone is both. timm initialises a ViT or an Eva for training from scratch (weights of std 0.02, Eva's
output projections divided by up to sqrt(2 L) more), and a frozen random trunk drawn so attends almost uniformly
with small residual branches: the temporal prompts then barely move the clip embedding (reversing a clip moved it
by 0.02% of the distance to another clip for both timm families, 1.1% for the OpenAI layout), and 300 steps of
EZ-CLIP learnt no direction (51% within pairs). Drawn as open_clip draws the OpenAI layout (PyTorch's default for a
linear layer, Xavier-uniform for the fused q/k/v projection as in ``nn.MultiheadAttention``, zero biases) the same
300 steps reached 73% (SigLIP-like) and 91% (PE-like) in a trial; see docs/motion-benchmark.md for 5 seeds each.

The text towers tokenize with CLIP's BPE (the package's own tokenizer: nothing to write or fetch; a Hugging Face
tokenizer would need a tokenizer folder and ``transformers``). The SigLIP-like text tower keeps SigLIP 2's shape
(not causal, pooled at the last position of the padded context, GELU with the tanh approximation, a logit bias of
-10) at a 16-token context. Random, it draws the two names of a pair nearly equal (cosine 0.97 to 1.00 between
"moving right" and "moving left" at contexts 8 to 64, seeds 0-2: the last pad reads the words through nearly
uniform attention over the whole context), and EZ-CLIP over it misses the benchmark's bar; ``"siglip2-causal-text"``
puts the SigLIP-like vision side under the PE-like causal text tower, to measure the vision side alone, and
``motion_backbone(..., text={"no_causal_mask": False, "pool_type": "argmax"})`` changes only those two parts of
SigLIP 2's text shape (which passes the bar: docs/motion-benchmark.md).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["MOTION_FAMILIES", "SIGLIP2_TEXT", "init_motion_trunk", "motion_backbone", "teach_text_tower"]

_HALF = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "squash"}
_TEXT = {"vocab_size": 49408, "width": 64, "heads": 1, "layers": 2}
# SigLIP 2's text tower shape in open_clip's text_cfg (not causal, pooled at the last position, a bias on the
# projection, LayerNorm eps 1e-6, GELU with the tanh approximation), at any size and vocabulary
SIGLIP2_TEXT = {
    "no_causal_mask": True,
    "proj_bias": True,
    "pool_type": "last",
    "norm_kwargs": {"eps": 1e-6},
    "act_kwargs": {"approximate": "tanh"},
}

MOTION_FAMILIES = ("openai", "siglip2", "pe-core", "siglip2-causal-text")


def _timm_vision(image_size: int, name: str) -> dict[str, Any]:
    return {"image_size": image_size, "timm_model_name": name, "timm_pool": "map", "timm_proj": "none"}


def _pe_text() -> dict[str, Any]:
    return {**_TEXT, "context_length": 32}


def _timm_sizes(size: int, patch: int, width: int, layers: int) -> dict[str, Any]:
    heads = max(1, width // 64)
    return {"depth": layers, "embed_dim": width, "num_heads": heads, "patch_size": patch, "img_size": size}


def _with_text(model_cfg: dict[str, Any], text: dict[str, Any] | None) -> dict[str, Any]:
    """``model_cfg`` with ``text`` overriding keys of its ``text_cfg``."""
    return {**model_cfg, "text_cfg": {**model_cfg["text_cfg"], **copy.deepcopy(text or {})}}


def motion_backbone(
    family: str,
    *,
    size: int = 32,
    patch: int = 16,
    width: int = 128,
    layers: int = 4,
    text: dict[str, Any] | None = None,
) -> dict:
    """The `BackboneConfig` dict of the motion benchmark's random ``family`` backbone (one of `MOTION_FAMILIES`):

    * ``"openai"``: open_clip's own CLIP (`tiny_clip_config`), the benchmark's original backbone;
    * ``"siglip2"``: timm's SigLIP 2 ViT (no class token, attention-pool head, no projection) and a SigLIP 2-shaped
      text tower (not causal, last-position pooling, GELU-tanh) over CLIP's BPE, mean/std 0.5, logit bias -10;
    * ``"pe-core"``: timm's PE-Core Eva (class token, 2-D RoPE, attention-pool head with a projection) and PE-Core's
      causal CLIP text tower of 32 tokens, mean/std 0.5;
    * ``"siglip2-causal-text"``: the ``"siglip2"`` vision side with the ``"pe-core"`` text tower.

    Vision trunks are ``width`` x ``layers`` with 64-wide heads over ``size`` px frames cut into ``patch`` px
    patches; ``text`` overrides keys of the family's open_clip ``text_cfg`` (e.g. ``{"no_causal_mask": False,
    "pool_type": "argmax"}``: a causal tower pooled at the end-of-text token, to tell which part of a text tower's
    shape a result depends on). Weights are whatever the libraries draw from torch's global RNG (seed it first)."""
    if family == "openai":
        from ..zoo.architectures import tiny_clip_config

        return {"model_cfg": _with_text(tiny_clip_config(size, patch, width, layers), text)}
    sizes = _timm_sizes(size, patch, width, layers)
    grid = size // patch
    model_cfg: dict[str, Any]
    if family == "siglip2-causal-text":  # the SigLIP-like vision side under the PE-like text tower
        vision = _timm_vision(size, "vit_base_patch16_siglip_224")
        model_cfg = {"embed_dim": width, "init_logit_bias": -10, "vision_cfg": vision, "text_cfg": _pe_text()}
        timm_kwargs = sizes
    elif family == "siglip2":
        siglip_text = {**_TEXT, "context_length": 16, **copy.deepcopy(SIGLIP2_TEXT)}
        vision = _timm_vision(size, "vit_base_patch16_siglip_224")
        model_cfg = {"embed_dim": width, "init_logit_bias": -10, "vision_cfg": vision, "text_cfg": siglip_text}
        timm_kwargs = sizes
    elif family == "pe-core":
        vision = {**_timm_vision(size, "vit_pe_core_base_patch16_224"), "timm_proj": None}
        model_cfg = {"embed_dim": 64, "vision_cfg": vision, "text_cfg": _pe_text()}
        timm_kwargs = {**sizes, "ref_feat_shape": [grid, grid], "attn_pool_num_heads": sizes["num_heads"]}
    else:
        raise ValueError(f"unknown motion benchmark family {family!r}; one of {', '.join(MOTION_FAMILIES)}")
    return {
        "model_cfg": {**_with_text(model_cfg, text), "custom_text": True},
        "timm_kwargs": timm_kwargs,
        "preprocess": copy.deepcopy(_HALF),
    }


def init_motion_trunk(model: EZCLIP, seed: int) -> EZCLIP:
    """Redraw the linear layers of ``model``'s timm vision trunk (and its attention-pool head) from ``seed`` as
    open_clip draws its own random CLIP: PyTorch's default for ``nn.Linear``, Xavier-uniform for a fused ``qkv``
    projection (as ``nn.MultiheadAttention`` draws its ``in_proj``), zero biases; norms, embeddings and the text
    tower stay as drawn. torch's global RNG is left as it was, so every variant of a seed gets the same trunk. The
    OpenAI layout (no timm trunk) is left as it is. Returns ``model``."""
    visual = model.clip.visual
    if not hasattr(visual, "trunk"):
        return model
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        for name, module in visual.named_modules():
            if isinstance(module, torch.nn.Linear):
                module.reset_parameters()
                if name.endswith("qkv"):
                    torch.nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
    return model


def teach_text_tower(model: EZCLIP, seed: int, steps: int = 1000, batch_size: int = 128, lr: float = 1e-3) -> EZCLIP:
    """Teach ``model``'s random text tower to carry its words to the position it pools, as a trained tower does,
    by distilling it from itself run causally and pooled at the end-of-text token; returns ``model``.

    A random tower that is not causal and pools at the last position (SigLIP 2's shape) mixes every position, pads
    included, towards the same average, so its names come out nearly equal (docs/motion-benchmark.md) and its
    adapters cannot pull them apart; the same weights run causally and pooled at the end-of-text token read only
    the words. ``steps`` Adam steps (``lr``) of ``batch_size`` random token strings (1 to 6 tokens between the
    start and end tokens, padded; drawn from ``seed``, nothing of any benchmark's class names) move the tower's
    weights, its token table excepted, towards the cosine of its embeddings with the causal run's. The tower stays
    frozen for EZ-CLIP afterwards, as every backbone weight is, and torch's global RNG is not touched. About 15 s
    for 1,000 steps of the motion benchmark's width-64 tower on one CPU thread.

    Raises:
        ValueError: the backbone has no separate text module (an OpenAI-layout CLIP, causal and pooled at the
            end-of-text token already).
    """
    import torch.nn.functional as F

    module = getattr(model.clip, "text", None)
    if not isinstance(module, torch.nn.Module) or not hasattr(module, "build_causal_mask"):
        raise ValueError("teach_text_tower needs an open_clip text module (model.clip.text) to distil")
    text: Any = module  # open_clip's TextTransformer, whose attributes are not typed
    teacher: Any = copy.deepcopy(module).eval()
    teacher.attn_mask = teacher.build_causal_mask()
    teacher.pool_type = "argmax"
    context, vocab = int(text.context_length), int(text.vocab_size)
    start, end = vocab - 2, vocab - 1  # CLIP's BPE: the last two ids are the start and end of text
    generator = torch.Generator().manual_seed(seed)
    params = [p for name, p in text.named_parameters() if not name.startswith("token_embedding")]
    optimizer = torch.optim.Adam(params, lr=lr)
    was_training = text.training
    text.train()
    for p in params:
        p.requires_grad_(True)
    try:
        for _ in range(steps):
            tokens = torch.zeros(batch_size, context, dtype=torch.long)
            lengths = torch.randint(1, min(6, context - 2) + 1, (batch_size,), generator=generator)
            for row, length in enumerate(lengths.tolist()):
                tokens[row, 0], tokens[row, length + 1] = start, end
                tokens[row, 1 : length + 1] = torch.randint(1, start, (length,), generator=generator)
            with torch.no_grad():
                target = F.normalize(teacher(tokens), dim=-1)
            loss = (1 - (F.normalize(text(tokens), dim=-1) * target).sum(-1)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        for p in params:
            p.requires_grad_(False)
            p.grad = None
        text.train(was_training)
    return model
