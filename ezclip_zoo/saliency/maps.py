"""Per-frame maps of where an EZ-CLIP model looks: ``explain(model, video, "juggling", method=...)``.

Three methods, all read from the video tower's per-frame attention (`EZCLIP.capture_attention`):

* ``"attention"`` (gradient-free, one forward pass): the CLS token's attention over the patches in the last block,
  averaged over heads. What the last block pools into the frame embedding; the same for every class.
* ``"rollout"`` (gradient-free, one forward pass): attention rollout (Abnar & Zuidema, 2020): the head-averaged
  attention of every block with the residual as ``0.5 A + 0.5 I``, multiplied through the blocks, CLS row. How
  much of each patch reaches the CLS token through all blocks; the same for every class.
* ``"gradient"`` (class-specific, one forward and one backward pass): gradient-weighted attention rollout
  (Chefer, Gur & Wolf, 2021): per block ``mean over heads of max(dL/dA * A, 0)``, accumulated as ``R += A_bar R``,
  CLS row, where L is the chosen class's logit, ``logit_scale * cos(video, text)`` against its text embedding. The
  patches whose attention raised that class's score.

The temporal prompt token each frame also attends to (EZ-CLIP's models) is not a patch: its column is left out of
the maps (rollout renormalises each row over the frame's own tokens). Maps are [T, S, S] in [0, 1] over the
model-input frames (resized and cropped as the model sees them), patch values upsampled bilinearly.

Where a backbone reads no class token (SigLIP 2, PE-Core: an attention-pool head), "the CLS row" above is the head's
readout: its latent queries' attention over the final tokens, averaged over heads and queries ("attention" is then
exactly that map, and rollout and gradient finish with it, gradient-weighted for "gradient"); the capture says which
(`AttentionCapture.readout`, and ``prefix``, the tokens before the patch grid).
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from ..choices import CLASS_SPECIFIC_METHODS, EXPLAIN_METHODS, NORMALIZATIONS
from ..inference.classification import label_set_for
from ..inference.scoring import score_views
from ..inference.views import prepare_views
from ..text.cache import text_features
from ..text.labels import LabelSet
from ..transforms.eval import VideoTransform
from ..video import probe_video

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = [
    "Explanation",
    "explain",
    "explain_frames",
    "attention_maps",
    "normalize_maps",
]

Target = str | int | None


@dataclass
class Explanation:
    """Maps of one clip, aligned with its sampled frames.

    Attributes:
        maps: float32 [T, S, S] in [0, 1], one map per sampled frame over the model input (S = ``image_size``).
        patch_maps: float32 [T, g, g] in [0, 1], the same values per patch (g x g patch grid) before upsampling.
        frames: uint8 [T, S, S, 3], the sampled frames as the model sees them (resized, cropped).
        frame_indices: the T frame indices in the video.
        timestamps: seconds of each frame (index / frame rate) for a video file; None for frames in memory.
        total_frames: frames in the whole video.
        method: the method (`EXPLAIN_METHODS`).
        class_name: the class the map is for (None for a gradient-free map without one).
        score: that class's logit, ``logit_scale * cos(video, text)`` (None without a class).
        class_names, probabilities: the classes scored and their zero-shot probabilities [C] (when classes were
            given, else the one target class; None without a class).
        source: the video's name.
        seconds: wall time of the model passes (forward, and backward for ``"gradient"``).
    """

    maps: torch.Tensor
    patch_maps: torch.Tensor
    frames: torch.Tensor
    frame_indices: list[int]
    timestamps: list[float] | None
    total_frames: int
    method: str
    class_name: str | None
    score: float | None
    class_names: tuple[str, ...] | None
    probabilities: torch.Tensor | None
    source: str
    seconds: float

    def __repr__(self) -> str:
        what = f", class={self.class_name!r}, score={self.score:.3f}" if self.class_name is not None else ""
        return (
            f"Explanation(method={self.method!r}{what}, maps={tuple(self.maps.shape)}, "
            f"frame_indices={self.frame_indices}, source={self.source!r})"
        )


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode (dropout, drop-path off) for the call, gradients allowed; train mode restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _check_method(method: Any) -> str:
    if method not in EXPLAIN_METHODS:
        raise ValueError(f"method must be one of {EXPLAIN_METHODS}, got {method!r}")
    return method


def _grid(num_patches: int) -> int:
    side = math.isqrt(num_patches)
    if side * side != num_patches:
        raise ValueError(f"{num_patches} patch tokens are not a square grid")
    return side


def _own_tokens(probs: torch.Tensor) -> torch.Tensor:
    """[N, H, L, K] -> float32 [N, H, L, L]: drop the temporal prompt key (K = L + 1) when there is one."""
    length = probs.shape[-2]
    return probs[..., :length].float()


def attention_maps(
    method: str,
    probs: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor] | None = None,
    *,
    prefix: int = 1,
    readout: torch.Tensor | None = None,
    readout_grad: torch.Tensor | None = None,
) -> torch.Tensor:
    """Patch maps from the captured attention of every block, not normalised.

    Args:
        method: one of `EXPLAIN_METHODS`.
        probs: per block (in order), [N, H, L, K] attention probabilities (`EZCLIP.capture_attention`); only the
            last is read for ``"attention"`` (without a ``readout``).
        grads: for ``"gradient"``, the gradients of the class score with respect to ``probs``.
        prefix: tokens before the g*g patches (1: a class token first; 0: none).
        readout: None when the frame embedding is the first token's; else [N, H, Q, L], how the pooling head reads
            the L final tokens (`AttentionCapture.readout`).
        readout_grad: for ``"gradient"`` with a ``readout``, the class score's gradient with respect to it.

    Returns:
        float32 [N, g, g], non-negative: the readout row (the class token's, or the pooling head's) over the
        patches.
    """
    _check_method(method)
    row = None if readout is None else readout.float().mean(dim=(1, 2))  # [N, L]
    if readout is not None and method in CLASS_SPECIFIC_METHODS:
        if readout_grad is None:
            raise ValueError("method 'gradient' needs the gradient of the readout too")
        row = (readout_grad.float() * readout.float()).clamp_min(0).mean(dim=(1, 2))
    if method == "attention":
        cls = _own_tokens(probs[-1]).mean(dim=1)[:, 0, prefix:] if row is None else row[:, prefix:]
    else:
        n, _, length, _ = probs[-1].shape
        eye = torch.eye(length, device=probs[-1].device).expand(n, length, length)
        relevance = eye.clone()
        for i, block in enumerate(probs):
            a = _own_tokens(block)
            if method == "rollout":
                mixed = a.mean(dim=1)
                mixed = mixed / mixed.sum(dim=-1, keepdim=True).clamp_min(1e-12)
                relevance = (0.5 * mixed + 0.5 * eye) @ relevance
            else:
                if grads is None:
                    raise ValueError("method 'gradient' needs the gradients of the attention")
                weighted = (_own_tokens(grads[i]) * a).clamp_min(0).mean(dim=1)
                relevance = relevance + weighted @ relevance
        first = relevance[:, 0] if row is None else (row[:, None] @ relevance)[:, 0]
        cls = first[:, prefix:]
    side = _grid(cls.shape[-1])
    return cls.reshape(-1, side, side)


def normalize_maps(maps: torch.Tensor, normalize: str = "clip") -> torch.Tensor:
    """Scale non-negative maps [T, ...] into [0, 1]: by their maximum over the whole clip (``"clip"``: frames
    stay comparable) or over each frame (``"frame"``). All-zero maps stay zero."""
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
    maps = torch.nan_to_num(maps.float().clamp_min(0), nan=0.0, posinf=0.0)
    dims = tuple(range(maps.ndim)) if normalize == "clip" else tuple(range(1, maps.ndim))
    peak = maps.amax(dim=dims, keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-30), torch.zeros_like(maps))


def explain_frames(
    model: EZCLIP,
    frames: torch.Tensor,
    method: str = "gradient",
    text: torch.Tensor | None = None,
    class_index: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The raw patch maps of one preprocessed clip, and its embedding.

    Args:
        model: an `EZCLIP` (put in eval mode by the caller).
        frames: [T, 3, S, S] preprocessed frames (CLIP mean/std), T == ``model.num_frames``.
        method: one of `EXPLAIN_METHODS`.
        text: for ``"gradient"``, normalised class text embeddings [M, C, E] (templates x classes).
        class_index: for ``"gradient"``, the class (index into C) whose logit, ``logit_scale * cos(video, text)``
            averaged over the M templates, the gradients are taken of.

    Returns:
        (float32 [T, g, g] non-negative patch maps, not normalised; the normalised clip embedding, float32 [E]).
    """
    _check_method(method)
    needs_grad = method in CLASS_SPECIFIC_METHODS
    if needs_grad and (text is None or class_index is None):
        raise ValueError(f"method {method!r} is class-specific: give the class (a name, or an index into classes)")
    blocks = [-1] if method == "attention" else None
    x = frames[None].to(device=model.device, dtype=model.dtype)
    # gradients even inside a caller's inference_mode
    with torch.inference_mode(False), torch.set_grad_enabled(needs_grad), model.capture_attention(blocks) as captured:
        if needs_grad:  # every block's attention joins the graph, the first one's included
            x = x.clone().requires_grad_(True)  # (a copy: the frames may be an inference-mode tensor)
        video = F.normalize(model.encode_video(x).float(), dim=-1)[0]
        probs = [captured[i] for i in sorted(captured)]
        readout = captured.readout
        grads = readout_grad = None
        if needs_grad:
            assert text is not None and class_index is not None  # checked on entry: a class-specific method has both
            own = text[:, class_index].to(video.device).clone()  # a normal tensor, whatever mode made the text
            score = model.logit_scale * (own @ video).mean()
            found = torch.autograd.grad(score, probs + ([readout] if readout is not None else []))
            grads, readout_grad = list(found[: len(probs)]), (found[-1] if readout is not None else None)
    with torch.no_grad():
        maps = attention_maps(method, probs, grads, prefix=captured.prefix, readout=readout, readout_grad=readout_grad)
    return maps.detach(), video.detach()


