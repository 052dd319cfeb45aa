"""The list of published checkpoints (``checkpoints.json``, shipped inside the package) and its look-ups.

Each entry is a plain dict in the spirit of timm's ``PretrainedCfg``: the architecture it instantiates, input
size and normalisation, the frozen backbone (open_clip model + tag), where the trainable weights live on the Hub
(``hf_hub_id``, pinned ``revision``, ``filename``, ``sha256``, ``size_bytes``), how class text is formed, the
training setting, reported metrics with their source, licence and citation. ``status`` is ``"published"`` once
the weights are on the Hub; other statuses mean `ezclip_zoo.load` must refuse the name and say how to get them.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
from typing import TYPE_CHECKING, Any

from ..errors import UnknownNameError
from .checkpoint_table import USER_ENTRIES, builtin_entries
from .registry import get_model_config, is_model

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = [
    "list_pretrained",
    "get_pretrained_entry",
    "register_pretrained",
    "is_pretrained",
    "markdown_table",
    "expected_weights_bytes",
    "expected_source_bytes",
    "expected_backbone_bytes",
    "metrics_summary",
    "has_official_release",
    "load_source",
    "TRAINING_FREE",
]

_REQUIRED = ("architecture", "num_frames", "backbone", "hf_hub_id", "revision", "filename", "sha256", "status")
# The status of an entry with no trained weights: its architecture's backbone itself as a video classifier (temporal
# prompts off, adapters at their zero start: the frozen image model averaged over frames). Its Hub fields are null.
TRAINING_FREE = "training-free"


@functools.lru_cache(maxsize=1)
def _builtin_entries() -> dict[str, dict[str, Any]]:
    entries = builtin_entries()
    for name, entry in entries.items():
        _validate(name, entry)
    return entries


def _validate(name: str, entry: dict[str, Any]) -> None:
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise ValueError(f"checkpoint entry {name!r} lacks {missing}")
    if entry["status"] == "published" and not (entry["sha256"] and entry["revision"]):
        raise ValueError(f"checkpoint entry {name!r} is published but has no pinned revision and sha256")
    if entry["status"] == TRAINING_FREE and (entry["hf_hub_id"] or entry["sha256"] or entry.get("official_release")):
        raise ValueError(f"checkpoint entry {name!r} is training-free: it names no trained weights to fetch")
    get_model_config(entry["architecture"])  # must name a registered architecture
    if is_model(name):
        raise ValueError(
            f"checkpoint name {name!r} is already an architecture name (ezclip_zoo.list_models()); "
            "ezclip_zoo.load could not tell them apart: choose another name"
        )
    release = entry.get("official_release") or {}
    if not isinstance(release, dict):
        raise ValueError(f"checkpoint entry {name!r}: 'official_release' must be an object")
    for key in ("url", "google_drive_id", "sha256"):
        if release.get(key) is not None and not isinstance(release[key], str):
            raise ValueError(f"checkpoint entry {name!r}: official_release.{key} must be a string")
    if release.get("url") and not str(release["url"]).startswith(("http://", "https://")):
        raise ValueError(
            f"checkpoint entry {name!r}: official_release.url must be an http(s) URL, got {release['url']!r}"
        )


def _entries() -> dict[str, dict[str, Any]]:
    return {**_builtin_entries(), **USER_ENTRIES}


def _with_defaults(entry: dict[str, Any]) -> dict[str, Any]:
    """A user entry with the optional fields filled in: only ``architecture`` and a place to load from (a Hub repo
    with ``revision`` and ``sha256``, or a ``source``) are needed."""
    arch = get_model_config(entry["architecture"]) if "architecture" in entry else None
    out = {
        "num_frames": arch.num_frames if arch is not None else None,
        "backbone": (
            {"model": arch.backbone.model, "pretrained": arch.backbone.pretrained}
            if arch is not None and arch.backbone.model
            else {}
        ),
        "hf_hub_id": None,
        "revision": None,
        "filename": "model.safetensors",
        "sha256": None,
        "size_bytes": None,
        "text": {"mode": "names"},
        "training": {"setting": "custom", "dataset": "-"},
        **copy.deepcopy(entry),
    }
    if "status" not in out:
        out["status"] = "published" if out["hf_hub_id"] and out["revision"] and out["sha256"] else "unpublished"
    return out


def register_pretrained(name: str, entry: dict[str, Any], *, overwrite: bool = False) -> None:
    """Add a checkpoint entry (the fields of ``checkpoints.json``) for this process: a private Hub repo
    (``hf_hub_id``, ``revision``, ``sha256``, ``status="published"``) or the authors' release to convert
    (``official_release``: ``url`` or ``google_drive_id``, optional ``sha256``). Fields left out get neutral
    defaults."""
    if name in _entries() and not overwrite:
        raise ValueError(f"checkpoint {name!r} already exists; pass overwrite=True to replace it")
    if "architecture" not in entry:
        raise ValueError(f"checkpoint entry {name!r} lacks 'architecture' (a name from ezclip_zoo.list_models())")
    entry = _with_defaults(entry)
    _validate(name, entry)
    USER_ENTRIES[name] = entry


def is_pretrained(name: str) -> bool:
    return name in _entries()


def list_pretrained(pattern: str = "*", *, published_only: bool = False) -> list[str]:
    """Sorted checkpoint names matching a glob pattern (optionally only those whose weights are on the Hub)."""
    return sorted(
        n
        for n, e in _entries().items()
        if fnmatch.fnmatchcase(n, pattern) and (not published_only or e["status"] == "published")
    )


def get_pretrained_entry(name: str) -> dict[str, Any]:
    """The ``checkpoints.json`` entry of ``name`` (a copy)."""
    entries = _entries()
    if name not in entries:
        raise UnknownNameError.of("checkpoint", name, entries)
    return copy.deepcopy(entries[name])


def expected_weights_bytes(entry_or_architecture: Any) -> int:
    """Size of the tensors in a zoo weights file: prompts in float32, adapters in float16 (header excluded)."""
    arch = entry_or_architecture["architecture"] if isinstance(entry_or_architecture, dict) else entry_or_architecture
    frames = entry_or_architecture.get("num_frames", 8) if isinstance(entry_or_architecture, dict) else 8
    from .factory import create_model

    model = create_model(arch, pretrained_backbone=False, device="meta", num_frames=frames)
    return sum(p.numel() * (4 if ".prompts." in n else 2) for n, p in model.trainable_named_parameters())


def _meta_model(entry: dict[str, Any]) -> EZCLIP:
    from .factory import create_model

    return create_model(
        entry["architecture"], pretrained_backbone=False, device="meta", num_frames=entry.get("num_frames", 8)
    )


def expected_source_bytes(entry: dict[str, Any]) -> int:
    """Approximate size of an entry's official release file: the whole model in float16, as the authors save it."""
    return sum(p.numel() for p in _meta_model(entry).parameters()) * 2


