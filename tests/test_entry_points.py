"""Everything a user runs is in the package: the commands answer --help, and every example does too."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.subprocess
@pytest.mark.slow
def test_every_example_answers_help(example):
    proc = subprocess.run(
        [sys.executable, str(example), "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "usage:" in proc.stdout


@pytest.mark.parametrize(
    "command",
    [
        "classify",
        "localize",
        "watch",
        "explain",
        "index",
        "search",
        "embed",
        "finetune",
        "evaluate",
        "list",
        "download",
        "cache",
        "convert-official",
        "export",
        "demo",
    ],
)
def test_every_command_answers_help(command, capsys):
    from ezclip_zoo.cli import main

    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0 and f"ezclip-zoo {command}" in capsys.readouterr().out


def test_worker_defaults_fit_the_machine():
    from ezclip_zoo.cli import build_parser
    from ezclip_zoo.cli._common import available_cpus

    parser = build_parser()
    for argv in (["finetune", "--format", "csv", "--output", "x"], ["evaluate", "--model", "m", "--format", "csv"]):
        assert 1 <= parser.parse_args(argv).workers <= min(4, available_cpus())
