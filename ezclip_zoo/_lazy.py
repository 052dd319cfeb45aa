"""Lazy package attributes (PEP 562): a package's public names are imported on first use, not with the package.

``import ezclip_zoo`` then costs nothing but this module, and the torch-free parts
(`ezclip_zoo.runtime`, the errors, the video decoder) import on a machine without PyTorch. Names resolve to
exactly the objects the eager imports gave, and ``dir()`` lists them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str,
    names: Mapping[str, str],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public names live in its submodules.

    Args:
        package: the package's ``__name__``.
        names: public name -> the module (absolute, or relative to ``package`` when it starts with ``.``) that
            defines it.
        submodules: submodules reachable as attributes (``package.video``) without importing them first.
    """
    table = dict(names)
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
