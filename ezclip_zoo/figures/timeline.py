"""The localisation timeline: one row per class, time across, each row's score curve with its segments as bars
over it (and, when given, the true segments as a thin band under it)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..localization.result import LocalizationResult

__all__ = ["save_timeline", "require_matplotlib"]


def require_matplotlib() -> ModuleType:
    """matplotlib's pyplot on the Agg backend, or an ImportError naming the extra that installs it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("drawing pictures needs matplotlib: pip install 'ezclip-zoo[plot]'") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_timeline(
    result: LocalizationResult,
    path: str | os.PathLike,
    *,
    truth: Sequence[Any] | None = None,
    classes: Sequence[str] | None = None,
    title: str | None = None,
    show_background: bool = False,
    dpi: int = 120,
) -> Path:
    """Draw a `LocalizationResult` as a timeline PNG.

    Args:
        result: what `localize` returned.
        path: the PNG to write (folders are created).
        truth: true segments (objects with ``label``, ``start``, ``end`` in seconds) drawn under each row.
        classes: the rows to draw, top to bottom (default: every class, in the result's order); a video scored
            against hundreds of classes draws its few best.
        title: the figure title (default: the video's name).
        show_background: also draw rows for the background classes.
        dpi: resolution.

    Returns:
        The path written.
    """
    plt = require_matplotlib()
    names = [c for c in result.class_names if show_background or c not in result.rule.background]
    if classes is not None:
        unknown = [c for c in classes if c not in result.class_names]
        if unknown:
            raise ValueError(f"classes {unknown} were not scored; the result has {len(result.class_names)} classes")
        names = list(classes)
    cells = result.cells  # each window's score drawn over the stretch nearest its centre
    probs = result.probabilities
    height = 0.55 * len(names) + 1.2
    fig, ax = plt.subplots(figsize=(10, height))
    colours = plt.get_cmap("tab10")
    for row, name in enumerate(names):
        c = result.class_names.index(name)
        base, colour = len(names) - 1 - row, colours(row % 10)
        xs, ys = [], []
        for (a, b), p in zip(cells, probs[:, c].tolist(), strict=True):
            xs += [a, b]
            ys += [base + 0.8 * p, base + 0.8 * p]
        ax.fill_between(xs, base, ys, color=colour, alpha=0.25, linewidth=0)
        ax.plot(xs, ys, color=colour, linewidth=1)
        for s in result.segments:
            if s.label == name:
                ax.barh(
                    base + 0.4,
                    s.end - s.start,
                    left=s.start,
                    height=0.8,
                    color=colour,
                    alpha=0.55,
                    edgecolor="black",
                    linewidth=0.8,
                )
        for t in truth or ():
            if t.label == name:
                ax.barh(base - 0.06, t.end - t.start, left=t.start, height=0.1, color="black")
    ax.set_yticks([len(names) - 1 - r + 0.4 for r in range(len(names))], names)
    ax.set_ylim(-0.2, len(names))
    ax.set_xlim(0, result.duration)
    ax.set_xlabel("time (s)")
    legend = "bars: segments found; curves: window probability"
    if truth is not None:
        legend += "; black: truth"
    ax.set_title(title or Path(str(result.source)).name, fontsize=10)
    fig.text(0.99, 0.01, legend, ha="right", va="bottom", fontsize=7, color="#555555")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
