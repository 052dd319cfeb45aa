"""A training-free entry over a SigLIP-like backbone published on a local Hub (``HF_ENDPOINT`` on 127.0.0.1): its
open_clip config, weights and Hugging Face tokenizer download through the zoo's resolver, ``download --to`` bundles
them into one folder, and that folder loads and classifies with the server stopped and the Hub offline, giving the
backbone's own scores (issue 32)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from _helpers.families import FAMILY_CONFIGS, write_tiny_hf_tokenizer
from _helpers.servers import HubServer
from safetensors.torch import load_file, save_file
from test_zoo_downloads import _env, drive

from ezclip_zoo.modeling.backbone import build_backbone
from ezclip_zoo.modeling.config import BackboneConfig

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "zoo-tests/tiny-siglip"


@pytest.fixture
def published(tmp_path):
    """The Hub repo of a tiny SigLIP-like open_clip model (config naming its own repo as the tokenizer, weights,
    tokenizer files) and the inputs the driver scores."""
    family = json.loads(json.dumps(FAMILY_CONFIGS["siglip2"]))
    model_cfg = {**family["model_cfg"], "text_cfg": {**family["model_cfg"]["text_cfg"], "hf_tokenizer_name": REPO}}
    torch.manual_seed(0)
    clip = build_backbone(BackboneConfig(model_cfg=model_cfg, timm_kwargs=family["timm_kwargs"], quick_gelu=False))
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, str(tmp_path / "clip.safetensors"))
    tokenizer = write_tiny_hf_tokenizer(tmp_path / "tokenizer")
    files = {
        "open_clip_config.json": json.dumps({"model_cfg": model_cfg, "preprocess_cfg": family["preprocess"]}).encode(),
        "open_clip_model.safetensors": (tmp_path / "clip.safetensors").read_bytes(),
    }
    files.update({p.name: p.read_bytes() for p in tokenizer.iterdir() if p.is_file()})

    from open_clip.tokenizer import HFTokenizer

    tokens = HFTokenizer(str(tokenizer), context_length=16, clean="canonicalize")(["a person is dancing", "juggling"])
    frames = torch.randn(2, 4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    save_file({"frames": frames, "text_tokens": tokens.long()}, str(tmp_path / "inputs.safetensors"))
    with torch.no_grad():  # the backbone's own zero-shot scores: the frame-averaged image embedding
        video = F.normalize(clip.encode_image(frames.flatten(0, 1)).view(2, 4, -1).mean(1), dim=-1)
        text = F.normalize(clip.encode_text(tokens), dim=-1)
    return files, 100 * video @ text.T, family


@pytest.mark.slow
@pytest.mark.subprocess
def test_training_free_entry_downloads_then_loads_offline_from_one_folder(published, tmp_path):
    files, expected, family = published
    server = HubServer(COMMIT)
    server.repos = {REPO: files}
    architecture = {
        "backbone": {"model": f"hf-hub:{REPO}", "timm_kwargs": family["timm_kwargs"]},
        "num_frames": 4,
        "extra": {"licence": "Apache-2.0"},
    }
    spec = {
        "architectures": {"tiny-siglip-hub": architecture},
        "entries": {"tiny-siglip-hub-training-free": {"architecture": "tiny-siglip-hub", "status": "training-free"}},
        "parity": str(tmp_path / "inputs.safetensors"),
    }
    cache = tmp_path / "zoo"
    try:
        result = drive(
            tmp_path,
            cache,
            env=_env(cache, HF_ENDPOINT=server.url),
            **spec,
            action="download",
            name="tiny-siglip-hub-training-free",
            to=str(tmp_path / "bundle"),
            out=str(tmp_path / "online.safetensors"),
        )
        assert result.get("ok"), result
        fetched = {p for m, p, _, _, done in server.log if m == "GET" and done}
        for name in ("open_clip_model.safetensors", "tokenizer.json", "tokenizer_config.json"):
            assert f"/{REPO}/resolve/main/{name}" in fetched
    finally:
        server.stop()
    bundle = tmp_path / "bundle"
    document = json.loads((bundle / "config.json").read_text())
    assert document["model"]["temporal_prompts"] is False and document["model"]["extra"]["training_free"] is True
    assert document["model"]["backbone"]["weights"] == "backbone.safetensors"
    assert (bundle / "tokenizer" / "tokenizer.json").is_file() and document["tokenizer_files"]
    # the server is gone and the Hub offline, with an empty Hugging Face cache: the folder alone suffices
    offline = _env(tmp_path / "zoo2", HF_ENDPOINT=server.url, HF_HUB_OFFLINE="1")
    result = drive(
        tmp_path,
        tmp_path / "zoo2",
        env=offline,
        action="load",
        name=str(bundle),
        parity=spec["parity"],
        out=str(tmp_path / "offline.safetensors"),
    )
    assert result.get("ok"), result
    online, offline_logits = (load_file(str(tmp_path / f"{n}.safetensors"))["logits"] for n in ("online", "offline"))
    torch.testing.assert_close(online, expected, rtol=0, atol=1e-4)  # training-free: the backbone's own scores
    torch.testing.assert_close(offline_logits, online, rtol=0, atol=0)


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_backbone_missing_offline_is_one_clear_error(published, tmp_path):
    """Offline with empty caches: one error naming the file and the command that fetches it, no traceback of
    retries."""
    _, _, family = published
    spec = {
        "architectures": {
            "tiny-siglip-hub": {"backbone": {"model": f"hf-hub:{REPO}", "timm_kwargs": family["timm_kwargs"]}}
        }
    }
    cache = tmp_path / "zoo"
    result = drive(
        tmp_path,
        cache,
        env=_env(cache, HF_HUB_OFFLINE="1"),
        **spec,
        action="load",
        name="tiny-siglip-hub",
        parity=str(tmp_path / "inputs.safetensors"),
        out=str(tmp_path / "never.safetensors"),
    )
    assert result.get("error") == "WeightsUnavailableError", result
    assert f"hf download {REPO}" in result["message"] and "offline" in result["message"].lower()
