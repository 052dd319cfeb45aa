"""The inference fast paths of the towers compute what the plain formulas do.

* `residual_linear`: ``residual + linear(x)`` with the GEMM accumulating into the residual (values and gradients);
* the prompted attention's packed QKV, whose prompt row is overwritten in place by the extra token's key and value
  when nothing needs it for backward, and copied otherwise;
* every candidate of the kernels chosen by measurement (`ezclip_zoo.modeling.kernels`), pinned one by one: CPU
  attention as SDPA or its math form, the patch convolution as the convolution or one GEMM; the choice itself
  (timed once per shape, never while tracing, pins winning); and the functional layer norm call, which must give what
  the modules give.
"""

import time

import pytest
import torch
import torch.nn.functional as F
from _helpers.models import randomize_trainable
from open_clip.transformer import LayerNorm, LayerNormFp32

from ezclip_zoo.modeling import kernels
from ezclip_zoo.modeling.exportable import VideoEncoder
from ezclip_zoo.modeling.kernels import CANDIDATES, pinned_kernels
from ezclip_zoo.modeling.layers import residual_linear
from ezclip_zoo.modeling.towers import attention as attention_module
from ezclip_zoo.modeling.towers._common import layer_norm
from ezclip_zoo.modeling.towers.attention import (
    _attention,
    _default_kernel,
    _math_eligible,
    qkv_projection,
    with_extra_key_value,
)
from ezclip_zoo.modeling.towers.patch_embed import patch_tokens


def test_residual_linear_equals_residual_plus_linear_in_value_and_gradient():
    torch.manual_seed(0)
    linear = torch.nn.Linear(6, 4).double()
    residual = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(2, 3, 6, dtype=torch.float64, requires_grad=True)
    ours = residual_linear(residual, x, linear, alpha=0.7)
    plain = residual + 0.7 * (x @ linear.weight.T) + linear.bias
    torch.testing.assert_close(ours, plain, atol=1e-12, rtol=1e-12)
    grads = torch.autograd.grad(ours.square().sum(), [residual, x, linear.weight, linear.bias])
    plain_grads = torch.autograd.grad(plain.square().sum(), [residual, x, linear.weight, linear.bias])
    for a, b in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)
    assert residual.grad is None and ours.data_ptr() != residual.data_ptr()  # the residual itself is untouched


def test_residual_linear_under_autocast_takes_the_out_of_place_form():
    """autocast casts out-of-place ops only: float32 tensors under bfloat16 autocast must not meet an in-place GEMM."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(16, 8)
    residual, x = torch.randn(4, 8), torch.randn(4, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = residual_linear(residual, x, linear, alpha=0.5)
        plain = residual + torch.addmm(linear.bias, x, linear.weight.t(), alpha=0.5)
    assert ours.dtype == plain.dtype
    torch.testing.assert_close(ours, plain)


def test_extra_key_value_in_place_and_copied_agree_with_projecting_the_token():
    torch.manual_seed(0)
    attn = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    x, prompt_in, extra = (torch.randn(3, n, 8, dtype=torch.float64) for n in (5, 1, 1))
    with torch.no_grad():
        qkv = qkv_projection(attn, torch.cat([x, prompt_in], 1))
        before = qkv.clone()
        written = with_extra_key_value(attn, qkv, extra)
    assert written.data_ptr() == qkv.data_ptr()  # inference: in place
    expected = F.linear(torch.cat([x, extra], 1), attn.in_proj_weight, attn.in_proj_bias)
    torch.testing.assert_close(written[..., 8:], expected[..., 8:], atol=1e-12, rtol=1e-12)  # keys and values
    torch.testing.assert_close(written[..., :8], before[..., :8])  # queries untouched
    # with autograd recording, the old row is left for backward and the result is a new tensor
    qkv = qkv_projection(attn, torch.cat([x, prompt_in.requires_grad_()], 1))
    copied = with_extra_key_value(attn, qkv, extra)
    assert copied.data_ptr() != qkv.data_ptr()
    torch.testing.assert_close(copied.detach(), written, atol=1e-12, rtol=1e-12)


def test_video_tower_fast_path_equals_the_recorded_path(tiny_model):
    """Eval under no_grad (in-place QKV row, residual folded into the GEMMs) equals the path autograd takes."""
    model = tiny_model.double().eval()
    randomize_trainable(model)
    frames = torch.randn(2, model.num_frames, 3, model.image_size, model.image_size, dtype=torch.float64)
    with torch.no_grad():
        fast = model.encode_frames(frames)
    recorded = model.encode_frames(frames.requires_grad_())
    torch.testing.assert_close(fast, recorded.detach(), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("kernel", CANDIDATES["attention"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_every_cpu_attention_kernel_matches_sdpa(dtype, kernel):
    """Whichever kernel the measurement picks, pinned here one by one, gives SDPA's values to the dtype's rounding."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 16) for n in (40, 41, 41))
    reference = F.scaled_dot_product_attention(q, k, v)
    with torch.inference_mode(), pinned_kernels(attention=kernel):
        low = [t.to(dtype) for t in (q, k, v)]
        assert _math_eligible(*low, False, 0.0)
        ours = _attention(*low, causal=False, dropout_p=0.0)
    assert ours.dtype == dtype
    tolerance = 1e-6 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(ours.float(), reference, atol=tolerance, rtol=tolerance)


