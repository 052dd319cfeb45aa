"""The registered EZ-CLIP architectures: EZ-CLIP over every backbone family open_clip builds (OpenAI CLIP, other
OpenAI-layout weights, SigLIP 2, PE-Core, EVA02, MobileCLIP2, MetaCLIP 2), plus tiny ones for tests and demos.

Every entry is a plain dict of `EZCLIPConfig` fields; the defaults follow the reference recipe (8 frames,
adapter ratio 0.25, prompt dropout 0.1, stochastic depth 0.1).

Names: ``ezclip-<backbone>-<size><patch>[-<input px, when not 224>][-<weights, when not the backbone's own>]``:
``ezclip-vit-b16`` (OpenAI's), ``ezclip-vit-b16-laion2b``, ``ezclip-siglip2-b16-384``, ``ezclip-pe-core-l14-336``.
``extra`` records the backbone weights' licence, which ``ezclip-zoo list`` shows and `ezclip_zoo.load` repeats
when it is not MIT or Apache-2.0.
"""

from __future__ import annotations

_EZCLIP_DEFAULTS = {
    "num_frames": 8,
    "adapter_ratio": 0.25,
    "prompt_dropout": 0.1,
    "drop_path": 0.1,
    "temporal_prompts": True,
}


# licences of the backbone weights, as their publishers state them ("check": read the publisher's terms)
MIT, APACHE, CC_BY_NC = "MIT", "Apache-2.0", "CC-BY-NC-4.0"
APPLE = "Apple sample-code licence (apple-amlr; check)"
PERMISSIVE_LICENCES = (MIT, APACHE)

# name (after "ezclip-") -> (open_clip model, pretrained tag, licence of the weights)
BACKBONES: dict[str, tuple[str, str, str]] = {
    "vit-b16": ("ViT-B-16", "openai", MIT),
    "vit-b32": ("ViT-B-32", "openai", MIT),
    "vit-l14": ("ViT-L-14", "openai", MIT),
    # OpenAI-layout ViTs with other weights (open_clip's own CLIP)
    "vit-b16-laion2b": ("ViT-B-16", "laion2b_s34b_b88k", MIT),
    "vit-b16-datacomp-xl": ("ViT-B-16", "datacomp_xl_s13b_b90k", MIT),
    "vit-b16-dfn2b": ("ViT-B-16", "dfn2b", APPLE),
    "vit-b16-metaclip-fullcc": ("ViT-B-16", "metaclip_fullcc", CC_BY_NC),
    "metaclip2-h14": ("ViT-H-14-worldwide-quickgelu", "metaclip2_worldwide", CC_BY_NC),  # XLM-V tokenizer
    # SigLIP 2: timm ViTs without a class token, Gemma tokenizer
    "siglip2-b16": ("ViT-B-16-SigLIP2", "webli", APACHE),
    "siglip2-b16-256": ("ViT-B-16-SigLIP2-256", "webli", APACHE),
    "siglip2-b16-384": ("ViT-B-16-SigLIP2-384", "webli", APACHE),
    "siglip2-b16-512": ("ViT-B-16-SigLIP2-512", "webli", APACHE),
    "siglip2-b32-256": ("ViT-B-32-SigLIP2-256", "webli", APACHE),
    "siglip2-l16-256": ("ViT-L-16-SigLIP2-256", "webli", APACHE),
    "siglip2-l16-384": ("ViT-L-16-SigLIP2-384", "webli", APACHE),
    "siglip2-l16-512": ("ViT-L-16-SigLIP2-512", "webli", APACHE),
    "siglip2-so400m14": ("ViT-SO400M-14-SigLIP2", "webli", APACHE),
    "siglip2-so400m14-378": ("ViT-SO400M-14-SigLIP2-378", "webli", APACHE),
    "siglip2-so400m16-256": ("ViT-SO400M-16-SigLIP2-256", "webli", APACHE),
    "siglip2-so400m16-384": ("ViT-SO400M-16-SigLIP2-384", "webli", APACHE),
    "siglip2-so400m16-512": ("ViT-SO400M-16-SigLIP2-512", "webli", APACHE),
    "siglip2-gopt16-256": ("ViT-gopt-16-SigLIP2-256", "webli", APACHE),
    "siglip2-gopt16-384": ("ViT-gopt-16-SigLIP2-384", "webli", APACHE),
    # Perception Encoder: timm Eva trunks with RoPE, CLIP BPE with a 32-token context
    "pe-core-b16": ("PE-Core-B-16", "meta", APACHE),
    "pe-core-l14-336": ("PE-Core-L-14-336", "meta", APACHE),
    # EVA02 (timm Eva, SwiGLU) and MobileCLIP2-L (a timm ViT with a non-causal text tower)
    "eva02-b16": ("EVA02-B-16", "merged2b_s8b_b131k", MIT),
    "mobileclip2-l14": ("MobileCLIP2-L-14", "dfndr2b", APPLE),
}


def _architecture(model: str, tag: str, licence: str) -> dict:
    # quick_gelu, preprocessing and the tokenizer follow the tag (filled in when a model is built)
    return {
        "backbone": {"model": model, "pretrained": tag},
        **_EZCLIP_DEFAULTS,
        "extra": {"licence": licence, "backbone_weights": f"open_clip {model} / {tag}"},
    }


BUILTIN_ARCHITECTURES: dict[str, dict] = {  # name -> EZCLIPConfig dict; `registry` registers them at import
    f"ezclip-{short}": _architecture(*spec) for short, spec in BACKBONES.items()
}


def tiny_clip_config(image_size: int, patch_size: int = 16, width: int = 128, layers: int = 2) -> dict:
    """An open_clip config of a miniature CLIP (vision ``width`` x ``layers`` at ``image_size`` px with
    ``patch_size`` px patches; a 2-layer text tower of width 64 with the real CLIP tokenizer), for random backbones."""
    return {
        "embed_dim": 64,
        "vision_cfg": {
            "image_size": image_size,
            "patch_size": patch_size,
            "width": width,
            "layers": layers,
            "head_width": 64,
        },
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 1, "layers": 2},
    }


# A random-weight miniature (64 px, patch 16, 2 + 2 layers) with the real CLIP tokenizer: for tests, examples and
# trying the API without downloading anything. It has no pretrained weights and classifies nothing meaningfully.
BUILTIN_ARCHITECTURES["ezclip-test-tiny"] = {
    "backbone": {"model_cfg": tiny_clip_config(64), "quick_gelu": True},
    **_EZCLIP_DEFAULTS,
}

# The fine-tuning quickstart's model (README, Fine-tuning): a random 32 px CLIP, patch 16, 4 vision layers of width 128,
# the shape on which the motion benchmark's random backbone carries enough signal to learn motion from a few hundred
# synthetic videos in about a minute on a CPU. Like ezclip-test-tiny it has no pretrained weights.
BUILTIN_ARCHITECTURES["ezclip-demo-motion"] = {
    "backbone": {"model_cfg": tiny_clip_config(32, layers=4), "quick_gelu": True},
    **_EZCLIP_DEFAULTS,
    "drop_path": 0.0,
}
