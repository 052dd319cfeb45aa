"""Long fuzz runs of the video readers: N mutated MP4/AVI/MKV/WebM files (deterministic for a seed), each read by
long-lived worker processes under a per-file watchdog, with the outcome counts (README "Reliability").

    python benchmarks/fuzz_video.py --count 5000 [--seed 0] [--workers 2] [--keep failures/]

Exits 1 when any file gave an undocumented exception, a crash, a hang, or a refusal of a file plain PyAV decodes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _helpers.fuzz import OUTCOMES, run_fuzz, write_seeds  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="mutated files to read")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per file before it counts as a hang")
    parser.add_argument("--keep", type=Path, default=None, help="save the failing files here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ezclip-fuzz-") as tmp:
        seeds = write_seeds(Path(tmp))
        report = run_fuzz(
            seeds,
            args.count,
            Path(tmp) / "cases",
            seed=args.seed,
            workers=args.workers,
            timeout=args.timeout,
            keep_failures=args.keep,
        )
    print(report.summary())
    print("| container | " + " | ".join(OUTCOMES) + " |")
    print("|---" * (len(OUTCOMES) + 1) + "|")
    for name in sorted(report.by_container):
        print(f"| {name} | " + " | ".join(str(report.by_container[name][k]) for k in OUTCOMES) + " |")
    for index, container, outcome, detail, saved in report.failures[:20]:
        print(f"#{index} {container}: {outcome}: {detail}" + (f" (saved as {saved})" if saved else ""))
    return 1 if report.bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
