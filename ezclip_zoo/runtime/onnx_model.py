"""`OnnxModel`: zero-shot video classification with an exported model folder and ONNX Runtime, without torch."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ExportedModelError
from .manifest import read_manifest
from .preprocess import FramePreprocess, read_clip
from .tokenizer import ClipTokenizer

_Tokenizer = Callable[[Sequence[str]], np.ndarray]

if TYPE_CHECKING:
    import onnxruntime

__all__ = ["OnnxModel", "RuntimeResult"]


@dataclass(frozen=True)
class RuntimeResult:
    """The ranked classes of one video.

    Attributes:
        source: the video's path or a description.
        labels, probabilities, logits: the ``topk`` best classes, best first, with their softmax probability and
            ``logit_scale * cos`` logit (both averaged over a class's texts, as the eager scoring does).
        class_names: all C classes, in order.
        all_probabilities, all_logits: float32 [C].
        frame_indices: the T frames the clip was made of (empty for frames given in memory).
    """

    source: str
    labels: list[str]
    probabilities: list[float]
    logits: list[float]
    class_names: list[str]
    all_probabilities: np.ndarray = field(repr=False)
    all_logits: np.ndarray = field(repr=False)
    frame_indices: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, the top-k ``labels``, ``probabilities`` and ``logits``, ``frame_indices``."""
        return {
            "source": self.source,
            "labels": self.labels,
            "probabilities": self.probabilities,
            "logits": self.logits,
            "frame_indices": self.frame_indices,
        }


def _session(path: Path, threads: int | None, providers: Sequence[str] | None) -> onnxruntime.InferenceSession:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ImportError("OnnxModel needs onnxruntime: pip install 'ezclip-zoo[export]' (or onnxruntime)") from exc
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=list(providers or ["CPUExecutionProvider"]))


def _text_tokenizer(folder: Path, manifest: dict[str, Any]) -> _Tokenizer:
    entry = manifest["tokenizer"]
    kind = entry.get("kind", "clip-bpe")  # earlier exports recorded CLIP's BPE without a kind
    context = int(manifest["context_length"])
    if kind == "clip-bpe":
        return ClipTokenizer(folder / entry["bpe"], context, entry.get("clean"))
    if kind == "hugging-face":
        from .hf_tokenizer import HuggingFaceTokenizer

        return HuggingFaceTokenizer.from_manifest(folder, {**entry, "context_length": context})
    raise ExportedModelError(
        f"{folder}: unknown tokenizer kind {kind!r} (this ezclip-zoo reads 'clip-bpe' and 'hugging-face'); "
        "upgrade ezclip-zoo or export the model again"
    )


