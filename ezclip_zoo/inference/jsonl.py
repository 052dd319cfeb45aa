"""A JSON Lines results file that can be resumed: done videos are skipped, a torn last line is repaired.

Every record is one line written and flushed as soon as its video is done, so an interrupted run loses at most
the batch in flight. Records carry the video's resolved ``path`` (the resume key) and a ``setup`` hash of the
model, labels and options; resuming with a different setup is refused instead of mixing incompatible results.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ResultsFile", "read_jsonl", "video_key"]


def video_key(source: str | os.PathLike) -> str:
    """The resume key of a video path: its absolute, symlink-resolved path."""
    return os.path.realpath(os.fspath(source))


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All complete records of a JSON Lines file (a torn last line is ignored)."""
    return [record for record, _ in _records(Path(path))]


def _records(path: Path) -> Iterator[tuple[dict[str, Any], int]]:
    """(record, byte offset just past its line) for each valid line, stopping at the first invalid one."""
    offset = 0
    with open(path, "rb") as f:
        for line in f:
            end = offset + len(line)
            if not line.endswith(b"\n"):
                return  # torn last line of an interrupted run
            text = line.strip()
            if text:
                try:
                    record = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError(
                        f"{path} line at byte {offset} is not JSON; it is not a results file of ezclip-zoo (or was "
                        "edited); choose another output file"
                    ) from None
                if not isinstance(record, dict):
                    raise ValueError(f"{path} holds a non-object JSON line at byte {offset}; not a results file")
                yield record, end
            offset = end


class ResultsFile:
    """Append-only JSON Lines output with resume.

    Args:
        path: the ``.jsonl`` file (created with its folder if missing).
        setup: hash of everything that determines the results (model, labels, options).
        resume: keep existing records and skip their videos (False: start the file afresh).
        retry_errors: with ``resume``, drop the error records so those videos are tried again.

    Raises:
        ValueError: the existing file was written with another setup, or is not a results file.
    """

    def __init__(self, path: str | os.PathLike, setup: str, *, resume: bool = True, retry_errors: bool = False) -> None:
        self.path = Path(path)
        self.setup = setup
        self.done: set[str] = set()
        self.errors_dropped = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._load(retry_errors)
        else:
            self.path.write_bytes(b"")
        self._file = open(self.path, "ab")

    def _load(self, retry_errors: bool) -> None:
        keep: list[bytes] = []
        good_end = 0
        dropped_errors = False
        for record, end in _records(self.path):
            good_end = end
            other = record.get("setup")
            if other != self.setup:
                raise ValueError(
                    f"{self.path} holds results of another model, label set or options (setup {other!r}, this run "
                    f"{self.setup!r}); write to a new output file, or delete it / pass overwrite to start over"
                )
            if retry_errors and "error" in record:
                dropped_errors = True
                self.errors_dropped += 1
                continue
            if "path" in record:
                self.done.add(record["path"])
            keep.append((json.dumps(record, ensure_ascii=False) + "\n").encode())
        size = self.path.stat().st_size
        if dropped_errors:
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_bytes(b"".join(keep))
            os.replace(tmp, self.path)  # atomic: the old file stays intact until the new one is complete
        elif good_end < size:
            warnings.warn(
                f"{self.path}: dropped an incomplete last line ({size - good_end} bytes) left by an interrupted run; "
                "that video is done again",
                stacklevel=3,
            )
            with open(self.path, "r+b") as f:
                f.truncate(good_end)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (``setup`` added) and flush it to the OS."""
        record = {**record, "setup": self.setup}
        self._file.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
        self._file.flush()
        if "path" in record:
            self.done.add(record["path"])

    def close(self) -> None:
        """Close the file (idempotent); every record written is already flushed."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_done(self, source: str | os.PathLike) -> bool:
        """Whether the file already holds a record (result or error) for ``source``."""
        return video_key(source) in self.done

    def __len__(self) -> int:
        return len(self.done)

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record in the file, read anew from disk (`read_jsonl`)."""
        return read_jsonl(self.path)

    def __repr__(self) -> str:
        return f"ResultsFile({str(self.path)!r}, {len(self.done)} done)"


def optional_results_file(path: str | os.PathLike | None, setup: str, **kwargs: Any) -> ResultsFile | None:
    return ResultsFile(path, setup, **kwargs) if path is not None else None
