"""Everything a user runs is in the package: the commands answer --help, and every example does too."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


# Every example run as __main__ with --help, one after another in one fresh interpreter: each run is what
# `python examples/X.py --help` does, and torch is imported once rather than once per example.
_HELP_ALL = r"""
import contextlib, io, json, runpy, sys, traceback
answers = {}
for path in sys.argv[1:]:
    sys.argv, out = [path, "--help"], io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        code = "returned without exiting"
    except SystemExit as exit:
        code = exit.code or 0
    except BaseException:
        code = traceback.format_exc()
    answers[path] = [code, out.getvalue()]
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def help_answers() -> dict[str, list]:
    proc = subprocess.run(
        [sys.executable, "-c", _HELP_ALL, *map(str, EXAMPLES)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.subprocess
@pytest.mark.slow
def test_every_example_answers_help(example, help_answers):
    code, out = help_answers[str(example)]
    assert code == 0, code
    assert "usage:" in out


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