class OnnxModel:
    """An exported model folder (``ezclip-zoo export MODEL OUT_DIR``) run with ONNX Runtime.

    ``OnnxModel(OUT_DIR).classify("clip.mp4")`` ranks the classes exported with the model (their precomputed text
    embeddings); ``classify("clip.mp4", ["dancing", "juggling"])`` encodes new class names with the folder's text
    encoder and tokenizer. Every file is checked against the manifest's sha256 on opening.

    Args:
        folder: the export folder.
        threads: ONNX Runtime intra-op threads (None: its default, every core).
        providers: ONNX Runtime execution providers (default ``["CPUExecutionProvider"]``).
        verify: check the files' sha256 (True).

    Raises:
        ExportedModelError: not an export folder, a missing file, or a ``torch-export`` folder.
        ExportedFileChangedError: a file was edited or damaged.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        threads: int | None = None,
        providers: Sequence[str] | None = None,
        verify: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder, verify=verify)
        if self.manifest["format"] != "onnx":
            raise ExportedModelError(
                f"{self.folder} holds a {self.manifest['format']!r} export; OnnxModel runs "
                "--format onnx exports (load .pt2 programs with torch.export.load)"
            )
        encoders = self.manifest["encoders"]
        self._video = _session(self.folder / encoders["video"]["file"], threads, providers)
        self._text = _session(self.folder / encoders["text"]["file"], threads, providers)
        self.preprocess = FramePreprocess.from_manifest(self.manifest["preprocess"])
        self._tokenizer: _Tokenizer | None = None
        classes = self.manifest.get("classes")
        self.class_names: list[str] | None = list(classes["names"]) if classes else None
        self._class_embeddings = np.load(self.folder / classes["file"]) if classes else None

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        """T, the frames per clip (fixed by the checkpoint's temporal prompts)."""
        return int(self.manifest["num_frames"])

    @property
    def image_size(self) -> int:
        """S, the side of the square frames the video encoder takes, in pixels."""
        return int(self.manifest["image_size"])

    @property
    def logit_scale(self) -> float:
        """Multiplier of the cosine similarities (100, as the eager model scores)."""
        return float(self.manifest["logit_scale"])

    def __repr__(self) -> str:
        return (
            f"OnnxModel({str(self.folder)!r}, model={self.manifest.get('model')!r}, "
            f"num_frames={self.num_frames}, classes={len(self.class_names or [])})"
        )

    # ------------------------------------------------------------------ encoders
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        """L2-normalised clip embeddings: float32 [B, T, 3, S, S] (preprocessed) -> float32 [B, E]."""
        frames = np.asarray(frames)
        t, s = self.num_frames, self.image_size
        if frames.ndim != 5 or frames.shape[2] != 3:
            raise ValueError(f"frames must be [B, T, 3, H, W], got shape {frames.shape}")
        if frames.shape[1] != t:
            raise ValueError(
                f"this export takes clips of {t} frames (its temporal prompts have one vector per "
                f"frame position), got {frames.shape[1]}; sample {t} frames per clip"
            )
        if frames.shape[3:] != (s, s):
            raise ValueError(f"frames must be {s}x{s} pixels, got {frames.shape[3:]}; use model.preprocess")
        if not np.issubdtype(frames.dtype, np.floating):
            raise TypeError(
                f"frames must be float pixels normalised with the CLIP mean/std, got {frames.dtype}; "
                "use model.preprocess.frames (or model.classify, which decodes and preprocesses)"
            )
        entry = self.manifest["encoders"]["video"]
        return self._video.run([entry["output"]], {entry["input"]: frames.astype(np.float32)})[0]

    def tokenize(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> int64 [C, context_length] ids, equal to the eager model's ``tokenize``: CLIP's BPE
        (`ClipTokenizer`) or the backbone's Hugging Face tokenizer (`HuggingFaceTokenizer`, with the ``tokenizers``
        package), as the manifest's ``tokenizer`` entry says."""
        if self._tokenizer is None:
            self._tokenizer = _text_tokenizer(self.folder, self.manifest)
        return self._tokenizer(texts)

    def encode_text(self, texts: Sequence[str] | np.ndarray) -> np.ndarray:
        """L2-normalised text embeddings: C strings (or int64 ids [C, context_length]) -> float32 [C, E]."""
        return self._run_text(texts if isinstance(texts, np.ndarray) else self.tokenize(texts))

    def _run_text(self, tokens: np.ndarray) -> np.ndarray:
        if tokens.ndim != 2 or tokens.shape[1] != int(self.manifest["context_length"]):
            raise ValueError(f"token ids must be [C, {self.manifest['context_length']}], got {tokens.shape}")
        entry = self.manifest["encoders"]["text"]
        return self._text.run([entry["output"]], {entry["input"]: tokens.astype(np.int64)})[0]

    # ------------------------------------------------------------------ classification
    def _class_features(self, class_names: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
        """(names, normalised text embeddings [M, C, E])."""
        if class_names is None:
            if self.class_names is None or self._class_embeddings is None:  # both or neither
                raise ValueError(
                    f"{self.folder} was exported without classes: pass class_names, or export with "
                    "--label/--labels/--class-set"
                )
            return self.class_names, self._class_embeddings
        if isinstance(class_names, str):
            raise TypeError(f"class_names must be a list of strings, got a single string {class_names!r}")
        names = list(class_names)
        if len(set(names)) != len(names):
            raise ValueError("class_names has duplicates; each class once")
        return names, self._run_text(self.tokenize(names))[None]

    def classify(
        self,
        video: str | os.PathLike | bytes | np.ndarray,
        class_names: Sequence[str] | None = None,
        *,
        topk: int = 5,
    ) -> RuntimeResult:
        """Rank classes for one video.

        Args:
            video: a video file (path or bytes), or uint8 RGB frames [N, H, W, 3] (T of them sampled, TSN rule).
            class_names: C class names to encode now, as they are (no templates); None ranks the classes exported
                with the model (with the texts they were exported with).
            topk: how many classes the result lists.

        Returns:
            `RuntimeResult`: softmax over classes of ``logit_scale * cos(video, text)``, averaged over a class's
            texts, as `ezclip_zoo.inference.classify` scores one view.
        """
        if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
            raise ValueError(f"topk must be a positive int, got {topk!r}")
        names, texts = self._class_features(class_names)
        if isinstance(video, np.ndarray):
            from ..video.frame_indices import sample_frame_indices

            indices = sample_frame_indices(len(video), self.num_frames, mode="test")
            clip, source = self.preprocess.frames(video[indices]), f"<ndarray {video.shape}>"
        else:
            clip, indices, _ = read_clip(video, self.num_frames, self.preprocess)
            source = str(video) if not isinstance(video, bytes) else f"<{len(video)} bytes>"
        embedding = self.encode_video(clip[None])[0]
        logits = self.logit_scale * np.einsum("e,mce->mc", embedding, texts)
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probs = (shifted / shifted.sum(axis=-1, keepdims=True)).mean(axis=0)
        mean_logits = logits.mean(axis=0)
        top = np.argsort(-probs, kind="stable")[: min(topk, len(names))]
        return RuntimeResult(
            source=source,
            labels=[names[i] for i in top],
            probabilities=[float(probs[i]) for i in top],
            logits=[float(mean_logits[i]) for i in top],
            class_names=names,
            all_probabilities=probs,
            all_logits=mean_logits,
            frame_indices=list(indices),
        )
