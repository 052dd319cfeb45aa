"""EZ-CLIP's training losses: ActionCLIP's soft-target KL contrastive loss (the reference's), SigLIP's pairwise
sigmoid loss (an option for backbones trained with it), and the motion loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["motion_loss", "kl_contrastive_loss", "sigmoid_contrastive_loss", "soft_targets", "ezclip_loss"]


def motion_loss(frame_features: torch.Tensor) -> torch.Tensor:
    """``1 / (C + V + 1)`` of per-frame embeddings, rewarding features that change over time.

    C is the mean absolute central difference ``|x[t+1] - x[t-1]| / 2`` (ends repeated: ``x[-1] = x[0]``,
    ``x[T] = x[T-1]``), V the mean over clips and channels of the unbiased variance over time.

    Args:
        frame_features: [B, T, E] projected, not normalised, T >= 2.

    Returns:
        A scalar in (0, 1].
    """
    if frame_features.ndim != 3:
        raise ValueError(f"frame_features must be [B, T, E], got shape {tuple(frame_features.shape)}")
    if frame_features.shape[1] < 2:
        raise ValueError("the motion loss needs at least 2 frames per clip (the variance over time is undefined)")
    x = frame_features
    nxt = torch.cat([x[:, 1:], x[:, -1:]], dim=1)
    prev = torch.cat([x[:, :1], x[:, :-1]], dim=1)
    central = ((nxt - prev).abs() / 2).mean()
    variance = x.var(dim=1, unbiased=True).mean()
    return 1.0 / (central + variance + 1.0)


def soft_targets(labels: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``softmax(10 * same_label)`` row-wise: [B] labels -> [B, B] target distributions."""
    if labels.ndim != 1:
        raise ValueError(f"labels must be [B], got shape {tuple(labels.shape)}")
    same = (labels[:, None] == labels[None, :]).to(dtype)
    return (10.0 * same).softmax(dim=1)


def _kl(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    # KLDiv averaged over all B*B entries, times B: the reference's KLLoss (= reduction "batchmean")
    return F.kl_div(logits.log_softmax(dim=1), target, reduction="batchmean")


def _check_pairwise(logits_per_video: torch.Tensor, labels: torch.Tensor) -> None:
    """Both contrastive losses take square [B, B] video-text logits and [B] labels."""
    if logits_per_video.ndim != 2 or logits_per_video.shape[0] != logits_per_video.shape[1]:
        raise ValueError(f"logits_per_video must be square [B, B], got {tuple(logits_per_video.shape)}")
    if labels.shape != logits_per_video.shape[:1]:
        raise ValueError(f"labels must be [{logits_per_video.shape[0]}], got {tuple(labels.shape)}")


def kl_contrastive_loss(logits_per_video: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of the video->text and text->video KL losses with soft same-label targets.

    Args:
        logits_per_video: [B, B] ``scale * cos(video_i, text_j)`` where text_j is the class text of clip j.
        labels: [B] class index of each clip; clips sharing a label are all positives of each other.

    Returns:
        A scalar.
    """
    _check_pairwise(logits_per_video, labels)
    target = soft_targets(labels.to(logits_per_video.device), logits_per_video.dtype)
    return (_kl(logits_per_video, target) + _kl(logits_per_video.T, target)) / 2


def sigmoid_contrastive_loss(logits_per_video: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """SigLIP's pairwise sigmoid loss, with every clip of the same class a positive: ``-sum log sigmoid(z * logits)
    / B``, z = +1 for pairs of the same class and -1 otherwise (divided by B, as SigLIP does).

    Args:
        logits_per_video: [B, B] ``scale * cos(video_i, text_j) + bias``, text_j the class text of clip j.
        labels: [B] class index of each clip.

    Returns:
        A scalar.
    """
    _check_pairwise(logits_per_video, labels)
    labels = labels.to(logits_per_video.device)
    signs = 2.0 * (labels[:, None] == labels[None, :]).to(logits_per_video.dtype) - 1.0
    return -F.logsigmoid(signs * logits_per_video).sum() / logits_per_video.shape[0]


def ezclip_loss(
    frame_features: torch.Tensor,
    text_features: torch.Tensor,
    labels: torch.Tensor,
    logit_scale: torch.Tensor | float,
    motion_weight: float = 1.0,
    *,
    logit_bias: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """The training loss: contrastive over the batch + ``motion_weight`` * motion loss. The contrastive part is the
    reference's soft-target KL over ``logit_scale * cos``, or, given ``logit_bias``, SigLIP's sigmoid loss over
    ``logit_scale * cos + logit_bias``.

    Args:
        frame_features: [B, T, E] per-frame embeddings of the clips (not normalised).
        text_features: [B, E] embedding of each clip's class text (not normalised).
        labels: [B] class indices.
        logit_scale: the training temperature (``model.train_logit_scale``, about 100).
        motion_weight: weight of the motion term (1 in the paper; 0 switches it off).
        logit_bias: the backbone's sigmoid bias (`EZCLIP.presence_scale_bias`) for the sigmoid loss; None for the
            reference's KL.
    """
    video = F.normalize(frame_features.mean(dim=1), dim=-1)
    text = F.normalize(text_features, dim=-1)
    if logit_bias is None:
        loss = kl_contrastive_loss(logit_scale * video @ text.T, labels)
    else:
        loss = sigmoid_contrastive_loss(logit_scale * video @ text.T + logit_bias, labels)
    if motion_weight:
        loss = loss + motion_weight * motion_loss(frame_features)
    return loss
