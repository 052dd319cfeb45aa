"""`finetune`: the whole fine-tuning recipe in one call, the one ``ezclip-zoo finetune`` runs: read a dataset by
its annotation format, choose the training classes and videos (`training_splits`), build the class texts and the
model, augment, `fit`, and save a zoo folder `ezclip_zoo.load` reads."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.csv_list import as_class_descriptions, as_class_list
from ..data.dataset import VideoClipDataset
from ..data.formats import read_dataset
from ..data.records import VideoSplit
from ..data.splits import sample_k_shot, train_val_split
from ..errors import UntrainedModelWarning
from ..modeling.model import EZCLIP
from ..text.labels import class_texts
from ..transforms.train import ClipAugment
from .config import TrainConfig
from .loop import fit
from .state import TrainResult

__all__ = ["finetune", "training_splits"]

PathLike = str | os.PathLike
logger = logging.getLogger(__name__)


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def training_splits(
    format: str,
    *,
    video_root: PathLike | None = None,
    annotations: PathLike | None = None,
    split: int = 1,
    train: PathLike | None = None,
    val: PathLike | None = None,
    labels: PathLike | None = None,
    val_fraction: float = 0.1,
    validate: bool = True,
    classes: PathLike | Sequence[str] | None = None,
    k_shot: int | None = None,
    k_shot_seed: int = 1,
    seed: int = 0,
) -> tuple[VideoSplit, VideoSplit | None]:
    """(training split, validation split or None) as `finetune` selects them; its arguments of the same names
    say what each does (``seed`` draws the validation hold-out). The test split is never read."""
    splits = read_dataset(
        format, video_root=video_root, annotations=annotations, split=split, train=train, val=val, labels=labels
    )
    train_split = splits["train"]
    if train_split.missing and _rank() == 0:
        logger.warning(
            "%d training videos listed but not found, e.g. %s", len(train_split.missing), train_split.missing[:3]
        )
    if classes is not None:
        train_split = train_split.restrict_classes(as_class_list(classes))
    val_split = splits.get("val") if validate else None
    if val_split is not None and classes is not None:
        val_split = val_split.restrict_classes(train_split.classes)
    if val_split is None and validate:
        train_split, val_split = train_val_split(train_split, val_fraction, seed=seed)
    if k_shot:
        train_split = sample_k_shot(train_split, k_shot, k_shot_seed)
    return train_split, val_split


def _model(
    model: PathLike | EZCLIP, *, seed: int, pretrained_backbone: bool, overrides: Mapping[str, Any] | None
) -> EZCLIP:
    """The model to train: as given, or through `ezclip_zoo.zoo.loading.load` (the same weights on every rank)."""
    from ..zoo.loading import load

    if isinstance(model, EZCLIP):
        if overrides or not pretrained_backbone:
            raise ValueError(
                "overrides and pretrained_backbone=False apply to a model given by name; the EZCLIP "
                "passed is built already"
            )
        return model
    from ..zoo.pretrained import TRAINING_FREE, get_pretrained_entry, is_pretrained

    spec = os.fspath(model)
    if not os.path.isdir(spec) and is_pretrained(spec) and get_pretrained_entry(spec)["status"] == TRAINING_FREE:
        # the backbone as it is has nothing to train but adapters; EZ-CLIP trains prompts too
        architecture = get_pretrained_entry(spec)["architecture"]
        logger.warning(
            "%s is training-free (the backbone averaged over frames): fine-tuning starts from its architecture %s "
            "with the temporal prompts switched on, so the model differs from the backbone from step 0",
            spec,
            architecture,
        )
        spec = architecture
    with warnings.catch_warnings():  # fresh prompts and adapters are exactly what training is for
        warnings.simplefilter("ignore", UntrainedModelWarning)
        net = load(spec, seed=seed, pretrained_backbone=pretrained_backbone, overrides=overrides or None)
    if net.config.extra.get("training_free"):  # a saved copy of a training-free entry
        raise ValueError(
            f"{spec} is a training-free model (temporal prompts off); fine-tune its architecture "
            f"{net.config.extra.get('architecture', 'by name')} instead, which switches the prompts on"
        )
    return net


def _text_kind(descriptions: Mapping[str, str] | None, templates: str | Sequence[str] | None) -> str:
    """How the class texts were made, for the model card."""
    if descriptions is not None:
        return "descriptions"
    if not templates:
        return "none"
    return templates if isinstance(templates, str) else "templates"


def finetune(
    model: PathLike | EZCLIP = "ezclip-vit-b16",
    *,
    format: str,
    video_root: PathLike | None = None,
    annotations: PathLike | None = None,
    split: int = 1,
    train: PathLike | None = None,
    val: PathLike | None = None,
    labels: PathLike | None = None,
    val_fraction: float = 0.1,
    validate: bool = True,
    classes: PathLike | Sequence[str] | None = None,
    k_shot: int | None = None,
    k_shot_seed: int = 1,
    descriptions: PathLike | Mapping[str, str] | None = None,
    templates: str | Sequence[str] | None = "actionclip",
    flip: bool = True,
    pretrained_backbone: bool = True,
    overrides: Mapping[str, Any] | None = None,
    config: TrainConfig | None = None,
    output_dir: PathLike | None = None,
    resume: bool | str | Path = False,
    progress: bool = False,
) -> TrainResult:
    """Fine-tune the prompts and adapters on a video dataset with the reference recipe (``ezclip-zoo finetune``).

    Under ``torchrun`` every process makes the same call (DistributedDataParallel; rank 0 writes the files).

    Args:
        model: an architecture (`ezclip_zoo.list_models`, fresh prompts/adapters drawn from ``config.seed``), a
            checkpoint name or zoo folder to continue from (both via `ezclip_zoo.zoo.loading.load`), or an `EZCLIP`
            (trained in place). Default ``"ezclip-vit-b16"``.
        format: ``"ucf101"``, ``"hmdb51"``, ``"kinetics"``, ``"ssv2"`` or ``"csv"`` (`ezclip_zoo.data.read_dataset`).
        video_root: folder of the videos. annotations: ucf101's ``ucfTrainTestlist`` / hmdb51's split folder.
        split: ucf101/hmdb51 official split, 1-3 (default 1). train: kinetics/csv train CSV, ssv2 train JSON.
        val: validation annotations (default None: hold out ``val_fraction`` of train). labels: ssv2 labels JSON.
        val_fraction: the stratified share of train held out for model selection (default 0.1).
        validate: False: no validation at all; the last weights are kept (default True).
        classes: train only on these classes (base-to-novel: the base ones): readable names, or a class-list file.
        k_shot: train on this many videos per class (few-shot / base-to-novel; default None: all of them).
        k_shot_seed: which K-shot draw (the protocols use 1, 2, 3; default 1).
        descriptions: ``{class: description}`` or a ``class,description`` CSV: one text per class, as the released
            models were trained (default None: ``templates``).
        templates: without descriptions, ``"actionclip"`` (ActionCLIP's 16, one drawn per clip; default), a list of
            ``"{}"`` templates, or None for the bare class names.
        flip: random horizontal flips (default True; False for direction-sensitive classes, e.g. SSv2).
        pretrained_backbone: architectures only: False keeps a random CLIP (tests and demos; default True).
        overrides: architectures only: `EZCLIPConfig` fields, e.g. ``{"num_frames": 16, "drop_path": 0.1,
            "prompt_dropout": 0.1}`` (default None: the architecture's).
        config: the optimisation settings, `TrainConfig` (default: the reference recipe, ``TrainConfig()``).
        output_dir: the run folder: ``checkpoint.pt``, ``best/``, the final zoo folder ``model/``, logs (default
            None: nothing is written and nothing can be resumed).
        resume: True continues from ``output_dir/checkpoint.pt`` (or pass a checkpoint path; default False).
        progress: a progress bar on stderr, on rank 0 (default False).

    Returns:
        `fit`'s `TrainResult`; its ``model`` holds the selected weights, ``model_dir`` the saved folder.

    Raises:
        ValueError: bad data selection (unknown classes, too few videos for ``k_shot``...), ``overrides`` or
            ``pretrained_backbone=False`` with a trained checkpoint or an `EZCLIP`, or bad settings.
        FileNotFoundError, AnnotationError: missing or malformed annotation files.
    """
    config = config if config is not None else TrainConfig()
    train_split, val_split = training_splits(
        format,
        video_root=video_root,
        annotations=annotations,
        split=split,
        train=train,
        val=val,
        labels=labels,
        val_fraction=val_fraction,
        validate=validate,
        classes=classes,
        k_shot=k_shot,
        k_shot_seed=k_shot_seed,
        seed=config.seed,
    )
    described = as_class_descriptions(descriptions) if descriptions is not None else None
    texts = class_texts(train_split.classes, descriptions=described, templates=templates)
    # validation scores each class with all of its texts averaged, as the test protocol does
    val_texts = (
        None if val_split is None else class_texts(val_split.classes, descriptions=described, templates=templates)
    )
    net = _model(model, seed=config.seed, pretrained_backbone=pretrained_backbone, overrides=overrides)
    train_set = VideoClipDataset(
        train_split,
        net.num_frames,
        net.image_size,
        train=True,
        seed=config.seed,
        augment=ClipAugment(net.image_size, flip=flip),
    )
    val_set = None if val_split is None else VideoClipDataset(val_split, net.num_frames, net.image_size)
    if _rank() == 0:
        logger.info(
            "train %s: %d videos, %d classes; validation: %s",
            train_split.name,
            len(train_split),
            len(train_split.classes),
            f"{len(val_split)} videos" if val_split is not None else "none",
        )
    card = {
        "training": {
            "dataset": format,
            "videos": len(train_split),
            "classes": len(train_split.classes),
            "text": _text_kind(described, templates),
        }
    }
    return fit(
        net,
        train_set,
        config,
        class_texts=texts,
        output_dir=output_dir,
        val_data=val_set,
        val_class_texts=val_texts,
        resume=resume,
        card=card,
        progress=progress and _rank() == 0,
    )
