"""The converter's backbone verification, the CLI, the model card, push_to_hub and checkpoints.json itself."""

import json
import re
from pathlib import Path

import pytest
import yaml
from safetensors.torch import save_file

import ezclip_zoo
from ezclip_zoo.cli import main as cli
from ezclip_zoo.digest import sha256_file
from ezclip_zoo.official.checkpoint import read_official_state_dict, split_official_state_dict
from ezclip_zoo.zoo.conversion import convert_official, match_openai_backbone
from ezclip_zoo.zoo.pretrained import get_pretrained_entry, list_pretrained, markdown_table

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fixture_clip_file(parity_dir, tmp_path_factory):
    clip_sd, _ = split_official_state_dict(read_official_state_dict(parity_dir / "official_checkpoint.pt"))
    path = tmp_path_factory.mktemp("clip") / "clip.safetensors"
    save_file({k: v.contiguous() for k, v in clip_sd.items()}, str(path))
    return path, clip_sd


def test_verify_backbone_accepts_the_same_clip(parity_dir, tmp_path, fixture_clip_file):
    path, _ = fixture_clip_file
    report = convert_official(
        parity_dir / "official_checkpoint.pt", tmp_path / "ok", verify_backbone=True, backbone_weights=path
    )
    assert report.verified and report.max_abs_diff == 0.0


def test_verify_backbone_refuses_another_clip(parity_dir, tmp_path, fixture_clip_file):
    _, clip_sd = fixture_clip_file
    other = dict(clip_sd)
    other["visual.transformer.resblocks.1.mlp.c_fc.weight"] = (
        other["visual.transformer.resblocks.1.mlp.c_fc.weight"] * 1.01
    )
    path = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in other.items()}, str(path))
    with pytest.raises(ValueError, match=r"visual\.transformer\.resblocks\.1\.mlp\.c_fc\.weight") as info:
        convert_official(
            parity_dir / "official_checkpoint.pt", tmp_path / "bad", verify_backbone=True, backbone_weights=path
        )
    assert "embed" in str(info.value)
    assert not (tmp_path / "bad" / "model.safetensors").exists()


def test_backbone_tag_must_fit_the_architecture(parity_dir, tmp_path):
    with pytest.raises(ValueError, match="does not have the architecture"):
        convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "x", backbone="ViT-B-16:openai")


def test_real_openai_architectures_are_recognised():
    import open_clip

    for name in ("ViT-B-16", "ViT-B-32", "ViT-L-14"):
        assert match_openai_backbone(open_clip.get_model_config(name)) == name
    tiny = ezclip_zoo.get_model_config("ezclip-test-tiny").backbone.model_cfg
    assert match_openai_backbone(tiny) is None


