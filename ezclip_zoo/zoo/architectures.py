"""The registered EZ-CLIP architectures: OpenAI CLIP ViTs from open_clip plus a tiny one for tests and demos.

Every entry is a plain dict of `EZCLIPConfig` fields; the defaults follow the reference recipe (8 frames,
adapter ratio 0.25, prompt dropout 0.1, stochastic depth 0.1).
"""

from __future__ import annotations

_EZCLIP_DEFAULTS = {
    "num_frames": 8,
    "adapter_ratio": 0.25,
    "prompt_dropout": 0.1,
    "drop_path": 0.1,
    "temporal_prompts": True,
}


def _openai(model: str) -> dict:
    return {"backbone": {"model": model, "pretrained": "openai", "quick_gelu": True}, **_EZCLIP_DEFAULTS}


BUILTIN_ARCHITECTURES: dict[str, dict] = {  # name -> EZCLIPConfig dict; `registry` registers them at import
    "ezclip-vit-b16": _openai("ViT-B-16"),
    "ezclip-vit-b32": _openai("ViT-B-32"),
    "ezclip-vit-l14": _openai("ViT-L-14"),
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
