"""Lay files out in a Hugging Face Hub cache exactly as huggingface_hub does (blobs, snapshots, refs)."""

import hashlib
import os
from pathlib import Path


def populate_hub_cache(cache_dir: Path, repo_id: str, revision: str, files: dict) -> Path:
    """Put ``files`` (name -> local path) into ``cache_dir`` as repo ``repo_id`` at commit ``revision``.

    ``refs/main`` points at the commit, so both ``revision=None`` and the commit hash resolve offline.
    """
    repo_dir = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / revision
    (repo_dir / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        data = Path(src).read_bytes()
        blob = repo_dir / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    return repo_dir
