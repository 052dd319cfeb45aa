"""The Hub model card (``README.md`` with YAML metadata) of a zoo checkpoint, via huggingface_hub's card tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..modeling.config import BackboneConfig, EZCLIPConfig
from .backbone_weights import HF_HUB_MODEL_PREFIX

__all__ = ["base_model_id", "build_model_card", "write_model_card"]

_ARXIV_ID = "2312.08010"  # EZ-CLIP; the Hub links a model to its paper by this tag

_DEFAULT_CITATION = (
    "@article{ahmad2024ezclip,\n  title={EZ-CLIP: Efficient Zeroshot Video Action Recognition},\n"
    "  author={Ahmad, Shahzad and Chanda, Sukalpa and Rawat, Yogesh S.},\n"
    "  journal={Transactions on Machine Learning Research},\n  year={2024},\n  eprint={2312.08010}\n}"
)


def base_model_id(backbone: BackboneConfig) -> str | None:
    """The Hub repo of the frozen CLIP (``base_model`` in the card, so the Hub links the two), or None when the
    backbone is not on the Hub (a custom CLIP stored beside the weights, or a tag open_clip serves elsewhere)."""
    if backbone.model is None:
        return None
    if backbone.model.startswith(HF_HUB_MODEL_PREFIX):
        return backbone.model[len(HF_HUB_MODEL_PREFIX) :].strip("/") or None
    if backbone.pretrained is None:
        return None
    from open_clip.pretrained import get_pretrained_cfg  # the repo open_clip downloads this tag from

    hub = (get_pretrained_cfg(backbone.model, backbone.pretrained) or {}).get("hf_hub")
    return hub.strip("/") if hub else None


def build_model_card(config: EZCLIPConfig, *, weights_bytes: int, card: dict[str, Any] | None = None) -> ModelCard:
    """A `ModelCard` whose metadata carries library, licence, tags, datasets and a ``model-index`` of results."""
    card = dict(card or {})
    name = card.get("name") or config.name or "ezclip-model"
    training = card.get("training", {})
    dataset = training.get("dataset")
    results = [
        EvalResult(
            task_type="video-classification",
            task_name=f"{m['split']} video action recognition",
            dataset_type=m["dataset"].lower().replace(" ", "-"),
            dataset_name=m["dataset"],
            dataset_split=m["split"],
            metric_type="accuracy",
            metric_name=m.get("metric", "top1"),
            metric_value=m["value"],
            source_name=card.get("metrics_source"),
            source_url=card.get("metrics_source_url", "https://arxiv.org/abs/2312.08010")
            if card.get("metrics_source")
            else None,
        )
        for m in card.get("metrics", [])
    ]
    data = ModelCardData(
        library_name="ezclip-zoo",
        license=card.get("license", "mit").lower(),
        tags=["video-classification", "zero-shot", "ez-clip", "open_clip", "action-recognition", f"arxiv:{_ARXIV_ID}"],
        pipeline_tag="video-classification",
        base_model=base_model_id(config.backbone),
        datasets=[dataset] if dataset else None,
        model_name=name,
        eval_results=results or None,
    )
    backbone = config.backbone
    backbone_text = (
        f"open_clip `{backbone.model}` with pretrained tag `{backbone.pretrained}`"
        if backbone.model and backbone.pretrained
        else "a custom CLIP stored beside the weights (`backbone.safetensors`)"
    )
    text = card.get("text", config.extra.get("text", {}))
    lines = [
        f"---\n{data.to_yaml()}\n---",
        f"# {name}",
        "",
        "EZ-CLIP (efficient zero-shot video action recognition, arXiv 2312.08010) for "
        "[ezclip-zoo](https://pypi.org/project/ezclip-zoo/) (reference code: "
        "[Shahzadnit/EZ-CLIP](https://github.com/Shahzadnit/EZ-CLIP)). This repository holds only the "
        f"trainable temporal prompts and adapters ({weights_bytes / 1e6:.1f} MB); the frozen backbone is "
        f"{backbone_text}.",
        "",
        "```python",
        "import ezclip_zoo",
        f'model = ezclip_zoo.load("{card.get("load_id", "PATH/TO/THIS/FOLDER")}")',
        'model.classify("clip.mp4", ["dancing", "juggling", "surfing"])',
        "```",
        "",
        f"- frames per clip: {config.num_frames}; temporal prompts: {config.temporal_prompts}",
    ]
    if text:
        lines.append(f"- class text: {text.get('mode', 'class names')}")
    if training:
        lines.append("- training: " + ", ".join(f"{k} {v}" for k, v in training.items()))
    if card.get("metrics"):
        lines += ["", "| dataset | split | top-1 |", "|---|---|---|"]
        lines += [f"| {m['dataset']} | {m['split']} | {m['value']} |" for m in card["metrics"]]
        if card.get("metrics_source"):
            lines += ["", f"Source: {card['metrics_source']}."]
    lines += ["", "## Citation", "", "```bibtex", card.get("citation", _DEFAULT_CITATION), "```", ""]
    return ModelCard("\n".join(lines))


def write_model_card(path: Path, config: EZCLIPConfig, *, weights_bytes: int, card: dict | None = None) -> None:
    build_model_card(config, weights_bytes=weights_bytes, card=card).save(path)
