"""When does an action happen: sliding windows over a whole video, scored in batches, turned into segments.

The video streams through once: the frames the windows need are decoded in increasing order (one sequential pass
or keyframe seeks, whichever the cost model says decodes less), each decoded and preprocessed once and dropped as
soon as the last window using it is assembled, so memory stays bounded however long the video is. Windows go
through the video encoder ``batch_size`` at a time (`ezclip_zoo.inference`'s `encode_batches`), and every window is
scored by the one zero-shot scoring of `classify` (`score_views`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from typing_extensions import Unpack

from ..choices import SCORES
from ..errors import LocalizationWarning
from ..inference.classification import label_set_for
from ..inference.options import InferenceKwargs, InferenceOptions, make_options
from ..inference.scoring import presence_views, score_views
from ..inference.views import encode_batches, eval_mode
from ..text.cache import TextEmbeddingCache, text_features
from ..text.labels import ClassNames, LabelSet, build_label_set
from ..video import VideoSource, describe, frames_to_uint8, is_encoded_source, is_frame_sequence, open_video
from ..video.frame_times import FrameTimes, frame_times_from_rate
from .result import LocalizationResult, Window
from .segments import SegmentRule, check_sigmoid_rule, find_segments
from .windows import WindowLayout, check_seconds, plan_windows

if TYPE_CHECKING:
    import numpy as np

    from ..modeling.model import EZCLIP

__all__ = ["localize", "open_frames", "window_views", "with_background"]


class _MemoryFrames:
    """Frames already in memory, with the `PyAVReader` methods `window_views` uses."""

    def __init__(self, frames: torch.Tensor, fps: float, name: str) -> None:
        self.frames, self.name, self.strategy = frames, name, "memory"
        self.times = frame_times_from_rate(frames.shape[0], fps)

    def frame_times(self) -> FrameTimes:
        return self.times

    def stream(
        self, indices: Sequence[int], *, strategy: str, transform: Callable[[np.ndarray], Any]
    ) -> Iterator[tuple[int, Any]]:
        for i in sorted(set(indices)):
            yield i, transform(self.frames[i].numpy())


def open_frames(video: Any, *, fps: float | None, backend: str) -> tuple[Any, str]:
    """A reader of ``video`` with ``frame_times()`` and ``stream(indices, strategy=, transform=)``, and its name.

    Encoded files are read with PyAV (their own timestamps); frames in memory need ``fps``.
    """
    if is_encoded_source(video) or isinstance(video, VideoSource):
        if backend != "pyav":
            raise ValueError(f"localize reads videos with backend='pyav' (frame timestamps), got backend={backend!r}")
        if fps is not None:
            raise ValueError("fps is for frames in memory; an encoded video's own timestamps are used")
        reader = open_video(video, backend="pyav")
        return reader, reader.source.name
    if is_frame_sequence(video) or isinstance(video, (list, tuple)):
        if fps is None:
            raise ValueError("frames in memory have no timestamps: pass fps= (frames per second)")
        frames = frames_to_uint8(video, "video frames")
        return _MemoryFrames(frames, check_seconds("fps", fps), describe(video)), describe(video)
    raise TypeError(
        "localize takes one video: a path, bytes, a binary file object, or frames in memory (a list of "
        f"PIL images, an array or tensor [N, H, W, 3]) with fps=; got {type(video).__name__}"
    )


def window_views(
    reader: Any, layout: WindowLayout, transform: Callable[[np.ndarray], Any], strategy: str = "auto"
) -> Iterator[tuple[torch.Tensor, int]]:
    """Model inputs of every window, in order, streaming: (views [num_crops, T, 3, S, S], window index).

    Each needed frame is decoded and transformed once; a frame is released once the last window using it has
    been yielded, so at most one window's frames (plus the decoder's) are held.
    """
    windows = layout.windows
    last_use: dict[int, int] = {}
    for w, plan in enumerate(windows):
        for i in plan.indices:
            last_use[i] = w
    held: dict[int, Any] = {}
    w = 0
    for index, frame in reader.stream(sorted(last_use), strategy=strategy, transform=transform):
        held[index] = frame
        while w < len(windows) and windows[w].indices[-1] <= index:
            yield torch.stack([held[i] for i in windows[w].indices], dim=1), w
            for i in set(windows[w].indices):
                if last_use[i] == w:
                    del held[i]
            w += 1


def with_background(labels: LabelSet, background: Sequence[str], templates: None | str | Sequence[str]) -> LabelSet:
    """``labels`` with the ``background`` texts ("no action") appended as classes, in ``templates`` as well."""
    if not background:
        return labels
    extra = build_label_set(list(background), None, templates)
    clash = [b for b in extra.names if b in labels.names]
    if clash:
        raise ValueError(f"background classes {clash} are also listed as classes; give each name once")
    return LabelSet(
        names=labels.names + extra.names, texts=tuple(a + b for a, b in zip(labels.texts, extra.texts, strict=True))
    )


def localize(
    model: EZCLIP,
    video: Any,
    class_names: str | ClassNames,
    *,
    window_s: float = 2.0,
    stride_s: float | None = None,
    background: Sequence[str] = (),
    min_score: float = 0.5,
    keep_score: float | None = None,
    min_margin: float = 0.0,
    min_duration_s: float = 0.0,
    merge_gap_s: float = 0.0,
    min_windows: int = 1,
    extent: str = "windows",
    scores: str = "softmax",
    fps: float | None = None,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
    text_cache: bool | TextEmbeddingCache = True,
    progress: bool = False,
    options: InferenceOptions | None = None,
    **kwargs: Unpack[InferenceKwargs],
) -> LocalizationResult:
    """Find when each action happens in a (long) video: sliding windows of T frames, scored zero-shot.

    Args:
        model: an `EZCLIP`.
        video: one video: a path, bytes or a binary file object (its own timestamps, variable frame rate
            included), or frames in memory ([N, H, W, 3] array/tensor, list of PIL images) with ``fps``.
        class_names: C names, a dict name -> description, or a class-set name (as in `classify`).
        window_s: window length in seconds; each window samples the model's T frames over it.
        stride_s: seconds between window starts (default ``window_s / 2``).
        background: extra class texts meaning "no action" (e.g. ``["nothing happening"]``): scored with the
            classes, never a segment.
        min_score, keep_score, min_margin, min_duration_s, merge_gap_s, min_windows, extent: the segment rule
            (`SegmentRule`): open at ``min_score`` probability, stay open down to ``keep_score``, ...
        scores: ``"softmax"`` (default): the rule reads each window's softmax over the classes, and "no action" is
            a background text winning. ``"sigmoid"`` (SigLIP-family backbones, `EZCLIP.presence_scale_bias`): it
            reads each class's own presence probability, and "no action" is no class reaching ``min_score``; then
            ``background`` and ``min_margin`` (which assume classes that share one probability) are refused.
        fps: frames per second of frames in memory.
        descriptions, templates, text, text_cache: the class texts, as in `classify`.
        progress: show a tqdm bar over the windows.
        options / kwargs: `InferenceOptions` (batch_size: windows per forward pass; num_crops, protocol, dtype,
            strategy). ``num_clips`` does not apply (each window is one clip).

    Returns:
        `LocalizationResult`: windows with their [W, C] probabilities and the merged segments (seconds).

    Warns:
        LocalizationWarning: the video is shorter than one window (one window over all of it), or the stride is
            longer than the video.
    """
    opts = make_options(options, kwargs)
    if opts.num_clips != 1:
        raise ValueError("num_clips does not apply to localize: every window is one clip (use stride_s for density)")
    rule = SegmentRule(
        background=tuple(background) if not isinstance(background, str) else (background,),
        min_score=min_score,
        keep_score=keep_score,
        min_margin=min_margin,
        min_duration_s=min_duration_s,
        merge_gap_s=merge_gap_s,
        min_windows=min_windows,
        extent=extent,
    )
    calibration = _presence_calibration(model, scores, rule)
    labels, source = label_set_for(model, class_names, descriptions, templates, text)
    labels = with_background(labels, rule.background, templates)
    reader, name = open_frames(video, fps=fps, backend=opts.backend)
    layout = plan_windows(reader.frame_times(), model.num_frames, window_s, stride_s)
    for note in layout.notes:
        warnings.warn(f"{name}: {note}", LocalizationWarning, stacklevel=2)
    probs = _score_windows(model, reader, layout, labels, opts, text_cache, progress, calibration)
    windows = [Window(p.start, p.end, p.indices) for p in layout.windows]
    result = LocalizationResult(
        source=name,
        class_names=list(labels.names),
        windows=windows,
        probabilities=probs,
        segments=[],
        rule=rule,
        duration=layout.duration,
        text=source,
        notes=list(layout.notes),
        scores=scores,
    )
    result.segments = find_segments(result.spans, probs, result.class_names, rule, layout.duration)
    return result


def _presence_calibration(model: EZCLIP, scores: str, rule: SegmentRule) -> tuple[float, float] | None:
    """The backbone's sigmoid (scale, bias) for ``scores="sigmoid"``, None for the softmax; refusals otherwise."""
    if scores not in SCORES:
        raise ValueError(f"scores must be one of {SCORES}, got {scores!r}")
    if scores == "softmax":
        return None
    calibration = model.presence_scale_bias
    if calibration is None:
        raise ValueError(
            "scores='sigmoid' needs a backbone trained with a sigmoid objective (SigLIP 2); "
            f"{model.config.backbone.name} has no logit_bias, so its classes only compare with each other: use "
            "scores='softmax' with background texts for 'no action'"
        )
    check_sigmoid_rule(rule)
    return calibration


def _score_windows(
    model: EZCLIP,
    reader: Any,
    layout: WindowLayout,
    labels: LabelSet,
    opts: InferenceOptions,
    text_cache: bool | TextEmbeddingCache,
    progress: bool,
    calibration: tuple[float, float] | None = None,
) -> torch.Tensor:
    """[W, C] float32 probabilities of every window: softmax, or presence with ``calibration`` (scale, bias)."""
    from tqdm.auto import tqdm

    dtype = opts.autocast_dtype(model)
    out = torch.empty(len(layout.windows), labels.num_classes)
    with eval_mode(model), tqdm(total=len(layout.windows), desc="windows", unit="win", disable=not progress) as bar:
        texts = text_features(model, labels, cache=text_cache, autocast_dtype=dtype)
        views = window_views(reader, layout, opts.transform(model), opts.strategy)
        for w, features in encode_batches(
            model, ((v, w) for v, w in views), batch_size=opts.batch_size, autocast_dtype=dtype
        ):
            if calibration is None:
                out[w] = score_views(features, texts, model.logit_scale)[0]
            else:
                out[w] = presence_views(features, texts, calibration)
            bar.update(1)
    return out
