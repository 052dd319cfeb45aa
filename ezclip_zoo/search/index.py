"""Search a video library by text ("someone juggling") or by a video ("more like this").

Exact search is one matrix product of the query embedding with every row (float32 in memory, 4 bytes x E per
row); ``approximate=True`` (or libraries past `APPROXIMATE_FROM` rows, when faiss is installed: ``pip install
'ezclip-zoo[search]'``) uses a faiss inverted-file index over the same vectors instead.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import torch
import torch.nn.functional as F

from ..errors import LibraryError, UntrainedModelWarning
from ..inference.batch import model_digest
from ..text.cache import text_features
from ..text.labels import build_label_set
from .format import MANIFEST, read_manifest, read_shard

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["Hit", "VideoIndex", "APPROXIMATE_FROM", "load_library_model"]

# Past this many rows (E=512) exact search costs over ~30 ms per query on one CPU thread (README "Search": 167 ms
# at 10^6 rows, 1 ms at 10^4), where the IVF index answers in a few ms.
APPROXIMATE_FROM = 200_000

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Hit:
    """One search result: the video ``path``, the cosine ``score``, and ``start`` / ``end`` in seconds for a window
    of a segment library (None for whole videos)."""

    path: str
    score: float
    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``path`` and ``score``, and ``start`` / ``end`` (seconds) for a window."""
        out: dict[str, Any] = {"path": self.path, "score": self.score}
        if self.start is not None:
            out.update(start=self.start, end=self.end)
        return out


def load_library_model(manifest: dict[str, Any], where: Path) -> EZCLIP:
    """The model a library records (`ezclip_zoo.load` of its source and seed), checked against the recorded weights
    digest by the caller."""
    from ..zoo.loading import load

    record = manifest["model"]
    source = record.get("source")
    if not source:
        raise LibraryError(
            f"library {where} does not record how to load its model: pass the model "
            "(VideoIndex.open(path, model=...)) that indexed it"
        )
    dtype = record.get("dtype")
    try:
        with warnings.catch_warnings():  # an architecture is what the library was indexed with: no news here
            warnings.simplefilter("ignore", UntrainedModelWarning)
            return load(
                source,
                seed=int(record.get("seed", 0)),
                dtype=getattr(torch, dtype.replace("torch.", "")) if dtype else None,
            )
    except Exception as exc:
        raise LibraryError(
            f"library {where} was indexed with model {source!r}, which cannot be loaded here "
            f"({type(exc).__name__}: {exc}); pass the model explicitly"
        ) from exc


