"""How long a person waits before anything happens: ``ezclip-zoo --help``, ``import ezclip_zoo``, and ``load`` +
the first ``classify`` of the tiny model, each a fresh process, against a bare ``python -c pass`` in the same run.

    python benchmarks/startup.py              # 5 runs of each, interleaved; prints the median and spread
    python benchmarks/startup.py --runs 9

The goal for ``--help`` is under 0.5 s on a 2-core machine: the command line imports neither torch nor numpy
until a command runs (``tests/test_imports.py`` checks that; this measures it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import device_line, print_table

CLASSIFY = (
    "import warnings, ezclip_zoo\n"
    "warnings.simplefilter('ignore')\n"
    "model = ezclip_zoo.load('ezclip-test-tiny')\n"
    "model.classify({video!r}, ['moving left', 'moving right'])\n"
)


def commands(video: str) -> dict[str, list[str]]:
    """Row name -> the argv of one fresh process."""
    cli = [sys.executable, "-m", "ezclip_zoo.cli"]
    return {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "ezclip-zoo --help": [*cli, "--help"],
        "ezclip-zoo classify --help": [*cli, "classify", "--help"],
        "import ezclip_zoo": [sys.executable, "-c", "import ezclip_zoo"],
        "import ezclip_zoo + a class set": [
            sys.executable,
            "-c",
            "import ezclip_zoo; ezclip_zoo.class_names('ucf101')",
        ],
        "load + first classify (tiny model)": [sys.executable, "-c", CLASSIFY.format(video=video)],
    }


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs of each command, interleaved (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        import numpy as np

        from ezclip_zoo.video import write_video

        video = str(Path(folder) / "clip.mp4")
        write_video(video, np.zeros((16, 64, 64, 3), dtype=np.uint8), fps=8)
        argvs = commands(video)
        times: dict[str, list[float]] = {name: [] for name in argvs}
        for _ in range(args.runs):  # interleaved, so a busy moment touches every row alike
            for name, argv in argvs.items():
                times[name].append(seconds(argv))
    baseline = statistics.median(times["python -c pass (baseline)"])
    print(device_line())
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append([name, f"{median:.3f}", f"{min(values):.3f}-{max(values):.3f}", f"{median - baseline:+.3f}"])
    print_table(["process", f"median s ({args.runs} runs)", "min-max s", "over the baseline s"], rows)


if __name__ == "__main__":
    main()