def test_cpu_attention_is_chosen_only_where_it_is_safe(monkeypatch):
    def qkv(dtype=torch.bfloat16, n=40, grad=False):
        return [torch.randn(1, 2, n, 8, dtype=dtype, requires_grad=grad) for _ in range(3)]

    assert _math_eligible(*qkv(), False, 0.0) and _math_eligible(*qkv(torch.float32), False, 0.0)
    assert not _math_eligible(*qkv(), True, 0.0)  # causal (text tower)
    assert not _math_eligible(*qkv(), False, 0.1)  # dropout
    assert not _math_eligible(*qkv(grad=True), False, 0.0)  # training
    monkeypatch.setattr(attention_module, "_MATH_SCORES_BYTES", 40 * 40 * 2 * 2 - 1)  # one byte short
    assert not _math_eligible(*qkv(), False, 0.0)
    # the default where nothing is timed: the math form in reduced precision at ViT lengths
    assert _default_kernel(*qkv()[:2]) == "math"
    assert _default_kernel(*qkv(torch.float32)[:2]) == "sdpa"
    assert _default_kernel(*qkv(n=8)[:2]) == "sdpa"  # the T temporal prompt tokens


def test_the_faster_kernel_is_measured_once_per_shape_and_never_while_tracing(monkeypatch):
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)  # the suite runs the defaults (conftest); here, measure
    calls = {"sdpa": 0, "math": 0}

    def runner(name, seconds):
        def run():
            calls[name] += 1
            time.sleep(seconds)

        return run

    runners = {"sdpa": runner("sdpa", 0.004), "math": runner("math", 0.0)}
    key = ("test-shape", time.time())  # a key no other test used
    with torch.inference_mode():
        assert kernels.choose("attention", key, torch.device("cpu"), runners, default="sdpa") == "math"
        timed = dict(calls)
        assert timed == {"sdpa": 4, "math": 4}  # one warm-up and 3 timed calls each
        assert kernels.choose("attention", key, torch.device("cpu"), runners, default="sdpa") == "math"
        assert calls == timed  # cached: not timed again
    assert any(k[0] == "attention" and k[-2:] == key for k in kernels.chosen_kernels())
    other = ("test-shape-2", time.time())
    assert kernels.choose("attention", other, torch.device("cpu"), runners, default="sdpa") == "sdpa"  # autograd on
    with torch.inference_mode():
        assert kernels.choose("attention", other, torch.device("meta"), runners, default="sdpa") == "sdpa"
    assert calls == timed


