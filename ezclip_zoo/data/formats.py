"""One entry point over the annotation readers: ``read_dataset(format, ...)`` -> ``{"train", "val"?, "test"?}``."""

from __future__ import annotations

from ..choices import DATASET_FORMATS
from ._io import PathLike
from .csv_list import read_video_csv
from .hmdb51 import read_hmdb51
from .kinetics import read_kinetics
from .records import VideoSplit
from .ssv2 import read_ssv2
from .ucf101 import read_ucf101

__all__ = ["read_dataset"]


def read_dataset(
    format: str,
    *,
    video_root: PathLike | None = None,
    annotations: PathLike | None = None,
    split: int = 1,
    train: PathLike | None = None,
    val: PathLike | None = None,
    test: PathLike | None = None,
    labels: PathLike | None = None,
) -> dict[str, VideoSplit]:
    """Read a dataset's splits, all sharing the train split's class list.

    Args:
        format: ``"ucf101"``, ``"hmdb51"`` (``annotations`` = the split folder, ``split`` = 1-3; gives ``train``
            and ``test``), ``"kinetics"`` (``train``/``val``/``test`` = annotation CSVs), ``"ssv2"`` (``labels`` =
            the labels JSON, ``train``/``val``/``test`` = annotation JSONs) or ``"csv"`` (``train``/``val``/``test`` =
            ``path,label`` CSVs).
        video_root: where the videos are (for ``"csv"``, default each CSV's folder).

    Returns:
        ``{"train": ..., "val": ..., "test": ...}`` for the splits given (at least one).
    """
    if format not in DATASET_FORMATS:
        raise ValueError(f"unknown dataset format {format!r}; choose one of {DATASET_FORMATS}")
    if format in ("ucf101", "hmdb51"):
        if annotations is None or video_root is None:
            raise ValueError(f"{format} needs annotations (the split-list folder) and video_root")
        reader = read_ucf101 if format == "ucf101" else read_hmdb51
        return reader(annotations, video_root, split=split)
    files = {k: v for k, v in (("train", train), ("val", val), ("test", test)) if v is not None}
    if not files:
        raise ValueError(f"{format} needs at least one of train, val, test annotation files")
    out: dict[str, VideoSplit] = {}
    classes = None
    for name, path in files.items():
        if format == "kinetics":
            if video_root is None:
                raise ValueError("kinetics needs video_root")
            out[name] = read_kinetics(path, video_root, classes=classes)
        elif format == "ssv2":
            if labels is None or video_root is None:
                raise ValueError("ssv2 needs labels (the labels JSON) and video_root")
            out[name] = read_ssv2(labels, path, video_root)
        else:
            out[name] = read_video_csv(path, video_root=video_root, classes=classes)
        classes = out[name].classes
    return out
