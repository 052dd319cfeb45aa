"""Checkpoints not (yet) on the Hub: fetch the official release (the authors' file) once, verify it, convert it
into the zoo cache.

The authors publish whole-model ``torch.save`` files (Google Drive) and no checksum, so the content is what is
verified: read with ``weights_only=True``, architecture and keys as the entry's architecture, and the CLIP inside
equal to open_clip's pretrained backbone to float16 precision. The sha256 of the downloaded file and of the
converted weights is recorded beside the folder and kept across re-fetches, so a release file that changes is
noticed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..digest import sha256_file
from ..errors import ChecksumError, SourceVerificationError, WeightsUnavailableError
from ..fetch.download import browser_url, download_file, drop_partials
from ..fetch.network import offline
from .cache import (
    SourceRecord,
    cached_checkpoint,
    checkpoint_dir,
    downloads_dir,
    lock_path,
    read_record,
    write_record,
)
from .pretrained import has_official_release

if TYPE_CHECKING:
    from ..modeling.config import EZCLIPConfig

__all__ = ["fetch_official_release", "ensure_official_release"]

PathLike = str | os.PathLike


def _origin(release: dict[str, Any]) -> tuple[str | None, str | None]:
    """(url, drive_id) of an entry's ``official_release``: an explicit ``url`` wins over the Drive id."""
    if release.get("url"):
        return str(release["url"]), None
    return None, str(release["google_drive_id"])


def ensure_official_release(
    name: str,
    entry: dict[str, Any],
    *,
    local_files_only: bool | None = None,
    verify_backbone: bool = True,
    cache_dir: str | None = None,
    progress: bool = True,
) -> Path:
    """The cached, converted folder of ``name``, fetching and converting its official release first if needed (see
    `fetch_official_release`)."""
    folder = cached_checkpoint(name)
    if folder is not None:
        return folder
    if offline(local_files_only):
        raise WeightsUnavailableError(
            f"checkpoint {name!r} is not in the zoo cache ({checkpoint_dir(name)}) and downloads are off "
            f"(HF_HUB_OFFLINE / local_files_only). Fix: connect and retry, or on a connected machine run "
            f"`ezclip-zoo download {name} --to DIR`, copy DIR here and load it with ezclip_zoo.load('DIR')"
        )
    return fetch_official_release(name, entry, verify_backbone=verify_backbone, cache_dir=cache_dir, progress=progress)


def fetch_official_release(
    name: str,
    entry: dict[str, Any],
    *,
    force: bool = False,
    source_file: PathLike | None = None,
    keep_source: bool = False,
    verify_backbone: bool = True,
    cache_dir: str | None = None,
    progress: bool = True,
) -> Path:
    """Download the official release of ``name`` (the authors' file), verify it and convert it into the zoo cache;
    returns the folder.

    One process at a time per name (a file lock): a second one waits and then finds the folder made.

    Args:
        name / entry: the checkpoint and its ``checkpoints.json`` entry (with ``official_release``).
        force: fetch and convert again even if a good folder is cached (the record is kept and checked).
        source_file: an authors' file already on disk (downloaded by hand) instead of downloading.
        keep_source: keep the downloaded file in ``downloads/`` after converting (deleted by default).
        verify_backbone: compare the CLIP inside the file with open_clip's pretrained one (downloads it).
        cache_dir: Hugging Face cache for the backbone used by the verification.
        progress: progress bars on stderr.

    Raises:
        DownloadError: the download failed (the message has a browser URL and the command that finishes).
        ChecksumError: the file's sha256 differs from ``official_release.sha256`` or from the one recorded before.
        SourceVerificationError / UnsafeFileError / ValueError: the file is not this checkpoint.
    """
    from filelock import FileLock

    if not has_official_release(entry) and source_file is None:
        raise ValueError(
            f"checkpoint {name!r} names no official release (official_release.url or official_release.google_drive_id)"
        )
    lock = lock_path(name)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        if not force and source_file is None:
            folder = cached_checkpoint(name)
            if folder is not None:  # made by another process while this one waited
                return folder
        return _fetch_locked(
            name,
            entry,
            force=force,
            source_file=source_file,
            keep_source=keep_source,
            verify_backbone=verify_backbone,
            cache_dir=cache_dir,
            progress=progress,
        )


