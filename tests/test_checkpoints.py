"""Zoo checkpoints: converter -> folder -> load (locally and through an offline Hub cache), and every failure."""

import json
from pathlib import Path

import pytest
import torch
from _helpers.hub_cache import populate_hub_cache
from safetensors.torch import load_file, save_file

import ezclip_zoo
from ezclip_zoo.digest import sha256_file
from ezclip_zoo.errors import CheckpointNotAvailableError, ChecksumError, WeightsUnavailableError
from ezclip_zoo.modeling.config import CONFIG_FORMAT_VERSION
from ezclip_zoo.zoo.checkpoint_table import USER_ENTRIES as _USER_ENTRIES
from ezclip_zoo.zoo.conversion import convert_official
from ezclip_zoo.zoo.pretrained import expected_weights_bytes, get_pretrained_entry

REVISION = "0123456789abcdef0123456789abcdef01234567"
REPO = "ezclip-zoo-tests/tiny-parity"
TOL = dict(atol=1e-4, rtol=1e-4)


@pytest.fixture(scope="module")
def converted(parity_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo") / "tiny"
    report = convert_official(parity_dir / "official_checkpoint.pt", out, name="tiny-parity")
    return report


def _logits(model, ref):
    with torch.no_grad():
        return model(ref["frames"], ref["text_tokens"])


def test_round_trip_converter_folder_load(converted, parity_ref):
    assert converted.backbone.startswith("embedded")  # the tiny CLIP is no open_clip tag: stored beside
    model = ezclip_zoo.load(converted.folder)
    torch.testing.assert_close(_logits(model, parity_ref), parity_ref["logits"], **TOL)
    assert not model.training and model.config.name == "tiny-parity"


def test_weights_file_holds_only_prompts_and_adapters_at_expected_size(converted):
    weights = converted.folder / "model.safetensors"
    tensors = load_file(str(weights))
    assert all(k.startswith(("video_tower.", "text_tower.")) for k in tensors)
    assert {t.dtype for k, t in tensors.items() if ".prompts." in k} == {torch.float32}
    assert {t.dtype for k, t in tensors.items() if ".adapters." in k} == {torch.float16}
    assert sum(t.numel() for t in tensors.values()) == 23008  # the fixture's trainable count
    payload = sum(t.numel() * (4 if ".prompts." in k else 2) for k, t in tensors.items())
    header = int.from_bytes(weights.read_bytes()[:8], "little")
    assert weights.stat().st_size == 8 + header + payload  # nothing but these tensors
    assert converted.size_bytes == weights.stat().st_size and converted.sha256 == sha256_file(weights)


def test_b16_weights_file_is_about_10_5_mb(tmp_path):
    from ezclip_zoo.zoo.serialization import save_trainable_weights

    model = ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False, device="meta")
    model.video_tower.to_empty(device="cpu")  # materialise only the trainable part of the real B/16 shapes
    model.text_tower.to_empty(device="cpu")
    path = tmp_path / "model.safetensors"
    save_trainable_weights(model, path)
    expected = expected_weights_bytes("ezclip-vit-b16")
    assert expected == 73_728 * 4 + (3_550_464 + 1_580_544) * 2
    assert abs(path.stat().st_size - expected) / expected < 0.02
    assert 10.4e6 < path.stat().st_size < 10.7e6


def test_sha256_is_reproducible(parity_dir, tmp_path, converted):
    again = convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "again", name="other-name")
    assert again.sha256 == converted.sha256


@pytest.fixture
def hub_cache(converted, tmp_path):
    files = {f: converted.folder / f for f in ("config.json", "model.safetensors", "backbone.safetensors", "README.md")}
    populate_hub_cache(tmp_path / "hub", REPO, REVISION, files)
    return tmp_path / "hub"


@pytest.fixture
def registered(converted):
    entry = dict(
        get_pretrained_entry("ezclip-b16-k400"),
        architecture="ezclip-test-tiny",
        hf_hub_id=REPO,
        revision=REVISION,
        sha256=converted.sha256,
        size_bytes=converted.size_bytes,
        status="published",
    )
    ezclip_zoo.register_pretrained("tiny-parity", entry)
    yield "tiny-parity"
    _USER_ENTRIES.pop("tiny-parity", None)


def test_load_registry_name_through_offline_hub_cache(registered, hub_cache, parity_ref):
    model = ezclip_zoo.load(registered, cache_dir=str(hub_cache))
    torch.testing.assert_close(_logits(model, parity_ref), parity_ref["logits"], **TOL)


def test_load_hf_hub_id_through_offline_hub_cache(hub_cache, parity_ref):
    for spec in (f"hf-hub:{REPO}", f"hf-hub:{REPO}@{REVISION}"):
        model = ezclip_zoo.load(spec, cache_dir=str(hub_cache), local_files_only=True)
        torch.testing.assert_close(_logits(model, parity_ref), parity_ref["logits"], **TOL)