def expected_backbone_bytes(entry: dict[str, Any]) -> int:
    """Approximate download size of an entry's frozen CLIP: its parameters in float32, as open_clip serves them."""
    return sum(p.numel() for p in _meta_model(entry).clip.parameters()) * 4


def has_official_release(entry: dict[str, Any]) -> bool:
    """Whether an entry names the authors' release to convert from (``official_release.url`` or
    ``official_release.google_drive_id``)."""
    release = entry.get("official_release") or {}
    return bool(release.get("url") or release.get("google_drive_id"))


def load_source(entry: dict[str, Any]) -> str:
    """Where `ezclip_zoo.load` gets an entry's weights today, in a few words (for ``ezclip-zoo list``, README)."""
    if entry["status"] == "published":
        return "Hub"
    if entry["status"] == TRAINING_FREE:
        return "nothing to fetch but the backbone (training-free)"
    release = entry.get("official_release") or {}
    if release.get("url"):
        return "authors' release (URL), converted on first load"
    if release.get("google_drive_id"):
        return "authors' release (Google Drive), converted on first load"
    return "not available"


def metrics_summary(entry: dict[str, Any]) -> str:
    """Reported metrics of an entry in one short line."""
    # zero-shot results name the target dataset; base-to-novel ones share the training dataset
    parts = [
        f"{m['dataset'] if m['split'] == 'zero-shot' else m['split'].replace('harmonic-mean', 'HM')} {m['value']}"
        for m in entry.get("metrics", [])
    ]
    return ", ".join(parts) if parts else "-"


def markdown_table(names: list[str] | None = None) -> str:
    """The README's "Pretrained checkpoints" table, generated from the entries."""
    names = list_pretrained() if names is None else names
    rows = [
        "| name | architecture | setting | text | loads from | weights | reported top-1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        e = get_pretrained_entry(name)
        size = e["size_bytes"] if e["size_bytes"] is not None else expected_weights_bytes(e)
        approx = "" if e["size_bytes"] is not None else "~"
        rows.append(
            f"| `{name}` | `{e['architecture']}` | {e['training']['setting']}, {e['training']['dataset']} "
            f"| {e['text']['mode']} | {load_source(e)} | {approx}{size / 1e6:.1f} MB | {metrics_summary(e)} |"
        )
    return "\n".join(rows)
