"""Optional decoding backend on torchcodec (``pip install "ezclip-zoo[torchcodec]"``; needs FFmpeg 4-8 libraries
installed on the system, unlike PyAV which bundles its own). Same interface as `PyAVReader`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import TorchCodecUnavailableError, VideoDecodeError
from .source import VideoSource

if TYPE_CHECKING:
    from torchcodec.decoders import VideoDecoder

__all__ = ["TorchCodecReader"]


def _decoder_class() -> type[VideoDecoder]:
    try:
        from torchcodec.decoders import VideoDecoder
    except Exception as exc:  # ImportError, or OSError/RuntimeError when its FFmpeg libraries are missing
        raise TorchCodecUnavailableError(
            f"the torchcodec backend is not usable here ({type(exc).__name__}: {str(exc)[:200]}). Install it with "
            '`pip install "ezclip-zoo[torchcodec]"` plus FFmpeg\'s shared libraries (e.g. `apt install ffmpeg`), '
            "or use the default backend='pyav'"
        ) from exc
    return VideoDecoder


class TorchCodecReader:
    """Exact frame access with torchcodec's ``VideoDecoder`` (``seek_mode="exact"``, which scans the file).

    torchcodec picks between seeking and decoding on by itself, so only ``strategy="auto"`` is accepted; frames come
    back already rotated by the display matrix, like `PyAVReader`'s.
    """

    def __init__(self, source: VideoSource, *, threads: int = 1) -> None:
        decoder_class = _decoder_class()
        self.source = source
        opened = source.open()  # the path, or a file object: torchcodec takes a path or the bytes
        data = opened if isinstance(opened, str) else opened.read()
        try:
            self._decoder = decoder_class(data, dimension_order="NHWC", seek_mode="exact", num_ffmpeg_threads=threads)
            meta = self._decoder.metadata
            self.num_frames = int(meta.num_frames or 0)
        except Exception as exc:
            raise VideoDecodeError(
                f"cannot open video {source.name} with torchcodec: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            ) from exc
        if self.num_frames < 1:
            raise VideoDecodeError(f"video {source.name} has no frame")
        self.keyframes = (0,)
        self._meta = meta

    def choose_strategy(self, indices: Sequence[int]) -> str:
        return "torchcodec"

    def decode(
        self,
        indices: Sequence[int],
        *,
        strategy: str = "auto",
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> tuple[list[Any], str]:
        """Same contract as `PyAVReader.decode`; returns (frames, ``"torchcodec"``)."""
        if strategy != "auto":
            raise ValueError(f"the torchcodec backend chooses its own strategy; pass strategy='auto', not {strategy!r}")
        indices = [int(i) for i in indices]
        bad = [i for i in indices if not 0 <= i < self.num_frames]
        if not indices or bad:
            raise ValueError(f"frame indices {bad[:5] or indices} are outside [0, {self.num_frames})")
        wanted = sorted(set(indices))
        try:
            batch = self._decoder.get_frames_at(wanted).data  # [N, H, W, 3] uint8, rotation applied
        except Exception as exc:
            raise VideoDecodeError(
                f"decoding video {self.source.name} with torchcodec failed: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        if transform is None:
            got = {w: batch[i] for i, w in enumerate(wanted)}
        else:
            got = {w: transform(batch[i].numpy()) for i, w in enumerate(wanted)}
        return [got[i] for i in indices], "torchcodec"
