"""Build and update a video library: every video embedded once (or every window of it, with ``segments``),
incremental and resumable.

An update lists the videos, keeps the rows of those unchanged since they were embedded (same size and mtime;
with ``verify_hash`` the same sha256 too), drops those removed or changed, and embeds the rest in sorted order,
writing a shard and then the manifest every ``flush_every`` videos: a killed run loses at most the videos since the
last flush, and the next run carries on. Each video is encoded on its own, in chunks of ``batch_size`` views, so
its embeddings are bit-identical however a run was interrupted.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from ..digest import sha256_file
from ..errors import LibraryError, LocalizationWarning, VideoDecodeError
from ..inference.batch import model_digest
from ..inference.files import find_videos
from ..inference.options import InferenceOptions
from ..inference.views import encode_views, eval_mode, prepare_views
from ..localization.pipeline import open_frames, window_views
from ..localization.windows import plan_windows
from .format import new_manifest, read_manifest, read_shard, write_manifest, write_shard

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["IndexReport", "index_videos", "library_setup"]

PathLike = str | os.PathLike


@dataclass
class IndexReport:
    """What an update did: videos ``added`` (new, embedded now), ``kept`` (unchanged), ``removed`` (gone from the
    folder), ``changed`` (found changed and dropped; embedded again unless listed in ``failed``), ``failed`` (path ->
    error), and the library's ``rows`` in total."""

    added: int = 0
    kept: int = 0
    removed: int = 0
    changed: int = 0
    rows: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def library_setup(
    model: EZCLIP, options: InferenceOptions, segments: bool, window_s: float, stride_s: float | None
) -> dict[str, Any]:
    """What decides the embeddings besides the weights (recorded in, and checked against, the manifest)."""
    setup = {k: v for k, v in asdict(options).items() if k in ("num_clips", "num_crops", "protocol")}
    setup["dtype"] = str(options.autocast_dtype(model) or model.dtype)
    setup["segments"] = bool(segments)
    if segments:
        setup.update(window_s=float(window_s), stride_s=float(stride_s if stride_s is not None else window_s / 2))
    return setup


def _check_same(manifest: dict, model_record: dict, setup: dict, library: Path) -> None:
    if manifest["model"].get("sha256") != model_record["sha256"]:
        raise LibraryError(
            f"library {library} was written by another model (weights sha256 {manifest['model'].get('sha256')}, "
            f"source {manifest['model'].get('source')!r}); this one is {model_record['sha256']}: index into a new "
            "library, or pass the model it records"
        )
    if manifest["setup"] != setup:
        raise LibraryError(
            f"library {library} was written with setup {manifest['setup']}, not {setup}: index into "
            "a new library, or use the same options"
        )


def _embed(model: EZCLIP, path: str, options: InferenceOptions, setup: dict) -> tuple[torch.Tensor, list[list[Any]]]:
    """Normalised float32 embeddings and rows [path, start, end] of one video."""
    transform = options.transform(model)
    dtype = options.autocast_dtype(model)
    if not setup["segments"]:
        views, _ = prepare_views(
            path,
            model.num_frames,
            transform,
            num_clips=options.num_clips,
            strategy=options.strategy,
            backend=options.backend,
        )
        features = encode_views(model, views, batch_size=options.batch_size, autocast_dtype=dtype)
        return F.normalize(features.mean(dim=0), dim=-1)[None], [[path, None, None]]
    reader, _ = open_frames(path, fps=None, backend="pyav")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LocalizationWarning)  # a short video is one window: that is the row
        layout = plan_windows(reader.frame_times(), model.num_frames, setup["window_s"], setup["stride_s"])
    out, rows, chunk = [], [], []
    for views, w in window_views(reader, layout, transform, options.strategy):
        chunk.append(views)
        plan = layout.windows[w]
        rows.append([path, plan.start, plan.end])
        if len(chunk) * views.shape[0] >= options.batch_size or w == len(layout.windows) - 1:
            features = encode_views(model, torch.cat(chunk), batch_size=options.batch_size, autocast_dtype=dtype)
            out.append(F.normalize(features.view(len(chunk), -1, features.shape[-1]).mean(dim=1), dim=-1))
            chunk = []
    return torch.cat(out), rows


def _stat(path: str) -> dict[str, int]:
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _plan(manifest: dict, videos: list[str], library: Path, verify_hash: bool, report: IndexReport) -> list[str]:
    """Videos to embed; drops from the manifest what is gone, changed or unreadable."""
    files = manifest["files"]
    readable = set()
    for shard in manifest["shards"]:
        try:
            read_shard(library, shard, manifest["dim"])
            readable.add(shard)
        except LibraryError as exc:
            warnings.warn(f"{exc}; its videos are embedded again", stacklevel=3)
    manifest["shards"] = [s for s in manifest["shards"] if s in readable]
    current = set(videos)
    for path in list(files):
        if path not in current:
            del files[path]
            report.removed += 1
    todo = []
    for path in videos:
        entry = files.get(path)
        if entry is not None:
            now = _stat(path)
            same = entry["size"] == now["size"] and entry["mtime_ns"] == now["mtime_ns"] and entry["shard"] in readable
            if same and verify_hash:
                same = entry.get("sha256") == sha256_file(path)
            if same:
                report.kept += 1
                continue
            del files[path]
            report.changed += 1
        todo.append(path)
    return todo


