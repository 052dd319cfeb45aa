"""A user's script, type-checked in CI (``mypy --strict tests/typecheck/user_script.py``) against the installed
package, so ``py.typed`` is honest: every name resolves to its real type, never ``Any`` (``assert_type`` fails
on ``Any``). ``tests/test_imports.py`` also runs it on the tiny model and generated videos."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from typing_extensions import assert_type

import ezclip_zoo
from ezclip_zoo.inference import ClassificationResult
from ezclip_zoo.localization import LocalizationResult
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.train import TrainConfig, TrainResult, finetune
from ezclip_zoo.video import write_video


def main(folder: Path) -> None:
    data = write_motion_dataset(folder / "data", "ucf101", train_per_class=2, test_per_class=1)
    video = folder / "clip.mp4"
    write_video(video, np.zeros((8, 32, 32, 3), dtype=np.uint8), fps=8)  # [T, H, W, 3] RGB

    model = ezclip_zoo.load("ezclip-test-tiny", seed=1)
    assert_type(model, ezclip_zoo.EZCLIP)
    result = model.classify(str(video), ["moving left", "moving right"], topk=1)
    assert isinstance(result, ClassificationResult)
    label: str = result.labels[0]

    timeline = model.localize(str(video), ["moving left", "moving right"], window_s=0.5)
    assert_type(timeline, LocalizationResult)

    trained = finetune(
        model,
        format="ucf101",
        annotations=data["annotation_dir"],
        video_root=data["video_root"],
        validate=False,
        templates=None,
        config=TrainConfig(epochs=1, batch_size=4, num_workers=0),
        output_dir=folder / "run",
    )
    assert_type(trained, TrainResult)
    folder_written: Path = ezclip_zoo.save_pretrained(model, folder / "saved")
    print(f"{label}|{len(timeline.windows)}|{trained.state.global_step}|{folder_written.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
