"""Fine-tune EZ-CLIP from Python: `ezclip_zoo.train.finetune` runs the whole recipe of ``ezclip-zoo finetune``
(read the dataset, hold out validation videos, build class texts and the model, train, save) in one call.

This script runs it on generated motion videos laid out like UCF-101 with the tiny test architecture over a random
CLIP, so it needs no download and takes seconds on a CPU (its accuracy stays near chance: it shows the call, not a
useful model); then it evaluates the saved model folder:

    python examples/finetune.py --output runs/finetune-demo
    python examples/evaluate.py runs/finetune-demo/run/model --data runs/finetune-demo/data

On real data the call is the same with a real architecture, e.g. UCF-101 split 1 from ViT-B/16:

    finetune("ezclip-vit-b16", format="ucf101", annotations="ucfTrainTestlist", video_root="UCF-101",
             config=TrainConfig(lr=1e-5, epochs=50, batch_size=8), output_dir="runs/ucf")
"""

import argparse
from pathlib import Path

from ezclip_zoo.evaluation import evaluate_dataset, summary_line
from ezclip_zoo.synthetic import write_motion_dataset
from ezclip_zoo.train import TrainConfig, finetune


def main(output: Path, epochs: int) -> None:
    data = write_motion_dataset(output / "data", "ucf101")  # 4 motion classes, 16 training and 8 test videos
    result = finetune(
        "ezclip-test-tiny",
        pretrained_backbone=False,  # random CLIP: a demo, not a useful model
        format="ucf101",
        annotations=data["annotation_dir"],
        video_root=data["video_root"],
        val_fraction=0.25,  # 1 of the 4 videos of each class held out to pick the best epoch
        templates=None,
        flip=False,  # bare class names; left/right matter here, so no flips
        config=TrainConfig(epochs=epochs, batch_size=4, lr=1e-3, warmup_epochs=1, seed=0),
        output_dir=output / "run",
    )
    print(
        f"{result.state.global_step} steps in {result.seconds:.1f} s, selected the {result.selected} weights "
        f"(validation top-1 {result.state.best_metric}), saved to {result.model_dir}"
    )
    results = evaluate_dataset(
        result.model_dir,
        format="ucf101",
        annotations=data["annotation_dir"],
        video_root=data["video_root"],
        templates=None,
    )
    print("test:", summary_line(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("runs/finetune-demo"), help="data and run folder")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training videos (default 3)")
    args = parser.parse_args()
    main(args.output, args.epochs)
