"""Write generated motion videos laid out like real datasets (UCF-101, HMDB-51, Kinetics, SSv2, ``path,label``
CSV), to try the whole fine-tuning pipeline, readers included, without downloading anything."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from ..choices import DATASET_FORMATS
from ..data.seeding import sample_seed
from .motion import MotionVideoConfig, render_motion_clip

__all__ = ["write_motion_dataset"]

_EXT = {"ucf101": ".avi", "hmdb51": ".avi", "kinetics": ".mp4", "ssv2": ".webm", "csv": ".mp4"}
_CODEC = {".avi": "mpeg4", ".mp4": "libx264", ".webm": "libvpx-vp9"}


def _camel(name: str) -> str:
    return "".join(w.capitalize() for w in name.split())


def _identifier(layout: str, name: str) -> str:
    """A class name as the layout's annotation files spell it."""
    if layout == "ucf101":
        return _camel(name)
    return name.replace(" ", "_") if layout == "hmdb51" else name


def _relative_path(layout: str, split: str, ident: str, label: int, k: int, ext: str) -> str:
    """Where video ``k`` of class ``label`` goes, as the dataset's own layout puts it."""
    if layout == "ucf101":
        group = 1 + k if split == "test" else 8 + k  # UCF groups: 1-7 test, 8-25 train in split 1
        return f"videos/{ident}/v_{ident}_g{group:02d}_c01{ext}"
    if layout == "hmdb51":
        return f"videos/{ident}/{split}_{ident}_{k}{ext}"
    if layout == "kinetics":
        return f"videos/{split}/{ident}/yt{label:02d}{split[:2]}{k:04d}_{k:06d}_{k + 10:06d}{ext}"
    if layout == "ssv2":
        return f"videos/{1000 * label + 100 * (split == 'test') + k}{ext}"
    return f"videos/{split}/{ident.replace(' ', '_')}_{k}{ext}"


Splits = dict[str, list[tuple[str, int]]]  # split -> (relative path, label)


def _write_ucf101(root: Path, names: list[str], splits: Splits) -> dict[str, str]:
    ann = root / "ucfTrainTestlist"
    ann.mkdir(exist_ok=True)
    (ann / "classInd.txt").write_text("".join(f"{i + 1} {_identifier('ucf101', n)}\n" for i, n in enumerate(names)))
    strip = len("videos/")
    (ann / "trainlist01.txt").write_text("".join(f"{r[strip:]} {lab + 1}\r\n" for r, lab in splits["train"]))
    (ann / "testlist01.txt").write_text("".join(f"{r[strip:]}\r\n" for r, _ in splits["test"]))
    return {"annotation_dir": str(ann)}


def _write_hmdb51(root: Path, names: list[str], splits: Splits) -> dict[str, str]:
    ann = root / "testTrainMulti_7030_splits"
    ann.mkdir(exist_ok=True)
    for label, name in enumerate(names):
        ident = _identifier("hmdb51", name)
        lines = [
            f"{Path(r).name} {1 if s == 'train' else 2} "
            for s in ("train", "test")
            for r, lab in splits[s]
            if lab == label
        ]
        lines.append(f"unused_{ident}.avi 0 ")  # 0 = not in this split
        (ann / f"{ident}_test_split1.txt").write_text("\n".join(lines) + "\n")
    return {"split_dir": str(ann)}


def _write_kinetics(root: Path, names: list[str], splits: Splits) -> dict[str, str]:
    out = {}
    for split, csv_name in (("train", "train.csv"), ("test", "validate.csv")):
        with open(root / csv_name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["label", "youtube_id", "time_start", "time_end", "split", "is_cc"])
            subset = "train" if split == "train" else "val"
            for rel, label in splits[split]:
                youtube_id, start, end = Path(rel).stem.rsplit("_", 2)
                writer.writerow([names[label], youtube_id, int(start), int(end), subset, 0])
            writer.writerow([names[0], "deleted_video", 0, 10, subset, 0])
        out[f"{split}_csv"] = str(root / csv_name)
    return out


def _write_ssv2(root: Path, names: list[str], splits: Splits) -> dict[str, str]:
    templates = [f"[Something] {n}" for n in names]
    labels = {t.replace("[", "").replace("]", ""): str(i) for i, t in enumerate(templates)}
    (root / "labels.json").write_text(json.dumps(labels))
    out = {"labels_json": str(root / "labels.json")}
    for split, json_name in (("train", "train.json"), ("test", "validation.json")):
        items = [
            {"id": Path(rel).stem, "label": names[label], "template": templates[label], "placeholders": ["thing"]}
            for rel, label in splits[split]
        ]
        (root / json_name).write_text(json.dumps(items))
        out[f"{split}_json"] = str(root / json_name)
    return out


def _write_csv(root: Path, names: list[str], splits: Splits) -> dict[str, str]:
    out = {}
    for split in ("train", "test"):
        with open(root / f"{split}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "label"])
            writer.writerows((rel, names[label]) for rel, label in splits[split])  # relative to the CSV
        out[f"{split}_csv"] = str(root / f"{split}.csv")
    return out


_ANNOTATION_WRITERS = {
    "ucf101": _write_ucf101,
    "hmdb51": _write_hmdb51,
    "kinetics": _write_kinetics,
    "ssv2": _write_ssv2,
}


def write_motion_dataset(
    root: str | os.PathLike,
    layout: str,
    *,
    train_per_class: int = 4,
    test_per_class: int = 2,
    config: MotionVideoConfig | None = None,
    num_frames: int = 16,
    seed: int = 0,
    fps: int = 8,
) -> dict[str, str]:
    """Generate motion clips and write them with the annotation files of ``layout``.

    Args:
        root: output folder (created).
        layout: one of `DATASET_FORMATS`.
        train_per_class, test_per_class: videos per class in each split.
        config: what the clips look like (its ``num_frames`` is replaced by ``num_frames``); default 64 px,
            left/right/up/down.
        num_frames: frames per video file.
        seed: the draw; the same arguments always write the same videos.

    Returns:
        The paths to give the matching reader, e.g. for ``"ucf101"`` ``{"annotation_dir", "video_root"}``,
        ``"hmdb51"`` ``{"split_dir", "video_root"}``, ``"kinetics"`` ``{"train_csv", "test_csv", "video_root"}``,
        ``"ssv2"`` ``{"labels_json", "train_json", "test_json", "video_root"}``, ``"csv"``
        ``{"train_csv", "test_csv", "video_root"}``; plus ``"classes"`` (JSON list of readable class names).
    """
    from ..video import write_video

    if layout not in DATASET_FORMATS:
        raise ValueError(f"layout must be one of {DATASET_FORMATS}, got {layout!r}")
    base = config or MotionVideoConfig(size=64)
    cfg = MotionVideoConfig(**{**base.__dict__, "num_frames": num_frames})
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    names = list(cfg.classes)
    ext = _EXT[layout]
    counter = 0
    splits: Splits = {"train": [], "test": []}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        for label in range(len(names)):
            for k in range(per_class):
                rel = _relative_path(layout, split, _identifier(layout, names[label]), label, k, ext)
                rng = np.random.default_rng(sample_seed("layout", seed, counter))
                counter += 1
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                write_video(root / rel, render_motion_clip(cfg, label, rng), fps=fps, codec=_CODEC[ext])
                splits[split].append((rel, label))
    out: dict[str, str] = {"video_root": str(root / "videos"), "classes": json.dumps(names)}
    out.update(_ANNOTATION_WRITERS.get(layout, _write_csv)(root, names, splits))
    return out
