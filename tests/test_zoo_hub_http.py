"""A published checkpoint over real HTTP: a local Hub on 127.0.0.1 answering huggingface_hub's resolve requests
(``HF_ENDPOINT``), with the backbone as an open_clip ``hf-hub:`` model; and folders that name files outside."""

import json
import shutil

import pytest
import torch
from _helpers.servers import HubServer
from safetensors.torch import save_file
from test_zoo_downloads import _env, _logits, drive

import ezclip_zoo
from ezclip_zoo.digest import sha256_file
from ezclip_zoo.errors import UnsafePathError
from ezclip_zoo.official.checkpoint import read_official_state_dict, split_official_state_dict
from ezclip_zoo.zoo.conversion import convert_official
from ezclip_zoo.zoo.pretrained import get_pretrained_entry

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
REPO, CLIP_REPO, NAME = "zoo-tests/tiny-published", "zoo-tests/tiny-clip", "tiny-published"


@pytest.fixture(scope="module")
def published(parity_dir, tmp_path_factory):
    """The parity checkpoint as Hub files: zoo config + weights naming an hf-hub: backbone, and that backbone."""
    root = tmp_path_factory.mktemp("published")
    report = convert_official(parity_dir / "official_checkpoint.pt", root / "zoo", name=NAME)
    document = json.loads((report.folder / "config.json").read_text())
    model_cfg = document["model"]["backbone"]["model_cfg"]
    document["model"]["backbone"] = {"model": f"hf-hub:{CLIP_REPO}", "quick_gelu": True}
    clip_sd, _ = split_official_state_dict(read_official_state_dict(parity_dir / "official_checkpoint.pt"))
    save_file({k: v.contiguous() for k, v in clip_sd.items()}, str(root / "clip.safetensors"))
    return {
        REPO: {
            "config.json": json.dumps(document).encode(),
            "model.safetensors": (report.folder / "model.safetensors").read_bytes(),
        },
        CLIP_REPO: {
            "open_clip_config.json": json.dumps({"model_cfg": model_cfg}).encode(),
            "open_clip_model.safetensors": (root / "clip.safetensors").read_bytes(),
        },
    }, report.sha256


@pytest.fixture
def hub(published):
    repos, _ = published
    server = HubServer(COMMIT)
    server.repos = {k: dict(v) for k, v in repos.items()}
    yield server
    server.stop()


def _entry(sha256: str) -> dict:
    return dict(
        get_pretrained_entry("ezclip-b16-k400"),
        architecture="ezclip-test-tiny",
        hf_hub_id=REPO,
        revision=COMMIT,
        sha256=sha256,
        status="published",
        text={"mode": "names"},
    )


def _spec(parity_dir, sha, out, **extra):
    return dict(
        entries={NAME: _entry(sha)},
        action="load",
        name=NAME,
        out=str(out),
        parity=str(parity_dir / "inputs_outputs.safetensors"),
        **extra,
    )


@pytest.mark.slow
def test_published_entry_downloads_verifies_and_loads_offline(tmp_path, hub, published, parity_dir, parity_ref):
    _, sha = published
    cache = tmp_path / "zoo"
    env = _env(cache, HF_ENDPOINT=hub.url)
    result = drive(tmp_path, cache, env=env, **_spec(parity_dir, sha, tmp_path / "a.st"))
    assert result.get("ok"), result
    torch.testing.assert_close(_logits(tmp_path / "a.st"), parity_ref["logits"], atol=1e-4, rtol=1e-4)
    fetched = {p for m, p, _, _, done in hub.log if m == "GET" and done}
    assert f"/{CLIP_REPO}/resolve/main/open_clip_model.safetensors" in fetched  # the backbone came from the Hub
    hub.stop()
    offline = _env(cache, HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="1")
    result = drive(tmp_path, cache, env=offline, **_spec(parity_dir, sha, tmp_path / "b.st"))
    assert result.get("ok"), result
    torch.testing.assert_close(_logits(tmp_path / "b.st"), _logits(tmp_path / "a.st"), atol=0, rtol=0)


@pytest.mark.slow
def test_a_tampered_hub_file_is_refused_and_a_retry_gets_the_right_one(tmp_path, hub, published, parity_dir):
    repos, sha = published
    good = repos[REPO]["model.safetensors"]
    hub.repos[REPO]["model.safetensors"] = good[:-1] + bytes([good[-1] ^ 0xFF])
    cache = tmp_path / "zoo"
    env = _env(cache, HF_ENDPOINT=hub.url)
    result = drive(tmp_path, cache, env=env, **_spec(parity_dir, sha, tmp_path / "a.st"))
    assert result["error"] == "ChecksumError" and sha in result["message"], result
    hub.repos[REPO]["model.safetensors"] = good
    result = drive(tmp_path, cache, env=env, **_spec(parity_dir, sha, tmp_path / "b.st"))
    assert result.get("ok"), result


