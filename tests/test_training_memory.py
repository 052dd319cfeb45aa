"""The faster and memory-saving paths compute the same values and gradients as the plain ops they replace."""

import pytest
import torch
import torch.nn.functional as F
from open_clip.transformer import QuickGELU
from torch.autograd.graph import saved_tensors_hooks

from ezclip_zoo.modeling.towers.attention import _attention, _math_attention
from ezclip_zoo.modeling.towers.mlp import mlp_forward


def _saved_tensors(fn):
    """Run ``fn`` and return (its result, the shapes of every tensor autograd saved for backward)."""
    shapes = []

    def pack(t):
        shapes.append(tuple(t.shape))
        return t

    with saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, shapes


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_mlp_forward_equals_the_open_clip_module_in_value_and_gradient(tiny_model, dtype):
    model = tiny_model.to(dtype)
    mlp = model.clip.visual.transformer.resblocks[0].mlp
    assert isinstance(mlp.gelu, QuickGELU)
    torch.nn.init.normal_(mlp.c_fc.bias, std=0.5)  # open_clip initialises biases to zero
    width = mlp.c_fc.in_features
    x = (3 * torch.randn(2, 5, width, dtype=dtype)).requires_grad_()
    ours, saved = _saved_tensors(lambda: mlp_forward(mlp, x))
    reference = mlp(x)
    tol = dict(atol=1e-12, rtol=1e-12) if dtype == torch.float64 else dict(atol=2e-6, rtol=2e-6)
    torch.testing.assert_close(ours, reference, **tol)
    # one [N*L, 4W] activation for backward (the SiLU input); the frozen linears keep only their weights
    assert [s for s in saved if s[0] == 10] == [(10, 4 * width)]
    g = torch.randn_like(reference)
    torch.testing.assert_close(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(reference, x, g)[0], **tol)
    with torch.no_grad():  # the in-place inference path gives the same values
        torch.testing.assert_close(mlp_forward(mlp, x), reference.detach(), **tol)
    # any other activation runs as the module itself
    mlp.gelu = torch.nn.GELU()
    assert torch.equal(mlp_forward(mlp, x), mlp(x))


@pytest.mark.parametrize("causal", [False, True])
def test_cpu_dropout_attention_replays_its_mask_in_backward(causal):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    g = torch.randn(2, 3, 7, 8, dtype=torch.float64)

    torch.manual_seed(5)
    out, saved = _saved_tensors(lambda: _attention(q, k, v, causal=causal, dropout_p=0.3))
    grads = torch.autograd.grad(out, (q, k, v), g)
    assert all(len(shape) == 4 and shape[-1] == 8 for shape in saved)  # q, k, v: no [.., 7, 7] probabilities

    torch.manual_seed(5)  # the same seed draw as inside _DropoutAttention
    seed = int(torch.randint(0, 2**62, (1,)).item())
    expected = _math_attention(q, k, v, 0.3, causal, seed)
    torch.testing.assert_close(out, expected)
    for ours, ref in zip(grads, torch.autograd.grad(expected, (q, k, v), g), strict=True):
        torch.testing.assert_close(ours, ref)

    # dropout really drops: some probabilities are zeroed, and without dropout the result is SDPA's
    assert not torch.allclose(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal))
    no_drop = _math_attention(q, k, v, 0.0, causal, seed)
    torch.testing.assert_close(no_drop, F.scaled_dot_product_attention(q, k, v, is_causal=causal))


def test_dropout_attention_is_unbiased():
    """Averaged over masks, attention with dropout equals attention without (inverted-dropout scaling)."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 6, 4, dtype=torch.float64) for _ in range(3))
    mean = torch.stack([_math_attention(q, k, v, 0.2, False, seed) for seed in range(4000)]).mean(0)
    torch.testing.assert_close(mean, F.scaled_dot_product_attention(q, k, v), atol=0.05, rtol=0)


def test_training_forward_keeps_no_attention_matrices_or_sigmoids(tiny_model):
    """Train mode on CPU (attention dropout on): no saved tensor is an [L, L] attention map or a 4W-wide sigmoid
    beside its input; the frozen backbone's linear layers keep no inputs."""
    model = tiny_model.train()
    size = model.image_size
    frames = torch.randn(2, model.num_frames, 3, size, size)
    tokens = (size // 16) ** 2 + 1
    _, saved = _saved_tensors(lambda: model.encode_frames(frames))
    width = model.clip.visual.transformer.width
    assert not [s for s in saved if len(s) == 4 and s[-1] in (tokens, tokens + 1)]
    hidden = [s for s in saved if s[-1] == 4 * width and s[0] != width]  # activations, not frozen [W, 4W] weights
    layers = len(model.clip.visual.transformer.resblocks)
    assert len(hidden) == layers  # one [N*L, 4W] tensor per block: the activation's input


def test_dropout_attention_backward_recomputes_under_the_forward_autocast_state():
    """Under bf16 autocast (fit's precision="bf16"), the recomputation in backward runs in bf16 as the forward
    did, so the gradients are those of the function that produced the output."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, requires_grad=True) for _ in range(3))
    g = torch.randn(2, 3, 7, 8, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.manual_seed(5)
        out = _attention(q, k, v, causal=False, dropout_p=0.3)
        torch.manual_seed(5)
        expected = _math_attention(q, k, v, 0.3, False, int(torch.randint(0, 2**62, (1,)).item()))
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, expected)
    ours_grads = torch.autograd.grad(out, (q, k, v), g)
    for ours, ref in zip(ours_grads, torch.autograd.grad(expected, (q, k, v), g), strict=True):
        assert torch.equal(ours, ref)
