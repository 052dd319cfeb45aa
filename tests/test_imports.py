"""What importing costs: the command line's ``--help`` and the torch-free names start without torch or numpy, and
every lazy package face declares its names the same way three times (type-checking imports, run-time table,
``__all__``)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ezclip_zoo
from ezclip_zoo.cli import _SUBCOMMANDS, build_parser

PACKAGE = Path(ezclip_zoo.__file__).parent

# prints which heavy modules the snippet imported
PROBE = "import sys, json; {body}; print(json.dumps({{m: m in sys.modules for m in ('torch', 'numpy')}}))"


def _imported(body: str) -> dict[str, bool]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _command_names() -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return sorted(subparsers.choices)


def test_every_command_is_probed():
    assert len(_command_names()) >= len(_SUBCOMMANDS)


@pytest.mark.parametrize("argv", [[], *[[name] for name in _command_names()]], ids=lambda a: " ".join(a) or "-")
def test_help_imports_neither_torch_nor_numpy(argv):
    body = (
        "from ezclip_zoo.cli import main\n"
        "try:\n"
        f"    main({[*argv, '--help']!r})\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code"
    )
    # -c takes one statement per line: run it through exec so the try block stays a block
    assert _imported(f"exec({body!r})") == {"torch": False, "numpy": False}


@pytest.mark.parametrize(
    "body",
    [
        "import ezclip_zoo",
        "import ezclip_zoo.errors",
        "import ezclip_zoo; ezclip_zoo.list_class_sets(); ezclip_zoo.class_names('ucf101')",
        "import ezclip_zoo; ezclip_zoo.list_models(); ezclip_zoo.list_pretrained()",
        "import ezclip_zoo.choices",
    ],
)
def test_torch_free_names_import_no_torch(body):
    assert _imported(body) == {"torch": False, "numpy": False}


def test_the_onnx_runtime_needs_no_torch():
    assert _imported("from ezclip_zoo.runtime import OnnxModel, ClipTokenizer, read_clip")["torch"] is False


def _lazy_face(path: Path) -> tuple[dict[str, set[str]], dict[str, set[str]], list[str]] | None:
    """(type-checking imports, run-time table, __all__) of a package face, or None for an eager one."""
    tree = ast.parse(path.read_text())
    checking: dict[str, set[str]] = {}
    table: dict[str, set[str]] = {}
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.unparse(imp)
                checking.setdefault("." * imp.level + (imp.module or ""), set()).update(a.name for a in imp.names)
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            exported = [e.value for e in node.value.elts]  # type: ignore[attr-defined]
        elif isinstance(node, ast.Assign) and "lazy_attributes" in ast.unparse(node.value):
            structure = node.value.args[1]  # type: ignore[attr-defined]
            table = {k.value: {e.value for e in v.elts} for k, v in zip(structure.keys, structure.values, strict=True)}
    return (checking, table, exported) if table else None


FACES = sorted(p for p in PACKAGE.rglob("__init__.py") if "__all__" in p.read_text())


@pytest.mark.parametrize("path", FACES, ids=lambda p: str(p.parent.relative_to(PACKAGE.parent)))
def test_a_lazy_face_declares_its_names_alike_three_times(path):
    face = _lazy_face(path)
    if face is None:
        assert path.parent.name == "cli", f"{path} is not lazy: use lazy_attributes with TYPE_CHECKING imports"
        return
    checking, table, exported = face
    assert checking == table, "the TYPE_CHECKING imports and the lazy table differ"
    names = [n for ns in table.values() for n in ns]
    assert sorted(set(exported) - {"__version__"}) == sorted(names), "__all__ and the lazy table differ"
    assert len(names) == len(set(names)), "a name is listed under two modules"


@pytest.mark.parametrize("path", FACES, ids=lambda p: str(p.parent.relative_to(PACKAGE.parent)))
def test_no_face_exports_a_name_of_one_of_its_submodules(path):
    # importing the submodule sets the package attribute to the module, hiding the lazy name of the same spelling
    face = _lazy_face(path)
    if face is None:
        return
    submodules = {p.stem for p in path.parent.glob("*.py")} | {p.name for p in path.parent.iterdir() if p.is_dir()}
    assert not set(face[2]) & submodules


@pytest.mark.slow
def test_the_type_checked_user_script_runs(tmp_path):
    # CI type-checks tests/typecheck/user_script.py strictly; running it keeps that script a real one
    script = Path(__file__).parent / "typecheck" / "user_script.py"
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    label, windows, steps, saved = proc.stdout.strip().splitlines()[-1].split("|")
    assert label in ("moving left", "moving right") and int(windows) >= 1 and int(steps) >= 1 and saved == "saved"
