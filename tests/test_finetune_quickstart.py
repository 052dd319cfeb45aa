"""The README's fine-tuning quickstart, shortened: the same commands on fewer videos and epochs; the loss falls."""

import json

import pytest

from ezclip_zoo.cli import main
from ezclip_zoo.synthetic import MotionVideoConfig, write_motion_dataset


@pytest.mark.slow
def test_the_quickstart_learns(tmp_path, capsys):
    paths = write_motion_dataset(
        tmp_path / "demo", "ucf101", train_per_class=24, test_per_class=0, config=MotionVideoConfig(size=32)
    )
    out = tmp_path / "runs"
    argv = [
        "finetune",
        "--format",
        "ucf101",
        "--annotations",
        paths["annotation_dir"],
        "--video-root",
        paths["video_root"],
        "--model",
        "ezclip-demo-motion",
        "--no-flip",
        "--templates",
        "none",
        "--epochs",
        "20",
        "--warmup-epochs",
        "1",
        "--batch-size",
        "16",
        "--lr",
        "3e-3",
        "--val-fraction",
        "0.25",
        "--eval-every",
        "6",
        "--workers",
        "0",
        "--log-every",
        "5",
        "--output",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 20 * (72 // 16) and (out / "model" / "model.safetensors").is_file()
    losses = [
        r["loss"] for r in map(json.loads, (out / "train_log.jsonl").read_text().splitlines()) if r["event"] == "step"
    ]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.9 * first, losses  # it learns: the contrastive loss falls well below its starting value
