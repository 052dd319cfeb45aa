"""Collections: text-to-video retrieval quality on known classes, index throughput, and search latency.

Retrieval: a few hundred synthetic clips (`WindowClips`: a shape moving right, moving left, or staying still;
32 px, 2 s at 8 fps) written as MP4, indexed with a tiny EZ-CLIP and with the paper's base model (no temporal
prompts), both trained the same way on other seeds; one text query per class (its name). P@1 and P@5: the share of
the first 1 / 5 hits that show the class; mAP over all the clips of the class.

Throughput: `index_videos` against `classify` per video on the same files. Latency: exact search (one matrix
product) and a faiss IVF-Flat index on clustered unit vectors (E=512; 1000 rows per cluster) at 10^4 and 10^6 rows,
with IVF's recall@10 against exact.

    python benchmarks/search_synthetic.py           # the README tables
    python benchmarks/search_synthetic.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import device_line  # noqa: E402

from ezclip_zoo.evaluation.detection import average_precision  # noqa: E402
from ezclip_zoo.inference import classify  # noqa: E402
from ezclip_zoo.search import VideoIndex, build_ann, index_videos, recall_at_k  # noqa: E402
from ezclip_zoo.synthetic import LongVideoConfig, MotionVideoConfig, WindowClips, train_motion_model  # noqa: E402
from ezclip_zoo.video import write_video  # noqa: E402


def write_clips(folder: str, config, count: int) -> dict[str, str]:
    clips = WindowClips(count, seed=70_000, config=config)
    labels = {}
    for i in range(count):
        frames, label = clips.clip(i)
        path = os.path.join(folder, f"{i:04d}.mp4")
        write_video(path, frames, fps=8, crf=0)
        labels[os.path.abspath(path)] = config.classes[label]
    return labels


def retrieval(index: VideoIndex, labels: dict[str, str], classes: list[str]) -> tuple[float, float, float]:
    p1 = p5 = ap = 0.0
    for name in classes:
        hits = index.search(name, len(index))
        rel = [labels[h.path] == name for h in hits]
        p1 += rel[0]
        p5 += sum(rel[:5]) / 5
        ap += average_precision(
            [(h.score, r) for h, r in zip(hits, rel, strict=True)], sum(labels[p] == name for p in labels)
        )
    n = len(classes)
    return 100 * p1 / n, 100 * p5 / n, 100 * ap / n


def latency(rows: int, dim: int, queries: int, quick: bool) -> list[str]:
    g = torch.Generator().manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(max(rows // 1000, 10), dim, generator=g), dim=-1)
    emb = torch.empty(rows, dim)
    for lo in range(0, rows, 100_000):  # clustered, as embeddings of similar videos are
        hi = min(rows, lo + 100_000)
        pick = torch.randint(len(centres), (hi - lo,), generator=g)
        emb[lo:hi] = torch.nn.functional.normalize(
            centres[pick] + 0.06 * torch.randn(hi - lo, dim, generator=g), dim=-1
        )
    q = torch.nn.functional.normalize(
        centres[:queries] + 0.06 * torch.randn(min(queries, len(centres)), dim, generator=g), dim=-1
    )
    queries = q.shape[0]
    index = VideoIndex(".", {"setup": {}}, emb, [(str(i), None, None) for i in range(rows)])
    start = time.perf_counter()
    exact = [index._top(q[i : i + 1], 10, False)[1] for i in range(queries)]
    t_exact = (time.perf_counter() - start) / queries
    start = time.perf_counter()
    ann = build_ann(emb)
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    approx = [torch.from_numpy(ann.search(q[i : i + 1].numpy(), 10)[1]) for i in range(queries)]
    t_ann = (time.perf_counter() - start) / queries
    recall = recall_at_k(torch.cat(exact), torch.cat(approx))
    return [
        f"| {rows:,} | exact (matrix product) | {1000 * t_exact:.2f} | - | 1.000 |",
        f"| {rows:,} | faiss IVF-Flat (nprobe 16) | {1000 * t_ann:.2f} | {t_build:.1f} | {recall:.3f} |",
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--clips", type=int, default=300)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if args.quick:
        args.clips, args.steps = 60, 150
    torch.set_num_threads(args.threads)
    print(device_line())
    config = LongVideoConfig(clip=MotionVideoConfig(size=32, pairs=("horizontal",), still=True))
    train = WindowClips(args.steps * 32, seed=1000, config=config)
    with tempfile.TemporaryDirectory() as tmp:
        labels = write_clips(tmp, config, args.clips)
        print(f"\n{args.clips} clips, {len(config.classes)} classes, one text query per class\n")
        print("| model | P@1 % | P@5 % | mAP % | index videos/s | classify videos/s |\n|---|---|---|---|---|---|")
        for name, prompts in (("EZ-CLIP", True), ("base model", False)):
            model = train_motion_model(train, seed=0, temporal_prompts=prompts)
            lib = os.path.join(tmp, f"lib-{prompts}")
            start = time.perf_counter()
            index_videos(model, tmp, lib)
            t_index = time.perf_counter() - start
            start = time.perf_counter()
            for path in labels:
                classify(model, path, config.classes)
            t_classify = time.perf_counter() - start
            p1, p5, m = retrieval(VideoIndex.open(lib, model=model), labels, config.classes)
            print(
                f"| {name} | {p1:.1f} | {p5:.1f} | {m:.1f} | {args.clips / t_index:.0f} | "
                f"{args.clips / t_classify:.0f} |",
                flush=True,
            )
    print("\nsearch latency per query (1 query at a time), clustered unit vectors, E=512\n")
    print("| rows | search | ms / query | build s | recall@10 |\n|---|---|---|---|---|")
    for rows in (10_000, 100_000) if args.quick else (10_000, 1_000_000):
        for line in latency(rows, 512, 20 if args.quick else 50, args.quick):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