@pytest.mark.slow
def test_download_to_a_folder_then_load_it_with_no_server(tmp_path, hub, published, parity_dir, parity_ref):
    _, sha = published
    cache = tmp_path / "zoo"
    out = tmp_path / "carry"
    result = drive(
        tmp_path,
        cache,
        env=_env(cache, HF_ENDPOINT=hub.url),
        entries={NAME: _entry(sha)},
        action="download",
        name=NAME,
        to=str(out),
    )
    assert result.get("ok"), result
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "backbone.safetensors"}
    hub.stop()
    shutil.rmtree(tmp_path / "hf")  # not even the Hugging Face cache: the folder alone
    model = ezclip_zoo.load(out)  # this process is offline (HF_HUB_OFFLINE=1)
    with torch.no_grad():
        logits = model(parity_ref["frames"], parity_ref["text_tokens"])
    torch.testing.assert_close(logits, parity_ref["logits"], atol=1e-4, rtol=1e-4)
    assert sha256_file(out / "model.safetensors") == sha


@pytest.mark.slow
def test_download_to_a_folder_fetches_an_embedded_backbone_too(tmp_path, parity_dir, parity_ref):
    """A published repo whose config.json names its own backbone.safetensors: the folder gets that file as well."""
    report = convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "zoo-folder", name=NAME)
    server = HubServer(COMMIT)
    server.repos[REPO] = {
        f: (report.folder / f).read_bytes() for f in ("config.json", "model.safetensors", "backbone.safetensors")
    }
    try:
        cache, out = tmp_path / "zoo", tmp_path / "carry"
        result = drive(
            tmp_path,
            cache,
            env=_env(cache, HF_ENDPOINT=server.url),
            entries={NAME: _entry(report.sha256)},
            action="download",
            name=NAME,
            to=str(out),
        )
        assert result.get("ok"), result
    finally:
        server.stop()
    assert (out / "backbone.safetensors").read_bytes() == (report.folder / "backbone.safetensors").read_bytes()
    model = ezclip_zoo.load(out)  # offline, no server
    with torch.no_grad():
        torch.testing.assert_close(
            model(parity_ref["frames"], parity_ref["text_tokens"]), parity_ref["logits"], atol=1e-4, rtol=1e-4
        )


@pytest.mark.parametrize("outside", ["../../../etc/passwd", "/etc/passwd", "sub/../../backbone.safetensors"])
def test_a_folder_naming_a_file_outside_itself_is_refused(tmp_path, parity_dir, outside):
    report = convert_official(parity_dir / "official_checkpoint.pt", tmp_path / "m", name="x")
    (tmp_path / "backbone.safetensors").write_bytes((report.folder / "backbone.safetensors").read_bytes())
    document = json.loads((report.folder / "config.json").read_text())
    document["model"]["backbone"]["weights"] = outside
    (report.folder / "config.json").write_text(json.dumps(document))
    with pytest.raises(UnsafePathError) as info:
        ezclip_zoo.load(report.folder)
    assert repr(outside) in str(info.value) and "backbone_weights=" in str(info.value)
    # the caller's own argument may name any file
    ezclip_zoo.load(report.folder, backbone_weights=report.folder / "backbone.safetensors")


@pytest.mark.subprocess
@pytest.mark.slow
def test_an_unreachable_hub_fails_in_seconds_with_the_fix(tmp_path):
    """create_model of a real architecture, online mode, Hub unreachable: one quick error, not a minute of retries."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(tmp_path / "zoo", HF_ENDPOINT=f"http://127.0.0.1:{port}")
    code = (
        "import ezclip_zoo\n"
        "try:\n    ezclip_zoo.create_model('ezclip-vit-b32')\n"
        "except Exception as e:\n    print(type(e).__name__ + ': ' + str(e))\n"
    )
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert out.stdout.startswith("WeightsUnavailableError"), out.stdout + out.stderr
    assert "cannot be reached" in out.stdout and "hf download timm/vit_base_patch32_clip_224.openai" in out.stdout
    assert "Retrying" not in out.stderr and elapsed < 60


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_the_cli_prints_one_line_for_a_refused_pickle(tmp_path, capsys):
    import pickle

    from ezclip_zoo.cli import main

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"model_state_dict": Evil()}))
    assert main(["convert-official", str(path), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(
        f"ezclip-zoo convert-official: error: {path}: not a plain tensor file: refused, it could run code"
    )
