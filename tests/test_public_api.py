"""The public API snapshot: every name a package face exports (``__all__`` of ``ezclip_zoo`` and its packages),
with its signature, is written in ``tests/public_api.txt``, so the surface changes only on purpose.

After an intended change, regenerate the file and review its diff:

    python tests/test_public_api.py
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import ezclip_zoo

SNAPSHOT = Path(__file__).with_name("public_api.txt")


def _faces() -> list[str]:
    """``ezclip_zoo`` and every package under it (a package's ``__init__`` is its face)."""
    names = ["ezclip_zoo"]
    for info in pkgutil.walk_packages(ezclip_zoo.__path__, "ezclip_zoo."):
        if info.ispkg:
            names.append(info.name)
    return sorted(names)


def _signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"


def _describe(qualified: str, obj: object) -> list[str]:
    if inspect.ismodule(obj):
        return [f"module {qualified}"]
    if inspect.isclass(obj):
        bases = ", ".join(b.__name__ for b in obj.__bases__)
        lines = [f"class {qualified}({bases}){_signature(obj)}"]
        for attr, value in sorted(vars(obj).items()):
            if attr.startswith("_"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property):
                lines.append(f"    .{attr}: property")
            elif inspect.isfunction(value):
                lines.append(f"    .{attr}{_signature(value)}")
        return lines
    if callable(obj):
        return [f"{qualified}{_signature(obj)}"]
    return [f"{qualified}: {type(obj).__name__}"]


def public_api() -> str:
    """The snapshot's text: for each face, each exported name and its signature, sorted."""
    lines = []
    for face in _faces():
        module = importlib.import_module(face)
        exported = getattr(module, "__all__", None)
        if exported is None:
            continue
        assert len(set(exported)) == len(exported), f"{face}.__all__ lists a name twice"
        lines.append(f"# {face}")
        for name in sorted(exported):
            lines.extend(_describe(f"{face}.{name}", getattr(module, name)))
        lines.append("")
    return "\n".join(lines)


def test_the_public_api_matches_its_snapshot():
    current = public_api()
    assert "0x" not in current, "a default value prints a memory address: the snapshot would not be stable"
    expected = SNAPSHOT.read_text()
    assert current == expected, (
        "the public API changed; if that is intended, run `python tests/test_public_api.py` and commit the diff of "
        "tests/public_api.txt"
    )


def test_every_exported_name_is_defined_once_under_one_face():
    homes: dict[int, list[str]] = {}
    for face in _faces():
        module = importlib.import_module(face)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                homes.setdefault(id(obj), []).append(f"{face}.{name}")
    # the package root re-exports the everyday names of its packages; below it, one face per object
    repeated = {tuple(p) for p in homes.values() if len([q for q in p if q.count(".") > 1]) > 1}
    assert not repeated, f"objects exported under several package faces: {sorted(repeated)}"


def test_a_module_lists_in_all_only_what_it_defines():
    """Below the package faces, ``__all__`` is what a module defines: an imported name listed there is an alias."""
    offenders = []
    for path in sorted(Path(ezclip_zoo.__file__).parent.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(Path(ezclip_zoo.__file__).parent.parent).with_suffix("").parts)
        )
        for name in getattr(module, "__all__", ()):
            home = getattr(getattr(module, name), "__module__", module.__name__)
            if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))) and (
                home != module.__name__
            ):
                offenders.append(f"{module.__name__}.{name} (defined in {home})")
    assert not offenders


def test_the_model_methods_take_exactly_the_arguments_of_the_functions_they_call():
    from ezclip_zoo.inference.classification import classify
    from ezclip_zoo.live import watch
    from ezclip_zoo.localization import localize
    from ezclip_zoo.modeling.model import EZCLIP

    for method, function in ((EZCLIP.classify, classify), (EZCLIP.localize, localize), (EZCLIP.watch, watch)):
        ours = list(inspect.signature(method).parameters.values())[1:]  # without self
        theirs = list(inspect.signature(function).parameters.values())[1:]  # without model
        assert [str(p) for p in ours] == [str(p) for p in theirs], method.__name__
        assert inspect.signature(method).return_annotation == inspect.signature(function).return_annotation


if __name__ == "__main__":
    SNAPSHOT.write_text(public_api())
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
