"""Collections: which of my videos show it. `index_videos` embeds a folder into a resumable on-disk library
(`ezclip_zoo.search.format`), `VideoIndex.open(path).search("someone juggling", k)` finds videos (or windows of
them) by text or by a video."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .approximate import build_ann, recall_at_k
    from .index import APPROXIMATE_FROM, Hit, VideoIndex
    from .indexer import IndexReport, index_videos

__all__ = [
    "APPROXIMATE_FROM",
    "Hit",
    "IndexReport",
    "VideoIndex",
    "build_ann",
    "index_videos",
    "recall_at_k",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".approximate": ("build_ann", "recall_at_k"),
        ".index": ("APPROXIMATE_FROM", "Hit", "VideoIndex"),
        ".indexer": ("IndexReport", "index_videos"),
    },
)
