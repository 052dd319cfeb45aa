"""The registered architectures as rows: family, backbone and tag, input size, context, the exact number of trainable
parameters (counted on a model built on the meta device, which allocates nothing) and the licence of the weights.
``ezclip-zoo list`` prints them and docs/models.md holds them as a generated table."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .registry import get_model_config, list_models

__all__ = ["ArchitectureRow", "architecture_row", "architectures_markdown"]


@dataclass(frozen=True)
class ArchitectureRow:
    """One architecture: ``family`` (`ezclip_zoo.modeling.families.FAMILIES`), ``backbone`` and ``tag`` (open_clip;
    "random ..." for the tiny ones), ``image_size`` (px), ``context`` (text tokens), ``frames``, ``trainable``
    (parameters) and ``licence`` (of the backbone weights; "-" where there are none)."""

    name: str
    family: str
    backbone: str
    tag: str
    image_size: int
    context: int
    frames: int
    trainable: int
    licence: str


@functools.cache
def architecture_row(name: str) -> ArchitectureRow:
    """The `ArchitectureRow` of a registered architecture (built once per process on the meta device)."""
    import warnings

    from .factory import build_model

    config = get_model_config(name)
    with warnings.catch_warnings():  # a config without recorded preprocessing warns when built; not the point here
        warnings.simplefilter("ignore")
        model = build_model(config, pretrained_backbone=False, device="meta")
    backbone = config.backbone
    size = model.image_size
    return ArchitectureRow(
        name=name,
        family=model.family,
        backbone=backbone.model or f"random {size} px miniature",
        tag=backbone.pretrained or "-",
        image_size=size,
        context=model.context_length,
        frames=model.num_frames,
        trainable=model.num_trainable_parameters(),
        licence=str(config.extra.get("licence", "-")),
    )


def architectures_markdown(names: list[str] | None = None) -> str:
    """The generated architectures table of docs/models.md (``ezclip-zoo list --markdown``)."""
    rows = [
        "| architecture | family | backbone (open_clip) | tag | px | context | frames | trainable | licence |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in list_models() if names is None else names:
        r = architecture_row(name)
        rows.append(
            f"| `{r.name}` | {r.family} | `{r.backbone}` | {r.tag} | {r.image_size} | {r.context} | {r.frames} "
            f"| {r.trainable:,} | {r.licence} |"
        )
    return "\n".join(rows)
