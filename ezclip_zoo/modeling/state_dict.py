"""The one strict state-dict check: what is missing, unexpected or mis-shaped, listed in one message."""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["check_state_dict"]


def _shown(keys: list[str], limit: int) -> str:
    return str(keys[:limit])[:-1] + (f", ... {len(keys) - limit} more]" if len(keys) > limit else "]")


def check_state_dict(
    expected: Mapping[str, torch.Tensor], actual: Mapping[str, torch.Tensor], *, what: str, limit: int = 20
) -> None:
    """Raise ``ValueError`` unless ``actual`` has exactly the keys and shapes of ``expected``.

    Args:
        expected: the receiving module's tensors (a ``state_dict()`` or named parameters).
        actual: the tensors to load.
        what: the start of the message, e.g. "trainable weights do not fit this model".
        limit: keys listed per kind.
    """
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    shapes = [
        f"{k}: checkpoint {tuple(actual[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(actual))
        if tuple(actual[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or shapes:
        raise ValueError(
            f"{what}: missing keys {_shown(missing, limit)}, unexpected keys {_shown(unexpected, limit)}, "
            f"shape mismatches {_shown(shapes, limit)}"
        )
