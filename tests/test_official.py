"""Loading the authors' checkpoint format: architecture inference and clear errors on bad files."""

import pickle

import pytest
import torch

import ezclip_zoo
from ezclip_zoo.official import official_config, read_official_state_dict


@pytest.fixture(scope="module")
def official_sd(parity_dir):
    return read_official_state_dict(parity_dir / "official_checkpoint.pt")


def test_architecture_is_inferred_from_shapes(official_sd, parity_meta):
    cfg = official_config(official_sd)
    v, t = cfg.backbone.model_cfg["vision_cfg"], cfg.backbone.model_cfg["text_cfg"]
    assert (v["width"], v["layers"], v["patch_size"], v["image_size"]) == (
        parity_meta["vision_width"], parity_meta["vision_layers"], parity_meta["patch_size"], parity_meta["image_size"])
    assert (t["width"], t["layers"], t["heads"]) == (
        parity_meta["text_width"], parity_meta["text_layers"], parity_meta["text_heads"])
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
    with pytest.raises(ValueError, match=r"missing keys \['ln_final\.bias'\].*unexpected keys \['visual\.some_new_thing'\]"):
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
    with pytest.raises(ValueError, match="weights_only=True"):
        ezclip_zoo.load_official_checkpoint(path)


def test_missing_file_and_non_state_dict(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ezclip_zoo.load_official_checkpoint(tmp_path / "nope.pt")
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="no model state dict"):
        ezclip_zoo.load_official_checkpoint(path)
