"""Loading the authors' checkpoint format: architecture inference and clear errors on bad files."""

import pickle

import pytest
import torch

import ezclip_zoo
from ezclip_zoo.official.checkpoint import official_config, read_official_state_dict


@pytest.fixture(scope="module")
def official_sd(parity_dir):
    return read_official_state_dict(parity_dir / "official_checkpoint.pt")


def test_architecture_is_inferred_from_shapes(official_sd, parity_meta):
    cfg = official_config(official_sd)
    v, t = cfg.backbone.model_cfg["vision_cfg"], cfg.backbone.model_cfg["text_cfg"]
    assert (v["width"], v["layers"], v["patch_size"], v["image_size"]) == (
        parity_meta["vision_width"],
        parity_meta["vision_layers"],
        parity_meta["patch_size"],
        parity_meta["image_size"],
    )
    assert (t["width"], t["layers"], t["heads"]) == (
        parity_meta["text_width"],
        parity_meta["text_layers"],
        parity_meta["text_heads"],
    )
    assert v["width"] // v["head_width"] == parity_meta["vision_heads"]
    assert cfg.backbone.model_cfg["embed_dim"] == parity_meta["embed_dim"]
    assert cfg.num_frames == parity_meta["T"] and cfg.adapter_ratio == 0.25 and cfg.temporal_prompts


def test_bare_state_dict_with_module_prefix_loads(official_sd, tmp_path, parity_ref):
    path = tmp_path / "bare.pt"
    torch.save({f"module.{k}": v for k, v in official_sd.items()}, path)
    model = ezclip_zoo.load_official_checkpoint(path)
    with torch.no_grad():
        logits = model(parity_ref["frames"], parity_ref["text_tokens"])
    torch.testing.assert_close(logits, parity_ref["logits"], atol=1e-4, rtol=1e-4)


def test_unknown_and_missing_keys_are_listed(official_sd):
    sd = dict(official_sd)
    sd.pop("ln_final.bias")
    sd["visual.some_new_thing"] = torch.zeros(3)
    with pytest.raises(
        ValueError, match=r"missing keys \['ln_final\.bias'\].*unexpected keys \['visual\.some_new_thing'\]"
    ):
        ezclip_zoo.load_official_checkpoint(sd)


def test_missing_adapter_is_listed(official_sd):
    sd = dict(official_sd)
    sd.pop("transformer.resblocks.1.Adapter.D_fc2.weight")
    with pytest.raises(ValueError, match=r"text_tower\.adapters\.1\.fc2\.weight"):
        ezclip_zoo.load_official_checkpoint(sd)


def test_nonzero_temporal_embedding_is_refused(official_sd):
    sd = dict(official_sd)
    sd["visual.temporal_embedding"] = torch.ones_like(sd["visual.temporal_embedding"])
    with pytest.raises(ValueError, match="temporal_embedding is not zero"):
        ezclip_zoo.load_official_checkpoint(sd)


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_arbitrary_pickles_are_never_executed(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"model_state_dict": _Evil()}, f)
    with pytest.raises(ValueError, match="not a plain tensor file: refused, it could run code"):
        ezclip_zoo.load_official_checkpoint(path)


def test_missing_file_and_non_state_dict(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ezclip_zoo.load_official_checkpoint(tmp_path / "nope.pt")
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="no model state dict"):
        ezclip_zoo.load_official_checkpoint(path)


def _as_official_checkpoint(model) -> dict:
    """An `EZCLIP` written in the authors' format: OpenAI CLIP keys, their prompt/adapter names, fp16 linears."""
    sd = {
        k: (v.half() if v.ndim == 2 and "embedding" not in k and k != "visual.proj" else v.clone())
        for k, v in model.clip.state_dict().items()
    }
    for name, value in model.trainable_state_dict().items():
        if name == "video_tower.prompts.embeddings":
            sd["visual.transformer.T_prompt_embeddings"] = value.clone()
            continue
        tower, _, block, fc, kind = name.split(".")
        prefix = "visual.transformer" if tower == "video_tower" else "transformer"
        sd[f"{prefix}.resblocks.{block}.Adapter.D_{fc}.{kind}"] = value.half() if kind == "weight" else value.clone()
    sd["visual.temporal_embedding"] = torch.zeros(1, model.num_frames, model.clip.visual.conv1.weight.shape[0])
    return {"epoch": 1, "model_state_dict": sd, "optimizer_state_dict": {}}


@pytest.mark.parametrize(
    "frames, vision, text",
    [
        (4, dict(image_size=96, patch_size=32, width=128, layers=3), dict(width=128, heads=2, layers=3)),
        (16, dict(image_size=48, patch_size=16, width=192, layers=2), dict(width=64, heads=1, layers=1)),
    ],
)
def test_other_shapes_and_frame_counts_are_inferred_and_reproduced(frames, vision, text, tmp_path):
    """Not only the fixture's shape: widths, heads (width // 64), depths, patch, image size and T all come from
    the tensors, and the loaded model computes what the saved one did (its fp16 linears upcast)."""
    from ezclip_zoo.modeling.config import BackboneConfig, EZCLIPConfig
    from ezclip_zoo.zoo.factory import build_model

    model_cfg = {
        "embed_dim": 48,
        "vision_cfg": {**vision, "head_width": 64},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, **text},
    }
    torch.manual_seed(0)
    model = build_model(
        EZCLIPConfig(BackboneConfig(model_cfg=model_cfg, quick_gelu=True), num_frames=frames), pretrained_backbone=False
    )
    for p in model.trainable_parameters():
        torch.nn.init.normal_(p, std=0.05)
    torch.save(_as_official_checkpoint(model), tmp_path / "ckpt.pt")
    # what the authors' file holds: fp16 linear weights, upcast on load
    model.load_state_dict(
        {
            k: v.half().float() if v.ndim == 2 and "embedding" not in k and k != "clip.visual.proj" else v
            for k, v in model.state_dict().items()
        }
    )

    loaded = ezclip_zoo.load_official_checkpoint(tmp_path / "ckpt.pt")
    assert (loaded.num_frames, loaded.image_size) == (frames, vision["image_size"])
    assert loaded.clip.visual.transformer.resblocks[0].attn.num_heads == vision["width"] // 64
    assert loaded.clip.transformer.resblocks[0].attn.num_heads == text["heads"]
    frames_in = torch.randn(2, frames, 3, vision["image_size"], vision["image_size"])
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(frames_in, ["a b", "juggling balls"]),
            model(frames_in, ["a b", "juggling balls"]),
            atol=1e-4,
            rtol=1e-4,
        )
