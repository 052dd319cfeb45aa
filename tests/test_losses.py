"""Losses against values worked out by hand."""

import math

import pytest
import torch

from ezclip_zoo.modeling.losses import kl_contrastive_loss, motion_loss, soft_targets


def test_motion_loss_by_hand():
    # one clip, T=3, E=1: x = [0, 2, 6]
    x = torch.tensor([[[0.0], [2.0], [6.0]]])
    # central differences with repeated ends: |2-0|/2, |6-0|/2, |6-2|/2 -> 1, 3, 2 -> C = 2
    # unbiased variance of [0, 2, 6]: mean 8/3, var = ((64 + 4 + 100) / 9) / 2 = 28/3
    expected = 1.0 / (2.0 + 28.0 / 3.0 + 1.0)
    assert motion_loss(x).item() == pytest.approx(expected, rel=1e-6)


def test_motion_loss_of_static_clip_is_one_and_needs_two_frames():
    assert motion_loss(torch.ones(2, 8, 4)).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        motion_loss(torch.ones(2, 1, 4))


def test_soft_targets_and_kl_by_hand():
    labels = torch.tensor([0, 0, 1])
    t = soft_targets(labels)
    e = math.exp(10)
    assert t[0].tolist() == pytest.approx([e / (2 * e + 1), e / (2 * e + 1), 1 / (2 * e + 1)])
    logits = torch.zeros(3, 3)
    # uniform predictions: KL(t || u) per row = sum t log t + log 3; batchmean averages the rows
    rows = [(t[i] * t[i].log()).sum().item() + math.log(3) for i in range(3)]
    assert kl_contrastive_loss(logits, labels).item() == pytest.approx(sum(rows) / 3, rel=1e-5)


def test_kl_loss_uses_both_directions():
    logits = torch.tensor([[5.0, 0.0], [3.0, 1.0]])
    labels = torch.tensor([0, 1])
    t = soft_targets(labels)
    one = torch.nn.functional.kl_div(logits.log_softmax(1), t, reduction="batchmean")
    other = torch.nn.functional.kl_div(logits.T.log_softmax(1), t, reduction="batchmean")
    assert kl_contrastive_loss(logits, labels).item() == pytest.approx(((one + other) / 2).item())
    assert one.item() != pytest.approx(other.item())


def test_kl_loss_shape_errors():
    with pytest.raises(ValueError, match="square"):
        kl_contrastive_loss(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        kl_contrastive_loss(torch.zeros(2, 2), torch.tensor([0, 1, 2]))