def _fetch_locked(
    name: str,
    entry: dict[str, Any],
    *,
    force: bool,
    source_file: PathLike | None,
    keep_source: bool,
    verify_backbone: bool,
    cache_dir: str | None,
    progress: bool,
) -> Path:
    release = entry.get("official_release") or {}
    finish = f"ezclip-zoo download {name} --source FILE"
    if source_file is not None:
        path, label, downloaded = Path(source_file), f"file:{os.path.abspath(source_file)}", False
        if not path.is_file():
            raise FileNotFoundError(f"source file {os.fspath(source_file)!r} does not exist")
    else:
        url, drive_id = _origin(release)
        label = url or f"gdrive:{drive_id}"
        path, downloaded = downloads_dir() / f"{name}.pt", True
        if force:
            path.unlink(missing_ok=True)
            drop_partials(path)
        _announce(name, entry, url=url, drive_id=drive_id, progress=progress)
        download_file(
            path, url=url, drive_id=drive_id, what=f"the authors' {name} checkpoint", finish=finish, progress=progress
        )
    try:
        folder, record = _verify_and_convert(
            name,
            entry,
            path,
            label,
            verify_backbone=verify_backbone,
            cache_dir=cache_dir,
            progress=progress,
            finish=finish,
        )
    except WeightsUnavailableError:
        raise  # the backbone for the check could not be fetched: the source is fine, keep it for the next try
    except Exception:
        if downloaded:
            path.unlink(missing_ok=True)  # not this checkpoint: nothing usable-looking stays behind
        raise
    write_record(record)
    if downloaded and not keep_source:
        path.unlink(missing_ok=True)
    return folder


def _announce(name: str, entry: dict[str, Any], *, url: str | None, drive_id: str | None, progress: bool) -> None:
    if not progress:
        return
    from .pretrained import expected_backbone_bytes, expected_source_bytes, expected_weights_bytes

    where = url or f"Google Drive file {drive_id}"
    backbone, _ = _conversion_backbone(entry)
    clip = (
        "the CLIP travels inside the converted folder"
        if backbone == "embed"
        else f"the frozen CLIP ({backbone.replace(':', ' / ')}, about {expected_backbone_bytes(entry) / 1e6:.0f} MB "
        "unless already cached) comes from open_clip, which caches it and shares it with other models"
    )
    print(
        f"ezclip-zoo: {name} is not on the Hugging Face Hub yet, so it comes from the authors' release "
        f"({where}): about {expected_source_bytes(entry) / 1e6:.0f} MB once, converted into "
        f"{checkpoint_dir(name)} (keeps {expected_weights_bytes(entry) / 1e6:.1f} MB); {clip}.",
        file=sys.stderr,
    )


def _check_not_html(path: Path, browser: str, finish: str) -> None:
    with open(path, "rb") as f:
        head = f.read(512).lstrip().lower()
    if head.startswith(b"<"):  # torch files start with "PK" (zip) or a pickle opcode, never with markup
        raise SourceVerificationError(
            f"the server sent a web page instead of the checkpoint (often a sign-in, quota or virus-scan page). "
            f"Download it in a browser from {browser}, then run `{finish}`"
        )


