"""A deterministic video fuzzer: small videos of several containers, mutated byte-wise, read by long-lived worker
processes with a per-file watchdog. Shared by tests/test_fuzz.py (a few hundred files) and benchmarks/fuzz_video.py
(long runs).

A file's outcome is one of:

* ``frames``: frames came back (possibly with a `VideoDecodeWarning`), of one shape and dtype uint8;
* ``error``: a documented `VideoDecodeError` naming the file, for a file plain PyAV cannot decode either;
* ``refused``: a `VideoDecodeError` for a file plain PyAV decodes from start to end without an error (the
  translation must not be a catch-all);
* ``undocumented``: any other exception (a bug), with its type and message;
* ``crash``: the worker process died (a segfault in FFmpeg or PyAV);
* ``hang``: no answer within the watchdog's time.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# container -> (file name, write_video arguments): the formats users feed the zoo most
SEEDS = {
    "mp4": ("seed.mp4", dict(codec="libx264", bframes=2, keyframe_interval=4)),
    "avi": ("seed.avi", dict(codec="mpeg4", keyframe_interval=5)),
    "mkv": ("seed.mkv", dict(codec="libx264", bframes=0, keyframe_interval=6)),
    "webm": ("seed.webm", dict(codec="libvpx-vp9", keyframe_interval=5)),
}
OUTCOMES = ("frames", "error", "refused", "undocumented", "crash", "hang")
BAD = ("refused", "undocumented", "crash", "hang")


def seed_frames(n: int = 16, height: int = 48, width: int = 64) -> np.ndarray:
    """uint8 [n, height, width, 3]: moving gradients, so that every frame differs and inter coding is used."""
    y, x = np.mgrid[0:height, 0:width]
    frames = [
        np.stack([(x * 4 + 9 * i) % 256, (y * 5 + 3 * i) % 256, ((x + y) * 2 + 17 * i) % 256], -1) for i in range(n)
    ]
    return np.asarray(frames, np.uint8)


def write_seeds(folder: Path, containers=tuple(SEEDS)) -> dict[str, bytes]:
    """Encode one small video per container; returns container -> the file's bytes."""
    from ezclip_zoo.video import write_video

    out = {}
    for name in containers:
        filename, kwargs = SEEDS[name]
        path = Path(folder) / filename
        write_video(path, seed_frames(), fps=10, **kwargs)
        out[name] = path.read_bytes()
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level mutations of ``data``: bit flips, random or repeated runs, cuts, insertions,
    duplicated or swapped chunks, a truncation; biased towards the first kilobytes, where headers live."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        n = len(buf)
        if n < 16:
            break
        pos = rng.randrange(min(n, 4096)) if rng.random() < 0.5 else rng.randrange(n)
        kind = rng.randrange(8)
        if kind == 0:  # flip bits
            for _ in range(rng.randint(1, 8)):
                i = min(n - 1, pos + rng.randrange(64))
                buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # random bytes over a run
            run = rng.randint(1, 64)
            buf[pos : pos + run] = bytes(rng.randrange(256) for _ in range(len(buf[pos : pos + run])))
        elif kind == 2:  # interesting values (sizes, counts) over 1-4 bytes
            value = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, n, n * 2])
            width = rng.choice([1, 2, 4])
            buf[pos : pos + width] = (value % (1 << (8 * width))).to_bytes(width, rng.choice(["big", "little"]))
        elif kind == 3:  # cut a chunk out
            del buf[pos : pos + rng.randint(1, max(1, n // 8))]
        elif kind == 4:  # insert random bytes
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == 5:  # duplicate a chunk elsewhere
            start = rng.randrange(n)
            chunk = bytes(buf[start : start + rng.randint(1, 512)])
            buf[pos:pos] = chunk
        elif kind == 6:  # swap two chunks' contents
            size = rng.randint(1, 256)
            a, b = rng.randrange(n), rng.randrange(n)
            ca, cb = bytes(buf[a : a + size]), bytes(buf[b : b + size])
            if len(ca) == len(cb):
                buf[a : a + size], buf[b : b + size] = cb, ca
        else:  # truncate
            del buf[max(16, rng.randrange(n)) :]
    return bytes(buf)


def fuzz_cases(seeds: dict[str, bytes], count: int, seed: int = 0) -> Iterator[tuple[int, str, bytes]]:
    """``count`` mutated files (index, container, bytes), the containers in turn; the same for the same seed."""
    names = sorted(seeds)
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        container = names[i % len(names)]
        yield i, container, mutate(seeds[container], rng)


# ---------------------------------------------------------------------------------------------------- the worker
def plain_pyav_frames(path: str) -> int:
    """Frames plain PyAV decodes from the file's first video stream; -1 when it raises on the way."""
    import av

    try:
        with av.open(path, metadata_errors="ignore") as container:
            return sum(1 for _ in container.decode(video=0))
    except Exception:  # noqa: BLE001 - any failure means "PyAV cannot decode it fully"
        return -1


def read_one(path: str, threads: int) -> tuple[str, str]:
    """Read one file the ways users do; (outcome, detail). Runs in a worker process."""
    import torch

    from ezclip_zoo.errors import VideoDecodeError
    from ezclip_zoo.video import open_video, read_video_frames

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # VideoDecodeWarning is documented; others are not counted here
            frames = read_video_frames(path, 8, threads=threads)
            if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[0] != 8 or frames.shape[-1] != 3:
                return "undocumented", f"bad frames {frames.dtype} {tuple(frames.shape)}"
            reader = open_video(path, threads=threads)
            wanted = sorted({0, reader.num_frames // 2, reader.num_frames - 1})
            shapes = {tuple(f.shape) for _, f in reader.stream(wanted, strategy="seek")}
            if len(shapes) != 1:
                return "undocumented", f"frames of several shapes {sorted(shapes)}"
            reader.frame_times()
        return "frames", ""
    except VideoDecodeError as exc:
        if os.path.basename(path) not in str(exc):
            return "undocumented", f"VideoDecodeError without the file's name: {exc}"
        if plain_pyav_frames(path) > 0:
            return "refused", f"plain PyAV decodes it fully: {exc}"
        return "error", str(exc).split(":")[0]
    except Exception as exc:  # noqa: BLE001 - this is what the fuzzer looks for
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return "undocumented", f"{type(exc).__name__}: {exc} (at {os.path.basename(tb.filename)}:{tb.lineno})"


def _worker(conn, threads: int) -> None:
    import torch

    torch.set_num_threads(1)
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        if path is None:
            return
        conn.send(read_one(path, threads))


@dataclass
class FuzzReport:
    """What a fuzz run found: outcome counts, and the cases that were not a frame or a documented error."""

    counts: Counter = field(default_factory=Counter)
    by_container: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (index, container, outcome, detail, saved file or None)
    seconds: float = 0.0

    @property
    def bad(self) -> int:
        return sum(self.counts[k] for k in BAD)

    def summary(self) -> str:
        total = sum(self.counts.values())
        parts = ", ".join(f"{k} {self.counts[k]}" for k in OUTCOMES)
        return f"{total} mutated files in {self.seconds:.0f} s: {parts}"


class _Worker:
    def __init__(self, ctx, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, threads), daemon=True)
        self.process.start()
        child.close()
        self.path: str | None = None
        self.case = None
        self.started = 0.0

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_fuzz(
    seeds: dict[str, bytes],
    count: int,
    folder: Path,
    *,
    seed: int = 0,
    workers: int = 2,
    timeout: float = 20.0,
    threads_cycle=(1, 0),
    keep_failures: Path | None = None,
) -> FuzzReport:
    """Read ``count`` mutated files in ``workers`` long-lived processes, each file under a ``timeout`` watchdog.

    Files alternate between one decoder thread and FFmpeg's default (``threads_cycle``), since frame threading
    changes what a damaged stream decodes to. A crashed or hung worker is replaced and the run goes on.
    """
    ctx = mp.get_context("spawn")  # no fork of a process with threads (torch, pytest)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = FuzzReport()
    cases = fuzz_cases(seeds, count, seed)
    pool = [_Worker(ctx, threads_cycle[k % len(threads_cycle)]) for k in range(workers)]
    start = time.monotonic()
    pending = True
    try:
        while pending or any(w.case is not None for w in pool):
            for k, w in enumerate(pool):
                if w.case is None and pending:
                    case = next(cases, None)
                    if case is None:
                        pending = False
                        continue
                    index, container, data = case
                    path = folder / f"w{k}_{index:06d}.{container}"
                    path.write_bytes(data)
                    w.conn.send(str(path))
                    w.path, w.case, w.started = str(path), case, time.monotonic()
            for k, w in enumerate(pool):
                if w.case is None:
                    continue
                outcome = None
                if w.conn.poll(0.002):
                    try:
                        outcome, detail = w.conn.recv()
                    except (EOFError, OSError):
                        outcome, detail = "crash", f"worker exit code {w.process.exitcode}"
                elif not w.process.is_alive():
                    outcome, detail = "crash", f"worker exit code {w.process.exitcode}"
                elif time.monotonic() - w.started > timeout:
                    outcome, detail = "hang", f"no answer in {timeout:.0f} s"
                if outcome is None:
                    continue
                index, container, data = w.case
                report.counts[outcome] += 1
                report.by_container.setdefault(container, Counter())[outcome] += 1
                if outcome in BAD:
                    saved = None
                    if keep_failures is not None:
                        keep_failures.mkdir(parents=True, exist_ok=True)
                        saved = keep_failures / Path(w.path).name
                        saved.write_bytes(data)
                    report.failures.append((index, container, outcome, detail, saved))
                os.unlink(w.path)
                w.case = None
                if outcome in ("crash", "hang"):
                    w.stop(kill=True)
                    pool[k] = _Worker(ctx, threads_cycle[k % len(threads_cycle)])
    finally:
        for w in pool:
            w.stop(kill=w.case is not None)
    report.seconds = time.monotonic() - start
    return report
