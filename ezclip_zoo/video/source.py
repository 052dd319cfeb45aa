"""Where encoded video bytes come from: a path, bytes, or a file object; opened as often as a reader needs."""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO, Protocol

from ..errors import VideoDecodeError, VideoNotFoundError

__all__ = ["VideoSource", "is_encoded_source"]

EncodedSource = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO


class ReadableFile(Protocol):
    """What `VideoSource.open` gives a decoder when the video is not a path: a readable, seekable binary file."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...

    def tell(self) -> int: ...


def is_encoded_source(obj: Any) -> bool:
    """True for a path, bytes or a readable file object (as opposed to frames in memory)."""
    return isinstance(obj, (str, os.PathLike, bytes, bytearray, memoryview)) or callable(getattr(obj, "read", None))


class VideoSource:
    """An encoded video that can be (re)opened from its start any number of times.

    Args:
        source: a path, the file's bytes, or a binary file object. A file object is read from its current
            position (``tell()``), which is where the video starts: offsets inside it (an MP4's index) count from
            there. Non-seekable file objects (pipes, sockets) are read into memory once, because decoding needs two
            passes (index, then frames).

    Raises:
        TypeError: not a path, bytes or a binary file object (a text-mode file, a number...).
        VideoNotFoundError: the path does not exist.
        VideoDecodeError: the path is a folder, or the file / bytes are empty.
    """

    def __init__(self, source: EncodedSource) -> None:
        self._path: str | None = None
        self._data: bytes | None = None
        self._file: BinaryIO | None = None
        self._start = 0
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            self.name = path
            if not os.path.exists(path):
                raise VideoNotFoundError(f"video file {path!r} does not exist")
            if not os.path.isfile(path):
                raise VideoDecodeError(f"video path {path!r} is not a file")
            if os.path.getsize(path) == 0:
                raise VideoDecodeError(f"video file {path!r} is empty (0 bytes)")
            self._path = path
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._data = bytes(source)
            self.name = f"<{len(self._data)} bytes>"
            if not self._data:
                raise VideoDecodeError("video bytes are empty (0 bytes)")
        elif callable(getattr(source, "read", None)):
            name = getattr(source, "name", None)
            self.name = name if isinstance(name, str) else f"<{type(source).__name__}>"
            mode = getattr(source, "mode", None)
            if isinstance(source, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
                raise TypeError(f"video file object {self.name} is open in text mode; open it with mode 'rb'")
            seekable = getattr(source, "seekable", None)
            if callable(seekable) and seekable():
                self._file = source
                self._start = source.tell()
                source.seek(0, io.SEEK_END)
                empty = source.tell() == self._start
                source.seek(self._start)
            else:
                self._data = source.read()
                empty = not self._data
            if empty:
                raise VideoDecodeError(f"video file object {self.name} is empty (0 bytes)")
        else:
            raise TypeError(
                f"a video source must be a path, bytes or a binary file object, got {type(source).__name__}"
            )

    @property
    def path(self) -> str | None:
        """The file path, when the source is one."""
        return self._path

    def open(self) -> str | ReadableFile:
        """Something `av.open` / torchcodec read from the start: the path, or a file object at its start."""
        if self._path is not None:
            return self._path
        if self._file is not None:
            self._file.seek(self._start)
            return _Window(self._file, self._start) if self._start else self._file
        assert self._data is not None  # neither a path nor a file: bytes
        return io.BytesIO(self._data)

    def head(self, size: int = 12) -> bytes:
        """The first bytes of the file (to recognise a container in error messages)."""
        if self._path is not None:
            with open(self._path, "rb") as f:
                return f.read(size)
        if self._file is not None:
            self._file.seek(self._start)
            data = self._file.read(size)
            self._file.seek(self._start)
            return data
        assert self._data is not None  # neither a path nor a file: bytes
        return self._data[:size]

    def __repr__(self) -> str:
        return f"VideoSource({self.name})"


class _Window:
    """A seekable binary file seen from ``start`` on: position 0 is ``start`` of the underlying file (a video
    embedded in a larger file, or a file object the caller had already read into)."""

    def __init__(self, raw: BinaryIO, start: int) -> None:
        self._raw, self._start = raw, start

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            offset = max(0, offset) + self._start
        return self._raw.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._raw.tell() - self._start
