"""EZ-CLIP over every backbone family (issue 31), on tiny real configs of each (`_helpers.families`): untrained it is
exactly the backbone, its trainable count is the documented formula, RoPE leaves the prompt unrotated and the
patches as they were, save/load and training resume round-trip, and what it cannot host is refused clearly."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
import torch.nn.functional as F
from _helpers.families import FAMILY_CONFIGS, family_backbone, family_model
from _helpers.models import randomize_trainable

import ezclip_zoo
from ezclip_zoo.errors import BackboneMismatchError, UnsupportedBackboneError
from ezclip_zoo.modeling.backbone import build_backbone, resolve_backbone
from ezclip_zoo.modeling.config import BackboneConfig, EZCLIPConfig
from ezclip_zoo.modeling.towers.timm_video import block_parts, with_identity_rotation
from ezclip_zoo.synthetic import MotionClips, MotionVideoConfig
from ezclip_zoo.train import TrainConfig, fit, trainable_digest
from ezclip_zoo.zoo.factory import build_model
from ezclip_zoo.zoo.serialization import write_safetensors

FAMILIES = list(FAMILY_CONFIGS)
TEXTS = ["a person is dancing", "riding a bike", "playing guitar in the video", "juggling"]
EXACT = {"rtol": 0, "atol": 1e-5}


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("siglip_tokenizer")


def _frames(seed: int = 0, batch: int = 2, frames: int = 4) -> torch.Tensor:
    return torch.randn(batch, frames, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("family", FAMILIES)
def test_untrained_model_is_exactly_the_backbone(family, tokenizer_dir):
    """Prompts off and adapters at their zero start: per-frame embeddings are the backbone's encode_image of each
    frame, text embeddings its encode_text, in float32 to 1e-5."""
    model = family_model(family, tokenizer_dir, temporal_prompts=False)
    frames = _frames()
    tokens = model.tokenize(TEXTS)
    with torch.no_grad():
        ours = model.encode_frames(frames)
        theirs = model.clip.encode_image(frames.flatten(0, 1)).view(ours.shape)
        torch.testing.assert_close(ours, theirs, **EXACT)
        torch.testing.assert_close(model.encode_text(TEXTS), model.clip.encode_text(tokens), **EXACT)
        torch.testing.assert_close(model.encode_video(frames), theirs.mean(dim=1), **EXACT)
    assert model.embed_dim == ours.shape[-1]


@pytest.mark.parametrize("family", FAMILIES)
def test_prompts_change_the_frames_and_train(family, tokenizer_dir):
    """With prompts on, frames see each other (a frame's embedding depends on the other frames; without prompts it
    does not, to the bit) and every trainable tensor gets a gradient from a contrastive loss. Random timm weights
    attend almost uniformly, so the prompt is one key among L + 1 of near-equal weight: the change is small
    (0.04% to 3% of the embedding here), and it is measured relative to the embedding."""
    frames = _frames()
    other = frames.clone()
    other[:, 1:] = _frames(seed=1)[:, 1:]  # same first frame, other neighbours

    def first_frame_change(model: ezclip_zoo.EZCLIP) -> float:
        with torch.no_grad():
            first, changed = model.encode_frames(frames)[:, 0], model.encode_frames(other)[:, 0]
        return float((first - changed).norm() / first.norm())

    base = family_model(family, tokenizer_dir, temporal_prompts=False)
    randomize_trainable(base, scale=2.0)
    assert first_frame_change(base) == 0.0
    model = family_model(family, tokenizer_dir, drop_path=0.0, prompt_dropout=0.0)
    randomize_trainable(model, scale=2.0)
    assert first_frame_change(model) > 1e-4
    model.train()
    video = F.normalize(model.encode_video(frames), dim=-1)
    text = F.normalize(model.encode_text(TEXTS[:2]), dim=-1)
    F.cross_entropy(100 * video @ text.T, torch.tensor([0, 1])).backward()
    missing = [n for n, p in model.trainable_named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, missing
    assert all(p.grad is None for p in model.clip.parameters())


def _trainable_formula(cfg: dict, num_frames: int, ratio: float = 0.25, prompts: bool = True) -> int:
    """The docs' formula: L_v T W_v prompt scalars plus, per block of either tower, an adapter of
    2 W h + h + W scalars with h = int(W * ratio)."""
    model_cfg = cfg["model_cfg"]
    if "timm_kwargs" in cfg:
        v_width, v_layers = cfg["timm_kwargs"]["embed_dim"], cfg["timm_kwargs"]["depth"]
    else:
        v_width, v_layers = model_cfg["vision_cfg"]["width"], model_cfg["vision_cfg"]["layers"]
    t_width, t_layers = model_cfg["text_cfg"]["width"], model_cfg["text_cfg"]["layers"]

    def adapters(width: int, layers: int) -> int:
        hidden = int(width * ratio)
        return layers * (2 * width * hidden + hidden + width)

    return (
        (v_layers * num_frames * v_width if prompts else 0) + adapters(v_width, v_layers) + adapters(t_width, t_layers)
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_trainable_count_is_the_documented_formula(family, tokenizer_dir):
    cfg = family_backbone(family, tokenizer_dir)
    assert family_model(family, tokenizer_dir).num_trainable_parameters() == _trainable_formula(cfg, 4)
    assert family_model(
        family, tokenizer_dir, num_frames=8, adapter_ratio=0.5, temporal_prompts=False
    ).num_trainable_parameters() == _trainable_formula(cfg, 8, 0.5, prompts=False)


@pytest.mark.parametrize(
    ("model_name", "tag", "count"),
    [
        ("ViT-B-16", "openai", 5_204_736),  # the paper's 5.2 M
        ("ViT-B-16-SigLIP2", "webli", 7_174_656),
        ("PE-Core-B-16", "meta", 16_237_824),  # a 1024-wide, 24-layer text tower
    ],
)
def test_full_size_counts_on_the_meta_device(model_name, tag, count):
    config = EZCLIPConfig.from_dict({"backbone": {"model": model_name, "pretrained": tag}})
    model = build_model(config, pretrained_backbone=False, device="meta")  # allocates nothing
    assert model.num_trainable_parameters() == count


def test_rope_leaves_the_prompt_unrotated_and_every_patch_as_it_was(tokenizer_dir):
    """The spatial step of a RoPE block equals attention computed by hand where the patches' queries and keys get
    exactly the backbone's rotation and the appended prompt's key (and query) none."""
    from timm.layers import apply_rot_embed_cat

    model = family_model("pe-core", tokenizer_dir)
    trunk = model.clip.visual.trunk
    block = trunk.blocks[0]
    attn = block.attn
    _, rope = trunk._pos_embed(trunk.patch_embed(torch.zeros(1, 3, 32, 32)))
    extended = with_identity_rotation(rope)
    assert torch.equal(extended[: rope.shape[0]], rope)  # no patch's rotation changes

    g = torch.Generator().manual_seed(0)
    length = trunk.num_prefix_tokens + rope.shape[0]
    tokens = block.norm1(torch.randn(3, length + 1, 64, generator=g))  # frame tokens, then the prompt

    def by_hand(prompt_rope: torch.Tensor | None) -> torch.Tensor:
        n, rows, width = tokens.shape
        heads = attn.num_heads
        qkv = attn.qkv(tokens).reshape(n, rows, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = attn.q_norm(q), attn.k_norm(k)
        npt = attn.num_prefix_tokens

        def rotate(x: torch.Tensor) -> torch.Tensor:
            patches = apply_rot_embed_cat(x[:, :, npt:length], rope, half=attn.rotate_half)
            last = x[:, :, length:]
            if prompt_rope is not None:
                last = apply_rot_embed_cat(last, prompt_rope, half=attn.rotate_half)
            return torch.cat([x[:, :, :npt], patches, last], dim=2)

        out = F.scaled_dot_product_attention(rotate(q), rotate(k), v)
        return attn.proj(attn.norm(out.transpose(1, 2).reshape(n, rows, width)))[:, :length]

    with torch.no_grad():
        ours = block_parts(block).attention(tokens, extended)[:, :length]
        torch.testing.assert_close(ours, by_hand(None), rtol=0, atol=1e-6)
        # the check has teeth: giving the prompt the last patch's rotation changes the frame tokens' output
        assert (ours - by_hand(rope[-1:])).abs().max() > 1e-4


@pytest.mark.parametrize("family", FAMILIES)
def test_save_and_load_round_trip(family, tokenizer_dir, tmp_path):
    """A saved folder rebuilds the same model: same family, config, embeddings; a SigLIP-like model's tokenizer
    folder travels inside it (the original may be gone)."""
    source_tok = tmp_path / "tok"  # the SigLIP-like tokenizer is written here, and deleted once the model is saved
    model = family_model(family, source_tok, seed=3)
    randomize_trainable(model, seed=3)
    frames = _frames(seed=5)
    with torch.no_grad():
        video, text = model.encode_video(frames), model.encode_text(TEXTS)
    folder = ezclip_zoo.save_pretrained(model, tmp_path / "saved", adapter_dtype=torch.float32)
    shutil.rmtree(source_tok, ignore_errors=True)
    document = json.loads((folder / "config.json").read_text())
    assert document["backbone_family"] == model.family
    loaded = ezclip_zoo.load(folder)
    assert loaded.family == model.family
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode_video(frames), video, rtol=0, atol=1e-6)
        torch.testing.assert_close(loaded.encode_text(TEXTS), text, rtol=0, atol=1e-6)
    for field in ("quick_gelu", "timm_kwargs", "preprocess", "tokenizer_kwargs", "model_cfg"):
        assert getattr(loaded.config.backbone, field) == getattr(model.config.backbone, field), field
    if family == "siglip2":
        assert document["tokenizer_files"] and (folder / "tokenizer" / "tokenizer.json").is_file()


def test_checkpoint_of_one_family_over_another_is_refused(tokenizer_dir, tmp_path):
    folder = ezclip_zoo.save_pretrained(family_model("pe-core", tokenizer_dir), tmp_path / "pe")
    document = json.loads((folder / "config.json").read_text())
    document["model"]["backbone"] = family_backbone("timm-vit-ls") | {"weights": "backbone.safetensors"}
    (folder / "config.json").write_text(json.dumps(document))
    vit = family_model("timm-vit-ls", tokenizer_dir)
    write_safetensors({k: v.contiguous() for k, v in vit.clip.state_dict().items()}, folder / "backbone.safetensors")
    with pytest.raises(BackboneMismatchError, match="timm-eva backbone, but .* describes a timm-vit one"):
        ezclip_zoo.load(folder)


@pytest.mark.parametrize("family", FAMILIES)
def test_training_resumes_bit_identically(family, tokenizer_dir, tmp_path):
    data = MotionClips(8, seed=0, config=MotionVideoConfig(size=32, num_frames=4))
    texts = [[c] for c in data.classes]
    config = TrainConfig(epochs=2, batch_size=2, lr=2e-3, warmup_steps=1, checkpoint_every_steps=2, seed=3)

    model = family_model(family, tokenizer_dir)
    full = fit(model, data, config, class_texts=texts, output_dir=tmp_path / "full")

    class Crash(RuntimeError):
        pass

    def crash(state):
        if state.global_step == 5:
            raise Crash

    with pytest.raises(Crash):
        fit(
            family_model(family, tokenizer_dir),
            data,
            config,
            class_texts=texts,
            output_dir=tmp_path / "cut",
            callbacks=[crash],
        )
    model = family_model(family, tokenizer_dir)
    fit(model, data, config, class_texts=texts, output_dir=tmp_path / "cut", resume=True)
    assert trainable_digest(model) == full.rank_digests[0]


def test_quick_gelu_follows_the_pretrained_tag():
    def quick(model: str, tag: str | None, **extra) -> bool | None:
        return resolve_backbone(BackboneConfig(model=model, pretrained=tag, **extra)).quick_gelu

    assert quick("ViT-B-16", "openai") is True  # OpenAI trained with QuickGELU
    assert quick("ViT-B-16", "laion2b_s34b_b88k") is False  # LAION retrained with GELU
    assert quick("ViT-B-16", "dfn2b") is True
    assert quick("ViT-B-16-quickgelu", None) is True  # the model config says so
    assert quick("ViT-B-16", None) is False  # open_clip's default
    with pytest.raises(ValueError, match="trained with GELU, but its config says quick_gelu=True"):
        quick("ViT-B-16", "laion2b_s34b_b88k", quick_gelu=True)


@pytest.mark.parametrize(
    ("model_name", "tag", "mean", "interpolation", "resize_mode", "tokenizer", "context"),
    [
        ("ViT-B-16", "openai", 0.48145466, "bicubic", "shortest", "clip", 77),
        ("ViT-B-16-SigLIP2", "webli", 0.5, "bicubic", "squash", "timm/ViT-B-16-SigLIP2", 64),
        ("PE-Core-B-16", "meta", 0.5, "bilinear", "squash", "clip", 32),
    ],
)
def test_preprocessing_and_tokenizer_come_from_the_backbone(
    model_name, tag, mean, interpolation, resize_mode, tokenizer, context
):
    from ezclip_zoo.transforms import VideoTransform

    config = EZCLIPConfig.from_dict({"backbone": {"model": model_name, "pretrained": tag}})
    model = build_model(config, pretrained_backbone=False, device="meta")
    backbone = model.config.backbone
    assert (backbone.tokenizer, model.context_length) == (tokenizer, context)
    transform = VideoTransform.from_model(model)
    assert transform.mean[0] == pytest.approx(mean)
    assert (transform.interpolation, transform.resize_mode) == (interpolation, resize_mode)


def test_a_backbone_with_no_recorded_preprocessing_warns():
    cfg = BackboneConfig(model_cfg=FAMILY_CONFIGS["pe-core"]["model_cfg"], timm_kwargs={"depth": 1})
    with pytest.warns(UserWarning, match="records no preprocessing"):
        resolve_backbone(cfg)


def test_text_cache_tells_tokenizers_apart(tokenizer_dir):
    from ezclip_zoo.text.cache import tokenizer_key

    siglip, pe = family_model("siglip2", tokenizer_dir), family_model("pe-core", tokenizer_dir)
    assert tokenizer_key(siglip) != tokenizer_key(pe)
    assert str(tokenizer_dir) in tokenizer_key(siglip) and "canonicalize" in tokenizer_key(siglip)


def test_non_causal_and_last_pooled_towers_encode_the_whole_context(tokenizer_dir):
    """SigLIP pools at the last position of the padded context and attends both ways: trimming the padding would
    change every embedding, so such towers never trim (an OpenAI-layout tower does, to the same values)."""
    siglip = family_model("siglip2", tokenizer_dir)
    assert not siglip.trims_text
    tokens = siglip.tokenize(TEXTS)
    with torch.no_grad():
        full = siglip.encode_text(tokens, trim_to_longest=False)
        torch.testing.assert_close(siglip.encode_text(tokens), full, rtol=0, atol=0)
        trimmed = siglip.text_tower(siglip.clip, tokens[:, :8])
    assert (trimmed - full).abs().max() > 1e-3
    assert family_model("pe-core", tokenizer_dir).trims_text


@pytest.mark.parametrize(
    ("model_name", "says"),
    [
        ("MobileCLIP-S1", "FastVit"),  # convolutional MobileCLIP
        ("MobileCLIP2-S0", "FastVit"),
        ("RN50", "ModifiedResNet"),
        ("coca_ViT-B-32", "CoCa"),
        ("xlm-roberta-base-ViT-B-32", "Hugging Face model"),
    ],
)
def test_backbones_without_vit_tokens_are_refused_naming_what_works(model_name, says):
    with pytest.raises(UnsupportedBackboneError) as info:
        build_backbone(BackboneConfig(model=model_name), device="meta")
    message = str(info.value)
    assert says in message
    assert all(family in message for family in ("openai-vit", "timm-vit", "timm-eva"))


def test_frames_of_the_wrong_size_are_a_clear_error(tokenizer_dir):
    model = family_model("pe-core", tokenizer_dir)
    with pytest.raises(ValueError, match="frames must be 32x32 pixels"):
        model.encode_frames(torch.zeros(1, 4, 3, 64, 64))
    with pytest.raises(ValueError, match="clips of 4 frames"):
        model.encode_frames(torch.zeros(1, 8, 3, 32, 32))


def test_sized_trunks_need_the_trunks_own_head():
    cfg = json.loads(json.dumps(FAMILY_CONFIGS["pe-core"]))
    cfg["model_cfg"]["vision_cfg"]["timm_proj"] = "linear"
    with pytest.raises(ValueError, match="timm_kwargs need a trunk whose own head pools and projects"):
        build_backbone(BackboneConfig(**cfg))
    cfg = json.loads(json.dumps(FAMILY_CONFIGS["pe-core"]))
    cfg["timm_kwargs"]["img_size"] = 64
    with pytest.raises(ValueError, match="give them the same value"):
        build_backbone(BackboneConfig(**cfg))


@pytest.mark.slow
@pytest.mark.parametrize("family", ["pe-core", "timm-vit-ls"])
def test_clip_bpe_families_export_and_run_without_torch(family, tokenizer_dir, tmp_path):
    """RoPE and timm blocks trace to ONNX; the torch-free runtime gives the eager embeddings to 1e-4, with the
    backbone's context length (PE: 32 tokens) and preprocessing in the manifest."""
    import numpy as np

    from ezclip_zoo.export import export_model
    from ezclip_zoo.runtime import OnnxModel

    model = family_model(family, tokenizer_dir)
    randomize_trainable(model)
    export_model(model, tmp_path / "export")
    runtime = OnnxModel(tmp_path / "export")
    frames = _frames(seed=2)
    with torch.no_grad():
        video = F.normalize(model.encode_video(frames), dim=-1).numpy()
        text = F.normalize(model.encode_text(TEXTS), dim=-1).numpy()
    assert np.abs(runtime.encode_video(frames.numpy()) - video).max() < 1e-4
    assert np.abs(runtime.encode_text(TEXTS) - text).max() < 1e-4
    manifest = json.loads((tmp_path / "export" / "ezclip_export.json").read_text())
    assert manifest["context_length"] == model.context_length
    assert manifest["preprocess"]["mean"] == pytest.approx(model.config.backbone.preprocess["mean"])


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("family", ["siglip2", "pe-core"])
def test_a_saved_family_model_classifies_from_the_command_line(family, tokenizer_dir, tmp_path):
    """A fresh process rebuilds the model from its folder alone (architecture, timm sizes, preprocessing, the
    bundled tokenizer) and ranks the classes as the model in this process does."""
    import os
    import subprocess
    import sys

    import numpy as np

    from ezclip_zoo.video import write_video

    model = family_model(family, tmp_path / "tok", seed=4)
    randomize_trainable(model, seed=4)
    folder = ezclip_zoo.save_pretrained(model, tmp_path / "model", adapter_dtype=torch.float32)
    shutil.rmtree(tmp_path / "tok", ignore_errors=True)
    rng = np.random.default_rng(0)
    write_video(tmp_path / "clip.mp4", rng.integers(0, 255, (24, 48, 64, 3), dtype=np.uint8), fps=8)
    classes = ["dancing", "juggling", "riding a bike"]
    command = [sys.executable, "-m", "ezclip_zoo.cli", "classify", str(tmp_path / "clip.mp4"), "-m", str(folder)]
    command += [arg for c in classes for arg in ("-l", c)] + ["--json", "--all-classes"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    expected = ezclip_zoo.load(folder).classify(tmp_path / "clip.mp4", classes, topk=3)
    assert record["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert record["labels"] == expected.labels


def test_a_hugging_face_tokenizer_without_transformers_names_the_extra(tokenizer_dir, monkeypatch):
    import sys

    from ezclip_zoo.errors import ExtraNotInstalledError
    from ezclip_zoo.text import tokenizer as tokenizers

    tokenizers._tokenizer.cache_clear()
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if it were not installed: importing it fails
    try:
        with pytest.raises(ExtraNotInstalledError, match=r'pip install "ezclip-zoo\[hf-tokenizers\]"'):
            tokenizers.get_tokenizer(str(tokenizer_dir), {"clean": "canonicalize"})
    finally:
        tokenizers._tokenizer.cache_clear()
