"""Zero-shot classification of videos against class names: ``model.classify(video, ["dancing", ...])``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from typing_extensions import Unpack

from ..choices import TEXT_MODES
from ..text.cache import TextEmbeddingCache, text_features
from ..text.class_sets import class_descriptions, resolve_class_set
from ..text.class_sets import class_names as class_set_names
from ..text.labels import ClassNames, LabelSet, build_label_set
from ..video import VideoClips
from .options import InferenceKwargs, InferenceOptions, make_options
from .result import ClassificationResult
from .scoring import presence_views, score_views
from .views import encode_batches, eval_mode, is_single_video, prepare_views, split_videos

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP
    from ..transforms.eval import VideoTransform

__all__ = ["classify", "embed_video", "make_result", "check_topk", "label_set_for", "model_text_mode"]


def model_text_mode(model: EZCLIP) -> str:
    """The class text a model was trained with (its config's ``extra.text.mode``; ``"names"`` when unrecorded)."""
    mode = ((getattr(model.config, "extra", None) or {}).get("text") or {}).get("mode")
    return mode if mode in TEXT_MODES else "names"


def label_set_for(
    model: EZCLIP,
    class_names: str | ClassNames,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
) -> tuple[LabelSet, str]:
    """The label set to score against, and a description of the text it encodes.

    ``class_names`` as a string names a class set (`ezclip_zoo.text.class_sets`; never a path or one class). Its
    text is ``text`` (``"names"`` or ``"descriptions"``), by default the model's own (`model_text_mode`): the
    authors' checkpoints read their descriptions. ``text="names"`` drops the descriptions of a dict too.
    """
    if text is not None and text not in TEXT_MODES:
        raise ValueError(f"text must be one of {TEXT_MODES} or None (the model's own), got {text!r}")
    if text == "names":  # whatever the classes came with, only their names are read
        descriptions = None
        if isinstance(class_names, Mapping):
            class_names = list(class_names)
    if isinstance(class_names, str):
        set_name = resolve_class_set(class_names)
        names: ClassNames | list[str] = class_set_names(set_name)
        if descriptions is None and (text or model_text_mode(model)) == "descriptions":
            descriptions = class_descriptions(set_name)
        source = f"{'names' if descriptions is None else 'descriptions'} of {set_name}"
    else:
        names = class_names
        source = "descriptions" if isinstance(names, Mapping) or descriptions is not None else "names"
    labels = build_label_set(names, descriptions, templates)
    if templates is not None:
        source += f" x {labels.num_templates} templates" if labels.num_templates > 1 else " in a template"
    return labels, source


def make_result(
    name: str,
    labels: LabelSet,
    probs: torch.Tensor,
    logits: torch.Tensor,
    topk: int,
    clips: VideoClips | None,
    text: str = "",
    presence: torch.Tensor | None = None,
) -> ClassificationResult:
    k = min(topk, labels.num_classes)
    top = torch.topk(probs, k)
    idx = top.indices.tolist()
    return ClassificationResult(
        source=name,
        labels=[labels.names[i] for i in idx],
        probabilities=[float(p) for p in top.values],
        logits=[float(logits[i]) for i in idx],
        class_names=labels.names,
        all_probabilities=probs,
        all_logits=logits,
        frame_indices=clips.indices if clips is not None else [],
        total_frames=clips.total_frames if clips is not None else 0,
        strategy=clips.strategy if clips is not None else "",
        text=text,
        presence=None if presence is None else [float(presence[i]) for i in idx],
        all_presence=presence,
    )


def check_topk(topk: Any) -> int:
    if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
        raise ValueError(f"topk must be a positive int, got {topk!r}")
    return topk


def classify(
    model: EZCLIP,
    videos: Any,
    class_names: str | ClassNames,
    *,
    topk: int = 5,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
    text_cache: bool | TextEmbeddingCache = True,
    options: InferenceOptions | None = None,
    **kwargs: Unpack[InferenceKwargs],
) -> ClassificationResult | list[ClassificationResult]:
    """Rank class names for one video or a list of videos (zero-shot).

    Args:
        model: an `EZCLIP`.
        videos: one video (a path, bytes, a binary file object, a list of PIL images, a uint8/float array or
            tensor [N, H, W, 3]) or a list of them (or a 5-D batch [B, N, H, W, 3]). N frames are sampled to the
            model's T with the reference TSN rule (segment centres); shorter videos repeat frames.
        class_names: C distinct names, a dict name -> description, or the name of a class set
            (``"kinetics400"``, ``"ucf101"``...: `ezclip_zoo.list_class_sets`).
        topk: how many ranked labels each result lists.
        descriptions: texts to encode instead of the names (list in class order or dict); see `build_label_set`.
        templates: None (the text as is), ``"actionclip"`` (the reference's 16, softmax averaged over them) or a
            list of templates with ``{}``.
        text: ``"names"`` or ``"descriptions"`` for a class set (default: the model's own, descriptions for the
            authors' checkpoints); ``"names"`` also ignores the descriptions of a dict. The result's ``text`` says
            what was read.
        text_cache: True (process-wide in-memory cache), False, or a `TextEmbeddingCache`.
        options / kwargs: `InferenceOptions` (batch_size, num_clips, num_crops, protocol, dtype, strategy,
            backend), as an object and/or keywords.

    Returns:
        A `ClassificationResult` for one video, a list of them (input order) for a list. For a SigLIP-family
        backbone it also carries each class's presence probability (``presence``: the backbone's own sigmoid).

    Raises:
        VideoDecodeError / VideoNotFoundError: a video cannot be read (the message names it).
        TypeError / ValueError: bad class names (empty, duplicates, non-strings), options or frame arrays.
    """
    opts = make_options(options, kwargs)
    single = is_single_video(videos)
    items = split_videos(videos)
    labels, source = label_set_for(model, class_names, descriptions, templates, text)
    check_topk(topk)
    dtype = opts.autocast_dtype(model)
    transform = opts.transform(model)
    with eval_mode(model):
        texts = text_features(model, labels, cache=text_cache, autocast_dtype=dtype)
        prepared = (_views(video, model, transform, opts) for video in items)
        calibration = model.presence_scale_bias
        results = [
            make_result(
                clips.name,
                labels,
                *score_views(features, texts, model.logit_scale),
                topk,
                clips,
                source,
                presence=None if calibration is None else presence_views(features, texts, calibration),
            )
            for clips, features in encode_batches(model, prepared, batch_size=opts.batch_size, autocast_dtype=dtype)
        ]
    return results[0] if single else results


def _views(
    video: Any, model: EZCLIP, transform: VideoTransform, opts: InferenceOptions
) -> tuple[torch.Tensor, VideoClips]:
    return prepare_views(
        video, model.num_frames, transform, num_clips=opts.num_clips, strategy=opts.strategy, backend=opts.backend
    )


def embed_video(
    model: EZCLIP, videos: Any, *, options: InferenceOptions | None = None, **kwargs: Unpack[InferenceKwargs]
) -> torch.Tensor:
    """L2-normalised video embeddings (mean over views): one video -> float32 [E], a list -> [B, E].

    Inputs and options as in `classify`.
    """
    opts = make_options(options, kwargs)
    single = is_single_video(videos)
    items = split_videos(videos)
    transform = opts.transform(model)
    with eval_mode(model):
        prepared = (_views(video, model, transform, opts) for video in items)
        out = [
            F.normalize(features.mean(dim=0), dim=-1).cpu()
            for _, features in encode_batches(
                model, prepared, batch_size=opts.batch_size, autocast_dtype=opts.autocast_dtype(model)
            )
        ]
    return out[0] if single else torch.stack(out)