def test_cli_convert_prints_the_sha256_of_the_file(parity_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    assert (
        cli(["convert-official", str(parity_dir / "official_checkpoint.pt"), str(out), "--name", "ezclip-b16-k400"])
        == 0
    )
    printed = capsys.readouterr().out
    assert f"sha256: {sha256_file(out / 'model.safetensors')}" in printed
    model = ezclip_zoo.load(out)
    assert model.config.extra["text"]["mode"] == "descriptions"  # carried over from checkpoints.json


def test_cli_errors_are_one_line_and_exit_1(tmp_path, capsys):
    assert cli(["convert-official", str(tmp_path / "missing.pt"), str(tmp_path / "o")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_model_card_metadata(parity_dir, tmp_path):
    convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "card", name="ezclip-b16-k400")
    text = (tmp_path / "card" / "README.md").read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["library_name"] == "ezclip-zoo" and meta["license"] == "mit"
    assert {"video-classification", "zero-shot", "arxiv:2312.08010"} <= set(meta["tags"])
    assert meta["pipeline_tag"] == "video-classification"
    assert "base_model" not in meta  # the fixture's CLIP is a custom one stored beside the weights: on no Hub repo
    assert meta["datasets"] == ["Kinetics-400"]
    results = meta["model-index"][0]["results"]
    got = {(r["dataset"]["name"], r["metrics"][0]["value"]) for r in results}
    assert got == {("HMDB-51", 52.9), ("UCF-101", 79.1), ("Kinetics-600", 70.1)}
    assert "arXiv 2312.08010" in text and "@article{ahmad2024ezclip" in text
    assert 'ezclip_zoo.load("ezclip-b16-k400")' in text


@pytest.mark.parametrize(
    "backbone, expected",
    [
        ({"model": "ViT-B-16", "pretrained": "openai"}, "timm/vit_base_patch16_clip_224.openai"),
        ({"model": "ViT-L-14", "pretrained": "openai"}, "timm/vit_large_patch14_clip_224.openai"),
        ({"model": "hf-hub:org/my-clip"}, "org/my-clip"),
        ({"model": "ViT-B-16"}, None),
    ],
)
def test_the_card_names_the_frozen_clip_as_its_base_model(backbone, expected):
    from ezclip_zoo.modeling.config import BackboneConfig
    from ezclip_zoo.zoo.model_card import base_model_id

    assert base_model_id(BackboneConfig(**backbone)) == expected


def test_push_to_hub_uploads_the_saved_folder(monkeypatch, tiny_model):
    from huggingface_hub import HfApi

    seen = {}

    def create_repo(self, repo_id, **kwargs):
        seen["repo"] = repo_id

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        folder = Path(folder_path)
        seen["files"] = sorted(p.name for p in folder.iterdir())
        seen["card"] = (folder / "README.md").read_text()
        seen["reload"] = ezclip_zoo.load(folder)  # the uploaded content is a loadable zoo folder
        return type("Info", (), {"commit_url": f"https://huggingface.co/{repo_id}/commit/abc"})()

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    url = ezclip_zoo.push_to_hub(tiny_model, "me/my-ezclip")
    assert url.endswith("/commit/abc") and seen["repo"] == "me/my-ezclip"
    assert seen["files"] == ["README.md", "backbone.safetensors", "config.json", "model.safetensors"]
    assert 'ezclip_zoo.load("hf-hub:me/my-ezclip")' in seen["card"]
    assert seen["reload"].num_trainable_parameters() == tiny_model.num_trainable_parameters()


def test_checkpoints_json_lists_the_released_models():
    names = set(list_pretrained())
    assert {
        "ezclip-b16-k400",
        "ezclip-b16-k400-b2n",
        "ezclip-b16-hmdb51-b2n",
        "ezclip-b16-ucf101-b2n",
        "ezclip-b16-ssv2-b2n",
        "ezclip-b32-k400",
    } <= names
    drive = {
        get_pretrained_entry(n)["official_release"]["google_drive_id"]
        for n in names
        if get_pretrained_entry(n).get("official_release")
    }
    assert "19QNGgaZjPyq0yz7XJGFccS7MV09KMY_K" in drive and len(drive) == 5
    for name in names:
        e = get_pretrained_entry(name)
        assert e["citation"] and e["metrics_source"]
        # the authors' releases are MIT; a training-free entry is under its backbone weights' licence
        expected = (
            ezclip_zoo.get_model_config(e["architecture"]).extra["licence"] if e["status"] == "training-free" else "MIT"
        )
        assert e["license"] == expected, name
        assert e["status"] != "published" or (e["sha256"] and e["revision"])
        assert e["status"] == "published" or e["sha256"] is None
    assert get_pretrained_entry("ezclip-b16-ssv2-b2n")["training"]["horizontal_flip"] is False


def test_package_reads_the_repository_checkpoints_json():
    """The package's table is a real file (no symlink, which some checkouts lack); the root copy is the same bytes."""
    packaged = Path(ezclip_zoo.__file__).parent / "checkpoints.json"
    assert packaged.is_file() and not packaged.is_symlink()
    assert packaged.read_bytes() == (REPO_ROOT / "checkpoints.json").read_bytes(), (
        "checkpoints.json differs from ezclip_zoo/checkpoints.json: edit the package's file, then "
        "`cp ezclip_zoo/checkpoints.json checkpoints.json`"
    )


def test_readme_table_is_generated_from_checkpoints_json():
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"<!-- checkpoints:start -->\n(.*?)\n<!-- checkpoints:end -->", readme, re.S)
    assert match, "README needs the generated checkpoints table between the markers"
    assert match.group(1).strip() == markdown_table().strip(), "regenerate with `ezclip-zoo list --markdown`"


def test_cli_list(capsys):
    assert cli(["list", "ezclip-b*"]) == 0  # the authors' checkpoints; every architecture: tests/test_zoo_backbones.py
    out = capsys.readouterr().out
    assert "ezclip-b16-k400" in out and "ezclip-vit-b32" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("ezclip-b")}
    assert "authors' release (Google Drive)" in rows["ezclip-b16-k400"]  # where it loads from, not a status
    assert "not available" in rows["ezclip-b32-k400"]
    assert cli(["list", "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == markdown_table().strip()
    assert cli(["list", "*ssv2*", "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["checkpoints"]) == ["ezclip-b16-ssv2-b2n"]