class VideoIndex:
    """A library opened for search: ``VideoIndex.open("lib").search("someone juggling", k=10)``.

    Attributes:
        embeddings: float32 [N, E], L2-normalised rows.
        rows: N ``(path, start, end)``.
        manifest: the library's ``library.json``.
    """

    def __init__(
        self,
        folder: Path,
        manifest: dict[str, Any],
        embeddings: torch.Tensor,
        rows: list[tuple],
        model: EZCLIP | None = None,
    ) -> None:
        self.folder, self.manifest, self.embeddings, self.rows = folder, manifest, embeddings, rows
        self._model = model
        self._ann: Any = None  # a faiss index (faiss ships no types), built on first approximate search

    @classmethod
    def open(cls, path: PathLike, *, model: EZCLIP | None = None) -> VideoIndex:
        """Open the library at ``path`` (``model``: the one that indexed it; default: load what it records)."""
        folder = Path(path)
        manifest = read_manifest(folder)
        if manifest is None:
            raise LibraryError(f"{folder} holds no {MANIFEST}: not a video library (make one with ezclip-zoo index)")
        if not manifest.get("complete", False):
            raise LibraryError(
                f"library {folder} is incomplete (an index run was interrupted): run the same "
                "`ezclip-zoo index` again to finish it"
            )
        if model is not None and model_digest(model) != manifest["model"].get("sha256"):
            raise LibraryError(
                f"library {folder} was indexed by another model (weights sha256 "
                f"{manifest['model'].get('sha256')}); pass that model"
            )
        shards: dict[str, tuple[torch.Tensor, list]] = {}
        chunks, rows = [], []
        for path_, entry in sorted(manifest["files"].items()):
            shard = entry["shard"]
            if shard not in shards:
                shards[shard] = read_shard(folder, shard, manifest["dim"])
            emb, shard_rows = shards[shard]
            lo, hi = entry["offset"], entry["offset"] + entry["count"]
            if hi > emb.shape[0] or any(r[0] != path_ for r in shard_rows[lo:hi]):
                raise LibraryError(f"library {folder}: the rows of {path_} are not where {MANIFEST} says; index again")
            chunks.append(emb[lo:hi])
            rows += [tuple(r) for r in shard_rows[lo:hi]]
        dim = manifest["dim"] or 1
        embeddings = torch.cat(chunks).float() if chunks else torch.empty(0, dim)
        return cls(folder, manifest, embeddings, rows, model)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def model(self) -> EZCLIP:
        """The model that indexed the library (loaded on first use)."""
        if self._model is None:
            self._model = load_library_model(self.manifest, self.folder)
            if model_digest(self._model) != self.manifest["model"].get("sha256"):
                raise LibraryError(
                    f"library {self.folder}: {self.manifest['model'].get('source')!r} now gives other "
                    "weights than the ones that indexed it; pass the original model"
                )
        return self._model

    def embed_query(self, query: str | Sequence[str] | Any) -> torch.Tensor:
        """Normalised float32 query embeddings [Q, E]: a string (or list of strings) is text, through the text
        tower; a video (a `pathlib.Path`, bytes, a file object, frames) goes through `embed_video` with the
        library's setup (a plain string is always text: wrap a file name in `Path`)."""
        from ..inference.classification import embed_video

        texts = [query] if isinstance(query, str) else query
        if isinstance(texts, (list, tuple)) and texts and all(isinstance(t, str) for t in texts):
            if any(not t.strip() for t in texts):
                raise ValueError("empty search query: give some text, e.g. 'someone juggling'")
            labels = build_label_set(list(dict.fromkeys(texts)), None, None)
            feats = text_features(self.model, labels)[0]
            order = {t: i for i, t in enumerate(labels.names)}
            return feats[[order[t] for t in texts]]
        if isinstance(texts, (list, tuple)) and not texts:
            raise ValueError("empty search query: no texts given")
        setup = self.manifest["setup"]
        video = embed_video(
            self.model,
            query,
            num_clips=setup.get("num_clips", 1),
            num_crops=setup.get("num_crops", 1),
            protocol=setup.get("protocol", "clip"),
        )
        return F.normalize(video.float().reshape(-1, video.shape[-1]), dim=-1)

    @overload
    def search(self, query: str, k: int = 10, *, approximate: bool | None = None) -> list[Hit]: ...

    @overload
    def search(
        self, query: list[str] | tuple[str, ...], k: int = 10, *, approximate: bool | None = None
    ) -> list[list[Hit]]: ...

    @overload
    def search(self, query: Any, k: int = 10, *, approximate: bool | None = None) -> list[Hit] | list[list[Hit]]: ...

    def search(self, query: Any, k: int = 10, *, approximate: bool | None = None) -> list[Hit] | list[list[Hit]]:
        """The ``k`` best rows for a query: a text, a list of texts (one hit list each), a video, or an embedding
        tensor [E] / [Q, E].

        Args:
            approximate: use the faiss inverted-file index (default: only past `APPROXIMATE_FROM` rows, if faiss is
                there).
        """
        _check_k(k)
        if isinstance(query, torch.Tensor):
            single = query.ndim == 1  # [E] one query, [Q, E] one hit list per row
        else:
            single = not isinstance(query, (list, tuple))  # a text or a video; a list of texts gives lists
        q = (
            F.normalize(query.float().reshape(-1, query.shape[-1]), dim=-1)
            if isinstance(query, torch.Tensor)
            else self.embed_query(query)
        )
        hits = self._nearest(q, k, approximate)
        return hits[0] if single else hits

    def search_video(self, video: Any, k: int = 10, *, approximate: bool | None = None) -> list[Hit]:
        """More like this: the ``k`` rows nearest a video (path or str file name, bytes, frames)."""
        _check_k(k)
        if isinstance(video, str):
            video = Path(video)
        return self._nearest(self.embed_query(video), k, approximate)[0]

    def _nearest(self, q: torch.Tensor, k: int, approximate: bool | None) -> list[list[Hit]]:
        """The ``k`` best rows for each normalised query embedding [Q, E]."""
        if len(self) == 0:
            return [[] for _ in range(q.shape[0])]
        scores, idx = self._top(q, min(k, len(self)), approximate)
        return [
            [self._hit(int(i), float(s)) for s, i in zip(srow, irow, strict=True) if i >= 0]
            for srow, irow in zip(scores.tolist(), idx.tolist(), strict=True)
        ]

    def _top(self, q: torch.Tensor, k: int, approximate: bool | None) -> tuple[torch.Tensor, torch.Tensor]:
        use_ann = approximate if approximate is not None else (len(self) >= APPROXIMATE_FROM and _has_faiss())
        if not use_ann:
            return torch.topk(q @ self.embeddings.T, k, dim=1)
        if self._ann is None:
            from .approximate import build_ann

            self._ann = build_ann(self.embeddings)
        scores, idx = self._ann.search(q.numpy(), k)
        return torch.from_numpy(scores), torch.from_numpy(idx)

    def _hit(self, i: int, score: float) -> Hit:
        path, start, end = self.rows[i]
        return Hit(path=path, score=score, start=start, end=end)


def _check_k(k: object) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")


def _has_faiss() -> bool:
    import importlib.util

    return importlib.util.find_spec("faiss") is not None
