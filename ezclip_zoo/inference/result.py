"""Result records of inference: one `ClassificationResult` per classified video, `VideoError` for a failed one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["ClassificationResult", "VideoError", "EmbeddingResult"]


@dataclass
class ClassificationResult:
    """Ranked labels of one video.

    Attributes:
        source: the video's name (its path, or a description of in-memory input).
        labels: the top-k class names, best first.
        probabilities: their probabilities (softmax over all classes, averaged over views and templates).
        logits: their logits (``logit_scale`` x cosine similarity, averaged over views and templates).
        class_names: all C class names, in the order of ``all_probabilities``.
        all_probabilities: float32 [C].
        all_logits: float32 [C].
        frame_indices: the sampled frame indices of each temporal view.
        total_frames: frames in the video.
        strategy: how frames were decoded (``"sequential"``, ``"seek"``, ``"torchcodec"``, ``"memory"``).
        text: what the text tower read for the classes, e.g. ``"names"``, ``"descriptions of kinetics400"``,
            ``"names x 16 templates"``.
        presence: SigLIP-family backbones only (else None): the top-k classes' presence probabilities, each class's
            own ``sigmoid(scale * cos + bias)`` with the backbone's scale and bias ("is this action in the video at
            all"), which, unlike ``probabilities``, do not share 1 among the given classes.
        all_presence: float32 [C] presence probabilities of every class, or None.
    """

    source: str
    labels: list[str]
    probabilities: list[float]
    logits: list[float]
    class_names: tuple[str, ...] = field(repr=False, default=())
    all_probabilities: torch.Tensor | None = field(repr=False, default=None)
    all_logits: torch.Tensor | None = field(repr=False, default=None)
    frame_indices: list[list[int]] = field(repr=False, default_factory=list)
    total_frames: int = field(repr=False, default=0)
    strategy: str = field(repr=False, default="")
    text: str = field(repr=False, default="")
    presence: list[float] | None = None
    all_presence: torch.Tensor | None = field(repr=False, default=None)

    @property
    def label(self) -> str:
        """The best class."""
        return self.labels[0]

    @property
    def probability(self) -> float:
        """The best class's probability."""
        return self.probabilities[0]

    def to_dict(self, all_classes: bool = False) -> dict[str, Any]:
        """JSON-able dict: source, labels, probabilities, logits, frames (and every class's probability with
        ``all_classes``)."""
        out: dict[str, Any] = {
            "source": self.source,
            "labels": list(self.labels),
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "logits": [round(float(x), 4) for x in self.logits],
            "total_frames": self.total_frames,
            "frame_indices": self.frame_indices,
        }
        if self.text:
            out["text"] = self.text
        if self.presence is not None:
            out["presence"] = [round(float(p), 6) for p in self.presence]
        if all_classes and self.all_presence is not None:
            out["all_presence"] = dict(
                zip(self.class_names, (round(float(p), 6) for p in self.all_presence.tolist()), strict=True)
            )
        if all_classes and self.all_probabilities is not None:
            out["all_probabilities"] = dict(
                zip(self.class_names, (round(float(p), 6) for p in self.all_probabilities.tolist()), strict=True)
            )
        return out

    def __str__(self) -> str:
        width = max(len(label) for label in self.labels)
        rows = [f"{self.source}"]
        presence = self.presence if self.presence is not None else [None] * len(self.labels)
        rows += [
            f"  {rank}. {label:<{width}}  {prob:7.2%}  (logit {logit:.2f})"
            + ("" if present is None else f"  present {present:6.1%}")
            for rank, (label, prob, logit, present) in enumerate(
                zip(self.labels, self.probabilities, self.logits, presence, strict=True), 1
            )
        ]
        return "\n".join(rows)


@dataclass
class EmbeddingResult:
    """The L2-normalised embedding of one video (mean over its views), float32 [E]."""

    source: str
    embedding: torch.Tensor
    total_frames: int = 0
    frame_indices: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, ``embedding`` (E floats), ``total_frames``, ``frame_indices``."""
        return {
            "source": self.source,
            "embedding": [float(x) for x in self.embedding.tolist()],
            "total_frames": self.total_frames,
            "frame_indices": self.frame_indices,
        }


@dataclass
class VideoError:
    """A video that could not be processed in batch mode (its record in the output instead of a crash)."""

    source: str
    error: str
    error_type: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``source``, ``error`` and ``error_type`` (the exception's class name)."""
        return {"source": self.source, "error": self.error, "error_type": self.error_type}

    def __str__(self) -> str:
        return f"{self.source}\n  ERROR {self.error_type}: {self.error}"
