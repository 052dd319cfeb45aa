"""Write generated motion videos laid out like real datasets (UCF-101, HMDB-51, Kinetics, SSv2, ``path,label``
CSV), to try the whole fine-tuning pipeline, readers included, without downloading anything."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..data.seeding import sample_seed
from .motion import MotionVideoConfig, render_motion_clip

__all__ = ["LAYOUTS", "write_motion_dataset"]

LAYOUTS = ("ucf101", "hmdb51", "kinetics", "ssv2", "csv")
_EXT = {"ucf101": ".avi", "hmdb51": ".avi", "kinetics": ".mp4", "ssv2": ".webm", "csv": ".mp4"}
_CODEC = {".avi": "mpeg4", ".mp4": "libx264", ".webm": "libvpx-vp9"}


def _camel(name: str) -> str:
    return "".join(w.capitalize() for w in name.split())


def write_motion_dataset(
    root: Union[str, os.PathLike],
    layout: str,
    *,
    train_per_class: int = 4,
    test_per_class: int = 2,
    config: Optional[MotionVideoConfig] = None,
    num_frames: int = 16,
    seed: int = 0,
    fps: int = 8,
) -> dict[str, str]:
    """Generate motion clips and write them with the annotation files of ``layout``.

    Args:
        root: output folder (created).
        layout: one of `LAYOUTS`.
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

    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    base = config or MotionVideoConfig(size=64)
    cfg = MotionVideoConfig(**{**base.__dict__, "num_frames": num_frames})
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    names = cfg.classes
    ext = _EXT[layout]
    counter = 0
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}  # (relative path, label)

    def identifier(label: int) -> str:
        return {"ucf101": _camel, "hmdb51": lambda n: n.replace(" ", "_")}.get(layout, lambda n: n)(names[label])

    def write(label: int, rel: str) -> None:
        nonlocal counter
        rng = np.random.default_rng(sample_seed("layout", seed, counter))
        counter += 1
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_video(path, render_motion_clip(cfg, label, rng), fps=fps, codec=_CODEC[ext])

    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        for label in range(len(names)):
            for k in range(per_class):
                ident = identifier(label)
                if layout == "ucf101":
                    group = 1 + k if split == "test" else 8 + k  # UCF groups: 1-7 test, 8-25 train in split 1
                    rel = f"videos/{ident}/v_{ident}_g{group:02d}_c01{ext}"
                elif layout == "hmdb51":
                    rel = f"videos/{ident}/{split}_{ident}_{k}{ext}"
                elif layout == "kinetics":
                    rel = f"videos/{split}/{ident}/yt{label:02d}{split[:2]}{k:04d}_{k:06d}_{k + 10:06d}{ext}"
                elif layout == "ssv2":
                    rel = f"videos/{1000 * label + 100 * (split == 'test') + k}{ext}"
                else:
                    rel = f"videos/{split}/{ident.replace(' ', '_')}_{k}{ext}"
                write(label, rel)
                splits[split].append((rel, label))

    out: dict[str, str] = {"video_root": str(root / "videos"), "classes": json.dumps(names)}
    if layout == "ucf101":
        ann = root / "ucfTrainTestlist"
        ann.mkdir(exist_ok=True)
        (ann / "classInd.txt").write_text("".join(f"{i + 1} {identifier(i)}\n" for i in range(len(names))))
        strip = len("videos/")
        (ann / "trainlist01.txt").write_text("".join(f"{r[strip:]} {lab + 1}\r\n" for r, lab in splits["train"]))
        (ann / "testlist01.txt").write_text("".join(f"{r[strip:]}\r\n" for r, _ in splits["test"]))
        out["annotation_dir"] = str(ann)
    elif layout == "hmdb51":
        ann = root / "testTrainMulti_7030_splits"
        ann.mkdir(exist_ok=True)
        for label in range(len(names)):
            ident = identifier(label)
            lines = [
                f"{Path(r).name} {1 if s == 'train' else 2} "
                for s in ("train", "test")
                for r, lab in splits[s]
                if lab == label
            ]
            lines.append(f"unused_{ident}.avi 0 ")  # 0 = not in this split
            (ann / f"{ident}_test_split1.txt").write_text("\n".join(lines) + "\n")
        out["split_dir"] = str(ann)
    elif layout == "kinetics":
        for split, csv_name in (("train", "train.csv"), ("test", "validate.csv")):
            with open(root / csv_name, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["label", "youtube_id", "time_start", "time_end", "split", "is_cc"])
                for rel, label in splits[split]:
                    youtube_id, start, end = Path(rel).stem.rsplit("_", 2)
                    subset = "train" if split == "train" else "val"
                    writer.writerow([names[label], youtube_id, int(start), int(end), subset, 0])
                writer.writerow([names[0], "deleted_video", 0, 10, "train" if split == "train" else "val", 0])
            out[f"{split}_csv"] = str(root / csv_name)
    elif layout == "ssv2":
        templates = [f"[Something] {n}" for n in names]
        labels = {t.replace("[", "").replace("]", ""): str(i) for i, t in enumerate(templates)}
        (root / "labels.json").write_text(json.dumps(labels))
        for split, json_name in (("train", "train.json"), ("test", "validation.json")):
            items = [
                {"id": Path(rel).stem, "label": names[label], "template": templates[label], "placeholders": ["thing"]}
                for rel, label in splits[split]
            ]
            (root / json_name).write_text(json.dumps(items))
            out[f"{split}_json"] = str(root / json_name)
        out["labels_json"] = str(root / "labels.json")
    else:
        for split in ("train", "test"):
            with open(root / f"{split}.csv", "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["path", "label"])
                writer.writerows((rel, names[label]) for rel, label in splits[split])  # relative to the CSV
            out[f"{split}_csv"] = str(root / f"{split}.csv")
    return out