def test_a_pinned_kernel_wins_and_bad_names_are_refused(monkeypatch):
    never = {"sdpa": lambda: pytest.fail("timed"), "math": lambda: pytest.fail("timed")}
    with torch.inference_mode():
        monkeypatch.setenv(kernels.ENV_VAR, "default")  # no timing: each step's default
        assert kernels.choose("attention", ("z",), torch.device("cpu"), never, "math") == "math"
        monkeypatch.setenv(kernels.ENV_VAR, "attention=math")
        assert kernels.choose("attention", ("x",), torch.device("cpu"), never, "sdpa") == "math"
        with pinned_kernels(attention="sdpa"):
            assert kernels.choose("attention", ("x",), torch.device("cpu"), never, "math") == "sdpa"
    monkeypatch.setenv(kernels.ENV_VAR, "attention=flash")
    with pytest.raises(ValueError, match="attention: sdpa, math"):
        kernels.choose("attention", ("y",), torch.device("cpu"), never, "sdpa")
    with pytest.raises(ValueError, match="not STEP=KERNEL"), pinned_kernels(patch_embed="fft"):
        pass


def test_exported_graphs_never_depend_on_a_timing(tiny_model, monkeypatch):
    """torch.export traces with the default kernels: nothing is timed while compiling."""
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    before = len(kernels.chosen_kernels())
    frames = torch.randn(1, tiny_model.num_frames, 3, 64, 64)
    with torch.no_grad():
        torch.export.export(VideoEncoder(tiny_model.eval()), (frames,))
    assert len(kernels.chosen_kernels()) == before


def test_bfloat16_encoder_agrees_with_float32(tiny_model):
    model = tiny_model.eval()
    randomize_trainable(model)
    frames = torch.randn(3, model.num_frames, 3, model.image_size, model.image_size)
    with torch.inference_mode():
        reference = model.encode_video(frames)
        low = model.to(torch.bfloat16).encode_video(frames)
    assert F.cosine_similarity(low.float(), reference, dim=-1).min() > 0.99


def _conv_tokens(conv, pixels):
    return conv(pixels).flatten(2).transpose(1, 2)


@pytest.mark.parametrize("kernel", CANDIDATES["patch_embed"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("size", [(32, 32), (37, 45)])  # a whole grid, and pixels past the last whole patch
def test_every_patch_embedding_kernel_equals_the_convolution(dtype, size, kernel):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 24, kernel_size=8, stride=8, bias=True)
    pixels = torch.randn(5, 3, *size)
    reference = _conv_tokens(conv.double(), pixels.double())
    with torch.inference_mode(), pinned_kernels(patch_embed=kernel):
        ours = patch_tokens(conv.to(dtype), pixels.to(dtype))
    assert ours.shape == reference.shape == (5, (size[0] // 8) * (size[1] // 8), 24)
    assert ours.dtype == dtype and (ours.is_contiguous() or kernel == "conv")  # the GEMM lays tokens out row by row
    tolerance = 1e-5 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(ours.double(), reference, atol=tolerance, rtol=tolerance)


def test_patch_tokens_keep_the_convolution_where_it_is_no_patchify():
    """Overlapping patches (stride below the kernel), or autograd recording with float32 (the default): the module's
    own result, bit for bit."""
    torch.manual_seed(0)
    pixels = torch.randn(2, 3, 32, 32)
    conv = torch.nn.Conv2d(3, 16, kernel_size=8, stride=8)
    assert torch.equal(patch_tokens(conv, pixels), _conv_tokens(conv, pixels))  # autograd on: the float32 default
    low = pixels.bfloat16()
    overlapping = torch.nn.Conv2d(3, 16, kernel_size=8, stride=4).bfloat16()
    assert torch.equal(patch_tokens(overlapping, low), _conv_tokens(overlapping, low))


@pytest.mark.parametrize("norm", [torch.nn.LayerNorm(12), LayerNorm(12), LayerNormFp32(12)], ids=type)
def test_layer_norm_call_gives_the_modules_result(norm):
    torch.manual_seed(0)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    for x in (torch.randn(3, 5, 12), torch.randn(3, 5, 12).bfloat16()):
        if type(norm) is not LayerNormFp32:  # which keeps float32 weights for any input
            norm = norm.to(x.dtype)
        norm_x = norm(x)
        ours = layer_norm(norm, x)
        assert ours.dtype == norm_x.dtype
        assert torch.equal(ours, norm_x)


def test_layer_norm_call_runs_the_module_when_it_is_hooked():
    norm, seen = torch.nn.LayerNorm(4), []
    norm.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    layer_norm(norm, torch.randn(2, 4))
    assert seen == [torch.Size([2, 4])]
