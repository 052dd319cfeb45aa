"""Checkpoints from the authors' release over real sockets: a local HTTP server (Range, cut-offs, HTML pages,
a changed file). The suite is offline, so each network step runs with the network allowed for that step only
(`online`: ``HF_HUB_OFFLINE`` off, a cache of the test's own), in this process; two loads at once run in two
processes, and the command line's one-line error in a process of its own."""

import errno
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _helpers.servers import LocalServer
from safetensors.torch import load_file

import ezclip_zoo
from ezclip_zoo.digest import sha256_file
from ezclip_zoo.zoo.checkpoint_table import USER_ENTRIES as _USER_ENTRIES
from ezclip_zoo.zoo.pretrained import get_pretrained_entry

DRIVER = Path(__file__).parent / "_helpers" / "zoo_driver.py"
NAME = "tiny-official"
_counter = itertools.count()


def _entry(url: str, **release) -> dict:
    entry = get_pretrained_entry("ezclip-b16-k400")
    entry.update(
        architecture="ezclip-test-tiny",
        hf_hub_id="ezclip-zoo-tests/none",
        status="unpublished",
        text={"mode": "names"},
        official_release={"url": url, **release},
    )
    return entry


def _env(cache: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(
        HF_HUB_OFFLINE="0",
        EZCLIP_ZOO_CACHE=str(cache),
        HF_HOME=str(cache.parent / "hf"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    env.update(extra)
    return env


def _spec_file(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / f"spec-{next(_counter)}.json"
    path.write_text(json.dumps(spec))
    return path


def _result(stdout: str, stderr: str) -> dict:
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    assert lines, f"driver printed nothing; stderr:\n{stderr[-3000:]}"
    result = json.loads(lines[-1])
    result["stderr"] = stderr
    return result


@pytest.fixture
def online(monkeypatch, capsys, parity_ref):
    """``online(cache, entry, action, ...)``: run one zoo action here as `_helpers/zoo_driver.py` runs it in a
    process of its own, and return the same result: the network allowed unless ``offline``, the zoo cache at
    ``cache``, ``entry`` registered as `NAME` until the test ends; what it printed to stderr in ``result["stderr"]``;
    after "load", the loaded model's logits on the parity inputs in ``result["logits"]``."""
    from huggingface_hub import constants

    from ezclip_zoo.fetch import network
    from ezclip_zoo.zoo.download import download_checkpoint

    for proxy in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)

    def run(cache: Path, entry: dict, action: str, *, offline=False, force=False, progress=False):
        monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(cache))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
        monkeypatch.setattr(network, "_probes", {})  # no verdict on a host kept from an earlier step or test
        ezclip_zoo.register_pretrained(NAME, entry, overwrite=True)
        capsys.readouterr()
        try:
            result = {"ok": True}
            if action == "download":
                download_checkpoint(NAME, force=force, progress=False)
            else:
                model = ezclip_zoo.load(NAME, progress=progress)
                with torch.no_grad():
                    result["logits"] = model(parity_ref["frames"], parity_ref["text_tokens"])
        except Exception as exc:  # the driver's report: the test asserts on type and message
            result = {"error": type(exc).__name__, "message": str(exc)}
        result["stderr"] = capsys.readouterr().err
        return result

    yield run
    _USER_ENTRIES.pop(NAME, None)


def drive(tmp_path: Path, cache: Path, env: dict | None = None, **spec) -> dict:
    p = subprocess.run(
        [sys.executable, str(DRIVER), str(_spec_file(tmp_path, spec))],
        env=env or _env(cache),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return _result(p.stdout, p.stderr)


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.stop()


@pytest.fixture
def official(parity_dir):
    return (parity_dir / "official_checkpoint.pt").read_bytes()


def _logits(path: Path) -> torch.Tensor:
    return load_file(str(path))["logits"]


def _reference_logits(parity_dir, parity_ref) -> torch.Tensor:
    model = ezclip_zoo.load_official_checkpoint(parity_dir / "official_checkpoint.pt")
    with torch.no_grad():
        return model(parity_ref["frames"], parity_ref["text_tokens"])


def _load_spec(parity_dir, entry, out):
    return dict(
        entries={NAME: entry},
        action="load",
        name=NAME,
        parity=str(parity_dir / "inputs_outputs.safetensors"),
        out=str(out),
    )


def test_url_source_loads_by_name_then_offline_from_the_cache(
    tmp_path, server, official, parity_dir, parity_ref, online
):
    server.files["/ckpt.pt"] = official
    cache = tmp_path / "zoo"
    entry = _entry(server.url + "/ckpt.pt")
    result = online(cache, entry, "load", progress=True)
    assert result.get("ok"), result
    notices = [line for line in result["stderr"].splitlines() if line.startswith("ezclip-zoo: ")]
    assert len(notices) == 1, result["stderr"]  # said once: which source, how large, where it goes
    assert entry["official_release"]["url"] in notices[0] and str(cache / "checkpoints" / NAME) in notices[0]
    assert " MB once" in notices[0] and "converting" in result["stderr"]  # the conversion's progress bar
    expected = _reference_logits(parity_dir, parity_ref)
    torch.testing.assert_close(result["logits"], expected, atol=1e-5, rtol=1e-5)
    assert server.complete_gets("/ckpt.pt") == 1

    record = json.loads((cache / "checkpoints" / f"{NAME}.source.json").read_text())
    folder = cache / "checkpoints" / NAME
    assert record["source_sha256"] == sha256_file(parity_dir / "official_checkpoint.pt")
    assert record["weights_sha256"] == sha256_file(folder / "model.safetensors")
    assert record["source"] == entry["official_release"]["url"]
    assert not any((cache / "downloads").iterdir())  # the 300 MB source is deleted after conversion
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "backbone.safetensors"}

    server.stop()  # gone: the cache is all there is
    again = online(cache, entry, "load", offline=True)
    assert again.get("ok"), again
    torch.testing.assert_close(again["logits"], result["logits"], atol=0, rtol=0)

    # a damaged folder is not used: offline, that is a clear error instead of a wrong model
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    result = online(cache, entry, "load", offline=True)
    assert result["error"] == "WeightsUnavailableError" and f"ezclip-zoo download {NAME} --to DIR" in result["message"]


def _assert_resumed_once(server, size: int, cut: int) -> None:
    """Exactly one ranged GET completed, from where the cut transfer's saved bytes end (the client may drop the
    last incomplete chunk it read), and it sent only the rest of the file."""
    ranged = [(r, sent) for m, p, r, sent, done in server.log if m == "GET" and r and done]
    assert len(ranged) == 1, server.log
    start = int(ranged[0][0].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= cut and ranged[0][1] == size - start


def test_a_cut_transfer_resumes_with_range(tmp_path, server, official, parity_dir, parity_ref, online):
    server.files["/ckpt.pt"] = official
    server.cut_first = len(official) // 2
    cache = tmp_path / "zoo"
    result = online(cache, _entry(server.url + "/ckpt.pt"), "load")
    assert result.get("ok"), result
    torch.testing.assert_close(result["logits"], _reference_logits(parity_dir, parity_ref), atol=1e-5, rtol=1e-5)
    _assert_resumed_once(server, len(official), cut=len(official) // 2)


def test_a_cut_transfer_with_the_server_down_leaves_only_a_part_file(tmp_path, server, official, online):
    server.files["/ckpt.pt"] = official
    server.cut_first, server.fail_after_cut = len(official) // 3, True
    cache = tmp_path / "zoo"
    entry = _entry(server.url + "/ckpt.pt")
    result = online(cache, entry, "load")
    assert result["error"] == "DownloadError", result
    assert "503" in result["message"] and f"ezclip-zoo download {NAME} --source FILE" in result["message"]
    downloads = list((cache / "downloads").iterdir())
    assert len(downloads) == 1 and downloads[0].name.endswith(".part")  # never mistaken for a whole file
    assert 0 < downloads[0].stat().st_size <= len(official) // 3
    assert not (cache / "checkpoints" / NAME).exists()

    server.fail_after_cut = False  # back up: the next call resumes from the partial file
    result = online(cache, entry, "load")
    assert result.get("ok"), result
    _assert_resumed_once(server, len(official), cut=len(official) // 3)


def test_a_server_without_range_support_restarts_cleanly(tmp_path, server, official, parity_dir, parity_ref, online):
    server.files["/ckpt.pt"] = official
    server.cut_first, server.honor_range = len(official) // 2, False
    cache = tmp_path / "zoo"
    result = online(cache, _entry(server.url + "/ckpt.pt"), "load")
    assert result.get("ok"), result
    torch.testing.assert_close(result["logits"], _reference_logits(parity_dir, parity_ref), atol=1e-5, rtol=1e-5)
    assert server.complete_gets("/ckpt.pt") == 1  # the whole file once more, from the start
    assert not any(p.name.endswith(".part") for p in (cache / "downloads").iterdir())


def test_an_html_page_is_refused_and_nothing_stays(tmp_path, server, official, online):
    server.files["/ckpt.pt"] = official
    server.html = True
    cache = tmp_path / "zoo"
    result = online(cache, _entry(server.url + "/ckpt.pt"), "load")
    assert result["error"] == "SourceVerificationError", result
    assert "web page" in result["message"] and server.url + "/ckpt.pt" in result["message"]
    assert f"ezclip-zoo download {NAME} --source FILE" in result["message"]
    assert not list((cache / "downloads").iterdir()) and not (cache / "checkpoints" / NAME).exists()


def test_a_changed_official_release_file_is_refused_on_forced_refetch(tmp_path, server, official, parity_dir, online):
    from ezclip_zoo.official.checkpoint import read_official_state_dict

    server.files["/ckpt.pt"] = official
    cache = tmp_path / "zoo"
    entry = _entry(server.url + "/ckpt.pt")
    assert online(cache, entry, "download").get("ok")
    before = json.loads((cache / "checkpoints" / f"{NAME}.source.json").read_text())

    sd = read_official_state_dict(parity_dir / "official_checkpoint.pt")
    sd["visual.transformer.T_prompt_embeddings"] = sd["visual.transformer.T_prompt_embeddings"] + 1
    changed = tmp_path / "changed.pt"
    torch.save({"model_state_dict": sd}, changed)
    server.files["/ckpt.pt"] = changed.read_bytes()
    result = online(cache, entry, "download", force=True)
    assert result["error"] == "ChecksumError", result
    assert before["source_sha256"] in result["message"] and sha256_file(changed) in result["message"]
    assert not [p for p in (cache / "downloads").iterdir()]  # the new file is gone
    after = json.loads((cache / "checkpoints" / f"{NAME}.source.json").read_text())
    assert after == before  # the record survives the re-fetch
    result = online(cache, entry, "load", offline=True)
    assert result.get("ok"), result  # the verified folder is still there


def test_an_entry_sha256_is_enforced(tmp_path, server, official, online):
    server.files["/ckpt.pt"] = official
    cache = tmp_path / "zoo"
    entry = _entry(server.url + "/ckpt.pt", sha256="0" * 64)
    result = online(cache, entry, "load")
    assert result["error"] == "ChecksumError" and "0" * 64 in result["message"], result
    assert not list((cache / "downloads").iterdir()) and not (cache / "checkpoints" / NAME).exists()


@pytest.mark.subprocess
@pytest.mark.slow
def test_two_processes_loading_at_once_download_once(tmp_path, server, official, parity_dir):
    server.files["/ckpt.pt"] = official
    server.chunk_delay = 0.02  # long enough for both processes to be at the lock together
    cache = tmp_path / "zoo"
    entry = _entry(server.url + "/ckpt.pt")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(DRIVER),
                str(_spec_file(tmp_path, _load_spec(parity_dir, entry, tmp_path / f"{i}.st"))),
            ],
            env=_env(cache),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = [_result(*p.communicate(timeout=300)) for p in procs]
    assert all(r.get("ok") for r in results), results
    assert server.complete_gets("/ckpt.pt") == 1
    torch.testing.assert_close(_logits(tmp_path / "0.st"), _logits(tmp_path / "1.st"), atol=0, rtol=0)


@pytest.mark.subprocess
@pytest.mark.slow
def test_no_network_is_one_line_with_the_fix(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ckpt.pt"
    cache = tmp_path / "zoo"
    start = time.monotonic()
    result = drive(tmp_path, cache, entries={NAME: _entry(url)}, action="cli", argv=["download", NAME, "--no-progress"])
    elapsed = time.monotonic() - start
    assert result["rc"] == 1
    lines = result["stderr"].strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("ezclip-zoo download: error: cannot download the authors' tiny-official checkpoint")
    assert url in lines[0] and f"ezclip-zoo download {NAME} --source FILE" in lines[0]
    assert "Retrying" not in result["stderr"] and elapsed < 60


def test_download_source_file_by_hand_needs_no_network(tmp_path, monkeypatch, parity_dir, parity_ref, capsys):
    from ezclip_zoo.cli import main

    monkeypatch.setenv("EZCLIP_ZOO_CACHE", str(tmp_path / "zoo"))
    # the smallest entry: an architecture and where the release is; everything else has defaults
    ezclip_zoo.register_pretrained(
        NAME, {"architecture": "ezclip-test-tiny", "official_release": {"url": "http://127.0.0.1:9/never-used.pt"}}
    )
    try:
        assert main(["download", NAME, "--source", str(parity_dir / "official_checkpoint.pt"), "--no-progress"]) == 0
        assert (parity_dir / "official_checkpoint.pt").is_file()  # the user's own file is never deleted
        model = ezclip_zoo.load(NAME)  # offline suite: straight from the zoo cache
        with torch.no_grad():
            logits = model(parity_ref["frames"], parity_ref["text_tokens"])
        torch.testing.assert_close(logits, _reference_logits(parity_dir, parity_ref), atol=1e-5, rtol=1e-5)
        capsys.readouterr()
        assert main(["cache"]) == 0
        folder = tmp_path / "zoo" / "checkpoints" / NAME
        size = sum(p.stat().st_size for p in folder.iterdir())
        row = [line for line in capsys.readouterr().out.splitlines() if NAME in line]
        assert row and f"{size / 1e6:.1f} MB" in row[0] and " ok " in row[0], row
        (folder / "model.safetensors").write_bytes(b"damaged")
        assert main(["cache"]) == 0
        assert "damaged" in capsys.readouterr().out
        assert main(["cache", "remove", NAME]) == 0
        assert not (tmp_path / "zoo" / "checkpoints" / NAME).exists()
    finally:
        _USER_ENTRIES.pop(NAME, None)


def test_drive_failures_name_the_cause_and_the_fix():
    import requests
    from gdown.exceptions import FileURLRetrievalError

    from ezclip_zoo.fetch.download import explain_failure

    finish = "ezclip-zoo download x --source FILE"
    quota = FileURLRetrievalError(
        "Failed to retrieve file url:\n\n\tToo many users have viewed or downloaded this file recently. Please try "
        "accessing the file again later.\n\nYou may still be able to access the file from the browser:"
    )
    err = explain_failure(quota, what="the file", url=None, drive_id="ABC123", finish=finish)
    assert "quota" in str(err) and "https://drive.google.com/uc?id=ABC123" in str(err) and finish in str(err)
    private = FileURLRetrievalError(
        "Cannot retrieve the public link of the file. You may need to change the "
        "permission to 'Anyone with the link', or have had many accesses."
    )
    err = explain_failure(private, what="the file", url=None, drive_id="ABC123", finish=finish)
    assert "not shared" in str(err) and "removed" in str(err)
    response = requests.Response()
    response.status_code = 404
    err = explain_failure(
        requests.HTTPError(response=response), what="the file", url="http://h/x", drive_id=None, finish=finish
    )
    assert "HTTP 404" in str(err) and "http://h/x" in str(err)
    assert isinstance(err, FileNotFoundError)  # a WeightsUnavailableError: callers catch one type


def test_disk_full_is_a_clear_error_and_frees_the_partial_file(tmp_path, server, official, monkeypatch):
    import gdown  # noqa: F401  (gdown.download is the function; its module is in sys.modules)

    gdown_download = sys.modules["gdown.download"]

    from ezclip_zoo.errors import DownloadError
    from ezclip_zoo.fetch.download import download_file, partial_files

    server.files["/ckpt.pt"] = official
    real_open = open

    class FullDisk:
        def __init__(self, handle):
            self._handle, self._written = handle, 0

        def write(self, chunk):
            if self._written + len(chunk) > 4096:
                raise OSError(errno.ENOSPC, "No space left on device")
            self._written += len(chunk)
            return self._handle.write(chunk)

        def __getattr__(self, name):
            return getattr(self._handle, name)

    def full_disk_open(path, mode="r", *args, **kwargs):  # gdown's write layer: the partial file it opens
        handle = real_open(path, mode, *args, **kwargs)
        return FullDisk(handle) if "a" in mode or "w" in mode else handle

    monkeypatch.setattr(gdown_download, "open", full_disk_open, raising=False)
    dest = tmp_path / "dl" / "x.pt"
    with pytest.raises(DownloadError, match="disk full") as info:
        download_file(dest, url=server.url + "/ckpt.pt", what="the file", finish="F", progress=False)
    assert "EZCLIP_ZOO_CACHE" in str(info.value)
    assert not dest.exists() and not partial_files(dest)