def _resolve_target(
    model: EZCLIP, target: Target, classes: Any, descriptions: Any, templates: Any, text: str | None
) -> tuple[LabelSet | None, int | None]:
    """(the label set to score, the target's index in it) from a class name or index and optional classes."""
    if isinstance(target, bool) or not isinstance(target, (str, int, type(None))):
        raise TypeError(f"the class must be a class name (str), an index into classes (int) or None, got {target!r}")
    if classes is None:
        if isinstance(target, int):
            raise ValueError(f"class index {target} needs classes=[...] (the names it indexes)")
        if target is None:
            return None, None
        return label_set_for(model, [target], descriptions, templates, text)[0], 0
    labels = label_set_for(model, classes, descriptions, templates, text)[0]
    if target is None:
        return labels, None
    if isinstance(target, int):
        if not 0 <= target < labels.num_classes:
            raise ValueError(f"class index {target} is out of range for {labels.num_classes} classes")
        return labels, target
    if target not in labels.names:
        close = difflib.get_close_matches(target, labels.names, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown class {target!r}: not one of the {labels.num_classes} classes given{hint}")
    return labels, labels.names.index(target)


def _input_frames(views: torch.Tensor, transform: VideoTransform) -> torch.Tensor:
    """Preprocessed [T, 3, S, S] back to the uint8 RGB frames the model saw, [T, S, S, 3]."""
    mean = torch.tensor(transform.mean).view(1, 3, 1, 1)
    std = torch.tensor(transform.std).view(1, 3, 1, 1)
    rgb = (views.float() * std + mean).clamp(0, 1) * 255
    return rgb.round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def _timestamps(video: Any, indices: list[int]) -> list[float] | None:
    """Seconds of each frame for a video file with a known frame rate, else None."""
    if not isinstance(video, (str, os.PathLike)):
        return None
    fps = probe_video(video).fps
    return [round(i / fps, 4) for i in indices] if fps else None


def explain(
    model: EZCLIP,
    video: Any,
    target: Target = None,
    *,
    method: str = "gradient",
    classes: None | str | Sequence[str] | Mapping[str, str] = None,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
    normalize: str = "clip",
    protocol: str = "clip",
    strategy: str = "auto",
    backend: str = "pyav",
) -> Explanation:
    """Per-frame maps of where the model looks in a video, aligned with the T frames it samples.

    Args:
        model: an `EZCLIP`.
        video: one video: a path, bytes, a binary file object, a list of PIL images or uint8 frames [N, H, W, 3];
            T = ``model.num_frames`` frames are sampled as `classify` samples them (segment centres, one clip).
        target: the class to explain: a name, or an index into ``classes``. Required by ``"gradient"``; optional
            for the gradient-free methods (whose map is the same for every class; the class is then only scored).
        method: ``"attention"``, ``"rollout"`` or ``"gradient"`` (see the module doc for what each shows).
        classes: class names (list, dict name -> description, or a class-set name) that ``target`` belongs to;
            they are scored (``probabilities``). Default: the target alone.
        descriptions, templates, text: the class texts, as in `classify`.
        normalize: ``"clip"`` (divide by the clip's maximum, frames comparable) or ``"frame"`` (each frame's own).
        protocol, strategy, backend: preprocessing and decoding, as in `InferenceOptions`.

    Returns:
        An `Explanation`: ``maps`` [T, S, S] in [0, 1], the frames, their indices and timestamps, the score.

    Raises:
        ValueError: an unknown method, class name or index; a class-specific method without a class.
        TypeError: a class that is neither a name nor an index.
        VideoDecodeError / VideoNotFoundError: the video cannot be read.
    """
    _check_method(method)
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
    labels, index = _resolve_target(model, target, classes, descriptions, templates, text)
    if method in CLASS_SPECIFIC_METHODS and index is None:
        raise ValueError(
            f"method {method!r} is class-specific: pass the class, e.g. explain(model, video, "
            f"'juggling', method={method!r}), or use a gradient-free method ('attention', 'rollout')"
        )
    transform = VideoTransform.from_model(model, protocol=protocol)
    views, clips = prepare_views(video, model.num_frames, transform, strategy=strategy, backend=backend)
    with _eval_mode(model):
        with torch.no_grad():
            texts = text_features(model, labels) if labels is not None else None
        start = time.perf_counter()
        raw, video_embedding = explain_frames(model, views[0], method, texts, index)
        seconds = time.perf_counter() - start
    probs, logits = (None, None) if texts is None else score_views(video_embedding[None], texts, model.logit_scale)
    patch_maps = normalize_maps(raw.cpu(), normalize)
    size = model.image_size
    maps = F.interpolate(patch_maps[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0]
    class_name: str | None = None
    score: float | None = None
    if index is not None:
        # _resolve_target gives an index only with its label set, and a label set is always scored
        assert labels is not None and logits is not None
        class_name, score = labels.names[index], float(logits[index])
    return Explanation(
        maps=maps.clamp(0, 1),
        patch_maps=patch_maps,
        frames=_input_frames(views[0], transform),
        frame_indices=list(clips.indices[0]),
        timestamps=_timestamps(video, list(clips.indices[0])),
        total_frames=clips.total_frames,
        method=method,
        class_name=class_name,
        score=score,
        class_names=labels.names if labels is not None else None,
        probabilities=probs,
        source=clips.name,
        seconds=seconds,
    )
