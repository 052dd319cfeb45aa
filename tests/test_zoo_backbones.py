"""The zoo over every backbone (issue 32): one naming scheme, exact trainable counts and licences in the generated
table, licences said at load time, and training-free entries that are their backbone as a video classifier."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from _helpers.paths import REPO_ROOT

import ezclip_zoo
from ezclip_zoo.errors import LicenceWarning
from ezclip_zoo.zoo.architectures import BACKBONES, PERMISSIVE_LICENCES
from ezclip_zoo.zoo.pretrained import TRAINING_FREE, get_pretrained_entry, list_pretrained

NAME = re.compile(r"^ezclip-[a-z0-9]+(-[a-z0-9]+)*$")


def test_every_backbone_architecture_follows_the_naming_scheme_and_names_a_licence():
    for short, (model, tag, licence) in BACKBONES.items():
        name = f"ezclip-{short}"
        assert NAME.match(name) and name in ezclip_zoo.list_models()
        config = ezclip_zoo.get_model_config(name)
        assert (config.backbone.model, config.backbone.pretrained) == (model, tag)
        assert config.extra["licence"] == licence
    families = {short.split("-")[0] for short in BACKBONES}
    assert {"vit", "siglip2", "pe", "eva02", "mobileclip2", "metaclip2"} <= families


@pytest.mark.slow
def test_the_architectures_table_of_the_manual_is_generated():
    from ezclip_zoo.zoo.architecture_table import architectures_markdown

    text = (REPO_ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- architectures:start -->\n(.*?)\n<!-- architectures:end -->", text, re.S)
    assert match, "docs/models.md needs the generated architectures table between the markers"
    assert match.group(1).strip() == architectures_markdown().strip(), (
        "regenerate with `ezclip-zoo list --architectures-markdown`"
    )
    rows = {line.split("|")[1].strip(" `"): line for line in match.group(1).splitlines()[2:]}
    assert "| 5,204,736 | MIT |" in rows["ezclip-vit-b16"]
    assert "| timm-eva | `PE-Core-B-16` | meta | 224 | 32 | 8 | 16,237,824 | Apache-2.0 |" in rows["ezclip-pe-core-b16"]
    assert "| 512 | 64 | 8 | 7,174,656 | Apache-2.0 |" in rows["ezclip-siglip2-b16-512"]


def test_list_shows_family_size_count_and_licence(capsys):
    from ezclip_zoo.cli import main

    assert main(["list", "ezclip-pe-core-*"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("ezclip-pe-core-l14-336 "))
    assert "timm-eva" in line and "PE-Core-L-14-336 / meta" in line and "336" in line
    assert "25,423,872" in line and "Apache-2.0" in line
    assert "ezclip-pe-core-b16-training-free" in out


@pytest.fixture
def registered():
    """Names registered by a test, taken out again after it (later tests compare the registries with the manual)."""
    from ezclip_zoo.zoo.checkpoint_table import USER_ENTRIES
    from ezclip_zoo.zoo.registry import _MODEL_CONFIGS

    names: list[str] = []
    yield names
    for name in names:
        _MODEL_CONFIGS.pop(name, None)
        USER_ENTRIES.pop(name, None)


def test_a_non_permissive_licence_is_said_when_the_weights_load(tmp_path, registered):
    from safetensors.torch import save_file

    source = ezclip_zoo.create_model("ezclip-test-tiny", pretrained_backbone=False)
    weights = tmp_path / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in source.clip.state_dict().items()}, str(weights))
    config = ezclip_zoo.get_model_config("ezclip-test-tiny").to_dict()
    config["backbone"]["weights"] = str(weights)
    for licence, warned in (("CC-BY-NC-4.0", True), (PERMISSIVE_LICENCES[1], False)):
        name = f"tiny-licence-{warned}"
        registered.append(name)
        ezclip_zoo.register_model(name, {**config, "extra": {"licence": licence, "backbone_weights": "a test"}})
        with pytest.warns() as caught:
            ezclip_zoo.load(name)
        licence_warnings = [w for w in caught if issubclass(w.category, LicenceWarning)]
        assert bool(licence_warnings) == warned
        if warned:
            assert "CC-BY-NC-4.0, not MIT or Apache-2.0" in str(licence_warnings[0].message)


def test_shipped_training_free_entries_name_no_weights():
    names = [n for n in list_pretrained() if get_pretrained_entry(n)["status"] == TRAINING_FREE]
    families = set()
    for name in names:
        entry = get_pretrained_entry(name)
        assert name == f"{entry['architecture']}-training-free"
        assert entry["hf_hub_id"] is entry["sha256"] is entry["filename"] is None and entry["size_bytes"] == 0
        assert "official_release" not in entry
        families.add(ezclip_zoo.get_model_config(entry["architecture"]).backbone.model.split("-")[0])
    assert {"ViT", "PE", "EVA02"} <= families and len(names) >= 4
    assert json.loads((REPO_ROOT / "checkpoints.json").read_text())["checkpoints"].keys() >= set(names)


@pytest.fixture
def tiny_training_free(registered):
    registered.append("tiny-training-free")
    ezclip_zoo.register_pretrained(
        "tiny-training-free", {"architecture": "ezclip-test-tiny", "status": TRAINING_FREE}, overwrite=True
    )
    return "tiny-training-free"


def test_a_training_free_entry_is_its_backbone_over_frames(tiny_training_free, recwarn):
    model = ezclip_zoo.load(tiny_training_free)
    assert not [w for w in recwarn if "freshly initialised" in str(w.message)]  # nothing untrained to warn about
    assert model.config.name == tiny_training_free and not model.config.temporal_prompts
    assert model.config.extra["training_free"] is True
    frames = torch.randn(2, 8, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    texts = ["dancing", "juggling", "surfing"]
    with torch.no_grad():
        ours = model(frames, texts)
        video = F.normalize(model.clip.encode_image(frames.flatten(0, 1)).view(2, 8, -1).mean(1), dim=-1)
        text = F.normalize(model.clip.encode_text(model.tokenize(texts)), dim=-1)
    torch.testing.assert_close(ours, 100 * video @ text.T, rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="training-free entry"):
        ezclip_zoo.load(tiny_training_free, overrides={"num_frames": 4})


def test_fine_tuning_from_a_training_free_entry_switches_the_prompts_on(tiny_training_free, caplog):
    from ezclip_zoo.train.recipe import _model

    with caplog.at_level(logging.WARNING):
        net = _model(tiny_training_free, seed=0, pretrained_backbone=True, overrides=None)
    assert net.config.temporal_prompts and net.video_tower.prompts is not None
    assert "switched on" in caplog.text and "differs from the backbone from step 0" in caplog.text


def test_a_saved_training_free_model_is_not_fine_tuned_silently(tiny_training_free, tmp_path):
    from ezclip_zoo.train.recipe import _model

    folder = ezclip_zoo.save_pretrained(ezclip_zoo.load(tiny_training_free), tmp_path / "tf")
    with pytest.raises(ValueError, match="fine-tune its architecture ezclip-test-tiny instead"):
        _model(str(Path(folder)), seed=0, pretrained_backbone=True, overrides=None)