def index_videos(
    model: EZCLIP,
    videos: PathLike | Sequence[PathLike],
    library: PathLike,
    *,
    model_source: str | None = None,
    model_seed: int = 0,
    segments: bool = False,
    window_s: float = 2.0,
    stride_s: float | None = None,
    options: InferenceOptions | None = None,
    flush_every: int = 32,
    verify_hash: bool = False,
    progress: bool = False,
) -> IndexReport:
    """Create or update the library at ``library`` with the videos of a folder (or a list of files).

    Args:
        model: an `EZCLIP`.
        videos: a folder (searched recursively for video files) or video file paths.
        library: the library folder (created if needed).
        model_source: how to load ``model`` again (a checkpoint name, folder, or architecture name), recorded so that
            ``search`` needs no model argument; None: searching needs the model passed in. ``model_seed``: the
            seed of an architecture name's random initialisation.
        segments: embed every window of each video (``window_s`` every ``stride_s``) instead of the whole video.
        options: `InferenceOptions` (views, preprocessing, dtype, batch_size).
        flush_every: videos per shard (what a kill can lose at most).
        verify_hash: also compare sha256 to find changed files (reads every file).
        progress: a tqdm bar over the videos.

    Raises:
        LibraryError: the library was written by another model or setup, or is from a newer format.
        ValueError / FileNotFoundError: no videos found, a missing folder.
    """
    from tqdm.auto import tqdm

    options = options or InferenceOptions()
    found: Sequence[PathLike]
    if isinstance(videos, (str, os.PathLike)) and os.path.isdir(videos):
        found = find_videos(videos)
        if not found:
            raise ValueError(f"no video files in folder {os.fspath(videos)!r}: nothing to index")
    else:
        found = [videos] if isinstance(videos, (str, os.PathLike)) else list(videos)
        if not found:
            raise ValueError("no videos given: nothing to index")
    paths = sorted({os.path.abspath(os.fspath(p)) for p in found})
    folder = Path(library)
    folder.mkdir(parents=True, exist_ok=True)
    setup = library_setup(model, options, segments, window_s, stride_s)
    record = {"source": model_source, "seed": int(model_seed), "sha256": model_digest(model), "dtype": str(model.dtype)}
    manifest = read_manifest(folder)
    if manifest is None:
        manifest = new_manifest(record, setup, None)
    else:
        _check_same(manifest, record, setup, folder)
    report = IndexReport()
    known = set(manifest["files"])  # embedded before: re-embedding one of them counts as changed, not added
    todo = _plan(manifest, paths, folder, verify_hash, report)
    _remove_orphans(folder, manifest)
    manifest["complete"] = False
    pending: list[tuple[str, torch.Tensor, list, dict]] = []
    with eval_mode(model), tqdm(total=len(todo), desc="indexing", unit="video", disable=not progress) as bar:
        for i, path in enumerate(todo):
            try:
                stat = _stat(path)
                embeddings, rows = _embed(model, path, options, setup)
                pending.append((path, embeddings, rows, stat))
            except (VideoDecodeError, OSError) as exc:
                report.failed[path] = f"{type(exc).__name__}: {exc}"
            bar.update(1)
            if len(pending) >= flush_every or (i == len(todo) - 1 and pending):
                _flush(folder, manifest, pending)
                report.added += sum(1 for path, *_ in pending if path not in known)
                pending = []
    manifest["complete"] = True
    write_manifest(folder, manifest)
    report.rows = sum(f["count"] for f in manifest["files"].values())
    return report


def _flush(folder: Path, manifest: dict, pending: list) -> None:
    """Write the pending videos' rows as one shard, then the manifest listing it."""
    used = [int(s[len("shard-") : -len(".safetensors")]) for s in manifest["shards"]]
    number = max(used, default=-1) + 1
    embeddings = torch.cat([e for _, e, _, _ in pending])
    if manifest["dim"] is None:
        manifest["dim"] = int(embeddings.shape[1])
    rows = [r for _, _, rs, _ in pending for r in rs]
    name = write_shard(folder, number, embeddings, rows)
    offset = 0
    for path, _, rs, stat in pending:
        manifest["files"][path] = {
            **stat,
            "sha256": sha256_file(path),
            "shard": name,
            "offset": offset,
            "count": len(rs),
        }
        offset += len(rs)
    manifest["shards"].append(name)
    write_manifest(folder, manifest)


def _remove_orphans(folder: Path, manifest: dict) -> None:
    """Shards no manifest lists (a run killed between a shard and its manifest) and shards no file uses."""
    used = {entry["shard"] for entry in manifest["files"].values()}
    manifest["shards"] = [s for s in manifest["shards"] if s in used]
    for path in folder.glob("shard-*.safetensors"):
        if path.name not in manifest["shards"]:
            path.unlink()
