"""The architecture registry and config round trips."""

import pytest
import torch
from _helpers.models import tiny

import ezclip_zoo
from ezclip_zoo import EZCLIPConfig


def test_builtin_architectures_are_registered():
    assert {"ezclip-vit-b16", "ezclip-vit-b32", "ezclip-vit-l14"} <= set(ezclip_zoo.list_models())
    assert ezclip_zoo.list_models("ezclip-vit-*b16") == ["ezclip-vit-b16"]
    assert ezclip_zoo.list_models("*-b16") == [
        "ezclip-eva02-b16",
        "ezclip-pe-core-b16",
        "ezclip-siglip2-b16",
        "ezclip-vit-b16",
    ]
    assert ezclip_zoo.list_models("ezclip-vit-b??") == ["ezclip-vit-b16", "ezclip-vit-b32"]
    assert ezclip_zoo.list_models("nothing*") == []


def test_registered_configs_follow_the_reference_recipe():
    cfg = ezclip_zoo.get_model_config("ezclip-vit-b32")
    assert cfg.backbone.model == "ViT-B-32" and cfg.backbone.pretrained == "openai"
    assert cfg.backbone.quick_gelu is None  # the tag decides when a model is built: OpenAI's CLIPs use QuickGELU
    assert ezclip_zoo.create_model("ezclip-vit-b32", device="meta").config.backbone.quick_gelu is True
    assert (cfg.num_frames, cfg.adapter_ratio, cfg.prompt_dropout, cfg.drop_path) == (8, 0.25, 0.1, 0.1)
    assert cfg.temporal_prompts and cfg.logit_scale == 100.0 and cfg.name == "ezclip-vit-b32"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="ezclip-vit-b16"):
        ezclip_zoo.create_model("ezclip-vit-b61", pretrained_backbone=False)


def test_create_model_overrides_and_meta_device():
    model = ezclip_zoo.create_model("ezclip-vit-b32", pretrained_backbone=False, device="meta", num_frames=16)
    assert model.num_frames == 16 and model.video_tower.prompts.embeddings.shape == (12, 16, 768)
    assert model.image_size == 224 and model.config.name == "ezclip-vit-b32"


def test_override_backbone_architecture_replaces_it():
    cfg = ezclip_zoo.get_model_config("ezclip-vit-b16").replace(
        backbone={"model_cfg": ezclip_zoo.get_model_config("ezclip-test-tiny").backbone.model_cfg}
    )
    assert cfg.backbone.model is None and cfg.backbone.pretrained is None


def test_register_model_validates_and_refuses_duplicates():
    cfg = ezclip_zoo.get_model_config("ezclip-test-tiny").to_dict()
    ezclip_zoo.register_model("my-tiny-16f", {**cfg, "num_frames": 16})
    try:
        assert ezclip_zoo.create_model("my-tiny-16f", pretrained_backbone=False).num_frames == 16
        with pytest.raises(ValueError, match="already registered"):
            ezclip_zoo.register_model("my-tiny-16f", cfg)
    finally:
        from ezclip_zoo.zoo.registry import _MODEL_CONFIGS

        _MODEL_CONFIGS.pop("my-tiny-16f")
    with pytest.raises(ValueError, match="num_frames"):
        ezclip_zoo.register_model("bad", {**cfg, "num_frames": 0})
    with pytest.raises(ValueError, match="exactly one"):
        ezclip_zoo.register_model("bad", {**cfg, "backbone": {"model": "ViT-B-16", "model_cfg": {}}})


def test_config_round_trip_and_version_checks():
    cfg = ezclip_zoo.get_model_config("ezclip-vit-b16")
    data = cfg.to_dict()
    assert data["format_version"] == 2
    assert EZCLIPConfig.from_dict(data) == cfg
    # format 1 left quick_gelu out to mean OpenAI's QuickGELU; format 2 leaves it to the pretrained tag
    old = {**data, "format_version": 1, "backbone": {k: v for k, v in data["backbone"].items() if k != "quick_gelu"}}
    assert EZCLIPConfig.from_dict(old).backbone.quick_gelu is True
    assert EZCLIPConfig.from_dict({**old, "format_version": 2}).backbone.quick_gelu is None
    with pytest.raises(ValueError, match="newer"):
        EZCLIPConfig.from_dict({**data, "format_version": 99})
    with pytest.raises(ValueError, match="unknown EZ-CLIP config keys"):
        EZCLIPConfig.from_dict({**data, "frames": 8})


def test_unknown_open_clip_model_is_a_clear_error():
    with pytest.raises(ValueError, match="no model config named"):
        ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False, backbone={"model": "ViT-Q-99"})


def test_pretrained_backbone_offline_fails_loudly(tmp_path):
    # HF_HUB_OFFLINE=1 (conftest): the real download path is taken and must fail, not return random weights
    from ezclip_zoo.errors import WeightsUnavailableError

    with pytest.raises(WeightsUnavailableError, match="timm/vit_base_patch32_clip_224.openai") as info:
        ezclip_zoo.create_model("ezclip-vit-b32", pretrained_backbone=True, cache_dir=str(tmp_path))
    assert "backbone={'weights': PATH}" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_backbone_from_local_weights_file(tmp_path):
    from safetensors.torch import save_file

    src = tiny(0)
    path = tmp_path / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in src.clip.state_dict().items()}, str(path))
    torch.manual_seed(1)
    model = ezclip_zoo.create_model("ezclip-test-tiny", backbone={"weights": str(path)})
    for k, v in src.clip.state_dict().items():
        assert torch.equal(model.clip.state_dict()[k], v), k
    bad = tmp_path / "bad.safetensors"
    save_file({"visual.conv1.weight": torch.zeros(1)}, str(bad))
    with pytest.raises(ValueError, match="missing keys"):
        ezclip_zoo.create_model("ezclip-test-tiny", backbone={"weights": str(bad)})
