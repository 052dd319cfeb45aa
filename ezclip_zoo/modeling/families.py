"""The open_clip models EZ-CLIP can sit on, in three families, and the refusal that names what any other lacks.

* ``"openai-vit"``: open_clip's own ``CLIP`` with its ``VisionTransformer`` (OpenAI's CLIPs and the LAION,
  DataComp, DFN and MetaCLIP 1 ViTs): the towers' fast path, exact to the authors' code.
* ``"timm-vit"``: ``CustomTextCLIP`` over a timm ``VisionTransformer`` trunk (SigLIP 2 without a class token and
  with an attention-pool head; MobileCLIP2-L).
* ``"timm-eva"``: ``CustomTextCLIP`` over a timm ``Eva`` trunk with 2-D RoPE (Perception Encoder PE-Core, EVA02).

The text tower of every family is open_clip's ``TextTransformer`` layout (causal or not, pooled at the EOT token,
the last token, the first token or an EOS id), with ``nn.MultiheadAttention`` blocks.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

import open_clip
from open_clip.timm_model import TimmModel
from torch import nn

from ..errors import UnsupportedBackboneError

__all__ = ["FAMILIES", "backbone_family", "text_modules", "text_pool_type"]

FAMILIES: dict[str, str] = {
    "openai-vit": "open_clip CLIP with its own ViT (OpenAI, LAION, DataComp, DFN, MetaCLIP 1 weights)",
    "timm-vit": "CustomTextCLIP over a timm VisionTransformer (SigLIP 2, MobileCLIP2-L)",
    "timm-eva": "CustomTextCLIP over a timm Eva with RoPE (Perception Encoder PE-Core, EVA02)",
}
_TEXT_POOLS = ("argmax", "last", "first", "eos")


def text_modules(clip: nn.Module) -> Any:
    """The module that holds the text tower's parts (``token_embedding``, ``positional_embedding``,
    ``transformer``, ``ln_final``, ``text_projection``, ``attn_mask``): ``CLIP`` itself, or a
    ``CustomTextCLIP``'s ``text``."""
    return clip.text if isinstance(clip, open_clip.CustomTextCLIP) else clip


def text_pool_type(clip: nn.Module) -> str:
    """Where the text tower pools: ``"argmax"`` (the EOT token, the largest id), ``"last"``, ``"first"`` or
    ``"eos"`` (the first token equal to the tower's ``eos_id``)."""
    text = text_modules(clip)
    return str(text.text_pool_type if text is clip else text.pool_type)


def backbone_family(clip: nn.Module) -> str:
    """The family of ``clip`` (a key of `FAMILIES`).

    Raises:
        UnsupportedBackboneError: ``clip`` is none of them; the message lists every problem found and the
            families that work.
    """
    problems: list[str] = []
    family = ""
    if isinstance(clip, open_clip.CLIP):
        family = "openai-vit"
        problems += _openai_vision_problems(clip.visual)
    elif isinstance(clip, open_clip.CustomTextCLIP):
        family, vision_problems = _timm_vision(clip.visual)
        problems += vision_problems
    else:
        problems.append(f"the model is a {type(clip).__name__} (neither open_clip's CLIP nor CustomTextCLIP)")
    if not problems or family:
        problems += _text_problems(clip)
    if problems:
        works = "; ".join(f"{name}: {what}" for name, what in FAMILIES.items())
        raise UnsupportedBackboneError(f"unsupported backbone for EZ-CLIP: {'; '.join(problems)}. It runs on: {works}")
    return family


def _openai_vision_problems(visual: nn.Module) -> list[str]:
    if not isinstance(visual, open_clip.transformer.VisionTransformer):
        return [f"the vision tower is a {type(visual).__name__} (a ResNet or other non-ViT tower), not a ViT"]
    problems = []
    if getattr(visual, "attn_pool", None) is not None or getattr(visual, "pool_type", "tok") != "tok":
        problems.append("the open_clip ViT pools otherwise than at its class token")
    if visual.proj is None:
        problems.append("the open_clip ViT has no projection")
    for block in visual.transformer.resblocks:
        problem = _mha_block_problem(block)
        if problem is None and not (isinstance(block.ls_1, nn.Identity) and isinstance(block.ls_2, nn.Identity)):
            problem = "its ViT blocks use layer scale (the open_clip ViT path reads plain blocks)"
        if problem:
            problems.append(problem)
            break
    return problems


