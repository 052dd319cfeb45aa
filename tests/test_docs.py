"""The manual (docs/*.md and README.md) against the code.

- Every public name has a docstring: each name in ``__all__`` of ``ezclip_zoo`` and of every package face (and of
  the torch-free modules at the top), and every public method and property of the classes they export. mkdocs'
  strict mode does not check this: mkdocstrings renders an undocumented name without complaint.
- The examples run. A ``python`` block preceded by the line ``<!-- test: run -->`` (an HTML comment: GitHub and
  the site show nothing) is taken from the Markdown as it is and run on its own, in a fresh namespace, in a
  temporary folder that holds a generated 3 s video ``clip.mp4``; warnings are allowed (the tiny model warns that
  it is untrained). ``<!-- test: run slow -->`` marks one that takes more than a few seconds as ``slow``.
- Every ``ezclip-zoo ...`` line of a ``bash`` block parses with the command line's own parser.
- The model zoo page's checkpoints table is the one ``ezclip-zoo list --markdown`` generates.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import shlex
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from _helpers.paths import REPO_ROOT

import ezclip_zoo

DOCS = REPO_ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [REPO_ROOT / "README.md"]
RUN_MARK = "<!-- test: run -->"
SLOW_MARK = "<!-- test: run slow -->"  # the same, for an example over a few seconds (pytest's `slow` marker)
# torch-free modules at the top of the package whose names are public API (the rest of it is packages)
TOP_MODULES = (
    "ezclip_zoo.choices",
    "ezclip_zoo.errors",
    "ezclip_zoo.paths",
    "ezclip_zoo.precision",
    "ezclip_zoo.digest",
)

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


# ---------------------------------------------------------------------------------------------- docstrings
def _faces() -> list[str]:
    names = ["ezclip_zoo", *TOP_MODULES]
    names += [info.name for info in pkgutil.walk_packages(ezclip_zoo.__path__, "ezclip_zoo.") if info.ispkg]
    return sorted(names)


def _own_doc(obj: object) -> str:
    """The object's own docstring: not a base class's, nor the signature dataclasses put there when there is none."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__") or ""
        return "" if doc.startswith(f"{obj.__name__}(") else doc.strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def _undocumented() -> list[str]:
    missing: list[str] = []
    seen: set[int] = set()
    for face in _faces():
        module = importlib.import_module(face)
        if not _own_doc(module):
            missing.append(f"module {face}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if id(obj) in seen or not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)):
                continue  # constants (tuples, numbers) carry no docstring of their own
            seen.add(id(obj))
            if not _own_doc(obj):
                missing.append(f"{face}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if isinstance(value, property) or inspect.isfunction(value):
                    if not _own_doc(value):
                        missing.append(f"{face}.{name}.{attr}")
    return missing


def test_every_public_name_has_a_docstring():
    missing = _undocumented()
    assert not missing, f"{len(missing)} public names have no docstring (say what, with shapes and units): {missing}"


# ---------------------------------------------------------------------------------------------- examples
def _blocks(language: str) -> list[tuple[str, int, str, str]]:
    """(page, line, code, the comment line above it) for every fenced block of ``language`` in the pages."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1).strip().split(" ")[0] != language:
                continue
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            found.append((page.relative_to(REPO_ROOT).as_posix(), line, match.group(2), before))
    return found


RUNNABLE = [
    pytest.param(f"{page}:{line}", code, id=f"{page}:{line}", marks=[pytest.mark.slow] if mark == SLOW_MARK else [])
    for page, line, code, mark in _blocks("python")
    if mark in (RUN_MARK, SLOW_MARK)
]


def test_the_convention_finds_the_examples():
    """The extraction works: the marked blocks are found (a broken pattern would make the tests below vanish)."""
    assert len(RUNNABLE) >= 10, RUNNABLE
    pages = {example.values[0].split(":")[0] for example in RUNNABLE}
    assert {"docs/index.md", "docs/inference.md", "docs/export.md", "docs/search.md"} <= pages
    for page in PAGES:  # a mark must stand right above a python block, or it silently marks nothing
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"<!-- test:[^\n]*-->\n(.*)", text):
            assert match.group(0).startswith((RUN_MARK, SLOW_MARK)), f"{page.name}: unknown mark {match.group(0)!r}"
            assert match.group(1).startswith("```python"), f"{page.name}: a test mark not followed by ```python"


@pytest.fixture(scope="module")
def clip_video(tmp_path_factory) -> Path:
    """A 3 s, 64 x 64 video (48 frames at 16 fps): a white square crossing a grey gradient."""
    from ezclip_zoo.video import write_video

    frames = np.empty((48, 64, 64, 3), dtype=np.uint8)
    frames[:] = np.linspace(40, 160, 64, dtype=np.uint8)[None, None, :, None]
    for t in range(48):
        x = t
        frames[t, 24:40, x : x + 16] = 255
    path = tmp_path_factory.mktemp("docs-video") / "clip.mp4"
    write_video(path, frames, fps=16)
    return path


@pytest.mark.parametrize("where, code", RUNNABLE)
def test_example_runs(where, code, clip_video, tmp_path, monkeypatch):
    from ezclip_zoo.zoo import registry

    shutil.copy(clip_video, tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    architectures = dict(registry._MODEL_CONFIGS)  # an example may register one; later tests see the built-ins
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, where, "exec"), {"__name__": "__docs_example__"})
    finally:
        registry._MODEL_CONFIGS.clear()
        registry._MODEL_CONFIGS.update(architectures)


# ---------------------------------------------------------------------------------------------- command lines
def _commands(code: str) -> list[list[str]]:
    """The ``ezclip-zoo`` invocations of a shell block: continuation lines joined, comments dropped, each command of
    a line split at ``;``, ``&&``, ``||``, ``|`` and ``&``; ``python -m ezclip_zoo.cli`` and ``torchrun ... -m
    ezclip_zoo.cli`` count too. Returns each invocation's arguments after the program."""
    joined = re.sub(r"\\\n", " ", code)
    found = []
    for line in joined.splitlines():
        if "ezclip-zoo" not in line and "ezclip_zoo.cli" not in line:
            continue  # other programs' lines are not this parser's business (nor shlex's: python -c quoting)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        command: list[str] = []
        for token in [*tokens, ";"]:
            if set(token) <= set("();<>|&") and set(token) & set(";|&"):  # shlex joins runs such as ");"
                if command and command[0] == "ezclip-zoo":
                    found.append(command[1:])
                elif "ezclip_zoo.cli" in command and command[command.index("ezclip_zoo.cli") - 1] == "-m":
                    found.append(command[command.index("ezclip_zoo.cli") + 1 :])
                command = []
            else:
                command.append(token)
    return found


COMMANDS = [(f"{page}:{line}", args) for page, line, code, _ in _blocks("bash") for args in _commands(code)]


def test_the_pages_have_command_lines():
    assert len(COMMANDS) >= 30, COMMANDS


@pytest.mark.parametrize("where, args", COMMANDS, ids=[f"{where}:{' '.join(args[:1])}" for where, args in COMMANDS])
def test_command_line_parses(where, args):
    from ezclip_zoo.cli import build_parser

    try:
        build_parser().parse_args(args)
    except SystemExit as exit:  # argparse's way of refusing: the usage message is on stderr
        pytest.fail(f"{where}: `ezclip-zoo {shlex.join(args)}` does not parse (exit {exit.code})")


def test_command_splitting():
    code = (
        "start=$(date); ezclip-zoo demo -m tiny --port 7863 & pid=$!   # time it\n"
        'ezclip-zoo classify a.mp4 -l "riding a bike" \\\n    --topk 3\n'
        "torchrun --nproc_per_node=2 -m ezclip_zoo.cli finetune --format csv\n"
        "pip install .\n"
    )
    assert _commands(code) == [
        ["demo", "-m", "tiny", "--port", "7863"],
        ["classify", "a.mp4", "-l", "riding a bike", "--topk", "3"],
        ["finetune", "--format", "csv"],
    ]


# ---------------------------------------------------------------------------------------------- generated table
def test_model_zoo_page_table_is_generated_from_checkpoints_json():
    from ezclip_zoo.zoo.pretrained import markdown_table

    text = (DOCS / "models.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- checkpoints:start -->\n(.*?)\n<!-- checkpoints:end -->", text, re.S)
    assert match, "docs/models.md needs the generated checkpoints table between the markers"
    assert match.group(1).strip() == markdown_table().strip(), "regenerate with `ezclip-zoo list --markdown`"
