"""Tiny backbones of every family EZ-CLIP sits on: real open_clip configs (the families' own timm trunks and text
towers) at a few layers and small widths, with random weights, plus a tiny Hugging Face tokenizer in a folder for the
SigLIP-like text tower.

Each `FAMILY_CONFIGS` entry is a `BackboneConfig` dict; `family_model(name, ...)` builds an `EZCLIP` over it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch

import ezclip_zoo
from ezclip_zoo.modeling.config import EZCLIPConfig
from ezclip_zoo.synthetic.backbones import SIGLIP2_TEXT
from ezclip_zoo.zoo.architectures import tiny_clip_config

HALF = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "squash"}
_SIZES = {"depth": 2, "embed_dim": 64, "num_heads": 2, "patch_size": 8, "img_size": 32}
_TEXT = {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2}
WORDS = "a person is dancing juggling riding a bike swimming moving left right up down playing guitar the video".split()


def write_tiny_hf_tokenizer(folder: Path) -> Path:
    """A word-level Hugging Face tokenizer (pad 0, eos 1, unk 2, lower-cased words) saved as a tokenizer folder
    that ``transformers.AutoTokenizer`` reads, like SigLIP's Gemma tokenizer: it appends EOS and pads to the context."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2}
    for word in sorted(set(WORDS)):
        vocab[word] = len(vocab)
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A <eos>", special_tokens=[("<eos>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    return folder


def _custom(vision: dict, text: dict, embed_dim: int = 64, **extra) -> dict:
    return {"embed_dim": embed_dim, "custom_text": True, "vision_cfg": vision, "text_cfg": text, **extra}


def _timm(name: str, pool: str, proj: str | None) -> dict:
    return {"image_size": 32, "timm_model_name": name, "timm_pool": pool, "timm_proj": proj}


_ROPE = {"ref_feat_shape": (4, 4), "attn_pool_num_heads": 2}

FAMILY_CONFIGS: dict[str, dict] = {
    # SigLIP 2: no class token, attention-pool head, no projection; text not causal, pooled at the last position,
    # GELU(tanh), a Hugging Face tokenizer (the folder is filled in by family_model)
    "siglip2": {
        "model_cfg": _custom(
            _timm("vit_base_patch16_siglip_224", "map", "none"),
            {
                **_TEXT,
                "context_length": 16,
                "vocab_size": 64,
                **copy.deepcopy(SIGLIP2_TEXT),
                "tokenizer_kwargs": {"clean": "canonicalize"},
            },
            init_logit_bias=-10,
        ),
        "timm_kwargs": dict(_SIZES),
        "preprocess": {**HALF, "interpolation": "bicubic"},
    },
    # PE-Core B/L: Eva with 2-D RoPE after the class token, pre-norm, attention-pool head with a projection to 48;
    # causal CLIP text with a 32-token context
    "pe-core": {
        "model_cfg": _custom(_timm("vit_pe_core_base_patch16_224", "map", None), dict(_TEXT), embed_dim=48),
        "timm_kwargs": {**_SIZES, **_ROPE},
        "preprocess": HALF,
    },
    # PE-Core bigG: the same without a class token
    "pe-core-bigg": {
        "model_cfg": _custom(_timm("vit_pe_core_gigantic_patch14_448", "map", None), dict(_TEXT), embed_dim=48),
        "timm_kwargs": {**_SIZES, **_ROPE, "mlp_ratio": 4.0},
        "preprocess": HALF,
    },
    # EVA02: Eva with RoPE, SwiGLU MLPs and separate q/k/v biases, class-token pooling
    "eva02": {
        "model_cfg": _custom(_timm("eva02_base_patch16_clip_224", "token", None), {**_TEXT, "context_length": 77}),
        "timm_kwargs": {**_SIZES, "ref_feat_shape": (4, 4)},
        "preprocess": {"interpolation": "bicubic", "resize_mode": "shortest"},
    },
    # MobileCLIP2-L: a timm ViT with a class token and layer scale here; a non-causal text tower pooled at EOT,
    # with layer scale too
    "timm-vit-ls": {
        "model_cfg": _custom(
            _timm("vit_large_patch14_clip_224", "token", None),
            {**_TEXT, "context_length": 77, "no_causal_mask": True, "ls_init_value": 0.5},
        ),
        "timm_kwargs": {**_SIZES, "init_values": 0.5},
        "preprocess": {"interpolation": "bicubic", "resize_mode": "shortest"},
    },
    # OpenAI layout with exact GELU (LAION / DataComp / DFN weights)
    "openai-gelu": {"model_cfg": tiny_clip_config(32, patch_size=8), "quick_gelu": False},
}


def family_backbone(name: str, tokenizer_dir: Path | None = None) -> dict:
    """The `BackboneConfig` dict of family ``name``; ``tokenizer_dir`` receives the SigLIP-like tokenizer."""
    backbone = json.loads(json.dumps(FAMILY_CONFIGS[name]))
    if name == "siglip2":
        if tokenizer_dir is None:
            raise ValueError("the SigLIP-like family needs a folder for its tokenizer")
        made = (tokenizer_dir / "tokenizer.json").is_file()
        folder = tokenizer_dir if made else write_tiny_hf_tokenizer(tokenizer_dir)
        backbone["tokenizer"] = str(folder)
    return backbone


def family_model(name: str, tokenizer_dir: Path | None = None, *, seed: int = 0, **overrides) -> ezclip_zoo.EZCLIP:
    """An `EZCLIP` (4 frames, random weights drawn from ``seed``) over family ``name``."""
    config = EZCLIPConfig.from_dict(
        {"backbone": family_backbone(name, tokenizer_dir), "num_frames": 4, "name": f"tiny-{name}", **overrides}
    )
    torch.manual_seed(seed)
    from ezclip_zoo.zoo.factory import build_model

    return build_model(config, pretrained_backbone=False)
