"""One file of a Hugging Face Hub repo as a local path: from the cache when it is there, downloaded otherwise.

huggingface_hub asks the server before using a cached file of a branch and, with no network, retries for most
of a minute before falling back. Here a cached file is used when the Hub cannot be reached, offline mode never
touches the network, and an unreachable Hub is one quick error naming the file and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import FileNotInRepoError, WeightsUnavailableError
from ..fetch.network import hub_endpoint, offline, unreachable_reason

__all__ = ["hub_file", "cached_hub_file", "hf_download_command", "remove_from_hub_cache"]

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def hf_download_command(repo_id: str, filenames: list[str], revision: str | None = None) -> str:
    """The ``hf download`` command line (huggingface_hub's CLI) that puts these files into the Hub cache."""
    rev = f" --revision {revision}" if revision else ""
    return f"hf download {repo_id.strip('/')} {' '.join(filenames)}{rev}"


def cached_hub_file(repo_id: str, filename: str, revision: str | None, cache_dir: str | None) -> Path | None:
    """The cached copy of ``filename`` at ``revision`` (None: the main branch), or None; no network."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision)
    return Path(found) if isinstance(found, str) else None


def hub_file(
    repo_id: str,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | None = None,
    local_files_only: bool | None = None,
    what: str | None = None,
) -> Path:
    """Local path of ``filename`` in Hub repo ``repo_id``.

    Raises:
        WeightsUnavailableError: offline or unreachable and not cached, or absent from the repo; the message
            has the ``hf download`` command that fixes it.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo_id = repo_id.strip("/")
    label = what or f"{filename} of Hub repo {repo_id!r} (revision {revision or 'main'})"
    fix = (
        f"Fix: connect and retry with HF_HUB_OFFLINE unset, or on a connected machine run "
        f"`{hf_download_command(repo_id, [filename], revision)}` and copy the Hugging Face cache, or use "
        "`ezclip-zoo download NAME --to DIR` there and load(DIR) here"
    )
    is_offline = offline(local_files_only)
    pinned = revision is not None and _COMMIT.match(revision) is not None
    # a pinned commit in the cache is read by huggingface_hub without any request; anything else asks the
    # server first, which with no network means a minute of retries: probe once, quickly, instead
    if not is_offline and not (pinned and cached_hub_file(repo_id, filename, revision, cache_dir)):
        reason = unreachable_reason(hub_endpoint())
        if reason is not None:
            cached = cached_hub_file(repo_id, filename, revision, cache_dir)
            if cached is not None:
                return cached
            raise WeightsUnavailableError(
                f"{label} is not in the local cache and the Hub cannot be reached: {reason}. {fix}"
            )
    try:
        return Path(
            hf_hub_download(
                repo_id,
                filename,
                revision=revision,
                cache_dir=cache_dir,
                local_files_only=is_offline,
                library_name="ezclip-zoo",
            )
        )
    except LocalEntryNotFoundError as exc:
        raise WeightsUnavailableError(
            f"{label} is not in the local cache and cannot be downloaded now (offline: HF_HUB_OFFLINE or "
            f"local_files_only, or no network). {fix}"
        ) from exc
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind = FileNotInRepoError if isinstance(exc, EntryNotFoundError) else WeightsUnavailableError
        raise kind(f"cannot get {label}: {first}") from exc


def remove_from_hub_cache(path: Path) -> None:
    """Delete a downloaded file from the Hub cache (its snapshot link and the blob), so the next call fetches it
    again instead of finding the same damaged bytes."""
    path = Path(path)
    blob = path.resolve()
    for p in {path, blob}:
        try:
            p.unlink()
        except FileNotFoundError:
            pass
