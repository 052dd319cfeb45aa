"""Train a tiny motion model on generated clips in well under a minute: the trained model that localisation and
retrieval tests and benchmarks measure against known truth (a random frozen CLIP, so only what EZ-CLIP learns on
top of it can tell the classes apart).

The test suite's trained model is `train_window_model` (windows of `window_config` videos: a shape moving right,
moving left or staying still), saved by `save_motion_model` and shipped in ``tests/data/motion_model``. Remake it
with::

    python -m ezclip_zoo.synthetic.motion_models tests/data/motion_model --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP
    from .long_videos import LongVideoConfig, WindowClips
    from .motion import MotionClips

__all__ = ["train_motion_model"]

# `train_window_model`'s recipe: 25,600 windows in 3,200 steps of 8 at lr 1e-3, the text adapters at 1e-4. The random
# text tower draws "moving right" and "moving left" at a cosine of 0.51 to 0.96 depending on the seed, and while the
# video side cannot yet tell a clip from its reversal the contrastive loss pulls the two names together: at the full
# rate on the text side that race was lost by some seed whatever the lr or length (seed 2 at lr 1e-3, seed 1 at
# 3e-3; issue 29). With the text adapters at a tenth of the rate the names stay apart long enough, and every seed
# 0-4 passes the localisation and search tests (tests/test_motion_model.py); at 1,600 steps seed 2 still did not.
WINDOW_STEPS = 3200
WINDOW_BATCH = 8
WINDOW_LR = 1e-3
WINDOW_TEXT_LR = 1e-4
WINDOW_DATA_SEED = 1000  # the training windows' seed: the same data for every model seed
RECIPE_NAME = "recipe.json"
WEIGHTS_NAME = "model.safetensors"
REGENERATE = "python -m ezclip_zoo.synthetic.motion_models {folder} --seed {seed}"


def train_motion_model(
    train_set: MotionClips | WindowClips,
    *,
    seed: int = 0,
    temporal_prompts: bool = True,
    batch_size: int = 32,
    lr: float = 3e-3,
    text_lr: float | None = None,
    architecture: str = "ezclip-demo-motion",
    precision: str = "fp32",
    **overrides: Any,
) -> EZCLIP:
    """An EZ-CLIP (or, with ``temporal_prompts=False``, the paper's base model without the motion loss) trained for
    one epoch over ``train_set`` (`MotionClips`, `WindowClips`: items with ``frames`` [T, 3, S, S] and ``label``,
    and ``classes``), in eval mode. ``text_lr`` is `TrainConfig.text_lr` (None: ``lr``).

    Deterministic for a given ``seed`` and thread count: the frozen random CLIP and the adapters come from it.
    About 40 s for 500 steps (16,000 clips) of the 32 px ``ezclip-demo-motion`` on one CPU thread.
    """
    from ..train import TrainConfig, fit
    from ..zoo.factory import create_model

    torch.manual_seed(seed)
    num_frames = int(train_set[0]["frames"].shape[0])
    model = create_model(
        architecture, pretrained_backbone=False, num_frames=num_frames, temporal_prompts=temporal_prompts, **overrides
    )
    steps = len(train_set) // batch_size
    train_config = TrainConfig(
        epochs=1,
        batch_size=batch_size,
        lr=lr,
        text_lr=text_lr,
        warmup_steps=max(1, steps // 10),
        motion_weight=1.0 if temporal_prompts else 0.0,
        seed=seed,
        precision=precision,
        log_every_steps=10**9,
    )
    fit(model, train_set, train_config, class_texts=[[name] for name in train_set.classes])
    return model.eval()


def window_config() -> LongVideoConfig:
    """Long synthetic videos of one motion pair: moving right / left between stretches of staying still."""
    from .long_videos import LongVideoConfig
    from .motion import MotionVideoConfig

    return LongVideoConfig(clip=MotionVideoConfig(size=32, pairs=("horizontal",), still=True))


def train_window_model(seed: int = 0, steps: int = WINDOW_STEPS) -> EZCLIP:
    """The tiny ``ezclip-demo-motion`` trained by `train_motion_model` on ``steps`` batches of 8 `WindowClips` of
    `window_config` videos (moving right / left / staying still) at lr 1e-3, the text adapters at 1e-4: about
    110 s on one CPU thread."""
    from .long_videos import WindowClips

    windows = WindowClips(steps * WINDOW_BATCH, seed=WINDOW_DATA_SEED, config=window_config())
    return train_motion_model(windows, seed=seed, batch_size=WINDOW_BATCH, lr=WINDOW_LR, text_lr=WINDOW_TEXT_LR)


def _backbone_sha256(model: EZCLIP) -> str:
    """sha256 of the frozen (random) weights, which `load_motion_model` rebuilds from the seed rather than ship."""
    trainable = set(model.trainable_state_dict())
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if name not in trainable:
            digest.update(name.encode())
            digest.update(tensor.detach().float().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def save_motion_model(model: EZCLIP, folder: str | Path, *, seed: int, steps: int = WINDOW_STEPS) -> Path:
    """Write a `train_window_model` model as ``folder/model.safetensors`` (its prompts and adapters, float32) and
    ``folder/recipe.json`` (architecture, seed, steps, and the sha256 of the random backbone that the seed gives).

    The random backbone (16.7 MB, mostly the text tower's token table) is not written: `load_motion_model` draws it
    again from the seed, as training did, and checks its sha256, so the folder stays about 170 KB."""
    from ..zoo.serialization import save_trainable_weights

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_trainable_weights(model, folder / WEIGHTS_NAME, adapter_dtype=torch.float32)
    recipe = {
        "architecture": model.config.name,
        "num_frames": model.num_frames,
        "seed": seed,
        "steps": steps,
        "batch_size": WINDOW_BATCH,
        "lr": WINDOW_LR,
        "text_lr": WINDOW_TEXT_LR,
        "data_seed": WINDOW_DATA_SEED,
        "backbone_sha256": _backbone_sha256(model),
        "made_by": REGENERATE.format(folder=folder, seed=seed) + (f" --steps {steps}" if steps != WINDOW_STEPS else ""),
    }
    (folder / RECIPE_NAME).write_text(json.dumps(recipe, indent=2) + "\n")
    return folder


def load_motion_model(folder: str | Path) -> EZCLIP:
    """A model written by `save_motion_model`, in eval mode; the global RNG is left as it was.

    Raises:
        ValueError: the backbone drawn from the recorded seed is not the one the model was trained on (model
            initialisation changed): the message says how to remake the folder.
    """
    from safetensors.torch import load_file

    from ..zoo.factory import create_model

    folder = Path(folder)
    recipe = json.loads((folder / RECIPE_NAME).read_text())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe["seed"])  # as `train_motion_model` drew it
        model = create_model(
            recipe["architecture"], pretrained_backbone=False, num_frames=recipe["num_frames"], temporal_prompts=True
        )
    if _backbone_sha256(model) != recipe["backbone_sha256"]:
        raise ValueError(
            f"{folder}: seed {recipe['seed']} no longer draws the random backbone this model was trained on "
            f"(model initialisation changed); remake it with: {REGENERATE.format(folder=folder, seed=recipe['seed'])}"
        )
    model.load_trainable_state_dict(load_file(str(folder / WEIGHTS_NAME)))
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    """``python -m ezclip_zoo.synthetic.motion_models OUT_DIR [--seed N] [--steps N]``: train and save."""
    parser = argparse.ArgumentParser(
        prog="python -m ezclip_zoo.synthetic.motion_models", description=train_window_model.__doc__
    )
    parser.add_argument("out_dir", type=Path, help="folder to write model.safetensors and recipe.json into")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random backbone and adapters (default 0)")
    parser.add_argument(
        "--steps", type=int, default=WINDOW_STEPS, help=f"batches of {WINDOW_BATCH} (default {WINDOW_STEPS})"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the result depends on the thread count (the order of a GEMM's additions)
    model = train_window_model(args.seed, args.steps)
    print(save_motion_model(model, args.out_dir, seed=args.seed, steps=args.steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