def test_load_casts_dtype(converted):
    model = ezclip_zoo.load(converted.folder, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16 and all(p.dtype == torch.bfloat16 for p in model.parameters())


def test_tampered_weights_fail_the_checksum(registered, hub_cache, converted):
    blob = (hub_cache / f"models--{REPO.replace('/', '--')}" / "snapshots" / REVISION / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    tampered = sha256_file(blob)
    with pytest.raises(ChecksumError) as info:
        ezclip_zoo.load(registered, cache_dir=str(hub_cache))
    message = str(info.value)
    assert "model.safetensors" in message and converted.sha256 in message and tampered in message
    assert not blob.exists()  # removed from the cache, so that a retry downloads it afresh


def test_missing_file_offline_says_what_and_how_to_fix(registered, tmp_path):
    with pytest.raises(WeightsUnavailableError) as info:
        ezclip_zoo.load(registered, cache_dir=str(tmp_path / "empty-cache"))
    message = str(info.value)
    assert REPO in message and "config.json" in message and REVISION in message
    assert f"hf download {REPO} config.json --revision {REVISION}" in message and "load(DIR)" in message


def test_unpublished_names_offline_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(tmp_path / "zoo"))
    with pytest.raises(WeightsUnavailableError) as info:  # HF_HUB_OFFLINE=1: the authors' release is not fetched
        ezclip_zoo.load("ezclip-b16-k400")
    message = str(info.value)
    assert "ezclip-zoo download ezclip-b16-k400 --to DIR" in message and str(tmp_path / "zoo") in message
    assert not (tmp_path / "zoo" / "downloads").exists()  # nothing was attempted
    with pytest.raises(CheckpointNotAvailableError, match="no weights to load") as info:
        ezclip_zoo.load("ezclip-b32-k400")
    assert "examples/" not in str(info.value)


def test_unknown_names_and_bad_folders_are_clear_errors(tmp_path):
    # an architecture name builds a fresh model (tests/test_load.py); offline, its CLIP download says so
    with pytest.raises(WeightsUnavailableError):
        ezclip_zoo.load("ezclip-vit-b16", local_files_only=True)
    with pytest.raises(ValueError, match="neither a local folder"):
        ezclip_zoo.load("no-such-model")
    with pytest.raises(WeightsUnavailableError, match="config.json is missing"):
        ezclip_zoo.load(tmp_path)
    with pytest.raises(ValueError, match="hf-hub:org/repo"):
        ezclip_zoo.load("hf-hub:not-a-repo")


def _copy_folder(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_wrong_or_missing_keys_are_listed(converted, tmp_path):
    folder = _copy_folder(converted.folder, tmp_path / "broken")
    tensors = load_file(str(folder / "model.safetensors"))
    tensors.pop("text_tower.adapters.1.fc2.bias")
    tensors["video_tower.adapters.9.fc1.weight"] = torch.zeros(2, 2)
    save_file(tensors, str(folder / "model.safetensors"))
    with pytest.raises(ValueError, match=r"text_tower\.adapters\.1\.fc2\.bias.*video_tower\.adapters\.9\.fc1\.weight"):
        ezclip_zoo.load(folder)


def test_newer_config_format_is_refused(converted, tmp_path):
    folder = _copy_folder(converted.folder, tmp_path / "future")
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = CONFIG_FORMAT_VERSION + 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="newer than this ezclip-zoo understands"):
        ezclip_zoo.load(folder)


def test_loading_a_folder_never_unpickles(converted, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load must not be used for zoo folders")

    monkeypatch.setattr(torch, "load", refuse)
    ezclip_zoo.load(converted.folder)


def test_air_gapped_backbone_weights_replace_the_tag_download(tmp_path, parity_ref, converted):
    """A folder that names its CLIP by open_clip name + tag loads offline from a local weights file."""
    import open_clip

    model = ezclip_zoo.load(converted.folder)
    model_cfg = model.config.backbone.model_cfg
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "EZTiny-CLIP.json").write_text(json.dumps(model_cfg))
    open_clip.add_model_config(tmp_path / "cfg")
    folder = _copy_folder(converted.folder, tmp_path / "tagged")
    (folder / "backbone.safetensors").unlink()
    config = json.loads((folder / "config.json").read_text())
    config["model"]["backbone"] = {"model": "EZTiny-CLIP", "pretrained": "openai", "quick_gelu": True}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="no pretrained tag"):
        ezclip_zoo.load(folder)
    clip_file = tmp_path / "clip.pt"
    torch.save(model.clip.state_dict(), clip_file)  # a torch.save file, read with weights_only=True
    loaded = ezclip_zoo.load(folder, backbone_weights=clip_file)
    torch.testing.assert_close(_logits(loaded, parity_ref), parity_ref["logits"], **TOL)


def test_save_pretrained_of_random_backbone_is_self_contained(tiny_model, tmp_path):
    model = tiny_model
    from _helpers.models import randomize_trainable

    randomize_trainable(model)
    ezclip_zoo.save_pretrained(model, tmp_path / "m", adapter_dtype=torch.float32)
    loaded = ezclip_zoo.load(tmp_path / "m")
    frames = torch.randn(1, 8, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(frames, ["a", "b"]), model(frames, ["a", "b"]))
