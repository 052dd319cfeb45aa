"""Fetch one file from a URL or a Google Drive id with gdown, resumably, into ``<dest>`` only once complete.

gdown writes to ``<dest><8 random chars>.part`` and renames it when the announced length has arrived; resuming
sends ``Range`` with ``If-Range``, so a file that changed on the server is never spliced onto old bytes. On top of it
this module retries while bytes keep arriving (a cut connection resumes) and fails at once when nothing arrives
(no network: one line, not a minute of retries), and turns every failure into a message with the fix.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

from ..errors import DownloadError

__all__ = ["download_file", "partial_files", "drop_partials", "browser_url", "explain_failure"]

_ATTEMPTS = 6  # attempts in a row that each made progress; a stalled one ends the loop at once
_TIMEOUT = (10.0, 60.0)  # seconds to connect, and between bytes


def browser_url(*, url: str | None = None, drive_id: str | None = None) -> str:
    """The address a person can open in a browser to download the same file by hand."""
    return f"https://drive.google.com/uc?id={drive_id}&export=download" if drive_id else str(url)


def partial_files(dest: Path) -> list[Path]:
    """gdown's partial files of ``dest`` (``<name><8 chars>.part``)."""
    if not dest.parent.is_dir():
        return []
    n = len(dest.name) + 8 + len(".part")
    return [
        p
        for p in dest.parent.iterdir()
        if p.name.startswith(dest.name) and p.name.endswith(".part") and len(p.name) == n
    ]


def drop_partials(dest: Path) -> None:
    """Delete the partial files of ``dest`` (a fresh start, or room on a full disk)."""
    for part in partial_files(dest):
        part.unlink(missing_ok=True)


def _received(dest: Path) -> int:
    return sum(p.stat().st_size for p in partial_files(dest))


def explain_failure(
    exc: BaseException, *, what: str, url: str | None, drive_id: str | None, finish: str
) -> DownloadError:
    """A `DownloadError` naming the cause of ``exc`` (a gdown, requests or OS error) and the fix.

    ``finish`` is the one command that completes the job from a file downloaded by hand.
    """
    import requests
    from gdown.exceptions import FileURLRetrievalError

    where = browser_url(url=url, drive_id=drive_id)
    by_hand = f"Download it in a browser from {where}, then run `{finish}`"
    text = str(exc)
    if isinstance(exc, OSError) and getattr(exc, "errno", None) == errno.ENOSPC:
        return DownloadError(
            f"disk full while downloading {what}: free some space (or point EZCLIP_ZOO_CACHE at "
            "a larger disk) and run the same command again"
        )
    if isinstance(exc, FileURLRetrievalError):
        lowered = text.lower()
        if "too many users" in lowered or "quota" in lowered:
            cause = "Google Drive's download quota for this file is used up for now (it resets within 24 hours)"
        elif "permission" in lowered or "public link" in lowered:
            cause = "Google Drive refuses the file: it is not shared with 'anyone with the link', or was removed"
        else:
            cause = f"Google Drive did not hand out the file ({' '.join(text.split())[:200]})"
        return DownloadError(f"cannot download {what}: {cause}. {by_hand}")
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        cause = {
            401: "permission denied",
            403: "permission denied",
            404: "the file is not there (removed?)",
            410: "the file was removed",
            429: "too many requests for now",
        }.get(status, "the server refused")
        return DownloadError(f"cannot download {what}: HTTP {status}, {cause}. {by_hand}")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        reason = getattr(exc.__context__, "reason", None) or exc
        first = " ".join(str(reason).split())[:160]
        return DownloadError(f"cannot download {what}: no connection to {where} ({first}). {by_hand}")
    return DownloadError(f"cannot download {what}: {' '.join(text.split())[:300]}. {by_hand}")


def download_file(
    dest: Path,
    *,
    url: str | None = None,
    drive_id: str | None = None,
    what: str,
    finish: str,
    progress: bool = True,
) -> Path:
    """Download ``url`` (or Drive file ``drive_id``) to ``dest``; an existing ``dest`` is taken as complete.

    Args:
        dest: the final path; bytes go to a ``.part`` beside it until the transfer is whole.
        url / drive_id: exactly one source.
        what: how messages name the file ("the authors' ezclip-b16-k400 checkpoint").
        finish: the command that completes the job from a hand-downloaded file (quoted in errors).
        progress: a tqdm bar on stderr.

    Raises:
        DownloadError: no network, refused or removed file, Drive quota, disk full, or a transfer that stops
            making progress; the partial file is kept for the next attempt (except on a full disk).
    """
    import gdown
    from tqdm.auto import tqdm

    if (url is None) == (drive_id is None):
        raise ValueError("download_file needs exactly one of url= or drive_id=")
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        desc=dest.name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not progress,
        initial=_received(dest),
    )

    def on_chunk(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    before = _received(dest)
    restarted = False
    try:
        for _ in range(_ATTEMPTS):
            try:
                gdown.download(
                    url=url,
                    id=drive_id,
                    output=str(dest),
                    quiet=True,
                    resume=True,
                    progress=on_chunk,
                    timeout=_TIMEOUT,
                    use_cookies=False,
                )
                return dest
            except Exception as exc:  # noqa: BLE001 - classified below
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    drop_partials(dest)
                    raise explain_failure(exc, what=what, url=url, drive_id=drive_id, finish=finish) from None
                if "did not honor the requested byte range" in str(exc) and not restarted:
                    # a server without Range support: the partial bytes cannot be continued, start over once
                    drop_partials(dest)
                    restarted, before = True, 0
                    bar.reset()
                    continue
                now = _received(dest)
                if now <= before or not _resumable(exc):
                    raise explain_failure(exc, what=what, url=url, drive_id=drive_id, finish=finish) from exc
                before = now  # progress was made: resume from the partial file
        raise DownloadError(
            f"cannot download {what}: the transfer broke off {_ATTEMPTS} times; run the same "
            f"command again to resume, or download by hand from "
            f"{browser_url(url=url, drive_id=drive_id)} and run `{finish}`"
        )
    finally:
        bar.close()


def _resumable(exc: BaseException) -> bool:
    import requests
    from gdown.exceptions import DownloadError as GdownDownloadError
    from gdown.exceptions import FileURLRetrievalError

    if isinstance(exc, FileURLRetrievalError):
        return False
    return isinstance(
        exc, (GdownDownloadError, requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
    )
