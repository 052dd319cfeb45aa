"""The benchmark scripts still run: the GPU suite in its CPU quick mode, the encoder-speed table on the tiny model
and the watch latency table in its quick mode (the tiny model on 6 s of stream).

Timings are not asserted (they belong to the scripts' tables); what is asserted is that every table is produced,
with the rows and the sanity columns (outputs match, gradients reach the trainable tensors) that say it measured
what it claims.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_script(name: str, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def table_rows(text: str, title: str) -> list[list[str]]:
    """The body rows of the markdown table under ``## title``."""
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [
        [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])] for line in lines[1:]
    ]


GPU_SUITE = [sys.executable, str(BENCHMARKS / "gpu_suite.py"), "--device", "cpu", "--quick", "--threads", "1"]


@pytest.mark.background("gpu-suite-quick", [*GPU_SUITE, "--out", "{out}/suite.md"])
def test_gpu_suite_quick_mode_writes_every_table(background):
    """Run beside the rest of the suite (a ``background`` job): its timings are not what is checked."""
    text = (background.folder("gpu-suite-quick") / "suite.md").read_text()
    stdout = background.output("gpu-suite-quick")
    for title in (
        "Video encoder throughput",
        "model.compile()",
        "Training step",
        "Text encoder",
        "bfloat16 vs float32",
        "DDP start",
    ):
        assert f"## {title}\n" in text, title
        assert f"## {title}\n" in stdout, title  # printed as well as written

    throughput = table_rows(text, "Video encoder throughput")
    assert [(r[0], r[1], r[2]) for r in throughput] == [
        ("ezclip-test-tiny", dtype, batch) for dtype in ("float32", "bfloat16") for batch in ("1", "2")
    ]
    for row in throughput:
        clips_s, images_s, clip_clips_s, ratio = map(float, row[3:7])
        assert clips_s > 0 and clip_clips_s > 0
        assert abs(images_s - 8 * clips_s) <= 0.5 + 0.01 * images_s  # images = 8 frames per clip
        assert 0.1 < ratio < 10

    (compiled,) = table_rows(text, "model.compile()")
    assert compiled[-1] == "yes"  # the compiled encoder computes what eager does

    train = {r[0]: r for r in table_rows(text, "Training step")}
    assert set(train) == {"full-finetune", "ezclip"}
    full_params, ez_params = (int(train[v][1].replace(",", "")) for v in ("full-finetune", "ezclip"))
    assert ez_params < full_params / 10  # only prompts and adapters train

    (fp32, bf16) = table_rows(text, "Text encoder")
    assert (fp32[1], bf16[1], fp32[2]) == ("float32", "bfloat16", "400")

    agreement = dict(table_rows(text, "bfloat16 vs float32"))
    assert 0.0 <= float(agreement["top-1 agreement"]) <= 1.0

    (ddp,) = table_rows(text, "DDP start")
    assert ddp[0] == "gloo" and ddp[-1] == "yes"


def test_encoder_speed_names_its_baseline_and_gives_medians_with_spread():
    stdout = run_script(
        "encoder_speed.py",
        "--models",
        "ezclip-test-tiny",
        "--dtypes",
        "float32",
        "--runs",
        "3",
        "--repeats",
        "1",
        "--warmup",
        "1",
        "--threads",
        "1",
        "--ablation",
    )
    assert "open_clip.create_model(..., force_quick_gelu=True)" in stdout
    assert "EZ/CLIP, open_clip MLP and stem" in stdout  # the ablation runs with the towers' current signatures
    (row,) = [line for line in stdout.splitlines() if line.startswith("| ezclip-test-tiny")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    median, low, high = (float(x) for x in cells[4].replace("(", " ").replace(")", " ").replace("-", " ").split())
    assert low <= median <= high


def test_watch_latency_quick_mode_gives_the_latency_table():
    stdout = run_script("watch_latency.py", "--quick", "--threads", "1")
    assert "watch at 1x real time, 6 s of 320x240 25 fps H.264, 2 s windows; device: " in stdout  # the CPU named
    (row,) = [line for line in stdout.splitlines() if line.startswith("| tiny (ezclip-test-tiny)")]
    name, stride, scored, skipped, median, p95 = (c.strip() for c in row.strip().strip("|").split("|"))
    assert stride == "0.5"
    skipped_count, share = skipped.replace("(", " ").replace(")", " ").split()
    # every window of the grid (2 s every 0.5 s over 6 s: 9) scored or counted as skipped, the share of the latter
    assert int(scored) >= 1 and int(scored) + int(skipped_count) == 9
    assert share == f"{int(skipped_count) / 9:.0%}"
    assert 0 <= int(median) <= int(p95)


def test_text_truncation_counts_the_descriptions_pe_core_cuts(parity_dir):
    """The authors' descriptions fit CLIP's 77 tokens and mostly not PE-Core's 32: the table the Backbones page
    quotes (it needs the authors' CSVs, which the parity fixtures sit beside)."""
    out = run_script("text_truncation.py", "--csv-dir", str(parity_dir.parent / "authors-class-texts"))
    rows = {(r[0].strip(), r[1].strip()): r for r in (line.split("|")[1:-1] for line in out.splitlines()[2:])}
    k400 = rows[("kinetics400", "descriptions")]
    assert k400[3].strip() == "0 / 400" and k400[4].strip() == "400 / 400"
    assert rows[("kinetics400", "class names")][4].strip() == "0 / 400"