def _verify_and_convert(
    name: str,
    entry: dict[str, Any],
    path: Path,
    label: str,
    *,
    verify_backbone: bool,
    cache_dir: str | None,
    progress: bool,
    finish: str,
) -> tuple[Path, SourceRecord]:
    from tqdm.auto import tqdm

    from .._version import __version__
    from ..official.checkpoint import official_config, read_official_state_dict
    from .conversion import convert_official

    release = entry.get("official_release") or {}
    url, drive_id = _origin(release) if has_official_release(entry) else (None, None)
    browser = browser_url(url=url, drive_id=drive_id) if (url or drive_id) else os.fspath(path)
    steps = tqdm(total=4, desc=f"converting {name}", unit="step", file=sys.stderr, disable=not progress)
    try:
        _check_not_html(path, browser, finish)
        digest, size = sha256_file(path), path.stat().st_size
        expected = release.get("sha256")
        if expected and digest != expected:
            raise ChecksumError(
                f"the authors' file for {name} ({label}) has sha256 {digest}, but checkpoints.json "
                f"expects {expected}: damaged, or replaced in the authors' release; nothing was cached"
            )
        previous = read_record(name)
        if previous is not None and previous.source_sha256 != digest:
            raise ChecksumError(
                f"the authors' file for {name} changed: sha256 {digest} now ({label}), {previous.source_sha256} "
                f"when it was first fetched ({previous.source}). The cached checkpoint is kept as it was; if the "
                f"new file is wanted, run `ezclip-zoo cache remove {name}` and download again"
            )
        steps.update()
        state_dict = read_official_state_dict(path)
        _check_architecture(name, entry, official_config(state_dict))
        steps.update()
        backbone, verify = _conversion_backbone(entry)
        root = checkpoint_dir(name).parent
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f".{name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            report = convert_official(
                state_dict,
                tmp,
                name=name,
                backbone=backbone,
                verify_backbone=verify and verify_backbone,
                cache_dir=cache_dir,
            )
            steps.update()
            folder = _replace_folder(tmp, checkpoint_dir(name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        steps.update()
    finally:
        steps.close()
    record = SourceRecord(
        name=name,
        source=label,
        source_sha256=digest,
        source_bytes=size,
        weights_sha256=report.sha256,
        backbone=report.backbone,  # the converter hashed what it wrote
        verified_backbone=bool(report.verified),
        library_version=__version__,
    )
    return folder, record


def _replace_folder(new: Path, target: Path) -> Path:
    """Put ``new`` at ``target`` by renames, so ``target`` is never half-written."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _conversion_backbone(entry: dict[str, Any]) -> tuple[str, bool]:
    """('MODEL:TAG', True) when the architecture's CLIP is an open_clip pretrained tag, else ('embed', False):
    a backbone with no tag has nothing to verify against and travels inside the folder."""
    from .registry import get_model_config

    backbone = get_model_config(entry["architecture"]).backbone
    if backbone.model is not None and backbone.pretrained is not None:
        return f"{backbone.model}:{backbone.pretrained}", True
    return "embed", False


def _check_architecture(name: str, entry: dict[str, Any], found: EZCLIPConfig) -> None:
    """Raise unless the file's inferred architecture is the entry's (backbone shapes, frames, prompts, adapters)."""
    from ..modeling.backbone import backbone_model_cfg
    from .conversion import architecture_key
    from .registry import get_model_config

    want = get_model_config(entry["architecture"])
    want_frames = entry.get("num_frames", want.num_frames)
    problems = []
    found_cfg = found.backbone.model_cfg
    assert found_cfg is not None  # official_config describes the checkpoint's CLIP by its open_clip config
    if architecture_key(backbone_model_cfg(want.backbone)) != architecture_key(found_cfg):
        problems.append(f"CLIP {found.backbone.model_cfg} instead of {want.backbone.name}")
    if found.num_frames != want_frames:
        problems.append(f"{found.num_frames} frames instead of {want_frames}")
    if found.temporal_prompts != want.temporal_prompts:
        problems.append(f"temporal prompts {'on' if found.temporal_prompts else 'off'}")
    if abs(found.adapter_ratio - want.adapter_ratio) > 1e-6:
        problems.append(f"adapter ratio {found.adapter_ratio:g} instead of {want.adapter_ratio:g}")
    if problems:
        raise SourceVerificationError(
            f"the downloaded file is not the {name} checkpoint ({entry['architecture']}): {'; '.join(problems)}"
        )