def _timm_vision(visual: nn.Module) -> tuple[str, list[str]]:
    from timm.layers import Attention, AttentionRope
    from timm.models.eva import Eva, EvaAttention, EvaBlock
    from timm.models.vision_transformer import Block, VisionTransformer

    if not isinstance(visual, TimmModel):
        return "", [f"the vision tower is a {type(visual).__name__}, not a timm trunk"]
    trunk = visual.trunk
    block_type: type[nn.Module]
    attn_types: tuple[type[nn.Module], ...]
    if type(trunk) is VisionTransformer:
        family, block_type, attn_types = "timm-vit", Block, (Attention,)
    elif type(trunk) is Eva:
        family, block_type, attn_types = "timm-eva", EvaBlock, (EvaAttention, AttentionRope)
    else:
        return "", [
            f"the vision trunk is timm's {type(trunk).__name__} (a convolutional or hybrid network such as "
            "MobileCLIP's FastViT): the temporal prompts need the tokens of a ViT"
        ]
    problems = []
    for i, block in enumerate(trunk.blocks):
        if type(block) is not block_type or type(block.attn) not in attn_types:
            names = " or ".join(a.__name__ for a in attn_types)
            problems.append(
                f"block {i} of the {type(trunk).__name__} trunk is a {type(block).__name__} with "
                f"{type(block.attn).__name__}, not the {block_type.__name__} with {names} the tower runs"
            )
            break
    if getattr(trunk, "rope_mixed", False):
        problems.append("the Eva trunk uses per-depth (mixed) RoPE, which the tower does not extend")
    from timm.layers import Mlp

    pools = [type(m).__name__ for m in visual.head.children() if not isinstance(m, (nn.Dropout, nn.Linear, Mlp))]
    if pools:
        problems.append(f"the timm tower pools with open_clip's {pools[0]} over a feature map, not a ViT's tokens")
    return family, problems


def _mha_block_problem(block: nn.Module) -> str | None:
    if not isinstance(block, open_clip.transformer.ResidualAttentionBlock):
        return f"block type {type(block).__name__} is not open_clip's ResidualAttentionBlock"
    attn = block.attn
    if not isinstance(attn, nn.MultiheadAttention) or attn.in_proj_weight is None:
        return (
            f"its attention is a {type(attn).__name__}, not the nn.MultiheadAttention with packed q/k/v that the "
            f"towers read: open_clip {_installed('open_clip_torch')} changed its blocks; install a supported one "
            f"(open_clip_torch{_supported('open_clip_torch')})"
        )
    return None


def _text_problems(clip: nn.Module) -> list[str]:
    text = text_modules(clip)
    if not isinstance(text, (open_clip.CLIP, open_clip.transformer.TextTransformer)):
        return [f"the text tower is a {type(text).__name__} (a Hugging Face text model), not open_clip's transformer"]
    problems = []
    if getattr(text, "cls_emb", None) is not None:
        problems.append("the text tower appends a class token (CoCa)")
    if getattr(text, "use_pad_mask", False):
        problems.append("the text tower masks padding")
    if text_pool_type(clip) not in _TEXT_POOLS:
        problems.append(f"the text tower pools with {text_pool_type(clip)!r}, not one of {_TEXT_POOLS}")
    for block in text.transformer.resblocks:
        problem = _mha_block_problem(block)
        if problem:
            problems.append(problem)
            break
    return problems


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _supported(distribution: str) -> str:
    """The version range ezclip-zoo's own metadata declares for ``distribution`` (pyproject.toml is the source)."""
    try:
        for requirement in importlib.metadata.requires("ezclip-zoo") or ():
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([^;]*)", requirement)
            if match and _canonical(match.group(1)) == _canonical(distribution) and ";" not in requirement:
                return match.group(2).strip()
    except importlib.metadata.PackageNotFoundError:
        pass
    return " (see ezclip-zoo's pyproject.toml)"
