"""Lazy package faces (PEP 562): a package's public names are imported on first use, not with the package.

Every package of ezclip_zoo declares its names twice, in the same shape as transformers' lazy modules: under
``if TYPE_CHECKING:`` as real imports (what a type checker, an IDE and a reader follow) and as the
``{module: names}`` table given here (what runs). ``tests/test_public_api.py`` checks that the two agree with
``__all__``. So ``import ezclip_zoo.text.class_sets`` imports that module alone, ``import ezclip_zoo`` imports no
torch, and the torch-free parts (`ezclip_zoo.runtime`, the errors, the video decoder, the command line's
``--help``) run on a machine without PyTorch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str,
    structure: Mapping[str, Iterable[str]],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public names live in its submodules.

    Args:
        package: the package's ``__name__``.
        structure: module (relative to ``package`` when it starts with ``.``) -> the public names it defines.
        submodules: submodules reachable as attributes (``package.video``) without importing them first.
    """
    table = {name: module for module, names in structure.items() for name in names}
    children = tuple(submodules)
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name in table:
            module = importlib.import_module(table[name], package)
            value = getattr(module, name)
            namespace[name] = value  # later look-ups skip this function
            return value
        if name in children:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table) | set(children))

    return __getattr__, __dir__
