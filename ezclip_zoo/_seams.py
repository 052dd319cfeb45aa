"""Where the model's seams look for their implementations: a torch-free table at the bottom of the package.

`modeling.hooks` registers and looks up the functions behind ``EZCLIP.save_pretrained`` / ``classify`` / ...;
the package root (``ezclip_zoo/__init__``) installs the resolver that runs the composition root
(`ezclip_zoo._wiring`) the first time a seam finds nothing, so no lower layer ever imports an upper one.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["set_resolver", "resolve"]

_RESOLVER: Optional[Callable[[], None]] = None


def set_resolver(resolver: Callable[[], None]) -> None:
    """Install the function that fills the seams on first use (the package root's)."""
    global _RESOLVER
    _RESOLVER = resolver


def resolve(table: dict[str, Any], name: str) -> Any:
    """``table[name]``, running the resolver once when it is missing; a RuntimeError naming the seam otherwise."""
    if name not in table and _RESOLVER is not None:
        _RESOLVER()
    try:
        return table[name]
    except KeyError:
        raise RuntimeError(f"no implementation is registered for the {name!r} seam") from None
